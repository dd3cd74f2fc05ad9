"""Outbound campaigns: dials, contacts, attempts per number by hour, the attempts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from callkpi.queries import calls as call_log
from callkpi.queries.targets import load_targets
from callkpi.web import kpi
from callkpi.web.features.common import metric_unit
from callkpi.web.scope import Principal, scoped_filters
from callkpi.web.security import page_principal, web_state
from callkpi.web.tables import by_table
from callkpi.web.ui import chart, locale, page_query, render, series

router = APIRouter(include_in_schema=False)


@router.get("/outbound", response_class=HTMLResponse)
def outbound(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    db = web_state(request).db
    params = db.params()
    pq = page_query(request, params)
    loc = locale(request, me, params)
    metrics = kpi.present(db, kpi.OUTBOUND_METRICS)
    total = kpi.run_period(db, me, pq.period, metrics=metrics)
    campaigns = by_table(db, me, "campaigns", pq.period, ("campaign",), metrics, {})
    hourly_metrics = kpi.present(db, ("dials", "connect_rate"))
    hourly = kpi.run_period(db, me, pq.period, by=("hour",), metrics=hourly_metrics)
    scope = scoped_filters(me, {})
    attempts = call_log.calls_page(
        db.store(),
        call_log.CallQuery(
            date_from=pq.period.date_from, date_to=pq.period.date_to, direction=("outbound",), limit=50
        ),
        scope,
        params,
        hide_numbers=not me.sees_numbers(db.settings.phone.mask_numbers),
    )
    row = total.rows[0] if total.rows else {}
    hour_chart = chart(
        "line",
        labels=[f"{h:02d}" for h in series(hourly.rows, "hour")],
        series=[
            {"name": loc.metric_title(m), "data": series(hourly.rows, m), "unit": metric_unit(m), "axis": i,
             "type": "bar" if m == "dials" else "line"}
            for i, m in enumerate(hourly_metrics)
        ],
    )
    return render(
        request,
        me,
        "outbound.html",
        loc=loc,
        active="outbound",
        pq=pq,
        metrics=metrics,
        row=row,
        campaigns=campaigns,
        hour_chart=hour_chart,
        attempts=attempts,
        has_outbound=bool(row.get("dials")),
        export_metrics=",".join(metrics),
        targets=load_targets(db.store()),
    )
