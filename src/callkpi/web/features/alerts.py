"""The alerts page: what fires now, every target checked with its colour, and the history."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from callkpi.web.features import (
    alert_monitor,
    analysis_strings,  # noqa: F401  (the data clock's strings)
)
from callkpi.web.scope import Principal, require_role
from callkpi.web.security import page_principal, web_state
from callkpi.web.ui import locale, render

router = APIRouter(include_in_schema=False)


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    require_role(me, "admin", "supervisor")
    state = web_state(request)
    loc = locale(request, me)
    snapshot = alert_monitor.current(state.alerts, state.db)
    states = alert_monitor.visible(snapshot.states, me.user)
    return render(
        request,
        me,
        "alerts.html",
        loc=loc,
        active="alerts",
        snapshot=snapshot,
        monitor=state.alerts,
        states=states,
        firing=[s for s in states if s.firing],
        history=alert_monitor.recent_history(state.db, me.user, loc.lang),
        clock_note=snapshot.clock.note(loc.lang) if snapshot.clock else None,
    )
