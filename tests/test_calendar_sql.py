"""The calendar written as DuckDB SQL (callkpi.metrics.calendar.calendar_sql) has the rows of the
Python calendar (calendar_table: each slice through zoneinfo), around every kind of offset change:
summer time of one hour, of 30 minutes (Lord Howe), at a quarter-hour offset (Chatham, Kathmandu),
and Moscow's permanent changes of 2011 and 2014."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from callkpi.metrics.calendar import calendar_sql, calendar_table
from callkpi.model.schema import SLICE_SECONDS
from callkpi.storage import Store

AROUND = (
    ("Europe/Berlin", "2026-03-29"), ("Europe/Berlin", "2026-10-25"), ("America/New_York", "2026-11-01"),
    ("Australia/Lord_Howe", "2027-04-04"), ("Australia/Lord_Howe", "2026-10-04"), ("Pacific/Chatham", "2027-04-04"),
    ("Pacific/Chatham", "2026-09-27"), ("Asia/Kathmandu", "2026-06-01"), ("Europe/Moscow", "2011-03-27"),
    ("Europe/Moscow", "2014-10-26"), ("UTC", "2026-01-01"),
)


def _slice(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()) // SLICE_SECONDS


@pytest.mark.parametrize(("zone", "day"), AROUND)
@pytest.mark.parametrize("minutes", [15, 30, 60])
def test_the_sql_calendar_has_the_python_calendars_rows(zone: str, day: str, minutes: int) -> None:
    first = _slice(day) - 3 * 96 + 7  # three days before, from an odd slice, to four days after
    last = _slice(day) + 4 * 96
    expected = calendar_table(zone, first, last, minutes).to_pylist()
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        cursor = con.execute(calendar_sql(zone, first, last, minutes))
        names = [d[0] for d in cursor.description]
        got = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    assert got == expected


def test_a_calendar_is_made_once_per_connection_whichever_way_it_was_asked_for() -> None:
    """A calendar's name says its content: a connection that reads it already (made from SQL by
    one query, or from Arrow by a compilation) does not make it again, which DuckDB would refuse."""
    import pyarrow as pa

    with Store(":memory:") as store:
        store.register_query("callkpi_calendar_test", "SELECT 1 AS slice_id")
        store.register_arrow("callkpi_calendar_test", pa.table({"slice_id": [1]}))
        store.register_arrow("callkpi_calendar_arrow", pa.table({"slice_id": [2]}))
        store.register_query("callkpi_calendar_arrow", "SELECT 2 AS slice_id")
        again = Store.__new__(Store)  # another store object over the same connection, as the web's
        again.__dict__.update({k: v for k, v in store.__dict__.items() if k != "_registered_names"})
        again.register_query("callkpi_calendar_test", "SELECT 1 AS slice_id")
        again.register_arrow("callkpi_calendar_arrow", pa.table({"slice_id": [2]}))
        assert store.fetch_all('SELECT slice_id FROM "callkpi_calendar_test"') == [(1,)]
        assert store.fetch_all('SELECT slice_id FROM "callkpi_calendar_arrow"') == [(2,)]
