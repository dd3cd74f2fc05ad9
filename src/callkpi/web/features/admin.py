"""Signing in and out, the language switch, and the admin pages (targets, users, tokens, data sources)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from callkpi.metrics.catalogue import REGISTRY
from callkpi.queries.schedules import (
    RunRecord,
    Schedule,
    add_schedule,
    get_schedule,
    list_schedules,
    recent_runs,
    remove_schedule,
)
from callkpi.queries.sources import source_call_counts, source_rows
from callkpi.queries.targets import SCOPES, delete_target, load_targets, save_target
from callkpi.report.schedule_time import PERIODS, BadSchedule, next_slot, parse_every
from callkpi.storage import Store
from callkpi.web.auth import (
    ROLES,
    AuthError,
    authenticate,
    create_token,
    create_user,
    delete_user,
    list_users,
    random_password,
    set_password,
)
from callkpi.web.features.schedule_strings import SCHEDULE_STRINGS
from callkpi.web.features.scheduled_reports import FORMATS_OF, REPORTS, check_schedule, run_now
from callkpi.web.i18n import LANGS, STRINGS
from callkpi.web.kpi import BadRequest, split_values
from callkpi.web.scope import Principal, require_role
from callkpi.web.security import (
    LANG_COOKIE,
    check_csrf,
    check_form_csrf,
    client_address,
    page_principal,
    safe_next,
    session_principal,
    web_state,
)
from callkpi.web.ui import render

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    if session_principal(request) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    state = web_state(request)
    session = state.read_session(request)
    if session and not session.get("u"):
        cookie, csrf = None, session["c"]
    else:
        cookie, csrf = state.session_cookie(None)
    response = render(request, None, "login.html", csrf=csrf, next=safe_next(request.query_params.get("next")))
    if cookie:
        state.set_session(response, cookie)
    return response


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    state = web_state(request)
    form = await request.form()
    session = state.read_session(request)
    given = form.get("csrf_token")
    check_csrf(session["c"] if session else None, given if isinstance(given, str) else None)
    username = str(form.get("username", "")).strip()[:64]
    password = str(form.get("password", ""))[:1024]
    target = safe_next(str(form.get("next", "/")))
    client = client_address(request)
    error = None
    if state.throttle.blocked(client, username):
        error = "too_many"
    else:
        # argon2 takes a few hundred ms of CPU: in a thread, not on the event loop every request waits on
        user = await run_in_threadpool(lambda: authenticate(state.db.store(), username, password))
        if user is None:
            state.throttle.failed(client, username)
            error = "bad_login"
        else:
            state.throttle.succeeded(client, username)
            cookie, _ = state.session_cookie(user.username, user.fingerprint)
            response = RedirectResponse(target, status_code=303)
            state.set_session(response, cookie)
            return response
    assert session is not None
    return render(
        request, None, "login.html", csrf=session["c"], next=target, error=error, username=username,
        status_code=429 if error == "too_many" else 401,
    )


@router.post("/logout")
async def logout(request: Request, me: Principal = Depends(page_principal)) -> Response:
    await check_form_csrf(request, me)
    state = web_state(request)
    cookie, _ = state.session_cookie(None)
    response = RedirectResponse("/login", status_code=303)
    state.set_session(response, cookie)
    return response


@router.get("/lang/{code}")
def switch_language(code: str, request: Request) -> Response:
    if code not in LANGS:
        raise BadRequest(f"language must be one of {', '.join(LANGS)}")
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", path="/")
    return response


# -- targets ---------------------------------------------------------------------------------


def _number(value: object, name: str) -> float:
    try:
        return float(str(value).replace(",", ".").strip())
    except ValueError as exc:
        raise BadRequest(f"{name} expects a number") from exc


@router.get("/admin/targets", response_class=HTMLResponse)
def targets_page(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    require_role(me, "admin")
    db = web_state(request).db
    return render(
        request,
        me,
        "admin_targets.html",
        active="admin",
        targets=load_targets(db.store()).all(),
        scopes=SCOPES,
        metric_ids=list(REGISTRY.metrics),
    )


@router.post("/admin/targets")
async def targets_save(request: Request, me: Principal = Depends(page_principal)) -> Response:
    form = await check_form_csrf(request, me)
    require_role(me, "admin")
    db = web_state(request).db
    metric = str(form.get("metric", ""))
    unit = REGISTRY.metrics[metric].unit if metric in REGISTRY.metrics else ""
    scale = 100.0 if unit in ("ratio", "percent") else 1.0  # ratios are entered in percent
    scope = str(form.get("scope", "all"))
    value = str(form.get("scope_value", "*"))
    if form.get("action") == "delete":
        delete_target(db.store(), scope, value, metric)
    else:
        try:
            save_target(
                db.store(), scope, value, metric,
                _number(form.get("target"), "target") / scale, _number(form.get("warn"), "warn") / scale,
                me.username,
            )
        except ValueError as exc:
            raise BadRequest(str(exc)) from exc
    web_state(request).check_alerts_soon()
    return RedirectResponse("/admin/targets", status_code=303)


# -- users -----------------------------------------------------------------------------------


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    require_role(me, "admin")
    db = web_state(request).db
    return render(request, me, "admin_users.html", active="admin", users=list_users(db.store()), roles=ROLES)


@router.post("/admin/users", response_class=HTMLResponse)
async def users_action(request: Request, me: Principal = Depends(page_principal)) -> Response:
    form = await check_form_csrf(request, me)
    require_role(me, "admin")
    store = web_state(request).db.store()
    action = str(form.get("action", ""))
    username = str(form.get("username", "")).strip()
    shown: dict[str, str] = {}
    try:
        if action == "create":
            password = str(form.get("password", "")) or random_password()
            create_user(
                store, username, password, str(form.get("role", "")),
                agent=str(form.get("agent", "")).strip() or None,
                queues=split_values(str(form.get("queues", ""))),
                teams=split_values(str(form.get("teams", ""))),
            )
            if not form.get("password"):
                shown = {"user": username, "password": password}
        elif action == "token":
            shown = {"user": username, "token": create_token(store, username, str(form.get("label", "")))}
        elif action == "reset":
            password = random_password()
            set_password(store, username, password)
            shown = {"user": username, "password": password}
        elif action == "delete":
            if username == me.username:
                raise AuthError("you cannot delete yourself")
            delete_user(store, username)
        else:
            raise BadRequest("unknown action")
    except AuthError as exc:
        return render(
            request, me, "admin_users.html", active="admin", users=list_users(store), roles=ROLES,
            error=str(exc), status_code=400,
        )
    return render(request, me, "admin_users.html", active="admin", users=list_users(store), roles=ROLES, shown=shown)



# -- data sources ----------------------------------------------------------------------------


@router.get("/admin/sources", response_class=HTMLResponse)
def sources_page(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    """The watched files (``serve --watch``) with their problems, and every file loaded so far."""
    require_role(me, "admin")
    state = web_state(request)
    return render(
        request,
        me,
        "admin_sources.html",
        active="admin",
        watch=state.watcher.status() if state.watcher else None,
        sources=_sources_with_calls(state.db.store()),
    )


def _sources_with_calls(store: Store) -> list[dict[str, Any]]:
    """The loaded sources with the calls each holds (as `callkpi sources` counts them)."""
    calls = source_call_counts(store)
    return [{**row, "calls": calls.get(row["source_id"])} for row in source_rows(store)]


# -- scheduled reports ----------------------------------------------------------------------------

STRINGS.update(SCHEDULE_STRINGS)


def _schedule_rows(request: Request) -> list[dict[str, Any]]:
    """Every schedule with its next run and its last send."""
    db = web_state(request).db
    zone = ZoneInfo(db.params().timezone)
    now = datetime.now(UTC)
    rows = []
    for schedule in list_schedules(db.store()):
        try:
            upcoming: datetime | None = next_slot(parse_every(schedule.every), now, zone)
        except BadSchedule:
            upcoming = None
        runs = recent_runs(db.store(), schedule.schedule_id, limit=1)
        rows.append({"s": schedule, "next": upcoming, "last": runs[0] if runs else None})
    return rows


def _schedules_page(request: Request, me: Principal, *, error: str | None = None, status_code: int = 200,
                    shown: RunRecord | None = None) -> HTMLResponse:
    db = web_state(request).db
    return render(request, me, "admin_schedules.html", active="admin", schedules=_schedule_rows(request),
                  runs=recent_runs(db.store(), limit=50), reports=REPORTS, periods=PERIODS, langs=LANGS,
                  formats=FORMATS_OF, timezone=db.params().timezone, error=error, shown=shown,
                  status_code=status_code)


@router.get("/admin/schedules", response_class=HTMLResponse)
def schedules_page(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    require_role(me, "admin")
    return _schedules_page(request, me)


@router.post("/admin/schedules", response_class=HTMLResponse)
async def schedules_action(request: Request, me: Principal = Depends(page_principal)) -> Response:
    form = await check_form_csrf(request, me)
    require_role(me, "admin")
    db = web_state(request).db
    action = str(form.get("action", ""))
    try:
        if action == "add":
            schedule = Schedule(
                0, str(form.get("every", "")).strip(), str(form.get("report", "")), str(form.get("period", "")),
                str(form.get("format", "")), split_values(str(form.get("to", ""))),
                split_values(str(form.get("queues", ""))), str(form.get("agent", "")).strip() or None,
                str(form.get("lang", "en")), me.username)
            check_schedule(schedule)
            add_schedule(db.store(), schedule, datetime.now(UTC).replace(tzinfo=None))
        elif action in ("remove", "run-now"):
            found = get_schedule(db.store(), int(_number(form.get("schedule_id"), "schedule_id")))
            if found is None:
                raise BadSchedule("no such schedule")
            if action == "remove":
                remove_schedule(db.store(), found.schedule_id)
            else:
                return _schedules_page(request, me, shown=run_now(db, found))
        else:
            raise BadRequest("unknown action")
    except BadSchedule as exc:
        return _schedules_page(request, me, error=str(exc), status_code=400)
    return RedirectResponse("/admin/schedules", status_code=303)
