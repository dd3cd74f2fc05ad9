"""When a scheduled report is due, and which days it covers: pure functions of the wall clock of
the business time zone.

A schedule names local times ("mon 09:00"); each local date and time it names is a *slot*, known
by its local wall-clock text (``2026-03-30T09:00``), so a slot runs at most once whatever the
clocks do:

- a time that does not exist on a spring-forward day (02:30 when 02:00 jumps to 03:00) happens at
  the instant zoneinfo gives it with ``fold=0`` (03:30 local), once;
- a time that happens twice in autumn (the repeated hour) runs at its first occurrence only;
- after downtime only the newest slot that passed runs (once), not every slot missed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PERIODS = ("last-day", "last-week", "last-7-days", "last-month", "last-30-days")
LOOK_BACK_DAYS = 62  # far enough back to find the last slot of a monthly schedule
RETRY_BASE_S = 60.0
RETRY_MAX_S = 6 * 3600.0
MAX_ATTEMPTS = 6
_EVERY = re.compile(r"^\s*(?P<days>[a-z,]+|monthly\s+\d{1,2})?\s*(?P<h>\d{1,2}):(?P<m>\d{2})\s*$")


class BadSchedule(ValueError):
    """An ``--every`` or ``--period`` that cannot be read."""


@dataclass(frozen=True)
class Every:
    """Weekdays (0 = Monday) or a day of the month, and a local time."""

    at: time
    weekdays: frozenset[int] = frozenset(range(7))
    monthday: int | None = None

    def matches(self, day: date) -> bool:
        if self.monthday is not None:
            return day.day == self.monthday
        return day.weekday() in self.weekdays


def parse_every(text: str) -> Every:
    """``"mon 09:00"``, ``"mon,thu 08:30"``, ``"daily 07:00"`` (or just ``"07:00"``), ``"weekdays 09:00"``,
    ``"monthly 1 09:00"``."""
    match = _EVERY.match(text.lower())
    if not match:
        raise BadSchedule(f"cannot read {text!r}: expected e.g. 'mon 09:00', 'daily 07:00', 'monthly 1 09:00'")
    hour, minute = int(match["h"]), int(match["m"])
    if hour > 23 or minute > 59:
        raise BadSchedule(f"{text!r}: no such time of day")
    at = time(hour, minute)
    days = (match["days"] or "daily").strip()
    if days.startswith("monthly"):
        monthday = int(days.split()[1])
        if not 1 <= monthday <= 28:
            raise BadSchedule(f"{text!r}: the day of the month must be 1 to 28 (every month has it)")
        return Every(at, monthday=monthday)
    if days == "daily":
        return Every(at)
    if days == "weekdays":
        return Every(at, frozenset(range(5)))
    names = [name for name in days.split(",") if name]
    unknown = [name for name in names if name not in WEEKDAYS]
    if unknown or not names:
        raise BadSchedule(f"{text!r}: unknown day {', '.join(unknown)}; use {', '.join(WEEKDAYS)}, daily, weekdays")
    return Every(at, frozenset(WEEKDAYS.index(name) for name in names))


def slot_instant(slot: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local slot (``fold=0``: the first of a repeated time; a skipped time at
    the offset before the jump)."""
    return slot.replace(tzinfo=zone, fold=0).astimezone(UTC)


def latest_slot(every: Every, now_utc: datetime, zone: ZoneInfo) -> datetime | None:
    """The newest local slot (naive local datetime) whose instant is not after ``now_utc``."""
    today = now_utc.astimezone(zone).date()
    for back in range(LOOK_BACK_DAYS + 1):
        day = today - timedelta(days=back)
        if every.matches(day):
            slot = datetime.combine(day, every.at)
            if slot_instant(slot, zone) <= now_utc:
                return slot
    return None


def slot_text(slot: datetime) -> str:
    return slot.strftime("%Y-%m-%dT%H:%M")


def due_slot(every: Every, now_utc: datetime, zone: ZoneInfo, last_slot: str | None,
             created_utc: datetime) -> datetime | None:
    """The slot to run now, if any: the newest one passed, unless it already ran (``last_slot``) or
    came before the schedule was created."""
    slot = latest_slot(every, now_utc, zone)
    if slot is None:
        return None
    if last_slot is not None and slot_text(slot) <= last_slot:
        return None
    if slot_instant(slot, zone) < _utc(created_utc):
        return None
    return slot


def next_slot(every: Every, now_utc: datetime, zone: ZoneInfo) -> datetime:
    """The first local slot whose instant is after ``now_utc``."""
    day = now_utc.astimezone(zone).date()
    while True:
        if every.matches(day):
            slot = datetime.combine(day, every.at)
            if slot_instant(slot, zone) > now_utc:
                return slot
        day += timedelta(days=1)


def period_for(period: str, run_day: date) -> tuple[date, date]:
    """The days a report run on ``run_day`` covers (all before ``run_day``)."""
    yesterday = run_day - timedelta(days=1)
    if period == "last-day":
        return yesterday, yesterday
    if period == "last-week":  # the Monday-to-Sunday week before the run's week
        monday = run_day - timedelta(days=run_day.weekday() + 7)
        return monday, monday + timedelta(days=6)
    if period == "last-7-days":
        return run_day - timedelta(days=7), yesterday
    if period == "last-30-days":
        return run_day - timedelta(days=30), yesterday
    if period == "last-month":
        last = run_day.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    raise BadSchedule(f"period must be one of {', '.join(PERIODS)}")


def retry_delay_s(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: 1, 4, 16, 64 minutes..., at most 6 h."""
    return min(RETRY_BASE_S * 4 ** max(attempts - 1, 0), RETRY_MAX_S)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
