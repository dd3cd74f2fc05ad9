"""The report schedules and their send log (tables of :mod:`callkpi.model.web_schema`:
``report_schedules``, ``report_schedule_runs``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from callkpi.model.web_schema import SCHEDULE_RUNS, SCHEDULE_TABLES, SCHEDULES
from callkpi.storage import Store, first_row


@dataclass(frozen=True)
class Schedule:
    schedule_id: int
    every: str
    report: str
    period: str
    format: str
    recipients: tuple[str, ...]
    queues: tuple[str, ...] = ()
    agent: str | None = None
    lang: str = "en"
    created_by: str = ""
    created_utc: datetime | None = None
    last_slot: str | None = None


def ensure_schedule_schema(store: Store) -> None:
    # only when missing, as the alert history: creating writes the schema version into `meta`
    if not (store.has_table(SCHEDULES.name) and store.has_table(SCHEDULE_RUNS.name)):
        store.ensure_schema(SCHEDULE_TABLES)


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(part for part in (text or "").split(",") if part)


def _schedule(row: tuple[Any, ...]) -> Schedule:
    sid, every, report, period, fmt, to, queues, agent, lang, by, created, last = row
    return Schedule(int(sid), every, report, period, fmt, _split(to), _split(queues), agent or None, lang or "en",
                    by or "", created, last)


def list_schedules(store: Store) -> list[Schedule]:
    ensure_schedule_schema(store)
    rows = store.fetch_all(
        "SELECT schedule_id, every, report, period, format, recipients, queues, agent, lang, created_by, "
        "created_utc, last_slot FROM report_schedules ORDER BY schedule_id")
    return [_schedule(row) for row in rows]


def get_schedule(store: Store, schedule_id: int) -> Schedule | None:
    ensure_schedule_schema(store)
    rows = store.fetch_all(
        "SELECT schedule_id, every, report, period, format, recipients, queues, agent, lang, created_by, "
        "created_utc, last_slot FROM report_schedules WHERE schedule_id = ?", [schedule_id])
    return _schedule(rows[0]) if rows else None


def add_schedule(store: Store, schedule: Schedule, created_utc: datetime) -> int:
    """Store a new schedule; its id (one more than the highest so far)."""
    ensure_schedule_schema(store)
    row = first_row(store.fetch_all("SELECT coalesce(max(schedule_id), 0) + 1 FROM report_schedules"))
    new_id = int(row[0]) if row else 1
    store.execute(
        "INSERT INTO report_schedules VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        [new_id, schedule.every, schedule.report, schedule.period, schedule.format, ",".join(schedule.recipients),
         ",".join(schedule.queues), schedule.agent, schedule.lang, schedule.created_by, created_utc])
    return new_id


def remove_schedule(store: Store, schedule_id: int) -> bool:
    """Delete a schedule and its log; whether it existed."""
    if get_schedule(store, schedule_id) is None:
        return False
    store.execute("DELETE FROM report_schedule_runs WHERE schedule_id = ?", [schedule_id])
    store.execute("DELETE FROM report_schedules WHERE schedule_id = ?", [schedule_id])
    return True


def mark_slot(store: Store, schedule_id: int, slot: str) -> None:
    """The schedule's slot ``slot`` has been taken (sent, or logged for retrying)."""
    store.execute("UPDATE report_schedules SET last_slot = ? WHERE schedule_id = ?", [slot, schedule_id])


@dataclass(frozen=True)
class RunRecord:
    schedule_id: int
    slot: str
    status: str
    attempts: int
    error: str | None
    first_utc: datetime
    last_utc: datetime
    next_retry_utc: datetime | None
    date_from: date
    date_to: date
    size: int | None


def save_run(store: Store, run: RunRecord) -> None:
    """Log a try (a new one, or the next attempt of the same schedule and slot)."""
    ensure_schedule_schema(store)
    store.execute(
        "INSERT OR REPLACE INTO report_schedule_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run.schedule_id, run.slot, run.status, run.attempts, run.error, run.first_utc, run.last_utc,
         run.next_retry_utc, run.date_from, run.date_to, run.size])


def _run(row: tuple[Any, ...]) -> RunRecord:
    return RunRecord(int(row[0]), row[1], row[2], int(row[3]), row[4], row[5], row[6], row[7], row[8], row[9],
                     None if row[10] is None else int(row[10]))


def retries_due(store: Store, now_utc: datetime) -> list[RunRecord]:
    """Failed sends whose next try is due, oldest first."""
    ensure_schedule_schema(store)
    rows = store.fetch_all(
        "SELECT * FROM report_schedule_runs WHERE status = 'failed' AND next_retry_utc <= ? "
        "ORDER BY next_retry_utc, schedule_id", [now_utc])
    return [_run(row) for row in rows]


def recent_runs(store: Store, schedule_id: int | None = None, limit: int = 50) -> list[RunRecord]:
    """The send log, newest first (of one schedule or all)."""
    ensure_schedule_schema(store)
    if schedule_id is None:
        rows = store.fetch_all("SELECT * FROM report_schedule_runs ORDER BY last_utc DESC LIMIT ?", [limit])
    else:
        rows = store.fetch_all("SELECT * FROM report_schedule_runs WHERE schedule_id = ? ORDER BY last_utc DESC "
                               "LIMIT ?", [schedule_id, limit])
    return [_run(row) for row in rows]
