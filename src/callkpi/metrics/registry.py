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
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from callkpi.config import MetricParams
from callkpi.storage.lazy import ibis

# "ratio" is a share of a whole, always within 0..1 (shown as a percentage); "percent" is a signed,
# unbounded rate also shown as a percentage (ROI, annualised turnover); "per_number" is a count per
# unit of something else (attempts per number), shown as a plain decimal; "per_call" the same per call.
Unit = Literal["count", "ratio", "percent", "seconds", "per_hour", "per_number", "per_call", "score", "nps", "money"]
PERCENT_UNITS = ("ratio", "percent")
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


MeasureFn = Callable[["ibis.Table", MetricParams, Context], "ibis.Value"]
RowFn = Callable[["ibis.Table", MetricParams, Context], "ibis.Value"]
Agg = Literal["count", "sum", "max", "min", "median", "nunique"]


@dataclass(frozen=True)
class Measure:
    """An aggregate over one fact, kept as its parts (as MetricFlow keeps ``agg`` and ``expr``):
    ``where`` picks the rows that count, ``expr`` is each row's value (none for a count), ``agg``
    folds them. An analysis that needs the per-row values (the training effect, a sample) reads
    :meth:`row_value` over the rows of :meth:`counts` instead of restating the rule."""

    id: str
    fact: str
    agg: Agg = "count"
    expr: RowFn | None = None
    where: RowFn | None = None
    empty: Empty = "zero"  # value for a group the fact has no rows in
    text: str = ""  # how it is computed, in words: "count(legs with outcome answered)"
    # For a component some sources do not record (after-call work): the measure that counts, per
    # scope, the rows showing it is recorded there; 0 or null means "not recorded", never 0 seconds.
    recorded_by: str | None = None

    def aggregate(self, t: ibis.Table, p: MetricParams, c: Context) -> ibis.Value:
        where = self.where(t, p, c) if self.where is not None else None
        if self.agg == "count":
            return t.count() if where is None else t.count(where=where)
        value = self.row_value(t, p, c)
        fold = getattr(value, self.agg)
        return fold() if where is None else fold(where=where)

    def counts(self, t: ibis.Table, p: MetricParams, c: Context) -> ibis.Value:
        """True for the rows this measure aggregates."""
        return self.where(t, p, c) if self.where is not None else ibis.literal(True)

    def row_value(self, t: ibis.Table, p: MetricParams, c: Context) -> ibis.Value:
        """Each row's value (1 for a count)."""
        if self.expr is None:
            return ibis.literal(1)
        return self.expr(t, p, c)

    def contribution(self, t: ibis.Table, p: MetricParams, c: Context) -> ibis.Value:
        """What each row adds to a sum or a count: its value where it counts, else 0 (missing: 0)."""
        value = self.row_value(t, p, c).cast("float64")
        return ibis.ifelse(self.counts(t, p, c).fill_null(False), value, 0.0).fill_null(0.0)


ComputeFn = Callable[[Mapping[str, "ibis.Value"], MetricParams], "ibis.Value"]


@dataclass(frozen=True)
class Value:
    """A metric that is one measure as is; null in a scope where a measure of ``recorded`` is 0 or
    null (the sources do not record what it needs there)."""

    measure: str
    recorded: tuple[str, ...] = ()

    @property
    def measures(self) -> tuple[str, ...]:
        return (self.measure,)

    def compute(self, m: Mapping[str, ibis.Value], p: MetricParams) -> ibis.Value:
        return when_recorded(m[self.measure], m, self.recorded)

    def formula(self, registry: Registry) -> str:
        return registry.measures[self.measure].text + _unrecorded(registry, self.recorded)


@dataclass(frozen=True)
class Ratio:
    """scale x (sum(numerator) - sum(minus)) / (sum(denominator) - sum(denominator_minus)); null when the
    denominator is 0. Measures in ``optional`` count as 0 when a source lacks them; the metric is null
    in a scope where a measure of ``recorded`` is 0 or null (a component it needs is not recorded)."""

    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    minus: tuple[str, ...] = ()
    denominator_minus: tuple[str, ...] = ()
    scale: float = 1
    optional: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()  # measures whose fact a store must have for the metric (not in the formula)
    recorded: tuple[str, ...] = ()

    @property
    def measures(self) -> tuple[str, ...]:
        used = (*self.numerator, *self.minus, *self.denominator, *self.denominator_minus, *self.requires)
        return tuple(dict.fromkeys(m for m in used if m not in self.optional))

    def _side(self, m: Mapping[str, ibis.Value], plus: tuple[str, ...], minus: tuple[str, ...]) -> ibis.Value:
        def term(measure_id: str) -> ibis.Value:
            return zero_if_missing(m[measure_id]) if measure_id in self.optional else m[measure_id]

        value = term(plus[0])
        for measure_id in plus[1:]:
            value = value + term(measure_id)
        for measure_id in minus:
            value = value - term(measure_id)
        return value

    def compute(self, m: Mapping[str, ibis.Value], p: MetricParams) -> ibis.Value:
        numerator = self._side(m, self.numerator, self.minus)
        if self.scale != 1:
            numerator = numerator * self.scale
        return when_recorded(ratio(numerator, self._side(m, self.denominator, self.denominator_minus)), m,
                             self.recorded)

    def formula(self, registry: Registry) -> str:
        top = _terms(registry, self.numerator, self.minus)
        bottom = _terms(registry, self.denominator, self.denominator_minus)
        top = _grouped(top)
        if self.scale != 1:
            top = f"{self.scale:g} x {top}"
        return f"{top} / {_grouped(bottom)}" + _unrecorded(registry, self.recorded)

    def observations(self, registry: Registry, table: ibis.Table, p: MetricParams, c: Context) -> ibis.Table:
        """One row per row of the denominator's fact that the denominator counts, with ``value``: what the
        row adds to the numerator (times the scale), so that mean(value) is the metric. Numerator measures
        of another fact (after-call work in AHT) cannot be split by row and are left out."""
        counted = registry.measures[self.denominator[0]].agg == "count"
        if len(self.denominator) != 1 or self.denominator_minus or not counted:
            raise ValueError("per-row values need a denominator that counts rows")
        base = registry.measures[self.denominator[0]]
        rows = table.filter(base.counts(table, p, c))
        value: ibis.Value = ibis.literal(0.0)
        for measure_id, sign in ((m, 1.0) for m in self.numerator):
            value = _add(registry, rows, base.fact, measure_id, sign, value, p, c)
        for measure_id in self.minus:
            value = _add(registry, rows, base.fact, measure_id, -1.0, value, p, c)
        if not any(registry.measures[m].fact == base.fact for m in (*self.numerator, *self.minus)):
            raise ValueError("per-row values need a numerator on the denominator's fact")
        return rows.mutate(value=value * self.scale)


def _add(registry: Registry, rows: ibis.Table, fact: str, measure_id: str, sign: float, value: ibis.Value,
         p: MetricParams, c: Context) -> ibis.Value:
    measure = registry.measures[measure_id]
    if measure.fact != fact or measure.agg not in ("count", "sum"):
        return value
    return value + measure.contribution(rows, p, c) * sign


def _unrecorded(registry: Registry, recorded: tuple[str, ...]) -> str:
    if not recorded:
        return ""
    return "; null where " + " or ".join(f"{registry.name_of(m)} = 0" for m in recorded)


def _terms(registry: Registry, plus: tuple[str, ...], minus: tuple[str, ...]) -> str:
    text = " + ".join(registry.name_of(m) for m in plus)
    return text + "".join(f" - {registry.name_of(m)}" for m in minus)


def _grouped(text: str) -> str:
    bare = not (text.startswith("(") and text.endswith(")"))
    return f"({text})" if bare and (" + " in text or " - " in text) else text


Kind = Value | Ratio


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
    # Measures counting, per scope, the rows that show a needed component is recorded: where one is 0
    # or null the metric is null ("not recorded"), and the engine says so.
    recorded: tuple[str, ...] = ()
    kind: Kind | None = None  # the declarative definition formula, measures and compute come from


@dataclass
class Registry:
    facts: dict[str, Fact] = field(default_factory=dict)
    measures: dict[str, Measure] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    shown_as: dict[str, str] = field(default_factory=dict)  # measure id -> the metric that is that measure

    def add_fact(self, fact: Fact) -> Fact:
        _add_unique(self.facts, fact.id, fact)
        return fact

    def add_measure(self, measure: Measure) -> Measure:
        if measure.fact not in self.facts:
            raise KeyError(f"measure {measure.id} names unknown fact {measure.fact}")
        _add_unique(self.measures, measure.id, measure)
        return measure

    def add_metric(self, metric: Metric) -> Metric:
        for measure_id in (*metric.measures, *metric.optional, *metric.recorded):
            if measure_id not in self.measures:
                raise KeyError(f"metric {metric.id} uses unknown measure {measure_id}")
        _add_unique(self.metrics, metric.id, metric)
        if isinstance(metric.kind, Value):
            self.shown_as.setdefault(metric.kind.measure, metric.id)
        return metric

    def write_formulas(self) -> None:
        """Once every metric is registered: each declarative metric's formula, from its definition (a
        measure is named by the metric that shows it, wherever that metric is registered)."""
        for metric_id, metric in self.metrics.items():
            if metric.kind is not None:
                self.metrics[metric_id] = replace(metric, formula=metric.kind.formula(self))

    def name_of(self, measure_id: str) -> str:
        """How a formula names a measure: the metric that shows it, else its own words."""
        return self.shown_as.get(measure_id) or self.measures[measure_id].text or measure_id

    def observations(self, metric_id: str, backend: Any, p: MetricParams, c: Context) -> ibis.Table:
        """The per-row values of a ratio metric (see :meth:`Ratio.observations`) over its fact."""
        kind = self.metrics[metric_id].kind
        if not isinstance(kind, Ratio):
            raise ValueError(f"{metric_id} has no per-row values")
        fact = self.facts[self.measures[kind.denominator[0]].fact]
        return kind.observations(self, fact.base(backend), p, c)

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


def is_recorded(m: Mapping[str, ibis.Value], recorded: tuple[str, ...]) -> ibis.Value:
    """True where every measure of ``recorded`` (a count of recording rows) is above 0 in the scope."""
    condition: ibis.Value = ibis.literal(True)
    for measure_id in recorded:
        condition = condition & (m[measure_id].fill_null(0) > 0)
    return condition


def when_recorded(value: ibis.Value, m: Mapping[str, ibis.Value], recorded: tuple[str, ...]) -> ibis.Value:
    """``value`` where the scope records what it needs, else null (not 0: "not recorded")."""
    if not recorded:
        return value
    return ibis.ifelse(is_recorded(m, recorded), value, ibis.null()).cast(value.type())
