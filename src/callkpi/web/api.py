"""REST API ``/api/v1``: KPIs (the rows of ``callkpi kpi --format json``), the call log, one call,
missed calls, metric definitions, sources, targets, the watched files, alerts. Bearer-token authentication."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from callkpi.config import parse_param_overrides
from callkpi.metrics.describe import describe_all
from callkpi.queries import calls as call_log
from callkpi.queries.missed import MAX_WORKLIST, mark_handled
from callkpi.queries.sources import source_rows
from callkpi.queries.targets import load_targets, save_target
from callkpi.report.bulk import BULK_FORMATS, StalePage, page_offset, stream_table
from callkpi.report.bulk import page_token as make_page_token
from callkpi.report.render import to_json
from callkpi.web import kpi
from callkpi.web.features import alert_monitor
from callkpi.web.features.missed import missed_page
from callkpi.web.i18n import pick_lang
from callkpi.web.kpi import BadRequest, split_values
from callkpi.web.page_answers import cached_answer
from callkpi.web.scope import NotFound, Principal, require_role, scoped_filters
from callkpi.web.security import api_principal, web_state
from callkpi.web.ui import request_lang
from callkpi.web.watch import FileStatus

router = APIRouter(prefix="/api/v1", tags=["api"])
Me = Annotated[Principal, Depends(api_principal)]
Multi = Annotated[list[str] | None, Query()]

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "malformed or impossible request; `error` says which parameter and why"},
    401: {"description": "no or no valid bearer token"},
    403: {"description": "outside what this user may see"},
    422: {"description": "a parameter of the wrong type"},
}
_KPI_EXAMPLE = [{"agent": "1127", "day": "2026-03-02", "calls_handled": 41, "answer_rate": 0.93, "aht_s": 212.5,
                 "fcr_rate": None}]


KPI_PAGE, MAX_KPI_PAGE = 10_000, 100_000


def _hide(me: Principal, request: Request) -> bool:
    return not me.sees_numbers(web_state(request).db.settings.phone.mask_numbers)


@router.get(
    "/kpi",
    summary="KPIs by any dimensions",
    description=(
        "The same JSON rows as `callkpi kpi --format json`: one object per group with the dimensions "
        "and the metric ids. Rates are fractions (0..1), durations seconds, null where undefined. "
        "Notes about the data (missing components, metrics unavailable by these dimensions) come as a "
        "JSON list in the `X-KPI-Notes` header. Agents get their own agent forced in; supervisors their "
        "queues/teams. JSON is paged: at most `limit` rows (default 10,000); `X-Total-Count` gives all "
        "rows, and a `Link: <...>; rel=\"next\"` header (and `X-Next-Page-Token`) the next page while "
        "there is one. A page token is refused with 409 once the data changed. `format=csv|parquet|arrow` "
        "streams the whole result as a file instead (Arrow IPC stream: pandas, Polars, Power BI)."
    ),
    responses={200: {"content": {"application/json": {"example": _KPI_EXAMPLE}, "text/csv": {},
                                 "application/vnd.apache.parquet": {}, "application/vnd.apache.arrow.stream": {}},
                     "headers": {"X-KPI-Notes": {"description": "JSON list of notes"},
                                 "X-Total-Count": {"description": "rows of the whole result"},
                                 "Link": {"description": "the next page (JSON), rel=\"next\""}}},
               409: {"description": "the page token is from before the data changed"}, **_ERRORS},
)
def get_kpi(
    request: Request,
    me: Me,
    by: Annotated[str, Query(description="dimensions, comma list: agent,team,queue,campaign,direction,source,"
                                         "pause_reason,hour,day,week,month,interval")] = "",
    date_from: Annotated[str | None, Query(alias="from", description="first local date, YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(alias="to", description="last local date (inclusive)")] = None,
    queue: Multi = None,
    agent: Multi = None,
    team: Multi = None,
    campaign: Multi = None,
    direction: Multi = None,
    metrics: Annotated[str | None, Query(description="metric ids, comma list; default all the data supports")] = None,
    param: Annotated[list[str] | None, Query(description="NAME=VALUE, e.g. sl_threshold_s=30 (repeat)")] = None,
    tz: Annotated[str | None, Query(description="business time zone, e.g. Europe/Moscow")] = None,
    interval_minutes: Annotated[int | None, Query(description="15, 30 or 60")] = None,
    format: Annotated[str, Query(pattern="^(json|csv|parquet|arrow)$",
                                 description="json (paged), or the whole result as csv, parquet or arrow")] = "json",
    limit: Annotated[int, Query(ge=1, le=MAX_KPI_PAGE, description="rows per JSON page")] = KPI_PAGE,
    page_token: Annotated[str | None, Query(max_length=200, description="X-Next-Page-Token of the previous "
                                                                        "page")] = None,
) -> Response:
    def answer() -> Response:
        db = web_state(request).db
        try:
            overrides = parse_param_overrides(param)
            if tz:
                overrides["timezone"] = tz
            if interval_minutes is not None:
                overrides["interval_minutes"] = interval_minutes
            params = db.params().with_overrides(overrides)
        except ValueError as exc:
            raise BadRequest(str(exc).replace("--param", "param")) from exc
        filters = {
            name: split_values(values)
            for name, values in (("queue", queue), ("agent", agent), ("team", team), ("campaign", campaign),
                                 ("direction", direction))
            if split_values(values)
        }
        result = kpi.run(
            db,
            me,
            by=split_values(by, unique=False),
            date_from=kpi.parse_date(date_from, "from"),
            date_to=kpi.parse_date(date_to, "to"),
            filters=filters,
            metrics=split_values(metrics) if metrics else None,
            params=params,
        )
        headers = {"X-KPI-Notes": json.dumps(result.notes), "X-Total-Count": str(result.table.num_rows)}
        if format != "json":
            media_type, suffix = BULK_FORMATS[format]
            headers["Content-Disposition"] = f'attachment; filename="kpi.{suffix}"'
            return StreamingResponse(stream_table(result.table, format), media_type=media_type, headers=headers)
        version = db.data_version()
        try:
            offset = page_offset(page_token, version) if page_token else 0
        except StalePage as exc:
            return error_response(409, str(exc))
        except ValueError as exc:
            raise BadRequest(str(exc)) from exc
        if offset + limit < result.table.num_rows:
            token = make_page_token(offset + limit, version)
            headers["X-Next-Page-Token"] = token
            headers["Link"] = f'<{request.url.include_query_params(page_token=token)}>; rel="next"'
        return Response(to_json(result.row_slice(offset, limit), indent=None), media_type="application/json",
                        headers=headers)

    # a JSON page is kept per reader and data version (web/page_cache.py); files stream afresh
    return cached_answer(request, me, answer) if format == "json" else answer()


@router.get("/calls", summary="The call log, filtered, sorted and paged", responses=_ERRORS)
def get_calls(
    request: Request,
    me: Me,
    date_from: Annotated[str | None, Query(alias="from", description="first local date, YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(alias="to", description="last local date (inclusive)")] = None,
    direction: Multi = None,
    agent: Annotated[list[str] | None, Query(description="calls these agents talked on")] = None,
    queue: Annotated[list[str] | None, Query(description="first queue entered")] = None,
    team: Multi = None,
    outcome: Multi = None,
    campaign: Multi = None,
    number: Annotated[str | None, Query(description="digits the caller or called number contains")] = None,
    q: Annotated[str | None, Query(description="a call id, or digits of a number")] = None,
    min_duration: Annotated[float | None, Query(ge=0, description="end - start, seconds")] = None,
    max_duration: Annotated[float | None, Query(ge=0)] = None,
    sort: Annotated[str, Query(description="start, wait, talk, duration, agent, queue, outcome, direction; "
                                           "prefix - for descending")] = "-start",
    limit: Annotated[int, Query(ge=1, le=call_log.MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    cursor: Annotated[str | None, Query(max_length=400, description="next_cursor of the previous page "
                                                                    "(keyset paging, sort by start)")] = None,
    total: Annotated[bool, Query(description="count all matching calls")] = True,
) -> dict[str, Any]:
    db = web_state(request).db
    params = db.params()
    scope = scoped_filters(
        me, {"agent": split_values(agent), "queue": split_values(queue), "team": split_values(team)}
    )
    query = call_log.CallQuery(
        date_from=kpi.parse_date(date_from, "from"),
        date_to=kpi.parse_date(date_to, "to"),
        direction=split_values(direction),
        outcome=split_values(outcome),
        campaign=split_values(campaign),
        number=number,
        search=q,
        min_duration=min_duration,
        max_duration=max_duration,
        sort=sort,
        limit=limit,
        offset=offset,
        cursor=cursor,
    )
    return call_log.calls_page(db.store(), query, scope, params, hide_numbers=_hide(me, request), with_total=total)


@router.get("/calls/{call_id}", summary="One call with its queue legs, agent legs and raw events",
            responses={404: {"description": "no such call"}, **_ERRORS})
def get_call(call_id: str, request: Request, me: Me) -> dict[str, Any]:
    db = web_state(request).db
    detail = call_log.call_detail(db.store(), call_id, scoped_filters(me, {}), hide_numbers=_hide(me, request))
    if detail is None:
        raise NotFound(call_id)
    return detail


@router.get("/missed", summary="Missed calls nobody has returned yet, one row per number (the worklist)",
            description="Missed inbound calls from a known number followed by no outbound attempt to it and "
                        "no answered call with it, not marked handled; `overdue` when waiting longer than "
                        "callback_window_h. The same rule as `callkpi missed`.",
            responses=_ERRORS)
def get_missed(
    request: Request,
    me: Me,
    date_from: Annotated[str | None, Query(alias="from")] = None,
    date_to: Annotated[str | None, Query(alias="to")] = None,
    queue: Multi = None,
    limit: Annotated[int, Query(ge=1, le=MAX_WORKLIST)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    as_of: Annotated[datetime | None, Query(description="count ages up to this time (default now)")] = None,
) -> dict[str, Any]:
    require_role(me, "admin", "supervisor")
    db = web_state(request).db
    scope = scoped_filters(me, {"queue": split_values(queue)})
    if as_of is not None:
        kpi.check_date_range(as_of.date(), "as_of")
    moment = as_of.astimezone(UTC).replace(tzinfo=None) if as_of and as_of.tzinfo else as_of
    return missed_page(
        db.store(), db.params(), scope,
        date_from=kpi.parse_date(date_from, "from"), date_to=kpi.parse_date(date_to, "to"),
        hide_numbers=_hide(me, request), limit=limit, offset=offset, as_of=moment,
    )


class HandledBody(BaseModel):
    note: str = Field("", max_length=500)


@router.post("/missed/{call_id}/handled", summary="Mark a missed call (and earlier ones from its number) handled",
             responses={404: {"description": "no such call"}, **_ERRORS})
def post_handled(
    call_id: str, request: Request, me: Me, body: Annotated[HandledBody | None, Body()] = None
) -> dict[str, Any]:
    require_role(me, "admin", "supervisor")
    db = web_state(request).db
    marked = mark_handled(db.store(), call_id, scoped_filters(me, {}), me.username, body.note if body else "")
    return {"call_id": call_id, "marked": marked}


@router.get("/metrics", summary="Every metric: id, title, unit, direction, formula, description, parameters")
def get_metrics(
    request: Request, me: Me, lang: Annotated[str, Query(pattern="^(en|ru)$")] = "en"
) -> list[dict[str, Any]]:
    return describe_all(web_state(request).db.params(), pick_lang(lang))


@router.get("/sources", summary="Files loaded into the store", responses=_ERRORS)
def get_sources(request: Request, me: Me) -> list[dict[str, Any]]:
    require_role(me, "admin", "supervisor")
    return source_rows(web_state(request).db.store())


class WatchedFile(BaseModel):
    path: str
    format: str | None = Field(description="the format it was recognised as")
    state: str = Field(description="waiting, loaded, appended, unchanged, empty or failed (see `error`)")
    last_check_utc: datetime | None
    last_load_utc: datetime | None = Field(description="the last load that added lines")
    loads: int = Field(description="loads that added lines since the server started")
    lines_loaded: int = Field(description="lines loaded since the server started")
    quarantined: int = Field(description="lines quarantined since the server started (see `callkpi quarantine`)")
    error: str | None = Field(description="why the file is not loaded; cleared once it loads again")
    error_since_utc: datetime | None


class WatchReport(BaseModel):
    watching: bool = Field(description="the server was started with `--watch`")
    running: bool = Field(description="the background loader is alive")
    every_s: float | None = Field(description="seconds between two looks at the files")
    last_cycle_utc: datetime | None
    files: list[WatchedFile]


@router.get(
    "/watch",
    summary="Files the server follows (`callkpi serve --watch`) and how loading them goes (admin)",
    description="Every watched file (a watched directory's files one by one) with its format, state, "
    "the last load that added lines, the lines loaded and quarantined since the server started, and "
    "the error that keeps it from loading. `watching` is false when the server watches nothing.",
    response_model=WatchReport,
    responses=_ERRORS,
)
def get_watch(request: Request, me: Me) -> WatchReport:
    require_role(me, "admin")
    watcher = web_state(request).watcher
    if watcher is None:
        return WatchReport(watching=False, running=False, every_s=None, last_cycle_utc=None, files=[])
    status = watcher.status()
    return WatchReport(watching=True, running=status.running, every_s=status.every_s,
                       last_cycle_utc=status.last_cycle_utc, files=[_watched_file(f) for f in status.files])


def _watched_file(status: FileStatus) -> WatchedFile:
    return WatchedFile.model_validate(status, from_attributes=True)


class AlertItem(BaseModel):
    key: str = Field(description="scope:scope_value:metric:window")
    metric: str
    scope: str = Field(description="all, queue or team")
    scope_value: str = Field(description="the queue or team; `*` for all queues")
    window: str = Field(description="`today` (so far) or `interval` (the current one)")
    period: str = Field(description="the local day, or the local start of the interval (ISO, with offset)")
    value: float | None = Field(description="the KPI (ratios as fractions, durations in seconds); null: no data")
    target: float
    warn: float = Field(description="the warning level: beyond it the KPI is red")
    calls: int = Field(description="calls offered in the window")
    status: str = Field(description="good, warn, bad, or empty without data")
    firing: bool = Field(description="bad with at least `alerts.min_calls` calls offered")
    clock: str = Field("live", description="`live` (now) or `data_end`: the data is not live, checked as of its end")
    message: str = Field(description="one line in the user's language")


class AlertEvent(BaseModel):
    key: str
    metric: str
    scope: str
    scope_value: str
    window: str
    period: str
    fired_utc: datetime
    resolved_utc: datetime | None = Field(description="null while it still fires")
    value: float | None = Field(description="the KPI when it fired")
    last_value: float | None = Field(description="the KPI at the last check while it fired")
    target: float
    warn: float
    calls: int = Field(description="calls offered at the last check while it fired")
    message: str = Field(description="the alert as it fired, in the user's language")


class AlertsReport(BaseModel):
    checking: bool = Field(description="the server checks the alerts by itself (otherwise: evaluated now)")
    running: bool = Field(description="the background check is alive")
    every_s: float | None = Field(description="seconds between two checks")
    checked_utc: datetime | None = Field(description="the last check; null before the first")
    error: str | None = Field(description="why the last check failed (the states are the check before)")
    firing: int = Field(description="alerts firing now")
    states: list[AlertItem] = Field(description="every target checked, firing first")
    history: list[AlertEvent] = Field(description="recent fired alerts, newest first")


@router.get(
    "/alerts",
    summary="Alerts: every target compared with today's and this interval's KPI, and recent history "
    "(admin, supervisor)",
    description="The server checks every `alerts.check_every_s` seconds (and after loading new calls) "
    "each target, overall, per queue and per team, against the KPI of today so far and of the current "
    "interval; an alert fires while a KPI is beyond the warning level with at least `alerts.min_calls` "
    "calls offered. `states` are the latest check, `history` the alerts that fired (with when they "
    "resolved). A supervisor named to some queues or teams gets the alerts of those only, not the "
    "overall ones. Messages are in `lang`, else the user's language.",
    response_model=AlertsReport,
    responses=_ERRORS,
)
def get_alerts(
    request: Request, me: Me, lang: Annotated[str | None, Query(pattern="^(en|ru)$")] = None
) -> AlertsReport:
    require_role(me, "admin", "supervisor")
    state = web_state(request)
    monitor = state.alerts
    language = lang or request_lang(request, me)
    snapshot = alert_monitor.current(monitor, state.db)
    states = alert_monitor.visible(snapshot.states, me.user)
    return AlertsReport(
        checking=monitor is not None,
        running=monitor is not None and monitor.running,
        every_s=monitor.every_s if monitor else None,
        checked_utc=snapshot.checked_utc,
        error=snapshot.error,
        firing=sum(s.firing for s in states),
        states=[AlertItem(**alert_monitor.state_item(s, language)) for s in states],
        history=[AlertEvent(**e) for e in alert_monitor.recent_history(state.db, me.user, language)],
    )


@router.get("/me", summary="Who the token belongs to and what it may see")
def get_me(me: Me) -> dict[str, Any]:
    user = me.user
    return {"username": user.username, "role": user.role, "agent": user.agent, "queues": list(user.queues),
            "teams": list(user.teams)}


class TargetBody(BaseModel):
    scope: str = Field("all", pattern="^(all|queue|team)$")
    scope_value: str = Field("*", max_length=200)
    metric: str
    target: float = Field(description="goal, in the metric's unit (ratios as fractions)")
    warn: float = Field(description="warning level; beyond it the colour is red")


@router.get("/targets", summary="Targets behind the traffic-light colours (defaults included)")
def get_targets(request: Request, me: Me) -> list[dict[str, Any]]:
    return [t.__dict__ for t in load_targets(web_state(request).db.store()).all()]


@router.put("/targets", summary="Set a target (admin)", responses=_ERRORS)
def put_target(request: Request, me: Me, body: TargetBody) -> dict[str, Any]:
    require_role(me, "admin")
    try:
        save_target(web_state(request).db.store(), body.scope, body.scope_value, body.metric, body.target,
                    body.warn, me.username)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    web_state(request).check_alerts_soon()
    return {"saved": body.model_dump()}


def error_response(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)
