"""Small helpers every query module shares: run an Ibis expression or a fixed SQL text, get plain rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import ibis

from callkpi.metrics.calendar import slice_range
from callkpi.phone import mask
from callkpi.storage import Store

NUMBER_COLUMNS = ("caller", "caller_norm", "callee", "callee_norm")


def rows(store: Store, expr: ibis.Table) -> list[dict[str, Any]]:
    return store.fetch_arrow(expr).to_pylist()


def count(store: Store, expr: ibis.Table) -> int:
    return int(store.fetch_arrow(expr.aggregate(n=expr.count())).to_pylist()[0]["n"])


def sql_rows(store: Store, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows of one fixed SQL text of a query module, its values bound as parameters."""
    if isinstance(params, Mapping):  # named ($name) parameters: DuckDB's SQL
        cursor = store.connection.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return store.fetch_records(sql, list(params or []))


def iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat() + "Z"
    return value


def plain(row: Mapping[str, Any], hide_numbers: bool, columns: tuple[str, ...] = NUMBER_COLUMNS) -> dict[str, Any]:
    """A row for JSON: times as ISO UTC, phone numbers masked when asked."""
    out = {key: iso(value) for key, value in row.items()}
    if hide_numbers:
        for column in columns:
            if column in out and out[column] is not None:
                out[column] = mask(str(out[column]))
    return out


def period_filter(table: ibis.Table, column: str, date_from: date | None, date_to: date | None, tz: str) -> ibis.Table:
    first, end = slice_range(date_from, date_to, tz)
    if first is not None:
        table = table.filter(table[column] >= first)
    if end is not None:
        table = table.filter(table[column] < end)
    return table
