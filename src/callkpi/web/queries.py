"""Row listings for the web: the call log, one call with its legs and events, the missed-call
worklist, sources. Plain rows of canonical tables, filtered with Ibis expressions (values are
bound as literals by the compiler, never spliced into SQL text); no KPI is computed here.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import ibis

from callkpi.config import MetricParams
from callkpi.metrics.calendar import slice_range
from callkpi.phone import mask
from callkpi.storage import Store
from callkpi.web.kpi import BadRequest
from callkpi.web.scope import Forbidden, NotFound, call_filter

MAX_LIMIT = 500
MAX_WORKLIST = 100_000
NUMBER_COLUMNS = ("caller", "caller_norm", "callee", "callee_norm")
CALL_COLUMNS = (
    "call_id",
    "start_utc",
    "answer_utc",
    "end_utc",
    "direction",
    "caller",
    "caller_norm",
    "callee",
    "callee_norm",
    "did",
    "agent",
    "queue",
    "campaign",
    "answered",
    "outcome",
    "wait_s",
    "talk_s",
    "hold_s",
    "duration_s",
    "queue_legs",
    "agent_legs",
    "recording",
    "source",
)
SORTS = {
    "start": "start_utc",
    "wait": "wait_s",
    "talk": "talk_s",
    "duration": "duration_s",
    "agent": "agent",
    "queue": "queue",
    "outcome": "outcome",
    "direction": "direction",
}
DIRECTIONS = ("inbound", "outbound", "internal", "unknown")
OUTCOMES = ("answered", "abandoned", "flowed_out", "no_answer", "busy", "failed", "unknown")
_PHONE_LIKE = re.compile(r"^\+?\d{7,}$")


# -- helpers ---------------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat() + "Z"
    return value


def _plain(row: Mapping[str, Any], hide_numbers: bool, columns: tuple[str, ...] = NUMBER_COLUMNS) -> dict[str, Any]:
    out = {key: _iso(value) for key, value in row.items()}
    if hide_numbers:
        for column in columns:
            if column in out and out[column] is not None:
                out[column] = mask(str(out[column]))
    return out


def _period_filter(table: ibis.Table, column: str, date_from: date | None, date_to: date | None, tz: str) -> ibis.Table:
    first, end = slice_range(date_from, date_to, tz)
    if first is not None:
        table = table.filter(table[column] >= first)
    if end is not None:
        table = table.filter(table[column] < end)
    return table


def _rows(store: Store, expr: ibis.Table) -> list[dict[str, Any]]:
    return store.fetch_arrow(expr).to_pylist()


def _count(store: Store, expr: ibis.Table) -> int:
    return int(store.fetch_arrow(expr.aggregate(n=expr.count())).to_pylist()[0]["n"])


def _digits(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")


# -- the call log ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CallQuery:
    date_from: date | None = None
    date_to: date | None = None
    direction: tuple[str, ...] = ()
    outcome: tuple[str, ...] = ()
    campaign: tuple[str, ...] = ()
    number: str | None = None
    search: str | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    sort: str = "-start"
    limit: int = 50
    offset: int = 0
    cursor: str | None = None

    def check(self) -> None:
        bad = [d for d in self.direction if d not in DIRECTIONS]
        if bad:
            raise BadRequest(f"direction must be among {', '.join(DIRECTIONS)}; got {', '.join(bad)}")
        bad = [o for o in self.outcome if o not in OUTCOMES]
        if bad:
            raise BadRequest(f"outcome must be among {', '.join(OUTCOMES)}; got {', '.join(bad)}")
        if self.sort.lstrip("-") not in SORTS:
            raise BadRequest(f"sort must be one of {', '.join(SORTS)} (prefix - for descending)")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise BadRequest(f"limit must be 1..{MAX_LIMIT}")
        if self.offset < 0:
            raise BadRequest("offset must not be negative")
        if self.cursor and self.sort.lstrip("-") != "start":
            raise BadRequest("cursor paging works with sort=start or sort=-start; use offset otherwise")
        for name, value in (("min_duration", self.min_duration), ("max_duration", self.max_duration)):
            if value is not None and value < 0:
                raise BadRequest(f"{name} must not be negative")


def _with_duration(calls: ibis.Table) -> ibis.Table:
    start = calls.start_utc.epoch_seconds().cast("int64")
    end = calls.end_utc.epoch_seconds().cast("int64")
    return calls.mutate(duration_s=(end - start).cast("float64"))


def filtered_calls(
    store: Store, q: CallQuery, scope: Mapping[str, tuple[str, ...]], params: MetricParams
) -> ibis.Table:
    calls = _period_filter(store.table("calls"), "start_slice", q.date_from, q.date_to, params.timezone)
    calls = call_filter(store, calls, scope)
    if q.direction:
        calls = calls.filter(calls.direction.isin(list(q.direction)))
    if q.outcome:
        calls = calls.filter(calls.outcome.isin(list(q.outcome)))
    if q.campaign:
        calls = calls.filter(calls.campaign.isin(list(q.campaign)))
    digits = _digits(q.number)
    if q.number and not digits:
        raise BadRequest("number must contain digits")
    if digits:
        calls = calls.filter(calls.caller_norm.contains(digits) | calls.callee_norm.contains(digits))
    if q.search and q.search.strip():
        text = q.search.strip()
        condition = calls.call_id == text
        found = _digits(text)
        if len(found) >= 3:
            condition = condition | calls.caller_norm.contains(found) | calls.callee_norm.contains(found)
        calls = calls.filter(condition)
    calls = _with_duration(calls)
    if q.min_duration is not None:
        calls = calls.filter(calls.duration_s >= q.min_duration)
    if q.max_duration is not None:
        calls = calls.filter(calls.duration_s <= q.max_duration)
    return calls.select(*CALL_COLUMNS)


def _encode_cursor(row: Mapping[str, Any]) -> str:
    start = row["start_utc"]
    payload = json.dumps([start.isoformat() if isinstance(start, datetime) else start, row["call_id"]])
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        start, call_id = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        return datetime.fromisoformat(start).replace(tzinfo=None), str(call_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest("cursor is not one this server gave out") from exc


def calls_page(
    store: Store,
    q: CallQuery,
    scope: Mapping[str, tuple[str, ...]],
    params: MetricParams,
    *,
    hide_numbers: bool,
    with_total: bool = True,
) -> dict[str, Any]:
    """One page of the call log. ``cursor`` (keyset) pages stay fast at any depth."""
    q.check()
    calls = filtered_calls(store, q, scope, params)
    total = _count(store, calls) if with_total else None
    column = SORTS[q.sort.lstrip("-")]
    descending = q.sort.startswith("-")
    page = calls
    if q.cursor:
        start, call_id = _decode_cursor(q.cursor)
        moment = ibis.literal(start, type="timestamp")
        if descending:
            page = page.filter((page.start_utc < moment) | ((page.start_utc == moment) & (page.call_id < call_id)))
        else:
            page = page.filter((page.start_utc > moment) | ((page.start_utc == moment) & (page.call_id > call_id)))
    order = ibis.desc if descending else ibis.asc
    page = page.order_by([order(column, nulls_first=False), order("call_id")]).limit(
        q.limit + 1, offset=0 if q.cursor else q.offset
    )
    rows = _rows(store, page)
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    next_cursor = _encode_cursor(rows[-1]) if more and column == "start_utc" and rows else None
    return {
        "items": [_plain(row, hide_numbers) for row in rows],
        "total": total,
        "limit": q.limit,
        "offset": 0 if q.cursor else q.offset,
        "has_more": more,
        "next_cursor": next_cursor,
    }


def call_rows(
    store: Store,
    q: CallQuery,
    scope: Mapping[str, tuple[str, ...]],
    params: MetricParams,
    *,
    hide_numbers: bool,
    limit: int,
) -> list[dict[str, Any]]:
    """Calls for an export (newest first, at most ``limit``)."""
    calls = filtered_calls(store, q, scope, params)
    column = SORTS.get(q.sort.lstrip("-"), "start_utc")
    order = ibis.desc if q.sort.startswith("-") else ibis.asc
    rows = _rows(store, calls.order_by([order(column, nulls_first=False), order("call_id")]).limit(limit))
    return [_plain(row, hide_numbers) for row in rows]


def _mask_event(row: dict[str, Any], hide_numbers: bool) -> dict[str, Any]:
    if hide_numbers:
        for key in ("data1", "data2", "data3", "data4", "data5"):
            value = row.get(key)
            if isinstance(value, str) and _PHONE_LIKE.match(value):
                row[key] = mask(value)
    return row


def call_detail(
    store: Store, call_id: str, scope: Mapping[str, tuple[str, ...]], *, hide_numbers: bool
) -> dict[str, Any] | None:
    """A call with its queue legs, agent legs and raw events; None when there is no such call,
    Forbidden when it lies outside the user's scope."""
    calls = _with_duration(store.table("calls").filter(lambda t: t.call_id == call_id))
    rows = _rows(store, calls.select(*CALL_COLUMNS))
    if not rows:
        return None
    if scope and _count(store, call_filter(store, calls, scope)) == 0:
        raise Forbidden("this call belongs to somebody else")
    queue_legs = store.table("queue_legs")
    queue_legs = queue_legs.filter(queue_legs.call_id == call_id).order_by("leg_no")
    agent_legs = store.table("agent_legs")
    agent_legs = agent_legs.filter(agent_legs.call_id == call_id).order_by("offer_utc")
    events = store.table("queue_log_events")
    events = events.filter(events.callid == call_id).order_by(["epoch", "source_id", "line_no"])
    events = events.select("epoch", "queue", "agent", "agent_raw", "event", "data1", "data2", "data3", "data4", "data5")
    marks = store.table("web_call_marks")
    mark = _rows(store, marks.filter(marks.call_id == call_id))
    return {
        "call": _plain(rows[0], hide_numbers),
        "queue_legs": [_plain(r, hide_numbers) for r in _rows(store, queue_legs)],
        "agent_legs": [_plain(r, hide_numbers, ("callee_norm",)) for r in _rows(store, agent_legs)],
        "events": [
            _mask_event({**r, "time_utc": _iso(datetime.fromtimestamp(r["epoch"], UTC))}, hide_numbers)
            for r in _rows(store, events)
        ],
        "handled": _plain(mark[0], False) if mark else None,
    }


# -- missed calls ----------------------------------------------------------------------------


def _unreturned(calls: ibis.Table) -> ibis.Table:
    """Missed inbound calls from a known number followed by no outbound attempt to it and no
    answered call with it (the rule of `callkpi missed`). A number waiting longer than
    callback_window_h is *overdue*; those are the calls the missed_unreturned metric counts."""
    return calls.filter(
        (calls.direction == "inbound")
        & ~calls.answered.fill_null(False)
        & calls.caller_norm.notnull()
        & calls.callback_attempt_gap_s.isnull()
        & calls.callback_contact_gap_s.isnull()
    )


def missed_worklist(
    store: Store,
    params: MetricParams,
    scope: Mapping[str, tuple[str, ...]],
    *,
    date_from: date | None,
    date_to: date | None,
    hide_numbers: bool,
    limit: int = 100,
    offset: int = 0,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """Unreturned missed calls not yet marked handled, one row per number, the longest waiting
    first; ages count up to ``as_of`` (default now, UTC)."""
    if not 1 <= limit <= MAX_WORKLIST:
        raise BadRequest(f"limit must be 1..{MAX_WORKLIST}")
    if offset < 0:
        raise BadRequest("offset must not be negative")
    calls = store.table("calls")
    missed = _period_filter(_unreturned(calls), "start_slice", date_from, date_to, params.timezone)
    missed = call_filter(store, missed, {k: v for k, v in scope.items() if k != "agent"})
    marks = store.table("web_call_marks")
    missed = missed.filter(~missed.call_id.isin(marks.call_id))
    grouped = missed.group_by(number=missed.caller_norm).aggregate(
        times_called=missed.count(),
        first_utc=missed.start_utc.min(),
        last_utc=missed.start_utc.max(),
        call_id=missed.call_id.argmax(missed.start_utc),
        queue=missed.queue.argmax(missed.start_utc),
        caller=missed.caller.argmax(missed.start_utc),
    )
    total = _count(store, grouped)
    rows = _rows(store, grouped.order_by([ibis.asc("last_utc"), ibis.asc("number")]).limit(limit, offset=offset))
    now = as_of or datetime.now(UTC).replace(tzinfo=None)
    window = params.callback_window_h * 3600
    items = []
    for row in rows:
        item = _plain(row, hide_numbers, ("number", "caller"))
        item["age_s"] = (now - row["last_utc"]).total_seconds()
        item["overdue"] = item["age_s"] > window
        items.append(item)
    return {"items": items, "total": total, "as_of": _iso(now), "limit": limit, "offset": offset}


def mark_handled(
    store: Store,
    call_id: str,
    scope: Mapping[str, tuple[str, ...]],
    username: str,
    note: str = "",
) -> list[str]:
    """Mark a missed call handled, with every earlier unreturned missed call from its number.
    Returns the call ids marked. None found: NotFound; outside scope: Forbidden."""
    calls = store.table("calls")
    found = calls.filter(calls.call_id == call_id).select("call_id", "start_utc", "caller_norm", "caller")
    target = _rows(store, found)
    if not target:
        raise NotFound(call_id)
    missed = _unreturned(calls)
    one = missed.filter(missed.call_id == call_id)
    if _count(store, one) == 0:
        raise BadRequest("this call is not an unreturned missed call")
    queue_scope = {k: v for k, v in scope.items() if k != "agent"}
    if queue_scope and _count(store, call_filter(store, one, queue_scope)) == 0:
        raise Forbidden("this call belongs to a queue outside what this user may see")
    same = missed.filter(
        (missed.caller_norm == target[0]["caller_norm"]) & (missed.start_utc <= target[0]["start_utc"])
    )
    same = call_filter(store, same, queue_scope) if queue_scope else same
    ids = [row["call_id"] for row in _rows(store, same.select("call_id"))]
    now = datetime.now(UTC).replace(tzinfo=None)
    store.connection.executemany(
        "INSERT OR IGNORE INTO web_call_marks VALUES (?, ?, ?, ?)", [[i, username, now, note] for i in ids]
    )
    return ids


# -- small lookups ---------------------------------------------------------------------------


def sources(store: Store) -> list[dict[str, Any]]:
    table = store.table("sources")
    columns = ("source_id", "path", "format", "lines_read", "lines_loaded", "lines_quarantined", "first_utc",
               "last_utc", "loaded_at_utc", "loads", "timezone")
    return [_plain(r, False) for r in _rows(store, table.select(*columns).order_by("source_id"))]


def agent_names(store: Store) -> dict[str, dict[str, Any]]:
    return {r["agent"]: r for r in _rows(store, store.table("agents").select("agent", "name", "team"))}


def distinct_values(store: Store, table: str, column: str, limit: int = 500) -> list[str]:
    t = store.table(table)
    expr = t.filter(t[column].notnull()).select(column).distinct().order_by(column).limit(limit)
    return [r[column] for r in _rows(store, expr)]


def talk_distribution(
    store: Store,
    params: MetricParams,
    agent: str,
    date_from: date | None,
    date_to: date | None,
    bin_s: int,
    last_bin: int,
) -> list[dict[str, Any]]:
    """How many of the agent's answered legs fall in each ``bin_s``-second band of talk time
    (the last band holds everything longer)."""
    legs = store.table("agent_legs")
    legs = _period_filter(legs, "offer_slice", date_from, date_to, params.timezone)
    legs = legs.filter((legs.agent == agent) & (legs.outcome == "answered") & legs.talk_s.notnull())
    band = ibis.least((legs.talk_s / bin_s).floor().cast("int64"), last_bin)
    banded = legs.mutate(band=band)
    counted = banded.group_by("band").aggregate(legs=banded.count()).order_by("band")
    return _rows(store, counted)
