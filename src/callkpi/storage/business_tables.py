"""Whether a store has the business tables (a store written by an older callkpi, opened read-only,
may lack them), and creating them."""

from __future__ import annotations

from callkpi.model.business_schema import BUSINESS_TABLES
from callkpi.storage.store import Store


def ensure_business_schema(store: Store) -> None:
    """Create the business tables (idempotent; a read-only store is left as it is)."""
    if not store.read_only:
        store.ensure_schema(BUSINESS_TABLES)


def has_business_tables(store: Store) -> bool:
    names = set(store.table_sizes())  # the stored tables, on any engine
    return all(table.name in names for table in BUSINESS_TABLES)
