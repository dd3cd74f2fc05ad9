"""Turn raw queue_log events into the canonical model: calls, queue legs, agent legs, agent
states and sliced agent time.

Rules (Asterisk "Queue Logs" documentation; docs/queue_log.md explains each with an example):
- Events of one ``callid`` are ordered by time, then by file and line. Every ENTERQUEUE starts a
  queue leg; a call that overflows from one queue to another is one call with two legs.
- CONNECT/COMPLETE* ``holdtime`` is the queue wait (ring time included), not customer hold.
  Talk is ``calltime`` of COMPLETE*, TRANSFER, BLINDTRANSFER, ATTENDEDTRANSFER.
- RINGNOANSWER ring time is in milliseconds; CONNECT ringtime in seconds. A RINGNOANSWER of 0 ms
  (the member's device could not be rung: busy, unreachable) is an offer with outcome ``failed``,
  not a ring-no-answer of the agent.
- A leg without a closing event (restart, file cut) is offered with outcome ``unknown`` and
  recorded as a data-quality finding, never dropped.
- Identical lines loaded from two files (the same log loaded as file and as table export) count
  once: the later file's copies are quarantined as duplicates naming the file and line they repeat.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa

from callkpi import phone
from callkpi.config import Settings
from callkpi.ingest import derive
from callkpi.metrics import rollup
from callkpi.model.schema import AGENT_LEGS, QUEUE_LEGS, Table
from callkpi.model.schema import SLICE_SECONDS as SLICE
from callkpi.model.working_tables import AGENT_ALIASES
from callkpi.storage import Store, first_row

SOURCE = "queue_log"
TRANSFER_EVENTS = ("TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER")
COMPLETE_EVENTS = ("COMPLETEAGENT", "COMPLETECALLER")
FLOW_OUT_EVENTS = ("EXITWITHTIMEOUT", "EXITWITHKEY", "EXITEMPTY", "SYSCOMPAT")
TERMINAL_EVENTS = (*COMPLETE_EVENTS, *TRANSFER_EVENTS, "ABANDON", *FLOW_OUT_EVENTS)
CALL_EVENTS = ("ENTERQUEUE", "CONNECT", "RINGNOANSWER", "RINGCANCELED", "AGENTDUMP", *TERMINAL_EVENTS)
SESSION_START = ("ADDMEMBER", "AGENTLOGIN", "AGENTCALLBACKLOGIN")
SESSION_END = ("REMOVEMEMBER", "AGENTLOGOFF", "AGENTCALLBACKLOGOFF")
PAUSE_START = ("PAUSE", "PAUSEALL")
PAUSE_END = ("UNPAUSE", "UNPAUSEALL")
RESTART = "QUEUESTART"
RELOAD = "CONFIGRELOAD"
PRESENCE_EVENTS = (*SESSION_START, *SESSION_END, *PAUSE_START, *PAUSE_END, RESTART, RELOAD)
NOT_A_CALL = ("NONE", "MANAGER", "REALTIME", "")

_TECH_PREFIX = "^(Local|SIP|PJSIP|IAX2|Agent|DAHDI|Custom|SCCP|Skinny|MGCP|H323|Motif|WebRTC)/"


def _in(values: Iterable[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _columns(table: Table) -> str:
    """The column list of an INSERT into a model table: its stored columns (not ``leg_id``), in order."""
    return ", ".join(table.stored_columns)


def agent_expression(column: str, settings: Settings) -> str:
    """SQL that turns an agent/member channel into the agent id (fixed regexes, no user input)."""
    none = f"CASE WHEN {column} IS NULL OR upper({column}) IN ('NONE', '') THEN NULL"
    if not settings.agents.normalise_channels:
        return f"{none} ELSE {column} END"
    stripped = (
        f"regexp_replace(regexp_replace(regexp_replace({column}, '{_TECH_PREFIX}', ''), '@.*$', ''), "
        "'-[0-9a-fA-F]{4,}(;[0-9]+)?$', '')"
    )
    return f"{none} WHEN regexp_matches({column}, '{_TECH_PREFIX}') THEN {stripped} ELSE {column} END"


def register_agent_aliases(store: Store, settings: Settings) -> None:
    aliases = settings.agents.aliases
    table = pa.table({"raw": list(aliases), "agent": list(aliases.values())}, schema=_ALIAS_SCHEMA)
    store.create_working_table(AGENT_ALIASES, empty=True)
    store.append_arrow("agent_aliases", table)


_ALIAS_SCHEMA = pa.schema([("raw", pa.string()), ("agent", pa.string())])


def mark_lines_loaded_from_other_files(store: Store, source_id: int, prefix: str) -> None:
    """The same events loaded from another file (the log and a table export of it) count once:
    staged lines (``ql_stage``) identical to stored ones of another source get the reason
    ``<prefix>line N of <file>`` (so they go to the quarantine, named, instead of loading twice)."""
    con = store.connection
    overlap = con.execute(
        "SELECT 1 FROM queue_log_events WHERE source_id <> ? AND epoch BETWEEN "
        "(SELECT min(epoch) FROM ql_stage WHERE reason IS NULL) "
        "AND (SELECT max(epoch) FROM ql_stage WHERE reason IS NULL) LIMIT 1",
        [source_id],
    ).fetchall()
    if not overlap:
        return
    con.execute(
        """
        UPDATE ql_stage g SET
            reason = format('{}line {} of {}', $prefix, d.other_line, coalesce(d.other_path, 'source ' || d.other_id)),
            raw = concat_ws('|', g.epoch, g.callid, g.queue, g.agent_raw, g.event, g.data1, g.data2, g.data3,
                            g.data4, g.data5)
        FROM (
            SELECT s.line_no, first(e.line_no ORDER BY e.source_id, e.line_no) AS other_line,
                   first(e.source_id ORDER BY e.source_id, e.line_no) AS other_id,
                   first(src.path ORDER BY e.source_id, e.line_no) AS other_path
            FROM ql_stage s JOIN queue_log_events e
              ON e.source_id <> $source_id AND e.epoch = s.epoch AND e.callid = s.callid
              AND e.event = s.event AND e.queue IS NOT DISTINCT FROM s.queue
              AND e.agent_raw IS NOT DISTINCT FROM s.agent_raw
              AND e.data1 IS NOT DISTINCT FROM s.data1 AND e.data2 IS NOT DISTINCT FROM s.data2
              AND e.data3 IS NOT DISTINCT FROM s.data3 AND e.data4 IS NOT DISTINCT FROM s.data4
              AND e.data5 IS NOT DISTINCT FROM s.data5
            LEFT JOIN sources src ON src.source_id = e.source_id
            WHERE s.reason IS NULL
            GROUP BY s.line_no
        ) d
        WHERE g.line_no = d.line_no
        """,
        {"source_id": source_id, "prefix": prefix},
    )


def rebuild(
    store: Store, settings: Settings, changed_since: float | None = None, *, only_new_events: bool = False
) -> None:
    """Rebuild what the new events (callids in ``ql_new_callids``) change, then agent time.
    ``changed_since``: the earliest epoch of an event this import added or removed (None: not
    known, so agent presence is replayed from the start); ``only_new_events``: every stored event
    came with this import (the first load into a store)."""
    con = store.connection
    con.execute(
        "UPDATE queue_log_events SET agent = a.agent FROM agent_aliases a "
        "WHERE queue_log_events.agent_raw = a.raw OR queue_log_events.agent = a.raw"
    )
    _stage_events(store, only_new_events)
    _stage_legs(store)
    talk_before = _earliest_answer(store)
    _replace_call_tables(store, settings)
    talk_after = _earliest_answer(store)
    presence = rebuild_agent_states(store, settings, changed_since)
    rebuild_agent_time(store, SOURCE, since=_earliest(talk_before, talk_after, presence))
    derive.refresh_agents(store)
    derive.refresh_call_links(store)


def _earliest_answer(store: Store) -> float:
    """When the first agent leg of the calls being rebuilt was answered (inf: none is)."""
    row = first_row(store.connection.execute(
        f"SELECT min(epoch(answer_utc)) FROM agent_legs a SEMI JOIN ql_new_callids n ON a.call_id = n.callid "  # noqa: S608
        f"WHERE a.source = '{SOURCE}'"
    ))
    return float(row[0]) if row and row[0] is not None else math.inf


def _earliest(*times: float | None) -> float | None:
    """The earliest of some times (epoch seconds); None stands for "the very start"."""
    return None if any(t is None for t in times) else min(t for t in times if t is not None)


def _stage_events(store: Store, only_new_events: bool) -> None:
    new_calls = "" if only_new_events else "SEMI JOIN ql_new_callids n ON e.callid = n.callid"
    store.connection.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE ql_ev AS
        WITH scoped AS (
            SELECT e.* FROM queue_log_events e {new_calls}
            WHERE e.event IN {_in(CALL_EVENTS)} AND e.callid NOT IN {_in(NOT_A_CALL)}
        )
        SELECT epoch, callid, queue, agent, event, data1, data2, data3, data4, data5,
            sum(CASE WHEN event = 'ENTERQUEUE' THEN 1 ELSE 0 END) OVER w AS leg_no,
            row_number() OVER w AS seq
        FROM scoped
        WINDOW w AS (PARTITION BY callid ORDER BY epoch, source_id, line_no ROWS UNBOUNDED PRECEDING)
        """  # noqa: S608 - constants of this module
    )


def _stage_legs(store: Store) -> None:
    terminal = _in(TERMINAL_EVENTS)
    store.connection.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE ql_legs AS
        WITH agg AS (
            SELECT callid, leg_no,
                min(epoch) FILTER (WHERE event = 'ENTERQUEUE') AS enter_epoch,
                any_value(queue) FILTER (WHERE event = 'ENTERQUEUE') AS queue,
                any_value(data2) FILTER (WHERE event = 'ENTERQUEUE') AS caller,
                any_value(TRY_CAST(data3 AS INTEGER)) FILTER (WHERE event = 'ENTERQUEUE') AS position,
                min(epoch) FILTER (WHERE event = 'CONNECT') AS connect_epoch,
                min(seq) FILTER (WHERE event = 'CONNECT') AS connect_seq,
                count(*) FILTER (WHERE event IN ('RINGNOANSWER', 'RINGCANCELED')) AS rings,
                arg_min(agent, seq) FILTER (WHERE event = 'CONNECT') AS connect_agent,
                arg_min(TRY_CAST(data1 AS DOUBLE), seq) FILTER (WHERE event = 'CONNECT') AS connect_wait,
                arg_min(event, seq) FILTER (WHERE event IN {terminal}) AS exit_event,
                arg_min(epoch, seq) FILTER (WHERE event IN {terminal}) AS exit_epoch,
                arg_min(agent, seq) FILTER (WHERE event IN {terminal}) AS exit_agent,
                arg_min([data1, data2, data3, data4, data5], seq) FILTER (WHERE event IN {terminal}) AS d
            FROM ql_ev WHERE leg_no > 0
            GROUP BY callid, leg_no
        ), classified AS (
            SELECT *,
                CASE
                    WHEN exit_event = 'SYSCOMPAT' THEN 'flowed_out'
                    WHEN connect_epoch IS NOT NULL
                      OR exit_event IN {_in((*COMPLETE_EVENTS, *TRANSFER_EVENTS))} THEN 'answered'
                    WHEN exit_event = 'ABANDON' THEN 'abandoned'
                    WHEN exit_event IN {_in(FLOW_OUT_EVENTS)} THEN 'flowed_out'
                    ELSE 'unknown'
                END AS outcome,
                CASE WHEN exit_event IN {_in(COMPLETE_EVENTS)} THEN TRY_CAST(d[2] AS DOUBLE)
                     WHEN exit_event IN {_in(TRANSFER_EVENTS)} THEN TRY_CAST(d[4] AS DOUBLE) END AS talk_s,
                CASE WHEN exit_event IN {_in(COMPLETE_EVENTS)} THEN TRY_CAST(d[1] AS DOUBLE)
                     WHEN exit_event IN {_in(TRANSFER_EVENTS)} THEN TRY_CAST(d[3] AS DOUBLE) END AS exit_wait
            FROM agg
        ), restarts AS (
            SELECT DISTINCT epoch FROM queue_log_events WHERE event = '{RESTART}'
        )
        SELECT c.*,
            CASE
                WHEN outcome = 'answered' THEN coalesce(connect_wait, exit_wait)
                WHEN exit_event = 'SYSCOMPAT' THEN exit_epoch - enter_epoch
                WHEN exit_event = 'EXITWITHKEY' THEN TRY_CAST(d[4] AS DOUBLE)
                WHEN exit_event IN ('ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY') THEN TRY_CAST(d[3] AS DOUBLE)
            END AS wait_s,
            coalesce(connect_agent, exit_agent) AS agent,
            exit_event IN {_in(TRANSFER_EVENTS)} AS transferred,
            CASE exit_event WHEN 'COMPLETEAGENT' THEN 'agent' WHEN 'COMPLETECALLER' THEN 'caller'
                 ELSE CASE WHEN exit_event IN {_in(TRANSFER_EVENTS)} THEN 'transfer' ELSE 'unknown' END
            END AS ended_by,
            r.epoch AS restart_epoch
        FROM classified c ASOF LEFT JOIN restarts r ON c.enter_epoch <= r.epoch
        """  # noqa: S608 - constants of this module
    )


def _ts(epoch_sql: str) -> str:
    return f"make_timestamp(CAST(({epoch_sql}) * 1000000 AS BIGINT))"


def _agent_legs_of_leg() -> str:
    """How many agent_legs rows the insert below makes of a queue leg: its rings nobody took, its
    first CONNECT, or one answer that has no CONNECT."""
    return ("rings + CASE WHEN connect_seq IS NOT NULL OR (outcome = 'answered' AND connect_epoch IS NULL) "
            "THEN 1 ELSE 0 END")


def _replace_call_tables(store: Store, settings: Settings) -> None:
    con = store.connection
    params = phone.sql_params(settings.phone)
    rollup.mark_calls(store, "SELECT callid FROM ql_new_callids")
    derive.note_calls(store, "SELECT callid FROM ql_new_callids")
    for table in ("queue_legs", "agent_legs", "calls"):
        con.execute(
            f"DELETE FROM {table} WHERE source = '{SOURCE}' "  # noqa: S608 - fixed table names
            "AND call_id IN (SELECT callid FROM ql_new_callids)"
        )
    con.execute(
        f"DELETE FROM data_quality WHERE source = '{SOURCE}' AND call_id IN (SELECT callid FROM ql_new_callids)"  # noqa: S608
    )
    con.execute(
        f"""
        INSERT INTO queue_legs ({_columns(QUEUE_LEGS)})
        SELECT callid, leg_no, '{SOURCE}', queue,
            {_ts("enter_epoch")}, enter_epoch // 900,
            {_ts("CASE WHEN outcome = 'answered' AND connect_epoch IS NOT NULL AND talk_s IS NOT NULL "
                 "THEN connect_epoch + talk_s WHEN exit_epoch IS NOT NULL THEN exit_epoch "
                 "ELSE restart_epoch END")},
            outcome, exit_event, wait_s, agent, talk_s, transferred, position
        FROM ql_legs
        """  # noqa: S608 - fixed expressions
    )
    con.execute(
        f"""
        INSERT INTO agent_legs ({_columns(AGENT_LEGS)})
        SELECT e.callid, '{SOURCE}', e.agent, l.queue, 'inbound',
            {_ts("CASE e.event WHEN 'RINGNOANSWER' THEN e.epoch - TRY_CAST(e.data1 AS DOUBLE) / 1000 "
                 "WHEN 'CONNECT' THEN e.epoch - coalesce(TRY_CAST(e.data3 AS DOUBLE), 0) ELSE e.epoch END")},
            CAST(floor((CASE e.event WHEN 'RINGNOANSWER' THEN e.epoch - TRY_CAST(e.data1 AS DOUBLE) / 1000
                  WHEN 'CONNECT' THEN e.epoch - coalesce(TRY_CAST(e.data3 AS DOUBLE), 0)
                  ELSE e.epoch END) / 900) AS BIGINT),
            -- RINGNOANSWER after 0 ms: app_queue could not ring the member at all (device busy,
            -- unreachable, or ringinuse): a failed offer, not one the agent let ring.
            CASE e.event WHEN 'CONNECT' THEN 'answered'
                 WHEN 'RINGNOANSWER' THEN CASE WHEN TRY_CAST(e.data1 AS DOUBLE) = 0 THEN 'failed' ELSE 'no_answer' END
                 ELSE 'canceled' END,
            CASE e.event WHEN 'RINGNOANSWER' THEN TRY_CAST(e.data1 AS DOUBLE) / 1000
                 WHEN 'CONNECT' THEN TRY_CAST(e.data3 AS DOUBLE) END,
            CASE WHEN e.event = 'CONNECT' THEN {_ts("e.epoch")} END,
            CASE WHEN e.event = 'CONNECT' THEN l.talk_s END,
            NULL,
            CASE WHEN e.event = 'CONNECT' THEN l.transferred ELSE false END,
            CASE WHEN e.event = 'CONNECT' THEN l.ended_by END,
            NULL, NULL, e.leg_no
        FROM ql_ev e JOIN ql_legs l USING (callid, leg_no)
        WHERE e.event IN ('RINGNOANSWER', 'RINGCANCELED') OR e.seq = l.connect_seq
        UNION ALL
        SELECT callid, '{SOURCE}', agent, queue, 'inbound',
            {_ts("enter_epoch + coalesce(wait_s, 0)")},
            CAST(floor((enter_epoch + coalesce(wait_s, 0)) / 900) AS BIGINT),
            'answered', NULL, {_ts("enter_epoch + coalesce(wait_s, 0)")}, talk_s, NULL, transferred, ended_by,
            NULL, NULL, leg_no
        FROM ql_legs WHERE outcome = 'answered' AND connect_epoch IS NULL
        """  # noqa: S608 - fixed expressions
    )
    con.execute(
        f"""
        INSERT INTO calls
        SELECT callid, '{SOURCE}', 'inbound',
            {_ts("min(enter_epoch)")},
            {_ts("arg_min(coalesce(connect_epoch, enter_epoch + wait_s), leg_no) FILTER (WHERE outcome = 'answered')")},
            {_ts("max(coalesce(CASE WHEN talk_s IS NOT NULL AND connect_epoch IS NOT NULL "
                 "THEN connect_epoch + talk_s END, exit_epoch, restart_epoch, enter_epoch))")},
            min(enter_epoch) // 900,
            arg_min(caller, leg_no), {phone.sql_expression("arg_min(caller, leg_no)")},
            NULL, NULL, NULL, NULL,
            arg_min(agent, leg_no) FILTER (WHERE outcome = 'answered'),
            arg_min(queue, leg_no), NULL,
            bool_or(outcome = 'answered'),
            CASE WHEN bool_or(outcome = 'answered') THEN 'answered' ELSE arg_max(outcome, leg_no) END,
            arg_min(coalesce(connect_epoch, enter_epoch + wait_s), leg_no) FILTER (WHERE outcome = 'answered')
                - min(enter_epoch),
            sum(talk_s), NULL, count(*), sum({_agent_legs_of_leg()}),
            NULL, NULL, NULL, NULL
        FROM ql_legs
        GROUP BY callid
        """,  # noqa: S608 - fixed expressions, values bound
        params,
    )
    con.execute(
        f"""
        INSERT INTO data_quality
        SELECT '{SOURCE}', 'leg_without_end', callid, agent, {_ts("enter_epoch")},
            CASE WHEN restart_epoch IS NOT NULL
                 THEN 'queue leg in ' || queue || ' has no closing event; Asterisk restarted at '
                      || strftime({_ts("restart_epoch")}, '%Y-%m-%d %H:%M:%S') || ' UTC'
                 ELSE 'queue leg in ' || queue || ' has no closing event (log ends or was cut)' END
            || CASE WHEN outcome = 'answered' THEN '; answered, talk time unknown' ELSE '; outcome unknown' END
        FROM ql_legs WHERE exit_event IS NULL
        UNION ALL
        SELECT '{SOURCE}', 'events_without_enterqueue', callid, any_value(agent), {_ts("min(epoch)")},
            count(*) || ' event(s) of this call came before any ENTERQUEUE (log starts mid-call?): '
            || string_agg(DISTINCT event, ', ')
        FROM ql_ev WHERE leg_no = 0 GROUP BY callid
        """  # noqa: S608 - fixed expressions
    )
    _insert_agent_dials(store, params)


# PBXware's events of an agent's own outbound dial (its queue_log table; not in the plain file):
# OUTDIAL starts it, one of the others ends it (data1 number, data2 transfer target, data3 ring s,
# data4 talk s). The ending event is written when the call ends.
OUT_DIAL = "OUTDIAL"
OUT_ENDS = {"OUTANSWER": "answered", "OUTTRANSFER": "answered", "OUTCANCEL": "no_answer",
            "OUTCHANUNAVAIL": "failed", "OUTCONGESTION": "failed"}


def _insert_agent_dials(store: Store, params: dict[str, object]) -> None:
    """Outbound calls (and their agent legs) of the agents' dials of the rebuilt call ids: start at
    OUTDIAL (else the end minus ring and talk), answered after the ring, ended by the closing event."""
    outcome = "CASE event " + " ".join(f"WHEN '{e}' THEN '{o}'" for e, o in OUT_ENDS.items()) + " END"
    con = store.connection
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE ql_dials AS
        WITH ev AS (
            SELECT e.* FROM queue_log_events e SEMI JOIN ql_new_callids n ON e.callid = n.callid
            WHERE e.event IN {_in((OUT_DIAL, *OUT_ENDS))} AND e.callid NOT IN {_in(NOT_A_CALL)}
        ), ends AS (
            SELECT callid, arg_max(event, epoch) AS event, arg_max(agent, epoch) AS agent,
                arg_max(data1, epoch) AS number, arg_max(data2, epoch) AS data2, max(epoch) AS end_epoch,
                arg_max(coalesce(TRY_CAST(data3 AS DOUBLE), 0), epoch) AS ring_s,
                arg_max(coalesce(TRY_CAST(data4 AS DOUBLE), 0), epoch) AS talk_s
            FROM ev WHERE event <> '{OUT_DIAL}' GROUP BY callid
        ), dials AS (SELECT callid, min(epoch) AS dial_epoch FROM ev WHERE event = '{OUT_DIAL}' GROUP BY callid)
        SELECT callid, agent, number, event, {outcome} AS outcome,
            least(coalesce(dial_epoch, end_epoch - talk_s - ring_s), end_epoch - talk_s - ring_s) AS start_epoch,
            end_epoch - talk_s AS answer_epoch, end_epoch, ring_s, talk_s,
            event = 'OUTTRANSFER' AS transferred,
            CASE WHEN event = 'OUTTRANSFER' THEN 'transfer' WHEN data2 = 'COMPLETEAGENT' THEN 'agent'
                 WHEN data2 = 'COMPLETECALLER' THEN 'caller' ELSE 'unknown' END AS ended_by
        FROM ends LEFT JOIN dials USING (callid)
        WHERE callid NOT IN (SELECT callid FROM ql_legs)  -- a queue call keeps its queue_log call row
        """  # noqa: S608 - constants of this module
    )
    answered = "outcome = 'answered'"
    con.execute(
        f"""
        INSERT INTO calls
        SELECT callid, '{SOURCE}', 'outbound', {_ts("start_epoch")},
            CASE WHEN {answered} THEN {_ts("answer_epoch")} END, {_ts("end_epoch")},
            CAST(floor(start_epoch / 900) AS BIGINT), agent, NULL, number, {phone.sql_expression("number")},
            NULL, NULL, agent, NULL, NULL, {answered}, outcome, NULL,
            CASE WHEN {answered} THEN talk_s END, NULL, 0, 1, NULL, NULL, NULL, NULL
        FROM ql_dials
        """,  # noqa: S608 - fixed expressions, values bound
        params,
    )
    con.execute(
        f"""
        INSERT INTO agent_legs ({_columns(AGENT_LEGS)})
        SELECT callid, '{SOURCE}', agent, NULL, 'outbound', {_ts("start_epoch")},
            CAST(floor(start_epoch / 900) AS BIGINT), outcome, ring_s,
            CASE WHEN {answered} THEN {_ts("answer_epoch")} END, CASE WHEN {answered} THEN talk_s END, NULL,
            transferred, ended_by, {phone.sql_expression("number")}, NULL, NULL
        FROM ql_dials
        """,  # noqa: S608 - fixed expressions, values bound
        params,
    )
    con.execute("DROP TABLE ql_dials")


# -- agent presence --------------------------------------------------------------------------

SESSION_EVENTS = (*SESSION_START, *SESSION_END, RESTART, RELOAD)
PAUSE_EVENTS = (*PAUSE_START, *PAUSE_END)
# What Python's str.strip() strips: pause reasons are compared as the replay always compared them.
_PY_WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())  # U+3000 is the last
_Key = tuple[int, int, int]  # (epoch, source_id, line_no): the replay order of presence events


@dataclass
class _AgentSession:
    scopes: set[str] = field(default_factory=set)
    session_start: float | None = None


@dataclass
class _SessionBuilder:
    """Replays logins, logouts and restarts in time order into logged-in sessions per agent.

    Pauses are replayed in SQL (:func:`_insert_pauses`); all they need from here is where a
    session closed (``breaks``: agent, key, closing event; agent None for a restart, which closes
    every agent's pause)."""

    close_on_reload: bool
    agents: dict[str, _AgentSession] = field(default_factory=dict)
    rows: list[tuple[str, str, str | None, float, float, str]] = field(default_factory=list)
    findings: list[tuple[str, str, float, str]] = field(default_factory=list)
    breaks: list[tuple[str | None, int, int, int, str]] = field(default_factory=list)

    def feed(self, key: _Key, queue: str | None, agent: str | None, event: str, logintime: str | None) -> None:
        epoch = float(key[0])
        if event == RESTART or (event == RELOAD and self.close_on_reload):
            self.close_all(epoch, event)
            self.breaks.append((None, *key, event))
            return
        if not agent:
            return
        state = self.agents.setdefault(agent, _AgentSession())
        scope = "agent" if event.startswith("AGENT") else f"queue:{queue}"
        if event in SESSION_START:
            self._login(state, epoch, scope)
        elif event in SESSION_END and self._logout(agent, state, epoch, scope, event, logintime):
            self.breaks.append((agent, *key, event))

    def _login(self, state: _AgentSession, epoch: float, scope: str) -> None:
        if not state.scopes:
            state.session_start = epoch
        state.scopes.add(scope)

    def _logout(
        self, agent: str, state: _AgentSession, epoch: float, scope: str, event: str, logintime: str | None
    ) -> bool:
        """True when this logout closed the agent's session."""
        if state.scopes:
            state.scopes.discard(scope)
            if not state.scopes:
                self._close_session(agent, state, epoch, event)
                return True
            return False
        login_seconds = _number(logintime) if event in ("AGENTLOGOFF", "AGENTCALLBACKLOGOFF") else None
        if login_seconds:
            self.rows.append((agent, "logged_in", None, epoch - login_seconds, epoch, event))
            self.findings.append(
                (agent, "session_start_inferred", epoch, f"{event} found no open session (a restart "
                 f"closed it, or the login is not in the loaded log); the session is taken from its "
                 f"logintime ({login_seconds:.0f} s)")
            )
        return False

    def _close_session(self, agent: str, state: _AgentSession, epoch: float, closed_by: str) -> None:
        if state.session_start is not None and epoch > state.session_start:
            self.rows.append((agent, "logged_in", None, state.session_start, epoch, closed_by))
        state.session_start = None
        state.scopes.clear()

    def close_all(self, epoch: float, closed_by: str) -> None:
        for agent, state in self.agents.items():
            if state.scopes or state.session_start is not None:
                self._close_session(agent, state, epoch, closed_by)


def merge_overlapping_sessions(
    rows: list[tuple[str, str, str | None, float, float, str]],
) -> list[tuple[str, str, str | None, float, float, str]]:
    """Logged-in spans of one agent that overlap become one (sessions inferred from a logoff's
    logintime overlap the sessions seen directly); pauses are kept as they are."""
    pauses = [r for r in rows if r[1] != "logged_in"]
    sessions = sorted((r for r in rows if r[1] == "logged_in"), key=lambda r: (r[0], r[3]))
    merged: list[tuple[str, str, str | None, float, float, str]] = []
    for row in sessions:
        last = merged[-1] if merged else None
        if last and last[0] == row[0] and row[3] < last[4]:
            if row[4] > last[4]:
                merged[-1] = (*last[:4], row[4], row[5])
            continue
        merged.append(row)
    return merged + pauses


def _number(value: object) -> float | None:
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return None


REPLAY_KEY = "queue_log_presence_replay"
_FROM_START = -(2**62)  # a cut before every event: replay everything


def rebuild_agent_states(store: Store, settings: Settings, changed_since: float | None = None) -> float | None:
    """Replay the presence events into agent_states: logins, logouts and restarts (few) in Python,
    from the start; pauses (most presence events) in SQL, from where this import changed something.

    The pauses that ended before the earliest changed event (``changed_since``; None: unknown) stay
    as they are: what comes after cannot change them. The pause open there is replayed again from
    its start. Returns the earliest start of a row that may have changed (None: any row may have)."""
    con = store.connection
    end_row = first_row(con.execute("SELECT max(epoch) FROM queue_log_events"))
    data_end = int(end_row[0]) if end_row and end_row[0] is not None else 0
    replay = {"data_end": data_end, "close_on_reload": settings.ingest.close_sessions_on_reload,
              "aliases": settings.agents.aliases}
    cut = _replay_cut(store, replay, changed_since)
    builder = _replay_sessions(store, settings, data_end)
    sessions_since = _replace_sessions(store, builder)
    pauses_since = _replace_pauses(store, builder.breaks, data_end, cut)
    con.execute(f"DELETE FROM data_quality WHERE source = '{SOURCE}' AND kind = 'session_start_inferred'")  # noqa: S608
    _append_findings(store, builder.findings)
    find_sessions_too_long(store, settings.ingest.max_shift_h)
    store.set_meta(REPLAY_KEY, json.dumps(replay, sort_keys=True))
    return _earliest(sessions_since, None if cut == _FROM_START else pauses_since)


def _replay_cut(store: Store, replay: dict[str, object], changed_since: float | None) -> int:
    """The epoch from which pauses are replayed again: where this import changed something, or the
    end of the data the stored pauses were replayed for (a pause open there ran to it); the start
    when the stored pauses were replayed another way or are not known."""
    text = store.get_meta(REPLAY_KEY)
    stored = json.loads(text) if text else None
    if changed_since is None or stored is None:
        return _FROM_START
    stored_end = stored.pop("data_end", None)
    if stored_end is None or stored != {k: v for k, v in replay.items() if k != "data_end"}:
        return _FROM_START
    return math.floor(min(changed_since, stored_end))


def _replay_sessions(store: Store, settings: Settings, data_end: int) -> _SessionBuilder:
    events = store.connection.sql(
        f"""
        SELECT epoch, source_id, line_no, queue, agent, event, data2 FROM ({_presence_events_sql(store)})
        WHERE event IN {_in(SESSION_EVENTS)}
        ORDER BY epoch, source_id, line_no
        """  # noqa: S608 - constants of this module
    )
    builder = _SessionBuilder(close_on_reload=settings.ingest.close_sessions_on_reload)
    for batch in events.to_arrow_reader(100_000):
        columns = [batch.column(i).to_pylist() for i in range(7)]
        for epoch, source_id, line_no, queue, agent, event, data2 in zip(*columns, strict=True):
            builder.feed((epoch, source_id, line_no), queue, agent, event, data2)
    builder.close_all(float(data_end), "end_of_data")
    return builder


def _replace_sessions(store: Store, builder: _SessionBuilder) -> float:
    """Store the replayed sessions; returns the earliest start of one that changed (inf: none)."""
    con = store.connection
    sessions = f"SELECT * FROM agent_states WHERE source = '{SOURCE}' AND state = 'logged_in'"  # noqa: S608
    con.execute(f"CREATE OR REPLACE TEMP TABLE ql_old_sessions AS {sessions}")
    con.execute(f"DELETE FROM agent_states WHERE source = '{SOURCE}' AND state = 'logged_in'")  # noqa: S608
    _append_sessions(store, merge_overlapping_sessions(builder.rows))
    row = first_row(con.execute(
        f"""
        SELECT min(epoch(start_utc)) FROM (
            (SELECT * FROM ql_old_sessions EXCEPT ALL {sessions})
            UNION ALL
            ({sessions} EXCEPT ALL SELECT * FROM ql_old_sessions)
        )
        """  # noqa: S608 - constants of this module
    ))
    con.execute("DROP TABLE ql_old_sessions")
    return float(row[0]) if row and row[0] is not None else math.inf


def _presence_events_sql(store: Store, since: int = _FROM_START) -> str:
    """The presence events to replay (from epoch ``since``): the same line loaded from two files
    counts once."""
    one_file = first_row(store.connection.execute(
        "SELECT min(source_id) = max(source_id) FROM queue_log_events"))
    dedupe = "" if one_file and one_file[0] else (
        "QUALIFY source_id = min(source_id) OVER ("
        "PARTITION BY epoch, callid, queue, agent_raw, event, data1, data2, data3, data4, data5)"
    )
    return (f"SELECT * FROM queue_log_events WHERE event IN {_in(PRESENCE_EVENTS)} "  # noqa: S608
            f"AND epoch >= {int(since)} {dedupe}")


def _append_sessions(store: Store, rows: list[tuple[str, str, str | None, float, float, str]]) -> None:
    store.append_arrow(
        "agent_states",
        pa.table(
            {
                "source": pa.array([SOURCE] * len(rows)),
                "agent": pa.array([r[0] for r in rows]),
                "state": pa.array([r[1] for r in rows]),
                "reason": pa.array([r[2] for r in rows], pa.string()),
                "start_utc": _timestamps([r[3] for r in rows]),
                "end_utc": _timestamps([r[4] for r in rows]),
                "closed_by": pa.array([r[5] for r in rows]),
            }
        ),
    )


def _replace_pauses(
    store: Store, breaks: list[tuple[str | None, int, int, int, str]], data_end: int, cut: int
) -> float:
    """Replay the pauses from ``cut`` (see :func:`rebuild_agent_states`); returns the earliest start
    of a pause replayed."""
    con = store.connection
    paused = f"source = '{SOURCE}' AND state = 'paused'"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE ql_pause_resume AS
        SELECT agent, min(epoch(start_utc))::BIGINT AS since FROM agent_states
        WHERE {paused} AND epoch(start_utc) < $cut AND epoch(end_utc) >= $cut
        GROUP BY agent
        """,  # noqa: S608 - constants of this module
        {"cut": cut},
    )
    row = first_row(con.execute("SELECT min(since) FROM ql_pause_resume"))
    since = min(cut, row[0]) if row and row[0] is not None else cut
    con.execute(f"DELETE FROM agent_states WHERE {paused} AND epoch(end_utc) >= ?", [cut])  # noqa: S608
    _insert_pauses(store, _presence_events_sql(store, since), breaks, data_end, cut)
    con.execute("DROP TABLE ql_pause_resume")
    return float(since)


def _insert_pauses(
    store: Store, presence: str, breaks: list[tuple[str | None, int, int, int, str]], data_end: int, cut: int
) -> None:
    """Pauses per agent, replayed as the Python replay did: a PAUSE opens a pause, unless one with
    the same reason is open; it ends at the agent's next presence step that is not such a PAUSE
    (UNPAUSE, a PAUSE with another reason, a logout closing the session, a restart), else at the
    end of the data. A pause of no time is no pause. Each agent's steps are replayed from
    ``ql_pause_resume.since`` (the start of a pause open at ``cut``), else from ``cut``."""
    con = store.connection
    table = pa.table(
        {
            "agent": pa.array([b[0] for b in breaks], pa.string()),
            "epoch": pa.array([b[1] for b in breaks], pa.int64()),
            "source_id": pa.array([b[2] for b in breaks], pa.int64()),
            "line_no": pa.array([b[3] for b in breaks], pa.int64()),
            "closed_by": pa.array([b[4] for b in breaks], pa.string()),
        }
    )
    con.register("ql_session_breaks", table)
    try:
        con.execute(
            f"""
            INSERT INTO agent_states
            WITH pause_events AS (
                SELECT p.agent, p.epoch, p.source_id, p.line_no, p.event, p.data1
                FROM ({presence}) p LEFT JOIN ql_pause_resume r ON r.agent = p.agent
                WHERE p.event IN {_in(PAUSE_EVENTS)} AND coalesce(p.agent, '') <> ''
                  AND p.epoch >= coalesce(r.since, $cut)
            ), reasons AS (  -- trimmed once per distinct text: trimming a set of characters is slow
                SELECT data1, nullif(trim(data1, $ws), '') AS reason
                FROM (SELECT DISTINCT data1 FROM pause_events WHERE data1 IS NOT NULL)
            ), steps AS (
                SELECT p.agent, p.epoch, p.source_id, p.line_no, p.event AS closer,
                    p.event IN {_in(PAUSE_START)} AS is_pause, r.reason
                FROM pause_events p LEFT JOIN reasons r ON r.data1 = p.data1
            ), agents AS (
                SELECT agent, min(epoch) AS first_epoch FROM steps GROUP BY agent
            ), all_steps AS (
                SELECT * FROM steps
                UNION ALL
                SELECT b.agent, b.epoch, b.source_id, b.line_no, b.closed_by, false, NULL
                FROM ql_session_breaks b JOIN agents a ON a.agent = b.agent AND b.epoch >= a.first_epoch
                UNION ALL
                SELECT a.agent, b.epoch, b.source_id, b.line_no, b.closed_by, false, NULL
                FROM ql_session_breaks b JOIN agents a ON b.agent IS NULL AND b.epoch >= a.first_epoch
            ), runs AS (
                SELECT *, is_pause AND coalesce(lag(is_pause) OVER w, false)
                          AND reason IS NOT DISTINCT FROM lag(reason) OVER w AS continues
                FROM all_steps
                WINDOW w AS (PARTITION BY agent ORDER BY epoch, source_id, line_no)
            ), bounded AS (
                SELECT agent, is_pause, reason, epoch,
                    coalesce(lead(epoch) OVER w, $data_end) AS end_epoch,
                    coalesce(lead(closer) OVER w, 'end_of_data') AS closed_by
                FROM runs WHERE NOT continues
                WINDOW w AS (PARTITION BY agent ORDER BY epoch, source_id, line_no)
            )
            SELECT '{SOURCE}', agent, 'paused', reason, make_timestamp(epoch * 1000000),
                make_timestamp(end_epoch * 1000000), closed_by
            FROM bounded WHERE is_pause AND end_epoch > epoch
            """,  # noqa: S608 - constants of this module
            {"ws": _PY_WHITESPACE, "data_end": data_end, "cut": cut},
        )
    finally:
        con.unregister("ql_session_breaks")


def find_sessions_too_long(store: Store, max_shift_h: float) -> None:
    """Finding ``session_too_long``: a logged-in session longer than a plausible shift."""
    con = store.connection
    con.execute(f"DELETE FROM data_quality WHERE source = '{SOURCE}' AND kind = 'session_too_long'")  # noqa: S608
    con.execute(
        f"""
        INSERT INTO data_quality
        SELECT source, 'session_too_long', NULL, agent, start_utc,
            'logged in for ' || round((epoch(end_utc) - epoch(start_utc)) / 3600, 1) || ' h from '
            || strftime(start_utc, '%Y-%m-%d %H:%M:%S') || ' UTC to ' || strftime(end_utc, '%Y-%m-%d %H:%M:%S')
            || ' (ended by ' || coalesce(closed_by, 'unknown') || '), longer than a plausible shift of '
            || $max_h || ' h ([ingest] max_shift_h): logged_in_s, idle time, occupancy and utilisation of this '
            || 'agent count all of it; fix: a logoff is probably missing (the agent did not log off, or the '
            || 'AGENTLOGOFF/AGENTCALLBACKLOGOFF/REMOVEMEMBER line is not in the file); if shifts really are this '
            || 'long, raise [ingest] max_shift_h'
        FROM agent_states
        WHERE source = '{SOURCE}' AND state = 'logged_in' AND epoch(end_utc) - epoch(start_utc) > $max_h * 3600
        """,  # noqa: S608 - constants of this module, values bound
        {"max_h": max_shift_h},
    )


def find_lines_out_of_order(store: Store) -> None:
    """Finding ``lines_out_of_order``: per file, lines whose time is earlier than a line before
    them (Asterisk writes queue_log in time order; a jump back is a clock change or a merged file)."""
    con = store.connection
    con.execute(f"DELETE FROM data_quality WHERE source = '{SOURCE}' AND kind = 'lines_out_of_order'")  # noqa: S608
    con.execute(
        f"""
        INSERT INTO data_quality
        WITH ordered AS (
            SELECT source_id, line_no, epoch,
                max(epoch) OVER (PARTITION BY source_id ORDER BY line_no
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS latest_before
            FROM queue_log_events
        )
        SELECT '{SOURCE}', 'lines_out_of_order', NULL, NULL, make_timestamp(min(o.epoch) * 1000000),
            s.path || ': ' || count(*) || ' line(s) are earlier than a line before them (first: line '
            || min(o.line_no) || ', up to ' || max(o.latest_before - o.epoch) || ' s back): they are read in '
            || 'time order, so the KPIs stand if the times are right; if the PBX clock was changed, the '
            || 'waits, talk and sessions across the jump are wrong; fix: check the clock of those lines'
        FROM ordered o JOIN sources s USING (source_id)
        WHERE o.epoch < o.latest_before
        GROUP BY o.source_id, s.path
        """  # noqa: S608 - constants of this module
    )


def _append_findings(store: Store, found: list[tuple[str, str, float, str]]) -> None:
    store.append_arrow(
        "data_quality",
        pa.table(
            {
                "source": pa.array([SOURCE] * len(found)),
                "kind": pa.array([f[1] for f in found]),
                "call_id": pa.array([None] * len(found), pa.string()),
                "agent": pa.array([f[0] for f in found]),
                "time_utc": _timestamps([f[2] for f in found]),
                "detail": pa.array([f[3] for f in found]),
            }
        ),
    )


def _timestamps(epochs: list[float]) -> pa.Array:
    return pa.array([round(e * 1_000_000) for e in epochs], pa.int64()).cast(pa.timestamp("us"))


def rebuild_agent_time(store: Store, source: str, since: float | None = None) -> None:
    """Split presence spans and talk spans into 15-minute UTC slices, pro rata; only the slices
    whose rows changed are rewritten (and marked for the rollups). ``since``: no span that starts
    earlier changed (epoch seconds; None: any may have), so earlier slices are left alone."""
    if since == math.inf:
        return
    con = store.connection
    first_slice = -(2**40) if since is None else math.floor(since / SLICE)  # before any slice
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE agent_time_new AS
        WITH spans AS (
            SELECT agent, state, reason, epoch(start_utc) AS s, epoch(end_utc) AS e
            FROM agent_states WHERE source = $source AND end_utc > start_utc
            UNION ALL
            SELECT agent, 'talk', NULL, epoch(answer_utc), epoch(answer_utc) + talk_s
            FROM agent_legs WHERE source = $source AND outcome = 'answered' AND talk_s > 0 AND agent IS NOT NULL
            UNION ALL
            SELECT agent, 'hold', NULL, epoch(answer_utc) + talk_s, epoch(answer_utc) + talk_s + hold_s
            FROM agent_legs WHERE source = $source AND outcome = 'answered' AND hold_s > 0 AND agent IS NOT NULL
        ), sliced AS (
            SELECT agent, state, reason, s, e,
                unnest(range(CAST(floor(s / {SLICE}) AS BIGINT), CAST(ceil(e / {SLICE}) AS BIGINT))) AS slice_id
            FROM spans WHERE e > $first_slice * {SLICE}
        )
        SELECT $source AS source, agent, slice_id, state, reason,
            sum(least(e, (slice_id + 1) * {SLICE}) - greatest(s, slice_id * {SLICE})) AS seconds
        FROM sliced WHERE slice_id >= $first_slice GROUP BY agent, slice_id, state, reason
        HAVING sum(least(e, (slice_id + 1) * {SLICE}) - greatest(s, slice_id * {SLICE})) > 0
        """,  # noqa: S608 - the slice length is a constant
        {"source": source, "first_slice": first_slice},
    )
    _find_changed_slices(store, source, first_slice)
    con.execute("DELETE FROM agent_time WHERE source = ? AND slice_id IN (SELECT slice_id FROM agent_time_changed)",
                [source])
    con.execute("INSERT INTO agent_time SELECT * FROM agent_time_new "
                "WHERE slice_id IN (SELECT slice_id FROM agent_time_changed)")
    rollup.mark_slices(store, "agent_time", "SELECT slice_id FROM agent_time_changed")
    con.execute("DROP TABLE agent_time_new")
    con.execute("DROP TABLE agent_time_changed")


def _find_changed_slices(store: Store, source: str, first_slice: int) -> None:
    """The slices from ``first_slice`` on whose agent_time rows differ from ``agent_time_new``
    (temp table ``agent_time_changed``)."""
    con = store.connection
    stored = "FROM agent_time WHERE source = $source AND slice_id >= $first_slice"
    if not con.execute(f"SELECT 1 {stored} LIMIT 1", {"source": source, "first_slice": first_slice}).fetchall():
        con.execute("CREATE OR REPLACE TEMP TABLE agent_time_changed AS SELECT DISTINCT slice_id FROM agent_time_new")
        return
    columns = "agent, slice_id, state, reason, seconds"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE agent_time_changed AS
        SELECT DISTINCT slice_id FROM (
            (SELECT {columns} {stored} EXCEPT ALL SELECT {columns} FROM agent_time_new)
            UNION ALL
            (SELECT {columns} FROM agent_time_new EXCEPT ALL SELECT {columns} {stored})
        )
        """,  # noqa: S608 - fixed column list
        {"source": source, "first_slice": first_slice},
    )
