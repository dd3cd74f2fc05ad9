"""The analyses beyond the registry's KPIs on ClickHouse (issue 16): the per-source listing, staffing
(who serves a queue, scheduled work), the training effect and the QA review workflow give on chDB (the
ClickHouse engine in-process) what they give on DuckDB over the same loaded data: the hand-made
scenarios, the queue-membership fixture of tests/test_staffing_queue_members.py, the training centre
of tests/test_training_effect_cohorts.py and a small simulated centre (every file the simulator
writes), each loaded into DuckDB and copied with `callkpi copy`'s code. The DuckDB side is the
reference: its own tests check it against hand computations. Skipped when chdb is not installed."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.simulate import simulate
from callkpi.storage import Store
from conftest import SCENARIOS
from test_ratio_bounds import SIMULATED_FILES, small_centre
from test_staffing_queue_members import RU, SERVING, write_log
from test_training_effect_cohorts import write_centre

pytest.importorskip("chdb")

from callkpi.storage.clickhouse import ClickHouseStore
from callkpi.storage.copy import copy_store

Pair = tuple[Store, ClickHouseStore]
# A few of the hand-made scenarios, queue_log and CDR (all of them take most of a minute to load)
SCENARIO_FILES = ("mixed.queue_log", "sessions.queue_log", "growth_part1.queue_log", "growth_part2.queue_log",
                  "acw.queue_log", "mixed.cdr.csv", "ring_members.cdr.csv")


def _load(name: str, work: Path, store: Store) -> None:
    if name == "scenarios":
        for file in SCENARIO_FILES:
            load_file(store, SCENARIOS / file, Settings(), timezone="UTC")
        # the same lines again in another file after a new first one: duplicates naming the first file
        again = work / "again.queue_log"
        again.write_bytes(b"1772440000|c0|sales|NONE|ENTERQUEUE||7|1\nnot a queue_log line\n"
                          + (SCENARIOS / SCENARIO_FILES[0]).read_bytes())
        load_file(store, again, Settings(), timezone="UTC")
    elif name == "members":
        write_log(work / "queue_log")
        load_file(store, work / "queue_log", RU, timezone="UTC")
    elif name == "training":
        for path in write_centre(work).values():
            load_file(store, path, RU, timezone="UTC")
    else:
        scenario = small_centre()
        simulate(scenario, work)
        for file in SIMULATED_FILES:
            load_file(store, work / file, Settings(), timezone=scenario.timezone)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Pair]]:
    """Each dataset in DuckDB and copied to chDB, built once for the module (the QA tests write into
    copies of their own)."""
    base = tmp_path_factory.mktemp("chanalyses")
    opened: dict[str, Pair] = {}
    try:
        for name in ("scenarios", "members", "training", "simulated"):
            work = base / name
            work.mkdir()
            duck = Store(work / "store.duckdb")
            _load(name, work, duck)
            ch = ClickHouseStore(f"chdb://{base / 'ch'}?database={name}")  # chDB: one directory per process
            copy_store(duck, ch)
            opened[name] = (duck, ch)
        yield opened
    finally:
        for duck, ch in opened.values():
            duck.close()
            ch.close()


def same(a: Any, b: Any) -> bool:
    """Equal, floats within 1e-9 relative, through lists, tuples and dicts."""
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        if math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


# -- the per-source listing -----------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["scenarios", "simulated"])
def test_the_source_listing_is_the_same(stores: dict[str, Pair], dataset: str) -> None:
    from callkpi.queries.sources import source_listing

    duck, ch = stores[dataset]
    expected = source_listing(duck)
    assert any(r["calls"] for r in expected)
    if dataset == "scenarios":  # the listing's counts are exercised
        assert any(r["duplicates"] for r in expected) and any(r["quarantined"] for r in expected)
    assert same(source_listing(ch), expected)


# -- staffing -------------------------------------------------------------------------------------------

SLICES = [(None, None), (1969380, None), (None, 1969383), (1969380, 1969392)]  # slice 1969380: 2026-03-02 09:00 UTC


@pytest.mark.parametrize("queues", [("sales",), ("support",), ("sales", "support"), ("nosuch",)])
def test_the_agents_serving_a_queue_are_the_same(stores: dict[str, Pair], queues: tuple[str, ...]) -> None:
    from callkpi.queries.staffing import agents_serving, queue_members

    for dataset in ("members", "training", "simulated"):
        duck, ch = stores[dataset]
        for first, last in SLICES:
            expected = agents_serving(duck, queues, first, last)
            assert agents_serving(ch, queues, first, last) == expected, (dataset, first, last)
            assert queue_members(ch, queues, first, last) == queue_members(duck, queues, first, last)
    duck, _ = stores["members"]
    day = (1969344, 1969344 + 95)  # 2026-03-02 (UTC), where the fixture's hand list holds
    assert agents_serving(duck, ("sales",), *day) == sorted(SERVING["sales"])


def test_the_staffing_analysis_is_the_same(stores: dict[str, Pair]) -> None:
    """The whole analysis (demand, scheduled and logged-in agents) by interval and by typical week."""
    from dataclasses import asdict

    from callkpi.analyses.staffing import Targets, staffing
    from callkpi.config import MetricParams
    from callkpi.queries.staffing import scheduled_work_by_slice

    duck, ch = stores["simulated"]
    params = MetricParams(timezone=small_centre().timezone)
    seconds = scheduled_work_by_slice(duck, None, 0, 10**8)
    assert seconds and scheduled_work_by_slice(ch, None, 0, 10**8) == seconds
    some = sorted({r["agent"] for r in duck.fetch_records("SELECT DISTINCT agent FROM schedules")})[:2]
    assert scheduled_work_by_slice(ch, some, 0, 10**8) == scheduled_work_by_slice(duck, some, 0, 10**8)
    for typical_week in (False, True):
        for queues in ((), ("sales",)):
            expected = asdict(staffing(duck, params, Targets(), queues=queues, typical_week=typical_week))
            assert any(r.get("agents_scheduled") for r in expected["rows"])
            assert same(asdict(staffing(ch, params, Targets(), queues=queues, typical_week=typical_week)), expected)


# -- the training effect --------------------------------------------------------------------------------


def test_the_handle_time_per_call_is_the_same(stores: dict[str, Pair]) -> None:
    """The as-of join of after-call-work pauses to the call that ended last before each."""
    from callkpi.queries.training import handle_time_per_call

    duck, ch = stores["training"]
    expected = sorted(handle_time_per_call(duck, ["ACW"]).to_pylist(), key=lambda r: (r["agent"], r["t"]))
    assert len(expected) > 100 and any(r["v"] != round(r["v"]) or r["v"] > 0 for r in expected)
    found = sorted(handle_time_per_call(ch, ["ACW"]).to_pylist(), key=lambda r: (r["agent"], r["t"]))
    assert same(found, expected)


def test_the_training_effect_is_the_same(stores: dict[str, Pair]) -> None:
    """Every outcome of the training centre's programme: effects, intervals, cells and verdicts."""
    from dataclasses import asdict

    from callkpi.analyses.training_effect import training_effect
    from callkpi.config import MetricParams

    duck, ch = stores["training"]
    params = MetricParams(timezone="UTC", acw_pause_reasons=("ACW",))
    expected = [asdict(e) for e in training_effect(duck, params, window_days=6)]
    assert expected and any(e["effect"] is not None for e in expected)
    found = [asdict(e) for e in training_effect(ch, params, window_days=6)]
    assert same(found, expected)
