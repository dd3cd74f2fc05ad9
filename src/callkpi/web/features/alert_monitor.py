"""The server watches the alerts itself: every ``alerts.check_every_s`` seconds (and right after
``serve --watch`` loaded new lines, or a target changed) a background thread compares every target
with its KPI (:func:`callkpi.analyses.alerts.evaluate`), records what fired or resolved and posts it to the
webhooks, through its own cursor of the server's connection. The latest states stay in memory, so
the nav badge on every page costs no query.

What a user sees of them follows their scope: a supervisor named to some queues or teams sees the
alerts of those queues and teams only, not the overall ones.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from callkpi.analyses import alerts
from callkpi.analyses.alerts import AlertChange, AlertState
from callkpi.metrics.catalogue import REGISTRY
from callkpi.queries.web_tables import ensure_alert_schema
from callkpi.web.auth import User
from callkpi.web.db import Database

log = logging.getLogger("callkpi.web.alerts")

STOP_WAIT_S = 30.0
HISTORY_LIMIT = 100
_SCOPE_ORDER = {"all": 0, "queue": 1, "team": 2}


@dataclass(frozen=True)
class MonitorOptions:
    every_s: float | None = None  # default: the settings' alerts.check_every_s
    background: bool = True  # False: checks run only when ``AlertMonitor.run_once`` is called


@dataclass(frozen=True)
class Snapshot:
    """The states of the last check (``checked_utc`` None: none yet) and its error, if it failed."""

    states: list[AlertState] = field(default_factory=list)
    checked_utc: datetime | None = None
    error: str | None = None
    clock: alerts.Clock | None = None  # what "now" was: the present, or the end of data that is not live


class AlertMonitor:
    """Checks the alerts every ``every_s`` seconds in a thread of its own (``start``/``stop``),
    sooner when ``poke``d, or one check at a time with ``run_once``."""

    def __init__(self, db: Database, options: MonitorOptions | None = None) -> None:
        self.db = db
        self.options = options or MonitorOptions()
        self.every_s = self.options.every_s or db.settings.alerts.check_every_s
        ensure_alert_schema(db.store())  # now, not while a load may be writing
        self._snapshot = Snapshot()
        self._firing_counts: tuple[Snapshot | None, dict[tuple, int]] = (None, {})
        self._check_lock = threading.Lock()  # one check at a time
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if not self.options.background or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="callkpi-alerts", daemon=True)
        self._thread.start()

    def stop(self, wait_s: float = STOP_WAIT_S) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(wait_s)

    def poke(self) -> None:
        """Check soon: new calls were loaded or a target changed."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_once()
            except Exception as exc:  # the next check tries again; the server must keep serving
                log.exception("checking the alerts failed")
                self._failed(exc)
            self._wake.wait(self.every_s)

    # -- one check ---------------------------------------------------------------------------
    def run_once(self, now: datetime | None = None) -> list[AlertChange]:
        """Evaluate, record and notify once (as of ``now``, default the current time); the changes."""
        with self._check_lock:
            store = self.db.store()
            settings = self.db.settings
            clock = alerts.Clock(now) if now is not None else alerts.evaluation_clock(store, settings)
            states = alerts.evaluate(store, settings, clock=clock)
            changes = alerts.record(store, states, now)
            self._snapshot = Snapshot(states, datetime.now(UTC), clock=clock)
            self._notify(changes)
            return changes

    def _notify(self, changes: list[AlertChange]) -> None:
        if not changes or not self.db.settings.alerts.webhooks:
            return
        try:
            alerts.notify(changes, self.db.settings)  # logs each webhook that fails
        except Exception:
            log.exception("posting alerts to the webhooks failed")

    def _failed(self, exc: Exception) -> None:
        before = self._snapshot
        self._snapshot = Snapshot(before.states, before.checked_utc, f"{type(exc).__name__}: {exc}", before.clock)

    def snapshot(self) -> Snapshot:
        return self._snapshot

    def firing_counts(self, snapshot: Snapshot) -> dict[tuple, int]:
        """Firing alerts per reader scope of ``snapshot`` (:func:`firing_count`), new for each check."""
        kept = self._firing_counts
        if kept[0] is not snapshot:
            kept = self._firing_counts = (snapshot, {})
        return kept[1]


# -- what a user sees ----------------------------------------------------------------------------


def sees(user: User, scope: str, scope_value: str) -> bool:
    """Whether an alert of this scope is the user's business: everything for admins and supervisors
    named to no queue or team; for the others only their own queues' and teams' alerts."""
    if user.role == "agent":
        return False
    if user.role == "admin" or not (user.queues or user.teams):
        return True
    if scope == "queue":
        return scope_value in user.queues
    if scope == "team":
        return scope_value in user.teams
    return False


def visible(states: Iterable[AlertState], user: User) -> list[AlertState]:
    """The user's states, firing first, then overall, queues, teams by name."""
    mine = [s for s in states if sees(user, s.scope, s.scope_value)]
    return sorted(mine, key=lambda s: (not s.firing, _SCOPE_ORDER.get(s.scope, 9), s.scope_value, s.metric,
                                       s.window != "today"))


def firing_count(monitor: AlertMonitor | None, user: User) -> int:
    """How many alerts of ``user``'s scope fire at the last check (counted once per check and scope:
    every page's header shows it)."""
    if monitor is None or user.role == "agent":
        return 0
    snapshot = monitor.snapshot()
    scope = (user.role, tuple(user.queues), tuple(user.teams))
    counts = monitor.firing_counts(snapshot)
    count = counts.get(scope)
    if count is None:
        count = counts[scope] = sum(1 for s in snapshot.states if s.firing and sees(user, s.scope, s.scope_value))
    return count


def current(monitor: AlertMonitor | None, db: Database) -> Snapshot:
    """The monitor's last check; a server that does not check by itself evaluates now (not recorded)."""
    if monitor is not None:
        return monitor.snapshot()
    clock = alerts.evaluation_clock(db.store(), db.settings)
    return Snapshot(alerts.evaluate(db.store(), db.settings, clock=clock), datetime.now(UTC), clock=clock)


def state_item(state: AlertState, lang: str) -> dict[str, Any]:
    return {"key": state.key, "metric": state.metric, "scope": state.scope, "scope_value": state.scope_value,
            "window": state.window, "period": state.period, "value": state.value, "target": state.target,
            "warn": state.warn, "calls": state.calls, "status": state.status, "firing": state.firing,
            "clock": state.clock, "message": state.message(lang)}


def recent_history(db: Database, user: User, lang: str, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    """The user's recent alert events, newest first, each with its message as it fired."""
    rows = [r for r in alerts.history(db.store(), limit=limit * 5) if sees(user, r["scope"], r["scope_value"])]
    return [_event_item(row, lang) for row in rows[:limit]]


def _event_item(row: dict[str, Any], lang: str) -> dict[str, Any]:
    item = {name: row[name] for name in ("metric", "scope", "scope_value", "window", "period", "fired_utc",
                                         "resolved_utc", "value", "last_value", "target", "warn", "calls")}
    item["key"] = row["alert_key"]
    item["calls"] = int(row["calls"] or 0)
    item["message"] = _event_message(row, lang)
    return item


def _event_message(row: dict[str, Any], lang: str) -> str:
    if row["metric"] not in REGISTRY.metrics or row["scope"] not in _SCOPE_ORDER:
        return row["alert_key"]  # a metric of an older version, kept in the history
    state = AlertState(row["metric"], row["scope"], row["scope_value"], row["window"], row["period"],
                       row["value"], row["target"], row["warn"], int(row["calls"] or 0), 0, clock="as_of")
    return state.message(lang)  # a past event names its day or interval, never "today"
