"""Staging CDR rows: every CDR loader turns its file into the same staged record (one row per CDR
line: times as text, durations, disposition, numbers, channels); :func:`stage` checks the rows in
bulk in DuckDB (times parsed in the file's zone, bad rows quarantined with a reason), keeps them in
``cdr_records`` and notes the call keys whose calls must be rebuilt. Rows repeated in any file count
once (``dedupe_key``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from callkpi.ingest.base import Plausible
from callkpi.storage import Store

STAGED_FIELDS = (
    "call_key", "leg_key", "peer_leg_key", "sequence", "start", "answer", "end", "duration", "billsec",
    "disposition", "outcome", "src", "dst", "clid", "dcontext", "channel", "dstchannel", "lastapp",
    "lastdata", "did", "trunk", "recording", "queue", "queue_wait", "queue_exit", "campaign", "agent",
    "direction", "hold", "extra", "dedupe_key",
)


OUTCOMES = ("answered", "no_answer", "busy", "failed")
DIRECTIONS = ("inbound", "outbound", "internal")
EMPTY_VALUES = frozenset({"", "NULL", "\\N", "null", "None"})


def clean(value: object) -> str | None:
    """Text of a cell, or None for the ways exports write 'nothing' (empty, NULL, \\N)."""
    if value is None:
        return None
    text = str(value).strip()
    return None if text in EMPTY_VALUES else text


@dataclass
class StagedRows:
    """CDR rows of one chunk, as text, in the shape :func:`stage` checks and stores. Rows
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
    return pc.if_else(pc.is_in(array, value_set=_empty_set()), pa.scalar(None, pa.string()), array)


@functools.cache
def _empty_set() -> pa.Array:  # made on first use: building an array at import time imports pandas
    return pa.array(sorted(EMPTY_VALUES), pa.string())


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


def stage(store: Store, rows: StagedRows, *, source: str, source_id: int, path: Path, timezone: str,
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


def json_extra(values: dict[str, Any]) -> str | None:
    """Columns a mapping does not use, kept as JSON so nothing in the file is thrown away."""
    kept = {k: v for k, v in values.items() if clean(v) is not None}
    return json.dumps(kept, ensure_ascii=False, sort_keys=True) if kept else None
