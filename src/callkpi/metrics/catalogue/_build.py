"""What every catalogue module registers into: the one registry and the helpers that add to it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
from ibis.common.exceptions import TableNotFound

from callkpi.metrics.registry import ComputeFn, Direction, Measure, MeasureFn, Metric, Registry, Unit, ratio
from callkpi.model.business_schema import arrow_records
from callkpi.model.schema import Table

REGISTRY = Registry()


def measure(measure_id: str, fact: str, aggregate: MeasureFn, empty: str = "zero") -> str:
    REGISTRY.add_measure(Measure(measure_id, fact, aggregate, empty))  # type: ignore[arg-type]
    return measure_id


def count(measure_id: str, fact: str, where=None) -> str:
    if where is None:
        return measure(measure_id, fact, lambda t, p, c: t.count())
    return measure(measure_id, fact, lambda t, p, c: t.count(where=where(t, p)))


def total(measure_id: str, fact: str, column: str, where=None, empty: str = "zero") -> str:
    if where is None:
        return measure(measure_id, fact, lambda t, p, c: t[column].sum(), empty)
    return measure(measure_id, fact, lambda t, p, c: t[column].sum(where=where(t, p)), empty)


def metric(
    metric_id: str,
    section: str,
    unit: Unit,
    direction: Direction,
    title: tuple[str, str],
    description: tuple[str, str],
    formula: str,
    measures: tuple[str, ...],
    compute: ComputeFn,
    *,
    params: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
    missing_note: tuple[str, str] | None = None,
) -> None:
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
        )
    )


def passthrough(measure_id: str) -> ComputeFn:
    return lambda m, p: m[measure_id]


def ratio_of(numerator: str, denominator: str) -> ComputeFn:
    return lambda m, p: ratio(m[numerator], m[denominator])


def stored_or_empty(backend: Any, name: str, declared: Mapping[str, Table]) -> ibis.Table:
    """The stored table, or an empty one of its declared schema when the store predates it."""
    try:
        return backend.table(name)
    except TableNotFound:
        if name not in declared:
            raise
        return ibis.memtable(arrow_records(declared[name], []))

