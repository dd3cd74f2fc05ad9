"""Sales & money, the training effect and the agent scorecard: pages, their CSV/XLSX exports and
the API (``/api/v1/training-effect``, ``/api/v1/agents/{agent}/scorecard``).

Every number is :func:`~callkpi.analyses.training_effect.training_effect`,
:func:`~callkpi.analyses.agent_scorecard.agent_scorecard`
(the same functions as ``callkpi training-effect`` and ``callkpi scorecard``) or an engine result.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.background import BackgroundTask

from callkpi.analyses.agent_scorecard import SCORECARD_COLUMNS, export_rows
from callkpi.analyses.stages_vs_deals import stages_vs_deals
from callkpi.analyses.training_effect import DEFAULT_WINDOW_DAYS, OUTCOMES
from callkpi.config import MetricParams, parse_param_overrides
from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.describe import describe
from callkpi.queries.business import COHORT_METRICS, sales_report
from callkpi.queries.queues import queue_names
from callkpi.queries.targets import load_targets
from callkpi.report.render import to_csv, write_xlsx
from callkpi.web import kpi
from callkpi.web.features import business_tables as bv
from callkpi.web.kpi import BadRequest, split_values
from callkpi.web.scope import Principal, require_role, scoped_filters
from callkpi.web.security import api_principal, page_principal, web_state
from callkpi.web.ui import locale, page_query, render

pages_router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["api"])
FORMATS = ("csv", "xlsx")
Me = Annotated[Principal, Depends(api_principal)]
Window = Annotated[int, Query(ge=1, le=bv.MAX_WINDOW_DAYS, description="days before and after the training")]
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "malformed or impossible request; `error` says which parameter and why"},
    401: {"description": "no or no valid bearer token"},
    403: {"description": "outside what this user may see"},
    422: {"description": "a parameter of the wrong type"},
}


def _params(request: Request, param: Sequence[str] | None = None) -> MetricParams:
    db = web_state(request).db
    try:
        return db.params().with_overrides(parse_param_overrides(list(param or ())))
    except ValueError as exc:
        raise BadRequest(str(exc).replace("--param", "param")) from exc


def _outcomes(metrics: Sequence[str] | str | None) -> tuple[str, ...]:
    return split_values(metrics) or tuple(OUTCOMES)


def _download(name: str, fmt: str, rows: Sequence[dict[str, Any]], columns: Sequence[str], *,
              definitions: Sequence[dict[str, Any]], parameters: dict[str, Any]) -> Response:
    if fmt not in FORMATS:
        raise BadRequest(f"export format must be one of {', '.join(FORMATS)}")
    safe = re.sub(r"[^\w.-]+", "_", name)
    if fmt == "csv":
        return Response(to_csv(rows, columns), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="callkpi-{safe}.csv"'})
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="callkpi-")
    os.close(handle)
    write_xlsx(Path(path), rows, columns, definitions=definitions, parameters=parameters, sheet=safe[:31])
    return FileResponse(path, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        filename=f"callkpi-{safe}.xlsx", background=BackgroundTask(os.unlink, path))


# -- sales & money -------------------------------------------------------------------------------


@pages_router.get("/sales", response_class=HTMLResponse)
def sales(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    db = web_state(request).db
    params = db.params()
    pq = page_query(request, params)
    by = request.query_params.get("by") or "agent"
    metrics = bv.sales_metrics(db)
    table = bv.sales_table(db, me, pq.period, by, pq.filters)
    total = kpi.run_period(db, me, pq.period, filters=pq.filters, metrics=metrics) if metrics else None
    queues = db.cached(("queues",), lambda: queue_names(db.store()))
    loc = locale(request, me, params)
    extra: dict[str, Any] = {}
    if metrics:
        extra = {"maturing": bv.maturing_marker(db, me, pq.period, pq.filters, metrics),
                 "labour": bv.labour_completeness(db, me, pq.period, pq.filters),
                 "cohorts": bv.cohort_view(db, me, pq.period, pq.filters),
                 "cohort_metrics": kpi.present(db, COHORT_METRICS),
                 "maturity": bv.maturity(db, params), "charts": bv.sales_charts(db, me, loc, pq.period, pq.filters)}
    scope = scoped_filters(me, {})
    extra["stage_deals"] = stages_vs_deals(db.store(), params, scope.get("agent", ()), scope.get("queue", ()),
                                           scope.get("team", ()))
    return render(request, me, "sales.html", loc=loc, active="sales", pq=pq, by=by, by_options=bv.SALES_BY,
                  metrics=metrics, row=total.rows[0] if total and total.rows else {}, table=table,
                  notes=total.notes if total else [], targets=load_targets(db.store()), queues=queues,
                  export_metrics=",".join(metrics), **extra)


@api_router.get("/sales/cohorts", summary="Sales & money of a period, maturing deals and the cohort view",
                description="Exactly `callkpi sales --format json`: the period's sales and money totals, whether "
                            "it is maturing (its calls are less than attribution_window_d before the end of the "
                            "data, so deals may still be won) with the share of its attributed deals still open, "
                            "the agents with calls but no labour cost (the cost is incomplete while any), and the "
                            "deals by the day of their call (every day of the period, days without calls as 0), "
                            "each day marked maturing or not. Scoped like /api/v1/kpi.", responses=_ERRORS)
def api_sales_cohorts(
    request: Request,
    me: Me,
    date_from: Annotated[str | None, Query(alias="from", description="first local date, YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(alias="to", description="last local date (inclusive)")] = None,
    queue: Annotated[list[str] | None, Query(description="only these queues")] = None,
    team: Annotated[list[str] | None, Query(description="only these teams")] = None,
    agent: Annotated[list[str] | None, Query(description="only these agents")] = None,
) -> dict[str, Any]:
    db = web_state(request).db
    params = db.params()
    maturity = bv.maturity(db, params)
    end = kpi.parse_date(date_to, "to") or kpi.last_data_day(db, params)
    start = kpi.parse_date(date_from, "from") or end - timedelta(days=29)
    if start > end:
        raise BadRequest("from is after to")
    filters = {k: split_values(v) for k, v in (("queue", queue), ("team", team), ("agent", agent)) if v}

    def run(by: tuple[str, ...], metrics: Sequence[str]) -> list[dict[str, Any]]:
        return kpi.run(db, me, by=by, date_from=start, date_to=end, filters=filters,
                       metrics=kpi.present(db, metrics)).rows

    return sales_report(run, maturity, start, end)


# -- training effect -----------------------------------------------------------------------------


def _training_request(request: Request, programme: str | None, window_days: int,
                      metrics: Sequence[str] | None) -> tuple[list[Any], MetricParams, tuple[str, ...]]:
    db = web_state(request).db
    params = db.params()
    chosen = _outcomes(metrics)
    return bv.effects(db, params, programme or None, window_days, chosen), params, chosen


@pages_router.get("/training", response_class=HTMLResponse)
def training(request: Request, me: Principal = Depends(page_principal), programme: str | None = None,
             window_days: Window = DEFAULT_WINDOW_DAYS, metrics: Annotated[list[str] | None, Query()] = None
             ) -> HTMLResponse:
    require_role(me, "admin", "supervisor")
    db = web_state(request).db
    found, params, chosen = _training_request(request, programme, window_days, metrics)
    loc = locale(request, me, params)
    return render(request, me, "training.html", loc=loc, active="training", programmes=bv.programme_names(db),
                  programme=programme or "", window_days=window_days, outcomes=tuple(OUTCOMES), chosen=chosen,
                  groups=bv.training_maturing(db, me, bv.training_view(loc, found)), amount=bv.amount)


@pages_router.get("/training/export.{fmt}")
def training_export(fmt: str, request: Request, me: Principal = Depends(page_principal),
                    programme: str | None = None, window_days: Window = DEFAULT_WINDOW_DAYS,
                    metrics: Annotated[list[str] | None, Query()] = None) -> Response:
    require_role(me, "admin", "supervisor")
    found, params, chosen = _training_request(request, programme, window_days, metrics)
    loc = locale(request, me, params)
    lang = loc.lang
    parameters = {"programme": programme or "all", "window_days": window_days, "method": loc.t("training_method"),
                  **params.model_dump()}
    return _download("training-effect", fmt, bv.training_export_rows(found), bv.TRAINING_COLUMNS,
                     definitions=[describe(REGISTRY.metrics[m], params, lang) for m in chosen if m in REGISTRY.metrics],
                     parameters=parameters)


@api_router.get("/training-effect", summary="Training effect: difference in differences per programme and metric",
                description="Exactly `callkpi training-effect --format json`: for each programme and metric, trained "
                            "agents before vs after against untrained agents over the same windows; effect, 95 % "
                            "CI, p-value, group sizes, each group's own change and a verdict. Admins and "
                            "supervisors.", responses=_ERRORS)
def api_training_effect(
    request: Request,
    me: Me,
    programme: Annotated[str | None, Query(description="one programme (default: every programme)")] = None,
    window_days: Window = DEFAULT_WINDOW_DAYS,
    metrics: Annotated[str | None, Query(description=f"comma list of {', '.join(OUTCOMES)}")] = None,
    param: Annotated[list[str] | None, Query(description="NAME=VALUE, e.g. attribution_window_d=14")] = None,
) -> list[dict[str, Any]]:
    require_role(me, "admin", "supervisor")
    db = web_state(request).db
    found = bv.effects(db, _params(request, param), programme or None, window_days, _outcomes(metrics))
    return [e.as_dict() for e in found]


# -- scorecard -----------------------------------------------------------------------------------


@pages_router.get("/agents/{agent_id}/scorecard", response_class=HTMLResponse)
def scorecard_page(agent_id: str, request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    db = web_state(request).db
    params = db.params()
    bv.check_agent_visible(db, me, agent_id)
    pq = page_query(request, params)
    card = bv.scorecard(db, agent_id, params, pq.period.date_from, pq.period.date_to)
    metrics = [row["metric"] for row in card["rows"]]
    return render(request, me, "scorecard.html", active="agents", pq=pq, agent_id=agent_id, card=card,
                  sections=bv.scorecard_sections(card), metrics=metrics, targets=load_targets(db.store()))


@pages_router.get("/agents/{agent_id}/scorecard.{fmt}")
def scorecard_export(agent_id: str, fmt: str, request: Request, me: Principal = Depends(page_principal)) -> Response:
    db = web_state(request).db
    params = db.params()
    bv.check_agent_visible(db, me, agent_id)
    pq = page_query(request, params)
    card = bv.scorecard(db, agent_id, params, pq.period.date_from, pq.period.date_to)
    lang = locale(request, me, params).lang
    definitions = [describe(REGISTRY.metrics[row["metric"]], params, lang) for row in card["rows"]]
    return _download(f"scorecard {agent_id}", fmt, export_rows(card), SCORECARD_COLUMNS, definitions=definitions,
                     parameters={**pq.period.query(), "agent": agent_id, **params.model_dump()})


@api_router.get("/agents/{agent_id}/scorecard", summary="One agent's scorecard with the team beside",
                description="Exactly `callkpi scorecard AGENT --format json`: profile (name, team, hire date, "
                            "tenure, trainings), the KPIs of the period in sections with the team's values beside "
                            "(counts and sums per team agent), notes and definitions. Agents may ask only for "
                            "themselves; supervisors for agents of their teams and queues.",
                responses={404: {"description": "no such agent"}, **_ERRORS})
def api_scorecard(
    agent_id: str,
    request: Request,
    me: Me,
    date_from: Annotated[str | None, Query(alias="from", description="first local date, YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(alias="to", description="last local date (inclusive)")] = None,
    param: Annotated[list[str] | None, Query(description="NAME=VALUE, e.g. attribution_window_d=14")] = None,
) -> dict[str, Any]:
    db = web_state(request).db
    bv.check_agent_visible(db, me, agent_id)
    start, end = kpi.parse_date(date_from, "from"), kpi.parse_date(date_to, "to")
    if start and end and start > end:
        raise BadRequest("from is after to")
    return bv.scorecard(db, agent_id, _params(request, param), start, end)


router = APIRouter()
router.include_router(api_router)
router.include_router(pages_router)
