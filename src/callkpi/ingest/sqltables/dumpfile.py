"""``callkpi ingest asteriskcdrdb.sql``: the tables callkpi knows from a mysqldump/Navicat dump file.

The rows of the ``cdr``, ``cel`` and ``queue_log`` tables (names from ``[sql]`` settings) go to spool
files, ``<store dir>/spool/<dump name>-<hash of its path>/``, loaded by the CDR, CEL and queue_log
importers; every other table of the dump is listed as skipped. A quarantined row is reported with
the dump's line.
"""

from __future__ import annotations

import csv
import hashlib
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from callkpi.config import Settings
from callkpi.ingest.base import (
    ImportReport,
    LineIssue,
    find_known_source,
    next_source_id,
    quarantine_rows,
    record_source,
)
from callkpi.ingest.sqltables import spool
from callkpi.ingest.sqltables.dump import DumpProblem, DumpReader, looks_like_dump
from callkpi.ingest.sqltables.loading import Importers, load_spool, merge, table_kinds
from callkpi.storage import Store

FORMAT = "sql-dump"


def sniff(head: bytes) -> str | None:
    return FORMAT if looks_like_dump(head) else None


def spool_folder(store: Store, path: Path) -> Path:
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:8]
    return spool.source_folder(store, f"{path.name}-{digest}")


class _Spools:
    """One spool file per known table of the dump, written while the dump is read."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[str, tuple[TextIO, csv.writer, Path]] = {}  # type: ignore[valid-type]
        self.lines: dict[str, array] = {}

    def add(self, table: str, kind: str, columns: tuple[str, ...], values: tuple[str | None, ...],
            line_no: int) -> None:
        if table not in self.files:
            self.folder.mkdir(parents=True, exist_ok=True)
            final = self.folder / f"{kind}.csv"
            handle = final.with_suffix(".csv.part").open("w", encoding="utf-8", newline="")
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            self.files[table] = (handle, writer, final)
            self.lines[table] = array("q")
        _, writer, _ = self.files[table]
        writer.writerow(["" if v is None else v for v in values])
        self.lines[table].append(line_no)

    def finish(self) -> dict[str, Path]:
        done = {}
        for table, (handle, _, final) in self.files.items():
            handle.close()
            final.with_suffix(".csv.part").replace(final)
            done[table] = final
        return done


def load(store: Store, path: Path, settings: Settings, importers: Importers, *, timezone: str,
         progress: Callable[[int], None] | None = None) -> ImportReport:
    kinds = table_kinds(settings)
    reader = DumpReader(path)
    spools = _Spools(spool_folder(store, path))
    kind_of_table: dict[str, str] = {}
    for row in reader.rows():
        kind = kinds.get(row.table)
        if kind is None or (kind in kind_of_table.values() and kind_of_table.get(row.table) != kind):
            continue  # another table, or a second table of a kind already read
        if not row.columns:
            continue
        kind_of_table[row.table] = kind
        spools.add(row.table, kind, row.columns, row.values, row.line_no)
    files = spools.finish()
    report = ImportReport(str(path), FORMAT, status="unchanged")
    problems = _by_line(reader.problems)
    report.issues.extend(problems)
    report.lines_read += len(problems)  # a row the dump could not give is read and quarantined
    report.quarantined += len(problems)
    if _record_problems(store, path, problems, timezone, has_tables=bool(files)):
        report.status = "loaded"
    for table, spool_path in files.items():
        kind = kind_of_table[table]
        part = load_spool(store, spool_path, kind, settings, importers, timezone=timezone, progress=progress)
        if part is None:
            report.messages.append(
                f"table {table}: {reader.counts[table]} rows written to {spool_path}, not loaded: "
                f"this callkpi has no {spool.FORMAT_OF_KIND[kind]} importer")
            continue
        merge(report, table, part, spools.lines[table])
        if part.status in ("loaded", "appended"):
            report.status = "loaded"
    for table in sorted(set(reader.tables) - set(files)):
        why = "no rows" if table in kinds else "not a table callkpi reads"
        if table in kinds and reader.counts.get(table):
            why = f"a second {kinds[table]} table"
        report.messages.append(f"table {table}: skipped ({why}; {reader.counts.get(table, 0)} rows)")
    return report


def _by_line(problems: list[DumpProblem]) -> list[LineIssue]:
    """One issue per line of the dump (a mysqldump line holds many rows): its reasons joined."""
    reasons: dict[int, list[str]] = {}
    for problem in problems:
        reasons.setdefault(problem.line_no, []).append(problem.reason)
    return [LineIssue(line, "", "; ".join(why)) for line, why in reasons.items()]


def _record_problems(store: Store, path: Path, problems: list[LineIssue], timezone: str, *,
                     has_tables: bool) -> bool:
    """The rows the dump itself could not give go to the quarantine under a source row of the dump
    (its tables' rows are the sources of their spool files); a dump with no table rows at all gets
    that row too, so that loading it again says "unchanged". Written again only when the dump
    changed; True when written."""
    known = find_known_source(store, path)
    if known is not None and known.format != FORMAT:
        known = None
    size = path.stat().st_size
    if (known is not None and known.bytes_loaded == size) or (known is None and not problems and has_tables):
        return False
    source_id = known.source_id if known is not None else next_source_id(store)
    with store.transaction():
        store.connection.execute("DELETE FROM quarantine WHERE source_id = ?", [source_id])
        quarantine_rows(store, source_id, path, problems)
        record_source(store, path=path, fmt=FORMAT, source_id=source_id, known=known, bytes_loaded=size,
                      lines_read=len(problems), lines_loaded=0, report=ImportReport(str(path), FORMAT),
                      timezone=timezone)
    return True


DESCRIPTION = "SQL dump (mysqldump, Navicat) of the PBX's database: its cdr, cel and queue_log tables"
