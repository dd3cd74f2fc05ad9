"""The canonical model: every source maps into these tables; every KPI reads only these.

Times are stored as UTC ``TIMESTAMP`` (named ``*_utc``). Every fact also carries a ``*_slice``
column, the number of the 15-minute UTC slice it falls in (``epoch // 900``): any day, hour,
week, month or 15/30/60-minute interval of any business time zone is a union of whole slices,
so reports can cut time in any zone, DST-safe, with one join to a small calendar table.
"""

from __future__ import annotations

from dataclasses import dataclass

SLICE_SECONDS = 900
# Large fact tables carry no PRIMARY KEY: DuckDB maintains an index per key, which slows bulk
# loads several-fold; importers keep them unique themselves (delete-then-insert per call).
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[tuple[str, str], ...]
    primary_key: tuple[str, ...] = ()
    temporary: bool = False  # a working table of one connection (change tracking inside an import)
    # Columns computed from the others when read, never stored (DuckDB VIRTUAL generated columns):
    # (name, SQL expression over the row). Importers do not write them; another engine's store
    # (ClickHouse) holds them as ordinary columns, filled by a copy.
    generated: tuple[tuple[str, str], ...] = ()
    # Columns older stores have and this model no longer keeps: dropped when such a store opens,
    # left out when rows of such a store are copied in.
    dropped: tuple[str, ...] = ()

    def ddl(self, *, replace: bool = False) -> str:
        """The CREATE statement; ``replace`` empties an existing table instead of keeping it."""
        computed = dict(self.generated)
        cols = [f'"{name}" {sql_type}' + (f" GENERATED ALWAYS AS ({computed[name]}) VIRTUAL"
                                          if name in computed else "")
                for name, sql_type in self.columns]
        if self.primary_key:
            cols.append("PRIMARY KEY (" + ", ".join(f'"{c}"' for c in self.primary_key) + ")")
        kind = "TEMP TABLE" if self.temporary else "TABLE"
        head = f"CREATE OR REPLACE {kind}" if replace else f"CREATE {kind} IF NOT EXISTS"
        return f'{head} "{self.name}" (\n  ' + ",\n  ".join(cols) + "\n)"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    @property
    def stored_columns(self) -> tuple[str, ...]:
        """The columns an importer writes (all but the generated ones), in table order."""
        computed = dict(self.generated)
        return tuple(name for name, _ in self.columns if name not in computed)


# A leg's id is its call's id and its queue leg's number in the call ("1711.5#2"; an agent's own
# outbound dial, of no queue leg: "1711.5#out"): computed when read, not stored (it would cost
# about as much as the call id again, 10 MB per million legs).
LEG_ID = ("leg_id", "call_id || '#' || coalesce(CAST(leg_no AS VARCHAR), 'out')")


SOURCES = Table(
    "sources",
    "every file loaded: identity by content, how far it was read, what it gave",
    (
        ("source_id", "BIGINT"),
        ("path", "VARCHAR"),
        ("format", "VARCHAR"),
        ("head_len", "BIGINT"),
        ("head_sha256", "VARCHAR"),
        ("prefix_sha256", "VARCHAR"),
        ("bytes_loaded", "BIGINT"),
        ("lines_read", "BIGINT"),
        ("lines_loaded", "BIGINT"),
        ("lines_quarantined", "BIGINT"),
        ("first_utc", "TIMESTAMP"),
        ("last_utc", "TIMESTAMP"),
        ("loaded_at_utc", "TIMESTAMP"),
        ("loads", "INTEGER"),
        ("timezone", "VARCHAR"),
    ),
    ("source_id",),
)

QUARANTINE = Table(
    "quarantine",
    "lines that could not be loaded, with the reason; the rest of their file still loads",
    (
        ("source_id", "BIGINT"),
        ("path", "VARCHAR"),
        ("line_no", "BIGINT"),
        ("raw", "VARCHAR"),
        ("reason", "VARCHAR"),
        ("loaded_at_utc", "TIMESTAMP"),
    ),
    ("source_id", "line_no"),
)

DATA_QUALITY = Table(
    "data_quality",
    "findings about loaded data: legs without an end, events without a call, clock problems",
    (
        ("source", "VARCHAR"),
        ("kind", "VARCHAR"),
        ("call_id", "VARCHAR"),
        ("agent", "VARCHAR"),
        ("time_utc", "TIMESTAMP"),
        ("detail", "VARCHAR"),
    ),
)

QUEUE_LOG_EVENTS = Table(
    "queue_log_events",
    "raw Asterisk queue_log lines as loaded (kept so calls can be rebuilt and shown as timelines)",
    (
        ("source_id", "BIGINT"),
        ("line_no", "BIGINT"),
        ("epoch", "BIGINT"),
        ("callid", "VARCHAR"),
        ("queue", "VARCHAR"),
        ("agent_raw", "VARCHAR"),
        ("agent", "VARCHAR"),
        ("event", "VARCHAR"),
        ("data1", "VARCHAR"),
        ("data2", "VARCHAR"),
        ("data3", "VARCHAR"),
        ("data4", "VARCHAR"),
        ("data5", "VARCHAR"),
    ),
)

CALLS = Table(
    "calls",
    "one row per customer contact (all queue legs of one callid, all CDR legs of one linkedid)",
    (
        ("call_id", "VARCHAR"),
        ("source", "VARCHAR"),
        ("direction", "VARCHAR"),  # inbound | outbound | internal | unknown
        ("start_utc", "TIMESTAMP"),
        ("answer_utc", "TIMESTAMP"),
        ("end_utc", "TIMESTAMP"),
        ("start_slice", "BIGINT"),
        ("caller", "VARCHAR"),
        ("caller_norm", "VARCHAR"),
        ("callee", "VARCHAR"),
        ("callee_norm", "VARCHAR"),
        ("did", "VARCHAR"),
        ("trunk", "VARCHAR"),
        ("agent", "VARCHAR"),  # the first agent who answered
        ("queue", "VARCHAR"),  # the first queue entered
        ("campaign", "VARCHAR"),
        ("answered", "BOOLEAN"),
        ("outcome", "VARCHAR"),  # answered | abandoned | flowed_out | no_answer | busy | failed | unknown
        ("wait_s", "DOUBLE"),
        ("talk_s", "DOUBLE"),
        ("hold_s", "DOUBLE"),
        ("queue_legs", "INTEGER"),
        ("agent_legs", "INTEGER"),
        ("recording", "VARCHAR"),
        ("next_inbound_gap_s", "DOUBLE"),  # to the next inbound call from the same number (FCR)
        ("callback_attempt_gap_s", "DOUBLE"),  # missed call -> first outbound attempt to the number
        ("callback_contact_gap_s", "DOUBLE"),  # missed call -> first answered call with the number
    ),
)

QUEUE_LEGS = Table(
    "queue_legs",
    "one stay of one call in one queue; queue KPIs count these",
    (
        ("leg_id", "VARCHAR"),
        ("call_id", "VARCHAR"),
        ("leg_no", "INTEGER"),
        ("source", "VARCHAR"),
        ("queue", "VARCHAR"),
        ("enter_utc", "TIMESTAMP"),
        ("enter_slice", "BIGINT"),
        ("end_utc", "TIMESTAMP"),
        ("outcome", "VARCHAR"),  # answered | abandoned | flowed_out | unknown
        ("exit_event", "VARCHAR"),
        ("wait_s", "DOUBLE"),
        ("agent", "VARCHAR"),
        ("talk_s", "DOUBLE"),
        ("transferred", "BOOLEAN"),
        ("position", "INTEGER"),
    ),
    generated=(LEG_ID,),
    # The caller is the call's (calls.caller, calls.caller_norm): every importer wrote the same
    # number on each leg, which cost 16 MB per million legs; a leg whose ENTERQUEUE names another
    # number keeps it in its raw event.
    dropped=("caller", "caller_norm"),
)

AGENT_LEGS = Table(
    "agent_legs",
    "every offer of a call to an agent (a ring), answered or not, with the talk that followed",
    (
        ("call_id", "VARCHAR"),
        ("leg_id", "VARCHAR"),
        ("source", "VARCHAR"),
        ("agent", "VARCHAR"),
        ("queue", "VARCHAR"),
        ("direction", "VARCHAR"),
        ("offer_utc", "TIMESTAMP"),
        ("offer_slice", "BIGINT"),
        ("outcome", "VARCHAR"),  # answered | no_answer | canceled | busy | failed
        ("ring_s", "DOUBLE"),
        ("answer_utc", "TIMESTAMP"),
        ("talk_s", "DOUBLE"),
        ("hold_s", "DOUBLE"),
        ("transferred", "BOOLEAN"),
        ("ended_by", "VARCHAR"),  # agent | caller | transfer | unknown
        ("callee_norm", "VARCHAR"),
        ("campaign", "VARCHAR"),
        ("leg_no", "INTEGER"),  # the queue leg of the call the offer belongs to (0: none)
    ),
    generated=(LEG_ID,),
)

AGENT_STATES = Table(
    "agent_states",
    "agent presence: logged-in sessions and pauses (with reason) as time spans",
    (
        ("source", "VARCHAR"),
        ("agent", "VARCHAR"),
        ("state", "VARCHAR"),  # logged_in | paused
        ("reason", "VARCHAR"),
        ("start_utc", "TIMESTAMP"),
        ("end_utc", "TIMESTAMP"),
        ("closed_by", "VARCHAR"),
    ),
)

AGENT_TIME = Table(
    "agent_time",
    "agent time split into 15-minute UTC slices (logged_in, paused by reason, talk, hold)",
    (
        ("source", "VARCHAR"),
        ("agent", "VARCHAR"),
        ("slice_id", "BIGINT"),
        ("state", "VARCHAR"),
        ("reason", "VARCHAR"),
        ("seconds", "DOUBLE"),
    ),
)

AGENTS = Table(
    "agents",
    "agents known from any source, with the names they appear under",
    (
        ("agent", "VARCHAR"),
        ("name", "VARCHAR"),
        ("team", "VARCHAR"),
        ("aliases", "VARCHAR"),
    ),
    ("agent",),
)


CDR_RECORDS = Table(
    "cdr_records",
    "raw CDR rows (Asterisk, FreeSWITCH, cloud-PBX exports) as loaded, one per leg; calls are rebuilt "
    "from these, and columns the mapping does not know are kept in `extra` (JSON)",
    (
        ("source_id", "BIGINT"),
        ("line_no", "BIGINT"),
        ("source", "VARCHAR"),  # asterisk_cdr | freeswitch_cdr | the mapping's source name
        ("dedupe_key", "VARCHAR"),  # rows with the same key (in any file) are one row
        ("call_key", "VARCHAR"),  # linkedid, else uniqueid; FreeSWITCH a-leg uuid; export call id
        ("leg_key", "VARCHAR"),  # uniqueid / uuid of this row's channel
        ("peer_leg_key", "VARCHAR"),  # FreeSWITCH bleg_uuid
        ("sequence", "BIGINT"),
        ("start_utc", "TIMESTAMP"),
        ("answer_utc", "TIMESTAMP"),
        ("end_utc", "TIMESTAMP"),
        ("duration_s", "DOUBLE"),
        ("billsec_s", "DOUBLE"),
        ("minute_precision", "BOOLEAN"),  # times had no seconds (re-saved by a spreadsheet)
        ("disposition", "VARCHAR"),  # as written: ANSWERED, NO ANSWER, NORMAL_CLEARING, completed...
        ("outcome", "VARCHAR"),  # answered | no_answer | busy | failed
        ("src", "VARCHAR"),
        ("dst", "VARCHAR"),
        ("clid", "VARCHAR"),
        ("dcontext", "VARCHAR"),
        ("channel", "VARCHAR"),
        ("dstchannel", "VARCHAR"),
        ("lastapp", "VARCHAR"),
        ("lastdata", "VARCHAR"),
        ("did", "VARCHAR"),
        ("trunk", "VARCHAR"),
        ("recording", "VARCHAR"),
        ("queue", "VARCHAR"),
        ("queue_wait_s", "DOUBLE"),
        ("queue_exit", "VARCHAR"),
        ("campaign", "VARCHAR"),
        ("agent", "VARCHAR"),  # named by the source (exports, mod_callcenter), else derived
        ("direction", "VARCHAR"),  # named by the source, else derived from the direction rules
        ("hold_s", "DOUBLE"),
        ("extra", "VARCHAR"),
    ),
)

CEL_EVENTS = Table(
    "cel_events",
    "raw Asterisk CEL (Channel Event Logging) events as loaded, one per line or table row; calls are "
    "rebuilt from these (one call per linkedid)",
    (
        ("source_id", "BIGINT"),
        ("line_no", "BIGINT"),
        ("dedupe_key", "VARCHAR"),  # events with the same key (in any file) are one event
        ("eventtype", "VARCHAR"),
        ("event_utc", "TIMESTAMP"),
        ("cid_name", "VARCHAR"),
        ("cid_num", "VARCHAR"),
        ("cid_ani", "VARCHAR"),
        ("cid_rdnis", "VARCHAR"),
        ("cid_dnid", "VARCHAR"),
        ("exten", "VARCHAR"),
        ("context", "VARCHAR"),
        ("channame", "VARCHAR"),
        ("appname", "VARCHAR"),
        ("appdata", "VARCHAR"),
        ("amaflags", "VARCHAR"),
        ("accountcode", "VARCHAR"),
        ("peeraccount", "VARCHAR"),
        ("uniqueid", "VARCHAR"),
        ("linkedid", "VARCHAR"),
        ("userfield", "VARCHAR"),
        ("userdeftype", "VARCHAR"),
        ("peer", "VARCHAR"),
        ("extra", "VARCHAR"),  # JSON of the event (bridge_id, hangupcause, transfer targets...)
    ),
)

CEL_TRANSFERS = Table(
    "cel_transfers",
    "transfers the CEL records (BLINDTRANSFER, ATTENDEDTRANSFER): who transferred the call and who received it",
    (
        ("call_id", "VARCHAR"),
        ("source", "VARCHAR"),
        ("time_utc", "TIMESTAMP"),
        ("kind", "VARCHAR"),  # blind | attended
        ("from_agent", "VARCHAR"),
        ("to_agent", "VARCHAR"),  # the agent who then talked to the caller; NULL when nobody did
        ("target", "VARCHAR"),  # as the event names it: exten@context (blind) or the target channel
    ),
)

META = Table("meta", "store metadata", (("key", "VARCHAR"), ("value", "VARCHAR")), ("key",))

CANONICAL_TABLES: tuple[Table, ...] = (
    META,
    SOURCES,
    QUARANTINE,
    DATA_QUALITY,
    QUEUE_LOG_EVENTS,
    CALLS,
    QUEUE_LEGS,
    AGENT_LEGS,
    AGENT_STATES,
    AGENT_TIME,
    AGENTS,
    CDR_RECORDS,
    CEL_EVENTS,
    CEL_TRANSFERS,
)
