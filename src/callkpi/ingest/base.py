"""What every importer shares: file identity, resumable reading, quarantine, reports.

A file is known by its content, not its name: the first bytes identify it and a hash of
everything loaded so far proves it is the same file. Loading a known file again adds nothing;
loading it after it grew reads only the new lines. Every import runs in one transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from callkpi.storage import Store, first_row

HEAD_BYTES = 4096
CHUNK_BYTES = 32 * 1024 * 1024


class ImportError_(Exception):
    """A whole file cannot be imported (unknown format, unreadable)."""


@dataclass(frozen=True)
class LineIssue:
    line_no: int
    raw: str
    reason: str


@dataclass
class ImportReport:
    path: str
    format: str
    status: str = "loaded"  # loaded | appended | unchanged | failed
    lines_read: int = 0
    lines_loaded: int = 0
    quarantined: int = 0
    calls: int = 0
    first_utc: datetime | None = None
    last_utc: datetime | None = None
    messages: list[str] = field(default_factory=list)
    issues: list[LineIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status != "failed" and self.quarantined == 0


@dataclass(frozen=True)
class KnownSource:
    source_id: int
    bytes_loaded: int
    lines_read: int
    format: str


@dataclass(frozen=True)
class FileChunk:
    """Complete lines of a file: ``text`` holds them, ``first_line_no`` numbers the first."""

    lines: list[str]
    raw_lines: list[bytes]
    first_line_no: int
    end_offset: int  # file offset just after the chunk's last line
    complete: bool = True  # False for a last line without newline: it may still be being written


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def sha256_prefix(path: Path, length: int) -> str:
    digest = hashlib.sha256()
    remaining = length
    with path.open("rb") as handle:
        while remaining > 0:
            block = handle.read(min(remaining, 1 << 20))
            if not block:
                break
            digest.update(block)
            remaining -= len(block)
    return digest.hexdigest()


def find_known_source(store: Store, path: Path) -> KnownSource | None:
    """The earlier load of this same content (the file may have grown since), if any."""
    size = path.stat().st_size
    rows = store.connection.execute(
        "SELECT source_id, head_len, head_sha256, prefix_sha256, bytes_loaded, lines_read, format "
        "FROM sources WHERE bytes_loaded <= ? ORDER BY source_id",
        [size],
    ).fetchall()
    head_hashes: dict[int, str] = {}
    for source_id, head_len, head_sha, prefix_sha, bytes_loaded, lines_read, fmt in rows:
        if head_len not in head_hashes:
            head_hashes[head_len] = sha256_prefix(path, head_len)
        if head_hashes[head_len] != head_sha:
            continue
        if sha256_prefix(path, bytes_loaded) == prefix_sha:
            return KnownSource(source_id, bytes_loaded, lines_read, fmt)
    return None


def next_source_id(store: Store) -> int:
    value = first_row(store.connection.execute("SELECT coalesce(max(source_id), 0) + 1 FROM sources"))
    return int(value[0]) if value else 1


@dataclass(frozen=True)
class ImportStart:
    """Where an import of a file begins: its source id and, for a file that grew, the first new line."""

    source_id: int
    known: KnownSource | None
    start_offset: int
    first_line: int


def start_import(store: Store, path: Path, report: ImportReport) -> ImportStart | None:
    """None when this very content was loaded before (the report then says so); else where to begin."""
    known = find_known_source(store, path)
    if known is not None and known.bytes_loaded == path.stat().st_size:
        report.status = "unchanged"
        report.messages.append("already loaded; nothing new")
        return None
    if known is None:
        return ImportStart(next_source_id(store), None, 0, 1)
    return ImportStart(known.source_id, known, known.bytes_loaded, known.lines_read + 1)


def note_growth(report: ImportReport, start: ImportStart) -> None:
    """Say that a known file grew and only its new lines are read."""
    if start.known is not None:
        report.status = "appended"
        report.messages.append(f"file grew since the last load; reading from line {start.first_line}")


def split_lines(data: bytes) -> tuple[list[bytes], bytes]:
    """Complete lines of ``data`` and the unterminated rest. \\n, \\r\\n and old-Mac \\r all end a line."""
    if b"\n" in data:
        cut = data.rfind(b"\n") + 1
        body, rest = data[:cut], data[cut:]
        lines = body.split(b"\n")[:-1]
        return [line[:-1] if line.endswith(b"\r") else line for line in lines], rest
    if b"\r" in data:
        cut = data.rfind(b"\r") + 1
        return data[:cut].split(b"\r")[:-1], data[cut:]
    return [], data


def decode_line(raw: bytes) -> str:
    """UTF-8, falling back to Windows-1251 (Russian PBXs and CRMs still write it)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1251", errors="replace")


def read_chunks(path: Path, start_offset: int, first_line_no: int) -> Iterator[FileChunk]:
    """Stream complete lines from ``start_offset``; a last line without newline comes last."""
    line_no = first_line_no
    offset = start_offset
    pending = b""
    with path.open("rb") as handle:
        handle.seek(start_offset)
        if start_offset == 0:
            first = handle.read(3)
            if first == b"\xef\xbb\xbf":
                offset = 3
            else:
                handle.seek(0)
        while True:
            block = handle.read(CHUNK_BYTES)
            if not block:
                break
            data = pending + block
            raw_lines, pending = split_lines(data)
            if not raw_lines:
                continue
            consumed = len(data) - len(pending)
            yield _chunk(raw_lines, line_no, offset + consumed)
            offset += consumed
            line_no += len(raw_lines)
    if pending:
        yield _chunk([pending], line_no, offset + len(pending), complete=False)


def _chunk(raw_lines: list[bytes], first_line_no: int, end_offset: int, *, complete: bool = True) -> FileChunk:
    try:
        text_lines = b"\n".join(raw_lines).decode("utf-8").split("\n")
        if len(text_lines) != len(raw_lines):
            raise UnicodeDecodeError("utf-8", b"", 0, 1, "line count changed")
    except UnicodeDecodeError:
        text_lines = [decode_line(raw) for raw in raw_lines]
    return FileChunk(text_lines, raw_lines, first_line_no, end_offset, complete)


def record_source(
    store: Store,
    *,
    path: Path,
    fmt: str,
    source_id: int,
    known: KnownSource | None,
    bytes_loaded: int,
    lines_read: int,
    lines_loaded: int,
    report: ImportReport,
    timezone: str,
) -> None:
    """Insert or update the ``sources`` row after a successful load (inside the transaction)."""
    head_len = min(HEAD_BYTES, bytes_loaded)
    con = store.connection
    loads = 1 if known is None else _loads(store, source_id) + 1
    con.execute("DELETE FROM sources WHERE source_id = ?", [source_id])
    con.execute(
        "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "(SELECT count(*) FROM quarantine WHERE source_id = ?), ?, ?, ?, ?, ?)",
        [
            source_id,
            str(path),
            fmt,
            head_len,
            sha256_prefix(path, head_len),
            sha256_prefix(path, bytes_loaded),
            bytes_loaded,
            lines_read,
            lines_loaded,
            source_id,
            report.first_utc,
            report.last_utc,
            utc_now(),
            loads,
            timezone,
        ],
    )


def _loads(store: Store, source_id: int) -> int:
    row = first_row(store.connection.execute("SELECT loads FROM sources WHERE source_id = ?", [source_id]))
    return int(row[0]) if row else 0


def quarantine_rows(store: Store, source_id: int, path: Path, issues: list[LineIssue]) -> None:
    if not issues:
        return
    table = pa.table(
        {
            "source_id": pa.array([source_id] * len(issues), pa.int64()),
            "path": pa.array([str(path)] * len(issues)),
            "line_no": pa.array([i.line_no for i in issues], pa.int64()),
            "raw": pa.array([i.raw[:2000] for i in issues]),
            "reason": pa.array([i.reason for i in issues]),
            "loaded_at_utc": pa.array([utc_now()] * len(issues), pa.timestamp("us")),
        }
    )
    store.append_arrow("quarantine", table)
