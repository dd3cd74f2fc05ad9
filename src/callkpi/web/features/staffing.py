"""Staffing: agents needed (Erlang) beside agents scheduled and logged in, per interval; the page
/staffing and ``/api/v1/staffing``, both :func:`callkpi.analyses.staffing.staffing` (the same function
as ``callkpi staffing``). Admins and supervisors; a supervisor named to queues sees only those."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from callkpi.analyses.staffing import Staffing, Targets, export_parameters, staffing
from callkpi.config import MetricParams
from callkpi.web import kpi
from callkpi.web.db import Database
from callkpi.web.features import analysis_strings  # noqa: F401  (the page's strings)
from callkpi.web.features.common import queue_choices
from callkpi.web.features.files import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, file_response
from callkpi.web.kpi import BadRequest, Period, split_values
from callkpi.web.scope import Principal, require_role, scoped_filters
from callkpi.web.security import api_principal, page_principal, web_state
from callkpi.web.ui import INTERVALS, interval_minutes, locale, page_query, render

pages_router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["api"])
Me = Annotated[Principal, Depends(api_principal)]


def targets_for(params: MetricParams, minutes: int, service_level: float = 0.8, shrinkage: float = 0.3,
                max_occupancy: float = 0.85, model: str = "auto") -> Targets:
    """The CLI's defaults: 80 % within sl_threshold_s, occupancy at most 85 %, shrinkage 30 %."""
    if minutes not in INTERVALS:
        raise BadRequest(f"interval_minutes must be one of {', '.join(map(str, INTERVALS))}")
    if not 0 < service_level < 1 or not 0 <= shrinkage < 1 or not 0 < max_occupancy <= 1:
        raise BadRequest("service_level and max_occupancy are in (0, 1], shrinkage in [0, 1)")
    return Targets(interval_minutes=minutes, threshold_s=params.sl_threshold_s, service_level=service_level,
                   max_occupancy=max_occupancy, shrinkage=shrinkage, model=model)


def scoped_staffing(db: Database, me: Principal, period: Period, queues: tuple[str, ...], targets: Targets,
                    typical_week: bool = False) -> Staffing:
    """Staffing of the user's queues (a supervisor's are forced in; asking beyond them is a 403)."""
    require_role(me, "admin", "supervisor")
    filters = scoped_filters(me, {"queue": queues})
    chosen = filters.pop("queue", ())
    teams = filters.pop("team", ())
    key = ("staffing", period.date_from, period.date_to, chosen, teams, targets, typical_week)
    try:
        return db.cached(key, lambda: staffing(db.store(), db.params(), targets, date_from=period.date_from,
                                               date_to=period.date_to, queues=chosen, typical_week=typical_week,
                                               filters={"team": teams} if teams else None))
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc


def staffing_file(result: Staffing, fmt: str, targets: Targets, period: Period, queues: tuple[str, ...],
                  timezone: str) -> Response:
    """The staffing table as ``callkpi-staffing.csv`` or ``.xlsx`` (with the column definitions, the
    targets and the notes): the page's download and the API's ``format``."""
    parameters = export_parameters(targets, date_from=period.date_from, date_to=period.date_to, queues=queues,
                                   timezone=timezone, notes=result.notes)
    return file_response("staffing", fmt, result.rows, result.columns, definitions=result.definitions(),
                         parameters=parameters)


@pages_router.get("/staffing", response_class=HTMLResponse)
def staffing_page(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    require_role(me, "admin", "supervisor")
    db = web_state(request).db
    params = db.params()
    pq = page_query(request, params)
    loc = locale(request, me, params)
    minutes = interval_minutes(request, params)
    targets = targets_for(params, minutes)
    result = scoped_staffing(db, me, pq.period, pq.queues, targets)
    return render(request, me, "staffing.html", loc=loc, active="staffing", pq=pq, minutes=minutes,
                  intervals_options=INTERVALS, result=result, targets=targets, queues=queue_choices(request))


@api_router.get("/staffing", summary="Agents needed, scheduled and logged in per interval",
                description="Exactly `callkpi staffing --format json` for the period: per interval (or weekday x "
                            "time of day with typical_week) the offered calls, handle time, agents needed by "
                            "Erlang C/A at the service-level target (and with shrinkage), agents scheduled by the "
                            "loaded schedules and agents logged in (averages over the interval); null where the "
                            "sources do not record it. Admins and supervisors (their queues). `format=csv` or "
                            "`format=xlsx` downloads the same table as a file (the XLSX with a definitions sheet: "
                            "what each column means, the targets, the period and the notes).",
                responses={200: {"description": "the table (JSON), or the file with format=csv / xlsx",
                                 "content": {CSV_MEDIA_TYPE.split(";")[0]: {"schema": {"type": "string"}},
                                             XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
                           400: {"description": "a malformed parameter"}, 401: {"description": "no valid token"},
                           403: {"description": "outside what this user may see"}})
def api_staffing(
    request: Request,
    me: Me,
    date_from: Annotated[str | None, Query(alias="from", description="first local date, YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(alias="to", description="last local date (inclusive)")] = None,
    queue: Annotated[str | None, Query(description="comma list of queues")] = None,
    interval_minutes: Annotated[int, Query(description="15, 30 or 60")] = 30,
    service_level: Annotated[float, Query(description="target share answered within sl_threshold_s")] = 0.8,
    shrinkage: Annotated[float, Query(description="share of paid time agents are unavailable")] = 0.3,
    max_occupancy: Annotated[float, Query(description="upper bound of agent occupancy")] = 0.85,
    model: Annotated[str, Query(description="auto, erlang-c or erlang-a")] = "auto",
    typical_week: Annotated[bool, Query(description="average week: weekday x time of day")] = False,
    fmt: Annotated[Literal["json", "csv", "xlsx"], Query(alias="format",
                                                         description="json (default), csv or xlsx")] = "json",
) -> Any:
    require_role(me, "admin", "supervisor")
    db = web_state(request).db
    params = db.params()
    period = kpi.resolve_period(db, params, date_from, date_to, 1)
    targets = targets_for(params, interval_minutes, service_level, shrinkage, max_occupancy, model)
    queues = split_values(queue)
    result = scoped_staffing(db, me, period, queues, targets, typical_week)
    if fmt != "json":
        return staffing_file(result, fmt, targets, period, queues, params.timezone)
    return {"from": period.date_from.isoformat(), "to": period.date_to.isoformat(), "columns": list(result.columns),
            "rows": result.rows, "notes": result.notes}


router = APIRouter()
router.include_router(api_router)
router.include_router(pages_router)
