"""What every page shares: the locale, the period and queue filter, rendering, chart specs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from callkpi.config import MetricParams
from callkpi.metrics.catalogue import REGISTRY
from callkpi.queries.agents import agent_names
from callkpi.web import kpi
from callkpi.web.db import Database
from callkpi.web.features import alert_monitor
from callkpi.web.i18n import LANGS, Locale, pick_lang
from callkpi.web.kpi import Period
from callkpi.web.scope import Principal
from callkpi.web.security import LANG_COOKIE, web_state

NAV = (
    ("overview", "/"),
    ("agents", "/agents"),
    ("queues", "/queues"),
    ("calls", "/calls"),
    ("missed", "/missed"),
    ("outbound", "/outbound"),
    ("definitions", "/metrics"),
    ("wallboard", "/wallboard"),
)
PRESETS = {"day": 1, "7": 7, "30": 30}
# The one rule for a page opened without a period: the last 7 days that end on the newest day with
# calls (every page with a period: overview, agents, queues, calls, missed, outbound, QA, sales, training).
DEFAULT_PRESET = "7"


def request_lang(request: Request, principal: Principal | None) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGS:
        return chosen
    if principal is not None and principal.user.lang in LANGS:
        return principal.user.lang
    accept = request.headers.get("accept-language", "")
    return "ru" if accept.lower().startswith("ru") else pick_lang(None)


def locale(request: Request, principal: Principal | None, params: MetricParams | None = None) -> Locale:
    db = web_state(request).db
    timezone = params.timezone if params else db.params().timezone
    return Locale(request_lang(request, principal), timezone, currency=money_shown_in(db))


def money_shown_in(db: Database) -> str | None:
    """The currency money values are shown in (None over mixed currencies or when nothing names one)."""
    from callkpi.queries.currency import money_currency

    return db.cached(("money_currency",), lambda: money_currency(db.store(), db.settings.money.currency))


@dataclass(frozen=True)
class PageQuery:
    period: Period
    queues: tuple[str, ...]
    preset: str | None

    @property
    def filters(self) -> dict[str, tuple[str, ...]]:
        return {"queue": self.queues} if self.queues else {}


def page_query(request: Request, params: MetricParams) -> PageQuery:
    """The period and queues a page shows: as asked (from/to or a preset), else :data:`DEFAULT_PRESET`."""
    qp = request.query_params
    db = web_state(request).db
    preset = qp.get("preset")
    if preset not in PRESETS and qp.get("from") is None and qp.get("to") is None:
        preset = DEFAULT_PRESET
    if preset in PRESETS:
        end = kpi.last_data_day(db, params)
        period = Period(end - timedelta(days=PRESETS[preset] - 1), end)
    else:
        preset = None
        period = kpi.resolve_period(db, params, qp.get("from"), qp.get("to"), PRESETS[DEFAULT_PRESET])
    return PageQuery(period, kpi.split_values(qp.getlist("queue")), preset)


INTERVALS = (15, 30, 60)


def interval_minutes(request: Request, params: MetricParams) -> int:
    """The interval length a page shows: ``?interval=`` when it is one of :data:`INTERVALS`, else the
    setting's, else 30."""
    try:
        minutes = int(request.query_params.get("interval", params.interval_minutes))
    except ValueError:
        minutes = params.interval_minutes
    return minutes if minutes in INTERVALS else 30


def query_string(request: Request, **changes: Any) -> str:
    """This page's query with some parameters changed (None drops one)."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            items.extend((key, str(v)) for v in value)
        else:
            items.append((key, str(value)))
    return "?" + urlencode(items) if items else ""


def render(
    request: Request,
    principal: Principal | None,
    template: str,
    *,
    active: str = "",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    state = web_state(request)
    loc = context.pop("loc", None) or locale(request, principal)
    return state.templates.TemplateResponse(
        request,
        template,
        {
            "loc": loc,
            "me": principal,
            "csrf": principal.csrf if principal else context.pop("csrf", ""),
            "nav": NAV,
            "active": active,
            "qs": lambda **changes: query_string(request, **changes),
            "path": request.url.path,
            "full_path": request.url.path + (("?" + request.url.query) if request.url.query else ""),
            "registry": REGISTRY.metrics,
            "watch_problems": _watch_problems(request, principal),
            "alerts_firing": _alerts_firing(request, principal),
            "agent_name_of": agent_namer(request),
            **context,
        },
        status_code=status_code,
    )


def agent_namer(request: Request) -> Any:
    """``agent_name_of(id)``: the agent's name from the agents list, or None (read once per data version,
    and only by a page that shows an agent)."""
    db = web_state(request).db

    def agent_name(agent_id: str | None) -> str | None:
        if not agent_id:
            return None
        names = db.cached(("agent_names",), lambda: agent_names(db.store()))
        return (names.get(str(agent_id)) or {}).get("name") or None

    return agent_name


def _watch_problems(request: Request, principal: Principal | None) -> int:
    """How many watched files cannot be loaded (admins only: they can act on it)."""
    watcher = web_state(request).watcher
    if watcher is None or principal is None or not principal.is_admin:
        return 0
    return watcher.problem_count()


def _alerts_firing(request: Request, principal: Principal | None) -> int:
    """How many alerts of the user's scope fire (the monitor's last check: no query)."""
    if principal is None:
        return 0
    return alert_monitor.firing_count(web_state(request).alerts, principal.user)


def chart(kind: str, **spec: Any) -> str:
    """A chart description for static/app.js (JSON in a data attribute; no inline scripts)."""
    return json.dumps({"kind": kind, **spec}, ensure_ascii=False, default=str)


def unit_of(metric_id: str) -> str:
    metric = REGISTRY.metrics.get(metric_id)
    return metric.unit if metric else ""


def series(rows: list[dict[str, Any]], column: str) -> list[Any]:
    return [row.get(column) for row in rows]
