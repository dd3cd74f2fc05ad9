"""Turn raw queue_log events into the canonical model: calls, queue legs, agent legs, agent
states and sliced agent time.

Rules (Asterisk "Queue Logs" documentation; docs/queue_log.md explains each with an example):
- Events of one ``callid`` are ordered by time, then by file and line. Every ENTERQUEUE starts a
  queue leg; a call that overflows from one queue to another is one call with two legs.
- CONNECT/COMPLETE* ``holdtime`` is the queue wait (ring time included), not customer hold.
  Talk is ``calltime`` of COMPLETE*, TRANSFER, BLINDTRANSFER, ATTENDEDTRANSFER.
- RINGNOANSWER ring time is in milliseconds; CONNECT ringtime in seconds.
- A leg without a closing event (restart, file cut) is offered with outcome ``unknown`` and
  recorded as a data-quality finding, never dropped.
- Identical lines loaded from two files (the same log loaded as file and as table export) count
  once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa

from callkpi import phone
from callkpi.config import Settings
from callkpi.ingest import derive
from callkpi.metrics import rollup
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
    store.connection.execute("CREATE OR REPLACE TEMP TABLE agent_aliases (raw VARCHAR, agent VARCHAR)")
    store.append_arrow("agent_aliases", table)


_ALIAS_SCHEMA = pa.schema([("raw", pa.string()), ("agent", pa.string())])


def drop_lines_loaded_from_other_files(store: Store, source_id: int) -> None:
    """The same events loaded from another file (the log and a table export of it) count once:
    staged lines identical to stored ones of another source in the same time span are dropped."""
    con = store.connection
    overlap = first_row(
        con.execute(
            "SELECT count(*) FROM queue_log_events WHERE source_id <> ? "
            "AND epoch BETWEEN (SELECT min(epoch) FROM ql_good) AND (SELECT max(epoch) FROM ql_good)",
            [source_id],
        )
    )
    if not overlap or not overlap[0]:
        return
    con.execute(
        """
        DELETE FROM ql_good g WHERE EXISTS (
            SELECT 1 FROM queue_log_events e
            WHERE e.source_id <> g.source_id AND e.epoch = g.epoch AND e.callid = g.callid
              AND e.event = g.event AND e.queue IS NOT DISTINCT FROM g.queue
              AND e.agent_raw IS NOT DISTINCT FROM g.agent_raw
              AND e.data1 IS NOT DISTINCT FROM g.data1 AND e.data2 IS NOT DISTINCT FROM g.data2
              AND e.data3 IS NOT DISTINCT FROM g.data3 AND e.data4 IS NOT DISTINCT FROM g.data4
              AND e.data5 IS NOT DISTINCT FROM g.data5)
        """
    )


def rebuild(store: Store, settings: Settings) -> None:
    """Rebuild what the new events (callids in ``ql_new_callids``) change, then agent time."""
    con = store.connection
    con.execute(
        "UPDATE queue_log_events SET agent = a.agent FROM agent_aliases a "
        "WHERE queue_log_events.agent_raw = a.raw OR queue_log_events.agent = a.raw"
    )
    _stage_events(store)
    _stage_legs(store)
    _replace_call_tables(store, settings)
    rebuild_agent_states(store, settings)
    rebuild_agent_time(store, SOURCE)
    derive.refresh_agents(store)
    derive.refresh_call_links(store)


def _stage_events(store: Store) -> None:
    store.connection.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE ql_ev AS
        WITH scoped AS (
            SELECT * FROM queue_log_events
            WHERE event IN {_in(CALL_EVENTS)} AND callid NOT IN {_in(NOT_A_CALL)}
              AND callid IN (SELECT callid FROM ql_new_callids)
        )
        SELECT *,
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


def _replace_call_tables(store: Store, settings: Settings) -> None:
    con = store.connection
    params = phone.sql_params(settings.phone)
    rollup.mark_calls(store, "SELECT callid FROM ql_new_callids")
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
        INSERT INTO queue_legs
        SELECT callid || '#' || leg_no, callid, leg_no, '{SOURCE}', queue,
            {_ts("enter_epoch")}, enter_epoch // 900,
            {_ts("CASE WHEN outcome = 'answered' AND connect_epoch IS NOT NULL AND talk_s IS NOT NULL "
                 "THEN connect_epoch + talk_s WHEN exit_epoch IS NOT NULL THEN exit_epoch "
                 "ELSE restart_epoch END")},
            outcome, exit_event, wait_s, agent, talk_s, transferred, caller,
            {phone.sql_expression("caller")}, position
        FROM ql_legs
        """,  # noqa: S608 - fixed expressions, values bound
        params,
    )
    con.execute(
        f"""
        INSERT INTO agent_legs
        SELECT e.callid, e.callid || '#' || e.leg_no, '{SOURCE}', e.agent, l.queue, 'inbound',
            {_ts("CASE e.event WHEN 'RINGNOANSWER' THEN e.epoch - TRY_CAST(e.data1 AS DOUBLE) / 1000 "
                 "WHEN 'CONNECT' THEN e.epoch - coalesce(TRY_CAST(e.data3 AS DOUBLE), 0) ELSE e.epoch END")},
            CAST(floor((CASE e.event WHEN 'RINGNOANSWER' THEN e.epoch - TRY_CAST(e.data1 AS DOUBLE) / 1000
                  WHEN 'CONNECT' THEN e.epoch - coalesce(TRY_CAST(e.data3 AS DOUBLE), 0)
                  ELSE e.epoch END) / 900) AS BIGINT),
            CASE e.event WHEN 'CONNECT' THEN 'answered' WHEN 'RINGNOANSWER' THEN 'no_answer' ELSE 'canceled' END,
            CASE e.event WHEN 'RINGNOANSWER' THEN TRY_CAST(e.data1 AS DOUBLE) / 1000
                 WHEN 'CONNECT' THEN TRY_CAST(e.data3 AS DOUBLE) END,
            CASE WHEN e.event = 'CONNECT' THEN {_ts("e.epoch")} END,
            CASE WHEN e.event = 'CONNECT' THEN l.talk_s END,
            NULL,
            CASE WHEN e.event = 'CONNECT' THEN l.transferred ELSE false END,
            CASE WHEN e.event = 'CONNECT' THEN l.ended_by END,
            NULL, NULL
        FROM ql_ev e JOIN ql_legs l USING (callid, leg_no)
        WHERE e.event IN ('RINGNOANSWER', 'RINGCANCELED') OR e.seq = l.connect_seq
        UNION ALL
        SELECT callid, callid || '#' || leg_no, '{SOURCE}', agent, queue, 'inbound',
            {_ts("enter_epoch + coalesce(wait_s, 0)")},
            CAST(floor((enter_epoch + coalesce(wait_s, 0)) / 900) AS BIGINT),
            'answered', NULL, {_ts("enter_epoch + coalesce(wait_s, 0)")}, talk_s, NULL, transferred, ended_by,
            NULL, NULL
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
            sum(talk_s), NULL, count(*), any_value(coalesce(a.offers, 0)),
            NULL, NULL, NULL, NULL
        FROM ql_legs l LEFT JOIN (
            SELECT call_id, count(*) AS offers FROM agent_legs
            WHERE source = '{SOURCE}' AND call_id IN (SELECT callid FROM ql_new_callids) GROUP BY call_id
        ) a ON a.call_id = l.callid
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


# -- agent presence --------------------------------------------------------------------------


@dataclass
class _AgentPresence:
    scopes: set[str] = field(default_factory=set)
    session_start: float | None = None
    pause_start: float | None = None
    pause_reason: str | None = None


@dataclass
class _PresenceBuilder:
    """Replays presence events in time order into logged-in sessions and pauses per agent."""

    close_on_reload: bool
    agents: dict[str, _AgentPresence] = field(default_factory=dict)
    rows: list[tuple[str, str, str | None, float, float, str]] = field(default_factory=list)
    findings: list[tuple[str, str, float, str]] = field(default_factory=list)

    def feed(self, epoch: float, queue: str | None, agent: str | None, event: str, data: tuple) -> None:
        if event == RESTART or (event == RELOAD and self.close_on_reload):
            self.close_all(epoch, event)
            return
        if not agent:
            return
        state = self.agents.setdefault(agent, _AgentPresence())
        scope = "agent" if event.startswith("AGENT") else f"queue:{queue}"
        if event in SESSION_START:
            self._login(state, epoch, scope)
        elif event in SESSION_END:
            self._logout(agent, state, epoch, scope, event, data)
        elif event in PAUSE_START:
            self._pause(agent, state, epoch, (data[0] or "").strip() or None, event)
        elif event in PAUSE_END:
            self._end_pause(agent, state, epoch, event)

    def _login(self, state: _AgentPresence, epoch: float, scope: str) -> None:
        if not state.scopes:
            state.session_start = epoch
        state.scopes.add(scope)

    def _logout(
        self, agent: str, state: _AgentPresence, epoch: float, scope: str, event: str, data: tuple
    ) -> None:
        if state.scopes:
            state.scopes.discard(scope)
            if not state.scopes:
                self._close_session(agent, state, epoch, event)
            return
        login_seconds = _number(data[1]) if event in ("AGENTLOGOFF", "AGENTCALLBACKLOGOFF") else None
        if login_seconds:
            self.rows.append((agent, "logged_in", None, epoch - login_seconds, epoch, event))
            self.findings.append(
                (agent, "session_start_inferred", epoch, f"{event} found no open session (a restart "
                 f"closed it, or the login is not in the loaded log); the session is taken from its "
                 f"logintime ({login_seconds:.0f} s)")
            )

    def _pause(self, agent: str, state: _AgentPresence, epoch: float, reason: str | None, event: str) -> None:
        if state.pause_start is not None:
            if state.pause_reason == reason:
                return  # PAUSEALL and its per-queue PAUSE lines, or a repeated pause
            self._close_pause(agent, state, epoch, event)
        state.pause_start, state.pause_reason = epoch, reason

    def _end_pause(self, agent: str, state: _AgentPresence, epoch: float, event: str) -> None:
        if state.pause_start is not None:
            self._close_pause(agent, state, epoch, event)

    def _close_pause(self, agent: str, state: _AgentPresence, epoch: float, closed_by: str) -> None:
        assert state.pause_start is not None
        if epoch > state.pause_start:
            self.rows.append((agent, "paused", state.pause_reason, state.pause_start, epoch, closed_by))
        state.pause_start, state.pause_reason = None, None

    def _close_session(self, agent: str, state: _AgentPresence, epoch: float, closed_by: str) -> None:
        if state.pause_start is not None:
            self._close_pause(agent, state, epoch, closed_by)
        if state.session_start is not None and epoch > state.session_start:
            self.rows.append((agent, "logged_in", None, state.session_start, epoch, closed_by))
        state.session_start = None
        state.scopes.clear()

    def close_all(self, epoch: float, closed_by: str) -> None:
        for agent, state in self.agents.items():
            if state.scopes or state.session_start is not None:
                self._close_session(agent, state, epoch, closed_by)
            elif state.pause_start is not None:
                self._close_pause(agent, state, epoch, closed_by)


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


def rebuild_agent_states(store: Store, settings: Settings) -> None:
    """Replay every presence event (they are few next to call events) into agent_states."""
    con = store.connection
    end_row = first_row(con.execute("SELECT max(epoch) FROM queue_log_events"))
    data_end = float(end_row[0]) if end_row and end_row[0] is not None else 0.0
    one_file = first_row(con.execute("SELECT min(source_id) = max(source_id) FROM queue_log_events"))
    # The same line loaded from two files counts once; with one file there is nothing to drop.
    dedupe = "" if one_file and one_file[0] else (
        "QUALIFY source_id = min(source_id) OVER ("
        "PARTITION BY epoch, callid, queue, agent_raw, event, data1, data2, data3, data4, data5)"
    )
    events = con.sql(
        f"""
        SELECT epoch, queue, agent, event, data1, data2 FROM queue_log_events
        WHERE event IN {_in(PRESENCE_EVENTS)}
        {dedupe}
        ORDER BY epoch, source_id, line_no
        """  # noqa: S608 - constants of this module
    )
    builder = _PresenceBuilder(close_on_reload=settings.ingest.close_sessions_on_reload)
    # In batches: tens of millions of pause events would not fit in memory as Python tuples.
    for batch in events.to_arrow_reader(200_000):
        columns = [batch.column(i).to_pylist() for i in range(6)]
        for epoch, queue, agent, event, data1, data2 in zip(*columns, strict=True):
            builder.feed(float(epoch), queue, agent, event, (data1, data2))
    builder.close_all(data_end, "end_of_data")
    rows = merge_overlapping_sessions(builder.rows)
    con.execute(f"DELETE FROM agent_states WHERE source = '{SOURCE}'")  # noqa: S608
    con.execute(f"DELETE FROM data_quality WHERE source = '{SOURCE}' AND kind = 'session_start_inferred'")  # noqa: S608
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
    found = builder.findings
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


def rebuild_agent_time(store: Store, source: str) -> None:
    """Split presence spans and talk spans into 15-minute UTC slices, pro rata; only the slices
    whose rows changed are rewritten (and marked for the rollups)."""
    con = store.connection
    con.execute(
        """
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
                unnest(range(CAST(floor(s / 900) AS BIGINT), CAST(ceil(e / 900) AS BIGINT))) AS slice_id
            FROM spans
        )
        SELECT $source AS source, agent, slice_id, state, reason,
            sum(least(e, (slice_id + 1) * 900) - greatest(s, slice_id * 900)) AS seconds
        FROM sliced GROUP BY agent, slice_id, state, reason
        HAVING sum(least(e, (slice_id + 1) * 900) - greatest(s, slice_id * 900)) > 0
        """,
        {"source": source},
    )
    columns = "agent, slice_id, state, reason, seconds"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE agent_time_changed AS
        SELECT DISTINCT slice_id FROM (
            (SELECT {columns} FROM agent_time WHERE source = $source EXCEPT ALL SELECT {columns} FROM agent_time_new)
            UNION ALL
            (SELECT {columns} FROM agent_time_new EXCEPT ALL SELECT {columns} FROM agent_time WHERE source = $source)
        )
        """,  # noqa: S608 - fixed column list
        {"source": source},
    )
    con.execute("DELETE FROM agent_time WHERE source = ? AND slice_id IN (SELECT slice_id FROM agent_time_changed)",
                [source])
    con.execute("INSERT INTO agent_time SELECT * FROM agent_time_new "
                "WHERE slice_id IN (SELECT slice_id FROM agent_time_changed)")
    rollup.mark_slices(store, "agent_time", "SELECT slice_id FROM agent_time_changed")
    con.execute("DROP TABLE agent_time_new")
    con.execute("DROP TABLE agent_time_changed")
