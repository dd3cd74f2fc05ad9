"""A CEL load and the CDR calls of the same PBX: the CDR calls (and the CDR legs merged into
queue_log calls) of the calls the CEL now has give way to the CEL's, with a finding where they
disagree (:mod:`callkpi.ingest.cdr.cel_overlap` holds the rule both sides share)."""

from __future__ import annotations

import pyarrow as pa

from callkpi.ingest import queue_log_model
from callkpi.ingest.cdr import cel_overlap
from callkpi.ingest.cdr.calls import BuiltCall
from callkpi.storage import Store


def replace_cdr_calls(store: Store, built: list[BuiltCall]) -> None:
    """Run after the CEL calls are written (the rollups noted every affected call id then)."""
    con = store.connection
    sources = [row[0] for row in con.execute("SELECT DISTINCT source FROM cdr_records").fetchall()]
    if not sources or not built:
        return
    ids = [b.row["call_id"] for b in built]
    cdr_rows = cel_overlap.stored_rows(store, ids, sources)
    cel_rows = cel_overlap.stored_rows(store, ids, [cel_overlap.CEL_SOURCE])
    cel_overlap.record_findings(store, [
        found for call_id, cdr in cdr_rows.items() if call_id in cel_rows
        and (found := cel_overlap.compare(call_id, cdr, cel_rows[call_id]))])
    con.execute("CREATE OR REPLACE TEMP TABLE cel_replaced AS SELECT DISTINCT call_key AS call_id FROM cdr_affected")
    try:
        for table in ("queue_legs", "agent_legs", "calls", "data_quality"):
            con.execute(f"DELETE FROM {table} WHERE list_contains(?, source) "  # noqa: S608 - our table names
                        "AND call_id IN (SELECT call_id FROM cel_replaced)", [sources])
    finally:
        con.execute("DROP TABLE IF EXISTS cel_replaced")
    for source in sources:
        queue_log_model.rebuild_agent_time(store, source)


def fill_queue_log_hold(store: Store, built: list[BuiltCall]) -> None:
    """A CEL call merged into the same queue_log call gives it the hold the queue_log cannot record:
    per answered leg of the same agent, and for the call. The queue_log's own talk (which includes
    the hold) is left as it is; the merge's differences are named as the CEL's."""
    con = store.connection
    rows = [(b.row["call_id"], leg.agent, leg.hold_s) for b in built for leg in b.agent_legs
            if leg.outcome == "answered" and leg.agent and leg.hold_s is not None]
    if rows:
        con.register("cel_hold", pa.table({"call_id": pa.array([r[0] for r in rows], pa.string()),
                                           "agent": pa.array([r[1] for r in rows], pa.string()),
                                           "hold_s": pa.array([r[2] for r in rows], pa.float64())}))
        try:
            con.execute("""
                UPDATE agent_legs SET hold_s = h.hold_s
                FROM (SELECT call_id, agent, sum(hold_s) AS hold_s FROM cel_hold GROUP BY ALL) h
                WHERE agent_legs.source = 'queue_log' AND agent_legs.outcome = 'answered'
                  AND agent_legs.call_id = h.call_id AND agent_legs.agent = h.agent""")
            con.execute("""
                UPDATE calls SET hold_s = h.hold_s
                FROM (SELECT call_id, sum(hold_s) AS hold_s FROM agent_legs WHERE source = 'queue_log'
                      AND outcome = 'answered' AND call_id IN (SELECT call_id FROM cel_hold) GROUP BY ALL) h
                WHERE calls.source = 'queue_log' AND calls.call_id = h.call_id AND h.hold_s IS NOT NULL""")
        finally:
            con.unregister("cel_hold")
    con.execute("UPDATE data_quality SET kind = 'cel_vs_queue_log', detail = replace(detail, 'CDR', 'CEL') "
                "WHERE source = ? AND kind = 'cdr_vs_queue_log'", [cel_overlap.CEL_SOURCE])
