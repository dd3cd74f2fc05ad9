"""The same calls in queue_log and CDR: a CDR call whose id is already a queue_log call is merged
into it (:func:`merge_with_queue_log`); differences are data-quality findings."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from callkpi import phone
from callkpi.config import Settings
from callkpi.ingest import derive
from callkpi.ingest.cdr.calls import AgentLeg, BuiltCall
from callkpi.metrics import rollup
from callkpi.storage import Store


def _rows_of_calls(store: Store, call_ids: list[str], sql: str) -> list[tuple]:
    """Rows of ``sql``, which selects from the registered id list ``cdr_ids`` (column call_id)."""
    if not call_ids:
        return []
    con = store.connection
    con.register("cdr_ids", pa.table({"call_id": pa.array(call_ids, pa.string())}))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.unregister("cdr_ids")


def queue_log_rows(store: Store, call_ids: list[str]) -> dict[str, tuple]:
    """Per queue_log call: answered, agent, talk_s, wait_s, answer_utc and whether it logs a transfer."""
    rows = _rows_of_calls(store, call_ids, """
        SELECT c.call_id, c.answered, c.agent, c.talk_s, c.wait_s, c.answer_utc,
            EXISTS (SELECT 1 FROM agent_legs l WHERE l.call_id = c.call_id AND l.source = 'queue_log' AND l.transferred)
        FROM calls c WHERE c.source = 'queue_log' AND c.call_id IN (SELECT call_id FROM cdr_ids)""")
    return {row[0]: row[1:] for row in rows}


def queue_log_agents_of(store: Store, call_ids: list[str]) -> dict[str, set[str]]:
    """The agents the queue_log has a leg of, per call."""
    rows = _rows_of_calls(store, call_ids, "SELECT call_id, agent FROM agent_legs WHERE source = 'queue_log' "
                          "AND agent IS NOT NULL AND call_id IN (SELECT call_id FROM cdr_ids)")
    agents: dict[str, set[str]] = {}
    for call_id, agent in rows:
        agents.setdefault(call_id, set()).add(agent)
    return agents


def merge_with_queue_log(store: Store, settings: Settings, source: str, merged: list[BuiltCall],
                         queue_log_calls: dict[str, tuple]) -> None:
    """A call both the queue_log and this CDR record (CDR linkedid = queue_log callid) stays one
    call: the queue_log's calls row and queue legs are kept, the CDR fills what queue_log cannot
    know (DID, trunk, recording, callee), CDR rings from the Queue application are left out (the
    queue_log has them as RINGNOANSWER/CONNECT) and other CDR legs (transfers out of the queue)
    are added. Where the two disagree on answered, agent or talk time, a finding says so."""
    if not merged:
        return
    con = store.connection
    fills = [{k: m.row[k] for k in ("call_id", "did", "trunk", "recording", "callee", "caller", "campaign")}
             for m in merged]
    con.register("cdr_fill", pa.Table.from_pylist(fills))
    try:
        rollup.mark_calls(store, "SELECT call_id FROM cdr_fill")
        derive.note_calls(store, "SELECT call_id FROM cdr_fill")
        con.execute(
            f"""
            UPDATE calls SET did = coalesce(calls.did, f.did), trunk = coalesce(calls.trunk, f.trunk),
                recording = coalesce(calls.recording, f.recording), callee = coalesce(calls.callee, f.callee),
                callee_norm = coalesce(calls.callee_norm, {phone.sql_expression("f.callee")}),
                caller = coalesce(calls.caller, f.caller),
                caller_norm = coalesce(calls.caller_norm, {phone.sql_expression("f.caller")}),
                campaign = coalesce(calls.campaign, f.campaign)
            FROM cdr_fill f WHERE calls.call_id = f.call_id AND calls.source = 'queue_log'
            """,  # noqa: S608 - fixed expressions, values bound
            phone.sql_params(settings.phone),
        )
    finally:
        con.unregister("cdr_fill")
    findings = [("cdr_vs_queue_log", *f) for m in merged if (f := _disagreement(m, queue_log_calls[m.row["call_id"]]))]
    findings += [("transfer_not_in_queue_log", *f) for m in merged
                 for f in unlogged_transfers(m, queue_log_calls[m.row["call_id"]])]
    if findings:
        con.executemany(
            "INSERT INTO data_quality VALUES (?, ?, ?, ?, ?, ?)",
            [(source, kind, call_id, agent, when, detail) for kind, call_id, agent, when, detail in findings],
        )


TRANSFER_AFTER_S = 5.0  # an answer this long after the queue_log's CONNECT is a later leg, not a pickup of the ring


def unlogged_transfers(item: BuiltCall, queue_log: tuple) -> list[tuple[str, str | None, datetime, str]]:
    """CDR talk on another agent after the queue_log's CONNECT of a call whose queue_log logs no transfer
    (no BLINDTRANSFER/ATTENDEDTRANSFER): the call was transferred where the queue did not see it (a
    transfer made on the phone, or through a dialplan the queue_log does not follow)."""
    _answered, ql_agent, ql_talk, _wait, ql_answer, ql_transferred = queue_log
    if ql_transferred:
        return []
    found = []
    for leg in _later_legs(item, ql_agent, ql_answer):
        talk = f"{leg.talk_s:.0f} s" if leg.talk_s is not None else "talk of unknown length"
        found.append((item.row["call_id"], leg.agent, leg.answer, (
            f"the CDR shows {leg.agent} talking ({talk}) from {leg.answer:%Y-%m-%d %H:%M:%S} UTC, after the "
            f"queue_log's CONNECT to {ql_agent}, but the queue_log records no transfer: {ql_agent}'s transfers and "
            f"transfer_rate miss it and {ql_agent}'s queue_log talk ({_seconds_text(ql_talk)}) may include "
            f"{leg.agent}'s part (att_s, aht_s by agent); {leg.agent}'s talk is counted from the CDR (calls_handled). "
            "Fix: transfer with the PBX's transfer features (Asterisk logs BLINDTRANSFER/ATTENDEDTRANSFER), "
            "or read transfers from the CDR for this site")))
    return found


def _later_legs(item: BuiltCall, ql_agent: str | None, ql_answer: datetime | None) -> list[AgentLeg]:
    """CDR legs answered by another agent than the queue_log's, more than TRANSFER_AFTER_S after its CONNECT."""
    if not ql_agent or ql_answer is None:
        return []
    return [leg for leg in item.agent_legs
            if leg.outcome == "answered" and leg.agent and leg.agent != ql_agent and leg.answer is not None
            and (leg.answer - ql_answer).total_seconds() > TRANSFER_AFTER_S]


def _seconds_text(value: float | None) -> str:
    return f"{value:.0f} s" if value is not None else "unknown"


def _disagreement(item: BuiltCall, queue_log: tuple) -> tuple[str, str | None, datetime, str] | None:
    ql_answered, ql_agent, ql_talk, _ql_wait, ql_answer, _ql_transferred = queue_log
    row = item.row
    later = {leg.agent for leg in _later_legs(item, ql_agent, ql_answer)}  # transfers: their own finding
    answered_agents = [leg.agent for leg in item.agent_legs if leg.outcome == "answered" and leg.agent not in later]
    differences = []
    if bool(ql_answered) != bool(row["answered"]):
        differences.append(f"answered: queue_log {_yes(ql_answered)}, CDR {_yes(row['answered'])}")
    if ql_agent and row["agent"] and ql_agent != row["agent"]:
        differences.append(f"agent: queue_log {ql_agent}, CDR {row['agent']}")
    elif ql_agent and answered_agents and set(answered_agents) - {ql_agent}:
        others = ", ".join(sorted(set(answered_agents) - {ql_agent}))
        differences.append(f"CDR shows {others} talking too (pickup or transfer the queue_log does not record)")
    if ql_talk is not None and row["talk_s"] is not None and abs(ql_talk - row["talk_s"]) > 5:
        differences.append(f"talk: queue_log {ql_talk:.0f} s, CDR {row['talk_s']:.0f} s")
    if not differences:
        return None
    return row["call_id"], ql_agent, row["start_utc"], "; ".join(differences)


def _yes(value: object) -> str:
    return "yes" if value else "no"
