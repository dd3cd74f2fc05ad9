"""Queues and intervals: per-queue KPIs, the interval table and heat maps."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from callkpi.metrics.catalogue import DIMENSIONS
from callkpi.queries.targets import load_targets
from callkpi.web import kpi
from callkpi.web.features.common import heat_chart, queue_choices, weekday_heat_chart
from callkpi.web.scope import Principal
from callkpi.web.security import page_principal, web_state
from callkpi.web.tables import by_table, intervals_table
from callkpi.web.ui import INTERVALS, chart, interval_minutes, locale, page_query, render, series

router = APIRouter(include_in_schema=False)




@router.get("/queues", response_class=HTMLResponse)
def queues_page(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    db = web_state(request).db
    params = db.params()
    pq = page_query(request, params)
    loc = locale(request, me, params)
    minutes = interval_minutes(request, params)
    queue_table = by_table(db, me, "queues", pq.period, ("queue",), kpi.QUEUE_METRICS, pq.filters)
    intervals = intervals_table(db, me, pq.period, pq.filters, minutes)
    weekday = "weekday" in DIMENSIONS
    heat_by = ("weekday", "hour") if weekday else ("day", "hour")
    heat = kpi.run_period(db, me, pq.period, by=heat_by, filters=pq.filters, metrics=("calls_offered",))
    heat_map = (weekday_heat_chart(heat.rows, loc, "calls_offered") if weekday
                else heat_chart(heat.rows, loc, "calls_offered"))
    arrivals = chart(
        "line",
        labels=[loc.interval_label(v) for v in series(intervals.rows, "interval")],
        series=[
            {"name": loc.t("arrivals"), "data": series(intervals.rows, "calls_offered"), "unit": "count",
             "axis": 0, "type": "bar"},
            {"name": loc.t("logged_in_h"), "data": series(intervals.rows, "logged_in_s"), "unit": "hours",
             "axis": 1},
        ],
    )
    return render(
        request,
        me,
        "queues.html",
        loc=loc,
        active="queues",
        pq=pq,
        minutes=minutes,
        intervals_options=INTERVALS,
        queue_table=queue_table,
        intervals=intervals,
        targets=load_targets(db.store()),
        arrivals_chart=arrivals,
        heat_chart=heat_map,
        heat_title="heatmap_weekday_hour" if weekday else "heatmap_day_hour_arrivals",
        queues=queue_choices(request),
    )
