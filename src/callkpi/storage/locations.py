"""Where a store is: a DuckDB file path, or the URL of a ClickHouse store."""

from __future__ import annotations

SCHEMES = ("chdb", "clickhouse", "clickhouses")


def is_store_url(location: object) -> bool:
    """True for a ClickHouse store's URL (``chdb:///dir``, ``clickhouse://user@host:8123/db``)."""
    text = str(location)
    return text.split(":", 1)[0].lower() in SCHEMES and "://" in text
