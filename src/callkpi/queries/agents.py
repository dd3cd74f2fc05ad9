"""Agents: names and teams, the agent ids seen, whether an agent served some queues."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from callkpi.model.schema import AGENTS
from callkpi.queries._rows import rows
from callkpi.storage import Store, first_row

MAX_VALUES = 500


def agent_names(store: Store) -> dict[str, dict[str, Any]]:
    """agent id -> {agent, name, team} of the agents list."""
    return {r["agent"]: r for r in rows(store, store.table(AGENTS.name).select("agent", "name", "team"))}


def agent_ids(store: Store, limit: int = MAX_VALUES) -> list[str]:
    """The agent ids of the agents list, sorted (at most ``limit``)."""
    agents = store.table(AGENTS.name)
    expr = agents.filter(agents.agent.notnull()).select("agent").distinct().order_by("agent").limit(limit)
    return [r["agent"] for r in rows(store, expr)]


def serves_queues(store: Store, agent: str, queues: Sequence[str]) -> bool:
    """The agent was offered a call of one of these queues."""
    row = first_row(store.connection.execute(
        "SELECT EXISTS (SELECT 1 FROM agent_legs WHERE agent = $agent AND list_contains($queues, queue))",
        {"agent": agent, "queues": list(queues)}))
    return bool(row and row[0])


