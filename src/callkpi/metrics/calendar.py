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


# How often the zone's offset is looked at when the calendar is written as SQL: every zone change
# in the tz database is more than this many slices (six hours) from the next.
_OFFSET_STEP = 24


def calendar_sql(timezone: str, first_slice: int, last_slice: int, interval_minutes: int) -> str:
    """The rows of :func:`calendar_table` as a DuckDB query, for an engine that runs it without
    Arrow (a report of a few rows need not import pyarrow and NumPy for its calendar). Python's
    zone rules still decide every offset: the query only adds them to the slice times."""
    zone = ZoneInfo(timezone)
    minutes = int(interval_minutes)
    segments = _offset_segments(zone, first_slice, last_slice)
    parts = [f"({low}, {high}, {offset}, '{label}')" for low, high, offset, label in segments]
    # An interval that starts before a change of offset is written with the offset Python gives its start.
    exceptions = [f"({slice_id}, '{label}')" for slice_id, label in _interval_labels(zone, segments, minutes)]
    local = f"make_timestamp((r * {SLICE_SECONDS} + o.off) * 1000000)"
    start = f"{local} - to_minutes(minute({local}) % {minutes})"
    label = "coalesce(x.label, o.label)" if exceptions else "o.label"
    others = (f"LEFT JOIN (VALUES {', '.join(exceptions)}) AS x(slice_at, label) ON r = x.slice_at "
              if exceptions else "")
    columns = (f"r AS slice_id, hour({local})::BIGINT AS hour, strftime({local}, '%Y-%m-%d') AS day, "
               f"strftime(date_trunc('week', {local}), '%Y-%m-%d') AS week, strftime({local}, '%Y-%m') AS month, "
               f"strftime({start}, '%Y-%m-%dT%H:%M:%S') || {label} AS interval, "
               f"isodow({local})::BIGINT AS weekday, strftime({start}, '%H:%M') AS time_of_day")
    return (f"SELECT {columns} FROM range({int(first_slice)}, {int(last_slice) + 1}) AS s(r) "  # noqa: S608 - our numbers
            f"JOIN (VALUES {', '.join(parts)}) AS o(lo, hi, off, label) ON r BETWEEN o.lo AND o.hi {others}ORDER BY r")


def _interval_labels(zone: ZoneInfo, segments: list[tuple[int, int, int, str]],
                     minutes: int) -> list[tuple[int, str]]:
    """Slices near a change of offset whose interval's start has another offset than the slice
    (Python writes a start inside a repeated or skipped local hour with the offset its fold gives)."""
    reach = (minutes + 180) * 60 // SLICE_SECONDS  # every change in the tz database is under 3 hours
    first, last = segments[0][0], segments[-1][1]
    near = sorted({slice_id for low, _, _, _ in segments
                   for slice_id in range(max(first, low - reach), min(last, low + reach) + 1)})
    found = []
    labels = iter(segments)
    _, high, _, label = next(labels)
    for slice_id in near:
        while slice_id > high:
            _, high, _, label = next(labels)
        local = datetime.fromtimestamp(slice_id * SLICE_SECONDS, UTC).astimezone(zone)
        start = local.replace(minute=(local.minute // minutes) * minutes, second=0, microsecond=0)
        if start.isoformat()[19:] != label:
            found.append((slice_id, start.isoformat()[19:]))
    return found


def _offset_segments(zone: ZoneInfo, first: int, last: int) -> list[tuple[int, int, int, str]]:
    """Runs of slices with one UTC offset: (first slice, last slice, offset in seconds, the offset as
    ``datetime.isoformat`` writes it, e.g. ``+03:00``)."""
    def offset(slice_id: int) -> tuple[int, str]:
        local = datetime.fromtimestamp(slice_id * SLICE_SECONDS, UTC).astimezone(zone)
        delta = local.utcoffset()
        assert delta is not None
        return int(delta.total_seconds()), local.isoformat()[19:]

    segments: list[tuple[int, int, int, str]] = []
    low, current = first, offset(first)
    probe = first
    while probe < last:
        step = min(probe + _OFFSET_STEP, last)
        if offset(step) != current:  # the change is in (probe, step]: find its first slice
            before, after = probe, step
            while after - before > 1:
                middle = (before + after) // 2
                before, after = (middle, after) if offset(middle) == current else (before, middle)
            segments.append((low, before, *current))
            low, current = after, offset(after)
            step = after
        probe = step
    segments.append((low, last, *current))
    return segments


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
