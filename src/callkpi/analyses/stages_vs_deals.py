"""Which script stages go with won deals: per agent and per stage, the share of the agent's checked
calls where the stage was done, on calls that led to a won deal against calls that did not.

A call "led to a won deal" as conversion counts it (docs/metrics.md, ``conversion_rate``): a won deal
is attributed to it, named by the deal or matched by number within ``attribution_window_d``. Only
calls whose transcript was checked against a script count. A rate with no calls behind it is None
(not 0); ``difference`` is won minus not won, None unless both are known. A difference is an
association, not an effect: agents who do a stage may also get the easier customers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from callkpi.config import MetricParams
from callkpi.metrics.catalogue import REGISTRY
from callkpi.storage import Store

ALL_AGENTS = "*"  # the row over every agent


@dataclass(frozen=True)
class StageCall:
    agent: str | None
    call_type: str
    stage: str
    call_id: str
    done: bool


def _rate(done: int, calls: int) -> float | None:
    return done / calls if calls else None


def stage_rates(rows: Iterable[StageCall], converted: set[str]) -> list[dict[str, Any]]:
    """Per (agent, call type, stage), and over all agents: calls and stage completion on won-deal calls
    and on the other calls."""
    tally: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # won, won done, other, other done
    for row in rows:
        won = row.call_id in converted
        for agent in (row.agent or "", ALL_AGENTS):
            counts = tally[(agent, row.call_type, row.stage)]
            counts[0 if won else 2] += 1
            counts[1 if won else 3] += int(row.done)
    result = []
    for (agent, call_type, stage), (won, won_done, other, other_done) in sorted(tally.items()):
        won_rate, other_rate = _rate(won_done, won), _rate(other_done, other)
        result.append({
            "agent": agent or None, "call_type": call_type, "stage": stage,
            "won_calls": won, "won_completion": won_rate, "other_calls": other, "other_completion": other_rate,
            "difference": won_rate - other_rate if won_rate is not None and other_rate is not None else None,
        })
    return result


def converted_calls(store: Store, params: MetricParams) -> set[str]:
    """The calls a won deal is attributed to within the attribution rule (the registry's converted calls)."""
    from callkpi.metrics.catalogue.business import within_attribution_window

    if "converted_calls" not in REGISTRY.facts:
        return set()
    facts = REGISTRY.facts["converted_calls"].base(store.ibis)
    rows = facts.filter(within_attribution_window(facts.named, facts.gap_s, params)).select("call_id").distinct()
    return {c for c in store.ibis.to_pyarrow(rows).column("call_id").to_pylist() if c is not None}


def stage_calls(store: Store, agents: tuple[str, ...] = (), queues: tuple[str, ...] = (),
                teams: tuple[str, ...] = ()) -> list[StageCall]:
    """Each stage checked on each transcript matched to a call (optionally of these agents, queues or
    agents' teams only: a user's scope)."""
    sql = ("SELECT s.agent, s.call_type, s.stage, t.call_id, s.done FROM script_stages s "
           "JOIN transcripts t USING (transcript_id) WHERE t.call_id IS NOT NULL")
    args: list[Any] = []
    if agents:
        sql += f" AND s.agent IN ({_marks(agents)})"
        args += agents
    if queues:
        sql += f" AND s.queue IN ({_marks(queues)})"
        args += queues
    if teams:
        sql += f" AND s.agent IN (SELECT agent FROM agents WHERE team IN ({_marks(teams)}))"  # noqa: S608 - only ?
        args += teams
    return [StageCall(r[0], r[1], r[2], r[3], bool(r[4])) for r in store.fetch_all(sql, args)]


def _marks(values: tuple[str, ...]) -> str:
    """One ``?`` per value (bound, never written into the SQL): portable to every engine."""
    return ", ".join("?" * len(values))


def stages_vs_deals(store: Store, params: MetricParams, agents: tuple[str, ...] = (), queues: tuple[str, ...] = (),
                    teams: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return stage_rates(stage_calls(store, agents, queues, teams), converted_calls(store, params))
