"""Rewrite a DuckDB store into a fresh file: only the live rows, raw events in an order that compresses.

DuckDB reuses the blocks that deleted or replaced rows free, but never gives them back to the file
system, and an import that rebuilds calls by delete-then-insert leaves row groups half full; the
file only grows. ``compact_store`` copies every table (schema, constraints, rows) into a new file
beside the store, checks the row counts, and puts the new file in the old one's place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from callkpi.model.schema import CANONICAL_TABLES
from callkpi.storage.store import StoreLocked, drop_retired_columns, memory_limit, migrate_generated_columns

# Raw tables rewritten in the order of what repeats: events of one kind and queue together, in file
# order (event, queue and pause reason compress as runs, the ids and numbers of one kind side by
# side, callids nearly sorted as they begin with the epoch): 76 MB instead of 89 MB for 5.3M
# queue_log events. Readers sort by time, file and line themselves, so the stored order is free.
STORED_ORDER: dict[str, tuple[str, ...]] = {
    "queue_log_events": ("event", "queue", "source_id", "line_no"),
    "cel_events": ("linkedid", "source_id", "line_no"),
    "cdr_records": ("call_key", "source_id", "line_no"),
    # Derived tables in time order (times then differ little from row to row): -4 MB of 40 MB for
    # the agent legs of 1M calls, -1 MB for calls and agent time; the next rebuild keeps what it keeps.
    "calls": ("start_utc", "call_id"),
    "agent_legs": ("offer_utc", "call_id"),
    "agent_time": ("agent", "slice_id", "state", "reason"),
}

NEW_FILE_SUFFIX = ".compacting"


@dataclass(frozen=True)
class CompactReport:
    path: str
    bytes_before: int
    bytes_after: int
    tables: dict[str, int] = field(default_factory=dict)  # table -> rows copied

    @property
    def bytes_saved(self) -> int:
        return self.bytes_before - self.bytes_after


class CompactFailed(RuntimeError):
    """The copy did not hold every row; the store was left as it was."""


def compact_store(path: Path | str) -> CompactReport:
    """Rewrite the DuckDB file ``path`` in place (through a new file beside it); the store must not
    be open elsewhere. On any failure the original file is kept and the new one removed."""
    path = Path(path)
    new_path = path.with_name(path.name + NEW_FILE_SUFFIX)
    _remove_file(new_path)
    try:
        con = duckdb.connect(str(path))  # read-write: holds the lock, so nobody writes while we copy
    except duckdb.IOException as exc:
        if "could not set lock" in str(exc).lower():
            raise StoreLocked(str(path), str(exc)) from None
        raise
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("SET memory_limit = ?", [memory_limit()])
        con.execute("CHECKPOINT")  # the write-ahead log into the file, so its size is the store's
        bytes_before = _file_bytes(path)
        migrate_generated_columns(con, CANONICAL_TABLES)  # a store of an older callkpi: leg_id computed,
        drop_retired_columns(con, CANONICAL_TABLES)  # no caller on each queue leg
        tables = _copy_into(con, new_path)
    except BaseException:
        con.close()
        _remove_file(new_path)
        raise
    con.close()
    os.replace(new_path, path)
    return CompactReport(str(path), bytes_before, _file_bytes(path), tables)


def _copy_into(con: duckdb.DuckDBPyConnection, new_path: Path) -> dict[str, int]:
    source = con.execute("SELECT current_database()").fetchall()[0][0]
    con.execute("ATTACH ? AS compact_target", [str(new_path)])
    try:
        con.execute(f'COPY FROM DATABASE "{source}" TO compact_target (SCHEMA)')
        copied = {}
        for schema, table in _tables(con, source):
            order = _order_clause(con, source, table)
            columns = ", ".join(f'"{name}"' for name in _stored_columns(con, source, schema, table))
            con.execute(
                f'INSERT INTO compact_target."{schema}"."{table}" ({columns}) '  # noqa: S608 - names from the catalogue
                f'SELECT {columns} FROM "{source}"."{schema}"."{table}"{order}'
            )
            rows = _count(con, source, schema, table)
            if _count(con, "compact_target", schema, table) != rows:
                raise CompactFailed(f"{schema}.{table}: the copy does not hold the {rows} rows of the store")
            copied[table if schema == "main" else f"{schema}.{table}"] = rows
        con.execute("CHECKPOINT compact_target")
    finally:
        con.execute("DETACH compact_target")
    return copied


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> list[tuple[str, str]]:
    return [tuple(row) for row in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? AND NOT temporary "
        "ORDER BY schema_name, table_name", [database]).fetchall()]


def _stored_columns(con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str) -> list[str]:
    """The columns a copy writes: all but the generated ones (DuckDB computes those)."""
    return [row[0] for row in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? "
        "AND table_name = ? AND NOT is_generated ORDER BY column_index", [database, schema, table]).fetchall()]


def _order_clause(con: duckdb.DuckDBPyConnection, database: str, table: str) -> str:
    wanted = STORED_ORDER.get(table)
    if not wanted:
        return ""
    have = {row[0] for row in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND table_name = ?",
        [database, table]).fetchall()}
    if not set(wanted) <= have:
        return ""
    return " ORDER BY " + ", ".join(f'"{column}"' for column in wanted)


def _count(con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str) -> int:
    return con.execute(f'SELECT count(*) FROM "{database}"."{schema}"."{table}"').fetchall()[0][0]  # noqa: S608


def _file_bytes(path: Path) -> int:
    wal = path.with_name(path.name + ".wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _remove_file(path: Path) -> None:
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)
