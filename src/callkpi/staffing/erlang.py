"""Erlang B, Erlang C and Erlang A (M/M/N+M) queueing formulas for contact-centre staffing.

Pure functions, no I/O. Inputs use natural contact-centre units: offered calls per interval,
interval length in seconds, average handle time (AHT) in seconds, target answer time in seconds
and mean caller patience in seconds. Offered traffic is ``A = calls × AHT / interval_s`` erlangs.

Formulas follow docs/sources.md#erlang-b-c-a (sources: pyworkforce ``erlang.py`` /
``abandonment.py``; Garnett, Mandelbaum & Reiman 2002 for Erlang A):

* Erlang B: ``B(A, 0) = 1``, ``B(A, n) = A·B(A, n−1) / (n + A·B(A, n−1))`` — the recursive form,
  numerically stable for thousands of servers (no factorials, no overflow).
* Erlang C: ``C(N, A) = N·B / (N − A·(1 − B))`` for ``N > A``; service level
  ``P(W ≤ t) = 1 − C·exp(−(N − A)·t / AHT)``; ASA over all calls ``C·AHT / (N − A)``;
  occupancy ``A / N``.
* Erlang A: birth–death chain with birth rate λ and death rate ``min(n, N)·μ + max(n − N, 0)·θ``
  (θ = 1 / mean patience), solved in log space; service level by uniformisation of the
  tagged-customer chain.
* Scheduled agents with shrinkage: ``ceil(N / (1 − shrinkage))``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
from scipy import stats
from scipy.special import gammaln, logsumexp

__all__ = [
    "ErlangAResult",
    "ErlangCResult",
    "IntervalDemand",
    "IntervalStaffing",
    "StaffingModel",
    "StaffingRequirement",
    "erlang_a",
    "erlang_a_agents_required",
    "erlang_b",
    "erlang_c",
    "erlang_c_agents_required",
    "erlang_c_asa_s",
    "erlang_c_p_wait",
    "erlang_c_service_level",
    "offered_traffic_erlangs",
    "scheduled_agents",
    "staffing_plan",
]

StaffingModel = Literal["erlang_c", "erlang_a"]

# Largest staff level any search will try; far above any real queue, guards against endless loops.
MAX_AGENTS = 1_000_000
# Largest number of queue states kept for the Erlang A chain (memory/time guard).
_MAX_ERLANG_A_QUEUE_STATES = 5_000_000
# Relative mass of the Erlang A stationary tail that may be dropped by truncation.
_ERLANG_A_TAIL_TOLERANCE = 1e-16
# Poisson tail mass ignored when truncating the uniformisation series.
_UNIFORMISATION_TAIL = 1e-15
# Slack for float comparisons of ratios such as 14 / 20 ≤ 0.7 or 14 / 0.7 = 20.
_FLOAT_SLACK = 1e-9


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErlangCResult:
    """Erlang C (M/M/N) performance of ``agents`` agents.

    ``service_level`` is P(wait ≤ target_s) over all calls; ``asa_s`` is the mean wait over all calls
    (answered immediately ones count as 0 s). When ``agents ≤ traffic_erlangs`` the queue is unstable:
    ``p_wait = 1``, ``service_level = 0``, ``asa_s = inf``, ``occupancy = 1``.
    """

    agents: int
    traffic_erlangs: float
    target_s: float
    p_wait: float
    service_level: float
    asa_s: float
    occupancy: float


@dataclass(frozen=True, slots=True)
class ErlangAResult:
    """Erlang A (M/M/N+M) performance of ``agents`` agents with exponential caller patience.

    ``service_level`` is P(answered within target_s) over *all* arrivals — abandoners count as
    failures. ``mean_wait_s`` is the mean time in queue over all arrivals (``Lq / λ``, abandoners
    included with their time to abandon), the quantity pyworkforce calls "average speed of answer".
    """

    agents: int
    traffic_erlangs: float
    target_s: float
    mean_patience_s: float
    p_wait: float
    p_abandon: float
    service_level: float
    mean_wait_s: float
    mean_queue_length: float
    occupancy: float


@dataclass(frozen=True, slots=True)
class StaffingRequirement:
    """Smallest raw staff meeting the targets, and the staff to schedule after shrinkage."""

    model: StaffingModel
    raw_agents: int
    scheduled_agents: int
    shrinkage: float
    performance: ErlangCResult | ErlangAResult


class IntervalDemand(NamedTuple):
    """One forecast interval for :func:`staffing_plan`; no patience → Erlang C, otherwise Erlang A."""

    label: str
    offered_calls: float
    aht_s: float
    mean_patience_s: float | None = None


@dataclass(frozen=True, slots=True)
class IntervalStaffing:
    """Staffing requirement for one interval of a :func:`staffing_plan`."""

    label: str
    offered_calls: float
    aht_s: float
    traffic_erlangs: float
    model: StaffingModel
    raw_agents: int
    scheduled_agents: int
    service_level: float
    p_wait: float
    p_abandon: float | None
    occupancy: float


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _check_finite_non_negative(name: str, value: float) -> None:
    _require(math.isfinite(value) and value >= 0, f"{name} must be a finite number >= 0, got {value!r}")


def _check_positive(name: str, value: float) -> None:
    _require(math.isfinite(value) and value > 0, f"{name} must be a finite number > 0, got {value!r}")


def _check_agents(agents: int) -> None:
    _require(
        isinstance(agents, int | np.integer) and not isinstance(agents, bool) and agents >= 0,
        f"agents must be an integer >= 0, got {agents!r}",
    )


def _check_fraction(name: str, value: float, *, low_open: bool, high_open: bool) -> None:
    low_ok = value > 0 if low_open else value >= 0
    high_ok = value < 1 if high_open else value <= 1
    interval = f"{'(' if low_open else '['}0, 1{')' if high_open else ']'}"
    _require(math.isfinite(value) and low_ok and high_ok, f"{name} must be in {interval}, got {value!r}")


def _check_demand(calls: float, interval_s: float, aht_s: float) -> None:
    _check_finite_non_negative("calls", calls)
    _check_positive("interval_s", interval_s)
    _check_positive("aht_s", aht_s)


# --------------------------------------------------------------------------------------------
# Shared building blocks
# --------------------------------------------------------------------------------------------


def offered_traffic_erlangs(calls: float, interval_s: float, aht_s: float) -> float:
    """Offered traffic ``A = λ·AHT = calls × aht_s / interval_s`` in erlangs (docs/sources.md#erlang-b-c-a)."""
    _check_demand(calls, interval_s, aht_s)
    return calls * aht_s / interval_s


def scheduled_agents(raw_agents: int, shrinkage: float) -> int:
    """Agents to schedule so that ``raw_agents`` remain after shrinkage: ``ceil(N / (1 − shrinkage))``.

    Source: docs/sources.md#occupancy-utilization-and-shrinkage (pyworkforce; callcentrehelper 14 → 20 at
    30 %). A tiny slack keeps float noise such as ``14 / 0.7 = 20.000000000000004`` from adding an agent.
    """
    _check_agents(raw_agents)
    _check_fraction("shrinkage", shrinkage, low_open=False, high_open=True)
    return max(0, math.ceil(raw_agents / (1.0 - shrinkage) - _FLOAT_SLACK))


def _smallest_feasible(is_feasible: Callable[[int], bool], lower: int) -> int:
    """Smallest ``n ≥ lower`` with ``is_feasible(n)``, for a predicate monotone in ``n``.

    Galloping (doubling) search for an upper bracket, then bisection: O(log n) evaluations.
    """
    if is_feasible(lower):
        return lower
    infeasible, step = lower, 1
    while True:
        candidate = infeasible + step
        _require(candidate <= MAX_AGENTS, f"no staff level up to {MAX_AGENTS} agents meets the targets")
        if is_feasible(candidate):
            break
        infeasible, step = candidate, step * 2
    feasible = candidate
    while feasible - infeasible > 1:
        middle = (feasible + infeasible) // 2
        if is_feasible(middle):
            feasible = middle
        else:
            infeasible = middle
    return feasible


# --------------------------------------------------------------------------------------------
# Erlang B and Erlang C
# --------------------------------------------------------------------------------------------


def erlang_b(traffic_erlangs: float, servers: int) -> float:
    """Erlang B blocking probability ``B(A, N)`` by the stable recursion of docs/sources.md#erlang-b-c-a.

    ``B(A, 0) = 1``; ``B(A, n) = A·B(A, n−1) / (n + A·B(A, n−1))``. O(N), no overflow for large A or N.
    """
    _check_finite_non_negative("traffic_erlangs", traffic_erlangs)
    _check_agents(servers)
    blocking = 1.0
    for n in range(1, int(servers) + 1):
        blocking = traffic_erlangs * blocking / (n + traffic_erlangs * blocking)
    return blocking


def erlang_c_p_wait(traffic_erlangs: float, agents: int) -> float:
    """Erlang C probability that a call waits, ``C = N·B / (N − A·(1 − B))`` (docs/sources.md#erlang-b-c-a).

    Returns 1 when ``agents ≤ traffic_erlangs`` (unstable queue) and 0 for zero traffic.
    """
    _check_finite_non_negative("traffic_erlangs", traffic_erlangs)
    _check_agents(agents)
    if traffic_erlangs == 0:
        return 0.0
    if agents <= traffic_erlangs:
        return 1.0
    blocking = erlang_b(traffic_erlangs, agents)
    return agents * blocking / (agents - traffic_erlangs * (1.0 - blocking))


def erlang_c_service_level(traffic_erlangs: float, agents: int, aht_s: float, target_s: float) -> float:
    """Erlang C service level ``P(W ≤ t) = 1 − C·exp(−(N − A)·t / AHT)`` over all calls."""
    _check_positive("aht_s", aht_s)
    _check_finite_non_negative("target_s", target_s)
    p_wait = erlang_c_p_wait(traffic_erlangs, agents)
    if p_wait == 0.0:
        return 1.0
    if agents <= traffic_erlangs:
        return 0.0
    return 1.0 - p_wait * math.exp(-(agents - traffic_erlangs) * target_s / aht_s)


def erlang_c_asa_s(traffic_erlangs: float, agents: int, aht_s: float) -> float:
    """Erlang C average speed of answer over all calls, ``C·AHT / (N − A)`` seconds (inf if unstable)."""
    _check_positive("aht_s", aht_s)
    p_wait = erlang_c_p_wait(traffic_erlangs, agents)
    if p_wait == 0.0:
        return 0.0
    if agents <= traffic_erlangs:
        return math.inf
    return p_wait * aht_s / (agents - traffic_erlangs)


def _erlang_c_occupancy(traffic_erlangs: float, agents: int) -> float:
    if traffic_erlangs == 0:
        return 0.0
    if agents <= traffic_erlangs:
        return 1.0
    return traffic_erlangs / agents


def _erlang_c_from_traffic(traffic: float, aht_s: float, agents: int, target_s: float) -> ErlangCResult:
    return ErlangCResult(
        agents=int(agents),
        traffic_erlangs=traffic,
        target_s=target_s,
        p_wait=erlang_c_p_wait(traffic, agents),
        service_level=erlang_c_service_level(traffic, agents, aht_s, target_s),
        asa_s=erlang_c_asa_s(traffic, agents, aht_s),
        occupancy=_erlang_c_occupancy(traffic, agents),
    )


def erlang_c(calls: float, interval_s: float, aht_s: float, *, agents: int, target_s: float) -> ErlangCResult:
    """Erlang C metrics for ``calls`` offered in ``interval_s`` seconds, handled by ``agents`` agents.

    See the module docstring for the formulas. Example (docs/sources.md#published-erlang-test-vectors V1):
    100 calls / 1800 s, AHT 180 s, 14 agents, 20 s target → P(wait) 0.1741, SL 0.8884, ASA 7.84 s, occupancy 0.714.
    """
    _check_agents(agents)
    _check_finite_non_negative("target_s", target_s)
    traffic = offered_traffic_erlangs(calls, interval_s, aht_s)
    return _erlang_c_from_traffic(traffic, aht_s, agents, target_s)


def _check_targets(service_level_target: float, max_occupancy: float, shrinkage: float) -> None:
    _check_fraction("service_level_target", service_level_target, low_open=False, high_open=True)
    _check_fraction("max_occupancy", max_occupancy, low_open=True, high_open=False)
    _check_fraction("shrinkage", shrinkage, low_open=False, high_open=True)


def erlang_c_agents_required(
    calls: float,
    interval_s: float,
    aht_s: float,
    *,
    target_s: float,
    service_level_target: float,
    max_occupancy: float = 1.0,
    shrinkage: float = 0.0,
) -> StaffingRequirement:
    """Smallest ``N > A`` with Erlang C ``SL(target_s) ≥ service_level_target`` and ``A / N ≤ max_occupancy``.

    Scheduled agents are ``ceil(N / (1 − shrinkage))``. A P(wait) target ``p`` is the special case
    ``target_s = 0``, ``service_level_target = 1 − p`` because ``SL(0) = 1 − C``. Zero offered
    traffic needs 0 agents. ``service_level_target`` must be < 1 (Erlang C never reaches 100 %).
    """
    _check_finite_non_negative("target_s", target_s)
    _check_targets(service_level_target, max_occupancy, shrinkage)
    traffic = offered_traffic_erlangs(calls, interval_s, aht_s)
    if traffic == 0:
        raw = 0
    else:

        def meets_targets(agents: int) -> bool:
            occupancy_ok = traffic / agents <= max_occupancy + _FLOAT_SLACK
            return occupancy_ok and erlang_c_service_level(traffic, agents, aht_s, target_s) >= service_level_target

        smallest_stable = math.floor(traffic) + 1
        smallest_within_occupancy = math.ceil(traffic / max_occupancy - _FLOAT_SLACK)
        raw = _smallest_feasible(meets_targets, max(smallest_stable, smallest_within_occupancy))
    return StaffingRequirement(
        model="erlang_c",
        raw_agents=raw,
        scheduled_agents=scheduled_agents(raw, shrinkage),
        shrinkage=shrinkage,
        performance=_erlang_c_from_traffic(traffic, aht_s, raw, target_s),
    )


# --------------------------------------------------------------------------------------------
# Erlang A (M/M/N+M)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ErlangAChain:
    """Rates (per second) of the Erlang A birth–death chain for a fixed number of agents."""

    arrival_rate: float
    aht_s: float
    mean_patience_s: float
    agents: int

    @property
    def service_rate(self) -> float:
        return 1.0 / self.aht_s

    @property
    def abandon_rate(self) -> float:
        return 1.0 / self.mean_patience_s

    @property
    def traffic_erlangs(self) -> float:
        return self.arrival_rate * self.aht_s

    @property
    def total_service_rate(self) -> float:
        return self.agents * self.service_rate


def _erlang_a_queue_log_weights(chain: _ErlangAChain, queue_states: int) -> np.ndarray:
    """Unnormalised ``log π_{N+k}`` relative to ``log π_N`` for k = 0..queue_states.

    ``π_{N+k} = π_{N+k−1}·λ / (N·μ + k·θ)`` (docs/sources.md#erlang-b-c-a).
    """
    k = np.arange(1, queue_states + 1, dtype=float)
    log_ratios = math.log(chain.arrival_rate) - np.log(chain.total_service_rate + k * chain.abandon_rate)
    return np.concatenate(([0.0], np.cumsum(log_ratios)))


def _erlang_a_tail_is_negligible(chain: _ErlangAChain, log_weights: np.ndarray, log_total: float) -> bool:
    """True when the dropped states beyond the last one carry < 1e-16 of the mass.

    Beyond state ``N + K`` the ratio ``r = λ / (Nμ + (K+1)θ)`` only decreases, so the dropped mass is at
    most ``π_{N+K}·r / (1 − r)`` (geometric bound).
    """
    queue_states = len(log_weights) - 1
    next_ratio = chain.arrival_rate / (chain.total_service_rate + (queue_states + 1) * chain.abandon_rate)
    if next_ratio >= 1.0:
        return False
    log_dropped_bound = log_weights[-1] + math.log(next_ratio) - math.log1p(-next_ratio)
    return log_dropped_bound - log_total < math.log(_ERLANG_A_TAIL_TOLERANCE)


def _erlang_a_stationary(chain: _ErlangAChain) -> tuple[float, np.ndarray]:
    """Stationary distribution: (P(n < N), array of π_{N+k} for k = 0..K), computed in log space.

    ``π_n ∝ A^n / n!`` for ``n ≤ N``, then the abandonment-damped tail; the tail is extended (by half
    its length) until its remainder is below 1e-16 of the total mass.
    """
    n = np.arange(chain.agents + 1, dtype=float)
    log_head = n * math.log(chain.traffic_erlangs) - gammaln(n + 1)  # log(A^n / n!), n = 0..N
    overload_states = (chain.arrival_rate - chain.total_service_rate) / chain.abandon_rate
    queue_states = max(64, math.ceil(overload_states) + 64)
    while True:
        log_queue = log_head[-1] + _erlang_a_queue_log_weights(chain, queue_states)
        log_all = np.concatenate((log_head[:-1], log_queue))
        log_total = float(logsumexp(log_all))
        if _erlang_a_tail_is_negligible(chain, log_queue, log_total):
            break
        queue_states += queue_states // 2
        _require(
            queue_states <= _MAX_ERLANG_A_QUEUE_STATES,
            "Erlang A queue too long to evaluate (patience far above the overload); use Erlang C",
        )
    p_no_wait = float(np.exp(logsumexp(log_head[:-1]) - log_total)) if chain.agents > 0 else 0.0
    return p_no_wait, np.exp(log_queue - log_total)


def _poisson_weights(mean: float) -> np.ndarray:
    """Poisson(mean) probabilities for 0..k_max, where the ignored upper tail is < 1e-15."""
    k_max = int(stats.poisson.isf(_UNIFORMISATION_TAIL, mean)) + 1 if mean > 0 else 0
    return stats.poisson.pmf(np.arange(k_max + 1), mean)


def _answered_within_given_position(chain: _ErlangAChain, positions: int, target_s: float) -> np.ndarray:
    """``G[j]`` = P(a waiting caller with ``j`` callers ahead is answered within ``target_s``).

    Tagged-customer chain (docs/sources.md#erlang-b-c-a, as pyworkforce ``abandonment.py``): from position
    ``j ≥ 1`` the caller moves to ``j − 1`` at rate ``Nμ + jθ`` (a service completion or an abandon
    ahead), from ``j = 0`` is answered at rate ``Nμ``, and abandons at rate ``θ`` from any position.
    Uniformisation with rate ``Λ = Nμ + positions·θ`` (the outflow of the deepest position):
    ``G = Σ_k Poisson(k; Λt)·h_k``, where ``h_k[j]`` is the probability of having been answered within
    ``k`` steps of the embedded discrete chain.
    Because a caller advances at most one position per step, only positions ``j < k_max`` matter.
    """
    uniform_rate = chain.total_service_rate + positions * chain.abandon_rate
    weights = _poisson_weights(uniform_rate * target_s)
    reachable = min(positions, len(weights))
    j = np.arange(reachable, dtype=float)
    p_advance = (chain.total_service_rate + j * chain.abandon_rate) / uniform_rate  # j = 0: answered
    p_stay = 1.0 - p_advance - chain.abandon_rate / uniform_rate
    answered_by_step = np.zeros(reachable)
    answered_within = np.zeros(reachable)
    for weight in weights[1:]:
        previous = answered_by_step
        answered_by_step = p_stay * previous
        answered_by_step[0] += p_advance[0]
        answered_by_step[1:] += p_advance[1:] * previous[:-1]
        answered_within += weight * answered_by_step
    return np.concatenate((answered_within, np.zeros(positions - reachable)))


def _erlang_a_from_chain(chain: _ErlangAChain, target_s: float) -> ErlangAResult:
    p_no_wait, queue_probs = _erlang_a_stationary(chain)
    mean_queue_length = float(np.dot(np.arange(len(queue_probs)), queue_probs))
    p_abandon = min(1.0, chain.abandon_rate * mean_queue_length / chain.arrival_rate)
    answered_within = _answered_within_given_position(chain, len(queue_probs), target_s)
    service_level = min(1.0, p_no_wait + float(np.dot(queue_probs, answered_within)))
    occupancy = chain.traffic_erlangs * (1.0 - p_abandon) / chain.agents if chain.agents else 0.0
    return ErlangAResult(
        agents=chain.agents,
        traffic_erlangs=chain.traffic_erlangs,
        target_s=target_s,
        mean_patience_s=chain.mean_patience_s,
        p_wait=float(queue_probs.sum()),  # summed directly: keeps relative precision when tiny
        p_abandon=p_abandon,
        service_level=service_level,
        mean_wait_s=mean_queue_length / chain.arrival_rate,
        mean_queue_length=mean_queue_length,
        occupancy=min(occupancy, 1.0),  # rounding can put a saturated centre a hair above 100 %
    )


def _erlang_a_idle(agents: int, target_s: float, mean_patience_s: float) -> ErlangAResult:
    """Erlang A result for zero offered traffic: nobody waits, everything is 'within target'."""
    return ErlangAResult(
        agents=agents,
        traffic_erlangs=0.0,
        target_s=target_s,
        mean_patience_s=mean_patience_s,
        p_wait=0.0,
        p_abandon=0.0,
        service_level=1.0,
        mean_wait_s=0.0,
        mean_queue_length=0.0,
        occupancy=0.0,
    )


def erlang_a(
    calls: float,
    interval_s: float,
    aht_s: float,
    *,
    agents: int,
    target_s: float,
    mean_patience_s: float,
) -> ErlangAResult:
    """Erlang A (M/M/N+M) metrics with exponential patience of mean ``mean_patience_s`` seconds.

    ``P(wait) = Σ_{n≥N} π_n``; ``Lq = Σ (n−N)·π_n``; ``P(abandon) = θ·Lq / λ``; mean wait over all
    arrivals ``Lq / λ``; occupancy ``λ·(1 − P_ab) / (N·μ)``; service level = P(answered within
    ``target_s``) over all arrivals, by uniformisation (docs/sources.md#erlang-b-c-a). Stable for any ``N``
    (abandonment bounds the queue). As patience → ∞ the metrics tend to Erlang C. Example
    (docs/sources.md#published-erlang-test-vectors V6): 100 calls / 1800 s, AHT 180 s, patience 300 s, 14 agents, 20 s →
    P(wait) 0.14526, P(abandon) 0.013984, SL 0.916792.
    """
    _check_agents(agents)
    _check_finite_non_negative("target_s", target_s)
    _check_positive("mean_patience_s", mean_patience_s)
    traffic = offered_traffic_erlangs(calls, interval_s, aht_s)
    if traffic == 0:
        return _erlang_a_idle(int(agents), target_s, mean_patience_s)
    chain = _ErlangAChain(
        arrival_rate=calls / interval_s,
        aht_s=aht_s,
        mean_patience_s=mean_patience_s,
        agents=int(agents),
    )
    return _erlang_a_from_chain(chain, target_s)


def erlang_a_agents_required(
    calls: float,
    interval_s: float,
    aht_s: float,
    *,
    target_s: float,
    service_level_target: float,
    mean_patience_s: float,
    max_occupancy: float = 1.0,
    max_abandon_rate: float = 1.0,
    shrinkage: float = 0.0,
) -> StaffingRequirement:
    """Smallest ``N`` whose Erlang A SL ≥ target, occupancy ≤ ``max_occupancy`` and P(abandon) ≤ ``max_abandon_rate``.

    SL counts abandoners as failures. Since SL ≤ 1 − P(abandon) = N·occupancy / A ≤ N / A, the search
    starts at ``ceil(service_level_target · A)``; all three criteria are monotone in N, so a galloping
    search plus bisection is used. Scheduled agents are ``ceil(N / (1 − shrinkage))``; zero offered
    traffic needs 0 agents.
    """
    _check_finite_non_negative("target_s", target_s)
    _check_positive("mean_patience_s", mean_patience_s)
    _check_targets(service_level_target, max_occupancy, shrinkage)
    _check_fraction("max_abandon_rate", max_abandon_rate, low_open=False, high_open=False)

    def performance(agents: int) -> ErlangAResult:
        return erlang_a(calls, interval_s, aht_s, agents=agents, target_s=target_s, mean_patience_s=mean_patience_s)

    def meets_targets(agents: int) -> bool:
        result = performance(agents)
        return (
            result.service_level >= service_level_target
            and result.occupancy <= max_occupancy + _FLOAT_SLACK
            and result.p_abandon <= max_abandon_rate
        )

    traffic = offered_traffic_erlangs(calls, interval_s, aht_s)
    raw = 0 if traffic == 0 else _smallest_feasible(meets_targets, max(1, math.ceil(service_level_target * traffic)))
    return StaffingRequirement(
        model="erlang_a",
        raw_agents=raw,
        scheduled_agents=scheduled_agents(raw, shrinkage),
        shrinkage=shrinkage,
        performance=performance(raw),
    )


# --------------------------------------------------------------------------------------------
# Staffing plan over many intervals
# --------------------------------------------------------------------------------------------

IntervalRow = IntervalDemand | Sequence[Any] | Mapping[str, Any]


def _as_interval_demand(row: IntervalRow) -> IntervalDemand:
    """Accept an :class:`IntervalDemand`, a (label, calls, aht_s[, patience]) tuple or a mapping."""
    if isinstance(row, IntervalDemand):
        return row
    if isinstance(row, Mapping):
        fields = (row["label"], row["offered_calls"], row["aht_s"], row.get("mean_patience_s"))
    else:
        _require(len(row) in (3, 4), f"interval row needs 3 or 4 fields, got {row!r}")
        fields = (*row, None)[:4]
    label, offered_calls, aht_s, mean_patience_s = fields
    return IntervalDemand(
        label=str(label),
        offered_calls=float(offered_calls),
        aht_s=float(aht_s),
        mean_patience_s=None if mean_patience_s is None else float(mean_patience_s),
    )


def _plan_interval(
    demand: IntervalDemand,
    *,
    interval_s: float,
    target_s: float,
    service_level_target: float,
    max_occupancy: float,
    max_abandon_rate: float,
    shrinkage: float,
) -> IntervalStaffing:
    common = {
        "target_s": target_s,
        "service_level_target": service_level_target,
        "max_occupancy": max_occupancy,
        "shrinkage": shrinkage,
    }
    if demand.mean_patience_s is None:
        requirement = erlang_c_agents_required(demand.offered_calls, interval_s, demand.aht_s, **common)
    else:
        requirement = erlang_a_agents_required(
            demand.offered_calls,
            interval_s,
            demand.aht_s,
            mean_patience_s=demand.mean_patience_s,
            max_abandon_rate=max_abandon_rate,
            **common,
        )
    performance = requirement.performance
    p_abandon = performance.p_abandon if isinstance(performance, ErlangAResult) else None
    return IntervalStaffing(
        label=demand.label,
        offered_calls=demand.offered_calls,
        aht_s=demand.aht_s,
        traffic_erlangs=performance.traffic_erlangs,
        model=requirement.model,
        raw_agents=requirement.raw_agents,
        scheduled_agents=requirement.scheduled_agents,
        service_level=performance.service_level,
        p_wait=performance.p_wait,
        p_abandon=p_abandon,
        occupancy=performance.occupancy,
    )


def staffing_plan(
    rows: Iterable[IntervalRow],
    *,
    interval_s: float,
    target_s: float,
    service_level_target: float,
    max_occupancy: float = 1.0,
    max_abandon_rate: float = 1.0,
    shrinkage: float = 0.0,
) -> list[IntervalStaffing]:
    """Raw and scheduled agents for each forecast interval, in input order.

    Each row is ``(label, offered_calls, aht_s[, mean_patience_s])`` (tuple, :class:`IntervalDemand` or
    mapping with those keys). Rows with a mean patience use Erlang A
    (:func:`erlang_a_agents_required`, also bounded by ``max_abandon_rate``); rows without use
    Erlang C (:func:`erlang_c_agents_required`). Offered calls should include abandoned calls
    (docs/sources.md#erlang-b-c-a).
    """
    return [
        _plan_interval(
            _as_interval_demand(row),
            interval_s=interval_s,
            target_s=target_s,
            service_level_target=service_level_target,
            max_occupancy=max_occupancy,
            max_abandon_rate=max_abandon_rate,
            shrinkage=shrinkage,
        )
        for row in rows
    ]
