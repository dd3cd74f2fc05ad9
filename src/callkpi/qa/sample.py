"""The review sample: which calls reviewers should listen to.

Every business day, :func:`draw_sample` takes ``qa_sample_share`` of each agent's handled calls
(calls the agent answered with at least ``min_talk_s`` of talk: shorter ones cannot be judged),
stratified by agent and call type: each agent gets ``round(n x share)`` calls, spread over
their call types by largest remainder. Within a stratum calls are ordered by a hash of the seed,
day and call id, so the same seed always draws the same calls, whatever order rows are stored in.
Drawing a day again replaces that day's random sample. :func:`pick_by_rule` adds calls of new
agents, agents below the CQR plan, long calls, calls with a low survey score and calls whose transcript's
script adherence is below ``adherence_below`` (docs/speech.md);
:func:`pick_call` adds one call by hand.

Reads and writes go through the store's portable SQL (``Store.fetch_all`` / ``execute``), so the
sample and the review queue work on DuckDB and ClickHouse alike. On ClickHouse, which has no
transaction, drawing a day again deletes its sample and then inserts the new one (two statements).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ibis

from callkpi.config import MetricParams
from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.catalogue.business import LOW_SURVEY_ANSWERS
from callkpi.metrics.registry import Context
from callkpi.qa.scorecards import Scorecard, list_scorecards
from callkpi.storage import Store, first_row
from callkpi.storage.portable_sql import in_list

DEFAULT_SEED = "callkpi-qa"
RULES = ("new_agent", "missed_plan", "long_call", "low_csat", "low_adherence")
DEFAULT_ADHERENCE_BELOW = 0.8  # the low_adherence rule: script adherence of the call's transcript below this
UNCLASSIFIED = ""


@dataclass(frozen=True)
class HandledCall:
    call_id: str
    agent: str
    talk_s: float
    queue: str | None
    campaign: str | None
    direction: str | None
    call_type: str = UNCLASSIFIED


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The local day as naive UTC [start, end)."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    return start, end


def classify(queue: str | None, campaign: str | None, direction: str | None, cards: Sequence[Scorecard]) -> str:
    """The call type of the first scorecard that claims the call's queue, campaign or direction."""
    return next((c.call_type for c in cards if c.matches(queue, campaign, direction)), UNCLASSIFIED)


def handled_calls(store: Store, day: date, params: MetricParams, min_talk_s: float) -> list[HandledCall]:
    """Calls answered that local day, one per agent who talked on them, long enough to judge."""
    start, end = day_bounds(day, params.timezone)
    rows = store.fetch_all(
        """
        SELECT l.call_id, l.agent, max(l.talk_s), max(c.queue), max(c.campaign), max(c.direction)
        FROM agent_legs l JOIN calls c ON c.call_id = l.call_id
        WHERE l.outcome = 'answered' AND l.agent IS NOT NULL AND l.answer_utc >= ? AND l.answer_utc < ?
        GROUP BY l.call_id, l.agent
        HAVING max(l.talk_s) >= ?
        ORDER BY l.call_id, l.agent
        """,
        [start, end, float(min_talk_s)],
    )
    cards = list_scorecards(store)
    return [HandledCall(r[0], r[1], float(r[2]), r[3], r[4], r[5], classify(r[3], r[4], r[5], cards))
            for r in rows]


def _order_key(seed: str, day: date, call: HandledCall) -> str:
    return hashlib.sha256(f"{seed}|{day.isoformat()}|{call.call_id}|{call.agent}".encode()).hexdigest()


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def _allocate(strata: Mapping[str, int], share: float) -> dict[str, int]:
    """Split round(total x share) over strata in proportion to their size (largest remainder)."""
    total = _round_half_up(sum(strata.values()) * share)
    exact = {name: size * share for name, size in strata.items()}
    quota = {name: min(strata[name], math.floor(value)) for name, value in exact.items()}
    by_remainder = sorted(strata, key=lambda name: (-(exact[name] - math.floor(exact[name])), name))
    for name in by_remainder:
        if sum(quota.values()) >= total:
            break
        if quota[name] < strata[name]:
            quota[name] += 1
    return quota


def stratified_choice(calls: Sequence[HandledCall], day: date, share: float, seed: str) -> list[HandledCall]:
    """``share`` of each agent's calls, spread over their call types, in seeded hash order."""
    strata: dict[str, dict[str, list[HandledCall]]] = defaultdict(lambda: defaultdict(list))
    for call in calls:
        strata[call.agent][call.call_type].append(call)
    chosen: list[HandledCall] = []
    for agent in sorted(strata):
        by_type = strata[agent]
        quota = _allocate({t: len(c) for t, c in by_type.items()}, share)
        for call_type in sorted(by_type):
            ordered = sorted(by_type[call_type], key=lambda c: _order_key(seed, day, c))
            chosen.extend(ordered[:quota[call_type]])
    return chosen


@dataclass
class SampleResult:
    day: date
    handled: int
    drawn: int
    by_agent: dict[str, tuple[int, int]]  # agent -> (handled, drawn)


def draw_sample(store: Store, day: date, params: MetricParams, *, seed: str = DEFAULT_SEED,
                min_talk_s: float | None = None, user: str = "callkpi") -> SampleResult:
    """Draw (again) the day's random sample and store it (reason ``sample``)."""
    min_talk = params.short_call_s if min_talk_s is None else min_talk_s
    calls = handled_calls(store, day, params, min_talk)
    chosen = stratified_choice(calls, day, params.qa_sample_share, seed)
    with store.transaction() if store.dialect == "duckdb" else contextlib.nullcontext():
        store.execute("DELETE FROM qa_sample WHERE day = ? AND reason = 'sample'", [day])
        _insert(store, [(c, day, "sample") for c in chosen], user, seed)
    handled: dict[str, int] = defaultdict(int)
    drawn: dict[str, int] = defaultdict(int)
    for c in calls:
        handled[c.agent] += 1
    for c in chosen:
        drawn[c.agent] += 1
    return SampleResult(day, len(calls), len(chosen), {a: (handled[a], drawn[a]) for a in sorted(handled)})


def _insert(store: Store, picks: Sequence[tuple[HandledCall, date, str]], user: str, seed: str | None) -> int:
    """Add the picks the sample does not hold yet (a call and agent already picked keep their first pick:
    read first, then insert, which ClickHouse's replacing tables need); returns how many were added."""
    from callkpi.qa.review import insert_rows

    wanted: dict[tuple[str, str], tuple[HandledCall, date, str]] = {}
    for pick in picks:
        wanted.setdefault((pick[0].call_id, pick[0].agent), pick)
    if not wanted:
        return 0
    condition, values = in_list("call_id", sorted({call_id for call_id, _ in wanted}))
    held = {(r[0], r[1]) for r in store.fetch_all(f"SELECT call_id, agent FROM qa_sample WHERE {condition}",  # noqa: S608
                                                  values)}
    now = datetime.now(UTC).replace(tzinfo=None)
    new = [[c.call_id, c.agent, day, c.call_type or None, reason, user, now, seed]
           for key, (c, day, reason) in wanted.items() if key not in held]
    insert_rows(store, "qa_sample", new)
    return len(new)


# -- rules and hand picks -------------------------------------------------------------------


def pick_by_rule(store: Store, day: date, params: MetricParams, rule: str, *, per_agent: int = 2,
                 new_agent_days: int = 30, seed: str = DEFAULT_SEED, user: str = "callkpi",
                 adherence_below: float = DEFAULT_ADHERENCE_BELOW) -> int:
    """Add up to ``per_agent`` of each matching agent's handled calls of the day; returns calls added."""
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; known: {', '.join(RULES)}")
    if not 0 <= adherence_below <= 1:
        raise ValueError("adherence_below: a share from 0 to 1")
    calls = handled_calls(store, day, params, params.short_call_s)
    if rule == "low_adherence":
        matching = _low_adherence(store, calls, adherence_below)
    else:
        matching = _RULE_TESTS[rule](store, day, params, calls, new_agent_days)
    per: dict[str, list[HandledCall]] = defaultdict(list)
    for call in sorted(matching, key=lambda c: _order_key(seed, day, c)):
        if len(per[call.agent]) < per_agent:
            per[call.agent].append(call)
    return _insert(store, [(c, day, rule) for agent in sorted(per) for c in per[agent]], user, seed)


def _new_agents(store: Store, day: date, params: MetricParams, calls: Sequence[HandledCall],
                new_agent_days: int) -> list[HandledCall]:
    """Agents whose first handled call (or hire date) is at most ``new_agent_days`` before the day."""
    start, _ = day_bounds(day - timedelta(days=new_agent_days), params.timezone)
    rows = store.fetch_all(
        "SELECT agent FROM agent_legs WHERE outcome = 'answered' AND agent IS NOT NULL GROUP BY agent "
        "HAVING min(answer_utc) >= ?", [start])
    hired = store.fetch_all("SELECT agent FROM staff WHERE hired >= ?", [day - timedelta(days=new_agent_days)])
    new = {r[0] for r in (*rows, *hired)}
    return [c for c in calls if c.agent in new]


def _missed_plan(store: Store, day: date, params: MetricParams, calls: Sequence[HandledCall],
                 new_agent_days: int) -> list[HandledCall]:
    """Agents whose CQR over the 30 days before the day is below qa_pass_score."""
    start, _ = day_bounds(day - timedelta(days=30), params.timezone)
    end, _ = day_bounds(day, params.timezone)
    rows = store.fetch_all(
        """
        SELECT agent FROM qa_reviews
        WHERE reviewed_utc >= ? AND reviewed_utc < ?
        QUALIFY version = max(version) OVER (PARTITION BY review_id)
        """, [start, end])
    agents = {r[0] for r in rows}
    low = {a for a in agents if _agent_cqr(store, a, start, end) < params.qa_pass_score}
    return [c for c in calls if c.agent in low]


def _agent_cqr(store: Store, agent: str, start: datetime, end: datetime) -> float:
    row = first_row(store.fetch_all(
        """
        SELECT avg(cqr) FROM (SELECT cqr FROM qa_reviews WHERE agent = ? AND reviewed_utc >= ? AND reviewed_utc < ?
                              QUALIFY version = max(version) OVER (PARTITION BY review_id))
        """, [agent, start, end]))
    return float(row[0]) if row and row[0] is not None else 100.0


def _long_calls(store: Store, day: date, params: MetricParams, calls: Sequence[HandledCall],
                new_agent_days: int) -> list[HandledCall]:
    return [c for c in calls if c.talk_s > params.long_call_s]


def _low_csat(store: Store, day: date, params: MetricParams, calls: Sequence[HandledCall],
              new_agent_days: int) -> list[HandledCall]:
    """Calls with a low survey answer, as the registry counts them (CSAT 1-2, NPS detractors, CES 5-7)."""
    answers = REGISTRY.facts["surveys"].base(store.ibis)
    low = ibis.literal(False)
    for measure_id in LOW_SURVEY_ANSWERS:
        low = low | REGISTRY.measures[measure_id].counts(answers, params, Context())
    rows = answers.filter(low & answers.call_id.notnull()).select("call_id").distinct()
    flagged = set(store.ibis.to_pyarrow(rows).column("call_id").to_pylist())
    return [c for c in calls if c.call_id in flagged]


def _low_adherence(store: Store, calls: Sequence[HandledCall], below: float) -> list[HandledCall]:
    """Calls whose transcript was checked against a script with required stages done / required stages
    below ``below``; calls without a transcript or a script are not picked (their adherence is unknown)."""
    rows = store.fetch_all(
        "SELECT DISTINCT call_id FROM transcripts WHERE call_id IS NOT NULL AND required_stages > 0 "
        "AND CAST(required_done AS DOUBLE) / required_stages < ?", [float(below)])
    low = {r[0] for r in rows}
    return [c for c in calls if c.call_id in low]


_RULE_TESTS = {"new_agent": _new_agents, "missed_plan": _missed_plan, "long_call": _long_calls,
               "low_csat": _low_csat}


def pick_call(store: Store, call_id: str, *, user: str, agent: str | None = None,
              timezone: str = "UTC") -> HandledCall:
    """Put one call in the review queue by hand (its first answering agent unless named)."""
    from callkpi.qa.review import ReviewError, call_agents

    agents = call_agents(store, call_id)
    chosen = agent or (agents[0] if agents else None)
    if chosen is None or chosen not in agents:
        raise ReviewError(f"call {call_id!r} has no agent {agent or ''} to review".replace("  ", " "))
    row = first_row(store.fetch_all(
        "SELECT start_utc, queue, campaign, direction, talk_s FROM calls WHERE call_id = ?", [call_id]))
    assert row is not None  # call_agents found the call
    call = HandledCall(call_id, chosen, float(row[4] or 0), row[1], row[2], row[3],
                       classify(row[1], row[2], row[3], list_scorecards(store)))
    local_day = row[0].replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).date()
    _insert(store, [(call, local_day, "manual")], user, None)
    return call


def _queue_where(agents: Sequence[str], queues: Sequence[str], teams: Sequence[str]) -> tuple[str, list[Any]]:
    where, params = ["r.review_id IS NULL"], []
    for column, values in (("s.agent", agents), ("c.queue", queues)):
        if values:
            condition, bound = in_list(column, values)
            where.append(condition)
            params += bound
    if teams:
        condition, bound = in_list("team", teams)
        where.append(f"s.agent IN (SELECT agent FROM agents WHERE {condition})")  # noqa: S608 - values are bound
        params += bound
    return " AND ".join(where), params


_QUEUE_FROM = """
        FROM qa_sample s
        LEFT JOIN calls c ON c.call_id = s.call_id
        LEFT JOIN (SELECT DISTINCT call_id, agent, review_id FROM qa_reviews) r
            ON r.call_id = s.call_id AND r.agent = s.agent
"""


def review_queue(store: Store, *, agents: Sequence[str] = (), queues: Sequence[str] = (),
                 teams: Sequence[str] = (), limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
    """Sampled calls nobody has reviewed yet for that agent, oldest day first (``offset`` rows skipped; the
    order is total, so pages neither repeat nor skip a row)."""
    where, params = _queue_where(agents, queues, teams)
    rows = store.fetch_all(
        f"""
        SELECT s.call_id, s.agent, s.day, s.call_type, s.reason, c.queue, c.start_utc, c.talk_s
        {_QUEUE_FROM}
        WHERE {where}
        ORDER BY s.day, c.start_utc, s.call_id, s.agent LIMIT ? OFFSET ?
        """,
        [*params, limit, offset])
    names = ("call_id", "agent", "day", "call_type", "reason", "queue", "start_utc", "talk_s")
    return [dict(zip(names, r, strict=True)) for r in rows]


def review_queue_size(store: Store, *, agents: Sequence[str] = (), queues: Sequence[str] = (),
                      teams: Sequence[str] = ()) -> int:
    """How many sampled calls wait for a review (the length of :func:`review_queue` without a limit)."""
    where, params = _queue_where(agents, queues, teams)
    row = first_row(store.fetch_all(f"SELECT count(*) {_QUEUE_FROM} WHERE {where}", params))
    return int(row[0]) if row else 0
