"""What a signed-in user may see: the server forces their filters; asking beyond them is a 403."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import ibis

from callkpi.storage import Store
from callkpi.web.auth import User


class Forbidden(Exception):
    """The user asked for data outside their scope."""


class NotFound(LookupError):
    """No such call, page or export."""


@dataclass(frozen=True)
class Principal:
    user: User
    via: str  # session | token
    csrf: str = ""

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def is_admin(self) -> bool:
        return self.user.role == "admin"

    @property
    def is_agent(self) -> bool:
        return self.user.role == "agent"

    def sees_numbers(self, mask_numbers_setting: bool) -> bool:
        return not self.is_agent and not mask_numbers_setting


def _restrict(name: str, asked: tuple[str, ...], allowed: tuple[str, ...]) -> tuple[str, ...]:
    if not asked:
        return allowed
    outside = [value for value in asked if value not in allowed]
    if outside:
        raise Forbidden(f"{name} {', '.join(outside)} is outside what this user may see")
    return asked


def scoped_filters(principal: Principal, filters: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """The KPI filters the user gets: their own agent, queues and teams forced in."""
    result = {name: tuple(values) for name, values in filters.items() if values}
    user = principal.user
    if user.role == "agent":
        if not user.agent:
            raise Forbidden("this agent user has no agent id")
        result["agent"] = _restrict("agent", result.get("agent", ()), (user.agent,))
    elif user.role == "supervisor":
        if user.queues:
            result["queue"] = _restrict("queue", result.get("queue", ()), user.queues)
        if user.teams:
            result["team"] = _restrict("team", result.get("team", ()), user.teams)
    return result


def require_role(principal: Principal, *roles: str) -> None:
    if principal.role not in roles:
        raise Forbidden(f"the {principal.role} role may not do this")


def answered_by(store: Store, agents: tuple[str, ...]) -> ibis.Table:
    """call_id of every call one of these agents talked on (a transferred call counts for each)."""
    legs = store.table("agent_legs")
    return legs.filter(legs.agent.isin(list(agents)) & (legs.outcome == "answered")).select("call_id")


def agents_of_teams(store: Store, teams: tuple[str, ...]) -> ibis.Table:
    agents = store.table("agents")
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
