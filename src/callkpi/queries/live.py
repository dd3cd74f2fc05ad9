"""What the live state is rebuilt from after a restart: the stored queue_log events since a time,
and how far each watched file is stored (its later lines are read from the file itself)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from callkpi.ingest.base import find_known_source, sha256_prefix
from callkpi.storage import Store

StoredEvent = tuple[float, str, str | None, str | None, str, tuple[str | None, ...]]


@dataclass(frozen=True)
class Seed:
    events: list[StoredEvent]  # epoch, callid, queue, agent, event, (data1..data5), in the order written
    offsets: dict[str, int]  # path -> bytes of it already in the store (0: none)


def live_seed(store: Store, since_epoch: float, paths: Sequence[Path]) -> Seed:
    """The stored events from ``since_epoch`` on, and the stored length of each file, read in one
    transaction (a load committing meanwhile is either in both or in neither)."""
    # one DuckDB transaction: a load committing meanwhile is in both or in neither (ClickHouse has no
    # transaction; its imports swap whole tables in, so a read sees one table's state or the next's)
    snapshot = store.dialect == "duckdb"
    if snapshot:
        store.execute("BEGIN TRANSACTION")
    try:
        offsets = {str(path): _stored_length(store, path) for path in paths}
        rows = store.fetch_all(
            "SELECT epoch, callid, queue, agent, upper(event), data1, data2, data3, data4, data5 "
            "FROM queue_log_events WHERE epoch >= ? ORDER BY epoch, source_id, line_no",
            [int(since_epoch)],
        )
    finally:
        if snapshot:
            store.execute("COMMIT")
    events = [(float(r[0]), r[1], r[2], r[3], r[4], tuple(r[5:10])) for r in rows]
    return Seed(events, offsets)


def _stored_length(store: Store, path: Path) -> int:
    """How many bytes of the file the store holds: the last load of this path when the file still
    begins as it did then (its first bytes, as the ingest hashes them) and has not shrunk; else the
    load of the same content under any name (hashing the whole stored length, slower); else 0."""
    try:
        size = path.stat().st_size
        found = store.fetch_all(
            "SELECT head_len, head_sha256, bytes_loaded FROM sources WHERE path = ? AND bytes_loaded <= ? "
            "ORDER BY source_id DESC LIMIT 1", [str(path), size])
        row = found[0] if found else None
        if row is not None and sha256_prefix(path, int(row[0])) == row[1]:
            return int(row[2])
        known = find_known_source(store, path)
    except OSError:
        return 0
    return known.bytes_loaded if known else 0
