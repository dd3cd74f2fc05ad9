"""KPI rollups give the numbers the raw tables give on the DST days: rolled up by day in
Europe/Berlin, queried in several zones (helpers in test_rollup.py; a file of its own so that the
test workers share out the rollup checks: pytest-xdist hands out whole files)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from test_rollup import GROUPINGS, _queries, _rotated, _scenario_store, assert_same


def test_dst_days_same_with_rollups(tmp_path: Path) -> None:
    """dst_berlin and dst_new_york, rolled up by day in Europe/Berlin, queried in several zones on
    the days around the 2026 spring and autumn changes."""
    days = [(date(2026, 3, 29), date(2026, 3, 29)), (date(2026, 10, 24), date(2026, 10, 26)),
            (date(2026, 3, 28), date(2026, 3, 30)), (date(2026, 10, 25), date(2026, 10, 25)), None]
    grouped = (("day",), ("agent", "day"), ("queue", "interval"), ("hour",), ())
    with _scenario_store(tmp_path, ["dst_berlin.queue_log", "dst_new_york.queue_log"], "Europe/Berlin") as store:
        for query in _queries(grouped, ("Europe/Berlin",), days):
            assert_same(store, query)
        for query in _rotated(GROUPINGS, ("America/New_York", "UTC", "Asia/Kolkata"), days):
            assert_same(store, query)


