"""Importing files straight into a ClickHouse store, with the importers DuckDB uses.

ClickHouse has no transaction across tables, and an import writes several (events, calls, legs,
agent time, sources, quarantine, meta). So an import into ClickHouse runs in three steps:

1. **stage**: the ClickHouse store's tables are copied into a DuckDB file in a temporary
   directory, and every file is loaded there by the same importers (their own transaction per
   file: a file known by its content adds nothing again; a grown file adds only its new lines,
   since ``sources`` came along);
2. **upload**: each table the imports changed (a row count and an order-free hash of its rows,
   before and after) is written whole into a staged table ``_staged_<name>`` beside the live one,
   which readers never see;
3. **publish**: each staged table is swapped with its live one (``EXCHANGE TABLES``, atomic per
   table) and the old rows are dropped.

An import stopped before the publish step (a bad file, Ctrl-C, a killed process, a lost
connection) leaves the live tables as they were; staged tables left behind are dropped by the
next import. The publish step itself is one statement per changed table, a few milliseconds:
only a crash inside it can show one table new and another old. The cost: every import copies the
store out and the changed tables back, which suits stores that fit on the importing machine's
disk; beyond that, load into DuckDB in batches and ``callkpi copy``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from callkpi.storage.copy import copy_store
from callkpi.storage.store import Store

STAGED_PREFIX = "_staged_"
UPLOAD_ROWS = 100_000


def table_fingerprints(store: Store) -> dict[str, tuple[int, int]]:
    """Every stored table's row count and an order-free hash of its rows."""
    out: dict[str, tuple[int, int]] = {}
    for name in store.table_sizes():
        count, digest = store.fetch_all(f'SELECT count(*), coalesce(sum(hash(t)), 0) FROM "{name}" t')[0]  # noqa: S608
        out[name] = (int(count), int(digest))
    return out


@contextmanager
def staged_import(target: Any, *, derived: tuple[str, ...] = (),
                  on_publish: Callable[[list[str]], object] | None = None) -> Iterator[Store]:
    """A DuckDB store holding ``target``'s rows to import into; on a normal exit the tables the
    imports changed replace ``target``'s (see the module's text), on an exception nothing does.
    Tables whose names start with one of ``derived`` (the rollups, which ClickHouse builds itself)
    are not uploaded; ``on_publish`` is then called with every changed table's name."""
    drop_staged(target)
    with tempfile.TemporaryDirectory(prefix="callkpi-stage-") as folder:
        stage = Store(Path(folder) / "stage.duckdb")
        try:
            copy_store(target, stage, replace=True)
            before = table_fingerprints(stage)
            yield stage
            after = table_fingerprints(stage)
            present = set(target.table_sizes())  # a table the store lacks (a newer model's) comes too
            changed = [name for name, print_ in after.items() if before.get(name) != print_ or name not in present]
            publish(stage, target, [name for name in changed if not name.startswith(derived)])
            if on_publish is not None:
                on_publish(changed)
        finally:
            stage.close()


def publish(stage: Store, target: Any, changed: list[str]) -> None:
    """Upload the changed tables beside the live ones, then swap each in."""
    present = set(target.table_sizes())
    for name in changed:
        if name not in present:  # a table new to the store: created empty first (nothing to see)
            target.create_table_for(name, stage.arrow_schema(name))
        staged = STAGED_PREFIX + name
        target.command(f'DROP TABLE IF EXISTS "{staged}"')
        target.command(f'CREATE TABLE "{staged}" AS "{name}"')
        for batch in stage.stream_table(name, UPLOAD_ROWS):
            target.append_arrow(staged, pa.Table.from_batches([batch]))
    for name in changed:
        target.command(f'EXCHANGE TABLES "{STAGED_PREFIX + name}" AND "{name}"')
    drop_staged(target)


def drop_staged(target: Any) -> None:
    """Drop the staged tables an earlier import left (it stopped before publishing, or they are
    the old rows swapped out)."""
    rows = target.fetch_all("SELECT name FROM system.tables WHERE database = currentDatabase() "
                            "AND startsWith(name, ?)", [STAGED_PREFIX])
    for (name,) in rows:
        target.command(f'DROP TABLE IF EXISTS "{name}"')
