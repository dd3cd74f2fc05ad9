"""What a signed-in user may see: the server forces their filters; asking beyond them is a 403."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from callkpi.queries.errors import Forbidden, NotFound
from callkpi.web.auth import User

__all__ = ["Forbidden", "NotFound", "Principal", "require_role", "scoped_filters"]


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
