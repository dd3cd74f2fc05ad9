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
from callkpi.cli.command_words import COMMAND_PLURALS, COMMAND_STRINGS
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
    for table in (CLI_STRINGS, TABLE_STRINGS, SCORECARD_STRINGS, MESSAGE_STRINGS, COMMAND_STRINGS):
        texts += [english for english, _ in table.values()]
    texts += [form for plurals in (CLI_PLURALS, COMMAND_PLURALS) for forms in plurals.values() for form in forms["en"]]
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

    for key, (_, russian) in {**CLI_STRINGS, **TABLE_STRINGS, **SCORECARD_STRINGS, **MESSAGE_STRINGS,
                              **COMMAND_STRINGS}.items():
        assert lookup(key, "ru") == russian, key
    for key, forms in {**CLI_PLURALS, **COMMAND_PLURALS}.items():
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


# -- sales, qa, users, schedules, simulate, demo, transcribe, serve (issue 15, item 6) ----------------

def _russian(text: str, *data_words: str) -> set[str]:
    """The English words of the CLI's tables in ``text``, leaving out the data's own words (queue names...)."""
    for word in data_words:
        text = text.replace(word, " ")
    return english_in(text)


@pytest.fixture(scope="module")
def business(tmp_path_factory, module_cli) -> Path:
    """The day of test_business_sales (calls, deals, costs, surveys) in a store of its own."""
    from test_business_sales import COSTS, DEALS, QUEUE_LOG, SURVEYS

    folder = tmp_path_factory.mktemp("sales")
    paths = []
    for name, text in {"queue_log": QUEUE_LOG, "deals.csv": DEALS, "costs.csv": COSTS, "surveys.csv": SURVEYS}.items():
        (folder / name).write_text(text, encoding="utf-8")
        paths.append(folder / name)
    db = folder / "sales.duckdb"
    result = module_cli("ingest", "--db", db, "--tz", "UTC", *paths)
    assert result.exit_code == 0, result.output
    return db


def test_sales_in_russian(module_cli, business) -> None:
    result = at_width(module_cli, 200, "--lang", "ru", "sales", "--db", business, "--format", "table")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Продажи и деньги с " in out and "Сделки по дню звонка" in out
    assert "Выиграно сделок" in out and "Показатель" in out and "Состояние" in out  # titles, not ids
    assert "deals_won" not in out and "calls_handled" not in out
    assert re.search(r"\d\d\.\d\d\.\d{4}", out) and not re.search(r"\d{4}-\d\d-\d\d", out)  # dates read 31.03.2026
    assert not _russian(out, "sales"), _russian(out, "sales")
    english = at_width(module_cli, 200, "--lang", "en", "sales", "--db", business, "--format", "table").stdout
    assert "Sales & money" in english and "deals_won" in english and "Deals by the day of their call" in english


def test_survey_list_and_relink_in_russian(module_cli, business, tmp_path) -> None:
    out = tmp_path / "dial.csv"
    listed = at_width(module_cli, 200, "--lang", "ru", "survey-list", "--db", business, "--since", "2026-03-01",
                      "--output", out)
    assert listed.exit_code == 0, listed.output
    count = len(out.read_text(encoding="utf-8").splitlines()) - 1
    assert count >= 1 and f"записан файл {out}: {n_numbers(count)}" in listed.stdout
    assert out.read_text(encoding="utf-8").startswith("phone_number,call_id")  # CSV keeps its English ids
    relinked = at_width(module_cli, 200, "--lang", "ru", "relink", "--db", business)
    assert relinked.stdout.startswith("связи пересобраны: deal_attribution ")
    for text in (listed.stdout, relinked.stdout):
        assert not english_in(text), text


def n_numbers(count: int) -> str:
    language.set_language("ru")
    try:
        from callkpi.cli.command_words import counted

        return counted("cli.n_numbers", count)
    finally:
        language.set_language(None)


def test_training_effect_in_russian(module_cli, tmp_path) -> None:
    from test_business_training import constructed_centre

    db = tmp_path / "t.duckdb"
    paths = constructed_centre(tmp_path, days=40, training_day=20, calls_per_day=25, uplift=0.04, seed=7)
    assert module_cli("ingest", "--db", db, "--tz", "UTC", *paths).exit_code == 0
    result = at_width(module_cli, 300, "--lang", "ru", "training-effect", "--db", db, "--window-days", "19",
                      "--metrics", "conversion_rate,csat", "--format", "table")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Эффект обучения (19 дней до и после)" in out and "Программа" in out and "Вывод" in out
    assert "Конверсия звонков в сделки" in out and "недостаточно данных" in out  # csat: no surveys loaded
    assert "95 % ДИ" in out
    assert not _russian(out, "Objection handling"), _russian(out, "Objection handling")
    bad = at_width(module_cli, 200, "--lang", "ru", "training-effect", "--db", db, "--metrics", "happiness")
    assert bad.exit_code == 2 and "неизвестные показатели: happiness" in bad.stderr
    assert not english_in(bad.stderr), bad.stderr


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory) -> Path:
    """The web tests' store with 10 reviews of qualification calls (as tests/test_qa_cli.py builds it)."""
    from callkpi.qa.review import create_review
    from callkpi.qa.scorecards import ensure_default_scorecards
    from callkpi.storage import Store
    from test_qa_cli import FATAL, GOOD
    from test_web_api import build_web_store

    data = build_web_store(tmp_path_factory.mktemp("qa"))
    with Store(data.path) as store:
        ensure_default_scorecards(store)
        calls = [r[0] for r in store.connection.execute(
            "SELECT DISTINCT call_id FROM agent_legs WHERE outcome = 'answered' ORDER BY call_id").fetchall()]
        for index, call in enumerate(calls[:10]):
            create_review(store, call_id=call, call_type="qualification", reviewer="qa",
                          scores=FATAL if index < 3 else GOOD)
    return data.path


QA_DATA = ("qa", "sales", "support")  # the reviewer's and the queues' names


@pytest.mark.parametrize(("argv", "expected"), [
    (["qa", "reviews"], ["Проверки качества", "Проверяющий", "Версия", "Квалификационный звонок"]),
    (["qa", "queue"], ["Звонки к проверке", "Оператор"]),
    (["qa", "report", "weakest"], ["Самые слабые критерии по операторам", "Критерий", "Средняя оценка",
                                   "Согласие на обработку данных"]),
    (["qa", "report", "calibration"], ["Калибровка проверяющих", "Полное совпадение"]),
    (["qa", "report", "trend", "--by", "day"], ["CQR по дням", "Доля требующих работы", "02.03.2026"]),
    (["qa", "report", "agents"], ["CQR по операторам", "Доля требующих работы"]),
])
def test_qa_commands_speak_russian(module_cli, reviewed, argv, expected) -> None:
    result = at_width(module_cli, 300, "--lang", "ru", *argv, "--db", reviewed, "--format", "table")
    assert result.exit_code == 0, result.output
    for part in expected:
        assert part in result.stdout, (part, result.stdout)
    if argv[-1] in ("trend", "day", "agents"):  # the share needing work reads as a Russian percentage
        assert re.search(rf"\d+,\d{NBSP}%", result.stdout), result.stdout
    assert not _russian(result.stdout, *QA_DATA), _russian(result.stdout, *QA_DATA)


def test_qa_sample_messages_and_errors_in_russian(module_cli, reviewed, tmp_path) -> None:
    sample = at_width(module_cli, 200, "--terminal-output", "--lang", "ru", "qa", "sample", "--db", reviewed, "--day",
                      "2026-03-02")  # a table, as on a terminal
    assert sample.exit_code == 0, sample.output
    piped = at_width(module_cli, 200, "--lang", "ru", "qa", "sample", "--db", reviewed, "--day", "2026-03-02")
    assert piped.stdout.splitlines()[0] == "day\thandled\tsampled"  # TSV keeps its ids
    assert "Обработано" in sample.stdout and "В выборке" in sample.stdout and "02.03.2026" in sample.stdout
    bad_rule = at_width(module_cli, 200, "--lang", "ru", "qa", "sample", "--db", reviewed, "--rule", "lucky")
    assert bad_rule.exit_code == 2 and "неизвестные правила: lucky; доступны: new_agent" in bad_rule.stderr
    bad_report = at_width(module_cli, 200, "--lang", "ru", "qa", "report", "best", "--db", reviewed)
    assert "отчёт: допустимо weakest, calibration, trend или agents" in bad_report.stderr
    yaml_file = tmp_path / "cards.yaml"
    exported = at_width(module_cli, 200, "--lang", "ru", "qa", "scorecards", "--db", reviewed, "--output", yaml_file)
    assert f"записан файл {yaml_file}" in exported.stdout
    imported = at_width(module_cli, 200, "--lang", "ru", "qa", "import-scorecards", yaml_file, "--db", reviewed)
    assert "qualification: версия 1" in imported.stdout  # the same cards again: no new version
    kinds = "weakest, calibration, trend или agents"  # the report kinds the argument takes
    for text in (sample.stdout, bad_rule.stderr, bad_report.stderr, exported.stdout, imported.stdout):
        assert not _russian(text, kinds, *QA_DATA), text


def test_users_and_tokens_in_russian(module_cli, tmp_path) -> None:
    db = tmp_path / "users.duckdb"

    def run(*argv: object):
        return at_width(module_cli, 200, "--lang", "ru", *argv, "--db", db)

    created = run("user", "add", "olga", "--role", "supervisor", "--generate")
    assert created.exit_code == 0 and created.stdout.startswith("создан пользователь olga с ролью супервайзер, пароль ")
    again = run("user", "add", "olga", "--role", "supervisor", "--generate")
    assert again.exit_code == 2 and "ошибка: пользователь 'olga' уже есть" in again.stderr
    role = run("user", "add", "ivan", "--role", "boss", "--generate")
    assert "роль: допустимо одно из admin, supervisor, agent" in role.stderr
    listed = run("user", "list")
    assert listed.stdout.split() == ["olga", "супервайзер", "все"]
    changed = run("user", "passwd", "olga", "--generate")
    assert changed.stdout.startswith("пароль пользователя olga изменён: ")
    assert run("token", "create", "olga", "--label", "tv").exit_code == 0
    assert run("token", "create", "olga", "--label", "bi").exit_code == 0
    revoked = run("token", "revoke", "olga")
    assert "у пользователя olga отозвано: 2 токена" in revoked.stdout  # two tokens: the few form
    deleted, missing = run("user", "delete", "olga"), run("user", "delete", "olga")
    assert "пользователь olga удалён" in deleted.stdout and "нет пользователя 'olga'" in missing.stderr
    for text in (created.stdout, again.stderr, role.stderr, listed.stdout, changed.stdout, revoked.stdout,
                 deleted.stdout, missing.stderr):
        assert not _russian(text, "admin, supervisor, agent"), text  # the role ids --role takes
    english = at_width(module_cli, 200, "--lang", "en", "user", "add", "petr", "--role", "agent", "--agent", "1001",
                       "--generate", "--db", db)
    assert english.stdout.startswith("created agent petr with password ")


def test_schedules_in_russian(module_cli, loaded) -> None:
    db, _ = loaded

    def run(*argv: object):
        return at_width(module_cli, 300, "--lang", "ru", "schedule", *argv, "--db", db)

    added = run("add", "--every", "mon 09:00", "--report", "overview", "--to", "boss@example.com")
    assert added.exit_code == 0, added.output
    schedule_id = re.search(r"рассылка (\d+) добавлена: overview", added.stdout)[1]
    listed = run("list")
    assert "все очереди" in listed.stdout and "следующий " in listed.stdout and "ещё не отправлялся" in listed.stdout
    sent = run("run-now", schedule_id)  # no SMTP server in the settings: the send fails and is logged
    assert sent.exit_code == 1
    assert "не отправлен " in sent.stdout and "(1 попытка)" in sent.stdout and "повтор в " in sent.stdout
    assert "SMTP-сервер не задан" in sent.stdout
    bad = run("add", "--every", "someday", "--report", "overview", "--to", "boss@example.com")
    assert bad.exit_code == 2 and "не удалось прочитать 'someday'" in bad.stderr
    removed, missing = run("remove", schedule_id), run("remove", schedule_id)
    assert f"рассылка {schedule_id} удалена" in removed.stdout and f"нет рассылки {schedule_id}" in missing.stderr
    due = run("run-due")
    assert "отправлять нечего" in due.stdout
    ids = ("overview", "mon", "daily", "monthly", "boss@example.com", "last-week", "xlsx", "MailError", "host", "mail",
           "UTC")  # what --every, --report, --period take, the error's class and the settings' names
    for text in (added.stdout, listed.stdout, sent.stdout, bad.stderr, removed.stdout, missing.stderr, due.stdout):
        assert not _russian(text, *ids), text


def test_simulate_summary_in_russian_with_plurals(module_cli, tmp_path) -> None:
    out = tmp_path / "sim"
    result = at_width(module_cli, 400, "--lang", "ru", "simulate", "--out", out, "--days", "1", "--agents", "3",
                      "--calls-per-day", "40", "--seed", "3")
    assert result.exit_code == 0, result.output
    first, files, speed = result.stdout.splitlines()[:3]
    summary = (r"^\d+ входящ(ий звонок|их звонка|их звонков), \d+ заход(а|ов)? в очередь \(принят[о]? \d+, "
               r"потерян[о]? \d+, перенаправлен[о]? \d+\), \d+ исходящ(ий набор|их набора|их наборов)$")
    assert re.match(summary, first), first
    assert files.startswith("14 файлов, ") and " МБ в " in files
    assert re.match(r"^\d+,\d с \(\d+ звонков/с\)$", speed.replace(NBSP, "")), speed
    assert not english_in(result.stdout), english_in(result.stdout)
    bad = at_width(module_cli, 200, "--lang", "ru", "simulate", "--out", out, "--start", "2026-13-01")
    assert bad.exit_code == 2
    assert "--start: нужна дата вида 31.03.2026 или 2026-03-31, получено '2026-13-01'" in bad.stderr


def test_demo_speaks_russian_and_passes_the_language_on(module_cli, tmp_path, monkeypatch) -> None:
    from callkpi.cli import demo_cmd

    ran: list[tuple[str, ...]] = []
    monkeypatch.setattr(demo_cmd.subprocess, "call", lambda argv: ran.append(tuple(argv)) or 0)
    result = at_width(module_cli, 200, "--lang", "ru", "demo", "--dir", tmp_path / "demo", "--days", "2",
                      "--no-serve")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Моделирование: 2 дня в " in out and "Загрузка: " in out
    assert "Весь период" in out and "По очередям" in out and "По операторам" in out
    assert "Попробуйте: " in out and " --lang ru kpi --db " in out
    assert all(argv[3:5] == ("--lang", "ru") for argv in ran) and len(ran) == 7  # simulate, ingest, 5 reports
    assert not english_in(out), english_in(out)


def test_transcribe_errors_in_russian(module_cli, tmp_path) -> None:
    wav = tmp_path / "call.wav"
    wav.write_bytes(b"RIFF")
    bad_lang = at_width(module_cli, 200, "--lang", "ru", "transcribe", wav, "--engine", "vosk", "--model", tmp_path,
                        "--lang", "de")
    assert bad_lang.exit_code == 2 and "--lang: допустимо ru или en, получено 'de'" in bad_lang.stderr
    engine = at_width(module_cli, 200, "--lang", "ru", "transcribe", wav, "--engine", "abacus", "--model", tmp_path)
    assert engine.exit_code == 2 and "неизвестный движок 'abacus'" in engine.stderr
    for text in (bad_lang.stderr, engine.stderr):
        assert not _russian(text, "ru или en", "faster-whisper, vosk или module:Class"), text  # --lang/--engine values


def test_serve_start_up_lines_in_russian(module_cli, tmp_path, monkeypatch) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)  # the lines before the server starts
    db = tmp_path / "served.duckdb"
    result = at_width(module_cli, 200, "--lang", "ru", "serve", "--db", db, "--port", "18765", "--watch",
                      tmp_path / "queue_log", "--watch-every", "5")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.search(r"Создан пользователь admin с паролем \S+ \(пароль показан один раз; сменить — ", out), out
    assert "панель callkpi: http://127.0.0.1:18765/  (API: /api/v1, документация: /docs)" in out
    assert f"новые записи из {tmp_path / 'queue_log'} загружаются каждые 5 с" in out
    assert not _russian(out, "admin"), _russian(out, "admin")  # the user's name


def test_command_plurals_follow_cldr() -> None:
    from callkpi.cli.command_words import counted

    language.set_language("ru")
    try:
        assert [counted("cli.n_inbound_calls", k) for k in (1, 2, 5, 21)] == [
            "1 входящий звонок", "2 входящих звонка", "5 входящих звонков", "21 входящий звонок"]
        assert [counted("cli.n_attempts", k) for k in (1, 3, 11)] == ["1 попытка", "3 попытки", "11 попыток"]
        assert [counted("cli.n_tokens", k) for k in (1, 2, 5)] == ["1 токен", "2 токена", "5 токенов"]
        assert [counted("cli.n_numbers", k) for k in (1, 4, 12)] == ["1 номер", "4 номера", "12 номеров"]
    finally:
        language.set_language(None)
    assert [counted("cli.n_attempts", k) for k in (1, 2)] == ["1 attempt", "2 attempts"]


def test_business_ingest_messages_in_russian(module_cli, tmp_path) -> None:
    from test_business_sales import COSTS, DEALS

    paths = []
    for name, text in {"deals.csv": DEALS, "costs.csv": COSTS}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(tmp_path / name)
    result = at_width(module_cli, 300, "--lang", "ru", "ingest", "--db", tmp_path / "b.duckdb", "--tz", "UTC", *paths)
    assert result.exit_code == 0, result.output
    assert "прочитан по стандартной схеме столбцов (costs)" in result.stdout  # the layout callkpi documents
    assert "прочитан по общей схеме столбцов (deals)" in result.stdout  # DEALS has a header of its own
    assert "read with" not in result.stdout
    assert not _russian(result.stdout, "deals", "costs"), result.stdout  # the kinds of business file
