"""What was loaded: sources with their call counts, quarantined lines, data-quality findings, and
the data version the web's cache keys on."""

from __future__ import annotations

from typing import Any

from callkpi.ingest import queue_log
from callkpi.ingest.base import DUPLICATE_PREFIX
from callkpi.ingest.cdr import asterisk as cdr_asterisk
from callkpi.ingest.cdr import freeswitch as cdr_freeswitch
from callkpi.ingest.cdr import generic as cdr_generic
from callkpi.model.schema import SOURCES
from callkpi.queries._rows import plain, rows, sql_rows
from callkpi.storage import Store
from callkpi.storage.portable_sql import in_list

SOURCE_COLUMNS = ("source_id", "path", "format", "lines_read", "lines_loaded", "lines_quarantined", "first_utc",
                  "last_utc", "loaded_at_utc", "loads", "timezone")


def source_rows(store: Store) -> list[dict[str, Any]]:
    """Every loaded source, as stored (times ISO UTC), in load order."""
    table = store.table(SOURCES.name)
    return [plain(r, False) for r in rows(store, table.select(*SOURCE_COLUMNS).order_by("source_id"))]


def source_call_counts(store: Store) -> dict[int, int | None]:
    """source_id -> calls it holds: distinct ENTERQUEUE call ids of a queue_log, distinct call keys of
    a CDR; None for a source of another kind (business files), which holds no calls."""
    return {row["id"]: row["calls"] for row in source_listing(store)}


_QUEUE_LOG_FORMATS = tuple(queue_log.FORMATS)
_CDR_FORMATS = (cdr_asterisk.FORMAT, cdr_freeswitch.FORMAT_CSV, cdr_freeswitch.FORMAT_JSON, cdr_generic.FORMAT)
_LISTING_SQL = """
    SELECT s.source_id AS id, s.path AS file, s.format AS format, s.lines_read AS lines,
           s.lines_loaded AS loaded, s.lines_quarantined AS quarantined, coalesce(d.n, 0) AS duplicates,
           CASE WHEN {queue_log} THEN coalesce(e.n, 0) WHEN {cdr} THEN coalesce(r.n, 0) END AS calls,
           s.first_utc AS first_utc, s.last_utc AS last_utc, s.loads AS loads, s.timezone AS timezone
    FROM sources s
    LEFT JOIN (SELECT source_id, count(*) AS n FROM quarantine WHERE substring(reason, 1, {width}) = ?
               GROUP BY source_id) d ON d.source_id = s.source_id
    LEFT JOIN (SELECT source_id, count(DISTINCT callid) AS n FROM queue_log_events WHERE event = 'ENTERQUEUE'
               GROUP BY source_id) e ON e.source_id = s.source_id
    LEFT JOIN (SELECT source_id, count(DISTINCT call_key) AS n FROM cdr_records GROUP BY source_id) r
        ON r.source_id = s.source_id
    ORDER BY s.source_id
"""


def source_listing(store: Store) -> list[dict[str, Any]]:
    """Sources as `callkpi sources` lists them: id, file, format, lines, loaded, quarantined, calls,
    first and last time (UTC text), loads, time zone. Portable SQL (joined counts, no correlated
    subquery): the same rows on DuckDB and ClickHouse."""
    queue_log_sql, queue_log_params = in_list("s.format", _QUEUE_LOG_FORMATS)
    cdr_sql, cdr_params = in_list("s.format", _CDR_FORMATS)
    sql = _LISTING_SQL.format(queue_log=queue_log_sql, cdr=cdr_sql, width=len(DUPLICATE_PREFIX))
    found = sql_rows(store, sql, [*queue_log_params, *cdr_params, DUPLICATE_PREFIX])
    for row in found:
        for column in ("first_utc", "last_utc"):
            row[column] = None if row[column] is None else row[column].strftime("%Y-%m-%d %H:%M:%S")
    return found


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
