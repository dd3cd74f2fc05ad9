"""What every catalogue module registers into: the one registry and the helpers that add to it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ibis
from ibis.common.exceptions import TableNotFound

from callkpi.config import MetricParams
from callkpi.metrics.registry import (
    Agg,
    ComputeFn,
    Direction,
    Kind,
    Measure,
    Metric,
    Registry,
    RowFn,
    Unit,
)
from callkpi.model.business_schema import arrow_records
from callkpi.model.schema import Table

REGISTRY = Registry()


RowFilter = Callable[[ibis.Table, MetricParams], ibis.Value]


def measure(measure_id: str, fact: str, agg: Agg, expr: RowFn | None = None, where: RowFn | None = None,
            empty: str = "zero", text: str = "", recorded_by: str | None = None) -> str:
    REGISTRY.add_measure(
        Measure(measure_id, fact, agg, expr, where, empty, text, recorded_by)  # type: ignore[arg-type]
    )
    return measure_id


def _with_context(where: RowFilter | None) -> RowFn | None:
    return None if where is None else (lambda t, p, c: where(t, p))


def count(measure_id: str, fact: str, where: RowFilter | None = None, text: str = "", empty: str = "zero") -> str:
    return measure(measure_id, fact, "count", where=_with_context(where), empty=empty, text=text)


def total(measure_id: str, fact: str, column: str, where: RowFilter | None = None, empty: str = "zero",
          text: str = "", recorded_by: str | None = None) -> str:
    return measure(measure_id, fact, "sum", lambda t, p, c: t[column], _with_context(where), empty, text,
                   recorded_by)


def metric(
    metric_id: str,
    section: str,
    unit: Unit,
    direction: Direction,
    title: tuple[str, str],
    description: tuple[str, str],
    formula: str = "",
    measures: tuple[str, ...] = (),
    compute: ComputeFn | None = None,
    *,
    kind: Kind | None = None,
    params: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
    missing_note: tuple[str, str] | None = None,
    recorded: tuple[str, ...] = (),
) -> None:
    """A metric; with ``kind`` its formula, measures and compute come from the declarative definition."""
    if kind is not None:
        formula, measures, compute = kind.formula(REGISTRY), kind.measures, kind.compute
        optional = optional or getattr(kind, "optional", ())
        recorded = recorded or kind.recorded
    assert compute is not None, metric_id
    REGISTRY.add_metric(
        Metric(
            id=metric_id,
            section=section,
            unit=unit,
            direction=direction,
            title={"en": title[0], "ru": title[1]},
            description={"en": description[0], "ru": description[1]},
            formula=formula,
            measures=measures,
            compute=compute,
            params=params,
            optional=optional,
            missing_note={"en": missing_note[0], "ru": missing_note[1]} if missing_note else {},
            recorded=recorded,
            kind=kind,
        )
    )


def stored_or_empty(backend: Any, name: str, declared: Mapping[str, Table]) -> ibis.Table:
    """The stored table, or an empty one of its declared schema when the store predates it; columns
    added to the model since the store was written (a read-only open does not add them) read as null."""
    try:
        table = backend.table(name)
    except TableNotFound:
        if name not in declared:
            raise
        return ibis.memtable(arrow_records(declared[name], []))
    model = declared.get(name)
    if model is None:
        return table
    empty = ibis.memtable(arrow_records(model, [])).schema()
    missing = {column: ibis.null(empty[column]) for column in model.column_names if column not in table.columns}
    return table.mutate(**missing) if missing else table

