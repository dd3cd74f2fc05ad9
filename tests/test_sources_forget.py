"""Issue 12 item 7: the zone a file is written in (--file-tz) apart from the business zone (--tz),
the import saying when the file's own clock shows another zone, and `callkpi sources forget ID`
so that a wrong load is undone without deleting the database."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.conftest import SCENARIOS, SHARED, query_rows

from callkpi.config import Settings
from callkpi.ingest.base import zone_of_offset
from callkpi.ingest.forget import forget_source
from callkpi.ingest.formats import load_file
from callkpi.storage import Store

ASTERISK_RU = SHARED / "data" / "real" / "asterisk-ru-2024" / "Master.csv"
# Written in UTC: every start time is the epoch of its uniqueid.
UTC_WRITTEN = "agent_answer_rate.cdr.csv"


def _copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copyfile(SCENARIOS / name, target)
    return target


def _uniqueid_starts(path: Path) -> dict[str, datetime]:
    """uniqueid -> start as the uniqueid's own clock says (the 17th column of the Asterisk CDR CSV)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return {row[16]: datetime.fromtimestamp(int(row[16].split(".")[0]), UTC).replace(tzinfo=None) for row in rows}


def _table_counts(store: Store) -> dict[str, int]:
    tables = ("sources", "cdr_records", "queue_log_events", "quarantine", "data_quality", "calls", "queue_legs",
              "agent_legs", "agent_time", "agents")
    return {t: query_rows(store, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in tables}  # noqa: S608


def test_zone_names_of_offsets() -> None:
    assert zone_of_offset("Europe/Moscow", -3 * 3600) == "UTC"  # read as UTC+3, written in UTC
    assert zone_of_offset("UTC", 3 * 3600) == "Etc/GMT-3"  # read as UTC, written in UTC+3
    assert zone_of_offset("UTC", -5 * 3600) == "Etc/GMT+5"
    assert zone_of_offset("UTC", 1800) is None


def test_a_file_read_in_the_wrong_zone_is_a_problem_of_the_import(tmp_path: Path) -> None:
    path = _copy(tmp_path, UTC_WRITTEN)
    with Store(":memory:") as store:
        report = load_file(store, path, Settings(), timezone="Europe/Moscow")
        assert report.quarantined == 0
        assert len(report.problems) == 1
        assert report.problems[0].startswith("times look like UTC: reload with --file-tz UTC")
        assert not report.ok


def test_the_file_zone_is_stored_with_the_source_and_reads_the_times(tmp_path: Path) -> None:
    path = _copy(tmp_path, UTC_WRITTEN)
    with Store(":memory:") as store:
        report = load_file(store, path, Settings(), timezone="UTC")
        assert report.problems == []
        assert query_rows(store, "SELECT timezone FROM sources")[0]["timezone"] == "UTC"
        starts = {r["uniqueid"]: r["start_utc"] for r in query_rows(
            store, "SELECT leg_key AS uniqueid, start_utc FROM cdr_records")}
        assert starts == _uniqueid_starts(path)


def test_ingest_exits_1_naming_the_zone_and_forget_lets_the_file_load_again(tmp_path: Path, cli) -> None:
    path = _copy(tmp_path, UTC_WRITTEN)
    db = tmp_path / "store.duckdb"
    first = cli("ingest", "--db", db, "--tz", "Europe/Moscow", path)
    assert first.exit_code == 1
    assert "times look like UTC: reload with --file-tz UTC (callkpi sources forget 1 first)" in first.output
    assert cli("ingest", "--db", db, "--tz", "Europe/Moscow", "--file-tz", "UTC", path).exit_code == 0  # unchanged
    forgot = cli("sources", "forget", "1", "--db", db)
    assert forgot.exit_code == 0, forgot.output
    assert json.loads(cli("sources", "--db", db, "--format", "json").output) == []
    again = cli("ingest", "--db", db, "--tz", "Europe/Moscow", "--file-tz", "UTC", path)
    assert again.exit_code == 0, again.output
    assert "loaded" in again.output
    listed = json.loads(cli("sources", "--db", db, "--format", "json").output)
    assert [(s["timezone"], s["lines"]) for s in listed] == [("UTC", 5)]
    with Store(db) as store:
        assert query_rows(store, "SELECT count(*) AS n FROM data_quality WHERE kind = 'cdr_clock_offset'")[0]["n"] == 0
        assert query_rows(store, "SELECT value FROM meta WHERE key = 'timezone'")[0]["value"] == "Europe/Moscow"


def test_forget_an_unknown_source_exits_2(tmp_path: Path, cli) -> None:
    result = cli("sources", "forget", "7", "--db", tmp_path / "store.duckdb")
    assert result.exit_code == 2
    assert "no source 7" in result.output


@pytest.mark.parametrize("forgotten", ["mixed.cdr.csv", "mixed.queue_log"])
def test_forgetting_one_of_two_sources_leaves_the_store_as_if_only_the_other_was_loaded(
        tmp_path: Path, forgotten: str) -> None:
    kept = "mixed.queue_log" if forgotten == "mixed.cdr.csv" else "mixed.cdr.csv"
    paths = {name: _copy(tmp_path, name) for name in ("mixed.queue_log", "mixed.cdr.csv")}
    with Store(":memory:") as alone:
        load_file(alone, paths[kept], Settings(), timezone="UTC")
        expected = _table_counts(alone)
        expected_calls = query_rows(alone, "SELECT * FROM calls ORDER BY call_id")
    with Store(":memory:") as both:
        for name in ("mixed.queue_log", "mixed.cdr.csv"):
            load_file(both, paths[name], Settings(), timezone="UTC")
        source_id = query_rows(both, "SELECT source_id FROM sources WHERE path = ?", [str(paths[forgotten])])[0]
        gone = forget_source(both, Settings(), source_id["source_id"])
        assert gone.rows > 0
        counts = _table_counts(both)
        assert {k: v for k, v in counts.items() if k != "sources"} == {
            k: v for k, v in expected.items() if k != "sources"}
        assert query_rows(both, "SELECT * FROM calls ORDER BY call_id") == expected_calls
        # ... and the forgotten file loads again as new
        assert load_file(both, paths[forgotten], Settings(), timezone="UTC").status == "loaded"


@pytest.mark.skipif(not ASTERISK_RU.is_file(), reason=f"real data not found at {ASTERISK_RU}")
def test_real_asterisk_ru_file_is_utc_and_reloads_after_forget(tmp_path: Path) -> None:
    with Store(":memory:") as store:
        wrong = load_file(store, ASTERISK_RU, Settings(), timezone="Europe/Moscow")
        assert [p.split(":")[0] for p in wrong.problems] == ["times look like UTC"]
        forget_source(store, Settings(), 1)
        assert _table_counts(store)["calls"] == 0
        right = load_file(store, ASTERISK_RU, Settings(), timezone="UTC")
        assert right.status == "loaded"
        assert right.problems == []
        assert query_rows(store, "SELECT count(*) AS n FROM data_quality WHERE kind = 'cdr_clock_offset'")[0]["n"] == 0


DEALS_A = """deal_id,created_at,closed_at,status,amount,customer_phone,owner_agent
A1,2026-03-02 10:00,2026-03-03 12:30,won,1500,+7 495 123-45-67,1001
A2,2026-03-02 11:00,,open,,+7 495 765-43-21,1002
A3,2026-03-02 11:00,2026-03-04 10:00,won,abc,,1001
"""
DEALS_B = """deal_id,created_at,closed_at,status,amount,customer_phone,owner_agent
B1,2026-03-02 12:00,2026-03-02 18:00,lost,,+7 495 111-22-33,1002
"""


def _business_state(store: Store) -> dict[str, list[dict]]:
    from callkpi.model.business_schema import BUSINESS_TABLES

    def without_source_id(rows: list[dict]) -> list[dict]:  # ids differ with the load order
        return [{k: v for k, v in row.items() if k != "source_id"} for row in rows]

    return {table.name: without_source_id(query_rows(store, f"SELECT * FROM {table.name} ORDER BY ALL"))  # noqa: S608
            for table in BUSINESS_TABLES} | {
        "quarantine": query_rows(store, "SELECT line_no, reason FROM quarantine ORDER BY ALL")}


def test_forgetting_a_deals_file_leaves_the_store_as_if_only_the_other_was_loaded(tmp_path: Path) -> None:
    first, second = tmp_path / "deals_a.csv", tmp_path / "deals_b.csv"
    first.write_text(DEALS_A, encoding="utf-8")
    second.write_text(DEALS_B, encoding="utf-8")
    calls = _copy(tmp_path, "mixed.queue_log")
    with Store(":memory:") as alone:
        for path in (calls, second):
            load_file(alone, path, Settings(), timezone="UTC")
        expected = _business_state(alone)
    with Store(":memory:") as both:
        for path in (calls, first, second):
            load_file(both, path, Settings(), timezone="UTC")
        assert query_rows(both, "SELECT count(*) AS n FROM quarantine")[0]["n"] == 1  # A3's amount
        source_id = query_rows(both, "SELECT source_id FROM sources WHERE path = ?", [str(first)])[0]["source_id"]
        gone = forget_source(both, Settings(), source_id)
        assert (gone.format, gone.rows, gone.calls_touched) == ("deals", 2, 0)
        assert _business_state(both) == expected
        assert load_file(both, first, Settings(), timezone="UTC").status == "loaded"
