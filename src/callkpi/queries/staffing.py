"""Staffing: which agents serve a queue (offered its calls, or members of it by the queue_log), and the
scheduled work seconds per 15-minute slice.

Ibis expressions, so they run on any store's engine (DuckDB, ClickHouse) through ``Store.fetch_arrow``:
the window's ``lead`` compiles to ClickHouse's ``leadInFrame`` over the whole partition, and DuckDB's
NULL-skipping ``least`` of the membership's end is written out case by case."""

from __future__ import annotations

from collections.abc import Sequence

import ibis

from callkpi.model.schema import SLICE_SECONDS
from callkpi.queries._rows import rows
from callkpi.storage import Store
from callkpi.storage.business_tables import has_business_tables


def agents_serving(store: Store, queues: Sequence[str], first_slice: int | None, last_slice: int | None) -> list[str]:
    """Agents serving one of ``queues`` between the two slices (inclusive; None: open): offered a call of
    the queue then, or a member of the queue then (logged in to it: queue_log ADDMEMBER naming it, until
    the REMOVEMEMBER naming it or the end of the agent's logged-in session). Their presence and schedule
    count for those queues (a logged-in session itself names no queue)."""
    legs = store.table("agent_legs")
    wanted = legs.filter(legs.agent.notnull(), legs.queue.isin(list(queues)))
    if first_slice is not None:
        wanted = wanted.filter(wanted.offer_slice >= first_slice)
    if last_slice is not None:
        wanted = wanted.filter(wanted.offer_slice <= last_slice)
    offered = {r["agent"] for r in rows(store, wanted.select("agent").distinct())} if queues else set()
    return sorted(offered | set(queue_members(store, queues, first_slice, last_slice)))


def queue_members(store: Store, queues: Sequence[str], first_slice: int | None, last_slice: int | None) -> list[str]:
    """Agents whose membership of one of ``queues`` (ADDMEMBER naming it, to the next REMOVEMEMBER naming
    it or the end of the logged-in session the join falls in, whichever comes first) overlaps the slices."""
    if not queues or not store.has_table("queue_log_events") or not store.has_table("agent_states"):
        return []
    events = store.table("queue_log_events")
    marks = events.filter(events.event.isin(["ADDMEMBER", "REMOVEMEMBER"]), events.agent.notnull(),
                          events.queue.isin(list(queues)))
    window = ibis.window(group_by=[marks.agent, marks.queue], order_by=[marks.epoch, marks.source_id, marks.line_no])
    marks = marks.mutate(next_epoch=marks.epoch.lead().over(window), next_event=marks.event.lead().over(window))
    joins = marks.filter(marks.event == "ADDMEMBER")
    if last_slice is not None:
        joins = joins.filter(joins.epoch < (last_slice + 1) * SLICE_SECONDS)
    joins = joins.select(joins.agent, joined=joins.epoch.cast("int64"),
                         left_at=ibis.cases((joins.next_event == "REMOVEMEMBER", joins.next_epoch.cast("int64")),
                                            else_=ibis.null("int64")))
    states = store.table("agent_states")
    sessions = states.filter(states.state == "logged_in").select(
        s_agent=states.agent, s_start=states.start_utc.epoch_seconds().cast("int64"),
        s_end=states.end_utc.epoch_seconds().cast("int64"))
    spans = joins.left_join(sessions, [joins.agent == sessions.s_agent, sessions.s_start <= joins.joined,
                                       sessions.s_end >= joins.joined])
    spans = spans.group_by(["agent", "joined", "left_at"]).aggregate(session_end=spans.s_end.max())
    until = ibis.cases((spans.left_at.isnull(), spans.session_end), (spans.session_end.isnull(), spans.left_at),
                       else_=ibis.least(spans.left_at, spans.session_end))
    found = spans.mutate(until=until)
    if first_slice is not None:
        found = found.filter(found.until.coalesce(found.joined) >= first_slice * SLICE_SECONDS)
    return [r["agent"] for r in rows(store, found.select("agent").distinct().order_by("agent"))]


def scheduled_work_by_slice(store: Store, agents: Sequence[str] | None, first_slice: int,
                            last_slice: int) -> dict[int, float] | None:
    """Planned work seconds per slice (shifts minus their breaks and off-queue activities, as the
    schedules file gives them), over ``agents`` (None: everybody); None when no schedule is loaded."""
    if not has_business_tables(store) or not store.has_rows("schedules"):
        return None
    time = store.table("adherence_time")
    wanted = time.filter(time.kind == "scheduled_work", time.slice_id.between(first_slice, last_slice))
    if agents is not None:
        wanted = wanted.filter(wanted.agent.isin(list(agents)))
    found = rows(store, wanted.group_by("slice_id").aggregate(seconds=wanted.seconds.sum()))
    return {int(r["slice_id"]): float(r["seconds"]) for r in found}
