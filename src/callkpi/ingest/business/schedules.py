"""Schedules: planned shifts and the breaks and activities inside them; adherence against presence.

A row is one planned span: ``start`` and ``end`` as date-times, or as times with a ``date``
column (an end before the start is on the next day). ``activity`` is ``work`` (the default: on
queue) or anything else (break, lunch, training, meeting: planned off-queue time); an off-queue
span inside a shift overrides the shift for its length.

:func:`rebuild_adherence` compares the plan with presence from the call records
(``agent_states``): during work the agent should be logged in and not paused (pauses whose reason
is in ``acw_pause_reasons`` are work, decided at report time); during off-queue activities the
agent should not be available (paused or logged out). It keeps, per agent and 15-minute slice,
the seconds the ``adherence`` KPI needs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from callkpi.ingest.base import ImportReport
from callkpi.ingest.business.rows import ParseContext, Row, RowError, delete_source_rows
from callkpi.ingest.business.values import parse_datetime, parse_day
from callkpi.model.business_schema import SCHEDULES, arrow_records
from callkpi.storage import Store

WORK = "work"
_WORK_WORDS = {"work", "shift", "on queue", "on_queue", "available", "работа", "смена"}


def parse_row(row: Row, ctx: ParseContext) -> dict[str, Any]:
    agent = row.text("agent")
    if not agent:
        raise RowError("empty agent")
    start, end = _span(row, ctx)
    if end <= start:
        raise RowError(f"end {end:%Y-%m-%d %H:%M} UTC is not after start {start:%Y-%m-%d %H:%M} UTC")
    if end - start > timedelta(hours=24):
        raise RowError("a planned span longer than 24 hours")
    activity = (row.text("activity") or WORK).strip().lower()
    return {"agent_raw": agent, "agent": None, "activity": WORK if activity in _WORK_WORDS else activity,
            "start_utc": start, "end_utc": end}


def _span(row: Row, ctx: ParseContext) -> tuple[datetime, datetime]:
    start_cell, end_cell = row.get("start"), row.get("end")
    if start_cell is None or end_cell is None:
        raise RowError("empty start or end")
    day = parse_day(row.get("date"), ctx.mapping, "date")
    if day is None or not (_is_clock(start_cell) and _is_clock(end_cell)):
        return (_required(parse_datetime(start_cell, ctx.zone, ctx.mapping, "start")),
                _required(parse_datetime(end_cell, ctx.zone, ctx.mapping, "end")))
    start_local = datetime.combine(day, _clock(start_cell))
    end_local = datetime.combine(day, _clock(end_cell))
    if end_local <= start_local:
        end_local += timedelta(days=1)  # a night shift ends the next day
    return (_required(parse_datetime(start_local, ctx.zone, ctx.mapping)),
            _required(parse_datetime(end_local, ctx.zone, ctx.mapping)))


def _is_clock(cell: object) -> bool:
    """A time of day (09:00), not a full date-time (which is read as it is, with its offset)."""
    if isinstance(cell, datetime):
        return False
    return isinstance(cell, time) or not re.search(r"\d{4}-\d{2}-\d{2}|\d{1,2}\.\d{1,2}\.\d{2,4}", str(cell))


def _clock(cell: object) -> time:
    if isinstance(cell, time):
        return cell
    text = str(cell).strip()
    for fmt in ("%H:%M", "%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).time()
        except ValueError:
            continue
    raise RowError(f"time {text!r} is not a time of day like 09:00")


def _required(moment: datetime | None) -> datetime:
    if moment is None:
        raise RowError("empty time")
    return moment


def duplicate_key(record: dict[str, Any]) -> object:
    return (record["agent_raw"], record["activity"], record["start_utc"])


def describe_key(key: object) -> str:
    assert isinstance(key, tuple)
    return f"{key[1]} of {key[0]} starting {key[2]:%Y-%m-%d %H:%M} UTC"


def forget_source(store: Store, kind: str, source_id: int) -> None:
    delete_source_rows(store, "schedules", source_id)


def store_records(store: Store, kind: str, source_id: int, records: Sequence[dict[str, Any]],
                  report: ImportReport) -> None:
    """Insert the spans; a newer file replaces the same agent's spans with the same start and activity."""
    store.append_arrow("schedules", arrow_records(SCHEDULES, records))
    store.connection.execute(
        """
        DELETE FROM schedules s WHERE s.source_id <> ? AND EXISTS (
            SELECT 1 FROM schedules n WHERE n.source_id = ? AND n.agent_raw = s.agent_raw
              AND n.activity = s.activity AND n.start_utc = s.start_utc)
        """,
        [source_id, source_id],
    )
    if records:
        report.first_utc = min(r["start_utc"] for r in records)
        report.last_utc = max(r["end_utc"] for r in records)


# -- adherence ---------------------------------------------------------------------------------

_SLICES = """
    SELECT agent, sl AS slice_id, kind, reason,
        least(e, (sl + 1) * 900) - greatest(s, sl * 900) AS seconds
    FROM (SELECT *, unnest(generate_series(floor(s / 900)::BIGINT, ceil(e / 900)::BIGINT - 1)) AS sl FROM {spans})
"""


def rebuild_adherence(store: Store) -> None:
    """Rebuild ``adherence_time`` from ``schedules`` and ``agent_states`` (see the module docstring)."""
    con = store.connection
    con.execute("DELETE FROM adherence_time")
    if not store.has_rows("schedules"):
        return
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE biz_plan AS
        WITH b AS (
            SELECT agent, epoch(start_utc) AS t FROM schedules WHERE agent IS NOT NULL
            UNION SELECT agent, epoch(end_utc) FROM schedules WHERE agent IS NOT NULL
        ), seg AS (
            SELECT agent, t AS s, lead(t) OVER (PARTITION BY agent ORDER BY t) AS e FROM b
        )
        SELECT g.agent, g.s, g.e,
            CASE WHEN bool_or(p.activity <> 'work') THEN 'off' ELSE 'work' END AS plan
        FROM seg g JOIN schedules p ON p.agent = g.agent
            AND epoch(p.start_utc) <= g.s AND epoch(p.end_utc) >= g.e
        WHERE g.e > g.s
        GROUP BY ALL
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE biz_presence AS
        SELECT agent, state, reason, epoch(start_utc) AS s, epoch(end_utc) AS e FROM agent_states
        WHERE end_utc > start_utc AND agent IN (SELECT agent FROM biz_plan)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE biz_adherence_spans AS
        SELECT agent, 'scheduled_' || plan AS kind, NULL AS reason, s, e FROM biz_plan
        UNION ALL
        SELECT p.agent,
            p.plan || CASE WHEN a.state = 'logged_in' THEN '_logged_in' ELSE '_paused' END,
            CASE WHEN a.state = 'paused' THEN a.reason END,
            greatest(p.s, a.s), least(p.e, a.e)
        FROM biz_plan p JOIN biz_presence a ON a.agent = p.agent AND a.s < p.e AND p.s < a.e
        """
    )
    con.execute("INSERT INTO adherence_time " + _SLICES.format(spans="biz_adherence_spans")
                + " WHERE least(e, (sl + 1) * 900) > greatest(s, sl * 900)")
