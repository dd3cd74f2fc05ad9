"""Where a store is: a DuckDB file path, or the URL of a ClickHouse store."""

from __future__ import annotations

from callkpi.model.schema import Table

SCHEMES = ("chdb", "clickhouse", "clickhouses")


def is_store_url(location: object) -> bool:
    """True for a ClickHouse store's URL (``chdb:///dir``, ``clickhouse://user@host:8123/db``)."""
    text = str(location)
    return text.split(":", 1)[0].lower() in SCHEMES and "://" in text


def model_table(name: str) -> Table | None:
    """The model's definition of a stored table (canonical, business, QA, web, alerts), if it has one."""
    from callkpi.model.business_schema import BUSINESS_TABLES
    from callkpi.model.qa_schema import QA_TABLES
    from callkpi.model.schema import CANONICAL_TABLES
    from callkpi.model.speech_schema import SPEECH_TABLES
    from callkpi.model.web_schema import ALERT_TABLES, WEB_TABLES

    tables = (*CANONICAL_TABLES, *BUSINESS_TABLES, *QA_TABLES, *SPEECH_TABLES, *WEB_TABLES, *ALERT_TABLES)
    return next((t for t in tables if t.name == name and not t.temporary), None)
