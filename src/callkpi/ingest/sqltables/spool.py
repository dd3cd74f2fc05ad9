"""Spool files: the rows of the PBX's SQL tables as CSV files with a header row, loaded by the file
importers like any export of those tables.

They live beside the store, ``<store dir>/spool/<source name>/<kind>.csv`` (kind: ``cdr``, ``cel``,
``queue_log``). A live source appends its new rows to the same file, so the importers' rule "a grown
file adds only its new lines" makes a re-read add nothing; a dump rewrites its files whole (the same
dump gives the same file, a later dump of the same table a grown one).
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from callkpi.storage import Store

KINDS = ("cdr", "cel", "queue_log")
# The file format each kind is loaded as (the header row says which columns it has).
FORMAT_OF_KIND = {"cdr": "asterisk-cdr", "cel": "asterisk-cel-table", "queue_log": "asterisk-queue-log-csv"}


def spool_root(store: Store) -> Path:
    """The spool folder of a store: beside its file (a store in memory spools to a temporary folder)."""
    if store.path in ("", ":memory:") or "://" in store.path:
        return Path(tempfile.gettempdir()) / f"callkpi-spool-{os.getpid()}"
    return Path(store.path).resolve().parent / "spool"


def source_folder(store: Store, source_name: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", source_name).strip("._") or "source"
    return spool_root(store) / safe


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _encode(rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def rewrite(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write a whole spool file (through a temporary file renamed into place: never a partial one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".csv.part")
    count = 0
    with temp.open("w", encoding="utf-8", newline="") as handle:
        handle.write(_encode([header]))
        writer = csv.writer(handle, lineterminator="\n")
        for row in rows:
            writer.writerow([_cell(v) for v in row])
            count += 1
    temp.replace(path)
    return count


def append(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Append rows (whole lines, one write, flushed to disk) to a spool file, its header first if new.

    A spool file whose header differs (the table's columns changed) is an error: the caller starts
    another file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    if not new and read_header(path) != list(header):
        raise ValueError(f"{path}: its header differs from the table's columns {list(header)}")
    text = (_encode([header]) if new else "") + _encode(rows)
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def read_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle), [])
