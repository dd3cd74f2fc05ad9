"""Loading spool files with the file importers, and one report for a whole SQL source."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from callkpi.config import Settings
from callkpi.ingest.base import ImportReport, LineIssue
from callkpi.ingest.sqltables.spool import FORMAT_OF_KIND
from callkpi.storage import Store


def table_kinds(settings: Settings) -> dict[str, str]:
    """Table name -> kind (cdr, cel, queue_log) of the tables callkpi reads."""
    sql = settings.sql
    kinds = {sql.cdr_table: "cdr", sql.cel_table: "cel", sql.queue_log_table: "queue_log"}
    for name in sql.queue_log_aliases:
        kinds.setdefault(name, "queue_log")
    return kinds


# formats.load_file and the names of the formats there are, passed in by ingest/formats.py (which
# imports this package).
FileLoader = Callable[..., ImportReport]


@dataclass(frozen=True)
class Importers:
    load_file: FileLoader
    formats: Collection[str]


def load_spool(
    store: Store, spool: Path, kind: str, settings: Settings, importers: Importers, *, timezone: str | None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport | None:
    """Load one spool file with its importer; None when that importer is not installed."""
    fmt = FORMAT_OF_KIND[kind]
    if fmt not in importers.formats:
        return None
    load_file = importers.load_file
    return load_file(store, spool, settings, fmt=fmt, timezone=timezone, progress=progress)


def merge(total: ImportReport, table: str, part: ImportReport, lines: array | None) -> None:
    """Add one table's report to the source's; ``lines`` maps spool rows to the source's lines."""
    total.lines_read += part.lines_read
    total.lines_loaded += part.lines_loaded
    total.quarantined += part.quarantined
    total.duplicates += part.duplicates
    total.calls += part.calls
    total.problems.extend(part.problems)
    for moment, pick in ((part.first_utc, min), (part.last_utc, max)):
        attr = "first_utc" if pick is min else "last_utc"
        have = getattr(total, attr)
        if moment is not None:
            setattr(total, attr, moment if have is None else pick(have, moment))
    for issue in part.issues:
        line = issue.line_no
        where = f"{table} row {line - 1}"
        if lines is not None and 2 <= line < len(lines) + 2:
            line = lines[line - 2]
            where = table
        total.issues.append(LineIssue(line, issue.raw, f"{where}: {issue.reason}"))
    if part.status in ("loaded", "appended"):
        total.status = "loaded" if total.status in ("loaded", "unchanged_pending") else total.status
    total.messages.append(
        f"table {table}: {part.lines_read} rows read, {part.lines_loaded} loaded, "
        f"{part.quarantined} quarantined, {part.duplicates} duplicates ({part.status})")
