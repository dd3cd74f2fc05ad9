"""Queues: the queue names seen in the data."""

from __future__ import annotations

from datetime import datetime

from callkpi.model.schema import QUEUE_LEGS
from callkpi.queries._rows import rows
from callkpi.storage import Store

MAX_VALUES = 500


def queue_names(store: Store, limit: int = MAX_VALUES) -> list[str]:
    """Every queue a call entered, sorted (at most ``limit``)."""
    legs = store.table(QUEUE_LEGS.name)
    expr = legs.filter(legs.queue.notnull()).select("queue").distinct().order_by("queue").limit(limit)
    return [r["queue"] for r in rows(store, expr)]


def queue_entry_bounds(store: Store) -> tuple[datetime | None, datetime | None]:
    """The first and the last time (UTC) a call entered a queue."""
    lo, hi = store.column_bounds(QUEUE_LEGS.name, "enter_utc")
    return lo, hi  # type: ignore[return-value]
