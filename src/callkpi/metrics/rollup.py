"""Rollups: the additive measures of the call facts, pre-aggregated and kept up to date by the importers.

Each rollup is a grain of one fact (:mod:`callkpi.metrics.catalogue`): a time bucket and some of the
fact's dimensions. Two grains per fact:

- ``slice``: every 15-minute UTC slice x the fact's dimensions except ``agent`` (any zone, any
  interval, any filter on queue, direction, source, campaign, DID, trunk, pause reason);
- ``day``: every local day of the business time zone x all the fact's dimensions, agent included
  (stored under the number of the day's first slice, so the engine joins it to the calendar as
  it joins raw facts).

The measures are the fact's own registry measures whose aggregate is a count, a sum, a max or a
min (they re-aggregate by sum, sum, max, min); distinct counts and medians are never rolled up.
A measure that depends on where the data ends (FCR leaves out calls whose repeat window is not
over yet) is stored for the data end at refresh time: when an import moves the end, the buckets
within the window before it are recomputed, and the engine uses these values only while the
store's data end is the one they were made for. A measure whose
definition depends on a parameter (service-level threshold, ACW reasons) is stored for the
parameters in effect at import time; the engine uses it only when the query's parameters give
the same expression, and otherwise reads the raw table.

Importers mark what they change (:func:`mark_calls`, :func:`mark_slices`) inside their
transaction; :func:`refresh` then recomputes only the buckets those changes touched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from callkpi.config import MetricParams, Settings, effective_params
from callkpi.metrics.calendar import local_midnight_slice
from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.data_end import data_end_utc
from callkpi.metrics.registry import Context, Fact, Measure, Registry
from callkpi.model.rollup_schema import ROLLUP_TABLE_PREFIX, rollup_table_name
from callkpi.model.schema import SLICE_SECONDS
from callkpi.model.working_tables import ROLLUP_DIRTY, ROLLUP_MAP, ROLLUP_TOUCHED_CALLS
from callkpi.storage import Store
from callkpi.storage.lazy import ibis, ops, pa

TimeGrain = Literal["slice", "day"]
Reaggregation = Literal["sum", "max", "min"]

# Canonical call tables whose facts are rolled up; business facts (deals, surveys...) stay raw.
ROLLED_UP_TABLES: dict[str, str] = {
    "queue_legs": "enter_slice",
    "calls": "start_slice",
    "agent_legs": "offer_slice",
    "agent_time": "slice_id",
}
CALL_TABLES = ("queue_legs", "agent_legs", "calls")
DAY_TIME_DIMENSIONS = frozenset({"day", "week", "month", "weekday"})
PARAMS_KEY = "rollup_params"
DATA_END_KEY = "rollup_data_end"
FINGERPRINT_KEY = "rollup_fingerprint"
BUILT_PARAMS_KEY = "rollup_params_built"  # on ClickHouse: the parameters its own rollups were built for
_MAP = ROLLUP_MAP.name
_DIRTY = ROLLUP_DIRTY.name
_TOUCHED = ROLLUP_TOUCHED_CALLS.name
_SAMPLE_CONTEXTS = (Context(), Context(data_end_utc=datetime(2000, 1, 1)))


@dataclass(frozen=True)
class Grain:
    fact: str
    time: TimeGrain
    dimensions: tuple[str, ...]
    measures: tuple[str, ...]

    @property
    def table(self) -> str:
        return rollup_table_name(self.fact, self.time)


def reaggregation(expr: ibis.Value) -> Reaggregation | None:
    """How partial values of an aggregate combine into the value of a larger group, if they do."""
    op = expr.op()
    if isinstance(op, ops.CountStar | ops.Count | ops.Sum):
        return "sum"
    if isinstance(op, ops.Max):
        return "max"
    if isinstance(op, ops.Min):
        return "min"
    return None


def rolled_up_facts(registry: Registry = REGISTRY) -> list[Fact]:
    return [f for f in registry.facts.values() if type(f) is Fact and f.table in ROLLED_UP_TABLES]


_GRAINS: dict[tuple[int, str], list[Grain]] = {}


def grains(backend: Any, params: MetricParams, registry: Registry = REGISTRY) -> list[Grain]:
    """Every rollup grain of the registry, with the measures it holds (the same for any store)."""
    key = (id(registry), params.model_dump_json())
    if key not in _GRAINS:
        _GRAINS[key] = _grains(backend, params, registry)
    return _GRAINS[key]


def _grains(backend: Any, params: MetricParams, registry: Registry) -> list[Grain]:
    result = []
    for fact in rolled_up_facts(registry):
        table = fact.base(backend)
        measures = tuple(m.id for m in registry.measures.values()
                         if m.fact == fact.id and _rollable(m, table, params))
        if not measures:
            continue
        dims = tuple(fact.dimensions)
        result.append(Grain(fact.id, "slice", tuple(d for d in dims if d != "agent"), measures))
        result.append(Grain(fact.id, "day", dims, measures))
    return result


def _rollable(measure: Measure, table: ibis.Table, params: MetricParams) -> bool:
    return all(reaggregation(measure.aggregate(table, params, c)) is not None for c in _SAMPLE_CONTEXTS)


def depends_on_data_end(measure: Measure, table: ibis.Table, params: MetricParams) -> bool:
    first, second = (measure.aggregate(table, params, context) for context in _SAMPLE_CONTEXTS)
    return not first.equals(second)


def data_context(store: Store) -> Context:
    """What the context-dependent measures need to know about the store: where its calls end."""
    return Context(data_end_utc=data_end_utc(store))


def stored_data_end(store: Store) -> datetime | None:
    """The data end the rollups' context-dependent measures were computed for (None: no calls)."""
    text = store.get_meta(DATA_END_KEY) if store.has_table("meta") else None
    return datetime.fromisoformat(text) if text else None


def same_definition(measure: Measure, table: ibis.Table, stored: MetricParams, asked: MetricParams) -> bool:
    """True when the measure under the query's parameters is the expression the rollup stored."""
    asked, stored = normalized(asked), normalized(stored)
    return all(measure.aggregate(table, asked, context).equals(measure.aggregate(table, stored, context))
               for context in _SAMPLE_CONTEXTS)  # with and without a data end: FCR's window shows in one


def normalized(params: MetricParams) -> MetricParams:
    """The parameters as they read back from JSON (a default of 10 becomes 10.0), so that equal
    values give equal expressions."""
    return _from_json(params.model_dump_json())


@lru_cache(maxsize=64)
def _from_json(text: str) -> MetricParams:
    return MetricParams.model_validate_json(text)


# -- reading ---------------------------------------------------------------------------------


def stored_params(store: Store) -> MetricParams | None:
    """The parameters the rollups were built with, or None when the store has no rollups."""
    if not store.has_table("meta"):
        return None
    text = store.get_meta(PARAMS_KEY)
    return MetricParams.model_validate_json(text) if text else None


def stored_params_text(store: Store) -> str | None:
    return store.get_meta(PARAMS_KEY) if store.has_table("meta") else None


def rollup_sizes(store: Store) -> dict[str, int]:
    return {name: size for name, size in store.table_sizes().items() if name.startswith(ROLLUP_TABLE_PREFIX)}


# -- maintenance -----------------------------------------------------------------------------


def start_tracking(store: Store) -> None:
    store.create_working_table(ROLLUP_DIRTY)
    store.create_working_table(ROLLUP_TOUCHED_CALLS)


def mark_calls(store: Store, call_ids_sql: str, params: Sequence[object] = ()) -> None:
    """Remember calls about to be replaced or updated (``call_ids_sql`` selects their ids; a fixed
    query of the caller, values bound): the buckets of their rows now and after the change are
    recomputed."""
    start_tracking(store)
    store.connection.execute(f"INSERT INTO {_TOUCHED} {call_ids_sql}", list(params))
    _mark_touched_calls(store)


def mark_updated_calls(store: Store, call_ids_sql: str) -> None:
    """Remember calls already updated in place, their rows staying in the same buckets
    (``call_ids_sql`` selects their ids; a fixed query of the caller): :func:`refresh`
    recomputes the buckets they are in."""
    start_tracking(store)
    store.connection.execute(f"INSERT INTO {_TOUCHED} {call_ids_sql}")


def mark_slices(store: Store, table: str, slices_sql: str, params: Sequence[object] = ()) -> None:
    """Remember slices of ``table`` whose rows changed (``slices_sql`` selects slice numbers)."""
    start_tracking(store)
    store.connection.execute(f"INSERT INTO {_DIRTY} SELECT ?, s FROM ({slices_sql}) AS m(s)", [table, *params])  # noqa: S608


def _mark_touched_calls(store: Store) -> None:
    for table in CALL_TABLES:
        column = ROLLED_UP_TABLES[table]
        store.connection.execute(
            f"INSERT INTO {_DIRTY} SELECT DISTINCT ?, {column} FROM {table} t "  # noqa: S608 - names are ours
            f"SEMI JOIN {_TOUCHED} c ON c.call_id = t.call_id",
            [table],
        )


def refresh(store: Store, settings: Settings) -> None:
    """Bring every rollup up to date with what this import changed (inside its transaction)."""
    params = normalized(effective_params(settings, store.get_meta("timezone")))
    all_grains = grains(store.ibis, params)
    fingerprint = _fingerprint(store, all_grains, params)
    context = data_context(store)
    start_tracking(store)
    if store.get_meta(FINGERPRINT_KEY) != fingerprint or not all(store.has_table(g.table) for g in all_grains):
        rebuild(store, params, all_grains, context)
        store.set_meta(FINGERPRINT_KEY, fingerprint)
    else:
        _mark_touched_calls(store)
        _mark_data_end_moves(store, params, stored_data_end(store), context.data_end_utc)
        for grain in all_grains:
            _update(store, grain, params, context)
    store.set_meta(PARAMS_KEY, params.model_dump_json())
    end = context.data_end_utc
    store.set_meta(DATA_END_KEY, end.isoformat() if isinstance(end, datetime) else "")
    store.connection.execute("DELETE FROM rollup_dirty")
    store.connection.execute("DELETE FROM rollup_touched_calls")


def rebuild(
    store: Store, params: MetricParams, all_grains: Iterable[Grain] | None = None, context: Context | None = None
) -> None:
    """Recompute every rollup from the raw tables."""
    context = context or data_context(store)
    for grain in all_grains if all_grains is not None else grains(store.ibis, params):
        fact = REGISTRY.facts[grain.fact]
        lo, hi = store.column_bounds(fact.table, fact.slice_column)
        slices = range(int(lo), int(hi) + 1) if lo is not None and hi is not None else range(0)
        _write_map(store, grain, params, slices)
        store.replace_table_as(grain.table, _aggregate_sql(store, grain, params, context))


# -- on ClickHouse: the same grains, kept by ClickHouse itself ---------------------------------


def build_on_clickhouse(store: Any, params: MetricParams | None = None,
                        facts: Iterable[str] | None = None) -> list[str]:
    """Build a ClickHouse store's rollups in ClickHouse, from its raw tables: each grain's rows are
    the registry's own aggregate query (the one DuckDB's rollups are made of, compiled for
    ClickHouse) inserted into an ``AggregatingMergeTree`` keyed by bucket and dimensions, whose
    values are ``SimpleAggregateFunction(sum|max|min)`` columns (the measure's re-aggregation), and
    swapped in for the old table (``ClickHouseStore.replace_aggregating_table``). ``params``: the
    parameters to build for (by default those the store's rollups were made with, e.g. by the
    DuckDB store it was copied from; none: nothing to build); ``facts``: only the grains of these
    fact tables (the others are kept). Records the parameters and data end the engine checks
    before it reads a rollup. Returns the tables built."""
    params = params if params is not None else stored_params(store)
    if params is None:
        return []
    params = normalized(params)
    tables = set(facts) if facts is not None else None
    context = data_context(store)
    built = []
    for grain in grains(store.ibis, params):
        fact = REGISTRY.facts[grain.fact]
        if tables is not None and fact.table not in tables and store.has_table(grain.table):
            continue
        lo, hi = store.column_bounds(fact.table, fact.slice_column)
        slices = range(int(lo), int(hi) + 1) if lo is not None and hi is not None else range(0)
        _write_map(store, grain, params, slices)
        base = fact.base(store.ibis)
        merges = {m: reaggregation(REGISTRY.measures[m].aggregate(base, params, Context())) or "sum"
                  for m in grain.measures}
        store.replace_aggregating_table(grain.table, store.compile(_aggregate(store, grain, params, context)),
                                        ("slice_id", *grain.dimensions), merges)
        built.append(grain.table)
    store.set_meta(PARAMS_KEY, params.model_dump_json())
    store.set_meta(BUILT_PARAMS_KEY, params.model_dump_json())
    end = context.data_end_utc
    store.set_meta(DATA_END_KEY, end.isoformat() if isinstance(end, datetime) else "")
    return built


def refresh_on_clickhouse(store: Any, changed: Iterable[str]) -> list[str]:
    """After an import into a ClickHouse store changed ``changed`` tables: rebuild the rollups of
    the facts whose tables changed (all of them when the calls did, since the data end moves with
    them, or when the rollups' parameters did; the import's stage recorded the parameters in effect)."""
    changed = set(changed)
    if "calls" in changed or ("meta" in changed and stored_params_text(store) != _built_params_text(store)):
        return build_on_clickhouse(store)
    return build_on_clickhouse(store, facts=changed & set(ROLLED_UP_TABLES))


@contextmanager
def import_into_clickhouse(target: Any) -> Iterator[Store]:
    """An import into a ClickHouse store (:func:`callkpi.storage.clickhouse_ingest.staged_import`:
    loaded in a DuckDB stage, the changed tables swapped in) whose rollups ClickHouse then rebuilds
    itself for the facts that changed (:func:`refresh_on_clickhouse`); the stage's rollups are not
    uploaded."""
    from callkpi.storage.clickhouse_ingest import staged_import

    with staged_import(target, derived=(ROLLUP_TABLE_PREFIX,),
                       on_publish=lambda changed: refresh_on_clickhouse(target, changed)) as stage:
        yield stage


def _built_params_text(store: Any) -> str | None:
    return store.get_meta(BUILT_PARAMS_KEY) if store.has_table("meta") else None


def _mark_data_end_moves(store: Store, params: MetricParams, before: datetime | None, after: object) -> None:
    """When the data end moves, calls near it change whether their FCR window is over: the calls
    slices from the window before the earlier end up to the later end are recomputed."""
    if not isinstance(after, datetime) or before == after:
        return
    earlier, later = (after, after) if before is None else (min(before, after), max(before, after))
    first = int((earlier.replace(tzinfo=UTC).timestamp() - params.fcr_window_h * 3600) // SLICE_SECONDS) - 1
    last = int(later.replace(tzinfo=UTC).timestamp() // SLICE_SECONDS) + 1
    column = ROLLED_UP_TABLES["calls"]
    mark_slices(store, "calls", f"SELECT DISTINCT {column} FROM calls WHERE {column} BETWEEN ? AND ?",  # noqa: S608
                [first, last])


def _update(store: Store, grain: Grain, params: MetricParams, context: Context) -> None:
    fact = REGISTRY.facts[grain.fact]
    rows = store.connection.execute(
        f"SELECT DISTINCT slice FROM {_DIRTY} WHERE tbl = ? AND slice IS NOT NULL", [fact.table]  # noqa: S608
    ).fetchall()
    if not rows:
        return
    _write_map(store, grain, params, sorted(int(r[0]) for r in rows))
    con = store.connection
    con.execute(f'DELETE FROM "{grain.table}" WHERE slice_id IN (SELECT DISTINCT bucket FROM {_MAP})')  # noqa: S608
    con.execute(f'INSERT INTO "{grain.table}" BY NAME {_aggregate_sql(store, grain, params, context)}')


# The SQL of a grain's aggregate, by what it is made from: building and compiling the Ibis expression
# took most of an import of a small file (about 0.1 s per grain, twice per grain and import).
_AGGREGATE_SQL: dict[tuple, str] = {}
_READS_DATA_END: dict[tuple, bool] = {}


def _aggregate_sql(store: Store, grain: Grain, params: MetricParams, context: Context) -> str:
    """The compiled :func:`_aggregate`; kept in memory under the fact table's columns, the
    parameters and the context (the registry is this process's code, the map table the model's)."""
    if getattr(store, "dialect", "duckdb") != "duckdb":
        return store.ibis.compile(_aggregate(store, grain, params, context))
    table = REGISTRY.facts[grain.fact].table
    columns = tuple(store.connection.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = ? ORDER BY column_index", [table]).fetchall())
    shape = (grain, params.model_dump_json(), table, columns)
    if shape not in _READS_DATA_END:
        fact_table = REGISTRY.facts[grain.fact].base(store.ibis)
        _READS_DATA_END[shape] = any(depends_on_data_end(REGISTRY.measures[m], fact_table, params)
                                     for m in grain.measures)
    # A grain none of whose measures reads the data end compiles alike for every data end.
    key = (*shape, context if _READS_DATA_END[shape] else None)
    if not columns or key not in _AGGREGATE_SQL:
        sql = store.ibis.compile(_aggregate(store, grain, params, context))
        if not columns:
            return sql
        _AGGREGATE_SQL[key] = sql
    return _AGGREGATE_SQL[key]


def _aggregate(store: Store, grain: Grain, params: MetricParams, context: Context) -> ibis.Table:
    """The grain's rows for the buckets in the map table, from the fact's own measure definitions."""
    fact = REGISTRY.facts[grain.fact]
    table = fact.base(store.ibis)
    buckets = store.table(_MAP)
    table = table.join(buckets, table[fact.slice_column] == buckets.map_slice)
    keys = {"slice_id": table.bucket, **{d: table[fact.dimensions[d]] for d in grain.dimensions}}
    values = {m: REGISTRY.measures[m].aggregate(table, params, context).cast("float64") for m in grain.measures}
    return table.group_by(**keys).aggregate(**values)


def _write_map(store: Store, grain: Grain, params: MetricParams, slices: Sequence[int] | range) -> None:
    """The temp table map_slice -> bucket for the given slices (whole local days for the day grain)."""
    if grain.time == "slice" or not slices:
        data = pa.table({"map_slice": pa.array(slices, pa.int64()), "bucket": pa.array(slices, pa.int64())})
    else:
        data = _day_map(params.timezone, slices)
    store.create_working_table(ROLLUP_MAP, empty=True)
    if getattr(store, "dialect", "duckdb") != "duckdb":  # a temporary table of the ClickHouse session
        store.append_arrow(_MAP, data)
        return
    con = store.connection
    con.register("rollup_map_arrow", data)
    try:
        con.execute(f"INSERT INTO {_MAP} SELECT map_slice, bucket FROM rollup_map_arrow")  # noqa: S608
    finally:
        con.unregister("rollup_map_arrow")


def _day_map(timezone: str, slices: Sequence[int] | range) -> pa.Table:
    days = sorted({_local_day(s, timezone) for s in _day_probes(slices)})
    firsts, buckets = [], []
    for day in days:
        start = local_midnight_slice(day, timezone)
        end = local_midnight_slice(date.fromordinal(day.toordinal() + 1), timezone)
        firsts.extend(range(start, end))
        buckets.extend([start] * (end - start))
    return pa.table({"map_slice": pa.array(firsts, pa.int64()), "bucket": pa.array(buckets, pa.int64())})


def _day_probes(slices: Sequence[int] | range) -> Iterable[int]:
    # A full range needs one probe per 8 hours only (every day is at least 23 hours long).
    if isinstance(slices, range):
        return [*range(slices.start, slices.stop, 32), slices.stop - 1]
    return slices


def _local_day(slice_id: int, timezone: str) -> date:
    return datetime.fromtimestamp(slice_id * SLICE_SECONDS, UTC).astimezone(ZoneInfo(timezone)).date()


def _fingerprint(store: Store, all_grains: Sequence[Grain], params: MetricParams) -> str:
    """Changes when a rolled-up definition, a parameter value it uses or the business zone changes."""
    _write_map(store, Grain("", "slice", (), ()), params, [])
    digest = hashlib.sha256(params.timezone.encode())
    for grain in all_grains:
        digest.update(repr(grain).encode())
        # The sample context: a new data end is handled by refresh, it must not force a rebuild.
        digest.update(_aggregate_sql(store, grain, params, _SAMPLE_CONTEXTS[0]).encode())
    return digest.hexdigest()
