"""Targets behind the traffic lights (table ``web_targets``): per queue, per team or overall, with built-in defaults.

A target has a goal and a warning level. Which side is better follows from the two (a goal above
its warning level means higher is better). Green meets the goal, amber lies between goal and
warning level, red lies beyond the warning level. Comparing is all this module does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from callkpi.metrics.catalogue import REGISTRY
from callkpi.storage import Store

Scope = Literal["all", "queue", "team"]
SCOPES: tuple[Scope, ...] = ("all", "queue", "team")
Status = Literal["good", "warn", "bad", ""]

# Service level 80 % in 20 s (sl_threshold_s defaults to 20), abandon under 5 %, ASA under 15 s, CQR 80.
DEFAULT_TARGETS: dict[str, tuple[float, float]] = {
    "service_level": (0.80, 0.70),
    "abandon_rate": (0.05, 0.08),
    "asa_s": (15.0, 30.0),
    "cqr": (80.0, 70.0),
}


@dataclass(frozen=True)
class Target:
    scope: Scope
    scope_value: str
    metric: str
    target: float
    warn: float
    is_default: bool = False

    @property
    def higher_is_better(self) -> bool:
        if self.target == self.warn:
            metric = REGISTRY.metrics.get(self.metric)
            return metric is None or metric.direction != "lower_is_better"
        return self.target > self.warn

    def status(self, value: float | None) -> Status:
        if value is None:
            return ""
        if self.higher_is_better:
            return "good" if value >= self.target else "warn" if value >= self.warn else "bad"
        return "good" if value <= self.target else "warn" if value <= self.warn else "bad"


class Targets:
    def __init__(self, rows: list[Target]) -> None:
        self._by_key = {(t.scope, t.scope_value, t.metric): t for t in rows}
        for metric, (goal, warn) in DEFAULT_TARGETS.items():
            self._by_key.setdefault(("all", "*", metric), Target("all", "*", metric, goal, warn, True))

    def all(self) -> list[Target]:
        return sorted(self._by_key.values(), key=lambda t: (SCOPES.index(t.scope), t.scope_value, t.metric))

    def find(self, metric: str, *, queue: str | None = None, team: str | None = None) -> Target | None:
        for key in (("queue", queue), ("team", team), ("all", "*")):
            if key[1] is None:
                continue
            target = self._by_key.get((key[0], key[1], metric))
            if target is not None:
                return target
        return None

    def status(self, metric: str, value: float | None, *, queue: str | None = None, team: str | None = None) -> Status:
        target = self.find(metric, queue=queue, team=team)
        return target.status(value) if target else ""


def load_targets(store: Store) -> Targets:
    rows = store.fetch_all(
        "SELECT scope, scope_value, metric, target, warn FROM web_targets"
    )
    return Targets([Target(r[0], r[1], r[2], float(r[3]), float(r[4])) for r in rows])


def save_target(
    store: Store, scope: str, scope_value: str, metric: str, target: float, warn: float, username: str
) -> None:
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    if metric not in REGISTRY.metrics:
        raise ValueError(f"unknown metric {metric!r}")
    value = "*" if scope == "all" else scope_value.strip()
    if not value:
        raise ValueError(f"name the {scope}")
    store.execute(
        "INSERT OR REPLACE INTO web_targets VALUES (?, ?, ?, ?, ?, ?, ?)",
        [scope, value, metric, float(target), float(warn), username, datetime.now(UTC).replace(tzinfo=None)],
    )


def delete_target(store: Store, scope: str, scope_value: str, metric: str) -> None:
    store.execute(
        "DELETE FROM web_targets WHERE scope = ? AND scope_value = ? AND metric = ?", [scope, scope_value, metric]
    )
