"""Asterisk queue_log: the plain file (``epoch|callid|queue|agent|EVENT|data1|...``) and CSV
exports of the realtime ``queue_log`` table (columns time, callid, queuename, agent, event and
data1..data5 or one ``data`` field; ``time`` may be local text, read in ``--tz``).

Lines are staged into DuckDB in chunks and checked there in bulk; a bad line goes to the
quarantine with its file, line number and reason while the rest of the file loads. After the
raw events are in, :mod:`callkpi.ingest.queue_log_model` rebuilds the calls they touch.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa

from callkpi.config import Settings
from callkpi.ingest import queue_log_model
from callkpi.ingest.base import (
    DUPLICATE_PREFIX,
    FileChunk,
    ImportReport,
    ImportStart,
    LineBatch,
    Plausible,
    gap_reason,
    line_outcomes,
    note_growth,
    outlying_lines,
    raw_text_of_lines,
    read_ahead,
    read_chunks,
    read_line_batches,
    record_source,
    start_import,
)
from callkpi.ingest.cdr import rebuild as cdr_rebuild
from callkpi.ingest.cel import building as cel_building
from callkpi.ingest.refresh import after_calls_changed
from callkpi.model.working_tables import QUEUE_LOG_DUPLICATE_TIMES, QUEUE_LOG_NEW_CALLIDS
from callkpi.storage import Store, first_row

FORMAT_PLAIN = "asterisk-queue-log"
FORMAT_CSV = "asterisk-queue-log-csv"
FORMAT_PBXWARE_TABLE = "pbxware-queue-log-table"
FORMATS = (FORMAT_PLAIN, FORMAT_CSV, FORMAT_PBXWARE_TABLE)

_PLAIN_LINE = re.compile(r"^\s*\d{9,11}(\.\d+)?\|")
_CSV_TIME = ("time", "time_id", "timestamp", "date_time", "datetime")
_CSV_FIELDS = {
    "callid": ("callid", "call_id", "uniqueid"),
    "queue": ("queuename", "queue", "queue_name"),
    "agent": ("agent", "membername", "member"),
    "event": ("event", "verb"),
}

Progress = Callable[[int], None]

# PBXware's own queue_log table (uid,date_time,callid,queue_name,type,event,param1..3,entpos,expos,
# htime,ttime,time): each event's numbers sit in named columns. Per event, the columns that are its
# data1, data2, ... of the plain queue_log (checked against the plain queue_log PBXware writes from the
# same table); "" is an empty field. Other events take param1..3.
_PBXWARE_COLUMNS = frozenset({"date_time", "callid", "queue_name", "type", "event", "param1", "param2", "param3",
                              "entpos", "expos", "htime", "ttime"})
_PBXWARE_DATA: dict[str, tuple[str, ...]] = {
    "ENTERQUEUE": ("", "param1", "entpos"),
    "RINGNOANSWER": ("htime",),
    "CONNECT": ("htime", "param2", "param3"),
    "COMPLETECALLER": ("htime", "ttime", "entpos"),
    "COMPLETEAGENT": ("htime", "ttime", "entpos"),
    "ABANDON": ("expos", "entpos", "htime"),
    "EXITWITHTIMEOUT": ("expos", "entpos", "htime"),
    "BLINDTRANSFER": ("param2", "param3", "htime", "ttime", "entpos"),
    "ATTENDEDTRANSFER": ("", "", "htime", "ttime", "entpos"),
    "AGENTCALLBACKLOGIN": ("param1",),
    "AGENTCALLBACKLOGOFF": ("param1", "param2"),
    # PBXware's own events of an agent's outbound dial: number dialled, param2 (the transfer target
    # of OUTTRANSFER, who ended an OUTANSWER), ring seconds, talk seconds.
    **{event: ("param1", "param2", "htime", "ttime") for event in (
        "OUTDIAL", "OUTANSWER", "OUTCANCEL", "OUTCHANUNAVAIL", "OUTCONGESTION", "OUTTRANSFER")},
}
_PBXWARE_DEFAULT_DATA = ("param1", "param2", "param3")

# Required numeric parameters per event: (data field, what it is). A line that lacks them is
# quarantined, because its KPI contribution cannot be known.
REQUIRED_NUMBERS: dict[str, tuple[tuple[str, str], ...]] = {
    "CONNECT": (("data1", "holdtime"),),
    "COMPLETEAGENT": (("data1", "holdtime"), ("data2", "calltime")),
    "COMPLETECALLER": (("data1", "holdtime"), ("data2", "calltime")),
    "TRANSFER": (("data3", "holdtime"), ("data4", "calltime")),
    "BLINDTRANSFER": (("data3", "holdtime"), ("data4", "calltime")),
    "ATTENDEDTRANSFER": (("data3", "holdtime"), ("data4", "calltime")),
    "ABANDON": (("data3", "waittime"),),
    "EXITWITHTIMEOUT": (("data3", "waittime"),),
    "EXITEMPTY": (("data3", "waittime"),),
    "RINGNOANSWER": (("data1", "ringtime in ms"),),
}
# Numbers that must lie within 0 .. ingest.max_duration_s when they are numbers at all (the required
# ones and a few optional ones the model reads): (event, data field, units per second).
RANGED_NUMBERS: tuple[tuple[str, str, int], ...] = (
    *((event, field_name, 1000 if event == "RINGNOANSWER" else 1)
      for event, fields in REQUIRED_NUMBERS.items() for field_name, _meaning in fields),
    ("CONNECT", "data3", 1),  # ringtime
    ("EXITWITHKEY", "data4", 1),  # waittime
)
# Session lengths of a logoff (logintime): at most the widest gap a file may have.
LOGINTIME_EVENTS = ("AGENTLOGOFF", "AGENTCALLBACKLOGOFF")
LOGINTIME_FIELD = "data2"
# The data fields some check reads as a number.
_NUMBER_FIELDS = tuple(sorted({*(name for fields in REQUIRED_NUMBERS.values() for name, _meaning in fields),
                               *(name for _event, name, _scale in RANGED_NUMBERS), LOGINTIME_FIELD}))


def sniff(head: bytes) -> str | None:
    """The queue_log flavour of a file from its first bytes, or None."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = [line for line in text.splitlines() if line.strip()][:20]
    if not lines:
        return None
    if any(_PLAIN_LINE.match(line) for line in lines):  # a damaged first line still reads as queue_log
        return FORMAT_PLAIN
    header = {name.strip().strip('"').lower() for name in re.split(r"[,;\t]", lines[0])}
    if header >= _PBXWARE_COLUMNS:
        return FORMAT_PBXWARE_TABLE
    data = {"data", *(f"data{i}" for i in range(1, 6))}
    if ("event" in header and header & {"callid", "call_id"} and header & set(_CSV_TIME)
            and header & set(_CSV_FIELDS["agent"]) and header & data):
        return FORMAT_CSV
    return None


def load(
    store: Store,
    path: Path,
    settings: Settings,
    *,
    fmt: str,
    timezone: str,
    progress: Progress | None = None,
) -> ImportReport:
    """Load one queue_log file; only what is new since an earlier load of the same file."""
    report = ImportReport(path=str(path), format=fmt)
    start = start_import(store, path, report)
    if start is None:
        return report
    note_growth(report, start)
    source_id, first_line = start.source_id, start.first_line
    with store.transaction() as con:
        reloaded = _earliest_event(store, source_id, first_line)  # a last line that was not complete
        con.execute(
            "DELETE FROM queue_log_events WHERE source_id = ? AND line_no >= ?", [source_id, first_line]
        )
        first_events = not con.execute("SELECT 1 FROM queue_log_events LIMIT 1").fetchall()
        con.execute("DELETE FROM quarantine WHERE source_id = ? AND line_no >= ?", [source_id, first_line])
        store.create_working_table(QUEUE_LOG_NEW_CALLIDS, empty=True)
        store.create_working_table(QUEUE_LOG_DUPLICATE_TIMES, empty=True)
        queue_log_model.register_agent_aliases(store, settings)
        bytes_loaded, lines_read = start.start_offset, first_line - 1
        read_to = bytes_loaded
        bounds = Plausible.of(settings)
        if fmt in (FORMAT_CSV, FORMAT_PBXWARE_TABLE):
            parts_of = _pbxware_parts if fmt == FORMAT_PBXWARE_TABLE else _csv_parts
            batches = _staged_csv(path, start, LocalClock(ZoneInfo(timezone)), parts_of)
        else:
            batches = _staged_plain(path, start)
        for staged in batches:
            _validate_and_insert(store, staged, source_id, path, settings, bounds)
            report.lines_read += staged.table.num_rows
            read_to = staged.end_offset
            if staged.complete:
                bytes_loaded, lines_read = staged.end_offset, staged.last_line_no
            if progress:
                progress(staged.end_offset)
        _quarantine_outlying_times(store, source_id, path, start, bounds)
        changed_since = min(reloaded, _earliest_event(store, source_id, first_line))
        queue_log_model.rebuild(store, settings, changed_since, only_new_events=first_events)
        cdr_rebuild.reconcile_with_queue_log(store, settings)
        cel_building.reconcile_with_queue_log(store, settings)
        after_calls_changed(store, settings)
        _fill_report(store, report, source_id, first_line)
        record_source(
            store,
            path=path,
            fmt=fmt,
            source_id=source_id,
            known=start.known,
            bytes_loaded=bytes_loaded,
            lines_read=lines_read,
            lines_loaded=_count(store, "queue_log_events", source_id),
            report=report,
            timezone=timezone,
            read_to=read_to,
        )
        queue_log_model.find_lines_out_of_order(store)
    return report


@dataclass(frozen=True)
class _Staged:
    """Lines of one block of the file, staged for checking (``line_no``, ``raw``; ``parts`` for CSV)."""

    table: pa.Table
    end_offset: int
    complete: bool  # False for a last line without newline: it may still be being written
    last_line_no: int
    # False when no line of the block holds a NUL or U+FFFD (what the "not text" check looks for),
    # so the check is left out of the block's SQL.
    may_hold_non_text: bool = True


def _staged_plain(path: Path, start: ImportStart) -> Iterator[_Staged]:
    last = start.first_line - 1
    for batch, may_hold_non_text in read_ahead(_with_text_flags(read_line_batches(path, start.start_offset,
                                                                                   start.first_line))):
        last += batch.line_count
        table = pa.table({"line_no": batch.line_no, "raw": batch.text})
        yield _Staged(table, batch.end_offset, batch.complete, last, may_hold_non_text)


_NON_TEXT = (b"\x00", "\ufffd".encode())


def _with_text_flags(batches: Iterator[LineBatch]) -> Iterator[tuple[LineBatch, bool]]:
    """Each batch with whether some line may hold a NUL or U+FFFD (made where the batch is read:
    in the read-ahead thread). The array's bytes may hold more than its lines, so True can be
    wrong, False never."""
    for batch in batches:
        data = batch.text.buffers()[2]
        content = data.to_pybytes() if data is not None else b""
        yield batch, any(marker in content for marker in _NON_TEXT)


PartsOf = Callable[[list[str], list[str]], list[str | None]]


def _staged_csv(path: Path, start: ImportStart, clock: LocalClock, parts_of: PartsOf) -> Iterator[_Staged]:
    header: list[str] | None = None
    delimiter = _csv_delimiter(path)
    for chunk in read_chunks(path, start.start_offset, start.first_line):
        header, table = _stage_csv(chunk, header, clock, delimiter, parts_of, first_chunk=chunk.first_line_no == 1)
        yield _Staged(table, chunk.end_offset, chunk.complete, chunk.first_line_no + len(chunk.lines) - 1)


class LocalClock:
    """Reads local date-time text as UTC epochs, resolving the repeated hour of a DST fall-back
    from the order of the rows: Asterisk writes queue_log rows in time order, so a local time
    earlier than one already seen inside the ambiguous hour is its second occurrence."""

    FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M:%S")

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.latest: datetime | None = None

    def epoch_text(self, value: str | None) -> str | None:
        """Epoch seconds as text, or the value unchanged when it is not a local date-time."""
        if value is None or _EPOCH.match(value.strip()):
            return value
        local = self._parse(value.strip())
        if local is None:
            return value
        first = local.replace(tzinfo=self.zone, fold=0)
        second = local.replace(tzinfo=self.zone, fold=1)
        ambiguous = first.utcoffset() != second.utcoffset()
        chosen = second if ambiguous and self.latest is not None and self.latest > local else first
        if self.latest is None or local > self.latest:
            self.latest = local
        return str(int(chosen.timestamp()))

    def _parse(self, text: str) -> datetime | None:
        for fmt in self.FORMATS:
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
        return None


_EPOCH = re.compile(r"^\d{9,11}(\.\d+)?$")


def _csv_delimiter(path: Path) -> str:
    """The delimiter of the file's header line (the sniffer, else the commonest of , ; and tab)."""
    with path.open("rb") as handle:
        head = handle.read(4096).decode("utf-8", errors="replace").lstrip("\ufeff")
    first = next((line for line in head.splitlines() if line.strip()), "")
    try:
        return csv.Sniffer().sniff(first, delimiters=",;\t").delimiter
    except csv.Error:
        return max(",;\t", key=first.count)


def _csv_rows(reader: Iterator[list[str]]) -> Iterator[list[str] | csv.Error]:
    """The rows of a CSV reader; a row it cannot split (a field over the csv module's limit) comes as its error."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield exc


def _stage_csv(
    chunk: FileChunk, header: list[str] | None, clock: LocalClock, delimiter: str, parts_of: PartsOf, *,
    first_chunk: bool,
) -> tuple[list[str], pa.Table]:
    """CSV rows as the same columns the plain format splits into (line numbers kept)."""
    text = "\n".join(chunk.lines)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    columns: dict[str, list[object]] = {name: [] for name in ("line_no", "raw", "parts", "issue")}
    for row in _csv_rows(reader):
        line_no = chunk.first_line_no + reader.line_num - 1
        if isinstance(row, csv.Error):
            columns["line_no"].append(line_no)
            columns["raw"].append(chunk.lines[reader.line_num - 1] if 0 < reader.line_num <= len(chunk.lines) else "")
            columns["parts"].append([])
            columns["issue"].append(f"not valid CSV: {row}")
            continue
        if not any(cell.strip() for cell in row):
            continue
        if header is None and first_chunk:
            header = [cell.strip().strip('"').lower() for cell in row]
            continue
        columns["line_no"].append(line_no)
        columns["raw"].append(chunk.lines[reader.line_num - 1] if reader.line_num <= len(chunk.lines) else "")
        parts = parts_of(header or [], row)
        parts[0] = clock.epoch_text(parts[0])
        columns["parts"].append(parts)
        columns["issue"].append(None)
    staged = pa.table(
        {
            "line_no": pa.array(columns["line_no"], pa.int64()),
            "raw": pa.array(columns["raw"], pa.string()),
            "parts": pa.array(columns["parts"], pa.list_(pa.string())),
            "issue": pa.array(columns["issue"], pa.string()),
        }
    )
    return header or [], staged


def _csv_parts(header: list[str], row: list[str]) -> list[str | None]:
    """[time, callid, queue, agent, event, data1..data5] of one CSV row, by header names."""
    cells = dict(zip(header, row, strict=False))
    time_value = next((cells[name] for name in _CSV_TIME if name in cells), None)
    parts: list[str | None] = [time_value]
    for aliases in _CSV_FIELDS.values():
        parts.append(next((cells[name] for name in aliases if name in cells), None))
    if any(f"data{i}" in cells for i in range(1, 6)):
        data = [cells.get(f"data{i}", "") for i in range(1, 6)]
    else:
        data = (cells.get("data") or "").split("|")
    parts.extend(data)
    return parts


def _pbxware_parts(header: list[str], row: list[str]) -> list[str | None]:
    """[time, callid, queue, agent, event, data1..] of one row of PBXware's queue_log table."""
    cells = dict(zip(header, row, strict=False))
    event = (cells.get("event") or "").strip()
    data = [cells.get(name, "") if name else "" for name in _PBXWARE_DATA.get(event, _PBXWARE_DEFAULT_DATA)]
    return [cells.get("date_time"), cells.get("callid"), cells.get("queue_name"), cells.get("type"),
            cells.get("event"), *data]


def _validate_and_insert(store: Store, staged: _Staged, source_id: int, path: Path, settings: Settings,
                         bounds: Plausible) -> None:
    if staged.table.num_rows == 0:
        return
    _check_lines(store, staged.table, bounds, text_check=staged.may_hold_non_text)
    con = store.connection
    queue_log_model.mark_lines_loaded_from_other_files(store, source_id, DUPLICATE_PREFIX)
    con.execute("INSERT INTO ql_duplicate_times SELECT line_no, epoch FROM ql_stage WHERE starts_with(reason, ?)",
                [DUPLICATE_PREFIX])
    con.execute(
        """
        INSERT INTO quarantine
        SELECT $source_id, $path, line_no, raw, reason, now()::TIMESTAMP
        FROM ql_stage WHERE reason IS NOT NULL
        """,
        {"source_id": source_id, "path": str(path)},
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE ql_agent_names AS
        SELECT agent_raw, {queue_log_model.agent_expression("agent_raw", settings)} AS agent
        FROM (SELECT DISTINCT agent_raw FROM ql_stage WHERE reason IS NULL)
        """  # noqa: S608 - fixed expressions of this module
    )
    con.execute(
        """
        INSERT INTO queue_log_events
        SELECT $source_id, s.line_no, s.epoch, s.callid, s.queue, s.agent_raw, n.agent, s.event,
               s.data1, s.data2, s.data3, s.data4, s.data5
        FROM ql_stage s LEFT JOIN ql_agent_names n ON n.agent_raw = s.agent_raw
        WHERE s.reason IS NULL
        """,
        {"source_id": source_id},
    )
    con.execute("INSERT INTO ql_new_callids SELECT DISTINCT callid FROM ql_stage WHERE reason IS NULL")


def _check_lines(store: Store, staged: pa.Table, bounds: Plausible, *, text_check: bool = True) -> None:
    """Split the staged lines into fields (temp table ``ql_stage``) with why each cannot be loaded,
    or NULL; the raw text is kept only for the lines that cannot. ``text_check`` False: no line
    holds what the "not text" check looks for. Each field is trimmed and each number the checks
    read is cast once, a level below the checks."""
    con = store.connection
    con.register("ql_stage_arrow", staged)
    try:
        split = "parts" if "parts" in staged.column_names else "string_split(raw, '|')"
        issue = "issue" if "issue" in staged.column_names else "NULL::VARCHAR"
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE ql_stage AS
            SELECT line_no, CASE WHEN reason IS NOT NULL THEN raw END AS raw, reason, epoch, callid, queue,
                   agent_raw, ev AS event, data1, data2, data3, data4, data5
            FROM (
                SELECT *, coalesce(issue, {_reason_expression(text_check=text_check)}) AS reason FROM (
                    SELECT line_no, raw, len(p) AS n_fields, p[1] AS f_time, {_epoch_expression()} AS epoch,
                           trim(p[2]) AS callid, trim(p[3]) AS queue, trim(p[4]) AS agent_raw, p[5] AS event,
                           trim(p[5]) AS event_trimmed, upper(trim(p[5])) AS ev, {_number_columns()},
                           nullif(p[6], '') AS data1, nullif(p[7], '') AS data2, nullif(p[8], '') AS data3,
                           nullif(p[9], '') AS data4, issue,
                           nullif(CASE WHEN len(p) > 10 THEN array_to_string(p[10:], '|') ELSE p[10] END, '') AS data5
                    FROM (SELECT line_no, raw, {split} AS p, {issue} AS issue FROM ql_stage_arrow)
                )
            )
            """,  # noqa: S608 - fixed expressions of this module
            {**bounds.params(), "max_login_s": bounds.max_gap_s, "window": bounds.window_text()},
        )
    finally:
        con.unregister("ql_stage_arrow")


def _epoch_expression() -> str:
    return (
        "CASE WHEN regexp_full_match(trim(p[1]), '\\d{9,11}(\\.\\d+)?') "
        "THEN floor(TRY_CAST(trim(p[1]) AS DOUBLE))::BIGINT END"
    )


def _number_columns() -> str:
    """The data fields the checks read as numbers, cast once: ``number_data1``..."""
    return ", ".join(f"TRY_CAST(trim(nullif(p[{int(name[-1]) + 5}], '')) AS DOUBLE) AS number_{name}"
                     for name in _NUMBER_FIELDS)


def _reason_expression(*, text_check: bool = True) -> str:
    """SQL giving why a staged line cannot be loaded, or NULL when it can (``text_check`` False:
    without the "not text" check, for lines known to pass it)."""
    text = [
        "WHEN raw LIKE '%' || chr(0) || '%' OR raw LIKE '%' || chr(65533) || '%' "
        "THEN 'not text: binary data or an unknown encoding'",
    ] if text_check else []
    checks = [
        *text,
        "WHEN n_fields < 5 THEN format('truncated line: {} field(s); a queue_log line has at least 5 "
        "(time|callid|queue|agent|event)', n_fields)",
        "WHEN epoch IS NULL THEN format('time {} is not a UNIX timestamp or a date-time', "
        "coalesce('''' || f_time || '''', 'missing'))",
        # Every name the model knows fits the pattern: only other names need the regular expression.
        f"WHEN event_trimmed NOT IN {_KNOWN_EVENTS} "
        "AND NOT regexp_full_match(event_trimmed, '[A-Za-z][A-Za-z0-9_]*') "
        "THEN format('event name ''{}'' is not a queue_log event', event)",
        "WHEN epoch < $earliest OR epoch > $latest THEN format('time {} ({}) is outside the plausible window {}', "
        "trim(f_time), strftime(make_timestamp(epoch * 1000000), '%Y-%m-%d %H:%M:%S'), $window)",
        "WHEN coalesce(callid, '') = '' THEN 'empty callid'",  # callid is trimmed
        f"WHEN ev IN {_sql_list(REQUIRED_NUMBERS)} AND ({_numbers_reason_expression()}) IS NOT NULL "
        f"THEN {_numbers_reason_expression()}",
        *_range_checks(),
    ]
    return "CASE " + " ".join(checks) + " ELSE NULL END"


def _numbers_reason_expression() -> str:
    checks = [
        f"WHEN ev = '{event}' AND number_{field_name} IS NULL "
        f"THEN format('{event} needs {meaning} ({field_name}) as a number, got {{}}', "
        f"coalesce('''' || {field_name} || '''', 'nothing'))"
        for event, fields in REQUIRED_NUMBERS.items()
        for field_name, meaning in fields
    ]
    return "CASE " + " ".join(checks) + " END"


def _range_checks() -> list[str]:
    """CASE branches quarantining a number of a known meaning that cannot be true: not finite,
    negative, or over ``ingest.max_duration_s`` (a logoff's logintime: over ``max_gap_days``)."""
    checks = [
        f"WHEN ev = '{event}' AND NOT (number_{name} BETWEEN 0 AND $max_s * {scale}) "
        f"THEN format('{event} {name} {{}} is out of range: not 0 .. {{}} {'ms' if scale == 1000 else 's'} "
        f"(ingest.max_duration_s)', trim({name}), $max_s * {scale})"
        for event, name, scale in RANGED_NUMBERS
    ]
    checks.append(
        f"WHEN ev IN {_sql_list(LOGINTIME_EVENTS)} "
        f"AND NOT (number_{LOGINTIME_FIELD} BETWEEN 0 AND $max_login_s) "
        "THEN format('{} logintime {} is out of range: not 0 .. {} s (ingest.max_gap_days)', ev, trim(data2), "
        "$max_login_s)"
    )
    return checks


def _quarantine_outlying_times(store: Store, source_id: int, path: Path, start: ImportStart,
                               bounds: Plausible) -> None:
    """Move the events whose time lies far from the rest of the file into the quarantine."""
    times = ("SELECT line_no, epoch AS ts, true AS movable FROM queue_log_events WHERE source_id = $source_id "
             "UNION ALL SELECT line_no, epoch, false FROM ql_duplicate_times")
    outliers = outlying_lines(store, times, {"source_id": source_id}, start.first_line, bounds.max_gap_s)
    if not outliers:
        return
    raw = raw_text_of_lines(path, {line for line, _ts in outliers}, start.start_offset, start.first_line)
    table = pa.table({
        "line_no": pa.array([line for line, _ts in outliers], pa.int64()),
        "raw": pa.array([raw.get(line, "") for line, _ts in outliers], pa.string()),
        "reason": pa.array([gap_reason(ts, bounds.max_gap_s) for _line, ts in outliers], pa.string()),
    })
    con = store.connection
    con.register("ql_outliers", table)
    try:
        con.execute("DELETE FROM queue_log_events WHERE source_id = ? AND line_no IN (SELECT line_no FROM ql_outliers)",
                    [source_id])
        con.execute("INSERT INTO quarantine SELECT ?, ?, line_no, raw, reason, now()::TIMESTAMP FROM ql_outliers",
                    [source_id, str(path)])
    finally:
        con.unregister("ql_outliers")


def _sql_list(names: Iterable[str]) -> str:
    return "(" + ", ".join(f"'{name}'" for name in names) + ")"


_KNOWN_EVENTS = _sql_list((*queue_log_model.CALL_EVENTS, *queue_log_model.PRESENCE_EVENTS))


def _fill_report(store: Store, report: ImportReport, source_id: int, first_line: int) -> None:
    con = store.connection
    read_row = first_row(con.execute(
        "SELECT count(*), min(epoch), max(epoch) FROM queue_log_events WHERE source_id = ? AND line_no >= ?",
        [source_id, first_line],
    ))
    report.lines_loaded = int(read_row[0]) if read_row else 0
    report.issues, report.duplicates = line_outcomes(store, source_id, first_line)
    report.quarantined = len(report.issues)
    if report.duplicates:
        report.messages.append(f"{report.duplicates} line(s) repeat events another file already loaded; "
                               "counted once (see `callkpi quarantine`)")
    calls = first_row(con.execute("SELECT count(*) FROM calls"))
    report.calls = int(calls[0]) if calls else 0
    bounds = first_row(con.execute(
        "SELECT to_timestamp(min(epoch))::TIMESTAMP, to_timestamp(max(epoch))::TIMESTAMP "
        "FROM queue_log_events WHERE source_id = ? AND callid NOT IN ('NONE', 'MANAGER')",
        [source_id],
    ))
    if bounds:
        report.first_utc, report.last_utc = bounds


def _earliest_event(store: Store, source_id: int, first_line: int) -> float:
    """The earliest time of the events of a file from a line on (inf: none)."""
    row = first_row(store.connection.execute(
        "SELECT min(epoch) FROM queue_log_events WHERE source_id = ? AND line_no >= ?", [source_id, first_line]
    ))
    return float(row[0]) if row and row[0] is not None else math.inf


def _count(store: Store, table: str, source_id: int) -> int:
    row = first_row(store.connection.execute(
        f'SELECT count(*) FROM "{table}" WHERE source_id = ?',  # noqa: S608 - table name is ours
        [source_id],
    ))
    return int(row[0]) if row else 0
