"""High-water marks of live SQL tables, kept in the store (table ``sql_source_marks``).

Rule: a table is read from ``mark - overlap`` (the last row time seen minus ``[sql] overlap_min``);
rows read again in that window are recognised by their key (``id`` where the table has one, else the
whole row) and skipped. The mark is saved only after the rows' import has committed; rows that
reached the spool file but not the mark (an interrupted run) are recognised from the spool's tail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from callkpi.model.sql_source_schema import SQL_MARKS
from callkpi.storage import Store


@dataclass
class Mark:
    value: Any = None  # datetime, number or text: the type the server gives
    keys: set[str] = field(default_factory=set)
    spool_bytes: int = 0
    rows_read: int = 0

    def since(self, overlap: timedelta) -> Any:
        """Where the next read starts."""
        if self.value is None:
            return None
        if isinstance(self.value, datetime):
            return self.value - overlap
        if isinstance(self.value, (int, float)):
            return self.value - overlap.total_seconds()
        return self.value

    def advance(self, rows: list[tuple[Any, str]], overlap: timedelta) -> None:
        """Take in (time, key) of rows read; keep the keys still inside the window."""
        times = [t for t, _ in rows if t is not None]
        if times:
            newest = max(times)
            self.value = newest if self.value is None else max(self.value, newest)
        self.keys.update(key for _, key in rows)
        floor = self.since(overlap)
        if floor is not None:
            by_key = {key: t for t, key in rows}
            self.keys = {k for k in self.keys if k not in by_key or by_key[k] is None or by_key[k] >= floor}


def _encode(value: Any) -> str:
    if isinstance(value, datetime):
        return json.dumps({"datetime": value.isoformat()})
    return json.dumps({"value": value})


def _decode(text: str | None) -> Any:
    if not text:
        return None
    data = json.loads(text)
    return datetime.fromisoformat(data["datetime"]) if "datetime" in data else data.get("value")


def load_mark(store: Store, source: str, table: str) -> Mark:
    store.ensure_schema((SQL_MARKS,))
    rows = store.fetch_all(
        "SELECT mark, window_keys, spool_bytes, rows_read FROM sql_source_marks WHERE source = ? AND table_name = ?",
        [source, table])
    if not rows:
        return Mark()
    mark, keys, spool_bytes, rows_read = rows[0]
    return Mark(_decode(mark), set(json.loads(keys or "[]")), int(spool_bytes or 0), int(rows_read or 0))


def save_mark(store: Store, source: str, table: str, mark: Mark) -> None:
    with store.transaction() as con:
        con.execute("DELETE FROM sql_source_marks WHERE source = ? AND table_name = ?", [source, table])
        con.execute(
            "INSERT INTO sql_source_marks VALUES (?, ?, ?, ?, ?, ?, ?)",
            [source, table, _encode(mark.value), json.dumps(sorted(mark.keys)), mark.spool_bytes, mark.rows_read,
             datetime.now(UTC).replace(tzinfo=None)])
