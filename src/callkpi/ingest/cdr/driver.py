"""The CDR file driver: reads a CDR file in chunks (resuming where the last load stopped), stages
its rows, records what the file gave and rebuilds the calls the rows touch, all in one transaction
(:func:`load_records`, which every CDR format module calls)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from callkpi.config import Settings
from callkpi.ingest.base import (
    FileChunk,
    ImportReport,
    ImportStart,
    LineIssue,
    Plausible,
    decode_line,
    gap_reason,
    note_clock_offset,
    note_growth,
    outlying_lines,
    quarantine_rows,
    raw_text_of_lines,
    read_chunks,
    record_source,
    split_lines,
    start_import,
)
from callkpi.ingest.cdr.findings import file_findings
from callkpi.ingest.cdr.rebuild import rebuild
from callkpi.ingest.cdr.staging import Batch, StagedRows, stage, time_formats
from callkpi.ingest.refresh import after_calls_changed
from callkpi.model.working_tables import CDR_AFFECTED
from callkpi.storage import Store, first_row

Progress = Callable[[int], None]
HEAD_SCAN_BYTES = 65536
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
        store.create_working_table(CDR_AFFECTED, empty=True)
        con.execute("INSERT INTO cdr_affected SELECT DISTINCT call_key FROM cdr_records "
                    "WHERE source_id = ? AND line_no >= ?", [source_id, first_line])
        con.execute("DELETE FROM cdr_records WHERE source_id = ? AND line_no >= ?", [source_id, first_line])
        con.execute("DELETE FROM quarantine WHERE source_id = ? AND line_no >= ?", [source_id, first_line])
        bytes_loaded, lines_read = start_offset, first_line - 1
        bounds = Plausible.of(settings)
        read_to = bytes_loaded
        for batch in read_batches(start_offset, first_line):
            stage(store, batch.rows, source=source, source_id=source_id, path=path, timezone=timezone,
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
        note_clock_offset(report, file_findings(store, source, source_id, path, timezone), timezone, source_id)
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
