"""The conformance datasets together (tests/test_engine_conformance*.py) give most metrics of the
registry a value somewhere, not only null: else the engines would agree on nothing. Read on DuckDB
(the conformance tests hold ClickHouse to the same values)."""

from __future__ import annotations

from pathlib import Path

from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.engine import compute
from callkpi.storage import Store
from test_engine_conformance import DATASETS, VARIANTS, _load_dataset, _query


def test_the_suite_exercises_the_registry(tmp_path: Path) -> None:
    valued: set[str] = set()
    for dataset in DATASETS:
        work = tmp_path / dataset
        work.mkdir()
        with Store(work / "store.duckdb") as duck:
            _load_dataset(dataset, work, duck)
            query, _ = _query(VARIANTS["by_agent"])
            rows = compute(duck, query).rows
        valued |= {m for r in rows for m, v in r.items() if v is not None and m in REGISTRY.metrics}
    never = sorted(set(REGISTRY.metrics) - valued)
    assert len(never) <= len(REGISTRY.metrics) // 10, f"never a value in the fixtures: {never}"
