from pathlib import Path
from typing import Any

from callkpi.storage.locations import is_store_url
from callkpi.storage.store import Store, first_row

__all__ = ["Store", "first_row", "is_store_url", "open_store"]


def open_store(location: str | Path, *, read_only: bool = False) -> Any:
    """A DuckDB store for a file path, a ClickHouse store for ``chdb://`` or ``clickhouse://``
    (:mod:`callkpi.storage.clickhouse`, imported only then)."""
    if is_store_url(location):
        from callkpi.storage.clickhouse import ClickHouseStore

        return ClickHouseStore(str(location), read_only=read_only)
    return Store(location, read_only=read_only)
