"""Creating the web's and the alerts' own tables (declared in :mod:`callkpi.model.web_schema`)."""

from __future__ import annotations

from callkpi.model.web_schema import ALERT_EVENTS, TARGETS, WEB_TABLES
from callkpi.storage import Store


def ensure_web_schema(store: Store) -> None:
    store.ensure_schema(WEB_TABLES)


def has_web_schema(store: Store) -> bool:
    return store.has_table(TARGETS.name)


def ensure_alert_schema(store: Store) -> None:
    # Only when missing: creating writes the schema version into `meta`, which the server's loader
    # may be writing at the same moment (a write conflict for one of them).
    if not store.has_table(ALERT_EVENTS.name):
        store.ensure_schema((ALERT_EVENTS,))
