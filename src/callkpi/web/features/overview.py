"""The overview: the period against targets, with the previous period, sparklines and queues.

:func:`warm_up` computes it ahead at start-up."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from callkpi.metrics.engine import KpiResult
from callkpi.queries.business import MATURING_METRICS
from callkpi.queries.queues import queue_names
from callkpi.queries.targets import load_targets
from callkpi.web import kpi
from callkpi.web.auth import User
from callkpi.web.db import Database
from callkpi.web.features import business_tables as bv
from callkpi.web.features.agents import agents_table
from callkpi.web.features.common import metric_card, queue_choices
from callkpi.web.kpi import Period
from callkpi.web.page_answers import shared_answer
from callkpi.web.scope import Principal
from callkpi.web.security import page_principal, web_state
from callkpi.web.tables import KpiTable, by_table
from callkpi.web.ui import page_query, render

router = APIRouter(include_in_schema=False)
log = logging.getLogger("callkpi.web")


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
        queues = queue_names(db.store())[:1]
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
def overview(request: Request, me: Principal = Depends(page_principal)) -> Response:
    return shared_answer(request, me, lambda reader: _overview(request, reader))


def _overview(request: Request, me: Principal) -> HTMLResponse:
    db = web_state(request).db
    params = db.params()
    pq = page_query(request, params)
    metrics, current, previous, daily, by_queue = overview_results(db, me, pq.period, pq.filters)
    targets = load_targets(db.store())
    queue = pq.queues[0] if len(pq.queues) == 1 else None
    row = current.rows[0] if current.rows else {}
    before = previous.rows[0] if previous.rows else {}
    cards = [metric_card(m, row, before, daily.rows, targets, queue, pq.period) for m in metrics]
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
        queues=queue_choices(request),
        export_metrics=",".join(metrics),
        maturing=bv.maturing_marker(db, me, pq.period, pq.filters, metrics),
        maturing_metrics=MATURING_METRICS,
        labour=bv.labour_completeness(db, me, pq.period, pq.filters),
    )
