"""Copy a store's tables to another store, of the same engine or another (DuckDB <-> ClickHouse).

Rows travel as Arrow batches of a bounded size, so a store larger than memory copies; every
stored table goes (the model's, the rollups, the web's users), the model's tables keep the
destination's own definitions (a ClickHouse MergeTree, a DuckDB key), the others are created
from their Arrow schema. A destination that already holds rows is refused unless ``replace``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from callkpi.storage.store import Store

BATCH_ROWS = 100_000
# Rewritten by the destination itself (its schema version) and copied over it.
_ALWAYS_REPLACED = ("meta",)


class CopyRefused(ValueError):
    """The destination holds rows already (and ``replace`` was not asked)."""


@dataclass
class CopyReport:
    tables: dict[str, int] = field(default_factory=dict)  # table -> rows copied

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def copy_store(source: Any, destination: Any, *, replace: bool = False, batch_rows: int = BATCH_ROWS,
               progress: Callable[[str, int], None] | None = None) -> CopyReport:
    """Copy every stored table of ``source`` into ``destination``; the row counts copied per table.
    Into DuckDB the copy is one transaction (all or nothing); ClickHouse has none: an interrupted
    copy there leaves the tables copied so far (copy again with ``replace``)."""
    names = list(source.table_sizes())
    present = destination.table_sizes()
    full = [n for n in names if n in present and n not in _ALWAYS_REPLACED and destination.has_rows(n)]
    if full and not replace:
        raise CopyRefused(f"{destination.path} already holds rows in {', '.join(full)} (copy with --replace)")
    report = CopyReport()
    with _all_or_nothing(destination):
        for name in names:
            if name in present:
                destination.truncate(name)
            else:
                destination.create_table_for(name, source.arrow_schema(name))
            report.tables[name] = _copy_rows(source, destination, name, batch_rows, progress)
    return report


@contextmanager
def _all_or_nothing(destination: Any) -> Iterator[None]:
    if isinstance(destination, Store):
        with destination.transaction():
            yield
    else:
        yield


def _copy_rows(source: Any, destination: Any, name: str, batch_rows: int,
               progress: Callable[[str, int], None] | None) -> int:
    copied = 0
    for batch in source.stream_table(name, batch_rows):
        destination.append_arrow(name, pa.Table.from_batches([batch]))
        copied += batch.num_rows
        if progress:
            progress(name, copied)
    return copied
