"""The call log: the filtered, paged list, one call with its legs and events, its recording."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.datastructures import QueryParams

from callkpi.analyses.transcript_view import transcript_view
from callkpi.queries import calls as call_log
from callkpi.queries.agents import agent_ids
from callkpi.queries.queues import queue_names
from callkpi.web import kpi
from callkpi.web.features.speech_strings import SPEECH_STRINGS
from callkpi.web.i18n import STRINGS
from callkpi.web.kpi import BadRequest, split_values
from callkpi.web.page_answers import shared_answer
from callkpi.web.scope import NotFound, Principal, scoped_filters
from callkpi.web.security import page_principal, web_state
from callkpi.web.ui import page_query, render

router = APIRouter(include_in_schema=False)
STRINGS.update(SPEECH_STRINGS)
AUDIO_SUFFIXES = (".wav", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".webm", ".flac")


def _float(value: str | None, name: str) -> float | None:
    if value is None or value.strip() == "":
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise BadRequest(f"{name} expects a number of seconds, got {value!r}") from exc


def call_query_from(qp: QueryParams, *, period: kpi.Period | None, limit: int = 50) -> call_log.CallQuery:
    try:
        offset = int(qp.get("offset") or 0)
    except ValueError as exc:
        raise BadRequest("offset must be a whole number") from exc
    return call_log.CallQuery(
        date_from=period.date_from if period else None,
        date_to=period.date_to if period else None,
        direction=split_values(qp.getlist("direction")),
        outcome=split_values(qp.getlist("outcome")),
        campaign=split_values(qp.getlist("campaign")),
        number=qp.get("number") or None,
        search=qp.get("q") or None,
        min_duration=_float(qp.get("min_duration"), "min_duration"),
        max_duration=_float(qp.get("max_duration"), "max_duration"),
        sort=qp.get("sort") or "-start",
        limit=limit,
        offset=offset,
        cursor=qp.get("cursor") or None,
    )


def call_scope(me: Principal, qp: QueryParams) -> dict[str, tuple[str, ...]]:
    return scoped_filters(
        me,
        {
            "agent": split_values(qp.getlist("agent")),
            "queue": split_values(qp.getlist("queue")),
            "team": split_values(qp.getlist("team")),
        },
    )


@router.get("/calls", response_class=HTMLResponse)
def calls(request: Request, me: Principal = Depends(page_principal)) -> Response:
    return shared_answer(request, me, lambda reader: _calls(request, reader))


def _calls(request: Request, me: Principal) -> HTMLResponse:
    db = web_state(request).db
    params = db.params()
    pq = page_query(request, params)
    q = call_query_from(request.query_params, period=pq.period)
    scope = call_scope(me, request.query_params)
    hide = not me.sees_numbers(db.settings.phone.mask_numbers)
    # per data version and per what this user may see (their scope, masked numbers or not)
    key = ("calls_page", q, tuple(sorted(scope.items())), params.model_dump_json(), hide)
    page = db.cached(key, lambda: call_log.calls_page(db.store(), q, scope, params, hide_numbers=hide))
    headers = request.headers
    partial = headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"
    return render(
        request,
        me,
        "_calls_table.html" if partial else "calls.html",
        active="calls",
        pq=pq,
        q=q,
        page=page,
        directions=call_log.DIRECTIONS,
        outcomes=call_log.OUTCOMES,
        queues=db.cached(("queues",), lambda: queue_names(db.store())),
        agents=db.cached(("agents",), lambda: agent_ids(db.store())),
    )


def _recording(call: dict[str, Any]) -> dict[str, str] | None:
    value = (call.get("recording") or "").strip()
    if not value:
        return None
    if value.startswith(("https://", "http://")):
        return {"src": value, "kind": "url"}
    path = Path(value)
    # a recording path that climbs out of its folder (`..`) is never served, whatever it points at
    if path.suffix.lower() in AUDIO_SUFFIXES and ".." not in path.parts and path.is_file():
        return {"src": f"/calls/{call['call_id']}/recording", "kind": "file"}
    return {"src": "", "kind": "missing", "name": value}


def _detail(request: Request, me: Principal, call_id: str) -> dict[str, Any]:
    db = web_state(request).db
    detail = call_log.call_detail(
        db.store(), call_id, scoped_filters(me, {}),
        hide_numbers=not me.sees_numbers(db.settings.phone.mask_numbers),
    )
    if detail is None:
        raise NotFound(call_id)
    return detail


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def call_page(call_id: str, request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    detail = _detail(request, me, call_id)
    first = detail["events"][0]["epoch"] if detail["events"] else None
    db = web_state(request).db
    return render(
        request,
        me,
        "call.html",
        active="calls",
        detail=detail,
        call=detail["call"],
        recording=_recording(detail["call"]),
        first_epoch=first,
        transcript=transcript_view(db.store(), call_id, db.settings.transcripts.match_threshold),
    )


@router.get("/calls/{call_id}/recording")
def recording(call_id: str, request: Request, me: Principal = Depends(page_principal)) -> Response:
    detail = _detail(request, me, call_id)
    found = _recording(detail["call"])
    if not found or found["kind"] != "file":
        raise NotFound(call_id)
    path = Path(detail["call"]["recording"])
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type)
