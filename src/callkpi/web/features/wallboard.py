"""The wallboard: today's KPIs per queue in big tiles, the alerts firing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from callkpi.analyses.alerts import AlertState
from callkpi.queries.targets import load_targets
from callkpi.web import kpi
from callkpi.web.features import alert_monitor
from callkpi.web.features.common import count_bars, every_hour
from callkpi.web.kpi import Period
from callkpi.web.scope import Principal
from callkpi.web.security import page_principal, web_state
from callkpi.web.ui import locale, render

router = APIRouter(include_in_schema=False)
HOURLY_METRICS = ("calls_offered", "calls_answered", "calls_abandoned")


def _wallboard_data(request: Request, me: Principal) -> dict[str, Any]:
    db = web_state(request).db
    params = db.params()
    day = kpi.today(params)
    metrics = kpi.present(db, kpi.WALLBOARD_METRICS)
    total = kpi.run_period(db, me, Period(day, day), metrics=metrics)
    fallback = False
    if not total.rows or not total.rows[0].get("calls_offered"):
        latest = kpi.last_data_day(db, params)
        if latest != day:
            day, fallback = latest, True
            total = kpi.run_period(db, me, Period(day, day), metrics=metrics)
    per_queue = kpi.run_period(db, me, Period(day, day), by=("queue",), metrics=metrics)
    hour_metrics = tuple(m for m in HOURLY_METRICS if m in metrics)
    hourly = every_hour(kpi.run_period(db, me, Period(day, day), by=("hour",), metrics=hour_metrics).rows,
                        hour_metrics) if hour_metrics else []
    loc = locale(request, me, params)
    return {
        "day": day,
        "fallback": fallback,
        "metrics": metrics,
        "total": total.rows[0] if total.rows else {},
        "per_queue": per_queue.rows,
        "targets": load_targets(db.store()),
        "now_utc": datetime.now(UTC),
        "firing": _firing_alerts(request, me),
        "loc": loc,
        "hourly_chart": count_bars(loc, [f"{r['hour']:02d}" for r in hourly], hourly, hour_metrics)
        if hour_metrics else "",
    }


def _firing_alerts(request: Request, me: Principal) -> list[AlertState]:
    """The firing alerts of the user's scope, from the monitor's last check."""
    monitor = web_state(request).alerts
    if monitor is None:
        return []
    return [s for s in alert_monitor.visible(monitor.snapshot().states, me.user) if s.firing]


@router.get("/wallboard", response_class=HTMLResponse)
def wallboard(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    return render(request, me, "wallboard.html", active="wallboard", **_wallboard_data(request, me))


@router.get("/wallboard/tiles", response_class=HTMLResponse)
def wallboard_tiles(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    return render(request, me, "_wallboard_tiles.html", **_wallboard_data(request, me))
