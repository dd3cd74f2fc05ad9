"""What was loaded: sources with their call counts, quarantined lines, data-quality findings, and
the data version the web's cache keys on."""

from __future__ import annotations

from typing import Any

from callkpi.ingest import queue_log
from callkpi.ingest.base import DUPLICATE_PREFIX
from callkpi.ingest.cdr import asterisk as cdr_asterisk
from callkpi.ingest.cdr import freeswitch as cdr_freeswitch
from callkpi.ingest.cdr import generic as cdr_generic
from callkpi.metrics.backends import require_engine
from callkpi.model.schema import SOURCES
from callkpi.queries._rows import plain, rows, sql_rows
from callkpi.storage import Store

SOURCE_COLUMNS = ("source_id", "path", "format", "lines_read", "lines_loaded", "lines_quarantined", "first_utc",
                  "last_utc", "loaded_at_utc", "loads", "timezone")


def _listing_params() -> dict[str, Any]:
    return {"duplicate": DUPLICATE_PREFIX, "queue_log_formats": list(queue_log.FORMATS),
            "cdr_formats": [cdr_asterisk.FORMAT, cdr_freeswitch.FORMAT_CSV, cdr_freeswitch.FORMAT_JSON,
                            cdr_generic.FORMAT]}


def source_rows(store: Store) -> list[dict[str, Any]]:
    """Every loaded source, as stored (times ISO UTC), in load order."""
    table = store.table(SOURCES.name)
    return [plain(r, False) for r in rows(store, table.select(*SOURCE_COLUMNS).order_by("source_id"))]


def source_call_counts(store: Store) -> dict[int, int | None]:
    """source_id -> calls it holds: distinct ENTERQUEUE call ids of a queue_log, distinct call keys of
    a CDR; None for a source of another kind (business files), which holds no calls."""
    return {row["id"]: row["calls"] for row in source_listing(store)}


def source_listing(store: Store) -> list[dict[str, Any]]:
    """Sources as `callkpi sources` lists them: id, file, format, lines, loaded, quarantined, calls,
    first and last time (UTC text), loads, time zone."""
    require_engine(store, "sources_listing")
    return sql_rows(
        store,
        """
        SELECT s.source_id AS id, s.path AS file, s.format, s.lines_read AS lines, s.lines_loaded AS loaded,
               s.lines_quarantined AS quarantined,
               (SELECT count(*) FROM quarantine q WHERE q.source_id = s.source_id
                AND starts_with(q.reason, $duplicate)) AS duplicates,
               CASE WHEN list_contains($queue_log_formats, s.format)
                    THEN (SELECT count(DISTINCT callid) FROM queue_log_events e
                          WHERE e.source_id = s.source_id AND e.event = 'ENTERQUEUE')
                    WHEN list_contains($cdr_formats, s.format)
                    THEN (SELECT count(DISTINCT call_key) FROM cdr_records r WHERE r.source_id = s.source_id)
               END AS calls,
               strftime(s.first_utc, '%Y-%m-%d %H:%M:%S') AS first_utc,
               strftime(s.last_utc, '%Y-%m-%d %H:%M:%S') AS last_utc, s.loads, s.timezone
        FROM sources s ORDER BY s.source_id
        """,
        _listing_params(),
    )


def quarantine_lines(store: Store, limit: int | None = None) -> list[dict[str, Any]]:
    """Lines that could not be loaded (file, line, reason, raw) in file and line order; all when limit is None."""
    return sql_rows(
        store,
        "SELECT path AS file, line_no AS line, reason, raw FROM quarantine ORDER BY source_id, line_no LIMIT ?",
        [limit],
    )


def findings(store: Store) -> list[dict[str, Any]]:
    """Data-quality findings in time order (time as UTC text)."""
    return sql_rows(
        store,
        "SELECT source, kind, call_id, agent, strftime(time_utc, '%Y-%m-%d %H:%M:%S') AS time_utc, detail "
        "FROM data_quality ORDER BY time_utc",
    )


def data_version(store: Store) -> tuple[Any, ...]:
    """Changes whenever something is loaded: sources, their latest load, loads, lines, calls."""
    row = store.fetch_all(
        "SELECT count(*), max(loaded_at_utc), coalesce(sum(loads), 0), coalesce(sum(lines_loaded), 0) FROM sources"
    )[0]
    calls = store.fetch_all("SELECT count(*) FROM calls")[0]
    return (*row, calls[0])
