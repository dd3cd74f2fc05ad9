"""Did a training programme pay off? Trained agents before vs after, against untrained agents over
the same windows (difference in differences, docs/sources.md#statistical-tests).

For each programme, trained agents are grouped by their training dates (a cohort). For a cohort
that trained from ``start`` to ``end`` (local days), *before* is the ``window_days`` days before
``start`` and *after* the ``window_days`` days after ``end``; the training days themselves are left
out. Trained agents are the cohort's; untrained agents are those who never took the programme,
observed over the same two windows. Cohorts are stacked (an untrained agent's observations can
serve several cohorts).

Observations, one per (each value is the registry's per-row value of the metric, see
:meth:`callkpi.metrics.registry.Ratio.observations`, so the rules below are the catalogue's):

* ``conversion_rate`` — handled call (agent leg): 1 when a won deal is attributed to its call
  (named, or by number within ``attribution_window_d``), else 0;
* ``arpc`` — handled call: the amount of the won deals attributed to its call;
  for both, a call whose deal is still open at the end of the data counts as the share of its
  group's closed deals that were won (the last weeks' deals had less time to close);
* ``aov`` — won deal attributed to the agent (owner, else the call's agent): its amount;
* ``fcr_rate`` — answered inbound call from a known number old enough to be decided: 1 when no
  inbound call from that number followed within ``fcr_window_h``;
* ``aht_s`` — handled call: talk + hold (where the source records it) + its after-call work: the
  pauses with a reason in ``acw_pause_reasons`` that start at most ``ACW_LINK_S`` seconds after the
  call's end, before the agent's next call ended. Calls of a source recording no pauses at all are
  left out (their after-call work is unknown, not 0), so AHT is null where ACW is not recorded;
* ``att_s`` — handled call: talk seconds;
* ``csat`` — CSAT answer: 1 for 4-5, else 0; ``nps`` — NPS answer: +100 promoter, -100 detractor, 0.

Cohorts are combined, not stacked into one sample: each cohort is its own comparison (its trained
agents against the untrained over the cohort's windows; an untrained observation counts once in each
comparison whose window holds it), the cohort effects are combined weighted by each cohort's number
of trained agents, with one cluster-robust (by agent) covariance over every comparison
(:func:`callkpi.stats.significance.stacked_difference_in_differences`): the effect, its 95 %
confidence interval and p-value; rates are in proportions (0.04 = 4 percentage points). The cell
counts shown count each observation once. Each group's before/after change: with one cohort its own
classical test (two-proportion z-test for rates, Welch t-test for means), with several the same
weighted combination of the cohorts' changes. The verdict is the effect's: improved / worsened / no
significant change, or not enough data (fewer than 30 observations in any of the four groups, or
fewer than 2 agents on either side).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import ibis
import numpy as np

from callkpi.config import MetricParams
from callkpi.metrics.calendar import local_midnight_slice
from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.catalogue.business import within_attribution_window
from callkpi.metrics.registry import Value
from callkpi.metrics.rollup import data_context
from callkpi.model.schema import SLICE_SECONDS
from callkpi.queries.training import handle_time_per_call
from callkpi.stats.significance import (
    MIN_AGENTS_PER_GROUP,
    MIN_OBSERVATIONS_PER_CELL,
    Estimate,
    StackedDiDResult,
    Verdict,
    stacked_difference_in_differences,
    two_proportion_ztest,
    welch_ttest_samples,
)
from callkpi.storage import Store
from callkpi.storage.business_tables import has_business_tables

Kind = Literal["binary", "continuous"]


@dataclass(frozen=True)
class OutcomeSpec:
    id: str
    kind: Kind
    higher_is_better: bool
    title: str
    unit: Literal["pp", "s", "money", "points"]


OUTCOMES: dict[str, OutcomeSpec] = {
    spec.id: spec
    for spec in (
        OutcomeSpec("conversion_rate", "binary", True, "conversion rate", "pp"),
        OutcomeSpec("aov", "continuous", True, "average order value", "money"),
        OutcomeSpec("arpc", "continuous", True, "revenue per call", "money"),
        OutcomeSpec("fcr_rate", "binary", True, "first-call resolution", "pp"),
        OutcomeSpec("aht_s", "continuous", False, "average handle time", "s"),
        OutcomeSpec("att_s", "continuous", False, "average talk time", "s"),
        OutcomeSpec("csat", "binary", True, "CSAT", "pp"),
        OutcomeSpec("nps", "continuous", True, "NPS", "points"),
    )
}
DEFAULT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Observations:
    agent: np.ndarray  # object array of agent ids
    epoch: np.ndarray  # seconds
    value: np.ndarray  # float
    # sales outcomes only: the call's deal state (won | lost | open | none) and, for a call whose deal is
    # still open, what it is worth if won (1 for conversion, the open deal's amount for revenue per call)
    state: np.ndarray | None = None
    if_won: np.ndarray | None = None


@dataclass(frozen=True)
class Change:
    """One group's before -> after change and its own significance test."""

    n_before: int
    n_after: int
    mean_before: float | None
    mean_after: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    test: str


@dataclass(frozen=True)
class Effect:
    programme: str
    metric: str
    unit: str
    window_days: int
    cohorts: int
    trained_agents: int
    control_agents: int
    cells: dict[str, int]
    trained: Change
    control: Change
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    se_kind: str
    verdict: str
    verdict_text: str
    notes: list[str] = field(default_factory=list)
    observations: int = 0  # distinct observations in any window (each once, whatever cohorts share it)
    method: str = ""
    means: dict[str, dict[str, float | None]] = field(default_factory=dict)  # cell mean and its 95 % CI
    cohort_details: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return _clean(asdict(self))


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# -- observations ---------------------------------------------------------------------------------

# Every value below is the registry's: a ratio metric's per-row values (mean(value) over the rows is
# the metric) or, for the sales outcomes, its handled calls and its attribution rule.


def _epoch(timestamp: ibis.Value) -> ibis.Value:
    return timestamp.epoch_seconds().cast("float64")


def _per_row(store: Store, metric: str, params: MetricParams) -> ibis.Table:
    return REGISTRY.observations(metric, store.ibis, params, data_context(store))


def _survey_answers(store: Store, metric: str, params: MetricParams) -> ibis.Table:
    rows = _per_row(store, metric, params)
    # timed at the answer, else at the start of its call's slice
    slice_start = (rows.slice_id * SLICE_SECONDS).cast("float64")
    return rows.select("agent", t=ibis.coalesce(_epoch(rows.answered_utc), slice_start), v=rows.value)


def _handled_legs(store: Store, metric: str, params: MetricParams) -> ibis.Table:
    rows = _per_row(store, metric, params)
    return rows.select("agent", t=_epoch(rows.offer_utc), v=rows.value)


def _decided_calls(store: Store, metric: str, params: MetricParams) -> ibis.Table:
    rows = _per_row(store, metric, params)
    return rows.select("agent", t=_epoch(rows.start_utc), v=rows.value)


def _won_deals(store: Store, metric: str, params: MetricParams) -> ibis.Table:
    rows = _per_row(store, metric, params)
    return rows.select("agent", t=_epoch(rows.event_utc), v=rows.value)


def _deals_by_call(store: Store, params: MetricParams) -> ibis.Table:
    """Per call: the deals attributed to it (named, or by number within the window) by their status."""
    attribution, deals = store.ibis.table("deal_attribution"), store.ibis.table("deals")
    joined = attribution.join(deals.select("deal_id", "status", "amount"), "deal_id")
    joined = joined.filter(within_attribution_window(joined.matched_by == "call_id", joined.gap_s, params))
    return joined.group_by(deal_call=joined.call_id).aggregate(
        won=(joined.status == "won").any(), open=(joined.status == "open").any(),
        lost=(joined.status == "lost").any(),
        revenue=joined.amount.sum(where=joined.status == "won"),
        open_amount=joined.amount.sum(where=joined.status == "open"))


def _sales_calls(store: Store, metric: str, params: MetricParams) -> ibis.Table:
    handled = REGISTRY.measures[calls_handled_measure()]
    legs = REGISTRY.facts[handled.fact].base(store.ibis)
    legs = legs.filter(handled.counts(legs, params, data_context(store)))
    calls = _deals_by_call(store, params)
    rows = legs.left_join(calls, legs.call_id == calls.deal_call)
    state = ibis.cases((rows.won, "won"), (rows.open, "open"), (rows.lost, "lost"), else_="none")
    if metric == "conversion_rate":
        value, if_won = ibis.ifelse(rows.won.fill_null(False), 1.0, 0.0), ibis.literal(1.0)
    else:
        value, if_won = rows.revenue.fill_null(0.0), rows.open_amount.fill_null(0.0)
    return rows.select("agent", t=_epoch(rows.offer_utc), v=value.cast("float64"), state=state,
                       if_won=if_won.cast("float64"))


def calls_handled_measure() -> str:
    """The measure of calls_handled: the handled calls every per-call outcome is observed on."""
    kind = REGISTRY.metrics["calls_handled"].kind
    assert isinstance(kind, Value)
    return kind.measure


_SOURCES: dict[str, Callable[[Store, str, MetricParams], ibis.Table]] = {
    "conversion_rate": _sales_calls, "arpc": _sales_calls, "aov": _won_deals, "fcr_rate": _decided_calls,
    "att_s": _handled_legs, "csat": _survey_answers, "nps": _survey_answers,
}


def observations(store: Store, metric: str, params: MetricParams) -> Observations:
    """Every observation of one outcome: agent, time (epoch seconds), value."""
    if metric == "aht_s":  # after-call work is a pause, not a column of the call: linked to the call first
        table = handle_time_per_call(store, params.acw_pause_reasons)
    else:
        rows = _SOURCES[metric](store, metric, params)
        table = store.ibis.to_pyarrow(rows.filter(rows.agent.notnull()))

    def column(name: str, dtype: Any) -> np.ndarray:
        values = table.column(name).to_numpy(zero_copy_only=False)
        return values.astype(dtype) if dtype is not object else values.astype(object)

    agents, epochs, values = column("agent", object), column("t", float), column("v", float)
    if "state" in table.column_names:
        return Observations(agents, epochs, values, column("state", object), column("if_won", float))
    return Observations(agents, epochs, values)


# -- programmes and cohorts -----------------------------------------------------------------------


@dataclass(frozen=True)
class Cohort:
    start: date
    end: date
    agents: frozenset[str]


def programmes(store: Store) -> list[str]:
    if not has_business_tables(store):
        return []
    rows = store.fetch_all(
        "SELECT DISTINCT programme FROM training_events WHERE agent IS NOT NULL ORDER BY programme")
    return [str(r[0]) for r in rows]


def cohorts(store: Store, programme: str) -> tuple[list[Cohort], set[str]]:
    """The programme's cohorts (agents by first start and last end date) and every agent trained in it."""
    rows = store.fetch_all(
        "SELECT agent, min(start_date), max(end_date) FROM training_events "
        "WHERE programme = ? AND agent IS NOT NULL GROUP BY agent",
        [programme],
    )
    by_dates: dict[tuple[date, date], set[str]] = {}
    for agent, start, end in rows:
        by_dates.setdefault((start, end), set()).add(str(agent))
    found = [Cohort(s, e, frozenset(a)) for (s, e), a in sorted(by_dates.items())]
    return found, {str(r[0]) for r in rows}


def _window_bounds(cohort: Cohort, window_days: int, timezone: str) -> tuple[float, float, float, float]:
    """[before_start, before_end) and [after_start, after_end) in epoch seconds (local days)."""
    def midnight(day: date) -> float:
        return float(local_midnight_slice(day, timezone) * SLICE_SECONDS)

    after_first = cohort.end + timedelta(days=1)
    return (midnight(cohort.start - timedelta(days=window_days)), midnight(cohort.start),
            midnight(after_first), midnight(after_first + timedelta(days=window_days)))


@dataclass
class _Stack:
    outcome: list[np.ndarray] = field(default_factory=list)
    treated: list[np.ndarray] = field(default_factory=list)
    post: list[np.ndarray] = field(default_factory=list)
    agent: list[np.ndarray] = field(default_factory=list)
    state: list[np.ndarray] = field(default_factory=list)
    if_won: list[np.ndarray] = field(default_factory=list)
    cohort: list[np.ndarray] = field(default_factory=list)
    index: list[np.ndarray] = field(default_factory=list)

    def add(self, obs: Observations, mask: np.ndarray, treated: bool, post: bool, cohort: int) -> None:
        count = int(mask.sum())
        self.outcome.append(obs.value[mask])
        self.treated.append(np.full(count, int(treated)))
        self.post.append(np.full(count, int(post)))
        self.agent.append(obs.agent[mask])
        self.state.append(obs.state[mask] if obs.state is not None else np.full(count, "none", dtype=object))
        self.if_won.append(obs.if_won[mask] if obs.if_won is not None else np.zeros(count))
        self.cohort.append(np.full(count, cohort))
        self.index.append(np.flatnonzero(mask))

    def arrays(self) -> _Stacked:
        def joined(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
            return np.concatenate(parts) if parts else np.array([], dtype=dtype)

        return _Stacked(joined(self.outcome, float), joined(self.treated, int), joined(self.post, int),
                        joined(self.agent, object), joined(self.state, object), joined(self.if_won, float),
                        joined(self.cohort, int), joined(self.index, int))


@dataclass
class _Stacked:
    """One row per observation and comparison (cohort): an untrained observation inside the windows of
    two cohorts has a row in each; ``index`` is the observation's own number, to count it once."""

    outcome: np.ndarray
    treated: np.ndarray
    post: np.ndarray
    agent: np.ndarray
    state: np.ndarray
    if_won: np.ndarray
    cohort: np.ndarray
    index: np.ndarray

    def cell(self, treated: int, post: int) -> np.ndarray:
        return (self.treated == treated) & (self.post == post)

    def distinct(self, mask: np.ndarray) -> int:
        return len(np.unique(self.index[mask]))


def _count_open_deals(data: _Stacked) -> str | None:
    """Calls whose deal is still open at the end of the data are not decided yet: each counts as the
    share of its group's closed deals that were won (times what it would bring). Without this the
    last weeks, whose deals had less time to close, would look worse for everyone, and most for the
    group that sells most. Each call is counted once per group and period (not once per cohort)."""
    pending = data.state == "open"
    if not pending.any():
        return None
    shares = []
    for treated in (1, 0):
        for post in (0, 1):
            cell = data.cell(treated, post)
            won = data.distinct(cell & (data.state == "won"))
            lost = data.distinct(cell & (data.state == "lost"))
            share = won / (won + lost) if won + lost else 0.0
            data.outcome[cell & pending] = share * data.if_won[cell & pending]
            shares.append(share)
    open_calls = data.distinct(pending)
    calls = "1 call" if open_calls == 1 else f"{open_calls} calls"
    return (f"{calls} had a deal still open at the end of the data; each counts as the "
            f"share of its group's closed deals that were won ({', '.join(f'{s:.0%}' for s in shares)} for "
            "trained before/after, untrained before/after)")


def _stack(obs: Observations, found: list[Cohort], trained_ever: set[str], window_days: int,
           timezone: str) -> _Stack:
    stack = _Stack()
    is_control = ~np.isin(obs.agent, sorted(trained_ever))
    for number, cohort in enumerate(found):
        before_lo, before_hi, after_lo, after_hi = _window_bounds(cohort, window_days, timezone)
        in_cohort = np.isin(obs.agent, sorted(cohort.agents))
        before = (obs.epoch >= before_lo) & (obs.epoch < before_hi)
        after = (obs.epoch >= after_lo) & (obs.epoch < after_hi)
        for group, treated in ((in_cohort, True), (is_control, False)):
            stack.add(obs, group & before, treated, post=False, cohort=number)
            stack.add(obs, group & after, treated, post=True, cohort=number)
    return stack


# -- the comparison -------------------------------------------------------------------------------


def _change(values: np.ndarray, post: np.ndarray, kind: Kind) -> Change:
    before, after = values[post == 0], values[post == 1]
    mean_b = float(before.mean()) if before.size else None
    mean_a = float(after.mean()) if after.size else None
    if kind == "binary":
        if before.size == 0 or after.size == 0:
            return Change(before.size, after.size, mean_b, mean_a, None, None, None, None, "two-proportion z-test")
        # successes are whole numbers (open deals may have added shares of one)
        z = two_proportion_ztest(round(after.sum()), after.size, round(before.sum()), before.size)
        return Change(before.size, after.size, mean_b, mean_a, z.difference, z.ci_low, z.ci_high, z.p_value,
                      "two-proportion z-test")
    if before.size < 2 or after.size < 2 or (before.std() == 0 and after.std() == 0):
        difference = mean_a - mean_b if mean_a is not None and mean_b is not None else None
        return Change(before.size, after.size, mean_b, mean_a, difference, None, None, None, "Welch t-test")
    t = welch_ttest_samples(after, before)
    return Change(before.size, after.size, mean_b, mean_a, t.difference, t.ci_low, t.ci_high, t.p_value,
                  "Welch t-test")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


METHOD = ("each cohort (agents trained on the same dates) is its own comparison: its trained agents against the "
          "untrained over the cohort's windows; cohort effects are combined weighted by their trained agents; "
          "standard errors clustered by agent")
_CELL_NAMES = {"trained_before": "treated_pre", "trained_after": "treated_post",
               "untrained_before": "control_pre", "untrained_after": "control_post"}


def _interval(value: Estimate) -> dict[str, float | None]:
    return {"mean": _finite(value.estimate), "ci_low": _finite(value.ci_low), "ci_high": _finite(value.ci_high)}


def _combined_change(result: StackedDiDResult, group: str, n_before: int, n_after: int) -> Change:
    prefix = "treated" if group == "trained" else "control"
    before, after = result.means[f"{prefix}_pre"], result.means[f"{prefix}_post"]
    change = result.changes[prefix]
    return Change(n_before, n_after, _finite(before.estimate), _finite(after.estimate), _finite(change.estimate),
                  _finite(change.ci_low), _finite(change.ci_high), _finite(change.p_value),
                  "cluster-robust t-test (agent), cohorts weighted")


def _cohort_details(data: _Stacked, found: list[Cohort], result: StackedDiDResult) -> list[dict[str, Any]]:
    details = []
    for number, cohort in enumerate(found):
        rows = data.cohort == number
        cells = {name: int((rows & data.cell(t, p)).sum())
                 for name, (t, p) in (("trained_before", (1, 0)), ("trained_after", (1, 1)),
                                      ("untrained_before", (0, 0)), ("untrained_after", (0, 1)))}
        details.append({"start": cohort.start.isoformat(), "end": cohort.end.isoformat(),
                        "agents": len(cohort.agents), "weight": result.weights.get(number),
                        "effect": _finite(result.per_stack[number]) if number in result.per_stack else None,
                        "cells": cells})
    return details


def estimate(programme: str, metric: str, obs: Observations, found: list[Cohort], trained_ever: set[str],
             window_days: int, timezone: str) -> Effect:
    spec = OUTCOMES[metric]
    data = _stack(obs, found, trained_ever, window_days, timezone).arrays()
    notes = [n for n in (_count_open_deals(data),) if n]
    if metric == "aht_s" and obs.value.size == 0:
        notes.append("after-call work is not recorded by the loaded sources (no pauses): handle time is unknown, "
                     "see average talk time")
    weights: dict[object, float] = {number: float(len(c.agents)) for number, c in enumerate(found)}
    result = stacked_difference_in_differences(data.outcome, data.treated, data.post, data.cohort, data.agent,
                                               data.index, weights, higher_is_better=spec.higher_is_better)
    cells = {name: data.distinct(data.cell(t, p))
             for name, (t, p) in (("trained_before", (1, 0)), ("trained_after", (1, 1)),
                                  ("untrained_before", (0, 0)), ("untrained_after", (0, 1)))}
    trained_agents = len(set(data.agent[data.treated == 1]))
    control_agents = len(set(data.agent[data.treated == 0]))
    if len(found) == 1:  # one comparison: each group's change by its own classical test
        changes = (_change(data.outcome[data.treated == 1], data.post[data.treated == 1], spec.kind),
                   _change(data.outcome[data.treated == 0], data.post[data.treated == 0], spec.kind))
    else:
        changes = (_combined_change(result, "trained", cells["trained_before"], cells["trained_after"]),
                   _combined_change(result, "untrained", cells["untrained_before"], cells["untrained_after"]))
    effect = result.effect
    values = (_finite(effect.estimate), _finite(effect.ci_low), _finite(effect.ci_high), _finite(effect.p_value))
    verdict = result.verdict.value
    if values[0] is None:
        verdict = Verdict.NOT_ENOUGH_DATA.value
    if result.dropped:
        notes.append(f"{len(result.dropped)} cohort(s) left out: a group had no observation in a window")
    shared = len(data.index[data.treated == 0]) - cells["untrained_before"] - cells["untrained_after"]
    if shared > 0:
        notes.append(f"{shared} untrained observation(s) lie in the windows of several cohorts: each cohort compares "
                     "with them, the counts show each once")
    text = verdict_text(spec, verdict, values, cells, trained_agents, control_agents)
    means = {name: _interval(result.means[key]) for name, key in _CELL_NAMES.items()}
    return Effect(programme, metric, spec.unit, window_days, len(found), trained_agents, control_agents, cells,
                  changes[0], changes[1], *values, se_kind="cluster_agent", verdict=verdict, verdict_text=text,
                  notes=notes, observations=data.distinct(np.ones(data.index.size, dtype=bool)), method=METHOD,
                  means=means, cohort_details=_cohort_details(data, found, result))


def training_effect(
    store: Store,
    params: MetricParams,
    *,
    programme: str | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
    metrics: Sequence[str] = tuple(OUTCOMES),
) -> list[Effect]:
    """One :class:`Effect` per programme and metric."""
    unknown = [m for m in metrics if m not in OUTCOMES]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(OUTCOMES)}")
    if window_days < 1:
        raise ValueError("the window must be at least one day")
    names = programmes(store) if programme is None else [programme]
    cached = {m: observations(store, m, params) for m in metrics} if names else {}
    results = []
    for name in names:
        found, trained_ever = cohorts(store, name)
        for metric in metrics:
            results.append(estimate(name, metric, cached[metric], found, trained_ever, window_days, params.timezone))
    return results


# -- plain language -------------------------------------------------------------------------------


def format_amount(spec: OutcomeSpec, value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    sign = "+" if signed else ""
    if spec.unit == "pp":
        return f"{value * 100:{sign}.1f} pp"
    if spec.unit == "s":
        return f"{value:{sign}.1f} s"
    if spec.unit == "points":
        return f"{value:{sign}.1f} points"
    return f"{value:{sign},.0f}".replace(",", " ")


def verdict_text(spec: OutcomeSpec, verdict: str, values: tuple[float | None, ...], cells: dict[str, int],
                 trained_agents: int, control_agents: int) -> str:
    effect, low, high, p_value = values
    if verdict == Verdict.NOT_ENOUGH_DATA.value or effect is None:
        sizes = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in cells.items())
        return (f"not enough data: needs at least {MIN_OBSERVATIONS_PER_CELL} observations in each group and "
                f"{MIN_AGENTS_PER_GROUP} agents on each side ({sizes}; {trained_agents} trained and "
                f"{control_agents} untrained agents)")
    interval = (f"95 % CI {format_amount(spec, low, signed=True)} to {format_amount(spec, high, signed=True)}, "
                f"p = {p_value:.3g}")
    moved = "rose" if effect > 0 else "fell"
    size = format_amount(spec, abs(effect))
    if verdict == Verdict.NO_SIGNIFICANT_CHANGE.value:
        shift = format_amount(spec, effect, signed=True)
        return (f"no significant change: {spec.title} of trained agents moved {shift} against untrained agents "
                f"({interval})")
    word = "improved" if verdict == Verdict.IMPROVED.value else "worsened"
    return f"{word}: {spec.title} {moved} by {size} more than for untrained agents ({interval})"
