"""SQL text that both engines (DuckDB and ClickHouse) read alike, for the queries written as text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def in_list(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """``column IN (?, ?, ...)`` and its values, a condition both engines read alike (DuckDB's
    ``list_contains`` has no ClickHouse form); no values: a condition that is never true."""
    if not values:
        return "1 = 0", []
    return f"{column} IN ({', '.join('?' for _ in values)})", list(values)
