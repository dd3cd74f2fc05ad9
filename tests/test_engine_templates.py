"""The SQL of a query shape is compiled once and survives new data: an import that appends calls
(and moves the data end that FCR waits for) reuses it with the new values bound."""

from __future__ import annotations

from pathlib import Path

import pytest

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.metrics import engine
from callkpi.metrics.engine import KpiQuery, compute
from callkpi.storage import Store
from conftest import scenario_text, write_log

QUERIES = (KpiQuery(), KpiQuery(by=("day",)), KpiQuery(by=("agent", "interval")),
           KpiQuery(metrics=("fcr_rate", "calls_offered")))


def _rows(store: Store) -> list[list[dict]]:
    return [compute(store, query).rows for query in QUERIES]


def test_appended_calls_reuse_the_compiled_queries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[KpiQuery] = []
    original = engine._template

    def counting(store, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        compiled.append(query)
        return original(store, query, *args, **kwargs)

    monkeypatch.setattr(engine, "_template", counting)
    monkeypatch.setenv("CALLKPI_CACHE_DIR", "off")  # compiled here, not read from the run's kept SQL
    log = write_log(tmp_path, scenario_text("growth_part1.queue_log"), "queue_log")
    with Store(tmp_path / "grows.duckdb") as store:
        load_file(store, log, Settings(), timezone="UTC")
        before = _rows(store)
        first_compiles = len(compiled)
        assert first_compiles == len(QUERIES)
        with log.open("a", encoding="utf-8") as handle:
            handle.write(scenario_text("growth_part2.queue_log"))
        assert load_file(store, log, Settings(), timezone="UTC").status == "appended"
        after = _rows(store)
        assert len(compiled) == first_compiles, "new data within the calendar block must not recompile"
    assert after[0][0]["calls_offered"] > before[0][0]["calls_offered"]
    whole = write_log(tmp_path / "whole", "", "queue_log") if (tmp_path / "whole").mkdir() is None else None
    assert whole is not None
    whole.write_text(scenario_text("growth_part1.queue_log") + scenario_text("growth_part2.queue_log"))
    with Store(tmp_path / "whole.duckdb") as fresh:
        load_file(fresh, whole, Settings(), timezone="UTC")
        assert _rows(fresh) == after


def test_the_data_end_is_bound_not_compiled_in(tmp_path: Path) -> None:
    with Store(tmp_path / "fcr.duckdb") as store:
        load_file(store, write_log(tmp_path, scenario_text("fcr.queue_log"), "fcr"), Settings(), timezone="UTC")
        compute(store, KpiQuery(metrics=("fcr_rate",)), rollups=False)
        sql = [t.sql for t in engine._TEMPLATES.values() if t.sql and "$data_end" in t.sql]
        assert sql, "FCR's window end should be a bound parameter"
