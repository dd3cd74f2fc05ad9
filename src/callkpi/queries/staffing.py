"""Staffing: which agents serve a queue, and the scheduled work seconds per 15-minute slice."""

from __future__ import annotations

from collections.abc import Sequence

from callkpi.queries._rows import sql_rows
from callkpi.storage import Store
from callkpi.storage.business_tables import has_business_tables


def agents_serving(store: Store, queues: Sequence[str], first_slice: int | None, last_slice: int | None) -> list[str]:
    """Agents offered a call of one of ``queues`` between the two slices (inclusive; None: open): the
    agents whose presence and schedule count for those queues (presence itself names no queue)."""
    found = sql_rows(store, """
        SELECT DISTINCT agent FROM agent_legs
        WHERE agent IS NOT NULL AND list_contains($queues, queue)
          AND ($first IS NULL OR offer_slice >= $first) AND ($last IS NULL OR offer_slice <= $last)
        ORDER BY agent""", {"queues": list(queues), "first": first_slice, "last": last_slice})
    return [r["agent"] for r in found]


def scheduled_work_by_slice(store: Store, agents: Sequence[str] | None, first_slice: int,
                            last_slice: int) -> dict[int, float] | None:
    """Planned work seconds per slice (shifts minus their breaks and off-queue activities, as the
    schedules file gives them), over ``agents`` (None: everybody); None when no schedule is loaded."""
    if not has_business_tables(store) or not sql_rows(store, "SELECT 1 AS one FROM schedules LIMIT 1"):
        return None
    found = sql_rows(store, """
        SELECT slice_id, sum(seconds) AS seconds FROM adherence_time
        WHERE kind = 'scheduled_work' AND slice_id BETWEEN $first AND $last
          AND ($all_agents OR list_contains($agents, agent))
        GROUP BY slice_id""", {"first": first_slice, "last": last_slice, "all_agents": agents is None,
                                "agents": list(agents or ())})
    return {int(r["slice_id"]): float(r["seconds"]) for r in found}
