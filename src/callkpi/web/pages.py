"""Dashboard pages: overview, agents, one agent, queues and intervals, outbound, definitions,
wallboard. Every number on them is an engine result; this module arranges and labels."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from callkpi.alerts import AlertState
from callkpi.config import MetricParams
from callkpi.metrics.catalogue import DIMENSIONS, REGISTRY
from callkpi.metrics.describe import describe_all
from callkpi.metrics.engine import KpiResult
from callkpi.web import alert_monitor, kpi, queries, views
from callkpi.web.auth import User
from callkpi.web.business_views import check_agent_visible
from callkpi.web.db import Database
from callkpi.web.i18n import Locale
from callkpi.web.kpi import Period
from callkpi.web.scope import Principal, scoped_filters
from callkpi.web.security import page_principal, web_state
from callkpi.web.targets import Targets, load_targets
from callkpi.web.ui import chart, locale, page_query, render, series
from callkpi.web.views import KpiTable, agents_table, by_table, intervals_table, page_of

router = APIRouter(include_in_schema=False)
log = logging.getLogger("callkpi.web")
INTERVALS = (15, 30, 60)


def _card(
    metric_id: str,
    current: dict[str, Any],
    previous: dict[str, Any],
    daily: list[dict[str, Any]],
    targets: Targets,
    queue: str | None,
) -> dict[str, Any]:
    value, before = current.get(metric_id), previous.get(metric_id)
    change = value - before if isinstance(value, int | float) and isinstance(before, int | float) else None
    return {
        "id": metric_id,
        "value": value,
        "previous": before,
        "change": change,
        "status": targets.status(metric_id, value, queue=queue),
        "target": targets.find(metric_id, queue=queue),
        "spark": chart("spark", data=series(daily, metric_id), labels=series(daily, "day"), unit=_unit(metric_id)),
    }


def _unit(metric_id: str) -> str:
    metric = REGISTRY.metrics.get(metric_id)
    return metric.unit if metric else ""


def _queues(request: Request) -> list[str]:
    db = web_state(request).db
    return db.cached(("queues",), lambda: queries.distinct_values(db.store(), "queue_legs", "queue"))


def overview_results(
    db: Database, me: Principal, period: Period, filters: dict[str, tuple[str, ...]]
) -> tuple[tuple[str, ...], KpiResult, KpiResult, KpiTable, KpiTable]:
    """The engine results the overview shows (also computed ahead by :func:`warm_up`)."""
    metrics = kpi.present(db, kpi.OVERVIEW_METRICS)
    current = kpi.run_period(db, me, period, filters=filters, metrics=metrics)
    previous = kpi.run_period(db, me, period.previous(), filters=filters, metrics=metrics)
    daily = by_table(db, me, "days", period, ("day",), metrics, filters)
    by_queue = by_table(db, me, "queues", period, ("queue",), metrics, filters)
    return metrics, current, previous, daily, by_queue


def warm_up(db: Database, stop: threading.Event) -> None:
    """Compute the default overview, agent table and wallboard once at start-up, so the first
    visitor does not wait for the engine (results are cached per data version); the overview of
    one queue too, which compiles the queries of every one-queue view (the engine keeps them)."""
    me = Principal(User("warm-up", "admin"), "internal")
    try:
        params = db.params()
        end = kpi.last_data_day(db, params)
        week = Period(end - timedelta(days=6), end)
        queues = queries.distinct_values(db.store(), "queue_legs", "queue")[:1]
        for step in (
            lambda: overview_results(db, me, week, {}),
            lambda: agents_table(db, me, week, {}),
            lambda: kpi.run_period(db, me, Period(end, end), metrics=kpi.present(db, kpi.WALLBOARD_METRICS)),
            *[lambda q=q: overview_results(db, me, week, {"queue": (q,)}) for q in queues],
            *[lambda q=q: agents_table(db, me, week, {"queue": (q,)}) for q in queues],
        ):
            if stop.is_set():
                return
            step()
    except Exception:  # a failed warm-up only means a slower first page
        log.debug("warm-up failed", exc_info=True)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    db = web_state(request).db
    params = db.params()
    pq = page_query(request, params)
    metrics, current, previous, daily, by_queue = overview_results(db, me, pq.period, pq.filters)
    targets = load_targets(db.store())
    queue = pq.queues[0] if len(pq.queues) == 1 else None
    row = current.rows[0] if current.rows else {}
    before = previous.rows[0] if previous.rows else {}
    cards = [_card(m, row, before, daily.rows, targets, queue) for m in metrics]
    return render(
        request,
        me,
        "overview.html",
        active="overview",
        pq=pq,
        previous=pq.period.previous(),
        cards=cards,
        by_queue=by_queue,
        by_day=daily,
        targets=targets,
        notes=current.notes,
        queues=_queues(request),
        export_metrics=",".join(metrics),
    )


@router.get("/agents", response_class=HTMLResponse)
def agents(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    db = web_state(request).db
    params = db.params()
    pq = page_query(request, params)
    table = agents_table(db, me, pq.period, pq.filters)
    paging, per_page = None, views.AGENTS_PER_PAGE
    if len(table.rows) > per_page:  # thousands of rows would take seconds to render
        qp = request.query_params
        try:
            number = int(qp.get("page", "1"))
        except ValueError:
            number = 1
        table, paging = page_of(table, qp.get("sort"), qp.get("dir", "desc") != "asc", number, per_page)
    return render(
        request,
        me,
        "agents.html",
        active="agents",
        pq=pq,
        table=table,
        paging=paging,
        targets=load_targets(db.store()),
        queues=_queues(request),
    )


def _heat(rows: list[dict[str, Any]], loc: Locale, metric: str) -> str:
    """A day x hour heat map of one engine count."""
    days = sorted({r["day"] for r in rows if r.get("day")})
    data = [[r["hour"], days.index(r["day"]), r.get(metric) or 0] for r in rows if r.get("day")]
    return chart(
        "heatmap",
        x=[f"{h:02d}" for h in range(24)],
        y=[loc.date(d) for d in days],
        data=data,
        name=loc.metric_title(metric),
    )


def _weekday_heat(rows: list[dict[str, Any]], loc: Locale, metric: str) -> str:
    """A weekday x hour heat map (used once the engine offers a ``weekday`` dimension)."""
    days = sorted({r["weekday"] for r in rows if r.get("weekday") is not None})
    numeric = all(isinstance(d, int) for d in days)
    first = 1 if numeric and days and min(days) >= 1 and max(days) == 7 else 0
    labels = [loc.weekday(d - first) if numeric and 0 <= d - first < 7 else str(d) for d in days]
    data = [[r["hour"], days.index(r["weekday"]), r.get(metric) or 0] for r in rows if r.get("weekday") is not None]
    return chart("heatmap", x=[f"{h:02d}" for h in range(24)], y=labels, data=data, name=loc.metric_title(metric))


@router.get("/agents/{agent_id}", response_class=HTMLResponse)
def agent_page(agent_id: str, request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    db = web_state(request).db
    if me.role == "supervisor":  # the talk-time bands below are not cut to the user's scope: who may look first
        check_agent_visible(db, me, agent_id)
    params = db.params()
    pq = page_query(request, params)
    loc = locale(request, me, params)
    filters = {**pq.filters, "agent": (agent_id,)}
    metrics = kpi.present(db, kpi.AGENT_METRICS)
    total = kpi.run_period(db, me, pq.period, filters=filters, metrics=metrics)
    trend_metrics = kpi.present(db, ("calls_handled", "aht_s", "att_s"))
    trend = kpi.run_period(db, me, pq.period, by=("day",), filters=filters, metrics=trend_metrics)
    heat = kpi.run_period(db, me, pq.period, by=("day", "hour"), filters=filters, metrics=("calls_handled",))
    bin_s, last_bin = _talk_bins(params)
    bands = queries.talk_distribution(
        db.store(), params, agent_id, pq.period.date_from, pq.period.date_to, bin_s, last_bin
    )
    scope = scoped_filters(me, {"agent": (agent_id,)})
    calls = queries.calls_page(
        db.store(),
        queries.CallQuery(date_from=pq.period.date_from, date_to=pq.period.date_to, limit=20),
        scope,
        params,
        hide_numbers=not me.sees_numbers(db.settings.phone.mask_numbers),
    )
    names = queries.agent_names(db.store()).get(agent_id, {})
    targets = load_targets(db.store())
    row = total.rows[0] if total.rows else {}
    return render(
        request,
        me,
        "agent.html",
        loc=loc,
        active="agents",
        pq=pq,
        agent_id=agent_id,
        agent_name=names.get("name"),
        team=names.get("team"),
        metrics=metrics,
        row=row,
        notes=total.notes,
        targets=targets,
        trend_chart=chart(
            "line",
            labels=[loc.date(d) for d in series(trend.rows, "day")],
            series=[
                {"name": loc.metric_title(m), "data": series(trend.rows, m), "unit": _unit(m), "axis": i}
                for i, m in enumerate(trend_metrics[:2])
            ],
        ),
        heat_chart=_heat(heat.rows, loc, "calls_handled"),
        talk_chart=_talk_chart(bands, bin_s, last_bin, params, loc),
        calls=calls,
        export_metrics=",".join(metrics),
        trend_metrics=",".join(trend_metrics),
    )


def _talk_bins(params: MetricParams) -> tuple[int, int]:
    bin_s = max(5, int(params.short_call_s) or 30)
    while params.long_call_s / bin_s > 60:
        bin_s *= 2
    return bin_s, int(params.long_call_s // bin_s) + 2


def _talk_chart(bands: list[dict[str, Any]], bin_s: int, last_bin: int, params: MetricParams, loc: Locale) -> str:
    counts = {b["band"]: b["legs"] for b in bands}
    labels, data, kinds = [], [], []
    for band in range(last_bin + 1):
        start = band * bin_s
        labels.append(f"≥{start}" if band == last_bin else f"{start}–{start + bin_s}")
        data.append(counts.get(band, 0))
        if start + bin_s <= params.short_call_s:
            kinds.append("short")
        elif start >= params.long_call_s:
            kinds.append("long")
        else:
            kinds.append("")
    return chart(
        "histogram",
        labels=labels,
        data=data,
        kinds=kinds,
        legend={"short": loc.t("too_short"), "long": loc.t("too_long")},
        name=loc.t("talk"),
    )


@router.get("/queues", response_class=HTMLResponse)
def queues_page(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    db = web_state(request).db
    params = db.params()
    pq = page_query(request, params, default_days=1)
    loc = locale(request, me, params)
    try:
        minutes = int(request.query_params.get("interval", params.interval_minutes))
    except ValueError:
        minutes = params.interval_minutes
    minutes = minutes if minutes in INTERVALS else 30
    queue_table = by_table(db, me, "queues", pq.period, ("queue",), kpi.QUEUE_METRICS, pq.filters)
    intervals = intervals_table(db, me, pq.period, pq.filters, minutes)
    weekday = "weekday" in DIMENSIONS
    heat_by = ("weekday", "hour") if weekday else ("day", "hour")
    heat = kpi.run_period(db, me, pq.period, by=heat_by, filters=pq.filters, metrics=("calls_offered",))
    heat_chart = _weekday_heat(heat.rows, loc, "calls_offered") if weekday else _heat(heat.rows, loc, "calls_offered")
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
        heat_chart=heat_chart,
        heat_title="heatmap_weekday_hour" if weekday else "heatmap_day_hour_arrivals",
        queues=_queues(request),
    )


@router.get("/outbound", response_class=HTMLResponse)
def outbound(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    db = web_state(request).db
    params = db.params()
    pq = page_query(request, params, default_days=30)
    loc = locale(request, me, params)
    metrics = kpi.present(db, kpi.OUTBOUND_METRICS)
    total = kpi.run_period(db, me, pq.period, metrics=metrics)
    campaigns = by_table(db, me, "campaigns", pq.period, ("campaign",), metrics, {})
    hourly_metrics = kpi.present(db, ("dials", "connect_rate"))
    hourly = kpi.run_period(db, me, pq.period, by=("hour",), metrics=hourly_metrics)
    scope = scoped_filters(me, {})
    attempts = queries.calls_page(
        db.store(),
        queries.CallQuery(
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
            {"name": loc.metric_title(m), "data": series(hourly.rows, m), "unit": _unit(m), "axis": i,
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


@router.get("/metrics", response_class=HTMLResponse)
def definitions(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    db = web_state(request).db
    params = db.params()
    loc = locale(request, me, params)
    items = describe_all(params, loc.lang)
    sections: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        sections.setdefault(item["section"], []).append(item)
    parameters = [
        {"name": name, "value": value, "description": field.description or ""}
        for name, field in MetricParams.model_fields.items()
        for value in [params.model_dump()[name]]
    ]
    return render(
        request, me, "metrics.html", loc=loc, active="definitions", sections=sections, parameters=parameters
    )


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
    return {
        "day": day,
        "fallback": fallback,
        "metrics": metrics,
        "total": total.rows[0] if total.rows else {},
        "per_queue": per_queue.rows,
        "targets": load_targets(db.store()),
        "now_utc": datetime.now(UTC),
        "firing": _firing_alerts(request, me),
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
