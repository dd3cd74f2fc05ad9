"""CDR-type records (Asterisk CDR, FreeSWITCH CDR, cloud-PBX call exports) -> the canonical model.

Every CDR loader turns its file into the same staged record (one row per CDR line: times as
text, durations, disposition, numbers, channels) and hands it to :func:`load_records`, which
checks the rows in bulk in DuckDB (times parsed in the file's zone, bad rows quarantined with a
reason), keeps them in ``cdr_records`` and rebuilds the calls they touch. Rules (docs/formats.md
explains each with an example):

- One call per ``call_key`` (Asterisk linkedid, else uniqueid; FreeSWITCH a-leg uuid; the
  export's call id). Rows repeated in any file count once (``dedupe_key``).
- Direction comes from the originating leg: a trunk channel (or, when the channel is not a
  phone, a trunk context) means inbound; else a leg to a trunk, or a dialled external number,
  means outbound; else internal (settings ``[cdr.direction]``).
- Inbound: every ring of an extension is an agent leg (rows of one channel instance are one leg;
  Local channels that were expanded are routing, not legs). The call is answered when any agent
  leg was answered; the first to answer is the agent. A leg that stopped ringing the moment
  another answered is ``canceled`` (ring groups), not a no-answer. Without a queue the call gets
  one queue leg with queue NULL, so offered/ASA/service level work for direct calls.
- Outbound: each dial attempt to a trunk is an agent leg of the calling extension.
- Internal calls get no agent legs (calls_handled counts customer calls only).
- A CDR call whose id is already a queue_log call is merged into it (see
  :func:`_merge_with_queue_log`); differences are data-quality findings.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from callkpi import phone
from callkpi.config import DirectionRules, Settings
from callkpi.ingest import derive, queue_log_model
from callkpi.ingest.base import (
    FileChunk,
    ImportReport,
    ImportStart,
    LineIssue,
    Plausible,
    decode_line,
    gap_reason,
    note_growth,
    outlying_lines,
    quarantine_rows,
    raw_text_of_lines,
    read_chunks,
    record_source,
    split_lines,
    start_import,
)
from callkpi.ingest.refresh import after_calls_changed
from callkpi.metrics import rollup
from callkpi.storage import Store, first_row

Progress = Callable[[int], None]

STAGED_FIELDS = (
    "call_key", "leg_key", "peer_leg_key", "sequence", "start", "answer", "end", "duration", "billsec",
    "disposition", "outcome", "src", "dst", "clid", "dcontext", "channel", "dstchannel", "lastapp",
    "lastdata", "did", "trunk", "recording", "queue", "queue_wait", "queue_exit", "campaign", "agent",
    "direction", "hold", "extra", "dedupe_key",
)
OUTCOMES = ("answered", "no_answer", "busy", "failed")
DIRECTIONS = ("inbound", "outbound", "internal")
EMPTY_VALUES = frozenset({"", "NULL", "\\N", "null", "None"})
HEAD_SCAN_BYTES = 65536
LOST_RACE_CAUSES = frozenset({"LOSE_RACE", "PICKED_OFF"})
SAME_MOMENT_S = 1.0  # a ring that ends within this of another leg's answer was cancelled by it


# -- staging ---------------------------------------------------------------------------------


def clean(value: object) -> str | None:
    """Text of a cell, or None for the ways exports write 'nothing' (empty, NULL, \\N)."""
    if value is None:
        return None
    text = str(value).strip()
    return None if text in EMPTY_VALUES else text


@dataclass
class StagedRows:
    """CDR rows of one chunk, as text, in the shape :func:`load_records` checks and stores. Rows
    are added one by one (:meth:`add`) or a column at a time (:meth:`add_columns`, for big files);
    cells are trimmed and emptied of NULL/\\N in bulk when the chunk is handed over."""

    line_no: list[int] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    issue: list[str | None] = field(default_factory=list)
    values: dict[str, list[Any]] = field(default_factory=lambda: {f: [] for f in STAGED_FIELDS})

    def add(self, line_no: int, raw: str, record: dict[str, Any] | None, issue: str | None = None) -> None:
        self.line_no.append(line_no)
        self.raw.append(raw)
        self.issue.append(issue)
        record = record or {}
        for name, column in self.values.items():
            value = record.get(name)
            column.append(None if value is None else str(value))

    def add_columns(self, line_no: list[int], raw: list[str], columns: dict[str, list[Any]]) -> None:
        """Rows without issues given as columns (each as long as ``line_no``); unnamed fields are empty."""
        count = len(line_no)
        self.line_no.extend(line_no)
        self.raw.extend(raw)
        self.issue.extend([None] * count)
        for name, column in self.values.items():
            given = columns.get(name)
            column.extend(given if given is not None else [None] * count)

    def __len__(self) -> int:
        return len(self.line_no)

    def to_arrow(self) -> pa.Table:
        columns = {
            "line_no": pa.array(self.line_no, pa.int64()),
            "raw": pa.array(self.raw, pa.string()),
            "issue": pa.array(self.issue, pa.string()),
        }
        columns.update({name: _cleaned(values) for name, values in self.values.items()})
        return pa.table(columns)


def _cleaned(values: list[Any]) -> pa.Array:
    """Trimmed text, NULL for the ways exports write 'nothing' (empty, NULL, \\N)."""
    array = pc.utf8_trim_whitespace(pa.array([None if v is None else str(v) for v in values], pa.string()))
    return pc.if_else(pc.is_in(array, value_set=_EMPTY_SET), pa.scalar(None, pa.string()), array)


_EMPTY_SET = pa.array(sorted(EMPTY_VALUES), pa.string())


@dataclass(frozen=True)
class Batch:
    rows: StagedRows
    end_offset: int  # file offset after the last line of the batch
    last_line_no: int
    complete: bool  # False when the batch ends with an unterminated line (file still written)


@dataclass(frozen=True)
class TimeFormats:
    """strptime formats, tried in order, for text starting with a 4-digit year, for dates with a
    2-digit year (``24/08/17``) and for dates with a 4-digit year at the end (``1/9/2017``).
    DuckDB's ``%Y`` also reads two digits, so the three are told apart by the text's shape."""

    year_first: list[str]
    short_year: list[str]
    long_year: list[str]

    def params(self) -> dict[str, list[str]]:
        return {"year_first": self.year_first, "short_year": self.short_year, "long_year": self.long_year}


def time_formats(dayfirst: bool, extra: Iterable[str] = ()) -> TimeFormats:
    """The formats of :class:`TimeFormats`; d/m or m/d for slashed dates is the setting, not a guess."""
    year_first = [
        "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f",
        "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d%H%M%S",
        "%Y-%m-%d", "%Y/%m/%d",
    ]
    day_first = ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d/%m/%Y"]
    slashed = day_first if dayfirst else [_swap_day_month(f) for f in day_first]
    long_year = [*slashed, "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"]
    short_year = [f.replace("%Y", "%y") for f in long_year]
    extra = list(extra)
    return TimeFormats([*extra, *year_first], [*extra, *short_year], [*extra, *long_year])


def _swap_day_month(fmt: str) -> str:
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


OFFSET_FORMATS = [
    "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S.%f%z",
    "%Y-%m-%d %H:%M:%S %z", "%a, %d %b %Y %H:%M:%S %z",
]


def _time_sql(column: str) -> str:
    """SQL turning a staged time text into UTC: epoch seconds or ms, a stamp with an offset, or a
    local stamp read in ``$tz`` with the :class:`TimeFormats` lists. NULL when it is none
    of these, or when the year is not plausible for a phone record (a misread date)."""
    x = f"trim({column})"
    with_offset = f"regexp_replace(regexp_replace({x}, 'Z$', '+0000'), '\\s*(UTC|GMT)$', ' +0000')"
    return f"""(CASE
        WHEN {column} IS NULL THEN NULL
        WHEN regexp_full_match({x}, '0+(\\.0+)?') THEN NULL
        WHEN regexp_full_match({x}, '\\d{{9,11}}(\\.\\d+)?') THEN make_timestamp(CAST({x}::DOUBLE * 1000000 AS BIGINT))
        WHEN regexp_full_match({x}, '\\d{{12,13}}') THEN make_timestamp({x}::BIGINT * 1000)
        WHEN regexp_matches({x}, '(Z|[+-]\\d{{2}}:?\\d{{2}}|\\s(UTC|GMT))$')
            THEN (try_strptime({with_offset}, $offset_formats) AT TIME ZONE 'UTC')
        ELSE (timezone($tz, CASE
            WHEN regexp_matches({x}, '^\\d{{4}}') THEN try_strptime({x}, $year_first)
            WHEN regexp_matches({x}, '^\\d{{1,2}}[-/.]\\d{{1,2}}[-/.]\\d{{2}}(\\s|T|$)')
                THEN try_strptime({x}, $short_year)
            ELSE try_strptime({x}, $long_year) END) AT TIME ZONE 'UTC') END)"""


def _plausible(column: str) -> str:
    """A parsed time, or NULL when it lies outside the plausible window of ``[ingest]`` (a date read the
    wrong way, or a clock far off): ``$earliest`` .. ``$latest``, epoch seconds."""
    return f"(CASE WHEN epoch({column}) BETWEEN $earliest AND $latest THEN {column} END)"


def _in_range(column: str) -> str:
    """True unless a duration in seconds is a number that cannot be one: not finite, or over ``$max_s``."""
    return f"coalesce({column} BETWEEN 0 AND $max_s, {column} IS NULL)"


def _number_sql(column: str) -> str:
    return f"TRY_CAST(replace(trim({column}), ',', '.') AS DOUBLE)"


def _reason_sql() -> str:
    """Why a staged CDR row cannot be loaded, or NULL."""
    zero = "regexp_matches(coalesce(start, ''), '^0{2,4}[-/.]0{2}[-/.]0{2,4}')"
    return f"""(CASE
        WHEN issue IS NOT NULL THEN issue
        WHEN raw LIKE '%' || chr(0) || '%' THEN 'not text: binary data'
        WHEN start IS NULL THEN 'no start time'
        WHEN {zero} THEN format('start time ''{{}}'' is a zero date', start)
        WHEN start_utc IS NULL AND start_any IS NOT NULL
            THEN format('start time ''{{}}'' is outside the plausible window {{}}', start, $window)
        WHEN start_utc IS NULL THEN format('start time ''{{}}'' is not a date-time this loader reads '
            || '(slashed dates are read {{}} as set by cdr.dayfirst)', start, $order)
        WHEN duration IS NOT NULL AND duration_s IS NULL THEN format('duration ''{{}}'' is not a number', duration)
        WHEN billsec IS NOT NULL AND billsec_s IS NULL THEN format('billsec ''{{}}'' is not a number', billsec)
        WHEN duration_s < 0 OR billsec_s < 0 THEN 'negative duration'
        WHEN NOT ({_in_range("duration_s")} AND {_in_range("billsec_s")} AND {_in_range("queue_wait_s")}
                  AND {_in_range("hold_s")})
            THEN format('a duration ({{}}, {{}}, {{}}, {{}}) is out of range: not 0 .. {{}} s (ingest.max_duration_s)',
                coalesce(duration, '-'), coalesce(billsec, '-'), coalesce(queue_wait, '-'), coalesce(hold, '-'), $max_s)
        WHEN outcome IS NULL OR outcome NOT IN {_in(OUTCOMES)}
            THEN format('disposition ''{{}}'' is not one this format knows', coalesce(disposition, ''))
        WHEN direction IS NOT NULL AND direction NOT IN {_in(DIRECTIONS)}
            THEN format('direction ''{{}}'' is not inbound, outbound or internal', direction)
        ELSE NULL END)"""


def _in(values: Iterable[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _stage(store: Store, rows: StagedRows, *, source: str, source_id: int, path: Path, timezone: str,
           formats: TimeFormats, dayfirst: bool, bounds: Plausible) -> None:
    """Check one chunk in bulk: quarantine what cannot load, store the rest in ``cdr_records``."""
    if not len(rows):
        return
    con = store.connection
    con.register("cdr_stage_arrow", rows.to_arrow())
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE cdr_stage AS
            WITH parsed AS (
                SELECT *, {_time_sql("start")} AS start_any, {_time_sql("answer")} AS answer_any,
                    {_time_sql('"end"')} AS end_any
                FROM cdr_stage_arrow
            ), t AS (
                SELECT * EXCLUDE (answer_any, end_any),
                    {_plausible("start_any")} AS start_utc, {_plausible("answer_any")} AS answer_at,
                    {_plausible("end_any")} AS end_at, {_number_sql("duration")} AS duration_n,
                    {_number_sql("billsec")} AS billsec_s, {_number_sql("queue_wait")} AS queue_wait_s,
                    {_number_sql("hold")} AS hold_s,
                    NOT regexp_matches(coalesce(start, ''), '\\d:\\d{{2}}:\\d{{2}}|^\\d{{9,13}}(\\.\\d+)?$')
                        AS minute_precision
                FROM parsed
            )
            SELECT *, coalesce(duration_n, epoch(end_at) - epoch(start_utc), billsec_s) AS duration_s FROM t
            """,  # noqa: S608 - fixed expressions of this module, values are bound
            {"tz": timezone, **formats.params(), "offset_formats": OFFSET_FORMATS, "earliest": bounds.earliest_epoch,
             "latest": bounds.latest_epoch},
        )
    finally:
        con.unregister("cdr_stage_arrow")
    order = "day-first (d/m/y)" if dayfirst else "month-first (m/d/y)"
    con.execute(
        f"""
        INSERT INTO quarantine
        SELECT $source_id, $path, line_no, raw, reason, now()::TIMESTAMP
        FROM (SELECT line_no, raw, {_reason_sql()} AS reason FROM cdr_stage) WHERE reason IS NOT NULL
        """,  # noqa: S608 - fixed expressions of this module, values are bound
        {"source_id": source_id, "path": str(path), "order": order, "max_s": bounds.max_duration_s,
         "window": bounds.window_text()},
    )
    con.execute(
        f"""
        INSERT INTO cdr_records
        SELECT $source_id, line_no, $source, row_key,
            coalesce(call_key, leg_key, 'row:' || row_key),  -- no ids: every row is a call, nothing guessed
            leg_key, peer_leg_key, TRY_CAST(sequence AS BIGINT),
            start_utc,
            CASE WHEN outcome = 'answered' THEN
                CASE WHEN answer_at IS NOT NULL AND NOT minute_precision THEN answer_at
                     WHEN billsec_s IS NOT NULL AND duration_s IS NOT NULL
                         THEN start_utc + to_microseconds(CAST((duration_s - billsec_s) * 1000000 AS BIGINT))
                     ELSE coalesce(answer_at, start_utc) END END,
            CASE WHEN end_at IS NOT NULL AND NOT minute_precision THEN end_at
                 WHEN duration_s IS NOT NULL THEN start_utc + to_microseconds(CAST(duration_s * 1000000 AS BIGINT))
                 ELSE end_at END,
            duration_s, billsec_s, minute_precision, disposition, outcome,
            src, dst, clid, dcontext, channel, dstchannel, lastapp, lastdata, did, trunk, recording,
            queue, queue_wait_s, queue_exit, campaign, agent, direction, hold_s, extra
        FROM (
            SELECT *, coalesce(dedupe_key,
                -- without an id and with times to the minute or day, equal rows can be different calls
                CASE WHEN call_key IS NULL AND leg_key IS NULL AND minute_precision
                     THEN md5(concat_ws('|', 'row', $source_id, line_no)) END,
                md5(concat_ws('|', call_key, leg_key, sequence, start_utc, channel, dstchannel, src, dst,
                    disposition, duration_s, billsec_s, lastapp, lastdata))) AS row_key
            FROM cdr_stage WHERE {_reason_sql()} IS NULL
        )
        """,  # noqa: S608 - fixed expressions of this module, values are bound
        {"source_id": source_id, "source": source, "order": order, "max_s": bounds.max_duration_s,
         "window": bounds.window_text()},
    )
    _mark_affected(store, source_id)


def _mark_affected(store: Store, source_id: int) -> None:
    store.connection.execute(
        "INSERT INTO cdr_affected SELECT DISTINCT r.call_key FROM cdr_records r "
        "JOIN cdr_stage s ON r.source_id = ? AND r.line_no = s.line_no",
        [source_id],
    )


# -- the file driver -------------------------------------------------------------------------


BatchReader = Callable[[int, int], Iterator[Batch]]


def load_records(
    store: Store,
    path: Path,
    settings: Settings,
    *,
    fmt: str,
    source: str,
    timezone: str,
    read_batches: BatchReader,
    progress: Progress | None = None,
    dayfirst: bool | None = None,
    extra_formats: Iterable[str] = (),
) -> ImportReport:
    """Load one CDR-type file (only what is new since an earlier load of the same content)."""
    report = ImportReport(path=str(path), format=fmt)
    start = start_import(store, path, report)
    if start is None:
        return report
    note_growth(report, start)
    source_id, known, start_offset, first_line = start.source_id, start.known, start.start_offset, start.first_line
    day_first = settings.cdr.dayfirst if dayfirst is None else dayfirst
    formats = time_formats(day_first, extra_formats)
    with store.transaction() as con:
        con.execute("CREATE OR REPLACE TEMP TABLE cdr_affected (call_key VARCHAR)")
        con.execute("INSERT INTO cdr_affected SELECT DISTINCT call_key FROM cdr_records "
                    "WHERE source_id = ? AND line_no >= ?", [source_id, first_line])
        con.execute("DELETE FROM cdr_records WHERE source_id = ? AND line_no >= ?", [source_id, first_line])
        con.execute("DELETE FROM quarantine WHERE source_id = ? AND line_no >= ?", [source_id, first_line])
        bytes_loaded, lines_read = start_offset, first_line - 1
        bounds = Plausible.of(settings)
        read_to = bytes_loaded
        for batch in read_batches(start_offset, first_line):
            _stage(store, batch.rows, source=source, source_id=source_id, path=path, timezone=timezone,
                   formats=formats, dayfirst=day_first, bounds=bounds)
            report.lines_read += len(batch.rows)
            read_to = batch.end_offset
            if batch.complete:
                bytes_loaded, lines_read = batch.end_offset, batch.last_line_no
            if progress:
                progress(batch.end_offset)
        _quarantine_outlying_starts(store, path, start, bounds)
        rebuild(store, settings, source)
        after_calls_changed(store, settings)
        _file_findings(store, source, source_id, path, timezone)
        _fill_report(store, report, source, source_id, first_line)
        record_source(
            store, path=path, fmt=fmt, source_id=source_id, known=known, bytes_loaded=bytes_loaded,
            lines_read=lines_read, lines_loaded=_count_records(store, source_id), report=report,
            timezone=timezone, read_to=read_to,
        )
    return report


def _quarantine_outlying_starts(store: Store, path: Path, start: ImportStart, bounds: Plausible) -> None:
    """Rule ingest.max_gap_days: rows whose start lies far from the rest of the file go to the quarantine."""
    times = ("SELECT line_no, epoch(start_utc) AS ts, true AS movable FROM cdr_records "
             "WHERE source_id = $source_id")
    outliers = outlying_lines(store, times, {"source_id": start.source_id}, start.first_line, bounds.max_gap_s)
    if not outliers:
        return
    lines = [line for line, _ts in outliers]
    raw = raw_text_of_lines(path, set(lines), start.start_offset, start.first_line)
    issues = [LineIssue(line, raw.get(line, ""), gap_reason(ts, bounds.max_gap_s)) for line, ts in outliers]
    con = store.connection
    con.execute("INSERT INTO cdr_affected SELECT DISTINCT call_key FROM cdr_records "
                "WHERE source_id = ? AND list_contains(?, line_no)", [start.source_id, lines])
    con.execute("DELETE FROM cdr_records WHERE source_id = ? AND list_contains(?, line_no)", [start.source_id, lines])
    quarantine_rows(store, start.source_id, path, issues)


def chunk_is_complete(chunk: FileChunk, path: Path) -> bool:
    """False for the last, unterminated line of a file that may still be written."""
    if chunk.end_offset < path.stat().st_size:
        return True
    with path.open("rb") as handle:
        handle.seek(max(chunk.end_offset - 1, 0))
        tail = handle.read(1)
    return tail in (b"\n", b"\r") or not chunk.raw_lines[-1]


def csv_records(chunk: FileChunk, delimiter: str = ",") -> Iterator[tuple[int, str, list[str]]]:
    """(line number, raw text, cells) of each non-blank CSV record of a chunk; a quoted field may
    span lines, the record is numbered by its first line."""
    reader = csv.reader(io.StringIO("\n".join(chunk.lines)), delimiter=delimiter)
    consumed = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raw = "\n".join(chunk.lines[consumed:reader.line_num])
            yield chunk.first_line_no + consumed, raw, [f"\0csv error: {exc}"]
            consumed = reader.line_num
            continue
        first, consumed = consumed, reader.line_num
        if any(cell.strip() for cell in cells):
            yield chunk.first_line_no + first, "\n".join(chunk.lines[first:consumed]), cells


def csv_error(cells: list[str]) -> str | None:
    """The reason :func:`csv_records` could not split a record, if it could not."""
    if len(cells) == 1 and cells[0].startswith("\0csv error: "):
        return "not valid CSV: " + cells[0].removeprefix("\0csv error: ")
    return None


def chunk_batches(path: Path, start_offset: int, first_line: int,
                  stage_chunk: Callable[[FileChunk], StagedRows]) -> Iterator[Batch]:
    """Batches of a line-oriented file: each chunk staged by ``stage_chunk``."""
    for chunk in read_chunks(path, start_offset, first_line):
        rows = stage_chunk(chunk)
        last = chunk.first_line_no + len(chunk.lines) - 1
        yield Batch(rows, chunk.end_offset, last, bool(chunk.lines) and chunk_is_complete(chunk, path))


def first_record(path: Path, delimiter: str = ",") -> list[str] | None:
    """The cells of the file's first non-blank record (the header, or the row a layout is read from)."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_SCAN_BYTES)
    lines, rest = split_lines(head.removeprefix(b"\xef\xbb\xbf"))
    raw_lines = [*lines, rest] if rest else lines
    chunk = FileChunk([decode_line(raw) for raw in raw_lines], raw_lines, 1, len(head))
    return next((cells for _line_no, _raw, cells in csv_records(chunk, delimiter)), None)


def _count_records(store: Store, source_id: int) -> int:
    row = first_row(store.connection.execute("SELECT count(*) FROM cdr_records WHERE source_id = ?", [source_id]))
    return int(row[0]) if row else 0


def _fill_report(store: Store, report: ImportReport, source: str, source_id: int, first_line: int) -> None:
    con = store.connection
    loaded = first_row(con.execute(
        "SELECT count(*) FROM cdr_records WHERE source_id = ? AND line_no >= ?", [source_id, first_line]))
    quarantined = con.execute(
        "SELECT line_no, raw, reason FROM quarantine WHERE source_id = ? AND line_no >= ? ORDER BY line_no",
        [source_id, first_line],
    ).fetchall()
    report.lines_loaded = int(loaded[0]) if loaded else 0
    report.quarantined = len(quarantined)
    report.issues = [LineIssue(int(n), str(raw), str(reason)) for n, raw, reason in quarantined]
    calls = first_row(con.execute("SELECT count(*) FROM calls WHERE source = ?", [source]))
    report.calls = int(calls[0]) if calls else 0
    bounds = first_row(con.execute(
        "SELECT min(start_utc), max(start_utc) FROM cdr_records WHERE source_id = ?", [source_id]))
    if bounds:
        report.first_utc, report.last_utc = bounds
    duplicates = first_row(con.execute(
        "SELECT count(*) FROM cdr_records r WHERE source_id = ? AND EXISTS (SELECT 1 FROM cdr_records o "
        "WHERE o.source = r.source AND o.dedupe_key = r.dedupe_key "
        "AND (o.source_id < r.source_id OR (o.source_id = r.source_id AND o.line_no < r.line_no)))",
        [source_id],
    ))
    if duplicates and duplicates[0]:
        report.messages.append(f"{duplicates[0]} row(s) repeat rows already loaded; counted once")
    merged = first_row(con.execute(
        "SELECT count(DISTINCT c.call_id) FROM calls c JOIN cdr_records r ON r.call_key = c.call_id "
        "WHERE c.source = 'queue_log' AND r.source_id = ?", [source_id]))
    if merged and merged[0]:
        report.messages.append(
            f"{merged[0]} call(s) are also in the loaded queue_log: merged into those calls "
            "(see `callkpi findings` for differences)")


# -- file-level findings ---------------------------------------------------------------------


def _file_findings(store: Store, source: str, source_id: int, path: Path, timezone: str) -> None:
    con = store.connection
    con.execute("DELETE FROM data_quality WHERE source = ? AND call_id IS NULL AND starts_with(detail, ?)",
                [source, f"{path}: "])
    con.execute(
        """
        INSERT INTO data_quality
        SELECT $source, 'cdr_minute_precision', NULL, NULL, min(start_utc),
            $prefix || count(*) || ' row(s) have times without seconds (re-saved by a spreadsheet?); '
            || 'answer and end are taken from duration and billsec'
        FROM cdr_records WHERE source_id = $source_id AND minute_precision HAVING count(*) > 0
        UNION ALL
        SELECT $source, 'cdr_conflicting_duplicate', NULL, NULL, min(start_utc),
            $prefix || count(*) || ' leg id(s) appear more than once with different content; the first '
            || 'row of each is used: ' || string_agg(DISTINCT leg_key, ', ')
        FROM (SELECT leg_key, any_value(start_utc) AS start_utc FROM cdr_records
              WHERE source = $source AND starts_with(dedupe_key, 'id:') AND dedupe_key IN
                  (SELECT dedupe_key FROM cdr_records WHERE source_id = $source_id)
              GROUP BY leg_key
              HAVING count(DISTINCT concat_ws('|', disposition, outcome, start_utc, answer_utc, end_utc,
                                              billsec_s)) > 1)
        HAVING count(*) > 0
        """,
        {"source": source, "source_id": source_id, "prefix": f"{path}: "},
    )
    offset = first_row(con.execute(
        """
        SELECT median(epoch(start_utc) - TRY_CAST(regexp_extract(leg_key, '(\\d{9,11})\\.\\d+$', 1) AS BIGINT)),
            count(*)
        FROM cdr_records WHERE source_id = ? AND regexp_matches(leg_key, '\\d{9,11}\\.\\d+$')
        """,
        [source_id],
    ))
    if offset and offset[0] is not None and abs(float(offset[0])) >= 900:
        hours = float(offset[0]) / 3600
        con.execute(
            "INSERT INTO data_quality VALUES (?, 'cdr_clock_offset', NULL, NULL, NULL, ?)",
            [source, f"{path}: start times read in {timezone} are {hours:+.2f} h from the uniqueid clock of "
             f"{offset[1]} row(s); the file's times are probably in another zone: load it with the right --tz"],
        )


# -- building calls --------------------------------------------------------------------------


@dataclass(frozen=True)
class Device:
    name: str  # the channel instance, e.g. PJSIP/1125-00000016
    peer: str  # extension, peer or user part
    kind: str  # extension | trunk | local
    local_id: str | None = None  # Local/exten@ctx-0001 without ;1/;2
    trunk_name: str | None = None  # the trunk a trunk channel belongs to (peer, or FreeSWITCH gateway)


class Rules:
    """The direction rules of the settings, compiled."""

    _LOCAL = re.compile(r"^(?P<id>(?:Local|loopback)/(?P<exten>[^@;]*)(?:@[^;]*)?)(?:;(?P<side>\d))?$", re.I)
    _SOFIA_GATEWAY = re.compile(r"^sofia/gateway/(?P<gateway>[^/]+)/(?P<user>[^@/]+)", re.I)
    _SOFIA = re.compile(r"^sofia/[^/]+/(?P<user>[^@/]+)(?:@(?P<host>[^:;/]+))?", re.I)
    _OTHER = re.compile(r"^(?P<tech>[^/]+)/(?P<peer>[^/]+?)(?:-[0-9a-fA-F]{4,})?(?:/.*)?$")

    def __init__(self, rules: DirectionRules) -> None:
        self.extension = re.compile(rules.extension_pattern)
        self.trunk_contexts = _glob_regex(rules.trunk_contexts)
        self.trunk_channels = _glob_regex(rules.trunk_channels)
        self.external_min_digits = rules.external_min_digits
        self._devices: dict[str, Device | None] = {}

    def is_extension(self, number: str | None) -> bool:
        return bool(number) and self.extension.fullmatch(number.strip()) is not None

    def is_external(self, number: str | None) -> bool:
        if not number or number.strip().startswith(("*", "#")) or self.is_extension(number):
            return False
        return len(re.sub(r"\D", "", number)) >= self.external_min_digits

    def is_trunk_context(self, context: str | None) -> bool:
        return bool(context) and self.trunk_contexts is not None and self.trunk_contexts.fullmatch(context) is not None

    def device(self, channel: str | None) -> Device | None:
        if not channel:
            return None
        if channel not in self._devices:
            self._devices[channel] = self._parse_device(channel)
        return self._devices[channel]

    def _parse_device(self, channel: str) -> Device | None:
        local = self._LOCAL.match(channel)
        if local:
            return Device(channel, local["exten"], "local", local["id"])
        gateway = self._SOFIA_GATEWAY.match(channel)
        sofia = gateway or self._SOFIA.match(channel)
        match = sofia or self._OTHER.match(channel)
        if not match:
            return None
        peer = match["user"] if sofia else match["peer"]
        trunk_name = gateway["gateway"] if gateway else (sofia["host"] or peer) if sofia else peer
        if self.trunk_channels is not None and self.trunk_channels.fullmatch(channel):
            return Device(channel, peer, "trunk", trunk_name=trunk_name)
        kind = "extension" if self.is_extension(peer) else "trunk"
        return Device(channel, peer, kind, trunk_name=trunk_name if kind == "trunk" else None)


def _glob_regex(patterns: Iterable[str]) -> re.Pattern[str] | None:
    parts = [fnmatch.translate(p) for p in patterns if p]
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE) if parts else None


@dataclass
class Rec:
    """One stored CDR row, as the builder sees it."""

    line: tuple[int, int]
    call_key: str
    leg_key: str | None
    sequence: int | None
    start: datetime
    answer: datetime | None
    end: datetime | None
    billsec: float | None
    disposition: str | None
    outcome: str
    src: str | None
    dst: str | None
    clid: str | None
    dcontext: str | None
    channel: str | None
    dstchannel: str | None
    lastapp: str | None
    lastdata: str | None
    did: str | None
    trunk: str | None
    recording: str | None
    queue: str | None
    queue_wait_s: float | None
    queue_exit: str | None
    campaign: str | None
    agent: str | None
    direction: str | None
    hold_s: float | None

    @property
    def flat(self) -> bool:
        """A row of an export that names no channels: the row itself is the leg."""
        return not self.channel and not self.dstchannel

    @property
    def app(self) -> str:
        return (self.lastapp or "").lower()

    def queue_name(self) -> str | None:
        if self.queue:
            return self.queue
        if self.app == "queue" and self.lastdata:
            return re.split(r"[,|]", self.lastdata)[0].strip() or None
        return None

    @property
    def talk_s(self) -> float:
        if self.outcome != "answered":
            return 0.0
        if self.billsec is not None:
            return self.billsec
        return _seconds(self.answer, self.end) or 0.0


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


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return (b - a).total_seconds()


@dataclass
class AgentLeg:
    agent: str | None
    offer: datetime
    end: datetime | None
    outcome: str
    answer: datetime | None
    talk_s: float | None
    hold_s: float | None
    queue: str | None
    callee: str | None = None
    campaign: str | None = None
    from_queue_app: bool = False
    via_local: bool = False  # rang through a Local channel whose other side wrote no rows
    transferred: bool = False

    @property
    def ring_s(self) -> float | None:
        return _seconds(self.offer, self.answer if self.answer else self.end)


@dataclass
class BuiltCall:
    row: dict[str, Any]
    agent_legs: list[AgentLeg]
    queue_legs: list[dict[str, Any]]


class CallBuilder:
    """Turns the CDR rows of one call into its calls row, agent legs and queue legs."""

    def __init__(self, settings: Settings, source: str) -> None:
        self.rules = Rules(settings.cdr.direction)
        self.aliases = settings.agents.aliases
        self.source = source

    # -- parties ---------------------------------------------------------------------------
    def agent_id(self, raw: str | None, device: Device | None = None) -> str | None:
        if not raw:
            return None
        for key in (device.name if device else None, raw):
            if key and key in self.aliases:
                return self.aliases[key]
        return re.sub(r"^(sip:|client:|tel:)", "", raw.split("@")[0], flags=re.I) or None

    def origin(self, recs: list[Rec]) -> Rec:
        own = [r for r in recs if r.leg_key == r.call_key]
        return (own or recs)[0]

    def direction(self, recs: list[Rec], origin: Rec) -> str:
        explicit = origin.direction or next((r.direction for r in recs if r.direction), None)
        if explicit:
            return explicit
        caller = self.rules.device(origin.channel)
        if caller and caller.kind == "trunk":
            return "inbound"
        if (caller is None or caller.kind == "local") and self.rules.is_trunk_context(origin.dcontext):
            return "inbound"  # an extension dialling into a trunk context is someone testing a route
        if any((d := self.rules.device(r.dstchannel)) and d.kind == "trunk" for r in recs):
            return "outbound"
        if caller is None and self.rules.is_external(origin.src):
            return "inbound"
        return "outbound" if self.rules.is_external(origin.dst) else "internal"

    def dialled_number(self, rec: Rec, device: Device) -> str | None:
        """The number a trunk leg dialled: the Dial() target that went to this trunk, else dst."""
        targets = [t for t in re.split(r"[&,]", (rec.lastdata or "").split(",")[0]) if "/" in t]
        numbers = []
        for target in targets:
            tech_rest = target.split("/", 1)[1]
            if "@" in tech_rest and tech_rest.split("@", 1)[1].split("/")[0] == device.peer:
                numbers.append(tech_rest.split("@", 1)[0])
            elif tech_rest.startswith(device.peer + "/"):
                numbers.append(tech_rest.split("/", 1)[1])
        return numbers[0] if len(set(numbers)) == 1 else rec.dst

    # -- legs ------------------------------------------------------------------------------
    def inbound_legs(self, recs: list[Rec]) -> list[AgentLeg]:
        if all(r.flat for r in recs):
            return self._flat_legs(recs, "inbound")
        expanded = {d.local_id for r in recs if (d := self.rules.device(r.channel)) and d.kind == "local"
                    and (r.channel or "").endswith(";2")}
        groups: dict[str, list[tuple[Rec, Device]]] = {}
        for rec in recs:
            caller_side = self.rules.device(rec.channel)
            callee = self.rules.device(rec.dstchannel)
            if callee is None or (caller_side is not None and caller_side.kind == "extension"):
                continue  # app-only rows, and rows an extension placed (pickup, consultation)
            if caller_side is not None and caller_side.kind == "local" == callee.kind:
                continue  # one Local channel dialling another: plumbing of the dialplan
            if callee.kind == "local" and (callee.local_id in expanded or not self.rules.is_extension(callee.peer)):
                continue  # routing through a Local channel whose other side has its own rows
            key = callee.local_id if callee.kind == "local" else callee.name
            groups.setdefault(key or callee.name, []).append((rec, callee))
        legs = sorted((self._grouped_leg(group, "inbound") for group in groups.values()), key=lambda leg: leg.offer)
        return _collapse_local_hops(legs)

    def outbound_legs(self, recs: list[Rec], origin: Rec) -> list[AgentLeg]:
        caller = self.rules.device(origin.channel)
        agent = origin.agent or (caller.peer if caller and caller.kind == "extension" else None)
        if agent is None and self.rules.is_extension(origin.src):
            agent = origin.src
        groups: dict[str, list[tuple[Rec, Device]]] = {}
        for rec in recs:
            callee = self.rules.device(rec.dstchannel)
            if callee is not None and callee.kind == "trunk":
                groups.setdefault(callee.name, []).append((rec, callee))
        if not groups:
            return self._flat_legs([origin] if not origin.flat else recs, "outbound", agent)
        legs = []
        for group in groups.values():
            leg = self._grouped_leg(group, "outbound")
            leg.agent = self.agent_id(agent, caller)
            leg.callee = self.dialled_number(group[0][0], group[0][1])
            legs.append(leg)
        return sorted(legs, key=lambda leg: leg.offer)

    def _flat_legs(self, recs: list[Rec], direction: str, caller_agent: str | None = None) -> list[AgentLeg]:
        b_legs = [r for r in recs if r.leg_key and r.leg_key != r.call_key]
        legs = []
        for rec in b_legs or recs:
            if rec.agent:
                agent = rec.agent
            elif direction == "outbound":
                agent = caller_agent
            elif b_legs:
                agent = rec.dst if not self.rules.is_external(rec.dst) else None
            else:
                agent = rec.dst if self.rules.is_extension(rec.dst) else None
            legs.append(AgentLeg(
                self.agent_id(agent), rec.start, rec.end, rec.outcome, rec.answer,
                rec.talk_s if rec.outcome == "answered" else None, rec.hold_s, rec.queue_name(),
                callee=rec.dst if direction == "outbound" else None, campaign=rec.campaign,
            ))
        return legs

    def _grouped_leg(self, group: list[tuple[Rec, Device]], direction: str) -> AgentLeg:
        """Rows of one channel instance (a Local hop and the direct bridge after it) are one leg."""
        recs = [rec for rec, _ in group]
        device = group[0][1]
        answered = [r for r in recs if r.outcome == "answered"]
        ends = [r.end for r in recs if r.end]
        outcome = "answered" if answered else _worst_unanswered(r.outcome for r in recs)
        agent = None if direction == "outbound" else self.agent_id(
            device.peer if device.kind != "trunk" else self.dialled_number(recs[0], device), device)
        return AgentLeg(
            agent=agent,
            offer=min(r.start for r in recs),
            end=max(ends) if ends else None,
            outcome=outcome,
            answer=min(r.answer or r.start for r in answered) if answered else None,
            talk_s=sum(r.talk_s for r in answered) if answered else None,
            hold_s=_sum_or_none(r.hold_s for r in answered),
            queue=next((q for r in recs if (q := r.queue_name())), None),
            campaign=next((r.campaign for r in recs if r.campaign), None),
            from_queue_app=any(r.app == "queue" for r in recs),
            via_local=device.kind == "local",
        )

    # -- the call --------------------------------------------------------------------------
    def build(self, recs: list[Rec]) -> BuiltCall:
        origin = self.origin(recs)
        direction = self.direction(recs, origin)
        if direction == "inbound":
            legs = self.inbound_legs(recs)
        elif direction == "outbound":
            legs = self.outbound_legs(recs, origin)
        else:
            legs = []
        _mark_cancelled_and_transferred(legs)
        answered_legs = _answered_in_order(legs)
        row = self._call_row(recs, origin, direction, legs, answered_legs)
        queue_legs = self._queue_legs(recs, row, legs) if direction == "inbound" else []
        row["queue_legs"] = len(queue_legs)
        row["agent_legs"] = len(legs)
        if queue_legs:
            row["queue"] = queue_legs[0]["queue"]
        return BuiltCall(row, legs, queue_legs)

    def _call_row(self, recs: list[Rec], origin: Rec, direction: str, legs: list[AgentLeg],
                  answered_legs: list[AgentLeg]) -> dict[str, Any]:
        start = min(r.start for r in recs)
        ends = [r.end for r in recs if r.end]
        if direction == "internal":
            answered = any(r.outcome == "answered" for r in recs if r.dstchannel or r.flat) or (
                origin.outcome == "answered" and not any(r.dstchannel for r in recs))
        else:
            answered = bool(answered_legs)
        first_answer = answered_legs[0].answer if answered_legs else None
        caller_device = self.rules.device(origin.channel)
        return {
            "call_id": origin.call_key,
            "source": self.source,
            "direction": direction,
            "start_utc": start,
            "answer_utc": first_answer if direction != "internal" else _first_answer(recs),
            "end_utc": max(ends) if ends else None,
            "caller": origin.src or _clid_number(origin.clid),
            "callee": self._callee(origin, direction, legs),
            "did": next((r.did for r in recs if r.did), None) or (origin.dst if direction == "inbound" else None),
            "trunk": self._trunk(recs, origin, direction, caller_device),
            "agent": self._call_agent(direction, answered_legs, legs, origin, caller_device),
            "queue": None,
            "campaign": next((r.campaign for r in recs if r.campaign), None),
            "answered": answered,
            "outcome": "answered" if answered else self._unanswered_outcome(direction, legs, origin),
            "wait_s": _seconds(start, first_answer),
            "talk_s": _call_talk(direction, answered_legs, recs),
            "hold_s": _sum_or_none(leg.hold_s for leg in answered_legs) if legs else _sum_or_none(
                r.hold_s for r in recs if r.outcome == "answered"),
            "recording": next((r.recording for r in recs if r.recording), None),
        }

    def _callee(self, origin: Rec, direction: str, legs: list[AgentLeg]) -> str | None:
        if direction == "outbound":
            return next((leg.callee for leg in legs if leg.callee), None) or origin.dst
        return origin.dst

    def _trunk(self, recs: list[Rec], origin: Rec, direction: str, caller: Device | None) -> str | None:
        named = next((r.trunk for r in recs if r.trunk), None)
        if named:
            return named
        if direction == "inbound" and caller is not None and caller.kind == "trunk":
            return caller.trunk_name
        if direction == "outbound":
            for rec in recs:
                device = self.rules.device(rec.dstchannel)
                if device is not None and device.kind == "trunk":
                    return device.trunk_name
        return None

    def _call_agent(self, direction: str, answered_legs: list[AgentLeg], legs: list[AgentLeg], origin: Rec,
                    caller: Device | None) -> str | None:
        if direction == "inbound":
            return answered_legs[0].agent if answered_legs else None
        if legs:
            return legs[0].agent
        if caller is not None and caller.kind == "extension":
            return self.agent_id(caller.peer, caller)
        return self.agent_id(origin.agent or (origin.src if self.rules.is_extension(origin.src) else None))

    def _unanswered_outcome(self, direction: str, legs: list[AgentLeg], origin: Rec) -> str:
        if legs:
            return _worst_unanswered(leg.outcome for leg in legs)
        return origin.outcome if origin.outcome != "answered" and direction != "inbound" else "no_answer"

    def _queue_legs(self, recs: list[Rec], call: dict[str, Any], legs: list[AgentLeg]) -> list[dict[str, Any]]:
        names: list[str] = []
        for rec in recs:
            name = rec.queue_name()
            if name and name not in names:
                names.append(name)
        if not names:
            return [self._direct_leg(recs, call, legs)]  # a direct or ring-group call is offered once
        return [self._queue_leg(recs, call, legs, name, n) for n, name in enumerate(names, 1)]

    def _queue_leg(self, recs: list[Rec], call: dict[str, Any], legs: list[AgentLeg], name: str,
                   number: int) -> dict[str, Any]:
        in_queue = [r for r in recs if r.queue_name() == name]
        queue_legs = sorted((leg for leg in legs if leg.queue == name and leg.outcome == "answered"),
                            key=lambda leg: leg.answer or leg.offer)
        stated_wait = next((r.queue_wait_s for r in in_queue if r.queue_wait_s is not None), None)
        last_end = max((r.end for r in in_queue if r.end), default=None)
        if queue_legs:
            outcome, exit_point = "answered", queue_legs[0].answer
        else:
            in_queue_ids = {id(r) for r in in_queue}
            later = last_end is not None and any(r.start >= last_end for r in recs if id(r) not in in_queue_ids)
            reason = next((r.queue_exit for r in in_queue if r.queue_exit), None)
            outcome = "flowed_out" if later or _is_flow_out(reason) else "abandoned"
            exit_point = last_end
        enter = min(r.start for r in in_queue)
        if stated_wait is not None and exit_point is not None:
            enter = exit_point - timedelta(seconds=stated_wait)
        return self._queue_leg_row(call, number, name, enter, exit_point, outcome, queue_legs,
                                   stated_wait if stated_wait is not None else _seconds(enter, exit_point),
                                   exit_event="CDR" if not in_queue[0].queue_exit else in_queue[0].queue_exit)

    def _direct_leg(self, recs: list[Rec], call: dict[str, Any], legs: list[AgentLeg]) -> dict[str, Any]:
        answered = sorted((leg for leg in legs if leg.outcome == "answered"), key=lambda leg: leg.answer or leg.offer)
        voicemail = any(r.app in ("voicemail", "vm") for r in recs)
        if answered:
            outcome, exit_point = "answered", answered[0].answer
        else:
            outcome, exit_point = ("flowed_out" if voicemail else "abandoned"), call["end_utc"]
        event = "VOICEMAIL" if voicemail and not answered else "CDR"
        return self._queue_leg_row(call, 1, None, call["start_utc"], exit_point, outcome, answered,
                                   _seconds(call["start_utc"], exit_point), exit_event=event)

    def _queue_leg_row(self, call: dict[str, Any], number: int, queue: str | None, enter: datetime,
                       exit_point: datetime | None, outcome: str, answered: list[AgentLeg], wait: float | None,
                       *, exit_event: str) -> dict[str, Any]:
        return {
            "leg_id": f"{call['call_id']}#{number}",
            "call_id": call["call_id"],
            "leg_no": number,
            "source": self.source,
            "queue": queue,
            "enter_utc": enter,
            "end_utc": max((leg.end for leg in answered if leg.end), default=None) or exit_point,
            "outcome": outcome,
            "exit_event": exit_event,
            "wait_s": max(wait, 0.0) if wait is not None else None,
            "agent": answered[0].agent if answered else None,
            "talk_s": sum(leg.talk_s or 0.0 for leg in answered) if answered else None,
            "transferred": any(leg.transferred for leg in answered),
            "caller": call["caller"],
        }


def _collapse_local_hops(legs: list[AgentLeg]) -> list[AgentLeg]:
    """A Local channel 'answers' when the queue or ring group hands the call on; the talk is on the
    leg that starts the moment it ends. The same agent's hop and talk are one leg; a hop followed
    by another agent's talk (call pickup) was a ring the other agent took: cancelled."""
    kept: list[AgentLeg] = []
    for hop in legs:
        follower = next((leg for leg in legs if leg is not hop and hop.via_local and hop.outcome == "answered"
                         and leg.outcome == "answered" and hop.end is not None and leg.offer >= hop.offer
                         and abs((leg.offer - hop.end).total_seconds()) <= SAME_MOMENT_S), None)
        if follower is None:
            kept.append(hop)
        elif follower.agent == hop.agent:
            follower.offer = hop.offer
            follower.queue = follower.queue or hop.queue
            follower.from_queue_app = follower.from_queue_app or hop.from_queue_app
        else:
            hop.outcome, hop.answer, hop.talk_s, hop.hold_s = "canceled", None, None, None
            kept.append(hop)
    return kept


def _worst_unanswered(outcomes: Iterable[str]) -> str:
    found = set(outcomes)
    for outcome in ("no_answer", "canceled", "busy", "failed"):
        if outcome in found:
            return "no_answer" if outcome == "canceled" else outcome
    return "no_answer"


def _mark_cancelled_and_transferred(legs: list[AgentLeg]) -> None:
    answers = [(leg.answer, leg.agent) for leg in legs if leg.outcome == "answered" and leg.answer]
    for leg in legs:
        if leg.outcome == "no_answer" and leg.end is not None and any(
            abs((answer - leg.end).total_seconds()) <= SAME_MOMENT_S for answer, _ in answers
        ):
            leg.outcome = "canceled"
        if leg.outcome == "answered" and leg.answer is not None:
            leg.transferred = any(answer > leg.answer and agent != leg.agent for answer, agent in answers)


def _answered_in_order(legs: list[AgentLeg]) -> list[AgentLeg]:
    return sorted((leg for leg in legs if leg.outcome == "answered"), key=lambda leg: leg.answer or leg.offer)


def _first_answer(recs: list[Rec]) -> datetime | None:
    answers = [r.answer for r in recs if r.outcome == "answered" and r.answer]
    return min(answers) if answers else None


def _call_talk(direction: str, answered_legs: list[AgentLeg], recs: list[Rec]) -> float | None:
    if direction != "internal":
        return sum(leg.talk_s or 0.0 for leg in answered_legs) if answered_legs else None
    talks = [r.talk_s for r in recs if r.outcome == "answered"]
    return max(talks) if talks else None


def _sum_or_none(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _clid_number(clid: str | None) -> str | None:
    match = re.search(r"<([^>]*)>", clid or "")
    return (match[1].strip() or None) if match else None


def _is_flow_out(reason: str | None) -> bool:
    return (reason or "").upper() in ("TIMEOUT", "NO_AGENT_TIMEOUT", "BREAK_OUT", "EXITWITHTIMEOUT", "EXITEMPTY")


# -- writing the canonical rows --------------------------------------------------------------

_CALL_SCHEMA = pa.schema([
    ("call_id", pa.string()), ("source", pa.string()), ("direction", pa.string()),
    ("start_utc", pa.timestamp("us")), ("answer_utc", pa.timestamp("us")), ("end_utc", pa.timestamp("us")),
    ("caller", pa.string()), ("callee", pa.string()), ("did", pa.string()), ("trunk", pa.string()),
    ("agent", pa.string()), ("queue", pa.string()), ("campaign", pa.string()), ("answered", pa.bool_()),
    ("outcome", pa.string()), ("wait_s", pa.float64()), ("talk_s", pa.float64()), ("hold_s", pa.float64()),
    ("queue_legs", pa.int32()), ("agent_legs", pa.int32()), ("recording", pa.string()),
])
_QUEUE_LEG_SCHEMA = pa.schema([
    ("leg_id", pa.string()), ("call_id", pa.string()), ("leg_no", pa.int32()), ("source", pa.string()),
    ("queue", pa.string()), ("enter_utc", pa.timestamp("us")), ("end_utc", pa.timestamp("us")),
    ("outcome", pa.string()), ("exit_event", pa.string()), ("wait_s", pa.float64()), ("agent", pa.string()),
    ("talk_s", pa.float64()), ("transferred", pa.bool_()), ("caller", pa.string()),
])
_AGENT_LEG_SCHEMA = pa.schema([
    ("call_id", pa.string()), ("leg_id", pa.string()), ("source", pa.string()), ("agent", pa.string()),
    ("queue", pa.string()), ("direction", pa.string()), ("offer_utc", pa.timestamp("us")),
    ("outcome", pa.string()), ("ring_s", pa.float64()), ("answer_utc", pa.timestamp("us")),
    ("talk_s", pa.float64()), ("hold_s", pa.float64()), ("transferred", pa.bool_()), ("ended_by", pa.string()),
    ("callee", pa.string()), ("campaign", pa.string()), ("from_queue_app", pa.bool_()),
])


def rebuild(store: Store, settings: Settings, source: str) -> None:
    """Rebuild the calls of ``source`` listed in ``cdr_affected``, then agent time and call links."""
    _join_peer_legs(store, source)
    records = _drop_weak_duplicates(_records(store, source), store, source)
    builder = CallBuilder(settings, source)
    built = [builder.build(group) for group in _by_call(records) if not _only_lost_races(group)]
    _replace(store, settings, source, built)
    queue_log_model.rebuild_agent_time(store, source)
    derive.refresh_agents(store)
    derive.refresh_call_links(store)


def rebuild_all(store: Store, settings: Settings, source: str) -> None:
    """Rebuild every call of a source (after the direction rules or agent aliases changed)."""
    con = store.connection
    con.execute("CREATE OR REPLACE TEMP TABLE cdr_affected AS SELECT DISTINCT call_key FROM cdr_records "
                "WHERE source = ?", [source])
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


def _replace(store: Store, settings: Settings, source: str, built: list[BuiltCall]) -> None:
    con = store.connection
    rollup.mark_calls(store, "SELECT call_key FROM cdr_affected")
    derive.note_calls(store, "SELECT call_key FROM cdr_affected")
    for table in ("queue_legs", "agent_legs", "calls", "data_quality"):
        con.execute(
            f"DELETE FROM {table} WHERE source = ? AND call_id IN (SELECT call_key FROM cdr_affected)",  # noqa: S608
            [source],
        )
    queue_log_calls = _queue_log_calls(store, [b.row["call_id"] for b in built])
    queue_log_agents = _queue_log_agents(store, list(queue_log_calls))
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
    _merge_with_queue_log(store, settings, source, merged, queue_log_calls)


def _agent_leg_rows(item: BuiltCall, legs: list[AgentLeg], source: str) -> list[dict[str, Any]]:
    call = item.row
    queue_numbers = {leg["queue"]: leg["leg_no"] for leg in item.queue_legs}
    return [
        {
            "call_id": call["call_id"],
            "leg_id": f"{call['call_id']}#{queue_numbers.get(leg.queue, 1 if item.queue_legs else 0)}",
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
        con.execute(_INSERTS[table], phone.sql_params(settings.phone))
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
        INSERT INTO queue_legs
        SELECT leg_id, call_id, leg_no, source, queue, enter_utc, CAST(floor(epoch(enter_utc) / 900) AS BIGINT),
            end_utc, outcome, exit_event, wait_s, agent, talk_s, transferred, caller,
            {phone.sql_expression("caller")}, NULL
        FROM cdr_out
    """,  # noqa: S608 - fixed expressions, values bound
    "agent_legs": f"""
        INSERT INTO agent_legs
        SELECT call_id, leg_id, source, agent, queue, direction, offer_utc,
            CAST(floor(epoch(offer_utc) / 900) AS BIGINT), outcome, ring_s, answer_utc, talk_s, hold_s,
            transferred, ended_by, {phone.sql_expression("callee")}, campaign
        FROM cdr_out
    """,  # noqa: S608 - fixed expressions, values bound
}


# -- the same calls in queue_log and CDR -----------------------------------------------------


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


def _queue_log_calls(store: Store, call_ids: list[str]) -> dict[str, tuple]:
    rows = _rows_of_calls(store, call_ids, "SELECT call_id, answered, agent, talk_s, wait_s FROM calls "
                          "WHERE source = 'queue_log' AND call_id IN (SELECT call_id FROM cdr_ids)")
    return {row[0]: row[1:] for row in rows}


def _queue_log_agents(store: Store, call_ids: list[str]) -> dict[str, set[str]]:
    """The agents the queue_log has a leg of, per call."""
    rows = _rows_of_calls(store, call_ids, "SELECT call_id, agent FROM agent_legs WHERE source = 'queue_log' "
                          "AND agent IS NOT NULL AND call_id IN (SELECT call_id FROM cdr_ids)")
    agents: dict[str, set[str]] = {}
    for call_id, agent in rows:
        agents.setdefault(call_id, set()).add(agent)
    return agents


def _merge_with_queue_log(store: Store, settings: Settings, source: str, merged: list[BuiltCall],
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
    findings = [f for m in merged if (f := _disagreement(m, queue_log_calls[m.row["call_id"]]))]
    if findings:
        con.executemany(
            "INSERT INTO data_quality VALUES (?, 'cdr_vs_queue_log', ?, ?, ?, ?)",
            [(source, call_id, agent, when, detail) for call_id, agent, when, detail in findings],
        )


def _disagreement(item: BuiltCall, queue_log: tuple) -> tuple[str, str | None, datetime, str] | None:
    ql_answered, ql_agent, ql_talk, _ql_wait = queue_log
    row = item.row
    answered_agents = [leg.agent for leg in item.agent_legs if leg.outcome == "answered"]
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


def json_extra(values: dict[str, Any]) -> str | None:
    """Columns a mapping does not use, kept as JSON so nothing in the file is thrown away."""
    kept = {k: v for k, v in values.items() if clean(v) is not None}
    return json.dumps(kept, ensure_ascii=False, sort_keys=True) if kept else None


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
        con.execute(
            "CREATE OR REPLACE TEMP TABLE cdr_affected AS SELECT DISTINCT call_key FROM cdr_records "  # noqa: S608
            f"WHERE source = ? AND call_key IN (SELECT call_id FROM calls WHERE source = 'queue_log'){scope}",
            [source],
        )
        count = first_row(con.execute("SELECT count(*) FROM cdr_affected"))
        if count and count[0]:
            merged += int(count[0])
            rebuild(store, settings, source)
    return merged
