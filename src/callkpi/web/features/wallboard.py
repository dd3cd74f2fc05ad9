"""The wallboard: who is doing what now and who waits now (live, pushed by server-sent events),
today's KPIs per queue in big tiles, the alerts firing. ``?kiosk=1`` is the TV view (no menu,
big tiles), ``?queues=a,b`` picks queues.

The live part comes from :mod:`callkpi.web.live` (the queue_log as it is written); today's
figures and the service level of the last 15/30/60 minutes come from the metric engine.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from callkpi import phone
from callkpi.analyses.alerts import AlertState
from callkpi.analyses.live_service_level import ALL
from callkpi.analyses.live_state import WINDOWS_MIN, AgentView, Snapshot, visible
from callkpi.queries.agents import agent_names
from callkpi.queries.targets import Targets, load_targets
from callkpi.web import kpi
from callkpi.web.auth import user_for_wallboard_token
from callkpi.web.features import alert_monitor
from callkpi.web.features.common import count_bars, every_hour
from callkpi.web.kpi import Period
from callkpi.web.live import LiveHub, hub_of
from callkpi.web.scope import Forbidden, Principal, scoped_filters
from callkpi.web.security import NotAuthenticated, api_principal, page_principal, web_state
from callkpi.web.ui import locale, render

router = APIRouter(include_in_schema=False)
api_router = APIRouter()
HOURLY_METRICS = ("calls_offered", "calls_answered", "calls_abandoned")
TODAY_QUEUE_METRICS = ("calls_answered", "calls_abandoned", "service_level")
STREAM_POLL_S = 0.05  # how often a stream looks for a change of the live state
STREAM_KEEPALIVE_S = 15.0  # a comment line this often keeps proxies from closing an idle stream
STREAM_TICK_S = 5.0  # the service level windows move with the clock: resent at least this often

LIVE_STRINGS: dict[str, tuple[str, str]] = {
    "live_now": ("Now", "Сейчас"),
    "live_agents": ("Agents", "Операторы"),
    "live_waiting": ("Calls waiting", "Ожидают ответа"),
    "live_waiting_now": ("Waiting now", "Ждут сейчас"),
    "live_longest_wait": ("Longest wait now", "Самое долгое ожидание сейчас"),
    "live_available": ("Available", "Свободны"),
    "live_busy": ("Busy", "Заняты"),
    "live_paused": ("Paused", "На паузе"),
    "live_answered_today": ("Answered today", "Принято сегодня"),
    "live_abandoned_today": ("Abandoned today", "Потеряно сегодня"),
    "live_sl_today": ("SL today", "Уровень сервиса сегодня"),
    "live_sl_window": ("SL last {n} min", "Уровень сервиса за {n} мин"),
    "live_no_waiting": ("Nobody is waiting.", "Никто не ждёт."),
    "live_no_agents": ("No agent seen today.", "Сегодня операторов не было."),
    "live_not_followed": (
        "No queue_log is followed: start the server with `callkpi serve --watch QUEUE_LOG` for the live state "
        "(shown here: what the store holds of today).",
        "Журнал queue_log не отслеживается: запустите сервер с `callkpi serve --watch QUEUE_LOG`, чтобы видеть "
        "состояние в реальном времени (здесь показано то, что есть в базе за сегодня)."),
    "live_restarted": ("The PBX restarted at", "АТС перезапущена в"),
    "live_caller": ("Caller", "Абонент"),
    "live_wait": ("Wait", "Ожидание"),
    "live_since": ("since", "с"),
    "live_kiosk": ("TV view", "Вид для экрана"),
    "state_on_call": ("On a call", "Разговор"),
    "state_ringing": ("Ringing", "Вызов"),
    "state_after_call_work": ("After-call work", "Постобработка"),
    "state_paused": ("Paused", "Пауза"),
    "state_idle": ("Idle", "Свободен"),
    "state_logged_out": ("Logged out", "Не в системе"),
}


# -- today's KPIs (the engine) -----------------------------------------------------------------


def _wallboard_data(request: Request, me: Principal, queues: tuple[str, ...] = ()) -> dict[str, Any]:
    db = web_state(request).db
    params = db.params()
    day = kpi.today(params)
    metrics = kpi.present(db, kpi.WALLBOARD_METRICS)
    filters = {"queue": queues} if queues else {}
    total = kpi.run_period(db, me, Period(day, day), metrics=metrics, filters=filters)
    fallback = False
    if not total.rows or not total.rows[0].get("calls_offered"):
        latest = kpi.last_data_day(db, params)
        if latest != day:
            day, fallback = latest, True
            total = kpi.run_period(db, me, Period(day, day), metrics=metrics, filters=filters)
    per_queue = kpi.run_period(db, me, Period(day, day), by=("queue",), metrics=metrics, filters=filters)
    hour_metrics = tuple(m for m in HOURLY_METRICS if m in metrics)
    hourly = every_hour(kpi.run_period(db, me, Period(day, day), by=("hour",), metrics=hour_metrics,
                                       filters=filters).rows, hour_metrics) if hour_metrics else []
    loc = locale(request, me, params)
    return {
        "day": day,
        "fallback": fallback,
        "metrics": metrics,
        "total": total.rows[0] if total.rows else {},
        "per_queue": per_queue.rows,
        "targets": load_targets(db.store()),
        "now_utc": datetime.now(UTC),
        "firing": _firing_alerts(request, me),
        "loc": loc,
        "hourly_chart": count_bars(loc, [f"{r['hour']:02d}" for r in hourly], hourly, hour_metrics)
        if hour_metrics else "",
    }


def _firing_alerts(request: Request, me: Principal) -> list[AlertState]:
    """The firing alerts of the user's scope, from the monitor's last check."""
    monitor = web_state(request).alerts
    if monitor is None:
        return []
    return [s for s in alert_monitor.visible(monitor.snapshot().states, me.user) if s.firing]


def _today_by_queue(request: Request, me: Principal) -> dict[str, dict[str, Any]]:
    """queue -> answered, abandoned and service level of today (the engine; the store's data)."""
    db = web_state(request).db
    day = kpi.today(db.params())
    metrics = kpi.present(db, TODAY_QUEUE_METRICS)
    if not metrics:
        return {}
    rows = kpi.run_period(db, me, Period(day, day), by=("queue",), metrics=metrics).rows
    return {r["queue"]: r for r in rows if r.get("queue")}


# -- the live state, as this user may see it ---------------------------------------------------


def _hub(request: Request) -> LiveHub:
    state = web_state(request)
    paths = state.watcher.options.paths if state.watcher is not None else ()
    hub = hub_of(request.app.state, state.db, paths)
    hub.poll_once()  # a request never shows less than the file holds (the thread may be sleeping)
    return hub


def asked_queues(value: str | None) -> tuple[str, ...]:
    return kpi.split_values(value)


def _teams(request: Request) -> dict[str, str | None]:
    db = web_state(request).db
    return db.cached(("live_teams",), lambda: {a: r.get("team") for a, r in agent_names(db.store()).items()})


def _names(request: Request) -> dict[str, str | None]:
    db = web_state(request).db
    return db.cached(("live_names",), lambda: {a: r.get("name") for a, r in agent_names(db.store()).items()})


def scoped_snapshot(request: Request, me: Principal, hub: LiveHub, queues: tuple[str, ...]) -> Snapshot:
    """The live state this user may see, of the queues asked (all of theirs when none): a supervisor
    their queues and teams, an agent their own state and their queues. Forbidden beyond them."""
    scoped = scoped_filters(me, {"queue": queues})
    known = tuple(_today_by_queue(request, me))
    snap = hub.snapshot(known)
    user = me.user
    if user.role == "agent":
        own = next((a for a in snap.agents if a.agent == user.agent), None)
        mine = set(own.queues if own else ()) | {q for q in known}
        picked = [q for q in scoped.get("queue", ()) if q in mine] if queues else sorted(mine)
        return visible(snap, queues=picked, agents=[user.agent or ""])
    teams = scoped.get("team")
    return visible(snap, queues=scoped.get("queue") or None, teams=_teams(request) if teams else None,
                   allowed_teams=teams)


def live_context(request: Request, me: Principal, queues: tuple[str, ...]) -> dict[str, Any]:
    hub = _hub(request)
    db = web_state(request).db
    snap = scoped_snapshot(request, me, hub, queues)
    windows = hub.window_service_level()
    today = _today_by_queue(request, me)
    hide = not me.sees_numbers(db.settings.phone.mask_numbers)
    return {
        "live": snap,
        "live_followed": bool(hub.paths),
        "windows": windows,
        "window_minutes": WINDOWS_MIN,
        "today_by_queue": today,
        "live_targets": load_targets(db.store()),
        "agent_name": _names(request),
        "party": (lambda number: phone.mask(number)) if hide else (lambda number: number),
        "restarted": datetime.fromtimestamp(snap.restarted_at, UTC) if snap.restarted_at else None,
        "loc": locale(request, me),
        "now_utc": datetime.now(UTC),
        "all_queues": ALL,
    }


def live_json(request: Request, me: Principal, queues: tuple[str, ...]) -> dict[str, Any]:
    context = live_context(request, me, queues)
    snap: Snapshot = context["live"]
    party = context["party"]
    targets: Targets = context["live_targets"]

    def agent(a: AgentView) -> dict[str, Any]:
        return {"agent": a.agent, "name": context["agent_name"].get(a.agent), "state": a.state, "since": a.since,
                "seconds": a.seconds, "reason": a.reason, "queue": a.queue, "callid": a.callid,
                "party": party(a.party), "direction": a.direction, "queues": list(a.queues)}

    def queue(q: Any) -> dict[str, Any]:
        windows = context["windows"].get(q.queue, {})
        today = context["today_by_queue"].get(q.queue, {})
        return {"queue": q.queue, "waiting": q.waiting, "longest_wait_s": q.longest_wait_s,
                "available": q.available, "busy": q.busy, "paused": q.paused, "logged_in": q.logged_in,
                "today": {m: today.get(m) for m in TODAY_QUEUE_METRICS},
                "service_level_window": {str(w): (windows.get(w) or {}).get("service_level") for w in WINDOWS_MIN},
                "service_level_status": {str(w): targets.status("service_level", (windows.get(w) or {})
                                                                .get("service_level"), queue=q.queue)
                                         for w in WINDOWS_MIN}}

    return {
        "at": snap.at,
        "followed": context["live_followed"],
        "restarted_at": snap.restarted_at,
        "agents": [agent(a) for a in snap.agents],
        "queues": [queue(q) for q in snap.queues],
        "waiting": [{"callid": w.callid, "queue": w.queue, "caller": party(w.caller), "position": w.position,
                     "since": w.since, "wait_s": w.wait_s} for w in snap.waiting],
    }


# -- pages -------------------------------------------------------------------------------------


def wallboard_principal(request: Request, key: str | None = None) -> Principal:
    """The signed-in user, or the owner of the wallboard token in ``?key=`` (a TV: read-only, only
    these pages, the owner's scope)."""
    if key:
        user = user_for_wallboard_token(web_state(request).db.store(), key)
        if user is None:
            raise NotAuthenticated("the wallboard key is not valid")
        return Principal(user, "wallboard")
    return page_principal(request)


def _kiosk(me: Principal, kiosk: str | None) -> bool:
    return me.via == "wallboard" or bool(kiosk and kiosk != "0")


@router.get("/wallboard", response_class=HTMLResponse)
def wallboard(request: Request, me: Principal = Depends(wallboard_principal), kiosk: str | None = None,
              queues: str | None = None, key: str | None = None) -> HTMLResponse:
    picked = asked_queues(queues)
    data = {**_wallboard_data(request, me, _kpi_queues(me, picked)), **live_context(request, me, picked)}
    return render(request, me, "wallboard.html", active="wallboard", kiosk=_kiosk(me, kiosk),
                  queues_param=",".join(picked), key_param=key if me.via == "wallboard" else "", **data)


def _kpi_queues(me: Principal, picked: tuple[str, ...]) -> tuple[str, ...]:
    """The queues to filter today's KPIs by: those asked (an agent's figures are their own anyway)."""
    return () if me.is_agent else picked


@router.get("/wallboard/tiles", response_class=HTMLResponse)
def wallboard_tiles(request: Request, me: Principal = Depends(page_principal),
                    queues: str | None = None) -> HTMLResponse:
    picked = asked_queues(queues)
    return render(request, me, "_wallboard_tiles.html", **_wallboard_data(request, me, _kpi_queues(me, picked)))


@router.get("/wallboard/live", response_class=HTMLResponse)
def wallboard_live(request: Request, me: Principal = Depends(wallboard_principal), queues: str | None = None,
                   kiosk: str | None = None) -> HTMLResponse:
    return render(request, me, "_wallboard_live.html", kiosk=_kiosk(me, kiosk),
                  **live_context(request, me, asked_queues(queues)))


@router.get("/wallboard/stream")
async def wallboard_stream(request: Request, me: Principal = Depends(wallboard_principal), queues: str | None = None,
                           kiosk: str | None = None) -> StreamingResponse:
    """Server-sent events: ``event: live`` with the live section's HTML each time the state changes
    (and every few seconds, as the windows move); a comment line keeps an idle stream open."""
    picked = asked_queues(queues)
    scoped_filters(me, {"queue": picked})  # a queue beyond the user's scope is a 403 before the stream starts
    hub = await asyncio.to_thread(_hub, request)
    is_kiosk = _kiosk(me, kiosk)

    def fragment() -> str:
        response = render(request, me, "_wallboard_live.html", kiosk=is_kiosk, **live_context(request, me, picked))
        return bytes(response.body).decode("utf-8")

    async def events() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        sent_version, sent_at, quiet_since = -1, 0.0, loop.time()
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            hub.start()  # keeps the hub following (it stops after a while without viewers)
            now = loop.time()
            if hub.version != sent_version or now - sent_at >= STREAM_TICK_S:
                sent_version, sent_at, quiet_since = hub.version, now, now
                try:
                    html = await asyncio.to_thread(fragment)
                except Forbidden:
                    return
                yield "event: live\n" + "".join(f"data: {line}\n" for line in html.splitlines()) + "\n"
            elif now - quiet_since >= STREAM_KEEPALIVE_S:
                quiet_since = now
                yield ": keep-alive\n\n"
            await asyncio.sleep(STREAM_POLL_S)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@api_router.get("/api/v1/live", tags=["wallboard"], responses={
    401: {"description": "no or no valid bearer token"},
    403: {"description": "a queue outside what this user may see"}})
def api_live(request: Request, me: Principal = Depends(api_principal), queues: str | None = None) -> JSONResponse:
    """The live state as the wallboard shows it: agents (state, since when, call), queues (waiting
    now, longest wait now, agents available/busy/paused, today's figures, service level of the last
    15/30/60 minutes) and the calls waiting, in the caller's scope."""
    return JSONResponse(json.loads(json.dumps(live_json(request, me, asked_queues(queues)), default=str)))
