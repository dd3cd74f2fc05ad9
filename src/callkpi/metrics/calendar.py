"""Local calendar of 15-minute UTC slices: the one place where time zones are applied.

Every zone in use today is offset from UTC by a multiple of 15 minutes, so each UTC slice lies
inside one local day, hour and 15/30/60-minute interval. Reports join facts to this small table
on the slice number; DST days get their 23 or 25 hours naturally.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from callkpi.model.schema import SLICE_SECONDS
from callkpi.storage.lazy import pa

TIME_DIMENSIONS = ("hour", "day", "week", "month", "interval", "weekday", "time_of_day")


@lru_cache(maxsize=32)
def calendar_table(timezone: str, first_slice: int, last_slice: int, interval_minutes: int) -> pa.Table:
    """One row per slice in [first_slice, last_slice] with its local day, hour, week, month, interval."""
    zone = ZoneInfo(timezone)
    slices = range(first_slice, last_slice + 1)
    hours, days, weeks, months, intervals, weekdays, times = [], [], [], [], [], [], []
    for slice_id in slices:
        local = datetime.fromtimestamp(slice_id * SLICE_SECONDS, UTC).astimezone(zone)
        day = local.date()
        hours.append(local.hour)
        days.append(day.isoformat())
        weeks.append((day - timedelta(days=day.weekday())).isoformat())
        months.append(f"{day.year:04d}-{day.month:02d}")
        start_minute = (local.minute // interval_minutes) * interval_minutes
        intervals.append(local.replace(minute=start_minute, second=0, microsecond=0).isoformat())
        weekdays.append(day.isoweekday())
        times.append(f"{local.hour:02d}:{start_minute:02d}")
    return pa.table(
        {
            "slice_id": _int64s(slices),
            "hour": _int64s(hours),
            "day": _strings(days),
            "week": _strings(weeks),
            "month": _strings(months),
            "interval": _strings(intervals),
            "weekday": _int64s(weekdays),
            "time_of_day": _strings(times),
        }
    )


# The columns are made from buffers, not converted from Python values: pyarrow's first conversion
# of a Python value imports pandas (half a second), which a report by day does not need.
def _int64s(values: Sequence[int]) -> pa.Array:
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(array("q", values))])


def _strings(values: Sequence[str]) -> pa.Array:
    encoded = [value.encode() for value in values]
    offsets = array("i", [0])
    for item in encoded:
        offsets.append(offsets[-1] + len(item))
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(values), buffers)


def local_midnight_slice(day: date, timezone: str) -> int:
    """Number of the first slice of a local day (the day's 00:00, or the first valid time after)."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), zone)
    epoch = int(start.timestamp())
    # A day that starts inside a DST gap: step forward to the first slice of that local date.
    slice_id = epoch // SLICE_SECONDS
    while datetime.fromtimestamp(slice_id * SLICE_SECONDS, UTC).astimezone(zone).date() < day:
        slice_id += 1
    while datetime.fromtimestamp((slice_id - 1) * SLICE_SECONDS, UTC).astimezone(zone).date() == day:
        slice_id -= 1
    return slice_id


def slice_range(date_from: date | None, date_to: date | None, timezone: str) -> tuple[int | None, int | None]:
    """[first, end) slice numbers for local dates from..to inclusive."""
    first = local_midnight_slice(date_from, timezone) if date_from else None
    end = local_midnight_slice(date_to + timedelta(days=1), timezone) if date_to else None
    return first, end
