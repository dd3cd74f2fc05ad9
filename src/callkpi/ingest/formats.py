"""Every importable format, and the one entry point the surfaces load files through.

The formats come from the importer modules' own ``SOURCE_FORMATS`` declarations; their order is the
detection order: transcripts (JSON, WebVTT, SRT: no other format starts so), QA reviews ahead of
the survey layout (whose ``score`` column these files also
have), SQL dumps (a comment or statement first, then CREATE TABLE/INSERT INTO: no table export
starts so), then queue_log, the Asterisk CEL (a header or first field no CDR has), the generic CDR
mapping before the Asterisk CDR (so that a mapping named in $CALLKPI_MAPPING wins over the Asterisk
header it may resemble), FreeSWITCH, and the business files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from callkpi.config import Settings
from callkpi.ingest import cel, derive, qa_reviews, queue_log, transcripts
from callkpi.ingest.base import ImportError_, ImportReport
from callkpi.ingest.business import formats as business_formats
from callkpi.ingest.cdr import asterisk, freeswitch, generic
from callkpi.ingest.source_format import SourceFormat
from callkpi.ingest.sqltables import dumpfile, live
from callkpi.ingest.sqltables.loading import Importers
from callkpi.storage import Store

# The queue_log formats (queue_log.py), declared here.
QUEUE_LOG_FORMATS: tuple[SourceFormat, ...] = (
    SourceFormat(
        queue_log.FORMAT_PLAIN,
        "Asterisk queue_log file (epoch|callid|queue|agent|EVENT|data...)",
        queue_log.sniff,
        lambda store, path, settings, **kw: queue_log.load(store, path, settings, fmt=queue_log.FORMAT_PLAIN, **kw),
    ),
    SourceFormat(
        queue_log.FORMAT_CSV,
        "CSV export of the realtime queue_log table (time, callid, queuename, agent, event, data...)",
        queue_log.sniff,
        lambda store, path, settings, **kw: queue_log.load(store, path, settings, fmt=queue_log.FORMAT_CSV, **kw),
    ),
    SourceFormat(
        queue_log.FORMAT_PBXWARE_TABLE,
        "PBXware's queue_log table dump (uid, date_time, callid, queue_name, type, event, param1..3, entpos, expos, "
        "htime, ttime), its OUT* events of agents' outbound dials included",
        queue_log.sniff,
        lambda store, path, settings, **kw: queue_log.load(
            store, path, settings, fmt=queue_log.FORMAT_PBXWARE_TABLE, **kw),
    ),
)

# The SQL dump (ingest/sqltables), declared here: its tables load through load_file.
SQL_FORMATS: tuple[SourceFormat, ...] = (
    SourceFormat(
        dumpfile.FORMAT, dumpfile.DESCRIPTION, dumpfile.sniff,
        lambda store, path, settings, **kw: dumpfile.load(
            store, path, settings, Importers(load_file, FORMATS), **kw),
    ),
)

FORMATS: dict[str, SourceFormat] = {
    fmt.name: fmt
    for fmt in (
        *transcripts.SOURCE_FORMATS,
        *qa_reviews.SOURCE_FORMATS,
        *SQL_FORMATS,
        *QUEUE_LOG_FORMATS,
        *cel.SOURCE_FORMATS,
        *generic.SOURCE_FORMATS,
        *asterisk.SOURCE_FORMATS,
        *freeswitch.SOURCE_FORMATS,
        *business_formats.SOURCE_FORMATS,
    )
}
def detect(path: Path) -> str:
    """The format of a file, from its first bytes."""
    with path.open("rb") as handle:
        head = handle.read(65536)
    if not head.strip():
        raise ImportError_(f"{path}: file is empty")
    for fmt in FORMATS.values():
        found = fmt.sniff(head)
        if found:
            return found
    raise ImportError_(
        f"{path}: format not recognised; name it with --format ({', '.join(FORMATS)})"
    )


def load_file(
    store: Store,
    path: Path,
    settings: Settings,
    *,
    fmt: str | None = None,
    timezone: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    if not path.is_file():
        raise ImportError_(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ImportError_(f"{path}: file is empty")
    name = fmt or detect(path)
    if name not in FORMATS:
        raise ImportError_(f"unknown format {name!r}; known: {', '.join(FORMATS)}")
    if fmt is not None:
        with path.open("rb") as handle:
            head = handle.read(65536)
        sniffed = FORMATS[name].sniff(head)
        if sniffed != name:
            raise ImportError_(
                f"{path}: does not look like {name} (first line: {_first_line(head)!r}); "
                "check --format or leave it out to detect the format"
            )
    zone = timezone or settings.params.timezone
    report = FORMATS[name].load(store, path, settings, timezone=zone, progress=progress)
    if report.status in ("loaded", "appended"):
        with store.transaction():
            derive.suggest_dial_prefixes(store, settings.phone)
    return report


def _first_line(head: bytes) -> str:
    return head.splitlines()[0][:80].decode("utf-8", errors="replace") if head.strip() else ""




def is_database_url(location: str) -> bool:
    """``mysql://...`` or ``postgresql://...``: a live database, read by :func:`load_database`."""
    return live.is_url(location)


def load_database(store: Store, url: str, settings: Settings, *, timezone: str | None = None,
                  on_batch: Callable[[int], None] | None = None) -> ImportReport:
    """What is new in a live PBX database's cdr, cel and queue_log tables (ingest/sqltables/live.py)."""
    zone = timezone or settings.params.timezone
    return live.ingest_url(store, url, settings, Importers(load_file, FORMATS), timezone=zone, on_batch=on_batch)
