"""Conformance (issue 16): every metric of the registry gives the same result on DuckDB and on
ClickHouse (chDB, the ClickHouse engine in-process, through the same SQL a server gets), by every
dimension, with filters, dates and parameter variants, over the same loaded data: the hand-made
scenarios (queue_log and CDR) and a small simulated centre (every file the simulator writes),
loaded into DuckDB and copied with `callkpi copy`'s code.

A metric listed in callkpi.metrics.backends.CLICKHOUSE_UNSUPPORTED must differ (else it is to be
taken off the list); every other one must agree. Skipped when chdb is not installed.

One file per dataset, so that the test workers share them out (pytest-xdist hands out whole files):
the hand-made queue_log scenarios here, the CDR scenarios in test_engine_conformance_cdr.py, the
simulated centre in test_engine_conformance_simulated.py; whether the datasets together give most
metrics a value: test_engine_conformance_registry.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from callkpi.config import MetricParams, Settings
from callkpi.ingest.formats import load_file
from callkpi.metrics.backends import CLICKHOUSE_UNSUPPORTED
from callkpi.metrics.catalogue import DIMENSIONS, REGISTRY
from callkpi.metrics.engine import KpiQuery, KpiResult, QueryError, compute
from callkpi.metrics.rollup import build_on_clickhouse
from callkpi.simulate import simulate
from callkpi.storage import Store
from conftest import SCENARIOS
from test_ratio_bounds import SIMULATED_FILES, small_centre

pytest.importorskip("chdb")

from callkpi.storage.clickhouse import ClickHouseStore
from callkpi.storage.copy import copy_store

DATASETS = ("scenarios_queue_log", "scenarios_cdr", "simulated")
REL, ABS = 1e-9, 1e-6
BY = [(), *[(d,) for d in DIMENSIONS], ("agent", "day"), ("queue", "interval")]


def _variants() -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = [(f"by_{'_'.join(by) or 'total'}", {"by": by}) for by in BY]
    out += [
        ("raw_by_agent", {"by": ("agent",), "rollups": False}),
        ("raw_by_day", {"by": ("day",), "rollups": False}),
        ("filtered_dates", {"by": ("queue",), "filters": {"queue": ("sales", "support", "q1", "Q1")},
                            "date_from": date(2026, 3, 2), "date_to": date(2026, 3, 3)}),
        ("filtered_agent_team", {"by": ("day",), "filters": {"agent": ("1001", "1002", "Agent/1001")}}),
        ("params_sl30_tz_ny", {"by": ("day", "hour"), "params": {"sl_threshold_s": 30, "sl_variant": "answered",
                                                                   "timezone": "America/New_York"}}),
        ("params_interval60_short", {"by": ("interval",), "params": {"interval_minutes": 60, "short_abandon_s": 0,
                                                                     "short_call_s": 30, "fcr_window_h": 2}}),
    ]
    return out


VARIANTS = dict(_variants())


def _load_dataset(name: str, work: Path, store: Store) -> None:
    if name == "simulated":
        scenario = small_centre()
        simulate(scenario, work)
        for file in SIMULATED_FILES:
            load_file(store, work / file, Settings(), timezone=scenario.timezone)
        return
    suffix = ".queue_log" if name == "scenarios_queue_log" else ".cdr.csv"
    for path in sorted(SCENARIOS.glob(f"*{suffix}")):
        load_file(store, path, Settings(), timezone="UTC")
    if name == "scenarios_queue_log":  # the hand-marked transcripts (tests/test_speech.py): the speech KPIs
        load_file(store, SCENARIOS.parent / "transcripts" / "marked.json", Settings(), timezone="UTC")


def open_stores(base: Path, datasets: tuple[str, ...],
                load: Callable[[str, Path, Store], None] | None = None,
                clickhouse_rollups: bool = True) -> Iterator[dict[str, tuple[Store, ClickHouseStore]]]:
    """Each dataset loaded into DuckDB (by ``load``, default the conformance datasets) and copied
    into chDB, closed after use."""
    opened: dict[str, tuple[Store, ClickHouseStore]] = {}
    try:
        for name in datasets:
            work = base / name
            work.mkdir()
            duck = Store(work / "store.duckdb")
            (load or _load_dataset)(name, work, duck)
            ch = ClickHouseStore(f"chdb://{base / 'ch'}?database={name}")  # chDB: one directory per process
            copy_store(duck, ch)
            if clickhouse_rollups:
                build_on_clickhouse(ch)  # the rollups ClickHouse keeps itself, not DuckDB's copied
            opened[name] = (duck, ch)
        yield opened
    finally:
        for duck, ch in opened.values():
            duck.close()
            ch.close()


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Store, ClickHouseStore]]]:
    yield from open_stores(tmp_path_factory.mktemp("conformance"), ("scenarios_queue_log",))


def _query(variant: dict[str, Any]) -> tuple[KpiQuery, bool]:
    params = MetricParams(**variant.get("params", {}))
    query = KpiQuery(by=variant["by"], date_from=variant.get("date_from"), date_to=variant.get("date_to"),
                     filters=variant.get("filters", {}), metrics=tuple(REGISTRY.metrics), params=params)
    return query, variant.get("rollups", True)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=REL, abs_tol=ABS)  # type: ignore[arg-type]
    return a == b


def differing_metrics(duck: KpiResult, ch: KpiResult) -> dict[str, str]:
    """metric -> the first difference (a row missing on one side counts for every metric)."""
    by = duck.dimensions
    keyed = [{tuple(r[d] for d in by): r for r in result.rows} for result in (duck, ch)]
    if keyed[0].keys() != keyed[1].keys():
        missing = sorted(map(str, keyed[0].keys() ^ keyed[1].keys()))[:3]
        return dict.fromkeys(duck.metrics, f"groups differ: {missing}")
    out: dict[str, str] = {}
    for key, row in keyed[0].items():
        other = keyed[1][key]
        for metric in duck.metrics:
            if metric not in out and not _same(row[metric], other[metric]):
                out[metric] = f"{key}: duckdb {row[metric]!r} clickhouse {other[metric]!r}"
    return out


def _results(stores: dict[str, tuple[Store, ClickHouseStore]], dataset: str, variant: str
             ) -> tuple[KpiResult, KpiResult] | None:
    duck, ch = stores[dataset]
    query, rollups = _query(VARIANTS[variant])
    try:
        on_duck = compute(duck, query, rollups=rollups)
    except QueryError:
        return None
    return on_duck, compute(ch, query, rollups=rollups)


def check_both_engines(stores: dict[str, tuple[Store, ClickHouseStore]], dataset: str, variant: str) -> None:
    """Every metric the same on DuckDB and ClickHouse, but those listed as unsupported there."""
    results = _results(stores, dataset, variant)
    if results is None:
        pytest.skip("the query is refused on both engines alike")
    on_duck, on_ch = results
    assert on_ch.metrics == on_duck.metrics and on_ch.dimensions == on_duck.dimensions
    differing = differing_metrics(on_duck, on_ch)
    wrong = {m: why for m, why in differing.items() if m not in CLICKHOUSE_UNSUPPORTED}
    assert not wrong, f"{len(wrong)} metrics differ on ClickHouse: {wrong}"
    agreeing = [m for m in CLICKHOUSE_UNSUPPORTED if m in on_duck.metrics and m not in differing
                and any(r[m] is not None for r in on_duck.rows)]
    assert not agreeing, f"listed as unsupported on ClickHouse but equal: {agreeing}"
    assert on_ch.notes == on_duck.notes


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_metric_is_the_same_on_both_engines(stores: dict, variant: str) -> None:
    check_both_engines(stores, "scenarios_queue_log", variant)
