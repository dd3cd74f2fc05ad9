"""Loading one CEL file in one transaction: only what is new since an earlier load of the same
content, bad rows quarantined, the calls the new events touch rebuilt."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from callkpi.config import Settings
from callkpi.ingest.base import (
    ImportReport,
    ImportStart,
    LineIssue,
    Plausible,
    gap_reason,
    line_outcomes,
    note_growth,
    outlying_lines,
    quarantine_rows,
    read_chunks,
    record_source,
    start_import,
)
from callkpi.ingest.cdr.driver import chunk_is_complete, first_record
from callkpi.ingest.cel import building, reader
from callkpi.ingest.cel.staging import Clock, Staged, add_row, check_row, store_staged
from callkpi.ingest.refresh import after_calls_changed
from callkpi.model.working_tables import CDR_AFFECTED
from callkpi.storage import Store, first_row

Progress = Callable[[int], None]
SOURCE = building.SOURCE


def load(store: Store, path: Path, settings: Settings, *, fmt: str, timezone: str,
         progress: Progress | None = None) -> ImportReport:
    report = ImportReport(path=str(path), format=fmt)
    start = start_import(store, path, report)
    if start is None:
        return report
    note_growth(report, start)
    columns, has_header = _columns(path, fmt)
    bounds = Plausible.of(settings)
    clock = Clock(timezone, bounds)
    with store.transaction() as con:
        store.create_working_table(CDR_AFFECTED, empty=True)
        _forget_from(store, start)
        bytes_loaded, lines_read, read_to = start.start_offset, start.first_line - 1, start.start_offset
        for chunk in read_chunks(path, start.start_offset, start.first_line):
            staged = Staged()
            for line_no, raw, fields, issue in reader.rows_of_chunk(chunk, columns, has_header=has_header):
                report.lines_read += 1
                when, reason = (None, issue) if fields is None else check_row(fields, clock)
                if reason is not None or fields is None or when is None:
                    staged.issues.append(LineIssue(line_no, raw, reason or "unreadable"))
                else:
                    add_row(staged, line_no, raw, fields, when)
            store_staged(store, staged, source_id=start.source_id, path=path)
            read_to = chunk.end_offset
            if chunk.lines and chunk_is_complete(chunk, path):
                bytes_loaded, lines_read = chunk.end_offset, chunk.first_line_no + len(chunk.lines) - 1
            if progress:
                progress(chunk.end_offset)
        _quarantine_outlying(store, path, start, bounds)
        con.execute("INSERT INTO cdr_affected SELECT DISTINCT linkedid FROM cel_events "
                    "WHERE source_id = ? AND line_no >= ?", [start.source_id, start.first_line])
        building.rebuild(store, settings)
        after_calls_changed(store, settings)
        _fill_report(store, report, start)
        record_source(store, path=path, fmt=fmt, source_id=start.source_id, known=start.known,
                      bytes_loaded=bytes_loaded, lines_read=lines_read,
                      lines_loaded=_count(store, start.source_id), report=report, timezone=timezone,
                      read_to=read_to)
    return report


def _columns(path: Path, fmt: str) -> tuple[tuple[str, ...] | None, bool]:
    cells = first_record(path) or []
    if fmt == reader.FORMAT_TABLE:
        return reader.header_columns(cells), True
    return reader.layout_of(cells), False


def _forget_from(store: Store, start: ImportStart) -> None:
    """A grown file is read again from its first new line: what an earlier load kept of those lines
    (an unterminated last line) goes first."""
    con = store.connection
    con.execute("INSERT INTO cdr_affected SELECT DISTINCT linkedid FROM cel_events WHERE source_id = ? "
                "AND line_no >= ?", [start.source_id, start.first_line])
    con.execute("DELETE FROM cel_events WHERE source_id = ? AND line_no >= ?", [start.source_id, start.first_line])
    con.execute("DELETE FROM quarantine WHERE source_id = ? AND line_no >= ?", [start.source_id, start.first_line])


def _quarantine_outlying(store: Store, path: Path, start: ImportStart, bounds: Plausible) -> None:
    """Rule ingest.max_gap_days: events far from the rest of their file go to the quarantine."""
    times = "SELECT line_no, epoch(event_utc) AS ts, true AS movable FROM cel_events WHERE source_id = $source_id"
    outliers = outlying_lines(store, times, {"source_id": start.source_id}, start.first_line, bounds.max_gap_s)
    if not outliers:
        return
    lines = [line for line, _ts in outliers]
    con = store.connection
    raws = dict(con.execute("SELECT line_no, concat_ws(',', eventtype, event_utc, channame, uniqueid, linkedid) "
                            "FROM cel_events WHERE source_id = ? AND list_contains(?, line_no)",
                            [start.source_id, lines]).fetchall())
    con.execute("DELETE FROM cel_events WHERE source_id = ? AND list_contains(?, line_no)", [start.source_id, lines])
    issues = [LineIssue(line, str(raws.get(line, "")), gap_reason(ts, bounds.max_gap_s)) for line, ts in outliers]
    quarantine_rows(store, start.source_id, path, issues)


def _count(store: Store, source_id: int) -> int:
    row = first_row(store.connection.execute("SELECT count(*) FROM cel_events WHERE source_id = ?", [source_id]))
    return int(row[0]) if row else 0


def _fill_report(store: Store, report: ImportReport, start: ImportStart) -> None:
    con = store.connection
    row = first_row(con.execute("SELECT count(*) FROM cel_events WHERE source_id = ? AND line_no >= ?",
                                [start.source_id, start.first_line]))
    report.lines_loaded = int(row[0]) if row else 0
    report.issues, report.duplicates = line_outcomes(store, start.source_id, start.first_line)
    report.quarantined = len(report.issues)
    if report.duplicates:
        report.messages.append(f"{report.duplicates} row(s) repeat CEL events already loaded; counted once")
    calls = first_row(con.execute("SELECT count(*) FROM calls WHERE source = ?", [SOURCE]))
    report.calls = int(calls[0]) if calls else 0
    bounds = first_row(con.execute("SELECT min(event_utc), max(event_utc) FROM cel_events WHERE source_id = ?",
                                   [start.source_id]))
    if bounds:
        report.first_utc, report.last_utc = bounds
    merged = first_row(con.execute(
        "SELECT count(DISTINCT c.call_id) FROM calls c WHERE c.source IN ('queue_log') AND c.call_id IN "
        "(SELECT linkedid FROM cel_events WHERE source_id = ?)", [start.source_id]))
    if merged and merged[0]:
        report.messages.append(f"{merged[0]} call(s) are also in the loaded queue_log: merged into those calls "
                               "(see `callkpi findings` for differences)")
