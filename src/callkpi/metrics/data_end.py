"""Where the loaded data ends: the one reading every part of callkpi uses (the rollups' data
context, the web's default period, alerts checked as of the data)."""

from __future__ import annotations

from datetime import datetime

from callkpi.model.schema import CALLS
from callkpi.storage import Store


def data_end_utc(store: Store) -> datetime | None:
    """The start (UTC, naive) of the newest call loaded; None when there is none."""
    span = data_span_utc(store)
    return span[1] if span else None


def data_span_utc(store: Store) -> tuple[datetime, datetime] | None:
    """The starts (UTC, naive) of the oldest and the newest call loaded; None when there is none."""
    if not store.has_table(CALLS.name):
        return None
    low, high = store.column_bounds(CALLS.name, "start_utc")
    return (low, high) if isinstance(low, datetime) and isinstance(high, datetime) else None
