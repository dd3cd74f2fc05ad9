"""`callkpi kpi` piped: the TSV of a large report is written column by column
(callkpi.report.tables.columns_to_tsv), with the same text as the row-by-row writer (to_tsv)."""

from __future__ import annotations

import math
from datetime import date, datetime

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.metrics.engine import KpiQuery, compute
from callkpi.report.tables import columns_to_tsv, to_tsv
from callkpi.storage import Store
from conftest import scenario_text, write_log


def test_by_column_and_by_row_give_the_same_tsv() -> None:
    rows = [
        {"agent": "1001", "calls": 3, "rate": 0.5, "ok": True, "day": date(2026, 3, 2), "at": datetime(2026, 3, 2, 9),
         "tags": ["a", "b"]},
        {"agent": "with\ttab\nand line", "calls": None, "rate": math.nan, "ok": None, "day": None, "at": None,
         "tags": None},
        {"agent": None, "calls": 10**15, "rate": 1e-12, "ok": False, "day": date(2026, 3, 3), "at": None,
         "tags": []},
    ]
    names = list(rows[0])
    columns = {name: [row[name] for row in rows] for name in names}
    assert columns_to_tsv(names, columns) == to_tsv(rows, names)
    assert columns_to_tsv(names, {name: [] for name in names}) == to_tsv([], names)


def test_a_kpi_result_by_column_is_its_rows(tmp_path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        load_file(store, write_log(tmp_path, scenario_text("answered.queue_log"), "queue_log"), Settings(),
                  timezone="UTC")
    with Store(tmp_path / "s.duckdb", read_only=True) as store:
        for arrow in (False, True):
            result = compute(store, KpiQuery(by=("agent", "day")), arrow=arrow)
            names = [*result.dimensions, *result.metrics]
            by_column = result.columns()
            assert list(by_column) == names
            assert columns_to_tsv(names, by_column) == to_tsv(result.rows, names)
