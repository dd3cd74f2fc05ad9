"""Dates typed day first (31.03.2026, as in Russia) are accepted by every option that takes a
date or a date-time, not only by `kpi --from/--to`: `simulate --start`, `alerts check --as-of`."""

from __future__ import annotations

from datetime import date, datetime

from callkpi.cli.common import parse_utc


def test_simulate_starts_on_a_day_first_date(cli, tmp_path) -> None:
    out = tmp_path / "sim"
    done = cli("simulate", "--out", out, "--days", "1", "--agents", "2", "--calls-per-day", "20", "--seed", "3",
               "--start", "02.03.2026", "--tz", "UTC")
    assert done.exit_code == 0, done.output
    first = (out / "queue_log").read_text().splitlines()[0]
    assert datetime.utcfromtimestamp(int(first.split("|")[0])).date() == date(2026, 3, 2)
    wrong = cli("simulate", "--out", tmp_path / "x", "--days", "1", "--start", "31.02.2026")
    assert wrong.exit_code == 2 and "31.03.2026" in wrong.stderr and "2026-03-31" in wrong.stderr


def test_a_moment_may_be_typed_day_first() -> None:
    assert parse_utc("31.03.2026 18:05") == datetime(2026, 3, 31, 18, 5)
    assert parse_utc("31.03.2026") == datetime(2026, 3, 31)
    assert parse_utc("2026-03-31T18:05+03:00") == datetime(2026, 3, 31, 15, 5)
