"""Per-call observations the training effect needs beyond the registry's per-row values."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from callkpi.metrics.backends import require_engine
from callkpi.storage import Store

#: An after-call-work pause belongs to the agent's call that ended last before it, when it starts at
#: most this many seconds after that call's end (a pause much later is not that call's wrap-up).
ACW_LINK_S = 120.0

_HANDLE_TIME_SQL = """
WITH legs AS (
    SELECT leg_id, source, agent, offer_utc, talk_s, coalesce(hold_s, 0) AS hold_s,
           epoch(coalesce(answer_utc, offer_utc)) + talk_s + coalesce(hold_s, 0) AS end_epoch
    FROM agent_legs
    WHERE outcome = 'answered' AND agent IS NOT NULL AND talk_s IS NOT NULL
),
pauses AS (
    SELECT source, agent, epoch(start_utc) AS start_epoch, epoch(end_utc) - epoch(start_utc) AS seconds
    FROM agent_states
    WHERE state = 'paused' AND end_utc IS NOT NULL AND list_contains($reasons, reason)
),
linked AS (
    SELECT l.leg_id, p.seconds
    FROM pauses p ASOF JOIN legs l
      ON p.source = l.source AND p.agent = l.agent AND p.start_epoch >= l.end_epoch
    WHERE p.start_epoch - l.end_epoch <= $link_s
),
recorded AS (SELECT DISTINCT source FROM agent_states WHERE state = 'paused')
SELECT l.agent AS agent, epoch(l.offer_utc)::DOUBLE AS t,
       (l.talk_s + l.hold_s + coalesce(sum(k.seconds), 0))::DOUBLE AS v
FROM legs l
JOIN recorded r ON r.source = l.source
LEFT JOIN linked k ON k.leg_id = l.leg_id
GROUP BY l.leg_id, l.agent, l.offer_utc, l.talk_s, l.hold_s
"""


def handle_time_per_call(store: Store, acw_reasons: Sequence[str], link_s: float = ACW_LINK_S) -> pa.Table:
    """Handled calls (answered agent legs with a talk time) of the sources that record pauses, each with
    its handle time: talk + hold (where recorded) + the after-call-work pauses (reason in
    ``acw_reasons``) linked to it (see :data:`ACW_LINK_S`). Calls of a source that records no pause at
    all are left out: their after-call work is unknown, not 0. Columns ``agent``, ``t`` (offer, epoch
    seconds), ``v`` (seconds)."""
    require_engine(store, "training_effect")
    relation = store.connection.sql(_HANDLE_TIME_SQL, params={"reasons": list(acw_reasons), "link_s": float(link_s)})
    return relation.to_arrow_table()
