"""Rollups kept by ClickHouse itself (issue 16, item 4): built in ClickHouse from its raw tables as
AggregatingMergeTree tables (callkpi.metrics.rollup.build_on_clickhouse), after a copy and after each
import, and read by the engine where they answer a query, with the numbers the raw tables give, as
tests/test_rollup.py checks DuckDB's. Over the hand-made scenarios (DST days included) and a small
simulated centre, loaded into DuckDB and copied to chDB (the ClickHouse engine in-process). Skipped
when chdb is not installed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from callkpi.config import MetricParams, Settings
from callkpi.ingest.formats import load_file
from callkpi.metrics import rollup
from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.engine import KpiQuery, compute
from callkpi.storage import Store
from conftest import SCENARIOS
from test_clickhouse_analyses import load_dataset
from test_rollup import _plan, _same

pytest.importorskip("chdb")

from callkpi.storage.clickhouse import ClickHouseStore
from callkpi.storage.copy import copy_store

Pair = tuple[Store, ClickHouseStore]
UNMERGED_ROWS = "SELECT count() FROM rollup_queue_legs_day SETTINGS final = 0"  # the rows of every part
DST_FILES = ("dst_berlin.queue_log", "dst_new_york.queue_log", "acw.queue_log", "transfers.queue_log")


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Pair]]:
    base = tmp_path_factory.mktemp("chrollup")
    opened: dict[str, Pair] = {}
    try:
        for name in ("dst", "simulated"):
            work = base / name
            work.mkdir()
            duck = Store(work / "store.duckdb")
            if name == "dst":
                duck.set_meta("timezone", "Europe/Berlin")  # the day rollups are of Berlin's days
                for file in DST_FILES:
                    load_file(duck, SCENARIOS / file, Settings(), timezone="UTC")
            else:
                load_dataset(name, work, duck)
            ch = ClickHouseStore(f"chdb://{base / 'ch'}?database={name}")  # chDB: one directory per process
            copy_store(duck, ch)
            assert rollup.build_on_clickhouse(ch)
            opened[name] = (duck, ch)
        yield opened
    finally:
        for duck, ch in opened.values():
            duck.close()
            ch.close()


def rollup_rows(store: Store | ClickHouseStore, table: str) -> list[tuple]:
    rows = store.fetch_all(f'SELECT * FROM "{table}"')  # noqa: S608 - our table names
    rounded = [tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows]
    return sorted(rounded, key=lambda r: tuple((v is None, str(v)) for v in r))


def assert_same(store: ClickHouseStore, query: KpiQuery) -> None:
    """The engine's answer with ClickHouse's rollups equals its answer from the raw tables."""
    rolled, raw = compute(store, query), compute(store, query, rollups=False)
    assert rolled.metrics == raw.metrics and len(rolled.rows) == len(raw.rows), query
    for got, want in zip(rolled.rows, raw.rows, strict=True):
        assert got.keys() == want.keys()
        for key, value in want.items():
            assert _same(got[key], value), (query, key, got[key], value)
    assert rolled.notes == raw.notes


@pytest.mark.parametrize("dataset", ["dst", "simulated"])
def test_clickhouse_keeps_its_rollups_in_aggregating_merge_trees(stores: dict[str, Pair], dataset: str) -> None:
    """Every grain is an AggregatingMergeTree of SimpleAggregateFunction columns, with the rows
    DuckDB's rollup of the same data holds (each built from its own raw tables)."""
    duck, ch = stores[dataset]
    names = sorted(rollup.rollup_sizes(duck))
    assert names and sorted(rollup.rollup_sizes(ch)) == names
    for name in names:
        assert ch.table_engine(name) == "AggregatingMergeTree", name
        kinds = {t for (t,) in ch.fetch_all("SELECT type FROM system.columns WHERE database = currentDatabase() "
                                            "AND table = ?", [name])}
        assert any(k.startswith("SimpleAggregateFunction(") for k in kinds), name
        assert rollup_rows(ch, name) == rollup_rows(duck, name), name


def test_the_engine_reads_clickhouse_rollups(stores: dict[str, Pair]) -> None:
    _, ch = stores["dst"]
    berlin = KpiQuery(by=("agent", "day"), params=MetricParams(timezone="Europe/Berlin"))
    plan = _plan(ch, berlin)  # type: ignore[arg-type]
    assert plan is not None
    part = plan.part(REGISTRY.facts["queue_legs"], ["ql_offered", "ql_answered"])
    assert part is not None and part[1] == {"ql_offered", "ql_answered"}
    assert "rollup_queue_legs_day" in ch.compile(part[0])


# Rolled-up measures of every fact (queue legs, calls, agent legs, agent time, pauses)
METRICS = ("calls_offered", "answer_rate", "service_level", "asa_s", "max_wait_s", "aht_s", "logged_in_s",
           "occupancy", "fcr_rate", "transfers", "paused_s", "calls_inbound")


@pytest.mark.parametrize(("by", "metrics"), [
    (("queue", "direction", "day"), tuple(REGISTRY.metrics)),  # every metric, by grouping beyond the
    (("weekday", "time_of_day"), METRICS),                     # conformance suite's (one dimension,
])                                                             # agent x day, queue x interval)
def test_groupings_same_with_clickhouse_rollups(stores: dict[str, Pair], by: tuple[str, ...],
                                                metrics: tuple[str, ...]) -> None:
    _, ch = stores["simulated"]
    assert_same(ch, KpiQuery(by=by, metrics=metrics, params=MetricParams(timezone=rollup.stored_params(ch).timezone)))


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])  # the DST days of the fixture
def test_dst_zones_dates_and_filters_same_with_clickhouse_rollups(stores: dict[str, Pair], zone: str) -> None:
    _, ch = stores["dst"]
    params = MetricParams(timezone=zone)
    metrics = METRICS
    for by in (("day",), ("agent", "week")):
        assert_same(ch, KpiQuery(by=by, params=params, metrics=metrics, date_from=date(2026, 3, 28),
                                 date_to=date(2026, 3, 30)))
    assert_same(ch, KpiQuery(by=("agent",), filters={"queue": ("support",)}, params=params, metrics=metrics))
    other_sl = params.model_copy(update={"sl_threshold_s": 7})  # another definition: read from the raw tables
    assert_same(ch, KpiQuery(by=("day",), params=other_sl, metrics=metrics))


def test_parts_not_merged_yet_answer_as_merged(stores: dict[str, Pair]) -> None:
    """The rows of one key spread over parts (as after inserts, before ClickHouse merges them) count as
    one row re-aggregated by each column's function: the rollup's rows inserted again double every
    sum and leave every max, before and after OPTIMIZE merges them; a rebuild restores the rollup."""
    _, ch = stores["simulated"]
    query = KpiQuery(by=("queue", "day"), metrics=("calls_offered", "calls_answered", "max_wait_s", "asa_s"),
                     params=MetricParams(timezone=rollup.stored_params(ch).timezone))
    before = compute(ch, query).rows
    table = "rollup_queue_legs_day"
    merged = ch.row_count(table)
    ch.command("INSERT INTO rollup_queue_legs_day SELECT * FROM rollup_queue_legs_day")  # a part, the same keys
    assert ch.fetch_all(UNMERGED_ROWS)[0][0] == 2 * merged
    for step in ("parts", "merged"):
        if step == "merged":
            ch.command("OPTIMIZE TABLE rollup_queue_legs_day FINAL")
            assert ch.fetch_all(UNMERGED_ROWS)[0][0] == merged
        after = compute(ch, query).rows
        assert [r["calls_offered"] for r in after] == [2 * r["calls_offered"] for r in before], step
        assert [r["max_wait_s"] for r in after] == [r["max_wait_s"] for r in before], step
        assert all(_same(a["asa_s"], b["asa_s"]) for a, b in zip(after, before, strict=True)), step
    assert rollup.build_on_clickhouse(ch, facts=["queue_legs"]) == ["rollup_queue_legs_slice", table]
    assert compute(ch, query).rows == before
