"""A CEL load and the CDR calls of the same PBX: the CDR calls (and the CDR legs merged into
queue_log calls) of the calls the CEL now has give way to the CEL's, with a finding where they
disagree (:mod:`callkpi.ingest.cdr.cel_overlap` holds the rule both sides share)."""

from __future__ import annotations

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
