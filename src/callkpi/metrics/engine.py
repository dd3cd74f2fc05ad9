"""Compute KPIs: the only way any surface (CLI, web, API, exports) gets a number.

For each fact the requested measures are aggregated by the requested dimensions; the partial
results are stacked and merged by dimension, and each metric's formula is applied to the merged
measures. Everything is one Ibis expression, executed by the store's engine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any, Literal

from callkpi.config import MetricParams
from callkpi.metrics import backends, rollup, templates
from callkpi.metrics.calendar import TIME_DIMENSIONS, calendar_sql, calendar_table, slice_range
from callkpi.metrics.catalogue import DIMENSIONS, REGISTRY
from callkpi.metrics.registry import Context, Fact, Metric, Registry
from callkpi.storage import Store
from callkpi.storage.lazy import ibis, ops, pa, pc

FILTERABLE = ("agent", "team", "queue", "campaign", "direction", "source", "pause_reason", "did", "trunk")


class QueryError(ValueError):
    """The request cannot be answered as asked (unknown metric, dimension, bad range)."""


@dataclass(frozen=True)
class KpiQuery:
    by: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    metrics: tuple[str, ...] | None = None
    params: MetricParams = field(default_factory=MetricParams)


class KpiResult:
    """The answer of a query: ``table`` as computed (Arrow), ``rows`` as dicts, made on first use
    (a surface that shows one page of a large result, or writes it as a file, never pays for all).

    A result read back as Python rows (``compute(..., arrow=False)``: a command printing a small
    report) holds those and makes the Arrow table only if it is asked for."""

    def __init__(self, dimensions: tuple[str, ...], metrics: tuple[str, ...], table: pa.Table | _Columns,
                 notes: list[str], params: MetricParams) -> None:
        self.dimensions = dimensions
        self.metrics = metrics
        self._data = table
        self.notes = notes
        self.params = params

    @cached_property
    def table(self) -> pa.Table:
        return self._data.to_arrow() if isinstance(self._data, _Columns) else self._data

    @cached_property
    def rows(self) -> list[dict[str, Any]]:
        return self._data.rows() if isinstance(self._data, _Columns) else _rows(self._data)

    def columns(self) -> dict[str, list[Any]]:
        """The result by column, each a list of Python values (a large result written as TSV is
        written column by column: quicker than a dict per row)."""
        if "rows" in self.__dict__:
            names = list(self.dimensions) + list(self.metrics)
            return {name: [row.get(name) for row in self.rows] for name in names}
        return self._data.column_lists() if isinstance(self._data, _Columns) else _column_lists(self._data)

    @property
    def num_rows(self) -> int:
        return self._data.num_rows

    def row_slice(self, offset: int, limit: int) -> list[dict[str, Any]]:
        """Rows ``offset`` to ``offset + limit`` as dicts (one page, without making all rows)."""
        if isinstance(self._data, _Columns):
            return self.rows[offset:offset + limit]
        return _rows(self._data.slice(offset, limit))

    def definitions(self, registry: Registry = REGISTRY) -> list[Metric]:
        return [registry.metrics[m] for m in self.metrics]


class _Columns:
    """A result as Python lists by column (DuckDB's ``fetchall``): for a report of a few rows, Arrow
    (and NumPy under it) would cost more to import than the query takes. It answers what the
    engine asks of a result (:func:`_nan_as_null`, the probes, the notes) like an Arrow table."""

    def __init__(self, names: Sequence[str], types: Sequence[str], rows: Sequence[tuple]) -> None:
        self.column_names = list(names)
        self.types = dict(zip(names, types, strict=True))
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        self.columns = {name: list(values) for name, values in zip(names, columns, strict=True)}
        self.num_rows = len(rows)

    def __getitem__(self, name: str) -> list[Any]:
        return self.columns[name]

    def drop_columns(self, names: Iterable[str]) -> _Columns:
        for name in names:
            self.column_names.remove(name)
            del self.columns[name], self.types[name]
        return self

    def column_lists(self) -> dict[str, list[Any]]:
        """The columns in order, times as ISO text (as :meth:`rows` has them)."""
        return {name: self.columns[name] if self.types[name] in _NUMERIC_DUCKDB
                else [v.isoformat() if isinstance(v, datetime) else v for v in self.columns[name]]
                for name in self.column_names}

    def rows(self) -> list[dict[str, Any]]:
        values = self.column_lists()
        return [dict(zip(values, row, strict=True)) for row in zip(*values.values(), strict=True)]

    def to_arrow(self) -> pa.Table:
        arrays = {}
        for name in self.column_names:
            kind = _ARROW_OF_DUCKDB.get(self.types[name])
            arrays[name] = pa.array(self.columns[name], type=getattr(pa, kind)() if kind else None)
        return pa.table(arrays)


_NUMERIC_DUCKDB = frozenset({"DOUBLE", "FLOAT", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "BOOLEAN"})
# DuckDB's names of the types a KPI column has, and Arrow's (what DuckDB's own Arrow export gives)
_ARROW_OF_DUCKDB = {"DOUBLE": "float64", "FLOAT": "float32", "BIGINT": "int64", "INTEGER": "int32",
                    "SMALLINT": "int16", "TINYINT": "int8", "BOOLEAN": "bool_", "VARCHAR": "string",
                    "DATE": "date32"}


def validate(query: KpiQuery, registry: Registry = REGISTRY) -> None:
    unknown_dims = [d for d in query.by if d not in DIMENSIONS]
    if unknown_dims:
        raise QueryError(f"unknown dimension(s): {', '.join(unknown_dims)}; known: {', '.join(DIMENSIONS)}")
    if len(set(query.by)) != len(query.by):
        raise QueryError("a dimension is repeated in --by")
    unknown_filters = [f for f in query.filters if f not in FILTERABLE]
    if unknown_filters:
        raise QueryError(f"cannot filter on {', '.join(unknown_filters)}")
    unknown = [m for m in query.metrics or () if m not in registry.metrics]
    if unknown:
        raise QueryError(f"unknown metric(s): {', '.join(unknown)}; see `callkpi metrics`")
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise QueryError("--from is after --to")


def prepare(store: Store) -> None:
    """Load what a process's first query would otherwise load on the way (the store's Ibis backend,
    Arrow's compute kernels), so that a server does it at start-up, not in its first request."""
    _ = store.ibis
    _nan_as_null(pa.table({"value": pa.array([0.0])}))


def available_metrics(store: Store, registry: Registry = REGISTRY) -> tuple[str, ...]:
    """Metrics whose facts have data in the store, in catalogue order."""
    tables = {f.table for f in registry.facts.values()}
    batch = getattr(store, "tables_with_rows", None)  # one query on DuckDB, a query per table elsewhere
    filled = batch(tables) if batch else {name for name in tables if store.has_rows(name)}
    return tuple(
        metric.id
        for metric in registry.metrics.values()
        if all(registry.facts[f].table in filled for f in registry.facts_of(metric))
    )


def compute(store: Store, query: KpiQuery, registry: Registry = REGISTRY, *, rollups: bool = True,
            arrow: bool = True) -> KpiResult:
    """The query's KPIs; additive measures come from the rollups where they answer the query exactly
    (``rollups=False`` reads only the raw tables, e.g. to check the rollups). ``arrow=False`` reads
    the result back as Python rows where it can (a command printing a report: no Arrow import).

    The SQL of a query is kept per *shape* (everything but the filter values and the dates, for
    one version of the data), so asking again for another day, queue or agent skips building and
    compiling the expression: the values are bound as parameters."""
    validate(query, registry)
    metric_ids, metrics, context, template = _template_of(store, query, registry, rollups)
    assert template is not None
    notes = list(template.notes)
    if template.sql is None:
        return KpiResult(query.by, tuple(metric_ids), _Columns([], [], []), notes, query.params)
    for name, calendar in template.calendars.items():
        _register_calendar(store, name, calendar)
    values = _bound_values(query, template.placeholders, context)
    if not arrow and store.dialect == "duckdb":
        table: pa.Table | _Columns = _nan_as_null(_Columns(*store.query_rows(template.sql, values)))
    else:
        table = _nan_as_null(store.query_arrow(template.sql, values))
    probes = [f"{_PROBE}{m}" for m in template.optional]
    present = {m for m, probe in zip(template.optional, probes, strict=True) if _any_nonzero(table[probe])}
    unrecorded = {m: _zero_or_null(table[probe]) for m, probe in zip(template.optional, probes, strict=True)}
    reasons = [f"{_REASON}{m}" for m in template.reasoned]
    nulled = {m: _true_rows(table[column]) for m, column in zip(template.reasoned, reasons, strict=True)}
    table = table.drop_columns([*probes, *reasons])
    notes.extend(_missing_notes(metrics, template.supported, present, table, unrecorded, registry))
    notes.extend(_null_reason_notes(metrics, nulled, table.num_rows))
    table = _unsupported_as_null(table, store.dialect, metric_ids, notes)
    return KpiResult(query.by, tuple(metric_ids), table, notes, query.params)


def _store_key(store: Store) -> object:
    """Whose compiled SQL a store uses: a file's (or a server's) its own; a store in memory that of
    any store in memory with the same tables and columns (the data version in the key tells the
    rest, as when callkpi.metrics.templates hands SQL from one process to another)."""
    if store.path != ":memory:":
        return store.path
    return (":memory:", store.dialect, templates.columns_digest(store))


def _template_of(store: Store, query: KpiQuery, registry: Registry, rollups: bool, *,
                 keep_only: bool = False) -> tuple[tuple[str, ...], list[Metric], Context, _Template | None]:
    """The query's metrics, the data's context and the SQL template of its shape: from this
    process's memory, else from the kept file (callkpi.metrics.templates), else compiled (and kept).
    ``keep_only``: only make sure a kept file exists (None when keeping is switched off)."""
    metric_ids = tuple(query.metrics or available_metrics(store, registry))
    metrics = [registry.metrics[m] for m in metric_ids]
    version, context = _data_version(store, registry)
    key = (_store_key(store), version, id(registry), rollups, metric_ids, _shape(query))
    template = _TEMPLATES.get(key)
    if template is None:
        saved = templates.key(store, version, rollups, metric_ids, _shape(query)) if registry is REGISTRY else None
        if keep_only and (saved is None or templates.exists(saved)):
            return metric_ids, metrics, context, None
        template = _from_saved(templates.load(saved)) if saved else None
        if template is None:
            template = _template(store, query, registry, metrics, context, rollups)
            if saved:
                templates.save(saved, _to_saved(template))
        _TEMPLATES[key] = template
        while len(_TEMPLATES) > _TEMPLATE_CACHE_SIZE:
            _TEMPLATES.pop(next(iter(_TEMPLATES)))
    return metric_ids, metrics, context, template


# The reports asked for most (no dimension, by agent, queue, day, agent and day), for the whole
# data and for a period: their SQL is compiled and kept after an ingest (see :func:`warm`).
COMMON_SHAPES: tuple[tuple[str, ...], ...] = ((), ("agent",), ("queue",), ("day",), ("agent", "day"))
PERIOD_SHAPES: tuple[tuple[str, ...], ...] = ((), ("agent",))


def warm(store: Store, params: MetricParams, shapes: Sequence[tuple[str, ...]] = COMMON_SHAPES,
         period_shapes: Sequence[tuple[str, ...]] = PERIOD_SHAPES) -> int:
    """Compile and keep the SQL of the common reports with every metric the data supports, so that
    the first `callkpi kpi` after a load reads its SQL from a file instead of importing Ibis and
    compiling (a command that loads data has paid for Ibis already). Nothing is run; returns how
    many templates were compiled (0 when keeping is switched off or all were kept already)."""
    day = date(2000, 1, 1)  # any date: a shape only records that the period is given
    queries = [KpiQuery(by=shape, params=params) for shape in shapes]
    queries += [KpiQuery(by=shape, date_from=day, date_to=day, params=params) for shape in period_shapes]
    made = 0
    for query in queries:
        if not templates.keeps(store):
            return made
        before = len(_TEMPLATES)
        _template_of(store, query, REGISTRY, True, keep_only=True)
        made += len(_TEMPLATES) > before
    return made


def _register_calendar(store: Store, name: str, spec: CalendarSpec) -> None:
    """The calendar a template reads, under its name: made by DuckDB itself from the zone's offsets
    (no Arrow), or on another engine registered as an Arrow table."""
    if store.dialect == "duckdb":
        store.register_query(name, calendar_sql(*spec))
    else:
        store.register_arrow(name, calendar_table(*spec))


def _unsupported_as_null(table: Any, engine: str, metric_ids: Sequence[str], notes: list[str]) -> Any:
    """Metrics the store's engine does not run yet (callkpi.metrics.backends) are null, with a note:
    never a number that engine computes differently."""
    for metric_id in metric_ids:
        if engine == "clickhouse" and metric_id in backends.CLICKHOUSE_UNSUPPORTED:
            index = table.column_names.index(metric_id)
            column = pa.nulls(table.num_rows, table.schema.field(index).type)
            table = table.set_column(index, table.schema.field(index), column)
            notes.append(f"{metric_id}: not supported on ClickHouse yet "
                         f"({backends.CLICKHOUSE_UNSUPPORTED[metric_id]}); shown as null")
    return table


@dataclass
class _Template:
    sql: str | None
    supported: set[str]
    optional: list[str]
    notes: list[str]
    placeholders: dict[str, str]  # parameter name -> the literal that stands for it in the SQL
    calendars: dict[str, CalendarSpec]  # the calendars the SQL reads, by name
    reasoned: list[str] = field(default_factory=list)  # metrics with a reason column (why null)


CalendarSpec = tuple[str, int, int, int]  # calendar_table's arguments: zone, first and last slice, interval


def _to_saved(template: _Template) -> dict[str, Any]:
    """The template as JSON values, to keep for another process (callkpi.metrics.templates)."""
    return {"sql": template.sql, "supported": sorted(template.supported), "optional": template.optional,
            "notes": template.notes, "placeholders": template.placeholders,
            "calendars": {name: list(spec) for name, spec in template.calendars.items()},
            "reasoned": template.reasoned}


def _from_saved(saved: dict[str, Any] | None) -> _Template | None:
    """A template kept by :func:`_to_saved`; None when there is none or it does not read as one."""
    if saved is None:
        return None
    try:
        calendars = {str(name): (str(zone), int(first), int(last), int(minutes))
                     for name, (zone, first, last, minutes) in saved["calendars"].items()}
        return _Template(saved["sql"], set(saved["supported"]), list(saved["optional"]), list(saved["notes"]),
                         dict(saved["placeholders"]), calendars, list(saved["reasoned"]))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


_TEMPLATES: dict[tuple, _Template] = {}
_TEMPLATE_CACHE_SIZE = 256
# Stand-ins for the slice range while a shape is compiled: far beyond any real slice number.
_FIRST_SLICE, _END_SLICE = 9_100_000_001, 9_100_000_002
# Stand-in for the end of the data (FCR's pending window), bound as $data_end: loads move the end
# all day, and the SQL of a shape should not have to be compiled again for that.
_DATA_END = datetime(1903, 2, 3, 4, 5, 6, 789012)
# Calendars span the data rounded out to blocks of slices (about six weeks), so that new data
# within the block keeps the SQL (which names the calendar) the same.
_CALENDAR_BLOCK = 4096


def _shape(query: KpiQuery) -> tuple:
    filters = tuple(sorted((dim, len(values)) for dim, values in query.filters.items()))
    return (query.by, filters, query.date_from is None, query.date_to is None, query.params.model_dump_json())


def _data_version(store: Store, registry: Registry) -> tuple[tuple, Context]:
    """What the SQL of a shape depends on (which tables exist, which rollup is smallest, the slice
    span of every fact table rounded out to calendar blocks, the rollups' parameters and whether
    they were made for the current data end), and the context (the end of the data, a bound value).

    The spans and the end take a scan of every fact table's slice column, so for a store file they
    are kept while the table sizes, the load counters and this process's commits stay the same."""
    tables = tuple(sorted(store.table_sizes().items()))
    names = {name for name, _ in tables}
    loads = tuple(store.fetch_all(
        "SELECT count(*), max(loaded_at_utc), sum(loads), sum(lines_loaded) FROM sources"
    )) if "sources" in names else ()
    cache_key = (store.path, Store.commits, id(registry), tables, loads) if store.path != ":memory:" else None
    cached = _VERSIONS.get(cache_key) if cache_key else None
    if cached is not None:
        return cached
    spans = sorted({(f.table, f.slice_column) for f in registry.facts.values() if f.table in names}
                   | {(name, "slice_id") for name in names if name.startswith("rollup_")})
    # One query; each part numbered, as an engine may return the parts of a UNION ALL in any order.
    selects = [f'SELECT {n} AS n, min("{column}") AS lo, max("{column}") AS hi FROM "{table}"'  # noqa: S608
               for n, (table, column) in enumerate(spans)]
    rows = sorted(store.fetch_all(" UNION ALL ".join(selects))) if selects else []
    bounds = [(lo, hi) for _, lo, hi in rows]
    context = _context(store)
    ranking = tuple(sorted(_slice_grain_preferred({n: s or 0 for n, s in tables if n.startswith("rollup_")})))
    blocks = tuple((span, _calendar_span(lo, hi)) for span, (lo, hi) in zip(spans, bounds, strict=True))
    rolled = (rollup.stored_params_text(store), rollup.stored_data_end(store) == context.data_end_utc)
    result = ((tuple(sorted(names)), ranking, blocks, rolled, context.data_end_utc is None), context)
    if cache_key:
        _VERSIONS[cache_key] = result
        while len(_VERSIONS) > _VERSION_CACHE_SIZE:
            _VERSIONS.pop(next(iter(_VERSIONS)))
    return result


_VERSIONS: dict[tuple, tuple[tuple, Context]] = {}
_VERSION_CACHE_SIZE = 16


def _placeholder_query(query: KpiQuery) -> tuple[KpiQuery, dict[str, str]]:
    """The query with stand-ins for its filter values (``__callkpi_fN_I__``)."""
    placeholders: dict[str, str] = {}
    filters: dict[str, tuple[str, ...]] = {}
    for n, (dim, values) in enumerate(sorted(query.filters.items())):
        names = [f"f{n}_{i}" for i in range(len(values))]
        filters[dim] = tuple(f"__callkpi_{name}__" for name in names)
        placeholders.update({name: f"'__callkpi_{name}__'" for name in names})
    if query.date_from is not None:
        placeholders["first_slice"] = str(_FIRST_SLICE)
    if query.date_to is not None:
        placeholders["end_slice"] = str(_END_SLICE)
    return KpiQuery(query.by, query.date_from, query.date_to, filters, query.metrics, query.params), placeholders


# Below this many rows both grains of a fact are quick: the choice (and with it the SQL) stays put.
_GRAIN_CHOICE_ROWS = 100_000


def _slice_grain_preferred(sizes: dict[str, int]) -> frozenset[str]:
    """Facts whose slice rollup is read when both of their grains answer a query: those where it is
    clearly the smaller one (many agents per queue); otherwise the day rollup."""
    preferred = set()
    for table, size in sizes.items():
        day = sizes.get(table.removesuffix("_slice") + "_day") if table.endswith("_slice") else None
        if day is not None and day >= _GRAIN_CHOICE_ROWS and size < day:
            preferred.add(table.removesuffix("_slice"))
    return frozenset(preferred)


def _calendar_span(lo: object, hi: object) -> tuple[int, int] | None:
    if lo is None or hi is None:
        return None
    first = int(lo) // _CALENDAR_BLOCK * _CALENDAR_BLOCK  # type: ignore[call-overload]
    return first, (int(hi) // _CALENDAR_BLOCK + 1) * _CALENDAR_BLOCK - 1  # type: ignore[call-overload]


def _bound_values(query: KpiQuery, placeholders: dict[str, str], context: Context) -> dict[str, object]:
    first, end = slice_range(query.date_from, query.date_to, query.params.timezone)
    values: dict[str, object] = {"first_slice": first, "end_slice": end, "data_end": context.data_end_utc}
    for n, (_, given) in enumerate(sorted(query.filters.items())):
        values.update({f"f{n}_{i}": value for i, value in enumerate(given)})
    return {name: values[name] for name in placeholders}


def _template(
    store: Store, query: KpiQuery, registry: Registry, metrics: Sequence[Metric], context: Context, rollups: bool
) -> _Template:
    shaped, placeholders = _placeholder_query(query)
    measure_ids = _needed_measures(metrics)
    notes: list[str] = []
    calendars: dict[str, CalendarSpec] = {}
    build = _Build(store, shaped, calendars, placeholders)
    plan = _RollupPlan.of(build, context) if rollups and registry is REGISTRY else None
    stand_in = context
    if context.data_end_utc is not None:
        stand_in = Context(data_end_utc=_DATA_END)
        placeholders["data_end"] = _literal_sql(store, _DATA_END)
    supported, parts = _fact_parts(build, registry, measure_ids, stand_in, plan)
    if not parts:
        return _Template(None, supported, [], notes, {}, {})
    merged = _merge(parts, query.by, measure_ids, supported, registry)
    values = {m: merged[m] if m in supported else ibis.null("float64") for m in measure_ids}
    columns = {d: merged[d] for d in query.by}
    for metric in metrics:
        if all(m in supported for m in metric.measures):
            columns[metric.id] = _typed(metric, metric.compute(values, query.params))
        else:
            columns[metric.id] = ibis.null("float64")
            notes.append(f"{metric.id}: not available by {', '.join(query.by) or 'total'} with these filters")
    optional = sorted({m for metric in metrics for m in _probed(metric, registry) if m in supported})
    for measure_id in optional:
        columns[f"{_PROBE}{measure_id}"] = merged[measure_id]
    reasoned = [metric.id for metric in metrics
                if hasattr(metric.kind, "null_reason") and all(m in supported for m in metric.measures)]
    for metric in metrics:
        if metric.id in reasoned:
            columns[f"{_REASON}{metric.id}"] = metric.kind.null_reason(values).fill_null(False).cast("int8")
    expr = merged.select(**columns)
    if query.by:
        expr = expr.order_by([ibis.asc(d, nulls_first=False) for d in query.by])
    sql = store.compile(expr)
    used = {}
    for name, literal in placeholders.items():
        if literal in sql:
            sql = sql.replace(literal, store.parameter(name, _parameter_kind(name)))
            used[name] = literal
    return _Template(sql, supported, optional, notes, used, calendars, reasoned)


def _parameter_kind(name: str) -> Literal["string", "int", "timestamp"]:
    """The type of a bound value, by its name (see :func:`_bound_values`)."""
    if name == "data_end":
        return "timestamp"
    return "int" if name in ("first_slice", "end_slice") else "string"


def _literal_sql(store: Store, value: object) -> str:
    """How the store's SQL dialect writes a literal (to find a stand-in in compiled SQL)."""
    sql = " ".join(store.compile(ibis.literal(value).name("v")).split())
    return sql.removeprefix("SELECT ").rsplit(" AS ", 1)[0]


@dataclass
class _Build:
    """What building one query's expression needs: the store, the query with stand-ins for its
    values, and the calendars the expression reads (registered under their names)."""

    store: Store
    query: KpiQuery
    calendars: dict[str, CalendarSpec]
    placeholders: dict[str, str]

    def slice_range(self) -> tuple[int | None, int | None]:
        return (_FIRST_SLICE if "first_slice" in self.placeholders else None,
                _END_SLICE if "end_slice" in self.placeholders else None)

    def calendar(self, first: int, last: int, time_dims: Sequence[str]) -> ibis.Table:
        params = self.query.params
        data = calendar_table(params.timezone, first, last, params.interval_minutes)
        digest = hashlib.sha1(f"{params.timezone}|{first}|{last}|{params.interval_minutes}".encode()).hexdigest()
        name = f"callkpi_calendar_{digest[:16]}"
        self.store.register_arrow(name, data)
        self.calendars[name] = (params.timezone, first, last, params.interval_minutes)
        return self.store.table(name).select("slice_id", *time_dims)


_PROBE = "__measure_"
_REASON = "__null_reason_"


def _typed(metric: Metric, value: ibis.Value) -> ibis.Value:
    if metric.unit == "count":
        return value.cast("int64")
    return value.cast("float64")


def _context(store: Store) -> Context:
    return rollup.data_context(store)


def _needed_measures(metrics: Iterable[Metric]) -> list[str]:
    seen: dict[str, None] = {}
    for metric in metrics:
        for measure_id in (*metric.measures, *metric.optional, *metric.recorded):
            seen.setdefault(measure_id, None)
            recorded_by = REGISTRY.measures[measure_id].recorded_by if measure_id in REGISTRY.measures else None
            if recorded_by:
                seen.setdefault(recorded_by, None)
    return list(seen)


def _fact_supports(fact: Fact, query: KpiQuery) -> bool:
    wanted = [d for d in (*query.by, *query.filters) if d not in TIME_DIMENSIONS]
    return all(d in fact.dimensions or (d == "team" and "agent" in fact.dimensions) for d in wanted)


def _fact_parts(
    build: _Build,
    registry: Registry,
    measure_ids: Sequence[str],
    context: Context,
    plan: _RollupPlan | None,
) -> tuple[set[str], list[ibis.Table]]:
    query = build.query
    by_fact: dict[str, list[str]] = {}
    for measure_id in measure_ids:
        by_fact.setdefault(registry.measures[measure_id].fact, []).append(measure_id)
    supported: set[str] = set()
    parts: list[ibis.Table] = []
    for fact_id, fact_measures in by_fact.items():
        fact = registry.facts[fact_id]
        if not _fact_supports(fact, query):
            continue
        raw_measures = list(fact_measures)
        if plan is not None:
            rolled = plan.part(fact, raw_measures)
            if rolled is not None:
                parts.append(rolled[0])
                raw_measures = [m for m in raw_measures if m not in rolled[1]]
        if raw_measures:
            table = _prepared(build, fact)
            if table is None:
                continue
            aggregates = {m: registry.measures[m].aggregate(table, query.params, context) for m in raw_measures}
            parts.extend(_raw_parts(table, query.by, aggregates))
        supported.update(fact_measures)
    return supported, parts


def _holistic() -> tuple[type, ...]:
    """Aggregates that need every value of a group (not a running total): dear over all rows."""
    return (ops.CountDistinct, ops.Median, ops.Quantile, ops.MultiQuantile)


def _raw_parts(table: ibis.Table, by: Sequence[str], aggregates: dict[str, ibis.Value]) -> list[ibis.Table]:
    """The raw measures of one fact, grouped; a distinct count or a median with a condition gets its
    own part over only the rows that meet the condition (the same value: the rows it skips are the
    ones its condition leaves out), so the engine does not hash every row of the fact for it."""
    plain: dict[str, ibis.Value] = {}
    by_condition: dict[ibis.Value, dict[str, ibis.Value]] = {}
    for measure_id, value in aggregates.items():
        op = value.op()
        if isinstance(op, _holistic()) and op.where is not None:
            condition = next((c for c in by_condition if c.equals(op.where.to_expr())), op.where.to_expr())
            by_condition.setdefault(condition, {})[measure_id] = op.copy(where=None).to_expr()
        else:
            plain[measure_id] = value
    parts = [_grouped(table, by, _as_float(plain))] if plain else []
    for condition, values in by_condition.items():
        parts.append(_grouped(table.filter(condition), by, _as_float(values)))
    return parts


def _as_float(values: dict[str, ibis.Value]) -> dict[str, ibis.Value]:
    return {name: value.cast("float64") for name, value in values.items()}


def _grouped(table: ibis.Table, by: Sequence[str], aggregates: dict[str, ibis.Value]) -> ibis.Table:
    keys = [table[d] for d in by]
    return table.group_by(keys).aggregate(**aggregates) if keys else table.aggregate(**aggregates)


@dataclass
class _RollupPlan:
    """Which rollup grain answers which measures of a query (rollup.py explains the grains)."""

    build: _Build
    stored: MetricParams
    grains: list[rollup.Grain]
    sizes: dict[str, int]
    same_data_end: bool  # the data end the rollups were refreshed for is the store's now

    @property
    def store(self) -> Store:
        return self.build.store

    @property
    def query(self) -> KpiQuery:
        return self.build.query

    @classmethod
    def of(cls, build: _Build, context: Context) -> _RollupPlan | None:
        stored = rollup.stored_params(build.store)
        if stored is None:
            return None
        sizes = rollup.rollup_sizes(build.store)
        usable = [g for g in rollup.grains(build.store.ibis, stored) if g.table in sizes]
        same_end = rollup.stored_data_end(build.store) == context.data_end_utc
        return cls(build, stored, usable, sizes, same_end) if usable else None

    def part(self, fact: Fact, measure_ids: Sequence[str]) -> tuple[ibis.Table, set[str]] | None:
        """The fact's measures this query can take from a rollup, aggregated by the query's dimensions."""
        candidates = [g for g in self.grains if g.fact == fact.id and self._covers(g)]
        if not candidates:
            return None
        slice_first = f"rollup_{fact.id}" in _slice_grain_preferred(self.sizes)
        grain = min(candidates, key=lambda g: (g.time == "slice") != slice_first)
        base = fact.base(self.store.ibis)
        wanted = [
            m for m in measure_ids
            if m in grain.measures
            and rollup.same_definition(REGISTRY.measures[m], base, self.stored, self.query.params)
            and (self.same_data_end or not rollup.depends_on_data_end(REGISTRY.measures[m], base, self.stored))
        ]
        if not wanted:
            return None
        view = Fact(fact.id, grain.table, "slice_id", {d: d for d in grain.dimensions}, fact.description)
        table = _prepared(self.build, view)
        if table is None:
            return None
        aggregates = {m: _reaggregate(table[m], base, m, self.stored).cast("float64") for m in wanted}
        return _grouped(table, self.query.by, aggregates), set(wanted)

    def _covers(self, grain: rollup.Grain) -> bool:
        asked = [d for d in (*self.query.by, *self.query.filters) if d not in TIME_DIMENSIONS]
        asked = ["agent" if d == "team" else d for d in asked]
        if not all(d in grain.dimensions for d in asked):
            return False
        if grain.time == "slice":
            return True
        times = {d for d in self.query.by if d in TIME_DIMENSIONS}
        return self.query.params.timezone == self.stored.timezone and times <= rollup.DAY_TIME_DIMENSIONS


def _reaggregate(column: ibis.Value, base: ibis.Table, measure_id: str, params: MetricParams) -> ibis.Value:
    kind = rollup.reaggregation(REGISTRY.measures[measure_id].aggregate(base, params, Context()))
    if kind == "max":
        return column.max()
    if kind == "min":
        return column.min()
    return column.sum()


def _prepared(build: _Build, fact: Fact) -> ibis.Table | None:
    """The fact's rows in range and filter, with every requested dimension as a column."""
    store, query = build.store, build.query
    table = fact.base(store.ibis)
    first, end = build.slice_range()
    if first is not None:
        table = table.filter(table[fact.slice_column] >= first)
    if end is not None:
        table = table.filter(table[fact.slice_column] < end)
    renames = {dim: table[col] for dim, col in fact.dimensions.items() if dim in (*query.by, *query.filters)}
    if renames:
        table = table.mutate(**renames)
    if "team" in (*query.by, *query.filters):
        agents = store.table("agents").select(agent_key="agent", team="team")
        table = table.left_join(agents, table.agent == agents.agent_key).drop("agent_key")
    for dim, values in query.filters.items():
        table = table.filter(table[dim].isin(list(values)))
    time_dims = [d for d in query.by if d in TIME_DIMENSIONS]
    if time_dims:
        # The calendar spans the table's data (not the asked dates), so one SQL serves any dates.
        span = _calendar_span(*store.column_bounds(fact.table, fact.slice_column))
        if span is None:
            return None
        calendar = build.calendar(span[0], span[1], time_dims)
        # A fact with a column of a time dimension's name (staff_days.day, text) would keep its own
        # and the calendar's would become day_right: the group key would then differ in type between
        # facts and the merge of the parts could not join them. The calendar's is the dimension.
        own = [d for d in time_dims if d in table.columns]
        if own:
            table = table.drop(*own)
        table = table.join(calendar, table[fact.slice_column] == calendar.slice_id)
    return table


def _merge(
    parts: list[ibis.Table],
    by: tuple[str, ...],
    measure_ids: Sequence[str],
    supported: set[str],
    registry: Registry,
) -> ibis.Table:
    """Join the per-fact results on the dimensions (each measure comes from exactly one part).

    Joining keeps the work proportional to the groups; stacking the parts and grouping again
    (the earlier way) aggregated every measure column over every part's rows."""
    merged = parts[0]
    for part in parts[1:]:
        merged = _join_part(merged, part, by)
    values = {}
    for measure_id in (m for m in measure_ids if m in supported):
        value = merged[measure_id] if measure_id in merged.columns else ibis.null("float64")
        if registry.measures[measure_id].empty == "zero":
            value = value.fill_null(0)
        values[measure_id] = value
    return merged.select(*by, **values)


def _join_part(left: ibis.Table, right: ibis.Table, by: Sequence[str]) -> ibis.Table:
    if not by:
        return left.cross_join(right)
    left = left.view()  # a fresh relation: Ibis would otherwise try to extend the previous join
    renamed = right.rename({f"{_RIGHT}{d}": d for d in by})
    keys = [left[d].identical_to(renamed[f"{_RIGHT}{d}"]) for d in by]  # a null agent or queue is a group too
    joined = left.outer_join(renamed, keys)
    dims = [ibis.coalesce(joined[d], joined[f"{_RIGHT}{d}"]).name(d) for d in by]
    return joined.select(*dims, *[c for c in joined.columns if c not in by and not c.startswith(_RIGHT)])


_RIGHT = "__right_"


def _nan_as_null(table: Any) -> Any:
    """NaN from engines (0/0 in a formula) becomes null, the value every surface shows as empty."""
    if isinstance(table, _Columns):
        for name, column in table.columns.items():
            # only NaN is not itself; each distinct value is looked at once
            if table.types[name] in ("DOUBLE", "FLOAT") and any(v != v for v in set(column)):
                table.columns[name] = [None if v != v else v for v in column]
        return table
    for index, column in enumerate(table.columns):
        if pa.types.is_floating(column.type):
            # The null made from an array, not from a Python value: pyarrow's first conversion of a
            # Python value imports pandas (half a second), which a CLI command does not need.
            cleaned = pc.if_else(pc.is_nan(column), pa.nulls(1, column.type)[0], column)
            table = table.set_column(index, table.field(index), cleaned)
    return table


def _probed(metric: Metric, registry: Registry) -> tuple[str, ...]:
    """The measures whose values the notes of a metric read: its optional components, what records
    them, and what records the components it needs."""
    recorders = tuple(r for m in metric.optional if (r := registry.measures[m].recorded_by))
    return (*metric.optional, *recorders, *metric.recorded)


def _zero_or_null(column: Any) -> int:
    """Rows where a recording count is 0 or null (the component is not recorded there)."""
    if isinstance(column, list):
        return sum(1 for v in column if not v)
    return column.null_count + int(pc.sum(pc.invert(_nonzero(column))).as_py() or 0)


def _true_rows(column: Any) -> int:
    if isinstance(column, list):
        return sum(1 for v in column if v)
    return int(pc.sum(column).as_py() or 0)


def _null_reason_notes(metrics: Sequence[Metric], nulled: dict[str, int], rows: int) -> list[str]:
    """Why a metric is null where its kind says (amounts in different currencies are never added)."""
    notes = []
    for metric in metrics:
        count = nulled.get(metric.id, 0)
        if count:
            where = "in this scope" if count == rows else f"in {count} of {rows} rows"
            notes.append(f"{metric.id}: {metric.kind.reason} {where}; shown as null")  # type: ignore[union-attr]
    return notes


def _any_nonzero(column: Any) -> bool:
    if isinstance(column, list):
        return any(column)
    return bool(pc.any(_nonzero(column)).as_py())


def _nonzero(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """True where a number is not 0 (null stays null), without a Python scalar to compare with (see
    :func:`_nan_as_null`): a number cast to boolean is just that."""
    return column.cast(pa.bool_())


def _column_lists(table: pa.Table) -> dict[str, list[Any]]:
    """Result columns as Python lists, times as ISO text."""
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        values = column.to_pylist()
        if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
            values = [v.isoformat() if isinstance(v, datetime) else v for v in values]
        columns[name] = values
    return columns


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    """Result rows as dicts, times as ISO text (column-wise: fast)."""
    columns = _column_lists(table)
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)] if names else []


def _missing_notes(
    metrics: Sequence[Metric], supported: set[str], present: set[str], table: pa.Table,
    unrecorded: dict[str, int], registry: Registry,
) -> list[str]:
    """Say which components the data lacks for the metrics shown, by the rule that makes the figure:
    a needed component not recorded in a row's scope makes the metric null there; an optional one is
    left out where the measure that records it is 0 (after-call work) or where it is absent (hold)."""
    notes = []
    rows = table.num_rows
    for metric in metrics:
        note = _not_recorded_note(metric, supported, unrecorded, rows)
        if note:
            notes.append(note)
        lacking = [m for m in metric.optional if not _optional_present(m, supported, present, unrecorded, registry)]
        hold = table["avg_hold_s"] if metric.id == "avg_hold_s" else None
        if hold is not None and _all_null(hold):
            notes.append(f"avg_hold_s: {metric.missing_note.get('en', 'missing')}")
        elif lacking and not (note and metric.recorded):
            names = ", ".join(dict.fromkeys(_component_name(m) for m in lacking))
            notes.append(f"{metric.id}: no {names} in the loaded data for this scope; left out")
    return notes


def _all_null(column: Any) -> bool:
    if isinstance(column, list):
        return all(v is None for v in column)
    return column.null_count == len(column)


def _optional_present(measure_id: str, supported: set[str], present: set[str], unrecorded: dict[str, int],
                      registry: Registry) -> bool:
    if measure_id not in supported:
        return False
    recorded_by = registry.measures[measure_id].recorded_by
    if recorded_by is None:
        return measure_id in present
    return recorded_by in supported and unrecorded.get(recorded_by, 0) == 0


def _not_recorded_note(metric: Metric, supported: set[str], unrecorded: dict[str, int], rows: int) -> str | None:
    """The note for a metric that is null where a component it needs is not recorded."""
    lacking = [m for m in metric.recorded if m not in supported or unrecorded.get(m, 0) > 0]
    if not lacking or rows == 0:
        return None
    names = " and ".join(dict.fromkeys(_component_name(m) for m in lacking))
    counts = [rows if m not in supported else unrecorded[m] for m in lacking]
    where = "in this scope" if max(counts) == rows else f"in {max(counts)} of {rows} rows"
    return f"{metric.id}: {names} not recorded by the loaded sources {where}; shown as null, not 0"


def _component_name(measure_id: str) -> str:
    return {"al_hold_s": "hold time", "at_hold_s": "hold time", "at_acw_s": "after-call work",
            "at_pause_rows": "pauses (after-call work)", "at_presence_rows": "presence (logged-in sessions)",
            "ql_wait_recorded": "queue wait (Asterisk CDR Queue() legs: load the queue_log or CEL)"}.get(
        measure_id, measure_id
    )
