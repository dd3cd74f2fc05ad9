"""The missed-call worklist: the one definition of an *unreturned* missed call, used by
`callkpi missed`, the web's missed page, its export and ``/api/v1/missed``.

A missed call is **unreturned** while it is an inbound call from a known number that nobody
answered (``answered`` false *or unknown*: a call the source cannot say was answered still waits
for a callback) and after which there was no outbound attempt to that number and no answered
call with it, ever, and nobody marked it handled in the web worklist (``web_call_marks``).

How this relates to the metric ``missed_unreturned``: the metric counts the missed calls with no
callback attempt and no answered contact *within* ``callback_window_h`` (a call returned later
still counts there), so every call on the worklist whose source knows it was not answered is
counted by the metric; the worklist in addition drops calls returned after the window and calls
marked handled. A row is ``overdue`` once its latest call has waited longer than
``callback_window_h``: the overdue rows are the numbers the metric will keep counting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import ibis

from callkpi.config import MetricParams
from callkpi.model.schema import CALLS
from callkpi.model.web_schema import CALL_MARKS
from callkpi.queries._rows import count, period_filter, rows
from callkpi.queries.errors import BadRequest, Forbidden, NotFound
from callkpi.queries.scope import call_filter
from callkpi.storage import Store

MAX_WORKLIST = 100_000


def unreturned(calls: ibis.Table) -> ibis.Table:
    """The calls of ``calls`` that are unreturned missed calls (marks aside)."""
    return calls.filter(
        (calls.direction == "inbound")
        & ~calls.answered.fill_null(False)
        & calls.caller_norm.notnull()
        & calls.callback_attempt_gap_s.isnull()
        & calls.callback_contact_gap_s.isnull()
    )


def _not_marked(store: Store, calls: ibis.Table) -> ibis.Table:
    if not store.has_table(CALL_MARKS.name):  # a store the web server never opened has no marks
        return calls
    marks = store.table(CALL_MARKS.name)
    return calls.filter(~calls.call_id.isin(marks.call_id))


def _queue_scope(scope: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    # The worklist is the queues' and teams' list: an agent filter would drop calls nobody answered.
    return {k: v for k, v in scope.items() if k != "agent"}


@dataclass(frozen=True)
class Worklist:
    """One page of the worklist: raw rows (UTC naive datetimes), the number of rows in all, the moment ages count to."""

    items: list[dict[str, Any]]
    total: int
    as_of: datetime


def unreturned_worklist(
    store: Store,
    params: MetricParams,
    *,
    scope: Mapping[str, tuple[str, ...]] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    as_of: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Worklist:
    """Unreturned missed calls grouped by caller number, the longest waiting first (then by number).

    Each row: ``number``, ``times_called``, ``first_utc``, ``last_utc``, and of the latest missed
    call ``call_id``, ``caller`` (as dialled), ``queue`` and ``did`` (those two of the latest call
    that names one); ``age_s`` since the latest call up to ``as_of`` (default now, UTC) and
    ``overdue`` when that exceeds ``callback_window_h``. ``date_from``/``date_to`` are local dates of
    the business time zone; ``scope`` restricts to queues/teams (agent filters do not apply)."""
    if limit is not None and not 1 <= limit <= MAX_WORKLIST:
        raise BadRequest(f"limit must be 1..{MAX_WORKLIST}")
    if offset < 0:
        raise BadRequest("offset must not be negative")
    missed = period_filter(unreturned(store.table(CALLS.name)), "start_slice", date_from, date_to, params.timezone)
    missed = call_filter(store, missed, _queue_scope(scope or {}))
    missed = _not_marked(store, missed)
    grouped = missed.group_by(number=missed.caller_norm).aggregate(
        times_called=missed.count(),
        first_utc=missed.start_utc.min(),
        last_utc=missed.start_utc.max(),
        call_id=missed.call_id.argmax(missed.start_utc),
        queue=missed.queue.argmax(missed.start_utc),
        did=missed.did.argmax(missed.start_utc),
        caller=missed.caller.argmax(missed.start_utc),
    )
    total = count(store, grouped)
    ordered = grouped.order_by([ibis.asc("last_utc"), ibis.asc("number")])
    page = rows(store, ordered.limit(limit, offset=offset) if limit is not None or offset else ordered)
    now = as_of.astimezone(UTC).replace(tzinfo=None) if as_of and as_of.tzinfo else as_of
    now = now or datetime.now(UTC).replace(tzinfo=None)
    window_s = params.callback_window_h * 3600
    for row in page:
        row["age_s"] = (now - row["last_utc"]).total_seconds()
        row["overdue"] = row["age_s"] > window_s
    return Worklist(page, total, now)


def mark_handled(
    store: Store,
    call_id: str,
    scope: Mapping[str, tuple[str, ...]],
    username: str,
    note: str = "",
) -> list[str]:
    """Mark a missed call handled, with every earlier unreturned missed call from its number.
    Returns the call ids marked. None found: NotFound; outside scope: Forbidden."""
    calls = store.table(CALLS.name)
    found = calls.filter(calls.call_id == call_id).select("call_id", "start_utc", "caller_norm", "caller")
    target = rows(store, found)
    if not target:
        raise NotFound(call_id)
    missed = unreturned(calls)
    one = missed.filter(missed.call_id == call_id)
    if count(store, one) == 0:
        raise BadRequest("this call is not an unreturned missed call")
    queue_scope = _queue_scope(scope)
    if queue_scope and count(store, call_filter(store, one, queue_scope)) == 0:
        raise Forbidden("this call belongs to a queue outside what this user may see")
    same = missed.filter(
        (missed.caller_norm == target[0]["caller_norm"]) & (missed.start_utc <= target[0]["start_utc"])
    )
    same = call_filter(store, same, queue_scope) if queue_scope else same
    ids = [row["call_id"] for row in rows(store, same.select("call_id"))]
    now = datetime.now(UTC).replace(tzinfo=None)
    store.connection.executemany(
        "INSERT OR IGNORE INTO web_call_marks VALUES (?, ?, ?, ?)", [[i, username, now, note] for i in ids]
    )
    return ids


def call_mark(store: Store, call_id: str) -> dict[str, Any] | None:
    """Who marked this call handled, when, with what note; None when nobody did."""
    if not store.has_table(CALL_MARKS.name):
        return None
    marks = store.table(CALL_MARKS.name)
    found = rows(store, marks.filter(marks.call_id == call_id))
    return found[0] if found else None
