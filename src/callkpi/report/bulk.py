"""Large results for programs: an Arrow table written as CSV, Parquet or Arrow IPC in chunks of
rows, so a server can stream a million-row report without holding it as text or Python objects;
and the page tokens of the JSON paging.

Each writer yields bytes as it goes; the whole file is never built in memory.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

BULK_FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "parquet": ("application/vnd.apache.parquet", "parquet"),
    "arrow": ("application/vnd.apache.arrow.stream", "arrows"),
}
CHUNK_ROWS = 20_000


class _Drain:
    """A write-only file that hands back what was written since the last ``take``."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0
        self.closed = False

    def write(self, data: bytes | memoryview) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def stream_table(table: pa.Table, fmt: str, chunk_rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """``table`` as ``fmt`` (csv, parquet, arrow), a chunk of rows at a time."""
    writers = {"csv": _csv_chunks, "parquet": _parquet_chunks, "arrow": _arrow_chunks}
    if fmt not in writers:
        raise ValueError(f"unknown bulk format {fmt!r}; one of {', '.join(writers)}")
    return writers[fmt](table, chunk_rows)


def _slices(table: pa.Table, chunk_rows: int) -> Iterator[pa.Table]:
    for offset in range(0, max(table.num_rows, 1), chunk_rows):
        yield table.slice(offset, chunk_rows)


def _csv_chunks(table: pa.Table, chunk_rows: int) -> Iterator[bytes]:
    import pyarrow.csv as pacsv

    for n, part in enumerate(_slices(table, chunk_rows)):
        sink = pa.BufferOutputStream()
        pacsv.write_csv(part, sink, pacsv.WriteOptions(include_header=n == 0, quoting_style="needed"))
        yield sink.getvalue().to_pybytes()


def _parquet_chunks(table: pa.Table, chunk_rows: int) -> Iterator[bytes]:
    import pyarrow.parquet as pq

    drain = _Drain()
    with pq.ParquetWriter(pa.PythonFile(drain, mode="w"), table.schema, compression="zstd") as writer:
        for part in _slices(table, chunk_rows):
            writer.write_table(part, row_group_size=chunk_rows)
            yield drain.take()
    yield drain.take()


def _arrow_chunks(table: pa.Table, chunk_rows: int) -> Iterator[bytes]:
    drain = _Drain()
    with pa.ipc.new_stream(pa.PythonFile(drain, mode="w"), table.schema) as writer:
        for part in _slices(table, chunk_rows):
            writer.write_table(part, max_chunksize=chunk_rows)
            yield drain.take()
    yield drain.take()


# -- page tokens of the JSON paging ----------------------------------------------------------


class StalePage(ValueError):
    """A page token from before the data changed (its next page would skip or repeat rows)."""


def version_tag(version: Any) -> str:
    return hashlib.sha1(repr(version).encode()).hexdigest()[:16]


def page_token(offset: int, version: Any) -> str:
    raw = json.dumps({"o": offset, "v": version_tag(version)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def page_offset(token: str, version: Any) -> int:
    """The row offset a token points at; ValueError for a token that is not one, StalePage for one
    made over other data."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        decoded = json.loads(raw)
        offset, tag = int(decoded["o"]), str(decoded["v"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError("page_token is not a token this server gave") from exc
    if offset < 0:
        raise ValueError("page_token is not a token this server gave")
    if tag != version_tag(version):
        raise StalePage("the data changed since the first page: ask again from the start (without page_token)")
    return offset
