"""The alert history (table ``alert_events``): open alerts, firing, resolving, listing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from callkpi.queries.web_tables import ensure_alert_schema
from callkpi.storage import Store


def open_alert_periods(store: Store) -> dict[str, str]:
    """alert_key -> period of every alert still firing."""
    ensure_alert_schema(store)
    rows = store.fetch_all("SELECT alert_key, period FROM alert_events WHERE resolved_utc IS NULL")
    return {row[0]: row[1] for row in rows}


def update_open_alert(store: Store, key: str, last_value: float | None, calls: int) -> None:
    store.execute(
        "UPDATE alert_events SET last_value = ?, calls = ? WHERE alert_key = ? AND resolved_utc IS NULL",
        [last_value, calls, key])


def insert_alert(store: Store, key: str, metric: str, scope: str, scope_value: str, window: str, period: str,
                 fired_utc: datetime, value: float | None, target: float, warn: float, calls: int) -> None:
    store.execute(
        "INSERT INTO alert_events VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
        [key, metric, scope, scope_value, window, period, fired_utc, value, value, target, warn, calls])


def resolve_alert(store: Store, key: str, resolved_utc: datetime) -> None:
    store.execute(
        "UPDATE alert_events SET resolved_utc = ? WHERE alert_key = ? AND resolved_utc IS NULL", [resolved_utc, key])


def alert_history(store: Store, *, since: date | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Fired alerts, newest first (open ones have no ``resolved_utc``)."""
    ensure_alert_schema(store)
    start = datetime.combine(since, datetime.min.time()) if since else datetime(1970, 1, 1)
    return store.fetch_records(
        "SELECT * FROM alert_events WHERE fired_utc >= ? ORDER BY fired_utc DESC, alert_key LIMIT ?", [start, limit])
