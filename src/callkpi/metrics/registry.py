"""The metric registry: facts, measures and metrics, each defined once.

- A *fact* is a canonical table (or a view of one) with the dimensions it can be grouped by.
- A *measure* is an additive aggregate over one fact (a count, a sum, a max, a median), written
  as an Ibis expression, so it compiles for DuckDB today and ClickHouse or Spark later.
- A *metric* is what users see: a formula over measures, with id, unit, direction, parameters
  and descriptions in English and Russian. Rates are recomputed from their counts at every level
  of grouping; percentages are never averaged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import ibis

from callkpi.config import MetricParams

Unit = Literal["count", "ratio", "seconds", "per_hour", "score", "nps", "money"]
Direction = Literal["higher_is_better", "lower_is_better", "neutral"]
Empty = Literal["zero", "null"]


@dataclass(frozen=True)
class Context:
    """Facts about the whole store that some measures need (e.g. where the data ends)."""

    data_end_utc: datetime | None = None


@dataclass(frozen=True)
class Fact:
    id: str
    table: str
    slice_column: str
    dimensions: Mapping[str, str]  # dimension id -> column of the (prepared) table
    description: str
    prepare: Callable[[ibis.Table], ibis.Table] | None = None

    def base(self, backend: Any) -> ibis.Table:
        table = backend.table(self.table)
        return self.prepare(table) if self.prepare else table


@dataclass(frozen=True)
class BuiltFact(Fact):
    """A fact whose rows are built from several tables (a join), given the backend."""

    build: Callable[[Any], ibis.Table] | None = None

    def base(self, backend: Any) -> ibis.Table:
        table = self.build(backend) if self.build else backend.table(self.table)
        return self.prepare(table) if self.prepare else table


MeasureFn = Callable[[ibis.Table, MetricParams, Context], ibis.Value]


@dataclass(frozen=True)
class Measure:
    id: str
    fact: str
    aggregate: MeasureFn
    empty: Empty = "zero"  # value for a group the fact has no rows in


ComputeFn = Callable[[Mapping[str, ibis.Value], MetricParams], ibis.Value]


@dataclass(frozen=True)
class Metric:
    id: str
    section: str
    unit: Unit
    direction: Direction
    title: Mapping[str, str]
    description: Mapping[str, str]
    formula: str
    measures: tuple[str, ...]
    compute: ComputeFn
    params: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()  # measures a source may lack; reported as missing, not zero
    missing_note: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Registry:
    facts: dict[str, Fact] = field(default_factory=dict)
    measures: dict[str, Measure] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)

    def add_fact(self, fact: Fact) -> Fact:
        _add_unique(self.facts, fact.id, fact)
        return fact

    def add_measure(self, measure: Measure) -> Measure:
        if measure.fact not in self.facts:
            raise KeyError(f"measure {measure.id} names unknown fact {measure.fact}")
        _add_unique(self.measures, measure.id, measure)
        return measure

    def add_metric(self, metric: Metric) -> Metric:
        for measure_id in (*metric.measures, *metric.optional):
            if measure_id not in self.measures:
                raise KeyError(f"metric {metric.id} uses unknown measure {measure_id}")
        _add_unique(self.metrics, metric.id, metric)
        return metric

    def facts_of(self, metric: Metric) -> set[str]:
        return {self.measures[m].fact for m in metric.measures}


def _add_unique(mapping: dict[str, Any], key: str, value: Any) -> None:
    if key in mapping:
        raise ValueError(f"{key} is defined twice")
    mapping[key] = value


# -- formula helpers -------------------------------------------------------------------------


def ratio(numerator: ibis.Value, denominator: ibis.Value) -> ibis.Value:
    """numerator / denominator; null (not 0, not 100 %) when the denominator is 0 or missing."""
    return ibis.ifelse(denominator > 0, numerator.cast("float64") / denominator.cast("float64"), ibis.null())


def zero_if_missing(value: ibis.Value) -> ibis.Value:
    return value.fill_null(0)
