"""Agents: the league table and one agent's page (trend, heat map, talk-time histogram, calls)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from callkpi.config import MetricParams
from callkpi.queries import calls as call_log
from callkpi.queries.agents import agent_names
from callkpi.queries.distributions import talk_distribution
from callkpi.queries.targets import load_targets
from callkpi.web import kpi, tables
from callkpi.web.db import Database
from callkpi.web.features.business_tables import check_agent_visible
from callkpi.web.features.common import every_day, heat_chart, metric_unit, queue_choices
from callkpi.web.i18n import Locale
from callkpi.web.kpi import Period
from callkpi.web.page_answers import shared_answer
from callkpi.web.scope import Principal, scoped_filters
from callkpi.web.security import page_principal, web_state
from callkpi.web.table_html import kpi_rows
from callkpi.web.tables import KpiTable, by_table, page_of
from callkpi.web.ui import chart, locale, page_query, render, series

router = APIRouter(include_in_schema=False)


@router.get("/agents", response_class=HTMLResponse)
def agents(request: Request, me: Principal = Depends(page_principal)) -> Response:
    return shared_answer(request, me, lambda reader: _agents(request, reader))


def _agents(request: Request, me: Principal) -> HTMLResponse:
    db = web_state(request).db
    params = db.params()
    pq = page_query(request, params)
    table = agents_table(db, me, pq.period, pq.filters)
    paging, per_page = None, tables.AGENTS_PER_PAGE
    if len(table.rows) > per_page:  # thousands of rows would take seconds to render
        qp = request.query_params
        try:
            number = int(qp.get("page", "1"))
        except ValueError:
            number = 1
        table, paging = page_of(table, qp.get("sort"), qp.get("dir", "desc") != "asc", number, per_page)
    loc, targets = locale(request, me, params), load_targets(db.store())
    return render(
        request,
        me,
        "agents.html",
        active="agents",
        loc=loc,
        pq=pq,
        table=table,
        rows=kpi_rows(loc, table, targets, link="agent"),  # in Python: a macro per cell took most of a second
        paging=paging,
        targets=targets,
        queues=queue_choices(request),
    )


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
    trend_rows = every_day(trend.rows, pq.period, trend_metrics)
    heat = kpi.run_period(db, me, pq.period, by=("day", "hour"), filters=filters, metrics=("calls_handled",))
    bin_s, last_bin = _talk_bins(params)
    bands = talk_distribution(
        db.store(), params, agent_id, pq.period.date_from, pq.period.date_to, bin_s, last_bin
    )
    scope = scoped_filters(me, {"agent": (agent_id,)})
    calls = call_log.calls_page(
        db.store(),
        call_log.CallQuery(date_from=pq.period.date_from, date_to=pq.period.date_to, limit=20),
        scope,
        params,
        hide_numbers=not me.sees_numbers(db.settings.phone.mask_numbers),
    )
    names = agent_names(db.store()).get(agent_id, {})
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
            labels=[loc.date(d) for d in series(trend_rows, "day")],
            series=[
                {"name": loc.metric_title(m), "data": series(trend_rows, m), "unit": metric_unit(m), "axis": i}
                for i, m in enumerate(trend_metrics[:2])
            ],
        ),
        heat_chart=heat_chart(heat.rows, loc, "calls_handled"),
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


def agents_table(
    db: Database, principal: Principal, period: Period, filters: Mapping[str, Sequence[str]]
) -> KpiTable:
    table = by_table(db, principal, name="agents", period=period, by=("agent",),
                     metrics=kpi.AGENT_METRICS, filters=filters)
    names = db.cached(("agent_names",), lambda: agent_names(db.store()))
    for row in table.rows:
        known = names.get(row["agent"], {})
        row["name"] = known.get("name")
        row["team"] = known.get("team")
    table.labels = ("name", "team")
    return table
