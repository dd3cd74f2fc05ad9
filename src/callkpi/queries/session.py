"""Settings of a DuckDB session a surface opens itself (the web server's cursors)."""

from __future__ import annotations

import duckdb


def utc_session(connection: duckdb.DuckDBPyConnection) -> None:
    """Stored times are UTC; zones are applied in reports (as :class:`callkpi.storage.Store` does)."""
    connection.execute("SET TimeZone = 'UTC'")
