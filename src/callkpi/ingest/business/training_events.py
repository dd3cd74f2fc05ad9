"""Training events: agent, programme (and module), the day or days it took.

The agent may be named by id, staff name or alias (resolved by
:func:`callkpi.ingest.business.attribution.refresh`). The training effect
(:mod:`callkpi.analyses.training_effect`) compares
each trained agent's days before ``start`` with those after ``end``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from callkpi.ingest.base import ImportReport
from callkpi.ingest.business.rows import ParseContext, Row, RowError, delete_source_rows
from callkpi.ingest.business.values import parse_day
from callkpi.model.business_schema import TRAINING_EVENTS, arrow_records
from callkpi.storage import Store


def parse_row(row: Row, ctx: ParseContext) -> dict[str, Any]:
    agent = row.text("agent")
    if not agent:
        raise RowError("empty agent")
    programme = row.text("programme")
    if not programme:
        raise RowError("empty programme")
    start = parse_day(row.get("start"), ctx.mapping, "start date")
    if start is None:
        raise RowError("empty date")
    end = parse_day(row.get("end"), ctx.mapping, "end date") or start
    if end < start:
        raise RowError(f"end {end} is before start {start}")
    return {"agent_raw": agent, "agent": None, "programme": programme, "module": row.text("module"),
            "start_date": start, "end_date": end}


def duplicate_key(record: dict[str, Any]) -> object:
    return (record["agent_raw"], record["programme"], record["module"], record["start_date"])


def describe_key(key: object) -> str:
    assert isinstance(key, tuple)
    return f"{key[0]} in {key[1]} on {key[3]}"


def forget_source(store: Store, kind: str, source_id: int) -> None:
    delete_source_rows(store, "training_events", source_id)


def store_records(store: Store, kind: str, source_id: int, records: Sequence[dict[str, Any]],
                  report: ImportReport) -> None:
    store.append_arrow("training_events", arrow_records(TRAINING_EVENTS, records))
    store.connection.execute(
        """
        DELETE FROM training_events t WHERE t.source_id = ? AND EXISTS (
            SELECT 1 FROM training_events o WHERE o.source_id <> t.source_id AND o.agent_raw = t.agent_raw
              AND o.programme = t.programme AND o.module IS NOT DISTINCT FROM t.module
              AND o.start_date = t.start_date)
        """,
        [source_id],
    )
