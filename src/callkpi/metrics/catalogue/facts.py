"""The call-centre facts: queue legs, calls, agent legs, agent time and pauses."""

from __future__ import annotations

from callkpi.metrics.catalogue._build import REGISTRY
from callkpi.metrics.registry import Fact
from callkpi.storage.lazy import ibis

COMMON_DIMS = {"agent": "agent", "queue": "queue", "direction": "direction", "source": "source"}

REGISTRY.add_fact(
    Fact(
        "queue_legs",
        "queue_legs",
        "enter_slice",
        COMMON_DIMS,
        "one stay of a call in a queue, timed at queue entry",
        prepare=lambda t: t.mutate(direction=ibis.literal("inbound")),
    )
)
REGISTRY.add_fact(
    Fact(
        "calls",
        "calls",
        "start_slice",
        {**COMMON_DIMS, "campaign": "campaign", "did": "did", "trunk": "trunk"},
        "one customer contact",
    )
)
REGISTRY.add_fact(
    Fact(
        "agent_legs",
        "agent_legs",
        "offer_slice",
        {**COMMON_DIMS, "campaign": "campaign"},
        "an offer of a call to an agent (ring) and the talk that followed",
    )
)


def _pivot_agent_time(t: ibis.Table) -> ibis.Table:
    return t.group_by("source", "agent", "slice_id").aggregate(
        logged_in=t.seconds.sum(where=t.state == "logged_in"),
        paused=t.seconds.sum(where=t.state == "paused"),
        talk=t.seconds.sum(where=t.state == "talk"),
        hold=t.seconds.sum(where=t.state == "hold"),
    )


REGISTRY.add_fact(
    Fact(
        "agent_time",
        "agent_time",
        "slice_id",
        {"agent": "agent", "source": "source"},
        "agent time per 15-minute slice: logged in, paused, talking, holding",
        prepare=_pivot_agent_time,
    )
)
REGISTRY.add_fact(
    Fact(
        "agent_pauses",
        "agent_time",
        "slice_id",
        {"agent": "agent", "source": "source", "pause_reason": "reason"},
        "paused agent time per 15-minute slice and pause reason",
        prepare=lambda t: t.filter(t.state == "paused"),
    )
)
