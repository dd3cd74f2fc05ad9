"""A query by a time dimension over facts whose tables carry a column of that name (staff_days.day)
besides the calendar's: the parts of the query must still merge (was a 500 of GET /api/v1/kpi?by=day)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.storage import Store
from conftest import T0, by_key, kpis, ql_line

STAFF = """agent,name,team,hired,left,leave_reason
101,Anna,sales,2026-03-01,,
102,Boris,sales,2026-03-03,,
"""
DAY = 86_400


def _load(store: Store, directory: Path) -> None:
    log = "\n".join([
        ql_line(T0, "c1", "sales", "NONE", "ENTERQUEUE", "", "5550001", "1"),
        ql_line(T0 + 10, "c1", "sales", "SIP/101", "CONNECT", "10", "c1b", "3"),
        ql_line(T0 + 70, "c1", "sales", "SIP/101", "COMPLETECALLER", "10", "60", "1"),
    ]) + "\n"
    (directory / "queue_log").write_text(log, encoding="utf-8")
    (directory / "staff.csv").write_text(STAFF, encoding="utf-8")
    for name in ("queue_log", "staff.csv"):
        load_file(store, directory / name, Settings(), timezone="UTC")


def test_default_metrics_by_day_merge_staff_days_and_queue_legs(store: Store, tmp_path: Path) -> None:
    """2026-03-02 (T0's day): Anna employed (1 person-day), one call offered and answered.
    2026-03-03: Anna and Boris employed (2), no call."""
    _load(store, tmp_path)
    days = by_key(kpis(store, ["day"], date_from=date(2026, 3, 2), date_to=date(2026, 3, 3)), "day")
    assert {day: (row["headcount_avg"], row["calls_offered"]) for day, row in days.items()} == {
        "2026-03-02": (1.0, 1), "2026-03-03": (2.0, 0)}


def test_default_metrics_by_agent_and_day(store: Store, tmp_path: Path) -> None:
    """By agent and day: 101 has the call and a person-day on 2026-03-02."""
    _load(store, tmp_path)
    rows = kpis(store, ["agent", "day"], date_from=date(2026, 3, 2), date_to=date(2026, 3, 2))
    assert any(row["agent"] == "101" and row["day"] == "2026-03-02" and row["calls_handled"] == 1 for row in rows), rows
