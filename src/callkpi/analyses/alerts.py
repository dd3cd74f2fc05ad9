"""Alerts: the targets behind the traffic lights, watched while the day runs.

Every target (per queue, per team, or overall, with the built-in defaults: service level 80 % in
20 s, abandon under 5 %, ASA under 15 s, CQR 80) has a warning level. An alert *fires* when a KPI
is beyond that level (red on the dashboard) for today so far or for the current interval, in the
business time zone, and at least ``alerts.min_calls`` calls were offered in that window (three
calls make no service level). It *resolves* when the KPI is back within the warning level or the
window rolls over. Data that is not live (its newest call older than ``alerts.live_within_h``) is
checked on its own clock: as of the data's end, and the alert text names that day instead of "today"
(:func:`evaluation_clock`). A window without calls is never worded as a breach. Fired and resolved
alerts are kept in ``alert_events`` and sent to the webhooks of the settings (JSON with a ``text``
line, which Slack, Mattermost and Rocket.Chat show as is).

The KPIs come from the metric engine like every other number; this module only compares.
"""

from __future__ import annotations

import contextlib
import json
import logging
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from callkpi.config import MetricParams, Settings, effective_params
from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.data_end import data_end_utc
from callkpi.metrics.engine import KpiQuery, available_metrics, compute
from callkpi.queries import alerts as alert_rows
from callkpi.queries.targets import Target, load_targets
from callkpi.queries.web_tables import ensure_web_schema, has_web_schema
from callkpi.storage import Store

log = logging.getLogger(__name__)

Window = Literal["today", "interval"]
WINDOWS: tuple[Window, ...] = ("today", "interval")
Change = Literal["fired", "resolved"]
ClockKind = Literal["live", "data_end", "as_of"]


@dataclass(frozen=True)
class Clock:
    """The moment alerts are checked at: now (``live``), the end of data that is not live
    (``data_end``), or a moment asked for (``as_of``)."""

    moment: datetime
    kind: ClockKind = "live"
    data_end: datetime | None = None
    live_within_h: float | None = None

    def note(self, lang: str = "en") -> str | None:
        """One line saying the data's clock replaced now, or None (now, or a moment the caller chose)."""
        if self.kind != "data_end":
            return None
        moment = self.moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        hours = f"{self.live_within_h:g}"
        return {"en": f"the data is not live (its newest call, {moment}, is more than {hours} h old): "
                      "alerts are checked as of the data's end",
                "ru": f"данные не текущие (последний вызов {moment}, более {hours} ч назад): "
                      "тревоги проверены на момент конца данных"}[lang]


def evaluation_clock(store: Store, settings: Settings, now: datetime | None = None) -> Clock:
    """Now, unless the data is not live: when its newest call is older than ``alerts.live_within_h``
    hours, the data's end (loaded history has no "today")."""
    moment = _aware(now or datetime.now(UTC))
    end = newest_data_time(store)
    threshold = settings.alerts.live_within_h
    if end is not None and moment - end > timedelta(hours=threshold):
        return Clock(end, "data_end", end, threshold)
    return Clock(moment, "live", end, threshold)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

@dataclass(frozen=True)
class AlertState:
    """One KPI of one scope and window, compared with its target."""

    metric: str
    scope: str
    scope_value: str
    window: Window
    period: str
    value: float | None
    target: float
    warn: float
    calls: int
    min_calls: int
    clock: ClockKind = "live"

    @property
    def key(self) -> str:
        return f"{self.scope}:{self.scope_value}:{self.metric}:{self.window}"

    @property
    def status(self) -> str:
        return _target(self).status(self.value)

    @property
    def firing(self) -> bool:
        return self.status == "bad" and self.calls > 0 and self.calls >= self.min_calls

    def message(self, lang: str = "en") -> str:
        """The state in words: a breach only when it fires; no calls is no calls, not a level."""
        metric = REGISTRY.metrics[self.metric]
        title = metric.title.get(lang, metric.title["en"])
        where = _SCOPE_TEXT[lang][self.scope].format(self.scope_value)
        when = self._when(lang)
        if self.calls == 0 or self.value is None:
            return f"{title} — ({where}, {when}): {_NO_CALLS_TEXT[lang] if self.calls == 0 else _NO_VALUE_TEXT[lang]}"
        value = format_value(self.metric, self.value, lang)
        head = f"{title} {value} ({where}, {when}, {self.calls} {_CALLS_TEXT[lang]})"
        warn, target = format_value(self.metric, self.warn, lang), format_value(self.metric, self.target, lang)
        status = self.status
        if status == "bad":
            level = _LEVEL_TEXT[lang]["below" if _target(self).higher_is_better else "above"]
            text = f"{head}: {level} {warn}, {_TARGET_TEXT[lang]} {target}"
            if not self.firing:
                text += _FEW_CALLS_TEXT[lang].format(self.min_calls)
            return text
        if status == "warn":
            return f"{head}: {_WARN_TEXT[lang].format(target=target, warn=warn)}"
        return f"{head}: {_GOOD_TEXT[lang].format(target=target)}"

    def _when(self, lang: str) -> str:
        if self.clock == "live":
            return _WINDOW_TEXT[lang][self.window]
        if self.window == "today":
            day = self.period
            return {"en": f"on {day}", "ru": f"за {day}"}[lang] + (_DATA_END_TEXT[lang] if self.clock == "data_end"
                                                                    else "")
        start = self.period.replace("T", " ")[:16]
        return {"en": f"interval {start}", "ru": f"интервал {start}"}[lang] + (
            _DATA_END_INTERVAL_TEXT[lang] if self.clock == "data_end" else "")


@dataclass(frozen=True)
class AlertChange:
    change: Change
    state: AlertState


_SCOPE_TEXT = {
    "en": {"all": "all queues", "queue": "queue {}", "team": "team {}"},
    "ru": {"all": "все очереди", "queue": "очередь {}", "team": "группа {}"},
}
_WINDOW_TEXT = {"en": {"today": "today", "interval": "this interval"},
                "ru": {"today": "сегодня", "interval": "текущий интервал"}}
_LEVEL_TEXT = {"en": {"below": "below the alert level", "above": "above the alert level"},
               "ru": {"below": "ниже порога", "above": "выше порога"}}
_TARGET_TEXT = {"en": "target", "ru": "цель"}
_CALLS_TEXT = {"en": "calls", "ru": "вызовов"}
_NO_CALLS_TEXT = {"en": "no calls, nothing to compare", "ru": "вызовов нет, сравнивать не с чем"}
_NO_VALUE_TEXT = {"en": "no value, nothing to compare", "ru": "значения нет, сравнивать не с чем"}
_FEW_CALLS_TEXT = {"en": " (fewer than {} calls: no alert)", "ru": " (меньше {} вызовов: не тревога)"}
_WARN_TEXT = {"en": "short of the target {target}, within the alert level {warn}",
              "ru": "хуже цели {target}, в пределах порога {warn}"}
_GOOD_TEXT = {"en": "within the target {target}", "ru": "в пределах цели {target}"}
_DATA_END_TEXT = {"en": " (the data's last day)", "ru": " (последний день данных)"}
_DATA_END_INTERVAL_TEXT = {"en": " (the data's last interval)", "ru": " (последний интервал данных)"}


def format_value(metric_id: str, value: float | None, lang: str = "en") -> str:
    if value is None:
        return "—"
    unit = REGISTRY.metrics[metric_id].unit
    if unit in ("ratio", "percent"):
        text = f"{value * 100:.1f} %"
    elif unit == "seconds":
        text = f"{value:.0f} {'с' if lang == 'ru' else 's'}"
    else:
        text = f"{value:g}"
    return text.replace(".", ",") if lang == "ru" else text


def _target(state: AlertState) -> Target:
    scope: Any = state.scope
    return Target(scope, state.scope_value, state.metric, state.target, state.warn)


# -- evaluation ----------------------------------------------------------------------------


def evaluate(
    store: Store, settings: Settings, *, now: datetime | None = None, windows: Sequence[Window] = WINDOWS,
    clock: Clock | None = None,
) -> list[AlertState]:
    """Every target's KPI for today and the current interval, overall, per queue and per team.

    ``clock`` says when "now" is (see :func:`evaluation_clock`); without it, ``now`` is taken as the
    present (the caller's clock), and without either the present or, for data that is not live, the
    data's end."""
    if not has_web_schema(store):
        ensure_web_schema(store)
    if clock is None:
        clock = Clock(_aware(now)) if now is not None else evaluation_clock(store, settings)
    params = effective_params(settings, store.get_meta("timezone"))
    targets = load_targets(store)
    available = set(available_metrics(store))
    metrics = sorted({t.metric for t in targets.all()} & available)
    if not metrics or "calls_offered" not in available:
        return []
    local = clock.moment.astimezone(ZoneInfo(params.timezone))
    team_scopes = sorted({t.scope_value for t in targets.all() if t.scope == "team"})
    states: list[AlertState] = []
    for window in windows:
        for scope, rows in _scope_rows(store, params, metrics, local, window, team_scopes):
            for row in rows:
                states.extend(_compare(row, scope, window, metrics, targets, settings.alerts.min_calls, local,
                                       clock.kind))
    return states


def _scope_rows(
    store: Store, params: MetricParams, metrics: list[str], local: datetime, window: Window, teams: list[str]
) -> Iterable[tuple[str, list[dict[str, Any]]]]:
    today = local.date()
    wanted = (*metrics, "calls_offered") if "calls_offered" not in metrics else tuple(metrics)
    for scope, by, filters in (("all", (), {}), ("queue", ("queue",), {}),
                               ("team", ("team",), {"team": tuple(teams)} if teams else None)):
        if filters is None:
            continue
        time_by = ("interval",) if window == "interval" else ()
        query = KpiQuery(by=(*by, *time_by), date_from=today, date_to=today, filters=filters,
                         metrics=wanted, params=params)
        rows = compute(store, query).rows
        if window == "interval":
            current = _interval_label(local, params.interval_minutes)
            rows = [r for r in rows if r["interval"] == current]
        yield scope, rows


def _interval_label(local: datetime, minutes: int) -> str:
    """The current interval as the calendar names it (local start, ISO with offset)."""
    start = local.replace(minute=local.minute // minutes * minutes, second=0, microsecond=0)
    return start.isoformat()


def _compare(
    row: dict[str, Any], scope: str, window: Window, metrics: list[str], targets: Any, min_calls: int,
    local: datetime, clock: ClockKind,
) -> list[AlertState]:
    value_of = "*" if scope == "all" else row.get(scope)
    if value_of is None:
        return []
    period = row["interval"] if window == "interval" else local.date().isoformat()
    states = []
    for metric in metrics:
        target = targets.find(metric, queue=value_of if scope == "queue" else None,
                              team=value_of if scope == "team" else None)
        if target is None:
            continue
        states.append(AlertState(metric, scope, str(value_of), window, period, row.get(metric), target.target,
                                 target.warn, int(row.get("calls_offered") or 0), min_calls, clock))
    return states


# -- history and notifications ---------------------------------------------------------------


def record(store: Store, states: Sequence[AlertState], now: datetime | None = None) -> list[AlertChange]:
    """Open an event for each alert that starts firing, close the open ones that stopped; the
    changes are what is worth telling somebody."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    open_keys = alert_rows.open_alert_periods(store)
    firing = {s.key: s for s in states if s.firing}
    if not firing and not open_keys:  # the usual case; every commit makes the engine re-read the data's bounds
        return []
    changes: list[AlertChange] = []
    # one DuckDB transaction; ClickHouse has none (each statement stands on its own, and a change lost
    # half-way is found again by the next check)
    with store.transaction() if store.dialect == "duckdb" else contextlib.nullcontext():
        for key, state in firing.items():
            if key in open_keys and open_keys[key] == state.period:
                alert_rows.update_open_alert(store, key, state.value, state.calls)
                continue
            if key in open_keys:  # the window rolled over while it fired: the old one is over
                alert_rows.resolve_alert(store, key, stamp)
            alert_rows.insert_alert(store, key, state.metric, state.scope, state.scope_value, state.window,
                                    state.period, stamp, state.value, state.target, state.warn, state.calls)
            changes.append(AlertChange("fired", state))
        by_key = {s.key: s for s in states}
        for key in open_keys.keys() - firing.keys():
            alert_rows.resolve_alert(store, key, stamp)
            state = by_key.get(key)
            if state is not None:
                changes.append(AlertChange("resolved", state))
    return changes


def history(store: Store, *, since: date | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Fired alerts, newest first (open ones have no ``resolved_utc``)."""
    return alert_rows.alert_history(store, since=since, limit=limit)


def notify(changes: Sequence[AlertChange], settings: Settings) -> list[str]:
    """POST each change to every webhook of the settings; the errors, one line each (never raised:
    an unreachable chat must not stop the server or the next check)."""
    errors = []
    for change in changes:
        body = json.dumps(_payload(change, settings.alerts.language), ensure_ascii=False).encode()
        for url in settings.alerts.webhooks:
            request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=settings.alerts.webhook_timeout_s):
                    pass
            except (OSError, ValueError) as exc:  # ValueError: a malformed URL in the settings
                errors.append(f"{url}: {exc}")
                log.warning("alert webhook %s failed: %s", url, exc)
    return errors


def _payload(change: AlertChange, lang: str) -> dict[str, Any]:
    state = change.state
    mark = {"fired": "🔴", "resolved": "🟢"}[change.change]
    word = {"en": {"fired": "Alert", "resolved": "Resolved"}, "ru": {"fired": "Тревога", "resolved": "Норма"}}
    data = asdict(state)
    data.update(key=state.key, status=state.status)
    return {"text": f"{mark} {word[lang][change.change]}: {state.message(lang)}", "event": change.change,
            "alert": data}


def newest_data_time(store: Store) -> datetime | None:
    """The start of the last call loaded (UTC), to check alerts as of then (replays, tests)."""
    value = data_end_utc(store)
    return value.replace(tzinfo=UTC) + timedelta(seconds=1) if value is not None else None
