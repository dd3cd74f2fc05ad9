"""The CLI in Russian (issue 15, item 6): ``callkpi --lang ru`` or a Russian locale.

The store holds two queue_log scenarios: mixed.queue_log (1 call, agent 101: talk 60 s) and
acw.queue_log (2 calls, agent 1001: talk 300 s and 180 s, wait 10 s and 20 s), one garbage line
quarantined. By hand: 3 calls in the store, agent 1001 handled 2 calls, the sales queue answered
every call it was offered (100 %, "100,0 %" in Russian). Russian output must carry no English word
of the CLI's own string tables (as the web's Russian pages carry none of the catalogue's English).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callkpi.cli import common
from callkpi.cli.words import CLI_PLURALS, CLI_STRINGS, MESSAGE_STRINGS
from callkpi.report import language
from callkpi.report.language import TABLE_STRINGS
from callkpi.report.scorecard_text import SCORECARD_STRINGS
from conftest import Cli, scenario_text, write_log
from test_i18n import ALLOWED, LATIN_WORD, _ids

NBSP = "\u00a0"
DATA_WORDS = {"sales"}  # the scenarios' queue: a name the data brings, not interface text


@pytest.fixture(scope="module")
def module_cli(tmp_path_factory) -> Cli:
    return Cli(tmp_path_factory.mktemp("config") / "no-such-callkpi.toml")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, module_cli) -> tuple[Path, list[str]]:
    """The store, and what `ingest` said of each file in Russian."""
    folder = tmp_path_factory.mktemp("russian")
    path = folder / "ru.duckdb"
    said = []
    first = write_log(folder, scenario_text("mixed.queue_log"), "mixed.queue_log")
    result = module_cli("--lang", "ru", "ingest", "--db", path, "--tz", "UTC", first)
    assert result.exit_code == 0, result.output
    said.append(result.stdout)
    second = write_log(folder, scenario_text("acw.queue_log") + "garbage line\n", "acw.queue_log")
    result = module_cli("--lang", "ru", "ingest", "--db", path, second)
    assert result.exit_code == 1, result.output  # the garbage line is quarantined
    said.append(result.stdout)
    result = module_cli("--lang", "ru", "ingest", "--db", path, second)  # again: nothing new
    said.append(result.stdout)
    return path, said


def _english_words() -> set[str]:
    """Every word of the English side of the CLI's string tables and of the metric titles."""
    from callkpi.metrics.catalogue import REGISTRY

    texts: list[str] = []
    for table in (CLI_STRINGS, TABLE_STRINGS, SCORECARD_STRINGS, MESSAGE_STRINGS):
        texts += [english for english, _ in table.values()]
    texts += [form for forms in CLI_PLURALS.values() for form in forms["en"]]
    texts += [str(metric.title["en"]) for metric in REGISTRY.metrics.values()]
    words = {w.lower() for text in texts for w in re.findall(r"[A-Za-z]{2,}", text)}
    return words - ALLOWED - _ids()


def english_in(text: str) -> set[str]:
    """The English words of the CLI's tables in ``text``; commands (`callkpi quarantine`), options
    (--metrics all), ids (avg_hold_s) and all-capitals names (UTC, AHT) are not prose."""
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"--[a-z-]+(?: (?:all|both|ru|en))?", " ", text)
    english = _english_words() - DATA_WORDS
    return {w for w in LATIN_WORD.findall(text) if w.lower() in english and not w.isupper()}


def at_width(cli: Cli, width: int, *args: object, env: dict[str, str | None] | None = None):
    from callkpi.cli.app import app

    consoles = [common.console, common.err_console]
    saved = [c._width for c in consoles]
    for c in consoles:
        c.width = width
    try:
        return cli.runner.invoke(app, [str(a) for a in args], env={**cli.env, "COLUMNS": str(width), **(env or {})},
                                 catch_exceptions=False)
    finally:
        for c, old in zip(consoles, saved, strict=True):
            c._width = old


# -- ingest ---------------------------------------------------------------------------------------

def test_ingest_summaries_speak_russian_with_plurals(loaded) -> None:
    _, (first, second, again) = loaded
    assert first.startswith("загружен ") and "mixed.queue_log (asterisk-queue-log)" in first
    assert "прочитаны 3 строки, загружены 3, 0 в карантине; в базе 1 звонок" in first
    # acw.queue_log has 14 lines and the garbage one: 15 read, 14 loaded, 1 quarantined; 1 + 2 calls
    assert "прочитано 15 строк, загружено 14, 1 в карантине; в базе 3 звонка" in second
    assert "без изменений" in again and "прочитано 0 строк" in again and "в базе 0 звонков" in again
    assert "уже загружен; нового нет" in again
    for text in (first, second, again):
        assert not english_in(text), text


def test_ingest_in_english_is_unchanged_but_counts_agree(module_cli, tmp_path) -> None:
    log = write_log(tmp_path, scenario_text("mixed.queue_log"), "mixed.queue_log")
    result = module_cli("--lang", "en", "ingest", "--db", tmp_path / "en.duckdb", "--tz", "UTC", log)
    assert "loaded" in result.stdout and "3 lines read, 3 loaded, 0 quarantined; 1 call in store" in result.stdout


# -- kpi ------------------------------------------------------------------------------------------

def test_kpi_table_in_russian(module_cli, loaded) -> None:
    db, _ = loaded
    result = at_width(module_cli, 120, "--lang", "ru", "kpi", "--db", db, "--format", "table")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Показатели (UTC)" in out
    assert "Показатель" in out and "Значение" in out
    assert "Поступило в очередь" in out and "Обработано вызовов" in out and "Доля принятых" in out
    assert f"100,0{NBSP}%" in out  # every offered call was answered: a decimal comma, a no-break space
    assert "примечание: avg_hold_s: источники не содержат время удержания" in out
    assert "«Обработано вызовов» считает каждый разговор оператора" in out
    assert not english_in(out), english_in(out)


def test_kpi_by_agent_in_russian_has_russian_headers(module_cli, loaded) -> None:
    db, _ = loaded
    result = at_width(module_cli, 200, "--lang", "ru", "kpi", "--db", db, "--by", "agent", "--format", "table")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Оператор" in out and "Обработано" in out and "из" in out and "показателей" in out
    row = next(line for line in out.splitlines() if line.strip().startswith("1001"))
    assert row.split()[1] == "2"  # 1001 handled 2 calls
    assert not english_in(out), english_in(out)


def test_kpi_by_direction_and_day_reads_russian_values(module_cli, loaded) -> None:
    db, _ = loaded
    result = at_width(module_cli, 120, "--lang", "ru", "kpi", "--db", db, "--by", "direction,day", "--metrics",
                      "calls_handled", "--format", "table")
    row = next(line for line in result.stdout.splitlines() if "02.03.2026" in line)
    assert row.split() == ["входящий", "02.03.2026", "3"]  # all 3 calls are inbound, on 2 March 2026 (UTC)
    assert "Направление" in result.stdout and "День" in result.stdout
    assert not english_in(result.stdout), english_in(result.stdout)


def test_kpi_tsv_keeps_ids_and_raw_values_in_russian(module_cli, loaded) -> None:
    db, _ = loaded
    result = at_width(module_cli, 120, "--lang", "ru", "kpi", "--db", db, "--metrics", "answer_rate,calls_handled",
                      "--format", "tsv")
    assert result.stdout.splitlines() == ["answer_rate\tcalls_handled", "1.0\t3"]  # tools read TSV as it was


def test_kpi_explain_in_russian(module_cli, loaded) -> None:
    db, _ = loaded
    result = at_width(module_cli, 160, "--lang", "ru", "kpi", "--db", db, "--metrics", "answer_rate,avg_hold_s",
                      "--explain")
    out = result.stdout
    assert "Доля принятых" in out and "Принятые заходы к поступившим." in out  # the registry's Russian
    assert "avg_hold_s = сумма(удержание) / calls_handled" in out  # the formula's words in Russian
    assert "не записано в источнике queue_log: avg_hold_s (время удержания)" in out  # queue_log has no hold
    assert not english_in(out), english_in(out)


def test_kpi_errors_and_notes_in_russian(module_cli, loaded) -> None:
    db, _ = loaded
    wrong = at_width(module_cli, 200, "--lang", "ru", "kpi", "--db", db, "--by", "agnet")
    assert wrong.exit_code == 2
    assert "ошибка: --by: неизвестное измерение 'agnet' (возможно, имелось в виду agent?)" in wrong.stderr
    empty = at_width(module_cli, 200, "--lang", "ru", "kpi", "--db", db, "--from", "01.12.2018", "--to",
                     "31.12.2018", "--metrics", "calls_offered", "--format", "table")
    assert "нет звонков с 01.12.2018 по 31.12.2018; загруженные звонки — с 02.03.2026 по 02.03.2026" in empty.stderr
    bad_date = at_width(module_cli, 200, "--lang", "ru", "kpi", "--db", db, "--from", "2018-13-01")
    assert "--from: нужна дата вида 31.03.2026 или 2026-03-31" in bad_date.stderr
    param = at_width(module_cli, 400, "--lang", "ru", "kpi", "--db", db, "--param", "sl_treshold_s=30")
    assert param.exit_code == 2 and "ошибка: неизвестный параметр 'sl_treshold_s'; доступны: " in param.stderr
    missing = at_width(module_cli, 200, "--lang", "ru", "ingest", "--db", db, db.parent / "no-such.log")
    assert missing.exit_code == 2 and "no-such.log: файл не найден" in missing.stderr
    for text in (wrong.stderr, empty.stderr, bad_date.stderr, param.stderr, missing.stderr):
        assert not english_in(text), text


def test_the_locale_chooses_the_language_and_lang_wins(module_cli, loaded) -> None:
    db, _ = loaded
    args = ("kpi", "--db", db, "--metrics", "calls_offered", "--format", "table")
    russian = at_width(module_cli, 120, *args, env={"CALLKPI_LANG": None, "LANGUAGE": None, "LC_ALL": None,
                                                   "LC_MESSAGES": None, "LANG": "ru_RU.UTF-8"})
    assert "Поступило в очередь" in russian.stdout
    english = at_width(module_cli, 120, "--lang", "en", *args, env={"CALLKPI_LANG": None, "LANG": "ru_RU.UTF-8"})
    assert "Calls offered" in english.stdout and "Поступило" not in english.stdout
    plain = at_width(module_cli, 120, *args, env={"CALLKPI_LANG": None, "LANGUAGE": None, "LC_ALL": None,
                                                 "LC_MESSAGES": None, "LANG": "C.UTF-8"})
    assert "Calls offered" in plain.stdout
    bad = at_width(module_cli, 120, "--lang", "de", *args)
    assert bad.exit_code == 2 and "en or ru" in bad.output
    assert language.language() == "en"  # a command leaves English behind for what runs next in the process


# -- the other commands ---------------------------------------------------------------------------

@pytest.mark.parametrize(("argv", "expected"), [
    (["sources"], ["Загруженные источники", "Файл", "Формат", "В карантине", "mixed.queue_log"]),
    (["quarantine"], ["Строки в карантине", "Файл", "Строка", "Причина", "garbage line"]),
    (["findings"], []),
    (["metrics"], ["Единица", "Формула", "Описание", "количество", "Поступило в очередь."]),
    (["staffing"], ["Расчёт численности операторов (UTC, интервал 30 мин)", "Интервал", "Поступило",
                    "Нужно операторов", "примечание: графики смен не загружены"]),
    (["scorecard", "1001"], ["Карточка оператора", "Раздел", "Название", "обработка",
                             "Среднее время разговора", "4 мин 00 с"]),  # talk (300 + 180) / 2 = 240 s
    (["alerts", "check", "--all"], ["оповещений", "Статус", "Показатель", "сегодня"]),
])
def test_common_commands_speak_russian(module_cli, loaded, argv, expected) -> None:
    db, _ = loaded
    options = [] if argv[0] == "metrics" else ["--db", str(db)]
    result = at_width(module_cli, 400, "--lang", "ru", *argv, *options, "--format", "table")
    assert result.exit_code in (0, 1), result.output
    text = result.stdout + result.stderr
    for part in expected:
        assert part in text, (part, text)
    if argv[0] == "quarantine":  # the reason is the parser's own words about the line, not the CLI's
        text = "\n".join(line for line in text.splitlines() if "garbage" not in line)
    assert not english_in(text), english_in(text)


def test_findings_and_missed_say_when_empty(module_cli, loaded, tmp_path) -> None:
    db, _ = loaded
    assert "замечаний нет" in at_width(module_cli, 120, "--lang", "ru", "findings", "--db", db, "--format",
                                       "table").stdout
    missed = at_width(module_cli, 120, "--lang", "ru", "missed", "--db", db, "--format", "table")
    assert "нет пропущенных, ожидающих перезвона" in missed.stdout


def test_missed_worklist_in_russian(module_cli, tmp_path) -> None:
    from test_missed_worklist import AS_OF, scenario

    db = tmp_path / "missed.duckdb"
    (tmp_path / "Master.csv").write_text(scenario(), encoding="utf-8")
    assert module_cli("ingest", "--db", db, "--tz", "UTC", tmp_path / "Master.csv").exit_code == 0
    result = at_width(module_cli, 200, "--lang", "ru", "missed", "--db", db, "--format", "table", "--as-of",
                      AS_OF.isoformat())
    out = result.stdout
    assert "Пропущенные без перезвона (UTC; просрочены после 24 ч)" in out
    assert "Номер" in out and "Пропущено" in out and "Просрочен" in out
    # 74952223344 missed twice, at 13:00 and 14:00 on 2 March 2026 (see test_missed_worklist), 5 h ago
    row = next(line for line in out.splitlines() if "74952223344" in line)
    assert "02.03.2026 13:00" in row and "02.03.2026 14:00" in row and row.split()[-2:] == ["5", "нет"]
    assert not english_in(out), english_in(out)


# -- plurals, numbers, the catalogue ------------------------------------------------------------

def test_plurals_follow_cldr_through_the_catalogue() -> None:
    language.set_language("ru")
    try:
        from callkpi.cli.words import n

        shown = {k: n("cli.n_calls", k) for k in (0, 1, 2, 4, 5, 11, 21, 22, 25, 111, 1000)}
        assert shown == {0: "0 звонков", 1: "1 звонок", 2: "2 звонка", 4: "4 звонка", 5: "5 звонков",
                         11: "11 звонков", 21: "21 звонок", 22: "22 звонка", 25: "25 звонков", 111: "111 звонков",
                         1000: f"1{NBSP}000 звонков"}
        assert n("cli.n_lines_read", 1) == "прочитана 1 строка"
        assert language.number(12345.6, 1) == f"12{NBSP}345,6"
        assert language.percent(0.805) == f"80,5{NBSP}%"
    finally:
        language.set_language(None)
    from callkpi.cli.words import n

    assert [n("cli.n_calls", k) for k in (1, 2)] == ["1 call", "2 calls"]
    assert language.number(12345.6, 1) == "12 345.6"


def test_every_cli_string_is_in_the_russian_catalogue() -> None:
    from callkpi.i18n import lookup, translations

    for key, (_, russian) in {**CLI_STRINGS, **TABLE_STRINGS, **SCORECARD_STRINGS, **MESSAGE_STRINGS}.items():
        assert lookup(key, "ru") == russian, key
    for key, forms in CLI_PLURALS.items():
        assert translations("ru").ngettext(key, key, 5) == forms["ru"][2], key


def test_a_forwarded_command_keeps_its_language() -> None:
    """`callkpi --lang ru kpi` on a store held by `callkpi serve` is still the reading command kpi."""
    from callkpi.cli import _register_commands
    from callkpi.cli.app import app
    from callkpi.cli.served import command_path, is_reading

    _register_commands()
    assert command_path(app, ["--lang", "ru", "kpi", "--by", "agent"])[0] == ("kpi",)
    assert is_reading(app, ["--terminal-output", "--lang", "en", "--lang", "ru", "kpi"])


# -- notes wrap at the terminal's width ---------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "ru"])
def test_notes_wrap_at_the_terminal_width(module_cli, loaded, lang) -> None:
    db, _ = loaded
    width = 60
    result = at_width(module_cli, width, "--lang", lang, "kpi", "--db", db, "--by", "agent", "--format", "table")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    prefix = "note:" if lang == "en" else "примечание:"
    start = next(i for i, line in enumerate(lines) if line.startswith(prefix))
    notes = lines[start:]
    assert all(len(line) <= width for line in notes), [line for line in notes if len(line) > width]
    assert len(notes) > sum(line.startswith(prefix) for line in notes)  # a long note takes several lines
    words = " ".join(notes).split()
    # wrapped between words: no word is cut, so the note's words read as the engine wrote them
    expected = "avg_hold_s: hold time is not recorded by the loaded sources" if lang == "en" else \
        "avg_hold_s: источники не содержат время удержания"
    assert expected in " ".join(words)


# -- start-up stays light -----------------------------------------------------------------------

def _modules_after(*argv: str) -> set[str]:
    """The top-level modules a run of ``callkpi argv`` imported (this tree's callkpi, a fresh process)."""
    import json
    import subprocess
    import sys

    import callkpi
    from test_cli_startup import PROBE

    env = {"COLUMNS": "80", "PATH": "", "CALLKPI_LANG": "en", "PYTHONPATH": str(Path(callkpi.__file__).parents[1])}
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(argv))], capture_output=True, text=True,
                          timeout=300, check=False, env=env)
    line = next(line for line in done.stdout.splitlines() if line.startswith("MODULES "))
    return {name.split(".")[0] for name in json.loads(line.removeprefix("MODULES "))}


def test_help_and_english_commands_do_not_import_babel(loaded) -> None:
    db, _ = loaded
    assert "babel" not in _modules_after("--help")
    assert "babel" not in _modules_after("--lang", "en", "kpi", "--db", str(db), "--format", "table")
    assert "babel" in _modules_after("--lang", "ru", "kpi", "--db", str(db), "--format", "table")  # the probe sees it
