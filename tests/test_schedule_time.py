"""When a scheduled report is due (:mod:`callkpi.report.schedule_time`): table tests around the DST
changes of Europe/Berlin in 2026 (29 March 02:00 -> 03:00, 25 October 03:00 -> 02:00) and properties
over random schedules and random check times: a slot runs at most once, after downtime once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callkpi.report.schedule_time import (
    BadSchedule,
    Every,
    due_slot,
    next_slot,
    parse_every,
    period_for,
    retry_delay_s,
    slot_text,
)

BERLIN = ZoneInfo("Europe/Berlin")
CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def _simulate(every: Every, checks: list[datetime], zone: ZoneInfo, created: datetime = CREATED) -> list[str]:
    """The slots that run when the runner checks at these instants (as ``run_due`` does)."""
    last: str | None = None
    ran = []
    for now in checks:
        slot = due_slot(every, now, zone, last, created)
        if slot is not None:
            last = slot_text(slot)
            ran.append(last)
    return ran


def _every_minutes(start: datetime, end: datetime, minutes: int) -> list[datetime]:
    out, now = [], start
    while now <= end:
        out.append(now)
        now += timedelta(minutes=minutes)
    return out


@pytest.mark.parametrize(("text", "expected"), [
    ("mon 09:00", Every(datetime(2000, 1, 1, 9).time(), frozenset({0}))),
    ("Mon,Thu 08:30", Every(datetime(2000, 1, 1, 8, 30).time(), frozenset({0, 3}))),
    ("daily 07:00", Every(datetime(2000, 1, 1, 7).time())),
    ("07:00", Every(datetime(2000, 1, 1, 7).time())),
    ("weekdays 09:15", Every(datetime(2000, 1, 1, 9, 15).time(), frozenset(range(5)))),
    ("monthly 1 06:00", Every(datetime(2000, 1, 1, 6).time(), monthday=1)),
])
def test_every_reads_days_and_a_time(text: str, expected: Every) -> None:
    assert parse_every(text) == expected


@pytest.mark.parametrize("text", ["", "mon", "funday 09:00", "mon 25:00", "mon 09:60", "monthly 31 09:00"])
def test_an_unreadable_every_is_refused(text: str) -> None:
    with pytest.raises(BadSchedule):
        parse_every(text)


@pytest.mark.parametrize(("day", "minutes"), [(date(2026, 3, 29), 1), (date(2026, 3, 29), 5),
                                              (date(2026, 10, 25), 1), (date(2026, 10, 25), 7)])
def test_a_time_skipped_or_repeated_by_dst_runs_once(day: date, minutes: int) -> None:
    # 02:30 does not exist on 29 March (02:00 -> 03:00) and happens twice on 25 October
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=1)
    checks = _every_minutes(start, start + timedelta(days=3), minutes)
    ran = _simulate(parse_every("daily 02:30"), checks, BERLIN)
    # the first check catches up the day before; then each day once, the DST day too
    assert ran == [f"{(day + timedelta(days=n)).isoformat()}T02:30" for n in (-2, -1, 0, 1)]


def test_the_skipped_time_runs_at_the_instant_after_the_jump() -> None:
    every = parse_every("daily 02:30")
    before = datetime(2026, 3, 29, 0, 59, tzinfo=UTC)  # 01:59 CET
    assert due_slot(every, before, BERLIN, "2026-03-28T02:30", CREATED) is None
    at = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST: 02:30 at the offset before the jump
    assert slot_text(due_slot(every, at, BERLIN, "2026-03-28T02:30", CREATED)) == "2026-03-29T02:30"


def test_the_repeated_hour_runs_at_its_first_occurrence() -> None:
    every = parse_every("daily 02:30")
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    assert slot_text(due_slot(every, first, BERLIN, "2026-10-24T02:30", CREATED)) == "2026-10-25T02:30"
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, again
    assert due_slot(every, second, BERLIN, "2026-10-25T02:30", CREATED) is None


def test_a_year_of_checks_every_five_minutes_runs_a_daily_report_every_day_once() -> None:
    checks = _every_minutes(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, 23, 55, tzinfo=UTC), 5)
    ran = _simulate(parse_every("daily 02:30"), checks, BERLIN)
    assert len(ran) == 365 and len(set(ran)) == 365


def test_downtime_runs_the_missed_report_once_at_the_next_check() -> None:
    every = parse_every("mon 09:00")
    # up until Monday 5 January 08:00, down for three weeks, back on Wednesday 28 January
    checks = [datetime(2026, 1, 5, 7, tzinfo=UTC), datetime(2026, 1, 28, 12, tzinfo=UTC),
              datetime(2026, 1, 28, 12, 5, tzinfo=UTC)]
    assert _simulate(every, checks, BERLIN) == ["2026-01-26T09:00"]  # the newest missed Monday only


def test_a_schedule_created_after_the_slot_waits_for_the_next() -> None:
    every = parse_every("daily 09:00")
    created = datetime(2026, 2, 2, 10, tzinfo=UTC)  # 11:00 Berlin, after today's 09:00
    assert due_slot(every, datetime(2026, 2, 2, 11, tzinfo=UTC), BERLIN, None, created) is None
    assert slot_text(due_slot(every, datetime(2026, 2, 3, 8, tzinfo=UTC), BERLIN, None, created)) == "2026-02-03T09:00"


def test_next_slot_is_the_first_in_the_future() -> None:
    assert next_slot(parse_every("mon 09:00"), datetime(2026, 3, 2, 8, tzinfo=UTC), BERLIN) == datetime(2026, 3, 9, 9)
    assert next_slot(parse_every("mon 09:00"), datetime(2026, 3, 2, 7, tzinfo=UTC), BERLIN) == datetime(2026, 3, 2, 9)


@pytest.mark.parametrize(("period", "run_day", "expected"), [
    ("last-day", date(2026, 3, 3), (date(2026, 3, 2), date(2026, 3, 2))),
    ("last-week", date(2026, 3, 9), (date(2026, 3, 2), date(2026, 3, 8))),  # run on Monday
    ("last-week", date(2026, 3, 12), (date(2026, 3, 2), date(2026, 3, 8))),  # run on Thursday
    ("last-7-days", date(2026, 3, 12), (date(2026, 3, 5), date(2026, 3, 11))),
    ("last-30-days", date(2026, 3, 31), (date(2026, 3, 1), date(2026, 3, 30))),
    ("last-month", date(2026, 3, 1), (date(2026, 2, 1), date(2026, 2, 28))),
    ("last-month", date(2026, 1, 15), (date(2025, 12, 1), date(2025, 12, 31))),
])
def test_periods_cover_the_days_before_the_run(period: str, run_day: date, expected: tuple[date, date]) -> None:
    assert period_for(period, run_day) == expected


def test_retries_back_off_to_a_ceiling() -> None:
    assert [retry_delay_s(n) for n in (1, 2, 3, 4)] == [60, 240, 960, 3840]
    assert retry_delay_s(20) == 6 * 3600


EVERY = st.builds(
    lambda days, hour, minute, monthday: parse_every(
        f"monthly {monthday} {hour}:{minute:02d}" if monthday else f"{','.join(days)} {hour}:{minute:02d}"),
    st.lists(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), min_size=1, unique=True),
    st.integers(0, 23), st.integers(0, 59), st.one_of(st.none(), st.integers(1, 28)),
)
ZONES = st.sampled_from(["Europe/Berlin", "America/New_York", "Europe/Moscow", "Australia/Sydney", "UTC"])
GAPS = st.lists(st.integers(1, 60 * 24 * 20), min_size=1, max_size=40)  # minutes between two checks


@settings(max_examples=150, deadline=None)
@given(EVERY, ZONES, GAPS, st.integers(0, 365 * 24 * 60))
def test_each_slot_runs_at_most_once_and_never_early(every: Every, zone_name: str, gaps: list[int],
                                                      offset: int) -> None:
    zone = ZoneInfo(zone_name)
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=offset)
    checks = [start]
    for gap in gaps:
        checks.append(checks[-1] + timedelta(minutes=gap))
    last: str | None = None
    ran: list[str] = []
    for before, now in zip([None, *checks], checks, strict=False):
        slot = due_slot(every, now, zone, last, CREATED)
        if slot is None:
            continue
        assert slot.replace(tzinfo=zone, fold=0).astimezone(UTC) <= now  # never early
        if before is not None:  # the newest slot passed since the previous check, not an older one
            assert next_slot(every, slot.replace(tzinfo=zone, fold=0).astimezone(UTC), zone).replace(
                tzinfo=zone, fold=0).astimezone(UTC) > now
        last = slot_text(slot)
        ran.append(last)
    assert ran == sorted(set(ran))  # each slot once, in order
