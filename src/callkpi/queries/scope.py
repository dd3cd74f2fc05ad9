"""Scope filters on calls: the agents, queues and teams a user may see, as Ibis filters."""

from __future__ import annotations

from collections.abc import Mapping

import ibis

from callkpi.model.schema import AGENT_LEGS, AGENTS
from callkpi.storage import Store


def answered_by(store: Store, agents: tuple[str, ...]) -> ibis.Table:
    """call_id of every call one of these agents talked on (a transferred call counts for each)."""
    legs = store.table(AGENT_LEGS.name)
    return legs.filter(legs.agent.isin(list(agents)) & (legs.outcome == "answered")).select("call_id")


def agents_of_teams(store: Store, teams: tuple[str, ...]) -> ibis.Table:
    agents = store.table(AGENTS.name)
    return agents.filter(agents.team.isin(list(teams))).select("agent")


def call_filter(store: Store, calls: ibis.Table, filters: Mapping[str, tuple[str, ...]]) -> ibis.Table:
    """Apply scoped agent / queue / team filters to the calls table (or a view of it)."""
    if filters.get("agent"):
        agents = filters["agent"]
        calls = calls.filter(calls.agent.isin(list(agents)) | calls.call_id.isin(answered_by(store, agents).call_id))
    if filters.get("queue"):
        calls = calls.filter(calls.queue.isin(list(filters["queue"])))
    if filters.get("team"):
        calls = calls.filter(calls.agent.isin(agents_of_teams(store, filters["team"]).agent))
    return calls
