"""KPI rollups give the numbers the raw tables give over every hand-made scenario file loaded into
one store (every grouping in two zones; the DST days: test_rollup_dst.py). Helpers in
test_rollup.py; a file of its own so that the test workers share out the rollup checks
(pytest-xdist hands out whole files)."""

from __future__ import annotations

from pathlib import Path

from test_rollup import GROUPINGS, SCENARIO_NAMES, _queries, _scenario_store, assert_same


def test_all_scenarios_same_with_rollups(tmp_path: Path) -> None:
    """Every scenario file, loaded one after the other into one store, every grouping in two zones."""
    with _scenario_store(tmp_path, SCENARIO_NAMES) as store:
        for query in _queries(GROUPINGS, ("UTC", "Europe/Berlin"), (None,)):
            assert_same(store, query)
