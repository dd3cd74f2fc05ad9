"""Staffing: which agents serve a queue (offered its calls, or members of it by the queue_log), and the
scheduled work seconds per 15-minute slice."""

from __future__ import annotations

from collections.abc import Sequence

from callkpi.metrics.backends import require_engine
from callkpi.model.schema import SLICE_SECONDS
from callkpi.queries._rows import sql_rows
from callkpi.storage import Store
from callkpi.storage.business_tables import has_business_tables


def agents_serving(store: Store, queues: Sequence[str], first_slice: int | None, last_slice: int | None) -> list[str]:
    """Agents serving one of ``queues`` between the two slices (inclusive; None: open): offered a call of
    the queue then, or a member of the queue then (logged in to it: queue_log ADDMEMBER naming it, until
    the REMOVEMEMBER naming it or the end of the agent's logged-in session). Their presence and schedule
    count for those queues (a logged-in session itself names no queue)."""
    require_engine(store, "staffing")
    offered = sql_rows(store, """
        SELECT DISTINCT agent FROM agent_legs
        WHERE agent IS NOT NULL AND list_contains($queues, queue)
          AND ($first IS NULL OR offer_slice >= $first) AND ($last IS NULL OR offer_slice <= $last)""",
                       {"queues": list(queues), "first": first_slice, "last": last_slice})
    return sorted({r["agent"] for r in offered} | set(queue_members(store, queues, first_slice, last_slice)))


def queue_members(store: Store, queues: Sequence[str], first_slice: int | None, last_slice: int | None) -> list[str]:
    """Agents whose membership of one of ``queues`` (ADDMEMBER naming it, to the next REMOVEMEMBER naming
    it or the end of the logged-in session the join falls in, whichever comes first) overlaps the slices."""
    if not store.has_table("queue_log_events") or not store.has_table("agent_states"):
        return []
    found = sql_rows(store, """
        WITH marks AS (
            SELECT agent, queue, epoch, event,
                   lead(epoch) OVER w AS next_epoch, lead(event) OVER w AS next_event
            FROM queue_log_events
            WHERE event IN ('ADDMEMBER', 'REMOVEMEMBER') AND agent IS NOT NULL AND list_contains($queues, queue)
            WINDOW w AS (PARTITION BY agent, queue ORDER BY epoch, source_id, line_no)
        ), joins AS (
            SELECT agent, epoch AS joined, CASE WHEN next_event = 'REMOVEMEMBER' THEN next_epoch END AS left_at
            FROM marks WHERE event = 'ADDMEMBER' AND ($end IS NULL OR epoch < $end)
        ), spans AS (
            SELECT j.agent, j.joined,
                   least(j.left_at, max(epoch(s.end_utc))) AS until
            FROM joins j
            LEFT JOIN agent_states s ON s.agent = j.agent AND s.state = 'logged_in'
                 AND epoch(s.start_utc) <= j.joined AND epoch(s.end_utc) >= j.joined
            GROUP BY j.agent, j.joined, j.left_at
        )
        SELECT DISTINCT agent FROM spans
        WHERE $start IS NULL OR coalesce(until, joined) >= $start""",
                     {"queues": list(queues), "start": None if first_slice is None else first_slice * SLICE_SECONDS,
                      "end": None if last_slice is None else (last_slice + 1) * SLICE_SECONDS})
    return [r["agent"] for r in found]


def scheduled_work_by_slice(store: Store, agents: Sequence[str] | None, first_slice: int,
                            last_slice: int) -> dict[int, float] | None:
    """Planned work seconds per slice (shifts minus their breaks and off-queue activities, as the
    schedules file gives them), over ``agents`` (None: everybody); None when no schedule is loaded."""
    require_engine(store, "staffing")
    if not has_business_tables(store) or not sql_rows(store, "SELECT 1 AS one FROM schedules LIMIT 1"):
        return None
    found = sql_rows(store, """
        SELECT slice_id, sum(seconds) AS seconds FROM adherence_time
        WHERE kind = 'scheduled_work' AND slice_id BETWEEN $first AND $last
          AND ($all_agents OR list_contains($agents, agent))
        GROUP BY slice_id""", {"first": first_slice, "last": last_slice, "all_agents": agents is None,
                                "agents": list(agents or ())})
    return {int(r["slice_id"]): float(r["seconds"]) for r in found}
