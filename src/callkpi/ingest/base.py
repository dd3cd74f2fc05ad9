"""What every importer shares: file identity, resumable reading, quarantine, reports.

A file is known by its content, not its name: the first bytes identify it and a hash of
everything loaded so far proves it is the same file. Loading a known file again adds nothing;
loading it after it grew reads only the new lines. Every import runs in one transaction.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from callkpi.config import Settings
from callkpi.storage import Store, first_row

HEAD_BYTES = 4096
CHUNK_BYTES = 32 * 1024 * 1024
BOM = b"\xef\xbb\xbf"
LF, CR = ord("\n"), ord("\r")
T = TypeVar("T")
# A line whose events another file already loaded is kept in the quarantine table under this reason
# prefix: it is neither loaded again nor lost, and `callkpi sources` counts it apart.
DUPLICATE_PREFIX = "duplicate of "


class ImportError_(Exception):
    """A whole file cannot be imported (unknown format, unreadable)."""


def local_iso_time(text: str, zone: ZoneInfo, what: str, problem: type[ValueError]) -> datetime | None:
    """An ISO time from a file (naive ones are in the business zone ``zone``) as naive UTC; ``problem`` names it."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise problem(f"{what} {text!r} is not an ISO time") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC).replace(tzinfo=None)


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
    duplicates: int = 0  # lines whose content another file already loaded (named in their reason)
    calls: int = 0
    first_utc: datetime | None = None
    last_utc: datetime | None = None
    messages: list[str] = field(default_factory=list)
    issues: list[LineIssue] = field(default_factory=list)
    # Problems of the whole file that make its figures wrong though every line loaded (e.g. its
    # times read in the wrong zone); `callkpi ingest` prints each and exits 1.
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status != "failed" and self.quarantined == 0 and not self.problems


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


def first_csv_cells(head: bytes) -> list[str] | None:
    """The cells of the first non-blank line of a file's first bytes read as CSV (for sniffing a
    format); None when there is none or it is no CSV."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    line = next((line for line in text.splitlines() if line.strip()), None)
    if line is None:
        return None
    try:
        return next(csv.reader([line]))
    except (csv.Error, StopIteration):
        return None


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
    if known is not None and (known.bytes_loaded == path.stat().st_size or _same_unfinished_tail(store, path, known)):
        report.status = "unchanged"
        report.messages.append("already loaded; nothing new")
        return None
    if known is None:
        return ImportStart(next_source_id(store), None, 0, 1)
    return ImportStart(known.source_id, known, known.bytes_loaded, known.lines_read + 1)


def _tail_key(source_id: int) -> str:
    return f"source_unfinished_tail:{source_id}"


def sha256_range(path: Path, start: int, stop: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        handle.seek(start)
        digest.update(handle.read(max(stop - start, 0)))
    return digest.hexdigest()


def _same_unfinished_tail(store: Store, path: Path, known: KnownSource) -> bool:
    """True when all the file has past what was loaded is the unterminated last line the last load
    read already, byte for byte (a line still being written is read again only once it changes)."""
    tail = store.get_meta(_tail_key(known.source_id))
    if not tail:
        return False
    size_text, _sep, digest = tail.partition(":")
    size = path.stat().st_size
    return size_text == str(size) and sha256_range(path, known.bytes_loaded, size) == digest


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
    for block, end_offset, complete in line_blocks(path, start_offset):
        raw_lines = split_lines(block)[0] if complete else [block]
        yield _chunk(raw_lines, line_no, end_offset, complete=complete)
        line_no += len(raw_lines)


def line_blocks(path: Path, start_offset: int) -> Iterator[tuple[bytes, int, bool]]:
    """Blocks of about ``CHUNK_BYTES`` that end with a line end, each with the file offset just
    after it; a last line without newline comes last, alone, with ``complete`` False."""
    offset = start_offset
    pending = b""
    with path.open("rb") as handle:
        handle.seek(start_offset)
        if start_offset == 0:
            if handle.read(3) == BOM:
                offset = len(BOM)
            else:
                handle.seek(0)
        while block := handle.read(CHUNK_BYTES):
            data = pending + block
            cut = _after_last_line_end(data)
            pending = data[cut:]
            if cut:
                offset += cut
                yield data[:cut], offset, True
    if pending:
        yield pending, offset + len(pending), False


def _after_last_line_end(data: bytes) -> int:
    """Where the unterminated rest of ``data`` begins (as :func:`split_lines` cuts it)."""
    if b"\n" in data:
        return data.rfind(b"\n") + 1
    return data.rfind(b"\r") + 1


@dataclass(frozen=True)
class LineBatch:
    """The non-blank lines of a block as Arrow arrays (text decoded as :func:`decode_line` does),
    built without a Python object per line."""

    line_no: pa.Array  # int64, the file's line numbers (blank lines leave gaps)
    text: pa.Array  # large_string
    line_count: int  # lines in the block, blank ones included
    end_offset: int
    complete: bool = True


def read_line_batches(path: Path, start_offset: int, first_line_no: int) -> Iterator[LineBatch]:
    """Like :func:`read_chunks`, as Arrow arrays; blank (whitespace-only) lines are left out."""
    line_no = first_line_no
    for block, end_offset, complete in line_blocks(path, start_offset):
        if complete:
            text, maybe_blank = _block_lines(block)
        else:
            text, maybe_blank = pa.array([decode_line(block)], pa.large_string()), np.zeros(1, np.int64)
        keep = _not_blank(text, maybe_blank)
        numbers = line_no + np.flatnonzero(keep)
        if len(numbers) < len(text):
            text = text.filter(keep)
        yield LineBatch(pa.array(numbers, pa.int64()), text, len(keep), end_offset, complete)
        line_no += len(keep)


def read_ahead(items: Iterator[T]) -> Iterator[T]:
    """The items of ``items`` (never None), the next one made in a worker thread while the caller
    works on this one: the database and NumPy release the GIL, so reading overlaps loading."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") as pool:
        pending = pool.submit(next, items, None)
        while (item := pending.result()) is not None:
            pending = pool.submit(next, items, None)
            yield item


def _block_lines(block: bytes) -> tuple[pa.Array, np.ndarray]:
    """The lines of a block that ends with a line end, split as :func:`split_lines` splits them,
    and the indexes of those that may be blank (empty, or not starting with a visible ASCII
    character)."""
    data = np.frombuffer(block, np.uint8)
    ends = np.flatnonzero(data == LF)
    if ends.size == 0:  # old-Mac line ends
        ends = np.flatnonzero(data == CR)
    starts = np.concatenate(([0], ends[:-1] + 1))
    stops = ends
    if data[ends[0]] == LF:  # one \r before the \n belongs to the line end
        stops = ends - ((ends > starts) & (data[ends - 1] == CR))
    first = data[starts]  # a line end where the line is empty
    maybe_blank = np.flatnonzero((stops == starts) | (first <= ord(" ")) | (first > ord("~")))
    try:
        block.decode("utf-8")
    except UnicodeDecodeError:
        lines = [decode_line(block[a:b]) for a, b in zip(starts.tolist(), stops.tolist(), strict=True)]
        return pa.array(lines, pa.large_string()), maybe_blank
    offsets = np.zeros(ends.size + 1, np.int64)
    np.cumsum(stops - starts, out=offsets[1:])
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(_without_line_ends(block, data, ends, stops))]
    return pa.Array.from_buffers(pa.large_string(), ends.size, buffers), maybe_blank


def _without_line_ends(block: bytes, data: np.ndarray, ends: np.ndarray, stops: np.ndarray) -> bytes | np.ndarray:
    """The bytes of the lines one after another, their line ends left out."""
    if b"\r" not in block:
        return block.replace(b"\n", b"")
    content = np.ones(data.size, bool)
    content[ends] = False
    content[stops] = False  # the \r of a \r\n; elsewhere the line end again
    return data[content]


def _not_blank(text: pa.Array, maybe_blank: np.ndarray) -> np.ndarray:
    """False for the lines that are empty or whitespace only (as ``str.strip`` sees whitespace)."""
    keep = np.ones(len(text), bool)
    if maybe_blank.size:
        candidates = text.take(pa.array(maybe_blank))
        blank = pc.or_(pc.equal(pc.binary_length(candidates), 0), pc.utf8_is_space(candidates))
        keep[maybe_blank[blank.to_numpy(zero_copy_only=False)]] = False
    return keep


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
    read_to: int = 0,
) -> None:
    """Insert or update the ``sources`` row after a successful load (inside the transaction).
    ``read_to``: where reading stopped when it went past ``bytes_loaded`` into an unterminated last
    line (that line is read again next time only if it changed)."""
    head_len = min(HEAD_BYTES, bytes_loaded)
    con = store.connection
    loads = 1 if known is None else _loads(store, source_id) + 1
    con.execute("DELETE FROM sources WHERE source_id = ?", [source_id])
    tail = f"{read_to}:{sha256_range(path, bytes_loaded, read_to)}" if read_to > bytes_loaded else ""
    store.set_meta(_tail_key(source_id), tail)
    con.execute(
        "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "(SELECT count(*) FROM quarantine WHERE source_id = ? AND NOT starts_with(reason, ?)), ?, ?, ?, ?, ?)",
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
            DUPLICATE_PREFIX,
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


def note_clock_offset(report: ImportReport, offset_s: float | None, file_zone: str, source_id: int) -> None:
    """Make a clock offset of the file's times against its own clock evidence (e.g. the epoch in an
    Asterisk uniqueid) a problem of the import, naming the zone the times look like."""
    if offset_s is None:
        return
    zone = zone_of_offset(file_zone, offset_s)
    report.problems.append(
        f"times look like {zone}: reload with --file-tz {zone} (callkpi sources forget {source_id} first)"
        if zone else
        f"times read in {file_zone} are {offset_s / 3600:+.2f} h from the file's own clock: reload with the "
        f"right --file-tz (callkpi sources forget {source_id} first)"
    )


def zone_of_offset(file_zone: str, offset_s: float) -> str | None:
    """The fixed zone the file's times are in when, read in ``file_zone``, they lie ``offset_s``
    seconds from the true UTC clock ("UTC", or an Etc/GMT zone); None when it is not a whole hour."""
    reference = datetime.now(UTC)
    offset_of_zone = reference.astimezone(ZoneInfo(file_zone)).utcoffset()
    hours = ((offset_of_zone.total_seconds() if offset_of_zone else 0.0) + offset_s) / 3600
    whole = round(hours)
    if abs(hours - whole) > 0.1 or abs(whole) > 14:
        return None
    # Etc/GMT zones count the other way: Etc/GMT-3 is UTC+3.
    return "UTC" if whole == 0 else f"Etc/GMT{-whole:+d}"


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


@dataclass(frozen=True)
class Plausible:
    """The plausibility bounds of ``[ingest]``: what falls outside is quarantined, never expanded."""

    earliest_epoch: float  # seconds since 1970 of 1 January of ``earliest_year``
    latest_epoch: float  # the import's clock plus ``future_days``
    max_gap_s: float
    max_duration_s: float

    @classmethod
    def of(cls, settings: Settings) -> Plausible:
        rules = settings.ingest
        earliest = datetime(rules.earliest_year, 1, 1, tzinfo=UTC).timestamp()
        latest = datetime.now(UTC).timestamp() + rules.future_days * 86400
        return cls(earliest, latest, rules.max_gap_days * 86400, rules.max_duration_s)

    def params(self) -> dict[str, float]:
        return {"earliest": self.earliest_epoch, "latest": self.latest_epoch, "max_s": self.max_duration_s}

    def window_text(self) -> str:
        earliest = datetime.fromtimestamp(self.earliest_epoch, UTC).strftime("%Y-%m-%d")
        latest = datetime.fromtimestamp(self.latest_epoch, UTC).strftime("%Y-%m-%d")
        return f"{earliest} .. {latest} (ingest.earliest_year, ingest.future_days)"


def outlying_lines(store: Store, times_sql: str, params: dict[str, object], first_line: int,
                   max_gap_s: float) -> list[tuple[int, float]]:
    """(line, epoch) of the rows from ``first_line`` on whose time lies more than ``max_gap_s`` from
    the bulk of their file. ``times_sql`` gives (line_no, ts, movable) for every line of the file
    with a time (earlier loads of it included; ``movable`` false for lines that only count, e.g.
    duplicates). The times are sorted and split wherever two neighbours are further apart than the
    gap; every part but the one with the most lines (the latest of equals) is outlying. One stray
    date then cannot stretch agent time or a report over decades."""
    con = store.connection
    bounds = first_row(con.execute(f"SELECT min(ts), max(ts) FROM ({times_sql})", params))  # noqa: S608 - ours
    if not bounds or bounds[0] is None or float(bounds[1]) - float(bounds[0]) <= max_gap_s:
        return []
    rows = con.execute(
        f"""
        WITH t AS ({times_sql}),
        gaps AS (SELECT *, CASE WHEN ts - lag(ts) OVER (ORDER BY ts, line_no) > $gap THEN 1 ELSE 0 END AS cut
                 FROM t),
        parts AS (SELECT *, sum(cut) OVER (ORDER BY ts, line_no ROWS UNBOUNDED PRECEDING) AS part FROM gaps),
        bulk AS (SELECT part FROM parts GROUP BY part ORDER BY count(*) DESC, max(ts) DESC LIMIT 1)
        SELECT line_no, ts FROM parts
        WHERE movable AND line_no >= $first_line AND part <> (SELECT part FROM bulk) ORDER BY line_no
        """,  # noqa: S608 - the query is this package's own
        {**params, "gap": max_gap_s, "first_line": first_line},
    ).fetchall()
    return [(int(line), float(ts)) for line, ts in rows]


def raw_text_of_lines(path: Path, line_numbers: set[int], start_offset: int, first_line: int) -> dict[int, str]:
    """The text of some lines of a file (for quarantining rows found bad after they were staged)."""
    found: dict[int, str] = {}
    if not line_numbers:
        return found
    last_wanted = max(line_numbers)
    for chunk in read_chunks(path, start_offset, first_line):
        for index, text in enumerate(chunk.lines):
            if chunk.first_line_no + index in line_numbers:
                found[chunk.first_line_no + index] = text
        if chunk.first_line_no + len(chunk.lines) > last_wanted:
            break
    return found


def gap_reason(epoch: float, max_gap_s: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return (f"time {moment} UTC is more than {max_gap_s / 86400:g} days away from the rest of the file "
            "(ingest.max_gap_days): taken for a wrong date, not loaded")


def line_outcomes(store: Store, source_id: int, first_line: int) -> tuple[list[LineIssue], int]:
    """The quarantined lines of a source from ``first_line`` on, and how many of them only repeat
    another file's lines (those are counted as duplicates, not as quarantined)."""
    rows = store.connection.execute(
        "SELECT line_no, raw, reason FROM quarantine WHERE source_id = ? AND line_no >= ? ORDER BY line_no",
        [source_id, first_line],
    ).fetchall()
    issues = [LineIssue(int(n), str(raw), str(reason)) for n, raw, reason in rows
              if not str(reason).startswith(DUPLICATE_PREFIX)]
    return issues, len(rows) - len(issues)
