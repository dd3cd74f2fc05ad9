"""The high-water marks of live SQL sources (ingest/sqltables/marks.py owns it)."""

from __future__ import annotations

from callkpi.model.schema import Table

SQL_MARKS = Table(
    "sql_source_marks",
    "per live database table: the last row time read, the ids read in the overlap window, the spool size",
    (
        ("source", "VARCHAR"),  # the URL without password
        ("table_name", "VARCHAR"),
        ("mark", "VARCHAR"),  # JSON: the last row time seen, in the server's own type
        ("window_keys", "VARCHAR"),  # JSON list: keys of rows at or after mark - overlap
        ("spool_bytes", "BIGINT"),  # size of the spool file when the mark was saved
        ("rows_read", "BIGINT"),
        ("updated_utc", "TIMESTAMP"),
    ),
    ("source", "table_name"),
)
