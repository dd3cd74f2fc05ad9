"""The command line: `callkpi kpi` in every format, `metrics`, `sources`, `findings`.

The database holds four scenario files of 2026-03-02 (UTC), loaded with `callkpi ingest`:
answered.queue_log (sales: waits 15, 25), acw.queue_log (sales: waits 10, 20), ring_no_answer.queue_log
(support: one answered after 40 s, one abandoned after 20 s), transfers.queue_log (sales: waits 5, 8, 3, 4).
So: offered 10, answered 9, abandoned 1; answered within 20 s: 15, 10, 20, 5, 8, 3, 4 = 7; within 30 s: 8.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from callkpi.metrics.catalogue import REGISTRY
from conftest import SCENARIOS, Cli, scenario_text, write_log

FILES = ("answered.queue_log", "acw.queue_log", "ring_no_answer.queue_log", "transfers.queue_log")
approx = pytest.approx


@pytest.fixture(scope="module")
def module_cli(tmp_path_factory) -> Cli:
    return Cli(tmp_path_factory.mktemp("config") / "no-such-callkpi.toml")


@pytest.fixture(scope="module")
def db(tmp_path_factory, module_cli) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    paths = [write_log(folder, scenario_text(name), name) for name in FILES]
    path = folder / "k.duckdb"
    result = module_cli("ingest", "--db", path, "--tz", "UTC", *paths)
    assert result.exit_code == 0, result.output
    return path


def _json(cli: Cli, *args: object) -> object:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_kpi_json_is_an_array_with_metric_ids_and_fractions(module_cli, db) -> None:
    rows = _json(module_cli, "kpi", "--db", db, "--format", "json")
    assert isinstance(rows, list) and len(rows) == 1
    row = rows[0]
    assert set(REGISTRY.metrics) >= set(row)  # every key is a metric id (no dimension asked)
    assert row["calls_offered"] == 10
    assert row["calls_answered"] == 9
    assert row["answer_rate"] == approx(0.9)  # a fraction, not 90
    assert row["service_level"] == approx(0.7)  # 7 within 20 s / (10 - 0 short abandons)
    assert row["avg_hold_s"] is None  # null, not 0


def test_kpi_json_by_agent_and_day_has_dimension_keys(module_cli, db) -> None:
    rows = _json(module_cli, "kpi", "--db", db, "--format", "json", "--by", "agent,day",
                 "--metrics", "calls_handled,att_s,logged_in_s")
    assert rows
    for row in rows:
        assert set(row) == {"agent", "day", "calls_handled", "att_s", "logged_in_s"}
        assert row["day"] == "2026-03-02"
    handled = {r["agent"]: r["calls_handled"] for r in rows}
    # 1001: answered .2, acw .50 .52, ring .10, transfers .40 .45 = 6; 1002: answered .1, transfers .42 .47 = 3
    assert handled == {"1001": 6, "1002": 3}


def test_kpi_csv(module_cli, db) -> None:
    result = module_cli("kpi", "--db", db, "--format", "csv", "--by", "queue", "--metrics", "calls_offered,answer_rate")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["queue", "calls_offered", "answer_rate"]
    by_queue = {r["queue"]: r for r in rows}
    assert by_queue["sales"]["calls_offered"] == "8"  # 2 + 2 + 4
    assert float(by_queue["sales"]["answer_rate"]) == approx(1.0)
    assert by_queue["support"]["calls_offered"] == "2"
    assert float(by_queue["support"]["answer_rate"]) == approx(0.5)  # 1 answered, 1 abandoned


def test_kpi_xlsx_has_a_definitions_sheet(module_cli, db, tmp_path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    out = tmp_path / "f.xlsx"
    result = module_cli("kpi", "--db", db, "--by", "queue", "--metrics", "calls_offered,service_level",
                        "--format", "xlsx", "--output", out)
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert "definitions" in book.sheetnames
    data = book[book.sheetnames[0]]
    table = [list(r) for r in data.iter_rows(values_only=True)]
    assert table[0] == ["queue", "calls_offered", "service_level"]
    values = {r[0]: r for r in table[1:]}
    assert values["sales"][1] == 8
    assert values["sales"][2] == approx(7 / 8)  # 15, 10, 20, 5, 8, 3, 4 <= 20 s of 8; not 25
    defined = [r[0] for r in book["definitions"].iter_rows(values_only=True)]
    assert "service_level" in defined and "calls_offered" in defined


def test_kpi_explain(module_cli, db) -> None:
    result = module_cli("kpi", "--db", db, "--metrics", "service_level,asa_s", "--explain")
    assert result.exit_code == 0, result.output
    assert "sl_threshold_s=20" in result.stdout
    assert "sl_variant=offered" in result.stdout
    assert REGISTRY.metrics["asa_s"].formula in result.stdout
    explained = _json(module_cli, "kpi", "--db", db, "--metrics", "service_level", "--explain", "--format", "json")
    definitions = {d["id"]: d for d in explained["definitions"]}
    assert definitions["service_level"]["parameters"]["sl_threshold_s"] == 20
    assert explained["rows"][0]["service_level"] == approx(0.7)


def test_kpi_param_changes_service_level(module_cli, db) -> None:
    default = _json(module_cli, "kpi", "--db", db, "--format", "json", "--metrics", "service_level")
    wider = _json(module_cli, "kpi", "--db", db, "--format", "json", "--metrics", "service_level",
                  "--param", "sl_threshold_s=30")
    assert default[0]["service_level"] == approx(0.7)  # 7 / 10
    assert wider[0]["service_level"] == approx(0.8)  # 8 / 10: the 25 s wait now counts
    answered = _json(module_cli, "kpi", "--db", db, "--format", "json", "--metrics", "service_level",
                     "--param", "sl_variant=answered")
    assert answered[0]["service_level"] == approx(7 / 9)


def test_kpi_by_15_minute_interval(module_cli, db) -> None:
    rows = _json(module_cli, "kpi", "--db", db, "--format", "json", "--by", "interval", "--interval-minutes", "15",
                 "--metrics", "calls_offered")
    found = {}
    for row in rows:
        start = datetime.fromisoformat(row["interval"])
        assert start.minute in (0, 15, 30, 45) and start.second == 0
        if row["calls_offered"]:
            found[start.strftime("%H:%M")] = row["calls_offered"]
    # entries: 09:00 09:05 09:10 | 09:20 | 10:00 10:05 | 12:00 12:10 | 12:20 | 12:30
    assert found == {"09:00": 3, "09:15": 1, "10:00": 2, "12:00": 2, "12:15": 1, "12:30": 1}
    as_param = _json(module_cli, "kpi", "--db", db, "--format", "json", "--by", "interval", "--param",
                     "interval_minutes=15", "--metrics", "calls_offered")
    assert as_param == rows  # the parameter given as text is the same 15 minutes


def test_kpi_date_range(module_cli, db) -> None:
    inside = _json(module_cli, "kpi", "--db", db, "--format", "json", "--metrics", "calls_offered",
                   "--from", "2026-03-02", "--to", "2026-03-02")
    after = _json(module_cli, "kpi", "--db", db, "--format", "json", "--metrics", "calls_offered,answer_rate",
                  "--from", "2026-03-03")
    assert inside[0]["calls_offered"] == 10
    assert after[0]["calls_offered"] == 0
    assert after[0]["answer_rate"] is None  # empty denominator


def test_kpi_bad_dimension_exits_2(module_cli, db) -> None:
    result = module_cli("kpi", "--db", db, "--by", "agent,galaxy")
    assert result.exit_code == 2
    assert "galaxy" in result.stderr
    assert "unknown dimension" in result.stderr


def test_kpi_bad_param_exits_2(module_cli, db) -> None:
    result = module_cli("kpi", "--db", db, "--param", "no_such_param=1")
    assert result.exit_code == 2
    assert "no_such_param" in result.stderr


def test_kpi_without_a_database_exits_2(cli, tmp_path) -> None:
    result = cli("kpi", "--db", tmp_path / "missing.duckdb")
    assert result.exit_code == 2
    assert "missing.duckdb" in result.stderr


def test_metrics_lists_every_metric_in_both_languages(module_cli) -> None:
    items = _json(module_cli, "metrics", "--format", "json")
    assert [i["id"] for i in items] == list(REGISTRY.metrics)
    cyrillic = re.compile("[а-яА-ЯёЁ]")
    for item in items:
        for key in ("title_en", "title_ru", "description_en", "description_ru", "unit", "formula"):
            assert item[key], (item["id"], key)
        assert cyrillic.search(item["title_ru"] + item["description_ru"]), item["id"]
        assert isinstance(item["parameters"], dict)
    by_id = {i["id"]: i for i in items}
    assert set(by_id["service_level"]["parameters"]) == {"sl_threshold_s", "sl_variant", "short_abandon_s"}


def test_sources_lists_what_was_loaded(module_cli, db) -> None:
    rows = _json(module_cli, "sources", "--db", db, "--format", "json")
    assert len(rows) == len(FILES)
    by_name = {Path(r["file"]).name: r for r in rows}
    assert set(by_name) == set(FILES)
    for name, row in by_name.items():
        lines = len((SCENARIOS / name).read_text(encoding="utf-8").splitlines())
        assert row["format"] == "asterisk-queue-log"
        assert row["lines"] == lines
        assert row["quarantined"] == 0
    assert by_name["transfers.queue_log"]["calls"] == 4
    assert by_name["transfers.queue_log"]["first_utc"].startswith("2026-03-02 12:00:00")


def test_findings_lists_legs_without_an_end(cli, tmp_path) -> None:
    """cut_mid_call.queue_log: legs .72 (answered, talk unknown) and .74 (outcome unknown) never end."""
    path = write_log(tmp_path, scenario_text("cut_mid_call.queue_log"), "cut.queue_log")
    db = tmp_path / "k.duckdb"
    assert cli("ingest", "--db", db, path).exit_code == 0
    rows = _json(cli, "findings", "--db", db, "--format", "json")
    legs = {r["call_id"]: r for r in rows if r["kind"] == "leg_without_end"}
    assert set(legs) == {"1772442300.72", "1772442360.74"}
    assert legs["1772442300.72"]["time_utc"] == "2026-03-02 09:05:00"
    table = cli("findings", "--db", db, "--format", "table")
    assert table.exit_code == 0 and "1772442360.74" in table.stdout


def test_quarantine_table_when_empty(module_cli, db) -> None:
    result = module_cli("quarantine", "--db", db, "--format", "table")
    assert result.exit_code == 0
    assert "empty" in result.stdout
    piped = module_cli("quarantine", "--db", db)  # TSV: the header line alone
    assert piped.stdout == "file\tline\treason\traw\n"
