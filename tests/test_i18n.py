"""Russian and English: the gettext catalogues, CLDR plurals, numbers and dates, and Russian pages without English.

The catalogues are written from the string tables by ``./dev i18n`` (tests/i18n_sync.py); the
page test renders every page of the simulated centre in Russian and fails on a word of the
catalogue's English side, or on a catalogue key shown as it is (an untranslated msgid).
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

import callkpi.i18n as i18n
from callkpi.i18n import cli_lang, format_date, format_number, format_percent, ngettext, pick_lang, translate
from callkpi.web.i18n import Locale

# -- the catalogues ------------------------------------------------------------------------------


def _po(lang: str) -> dict[str, str | tuple[str, ...]]:
    with i18n.po_path(lang).open("rb") as handle:
        catalog = read_po(handle)
    found: dict[str, str | tuple[str, ...]] = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple | list) else message.id
        found[key] = tuple(message.string) if isinstance(message.string, tuple | list) else message.string
    return found


def test_catalogues_hold_every_string_of_the_code() -> None:
    """A string added in code with EN+RU but not in the catalogue fails here: run ``./dev i18n``."""
    from i18n_sync import collect

    sources = collect()
    assert not sources.conflicts
    for lang in i18n.LANGS:
        catalogue = _po(lang)
        expected = {key: entry.texts[lang] for key, entry in sources.entries.items()}
        missing = sorted(set(expected) - set(catalogue))
        stale = sorted(k for k in expected if k in catalogue and catalogue[k] != expected[k])
        extra = sorted(set(catalogue) - set(expected))
        assert not missing, f"{lang}: not in the catalogue (run ./dev i18n): {missing[:10]}"
        assert not stale, f"{lang}: catalogue text differs from the code (run ./dev i18n): {stale[:10]}"
        assert not extra, f"{lang}: in the catalogue but no longer in the code (run ./dev i18n): {extra[:10]}"


def test_every_russian_entry_is_translated() -> None:
    english = _po("en")
    russian = _po("ru")
    empty = [key for key, text in russian.items() if not text or (isinstance(text, tuple) and not all(text))]
    assert not empty
    assert english["overview"] == "Overview"
    assert russian["overview"] == "Обзор"


def test_russian_plurals_follow_cldr() -> None:
    # one: 1, 21, 101; few: 2-4, 22-24; many: 0, 5-20, 25-30, 111-114
    expected = {
        0: "0 звонков", 1: "1 звонок", 2: "2 звонка", 4: "4 звонка", 5: "5 звонков", 11: "11 звонков",
        12: "12 звонков", 14: "14 звонков", 21: "21 звонок", 22: "22 звонка", 25: "25 звонков",
        101: "101 звонок", 111: "111 звонков", 1000: "1\u00a0000 звонков",
    }
    assert {n: ngettext("n_calls", n, "ru") for n in expected} == expected
    assert ngettext("n_calls", 1.5, "ru") == "1,5 звонка"  # CLDR: a fraction takes "other" (genitive singular)
    assert [ngettext("n_calls", n, "en") for n in (1, 2, 0)] == ["1 call", "2 calls", "0 calls"]
    assert Locale("ru").plural("n_agents", 3) == "3 оператора"
    assert Locale("ru").plural("n_team_agents", 21) == "21 оператор в группе"


def test_numbers_and_dates_by_cldr() -> None:
    assert format_number(1234567.891, 2, "ru") == "1\u00a0234\u00a0567,89"
    assert format_number(1234567.891, 2, "en") == "1,234,567.89"
    assert format_number(-5, 0, "ru") == "\u22125"
    assert format_number(-0.04, 1, "en") == "0.0"  # rounds to zero: no sign
    assert format_number(None, 1, "en") == "—"
    assert format_percent(0.805, 1, "ru") == "80,5\u00a0%"
    assert format_percent(0.805, 1, "en") == "80.5\u00a0%"
    assert format_date(date(2026, 3, 31), "ru") == "31.03.2026"
    assert format_date(date(2026, 3, 31), "en") == "31 Mar 2026"
    assert Locale("ru").weekday(1) == "Вт"
    assert Locale("en").weekday(6) == "Sun"
    assert Locale("ru").interval_label("2026-03-31T14:30:00") == "31.03 14:30"


def test_translate_and_the_cli_language() -> None:
    assert translate("overview", "ru") == "Обзор"
    assert translate("overview", "en") == "Overview"
    assert translate("no_such_key", "ru") == "no_such_key"
    assert translate("no_such_key", "ru", default="x") == "x"
    assert cli_lang(None, {"LANG": "ru_RU.UTF-8"}) == "ru"
    assert cli_lang(None, {"LANG": "C.UTF-8"}) == "en"
    assert cli_lang(None, {"LC_ALL": "ru_RU", "LANG": "en_US.UTF-8"}) == "ru"  # LC_ALL wins, as in gettext
    assert cli_lang("en", {"LANG": "ru_RU.UTF-8"}) == "en"  # --lang wins over the locale
    assert cli_lang(None, {"LANG": "de_DE.UTF-8"}) == "en"
    assert pick_lang("ru-RU") == "ru"


def test_a_po_without_mo_is_compiled_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``pip install .`` ships when no .mo was compiled: the .po alone still translates."""
    for lang in i18n.LANGS:
        target = tmp_path / lang / "LC_MESSAGES"
        target.mkdir(parents=True)
        shutil.copy(i18n.po_path(lang), target / "callkpi.po")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        assert translate("overview", "ru") == "Обзор"
        assert ngettext("n_calls", 22, "ru") == "22 звонка"
        assert not list(tmp_path.rglob("*.mo"))
    finally:
        i18n.translations.cache_clear()


def test_russian_formulas_and_parameters_read_in_russian() -> None:
    ru = Locale("ru")
    assert ru.formula("calls_answered") == "число(заходов с исходом «принят»)"
    assert ru.parameter("attribution_window_d") == "Окно атрибуции сделки, дней"
    assert ru.unit("seconds") == "секунды"
    assert ru.section("agent_time") == "Рабочее время операторов"
    assert Locale("en").formula("calls_answered") == "count(legs with outcome answered)"


# -- Russian pages ---------------------------------------------------------------------------------

# Words that stay as they are in Russian: product and format names, abbreviations, units, event names.
ALLOWED = {
    "callkpi", "api", "pdf", "csv", "xlsx", "json", "cqr", "did", "nps", "csat", "ces", "fcr", "aht", "asa", "acw",
    "sl", "roi", "aov", "arpc", "qa", "id", "ok", "null", "asterisk", "freeswitch", "queue", "log", "cdr", "crm",
    "ringnoanswer", "exitwithtimeout", "exitwithkey", "exitempty", "syscompat", "ols", "sip", "pjsip",
    "utc", "iso", "pp", "echarts", "htmx", "ci", "dejavu", "ivr", "kpi", "erlang", "http", "https", "www", "md",
    "europe", "moscow", "utf",
}
TEXT_ATTRIBUTES = re.compile(r'\b(?:title|placeholder|aria-label|alt)="([^"]*)"')
HIDDEN = re.compile(
    r"`[^`<>]*`|<(script|style|code|pre|textarea)\b.*?</\1>|<[^>]+class=\"[^\"]*\bmono\b[^\"]*\"[^>]*>.*?</(?:td|span|div|code|th)>",
    re.DOTALL | re.IGNORECASE,
)
LATIN_WORD = re.compile(r"(?<![\w./@-])[A-Za-z][A-Za-z'’-]*[A-Za-z](?![\w./@-])")


def _ids() -> set[str]:
    """Metric, parameter and dimension ids and parameter values: ids stay ids in every language."""
    from typing import get_args

    from callkpi.config import MetricParams
    from callkpi.metrics.catalogue import DIMENSIONS, REGISTRY

    ids = set(REGISTRY.metrics) | set(MetricParams.model_fields) | set(DIMENSIONS)
    for field_info in MetricParams.model_fields.values():
        ids.update(str(value) for value in get_args(field_info.annotation))
    return {i.lower() for i in ids}


def _english_words() -> set[str]:
    words: set[str] = set()
    for text in _po("en").values():
        for part in text if isinstance(text, tuple) else (text,):
            words.update(w.lower() for w in re.findall(r"[A-Za-z]{2,}", part))
    return words - ALLOWED - _ids()


def _keys() -> set[str]:
    return {key for key in _po("en") if "_" in key or "." in key}


def visible_text(page: str) -> tuple[str, str]:
    """(the text a reader sees, the texts of title/placeholder/label attributes); ids in monospace are left out."""
    body = HIDDEN.sub(" ", page)
    attributes = " ".join(TEXT_ATTRIBUTES.findall(body))
    text = re.sub(r"<[^>]+>", " ", body)
    return html.unescape(text), html.unescape(attributes)


# Columns whose values are names the data brings (agents, queues, teams, campaigns, programmes), not interface text.
DATA_NAME_COLUMNS = (
    "name", "agent", "agent_id", "agent_name", "team", "queue", "campaign", "programme", "username", "pause_reason",
    "reason", "scorecard_id", "member", "reviewer", "user",
)


def _data_words(path: Path) -> set[str]:
    import duckdb

    words: set[str] = set()
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'"
        ).fetchall()
        for table, column in columns:
            if column not in DATA_NAME_COLUMNS:
                continue
            rows = con.execute(f'SELECT DISTINCT "{column}" FROM "{table}"').fetchall()  # noqa: S608 (catalogue names)
            for (value,) in rows:
                words.update(w.lower() for w in re.findall(r"[A-Za-z\u0400-\u04ff]{2,}", value or ""))
    return words | _script_phrase_words()


def _script_phrase_words() -> set[str]:
    """The shipped scripts' example and forbidden phrases (English and Russian calls both): data the
    scripts page shows as written, like names."""
    from callkpi.speech.scripts import default_scripts

    phrases = [p for script in default_scripts() for stage in script.stages for p in stage.phrases]
    phrases += [p for script in default_scripts() for p in script.forbidden]
    return {w.lower() for phrase in phrases for w in re.findall(r"[A-Za-z\u0400-\u04ff]+", phrase)}


@pytest.fixture(scope="module")
def russian(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, object, set[str]]]:
    from web_centre import build_centre, serve, sign_in

    centre = build_centre(tmp_path_factory.mktemp("i18n"))
    data_words = _data_words(centre.path)
    with serve(centre) as client:
        assert sign_in(client, "admin").status_code == 303
        client.cookies.set("callkpi_lang", "ru")
        yield client, centre, data_words


def _pages(client: TestClient, centre: object) -> list[str]:
    agent = centre.agent_a  # type: ignore[attr-defined]
    calls = client.get("/calls").text
    call_ids = re.findall(r'href="/calls/([^"/?#]+)"', calls)
    pages = [
        "/", "/agents", f"/agents/{agent}", f"/agents/{agent}/scorecard", "/queues", "/calls", "/missed", "/outbound",
        "/metrics", "/wallboard", "/alerts", "/admin/targets", "/admin/users", "/admin/sources", "/sales",
        "/training", "/qa", "/qa/scorecards", "/scripts",
    ]
    if call_ids:
        pages.append(f"/calls/{call_ids[0]}")
    qa = client.get("/qa").text
    pages += sorted(set(re.findall(r'href="(/qa/reviews/[^"?#]+)"', qa)))[:1]
    pages += [html.unescape(link) for link in sorted(set(re.findall(r'href="(/qa/review/[^"#]+)"', qa)))[:1]]
    return pages


def test_russian_pages_have_no_english_and_no_raw_keys(russian: tuple[TestClient, object, set[str]]) -> None:
    client, centre, data_words = russian
    english = _english_words() - data_words
    keys = _keys()
    problems: dict[str, set[str]] = {}
    for path in _pages(client, centre):
        response = client.get(path)
        if response.status_code == 404:
            continue
        assert response.status_code == 200, (path, response.status_code)
        text, attributes = visible_text(response.text)
        found = {
            w for w in LATIN_WORD.findall(text + " " + attributes) if w.lower() in english and not w.isupper()
        }  # an all-capitals word is a name (PAUSE, YAML), not English prose
        raw = {w for w in re.findall(r"[a-z][a-z0-9_.]*[a-z0-9]", text) if w in keys}
        if found or raw:
            problems[path] = found | {f"key:{k}" for k in raw}
    assert not problems, "\n".join(f"{path}: {' '.join(sorted(words))}" for path, words in problems.items())


def test_training_notes_read_in_russian_with_plurals() -> None:
    from callkpi.web.features.business_tables import training_note

    note = ("5 calls had a deal still open at the end of the data; each counts as the share of its group's closed "
            "deals that were won (40%, 50%, 30%, 35% for trained before/after, untrained before/after)")
    russian = training_note(Locale("ru"), note)
    assert russian.startswith("5 звонков со сделкой, открытой на конец данных")
    assert "40\u00a0%" in russian
    one = note.replace("5 calls", "1 call")
    assert training_note(Locale("ru"), one).startswith("1 звонок со сделкой")
    assert training_note(Locale("ru"), one.replace("1 call", "22 calls")).startswith("22 звонка со сделкой")
    assert training_note(Locale("en"), note) == note


def test_english_pages_have_no_russian_and_no_raw_keys(russian: tuple[TestClient, object, set[str]]) -> None:
    client, centre, data_words = russian
    keys = _keys()
    problems: dict[str, set[str]] = {}
    client.cookies.set("callkpi_lang", "en")
    try:
        for path in _pages(client, centre):
            response = client.get(path)
            if response.status_code == 404:
                continue
            text, attributes = visible_text(response.text)
            found = {w for w in re.findall(r"[\u0400-\u04ff]+", text + " " + attributes) if w.lower() not in data_words}
            raw = {w for w in re.findall(r"[a-z][a-z0-9_.]*[a-z0-9]", text) if w in keys}
            if found or raw:
                problems[path] = found | {f"key:{k}" for k in raw}
    finally:
        client.cookies.set("callkpi_lang", "ru")
    assert not problems, "\n".join(f"{path}: {' '.join(sorted(words))}" for path, words in problems.items())


def test_the_page_check_sees_english_and_leaves_ids_alone() -> None:
    english = _english_words()
    page = ('<p>Обзор <b>Overview</b></p><td class="mono">answer_rate</td><code>callkpi ingest</code>'
            '<span title="Sign in">x</span><p>PAUSE `callkpi missed`</p>')
    text, attributes = visible_text(page)
    found = {w for w in LATIN_WORD.findall(text + " " + attributes) if w.lower() in english and not w.isupper()}
    assert found == {"Overview", "Sign", "in"}  # monospace ids, code, backticks and PAUSE are not prose


def test_engine_notes_read_in_russian() -> None:
    ru = Locale("ru")
    assert ru.note("aht_s: no hold time in the loaded data for this scope; left out") == (
        "aht_s: в загруженных данных нет: время удержания — не учтено"
    )
    assert ru.note(
        "acw_s: pauses (after-call work) not recorded by the loaded sources in 6 of 13 rows; shown as null, not 0"
    ) == "acw_s: паузы (постобработка) — не записано в загруженных источниках в 6 из 13 строк; показано пусто, а не 0"
    assert ru.note("avg_hold_s: hold time is not recorded by the loaded sources") == (
        "avg_hold_s: источники не содержат время удержания"
    )
    assert ru.note("something new") == "something new"
    assert Locale("en").note("x: y") == "x: y"
