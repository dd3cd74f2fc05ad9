"""Compute KPIs: the only way any surface (CLI, web, API, exports) gets a number.

For each fact the requested measures are aggregated by the requested dimensions; the partial
results are stacked and merged by dimension, and each metric's formula is applied to the merged
measures. Everything is one Ibis expression, executed by the store's engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import ibis
import pyarrow as pa

from callkpi.config import MetricParams
from callkpi.metrics.calendar import TIME_DIMENSIONS, calendar_table, slice_range
from callkpi.metrics.catalogue import DIMENSIONS, REGISTRY
from callkpi.metrics.registry import Context, Fact, Metric, Registry
from callkpi.storage import Store

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


@dataclass
class KpiResult:
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    rows: list[dict[str, Any]]
    notes: list[str]
    params: MetricParams

    def definitions(self, registry: Registry = REGISTRY) -> list[Metric]:
        return [registry.metrics[m] for m in self.metrics]


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


def available_metrics(store: Store, registry: Registry = REGISTRY) -> tuple[str, ...]:
    """Metrics whose facts have data in the store, in catalogue order."""
    filled = {name for name in {f.table for f in registry.facts.values()} if store.has_rows(name)}
    return tuple(
        metric.id
        for metric in registry.metrics.values()
        if all(registry.facts[f].table in filled for f in registry.facts_of(metric))
    )


def compute(store: Store, query: KpiQuery, registry: Registry = REGISTRY) -> KpiResult:
    validate(query, registry)
    metric_ids = query.metrics or available_metrics(store, registry)
    metrics = [registry.metrics[m] for m in metric_ids]
    context = _context(store)
    measure_ids = _needed_measures(metrics)
    notes: list[str] = []
    supported, parts = _fact_parts(store, query, registry, measure_ids, context, notes)
    if not parts:
        return KpiResult(query.by, tuple(metric_ids), [], notes, query.params)
    merged = _merge(parts, query.by, measure_ids, supported, registry)
    values = {m: merged[m] if m in supported else ibis.null("float64") for m in measure_ids}
    columns = {d: merged[d] for d in query.by}
    for metric in metrics:
        if all(m in supported for m in metric.measures):
            columns[metric.id] = _typed(metric, metric.compute(values, query.params))
        else:
            columns[metric.id] = ibis.null("float64")
            notes.append(f"{metric.id}: not available by {', '.join(query.by) or 'total'} with these filters")
    optional = sorted({m for metric in metrics for m in metric.optional if m in supported})
    for measure_id in optional:
        columns[f"{_PROBE}{measure_id}"] = merged[measure_id]
    expr = merged.select(**columns)
    if query.by:
        expr = expr.order_by([ibis.asc(d, nulls_first=False) for d in query.by])
    rows = _rows(store.fetch_arrow(expr))
    present = {m for m in optional if any(row.get(f"{_PROBE}{m}") for row in rows)}
    for row in rows:
        for measure_id in optional:
            del row[f"{_PROBE}{measure_id}"]
    notes.extend(_missing_notes(metrics, supported, present, rows))
    return KpiResult(query.by, tuple(metric_ids), rows, notes, query.params)


_PROBE = "__measure_"


def _typed(metric: Metric, value: ibis.Value) -> ibis.Value:
    if metric.unit == "count":
        return value.cast("int64")
    return value.cast("float64")


def _context(store: Store) -> Context:
    return Context(data_end_utc=store.column_bounds("calls", "start_utc")[1])


def _needed_measures(metrics: Iterable[Metric]) -> list[str]:
    seen: dict[str, None] = {}
    for metric in metrics:
        for measure_id in (*metric.measures, *metric.optional):
            seen.setdefault(measure_id, None)
    return list(seen)


def _fact_supports(fact: Fact, query: KpiQuery) -> bool:
    wanted = [d for d in (*query.by, *query.filters) if d not in TIME_DIMENSIONS]
    return all(d in fact.dimensions or (d == "team" and "agent" in fact.dimensions) for d in wanted)


def _fact_parts(
    store: Store,
    query: KpiQuery,
    registry: Registry,
    measure_ids: Sequence[str],
    context: Context,
    notes: list[str],
) -> tuple[set[str], list[ibis.Table]]:
    by_fact: dict[str, list[str]] = {}
    for measure_id in measure_ids:
        by_fact.setdefault(registry.measures[measure_id].fact, []).append(measure_id)
    supported: set[str] = set()
    parts: list[ibis.Table] = []
    for fact_id, fact_measures in by_fact.items():
        fact = registry.facts[fact_id]
        if not _fact_supports(fact, query):
            continue
        table = _prepared(store, fact, query)
        if table is None:
            continue
        aggregates = {
            m: registry.measures[m].aggregate(table, query.params, context).cast("float64") for m in fact_measures
        }
        keys = [table[d] for d in query.by]
        part = table.group_by(keys).aggregate(**aggregates) if keys else table.aggregate(**aggregates)
        parts.append(part)
        supported.update(fact_measures)
    return supported, parts


def _prepared(store: Store, fact: Fact, query: KpiQuery) -> ibis.Table | None:
    """The fact's rows in range and filter, with every requested dimension as a column."""
    table = fact.base(store.ibis)
    first, end = slice_range(query.date_from, query.date_to, query.params.timezone)
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
        bounds = _slice_bounds(store, table, fact, first, end)
        if bounds is None:
            return None
        calendar = ibis.memtable(
            calendar_table(query.params.timezone, bounds[0], bounds[1], query.params.interval_minutes)
        ).select("slice_id", *time_dims)
        table = table.join(calendar, table[fact.slice_column] == calendar.slice_id)
    return table


def _slice_bounds(
    store: Store, table: ibis.Table, fact: Fact, first: int | None, end: int | None
) -> tuple[int, int] | None:
    if first is not None and end is not None:
        return first, end - 1
    lo, hi = store.column_bounds(fact.table, fact.slice_column)
    if lo is None or hi is None:
        return None
    return int(first if first is not None else lo), int(end - 1 if end is not None else hi)


def _merge(
    parts: list[ibis.Table],
    by: tuple[str, ...],
    measure_ids: Sequence[str],
    supported: set[str],
    registry: Registry,
) -> ibis.Table:
    """Stack the per-fact results and keep, per group, each measure's one non-null value."""
    columns = [*by, *[m for m in measure_ids if m in supported]]
    aligned = []
    for part in parts:
        schema = part.schema()
        aligned.append(part.select(*[part[c] if c in schema else ibis.null("float64").name(c) for c in columns]))
    stacked = ibis.union(*aligned) if len(aligned) > 1 else aligned[0]
    aggregates = {}
    for measure_id in columns[len(by):]:
        value = stacked[measure_id].max()
        if registry.measures[measure_id].empty == "zero":
            value = value.fill_null(0)
        aggregates[measure_id] = value
    if by:
        return stacked.group_by(list(by)).aggregate(**aggregates)
    return stacked.aggregate(**aggregates)


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    rows = table.to_pylist()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and value != value:  # NaN from engines -> null
                row[key] = None
            elif isinstance(value, datetime):
                row[key] = value.isoformat()
    return rows


def _missing_notes(
    metrics: Sequence[Metric], supported: set[str], present: set[str], rows: list[dict[str, Any]]
) -> list[str]:
    """Say which optional components (hold, ACW) the data lacks for the metrics shown."""
    notes = []
    for metric in metrics:
        lacking = [m for m in metric.optional if m not in present or m not in supported]
        if metric.id == "avg_hold_s" and all(r.get("avg_hold_s") is None for r in rows):
            notes.append(f"avg_hold_s: {metric.missing_note.get('en', 'missing')}")
        elif lacking:
            names = ", ".join(dict.fromkeys(_component_name(m) for m in lacking))
            notes.append(f"{metric.id}: no {names} in the loaded data for this scope; left out")
    return notes


def _component_name(measure_id: str) -> str:
    return {"al_hold_s": "hold time", "at_hold_s": "hold time", "at_acw_s": "after-call work"}.get(
        measure_id, measure_id
    )
