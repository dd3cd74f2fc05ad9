"""Per-call observations the training effect needs beyond the registry's per-row values.

An Ibis expression (an as-of join: DuckDB's and ClickHouse's ``ASOF LEFT JOIN``), so it runs on any
store's engine through ``Store.fetch_arrow``."""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import pyarrow as pa

from callkpi.storage import Store

#: An after-call-work pause belongs to the agent's call that ended last before it, when it starts at
#: most this many seconds after that call's end (a pause much later is not that call's wrap-up).
ACW_LINK_S = 120.0


def _epoch(column: ibis.Value) -> ibis.Value:
    return column.epoch_seconds().cast("float64")  # Ibis types epoch seconds int32: cast before arithmetic


def handle_time_expr(store: Store, acw_reasons: Sequence[str], link_s: float = ACW_LINK_S) -> ibis.Table:
    """The expression of :func:`handle_time_per_call`."""
    legs = store.table("agent_legs")
    legs = legs.filter(legs.outcome == "answered", legs.agent.notnull(), legs.talk_s.notnull())
    hold = legs.hold_s.coalesce(0)
    legs = legs.select(legs.leg_id, legs.source, legs.agent, legs.offer_utc, legs.talk_s, hold_s=hold,
                       end_epoch=_epoch(legs.answer_utc.coalesce(legs.offer_utc)) + legs.talk_s + hold)
    states = store.table("agent_states")
    pauses = states.filter(states.state == "paused", states.end_utc.notnull(), states.reason.isin(list(acw_reasons)))
    pauses = pauses.select(p_source=pauses.source, p_agent=pauses.agent, start_epoch=_epoch(pauses.start_utc),
                           seconds=_epoch(pauses.end_utc) - _epoch(pauses.start_utc))
    linked = pauses.asof_join(legs, on=pauses.start_epoch >= legs.end_epoch,
                              predicates=[pauses.p_source == legs.source, pauses.p_agent == legs.agent])
    linked = linked.filter(linked.start_epoch - linked.end_epoch <= link_s)
    acw = linked.group_by(acw_leg=linked.leg_id).aggregate(acw_s=linked.seconds.sum())
    paused = states.filter(states.state == "paused").select(recorded=states.source).distinct()
    calls = legs.join(paused, legs.source == paused.recorded).left_join(acw, legs.leg_id == acw.acw_leg)
    ordered = calls.select(calls.leg_id, agent=calls.agent, t=_epoch(calls.offer_utc),
                           v=(calls.talk_s + calls.hold_s + calls.acw_s.coalesce(0)).cast("float64"))
    return ordered.order_by("leg_id").drop("leg_id")


def handle_time_per_call(store: Store, acw_reasons: Sequence[str], link_s: float = ACW_LINK_S) -> pa.Table:
    """Handled calls (answered agent legs with a talk time) of the sources that record pauses, each with
    its handle time: talk + hold (where recorded) + the after-call-work pauses (reason in
    ``acw_reasons``) linked to it (see :data:`ACW_LINK_S`). Calls of a source that records no pause at
    all are left out: their after-call work is unknown, not 0. Columns ``agent``, ``t`` (offer, epoch
    seconds), ``v`` (seconds)."""
    return store.fetch_arrow(handle_time_expr(store, acw_reasons, link_s))
