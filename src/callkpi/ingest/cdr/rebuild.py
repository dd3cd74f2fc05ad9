"""Rebuilding the calls of changed CDR rows: read the records of the affected call keys, build their
calls, write them and refresh what depends on calls (agent time, agents, call links); and
re-merging CDR calls with queue_log calls after a queue_log load (:func:`reconcile_with_queue_log`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pyarrow as pa

from callkpi.config import Settings
from callkpi.ingest import derive, queue_log_model
from callkpi.ingest.cdr.calls import CallBuilder, Rec
from callkpi.ingest.cdr.writer import write_calls
from callkpi.model.working_tables import CDR_AFFECTED
from callkpi.storage import Store, first_row

LOST_RACE_CAUSES = frozenset({"LOSE_RACE", "PICKED_OFF"})
_REC_COLUMNS = (
    "source_id, line_no, call_key, leg_key, sequence, start_utc, answer_utc, end_utc, billsec_s, disposition, "
    "outcome, src, "
    "dst, clid, dcontext, channel, dstchannel, lastapp, lastdata, did, trunk, recording, queue, queue_wait_s, "
    "queue_exit, campaign, agent, direction, hold_s"
)


def _records(store: Store, source: str) -> list[Rec]:
    """Rows of the affected calls, each repeated row once, in call and time order."""
    rows = store.connection.execute(
        f"""
        SELECT {_REC_COLUMNS} FROM cdr_records
        WHERE source = ? AND call_key IN (SELECT call_key FROM cdr_affected)
        QUALIFY row_number() OVER (PARTITION BY dedupe_key ORDER BY source_id, line_no) = 1
        ORDER BY call_key, start_utc, sequence NULLS LAST, source_id, line_no
        """,  # noqa: S608 - fixed column list
        [source],
    ).fetchall()
    return [Rec((r[0], r[1]), *r[2:]) for r in rows]


def _drop_weak_duplicates(records: list[Rec], store: Store, source: str) -> list[Rec]:
    """Rows of exports without a leg id (6-column CDR reports) that repeat a row with an id loaded
    from a fuller export: same numbers, disposition, durations and start minute."""
    if all(r.leg_key for r in records):
        return records
    weak = {
        row[0]
        for row in store.connection.execute(
            "SELECT DISTINCT concat_ws('|', src, dst, outcome, round(billsec_s), date_trunc('minute', start_utc)) "
            "FROM cdr_records WHERE source = ? AND leg_key IS NOT NULL", [source]
        ).fetchall()
    }
    return [r for r in records if r.leg_key or _weak_key(r) not in weak]


def _weak_key(r: Rec) -> str:
    minute = r.start.replace(second=0, microsecond=0).strftime("%Y-%m-%d %H:%M:%S")
    billsec = f"{round(r.billsec):.1f}" if r.billsec is not None else None
    return "|".join(x for x in (r.src, r.dst, r.outcome, billsec, minute) if x is not None)


def rebuild(store: Store, settings: Settings, source: str) -> None:
    """Rebuild the calls of ``source`` listed in ``cdr_affected``, then agent time and call links."""
    _join_peer_legs(store, source)
    unlinked = _files_without_linkedid(store, source)
    _join_local_halves(store, source, unlinked)
    _attach_ring_members(store, source, unlinked)
    records = _drop_weak_duplicates(_records(store, source), store, source)
    builder = CallBuilder(settings, source, queue_log_loaded=_queue_log_loaded(store),
                          unlinked_files=frozenset(unlinked))
    built = [builder.build(group) for group in _by_call(records) if not _only_lost_races(group)]
    write_calls(store, settings, source, built)
    queue_log_model.rebuild_agent_time(store, source)
    derive.refresh_agents(store)
    derive.refresh_call_links(store)


def _queue_log_loaded(store: Store) -> bool:
    """The store holds queue_log calls: the queue_log, not the CDR, says which calls were queue legs."""
    row = first_row(store.connection.execute("SELECT count(*) FROM (SELECT 1 FROM calls WHERE source = 'queue_log' "
                                             "LIMIT 1)"))
    return bool(row and row[0])


def rebuild_all(store: Store, settings: Settings, source: str) -> None:
    """Rebuild every call of a source (after the direction rules or agent aliases changed)."""
    con = store.connection
    store.create_working_table(CDR_AFFECTED, empty=True)
    con.execute("INSERT INTO cdr_affected SELECT DISTINCT call_key FROM cdr_records WHERE source = ?", [source])
    con.execute("INSERT INTO cdr_affected SELECT call_id FROM calls WHERE source = ?", [source])
    rebuild(store, settings, source)


def _join_peer_legs(store: Store, source: str) -> None:
    """A FreeSWITCH b-leg joins the call of the a-leg that names it (``bleg_uuid``), whichever
    file or chunk either came from; the call it formed alone before is rebuilt away."""
    con = store.connection
    pairs = """
        FROM cdr_records b JOIN cdr_records a
          ON a.source = b.source AND a.peer_leg_key = b.leg_key AND a.leg_key <> b.leg_key
        WHERE b.source = $source AND b.call_key <> a.call_key
          AND (b.call_key IN (SELECT call_key FROM cdr_affected) OR a.call_key IN (SELECT call_key FROM cdr_affected))
    """
    con.execute(f"INSERT INTO cdr_affected SELECT b.call_key {pairs} UNION SELECT a.call_key {pairs}",
                {"source": source})
    con.execute(
        """
        UPDATE cdr_records SET call_key = a.call_key
        FROM cdr_records a
        WHERE a.source = cdr_records.source AND a.peer_leg_key = cdr_records.leg_key
          AND a.leg_key <> cdr_records.leg_key AND cdr_records.source = $source
          AND cdr_records.call_key <> a.call_key AND a.call_key IN (SELECT call_key FROM cdr_affected)
        """,
        {"source": source},
    )


LOCAL_NAME = re.compile(r"^(Local/[^;]+);[12]$", re.IGNORECASE)
LOCAL_GAP_S = 5.0  # a row naming a Local channel after the previous one of that name ended + this is another channel


def _files_without_linkedid(store: Store, source: str) -> list[int]:
    """The files of ``source`` written without linkedid (Asterisk < 12): every row's call key is its own
    uniqueid. Read before the joins below, which give joined rows another row's key."""
    rows = store.connection.execute(
        "SELECT source_id FROM cdr_records WHERE source = ? GROUP BY source_id "
        "HAVING count(*) FILTER (WHERE leg_key IS NOT NULL AND call_key <> leg_key) = 0", [source]).fetchall()
    return [row[0] for row in rows]


def _join_local_halves(store: Store, source: str, unlinked: list[int]) -> None:
    """Asterisk < 12 (files without linkedid): the ``;2`` half of a Local channel writes its rows
    under its own uniqueid, so both halves of one path would be two calls. Rows naming the same
    Local channel (without ``;N``, as channel or dstchannel) while it existed are one call
    (CDR-Specification "Local Channels"); the call keeps the key of its earliest row placed by a
    real channel. The counter in a Local name restarts with the PBX, hence the time overlap."""
    con = store.connection
    rows = con.execute(
        """
        SELECT call_key, start_utc, coalesce(end_utc, start_utc), channel, dstchannel FROM cdr_records
        WHERE source = ? AND (channel ILIKE 'Local/%' OR dstchannel ILIKE 'Local/%') AND list_contains(?, source_id)
        ORDER BY start_utc
        """, [source, unlinked]).fetchall()
    if not rows:
        return
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    last_of_name: dict[str, tuple[str, datetime]] = {}
    for call_key, start, end, *channels in rows:
        find(call_key)
        for name in {m[1] for c in channels if c and (m := LOCAL_NAME.match(c))}:
            previous = last_of_name.get(name)
            if previous and start <= previous[1] + timedelta(seconds=LOCAL_GAP_S):
                parent[find(call_key)] = find(previous[0])
                end = max(end, previous[1])
            last_of_name[name] = (call_key, end)
    components: dict[str, list[tuple[str, datetime, bool]]] = {}
    for call_key, start, _end, channel, _dst in rows:
        components.setdefault(find(call_key), []).append((call_key, start, not LOCAL_NAME.match(channel or "")))
    moves = []
    for members in components.values():
        keys = {key for key, _, _ in members}
        if len(keys) < 2:
            continue
        target = min(members, key=lambda m: (not m[2], m[1]))[0]
        moves.extend((key, target) for key in keys if key != target)
    _move_call_keys(store, source, moves)


def _move_call_keys(store: Store, source: str, moves: list[tuple[str, str]]) -> None:
    """Give the rows of each old call key the new one; both calls are rebuilt."""
    if not moves:
        return
    con = store.connection
    con.register("cdr_local_moves", pa.table({"old_key": [m[0] for m in moves], "new_key": [m[1] for m in moves]}))
    try:
        con.execute("INSERT INTO cdr_affected SELECT old_key FROM cdr_local_moves UNION SELECT new_key "
                    "FROM cdr_local_moves")
        con.execute("UPDATE cdr_records SET call_key = m.new_key FROM cdr_local_moves m "
                    "WHERE cdr_records.source = ? AND cdr_records.call_key = m.old_key", [source])
    finally:
        con.unregister("cdr_local_moves")


RING_MEMBER_CALLER_DIGITS = 7  # a caller number this long names one customer, not an extension


def _attach_ring_members(store: Store, source: str, unlinked: list[int]) -> None:
    """Asterisk < 12: a ring group dialling several Local channels names only one of them as the
    caller's ``dstchannel``; the other members' ``;2`` rows form calls made only of Local channels.
    Records linkedid cannot correlate "have to be correlated using other properties" (CDR-Specification,
    "SIP attended transfer"): such a call whose caller number (``src`` of its first row, 7+ digits) is that
    of a call with a real channel, and that starts while that call is up, is a leg of it (the earliest
    such call)."""
    moves = store.connection.execute(
        """
        WITH r AS (
            SELECT call_key, start_utc, coalesce(end_utc, start_utc) AS end_utc, coalesce(channel, '') AS channel,
                   src
            FROM cdr_records WHERE source = $source AND list_contains($files, source_id)),
        calls AS (
            SELECT call_key, min(start_utc) AS first_start, max(end_utc) AS last_end,
                   bool_and(channel ILIKE 'Local/%') AS local_only,
                   bool_or(channel <> '' AND channel NOT ILIKE 'Local/%') AS has_real_channel,
                   arg_min(src, start_utc) AS caller
            FROM r GROUP BY call_key),
        members AS (
            SELECT call_key, first_start, caller FROM calls
            WHERE local_only AND call_key IN (SELECT call_key FROM cdr_affected)
              AND length(regexp_replace(coalesce(caller, ''), '[^0-9]', '', 'g')) >= $digits)
        SELECT m.call_key, arg_min(h.call_key, (h.first_start, h.call_key))
        FROM members m
        JOIN calls h ON h.has_real_channel AND h.first_start <= m.first_start AND m.first_start <= h.last_end
        WHERE EXISTS (SELECT 1 FROM r WHERE r.call_key = h.call_key AND r.src = m.caller)
        GROUP BY m.call_key
        """,
        {"source": source, "files": unlinked, "digits": RING_MEMBER_CALLER_DIGITS}).fetchall()
    _move_call_keys(store, source, [(member, host) for member, host in moves])


def _only_lost_races(recs: list[Rec]) -> bool:
    """A FreeSWITCH b-leg that lost a ring-all race (another phone answered) and names no a-leg:
    a ring of a call this template cannot link it to, not a call of its own."""
    return all((r.disposition or "").upper() in LOST_RACE_CAUSES for r in recs)


def _by_call(records: list[Rec]) -> Iterator[list[Rec]]:
    group: list[Rec] = []
    for rec in records:
        if group and rec.call_key != group[0].call_key:
            yield group
            group = []
        group.append(rec)
    if group:
        yield group


def reconcile_with_queue_log(store: Store, settings: Settings) -> int:
    """Merge the CDR calls that are also queue_log calls: the hook the queue_log importer calls
    after its rebuild (inside its transaction), so the order the files are loaded in does not
    matter and a queue_log that grows keeps the DID, trunk and recording the CDR filled in. Only
    the calls that import rebuilt (temp table ``ql_new_callids``) are looked at when it exists.
    Returns how many calls were merged."""
    con = store.connection
    scope = ""
    if first_row(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'ql_new_callids'"))[0]:
        scope = " AND call_key IN (SELECT callid FROM ql_new_callids)"
    merged = 0
    sources = [row[0] for row in con.execute("SELECT DISTINCT source FROM cdr_records").fetchall()]
    for source in sources:
        store.create_working_table(CDR_AFFECTED, empty=True)
        con.execute(
            "INSERT INTO cdr_affected SELECT DISTINCT call_key FROM cdr_records "  # noqa: S608
            f"WHERE source = ? AND call_key IN (SELECT call_id FROM calls WHERE source = 'queue_log'){scope}",
            [source],
        )
        # CDR calls loaded before the queue_log got a blank-queue leg (direct or ring-group call);
        # with the queue_log loaded that leg goes: the queue KPIs are the queue_log's alone.
        con.execute(
            "INSERT INTO cdr_affected SELECT DISTINCT call_id FROM queue_legs WHERE source = ? AND queue IS NULL "
            "AND call_id NOT IN (SELECT call_key FROM cdr_affected)", [source])
        count = first_row(con.execute("SELECT count(*) FROM cdr_affected"))
        if count and count[0]:
            merged += int(count[0])
            rebuild(store, settings, source)
    return merged
