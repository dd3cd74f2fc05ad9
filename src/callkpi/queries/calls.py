"""The call log: calls filtered, searched, sorted and paged; one call with its legs and events.

Plain rows of canonical tables, filtered with Ibis expressions (values are bound as literals by the
compiler, never spliced into SQL text); no KPI is computed here.
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
from callkpi.model.schema import AGENT_LEGS, CALLS, CEL_TRANSFERS, QUEUE_LEGS, QUEUE_LOG_EVENTS
from callkpi.phone import mask
from callkpi.queries._rows import count, iso, period_filter, plain
from callkpi.queries._rows import rows as fetch_rows
from callkpi.queries.errors import BadRequest, Forbidden
from callkpi.queries.missed import call_mark
from callkpi.queries.scope import call_filter
from callkpi.storage import Store

MAX_LIMIT = 500
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
    calls = period_filter(store.table(CALLS.name), "start_slice", q.date_from, q.date_to, params.timezone)
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
    total = count(store, calls) if with_total else None
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
    rows = fetch_rows(store, page)
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    next_cursor = _encode_cursor(rows[-1]) if more and column == "start_utc" and rows else None
    return {
        "items": [plain(row, hide_numbers) for row in rows],
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
    rows = fetch_rows(store, calls.order_by([order(column, nulls_first=False), order("call_id")]).limit(limit))
    return [plain(row, hide_numbers) for row in rows]


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
    """A call with its queue legs, agent legs, raw events and the transfers the CEL records (who
    transferred it, blind or attended, who received it); None when there is no such call, Forbidden
    when it lies outside the user's scope."""
    calls = _with_duration(store.table(CALLS.name).filter(lambda t: t.call_id == call_id))
    rows = fetch_rows(store, calls.select(*CALL_COLUMNS))
    if not rows:
        return None
    if scope and count(store, call_filter(store, calls, scope)) == 0:
        raise Forbidden("this call belongs to somebody else")
    queue_legs = store.table(QUEUE_LEGS.name)
    queue_legs = queue_legs.filter(queue_legs.call_id == call_id).order_by("leg_no")
    agent_legs = store.table(AGENT_LEGS.name)
    agent_legs = agent_legs.filter(agent_legs.call_id == call_id).order_by("offer_utc")
    events = store.table(QUEUE_LOG_EVENTS.name)
    events = events.filter(events.callid == call_id).order_by(["epoch", "source_id", "line_no"])
    events = events.select("epoch", "queue", "agent", "agent_raw", "event", "data1", "data2", "data3", "data4", "data5")
    transfers = store.table(CEL_TRANSFERS.name)
    transfers = transfers.filter(transfers.call_id == call_id).order_by("time_utc")
    transfers = transfers.select("time_utc", "kind", "from_agent", "to_agent", "target")
    mark = call_mark(store, call_id)
    return {
        "call": plain(rows[0], hide_numbers),
        # A leg's caller is its call's (the store keeps it once, in calls).
        "queue_legs": [plain({**r, "caller": rows[0]["caller"], "caller_norm": rows[0]["caller_norm"]}, hide_numbers)
                       for r in fetch_rows(store, queue_legs)],
        "agent_legs": [plain(r, hide_numbers, ("callee_norm",)) for r in fetch_rows(store, agent_legs)],
        "events": [
            _mask_event({**r, "time_utc": iso(datetime.fromtimestamp(r["epoch"], UTC))}, hide_numbers)
            for r in fetch_rows(store, events)
        ],
        "transfers": [plain(r, hide_numbers, ("target",)) for r in fetch_rows(store, transfers)],
        "handled": plain(mark, False) if mark else None,
    }
