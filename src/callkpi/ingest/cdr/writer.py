"""Writing built CDR calls as canonical rows (calls, queue_legs, agent_legs), replacing the rows
the calls had before; calls already known from queue_log are merged into those."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from callkpi import phone
from callkpi.config import Settings
from callkpi.ingest import derive
from callkpi.ingest.cdr import cel_overlap
from callkpi.ingest.cdr.calls import AgentLeg, BuiltCall
from callkpi.ingest.cdr.reconcile import merge_with_queue_log, queue_log_agents_of, queue_log_rows
from callkpi.metrics import rollup
from callkpi.model.schema import AGENT_LEGS, QUEUE_LEGS
from callkpi.storage import Store

_CALL_SCHEMA = pa.schema([
    ("call_id", pa.string()), ("source", pa.string()), ("direction", pa.string()),
    ("start_utc", pa.timestamp("us")), ("answer_utc", pa.timestamp("us")), ("end_utc", pa.timestamp("us")),
    ("caller", pa.string()), ("callee", pa.string()), ("did", pa.string()), ("trunk", pa.string()),
    ("agent", pa.string()), ("queue", pa.string()), ("campaign", pa.string()), ("answered", pa.bool_()),
    ("outcome", pa.string()), ("wait_s", pa.float64()), ("talk_s", pa.float64()), ("hold_s", pa.float64()),
    ("queue_legs", pa.int32()), ("agent_legs", pa.int32()), ("recording", pa.string()),
])


_QUEUE_LEG_SCHEMA = pa.schema([
    ("call_id", pa.string()), ("leg_no", pa.int32()), ("source", pa.string()),
    ("queue", pa.string()), ("enter_utc", pa.timestamp("us")), ("end_utc", pa.timestamp("us")),
    ("outcome", pa.string()), ("exit_event", pa.string()), ("wait_s", pa.float64()), ("agent", pa.string()),
    ("talk_s", pa.float64()), ("transferred", pa.bool_()),
])


_AGENT_LEG_SCHEMA = pa.schema([
    ("call_id", pa.string()), ("leg_no", pa.int32()), ("source", pa.string()), ("agent", pa.string()),
    ("queue", pa.string()), ("direction", pa.string()), ("offer_utc", pa.timestamp("us")),
    ("outcome", pa.string()), ("ring_s", pa.float64()), ("answer_utc", pa.timestamp("us")),
    ("talk_s", pa.float64()), ("hold_s", pa.float64()), ("transferred", pa.bool_()), ("ended_by", pa.string()),
    ("callee", pa.string()), ("campaign", pa.string()), ("from_queue_app", pa.bool_()),
])


def write_calls(store: Store, settings: Settings, source: str, built: list[BuiltCall]) -> None:
    con = store.connection
    rollup.mark_calls(store, "SELECT call_key FROM cdr_affected")
    derive.note_calls(store, "SELECT call_key FROM cdr_affected")
    for table in ("queue_legs", "agent_legs", "calls", "data_quality"):
        con.execute(
            f"DELETE FROM {table} WHERE source = ? AND call_id IN (SELECT call_key FROM cdr_affected)",  # noqa: S608
            [source],
        )
    if source != cel_overlap.CEL_SOURCE:
        built = _without_cel_calls(store, built)
    queue_log_calls = queue_log_rows(store, [b.row["call_id"] for b in built])
    queue_log_agents = queue_log_agents_of(store, list(queue_log_calls))
    calls, queue_legs, agent_legs, merged = [], [], [], []
    for item in built:
        call_id = item.row["call_id"]
        kept_legs = item.agent_legs
        if call_id in queue_log_calls:
            merged.append(item)
            # The queue_log already counts every agent its queues rang, including the ones the
            # queue reached through a Local channel (whose CDR row runs Dial, not Queue).
            rung = queue_log_agents.get(call_id, set())
            kept_legs = [leg for leg in item.agent_legs if not leg.from_queue_app and leg.agent not in rung]
        else:
            calls.append(item.row)
            queue_legs.extend(item.queue_legs)
        agent_legs.extend(_agent_leg_rows(item, kept_legs, source))
    _insert(store, settings, "calls", calls, _CALL_SCHEMA)
    _insert(store, settings, "queue_legs", queue_legs, _QUEUE_LEG_SCHEMA)
    _insert(store, settings, "agent_legs", agent_legs, _AGENT_LEG_SCHEMA)
    merge_with_queue_log(store, settings, source, merged, queue_log_calls)


def _without_cel_calls(store: Store, built: list[BuiltCall]) -> list[BuiltCall]:
    """Calls the loaded CEL also has are the CEL's (cdr/cel_overlap.py); where they disagree a finding says so."""
    cel_ids = cel_overlap.cel_call_ids(store, [b.row["call_id"] for b in built])
    if not cel_ids:
        return built
    cel_rows = cel_overlap.stored_rows(store, list(cel_ids), [cel_overlap.CEL_SOURCE])
    cel_overlap.record_findings(store, [
        found for b in built if b.row["call_id"] in cel_rows
        and (found := cel_overlap.compare(b.row["call_id"], b.row, cel_rows[b.row["call_id"]]))])
    return [b for b in built if b.row["call_id"] not in cel_ids]


def _agent_leg_rows(item: BuiltCall, legs: list[AgentLeg], source: str) -> list[dict[str, Any]]:
    call = item.row
    queue_numbers = {leg["queue"]: leg["leg_no"] for leg in item.queue_legs}
    return [
        {
            "call_id": call["call_id"],
            "leg_no": queue_numbers.get(leg.queue, 1 if item.queue_legs else 0),
            "source": source,
            "agent": leg.agent,
            "queue": leg.queue,
            "direction": call["direction"],
            "offer_utc": leg.offer,
            "outcome": leg.outcome,
            "ring_s": max(leg.ring_s, 0.0) if leg.ring_s is not None else None,
            "answer_utc": leg.answer,
            "talk_s": leg.talk_s,
            "hold_s": leg.hold_s,
            "transferred": leg.transferred,
            "ended_by": "transfer" if leg.transferred else "unknown" if leg.outcome == "answered" else None,
            "callee": leg.callee if call["direction"] == "outbound" else None,
            "campaign": leg.campaign or call["campaign"],
            "from_queue_app": leg.from_queue_app,
        }
        for leg in legs
    ]


def _insert(store: Store, settings: Settings, table: str, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
    if not rows:
        return
    con = store.connection
    data = pa.Table.from_pylist(rows, schema=schema)
    con.register("cdr_out", data)
    try:
        sql = _INSERTS[table]
        con.execute(sql, phone.sql_params(settings.phone) if "$cc" in sql else None)
    finally:
        con.unregister("cdr_out")


_INSERTS = {
    "calls": f"""
        INSERT INTO calls
        SELECT call_id, source, direction, start_utc, answer_utc, end_utc,
            CAST(floor(epoch(start_utc) / 900) AS BIGINT), caller, {phone.sql_expression("caller")},
            callee, {phone.sql_expression("callee")}, did, trunk, agent, queue, campaign, answered, outcome,
            wait_s, talk_s, hold_s, queue_legs, agent_legs, recording, NULL, NULL, NULL
        FROM cdr_out
    """,  # noqa: S608 - fixed expressions, values bound
    "queue_legs": f"""
        INSERT INTO queue_legs ({", ".join(QUEUE_LEGS.stored_columns)})
        SELECT call_id, leg_no, source, queue, enter_utc, CAST(floor(epoch(enter_utc) / 900) AS BIGINT),
            end_utc, outcome, exit_event, wait_s, agent, talk_s, transferred, NULL
        FROM cdr_out
    """,  # noqa: S608 - fixed expressions
    "agent_legs": f"""
        INSERT INTO agent_legs ({", ".join(AGENT_LEGS.stored_columns)})
        SELECT call_id, source, agent, queue, direction, offer_utc,
            CAST(floor(epoch(offer_utc) / 900) AS BIGINT), outcome, ring_s, answer_utc, talk_s, hold_s,
            transferred, ended_by, {phone.sql_expression("callee")}, campaign, leg_no
        FROM cdr_out
    """,  # noqa: S608 - fixed expressions, values bound
}
