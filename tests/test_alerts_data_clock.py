"""Issue 13 item 6: alerts on loaded history. Data whose newest call is older than
``alerts.live_within_h`` is checked as of its own end, and the words name that day, not "today"; a
window without calls is never worded as a breach (nor fires, whatever ``min_calls`` says)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callkpi.analyses import alerts
from callkpi.cli import _register_commands, app
from callkpi.config import AlertSettings, Settings
from callkpi.queries.web_tables import ensure_web_schema
from callkpi.storage import Store
from conftest import T0, load_text
from test_alerts import _day_log
from test_web_alerts import serve

LAST_CALL = datetime.fromtimestamp(T0 + 11 * 60, UTC)  # the day's last call enters the queue at 09:11
SALES_FIRING = {"queue:sales:service_level:today", "queue:sales:asa_s:today",
                "queue:sales:service_level:interval", "queue:sales:asa_s:interval"}


@pytest.fixture
def day_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "alerts.duckdb")
    ensure_web_schema(store)
    load_text(store, tmp_path, _day_log())
    try:
        yield store
    finally:
        store.close()


def test_history_is_checked_as_of_its_end_and_says_which_day(day_store: Store) -> None:
    a_week_later = LAST_CALL + timedelta(days=7)
    clock = alerts.evaluation_clock(day_store, Settings(), a_week_later)
    assert clock.kind == "data_end" and clock.moment - LAST_CALL < timedelta(seconds=2)
    states = alerts.evaluate(day_store, Settings(), clock=clock)
    assert {s.key for s in states if s.firing} == SALES_FIRING  # what fired that morning, not a day of 0 calls
    sl = next(s for s in states if s.key == "queue:sales:service_level:today")
    assert sl.period == "2026-03-02" and sl.calls == 12
    assert sl.message("en") == ("Service level 50.0 % (queue sales, on 2026-03-02 (the data's last day), 12 calls): "
                                "below the alert level 70.0 %, target 80.0 %")
    assert all("today" not in s.message("en") for s in states)
    assert "not live" in (clock.note("en") or "")


def test_live_data_is_checked_now(day_store: Store) -> None:
    an_hour_later = LAST_CALL + timedelta(hours=1)
    clock = alerts.evaluation_clock(day_store, Settings(), an_hour_later)
    assert clock.kind == "live" and clock.moment == an_hour_later and clock.note() is None
    shorter = Settings(alerts=AlertSettings(live_within_h=0.5))  # the threshold is the setting's
    assert alerts.evaluation_clock(day_store, shorter, an_hour_later).kind == "data_end"


def test_a_day_without_calls_is_no_breach(day_store: Store) -> None:
    next_day = LAST_CALL + timedelta(days=1)  # live (within 24 h) but nothing happened yet
    everything = Settings(alerts=AlertSettings(min_calls=0))
    states = alerts.evaluate(day_store, everything, clock=alerts.Clock(next_day))
    assert states and all(s.calls == 0 for s in states)
    assert not any(s.firing for s in states)
    for state in states:
        for lang, word in (("en", "alert level"), ("ru", "порог")):
            text = state.message(lang)
            assert word not in text and ("no calls" in text or "вызовов нет" in text), text


def test_few_calls_beyond_the_level_say_they_do_not_fire(day_store: Store) -> None:
    strict = Settings(alerts=AlertSettings(min_calls=50))
    states = alerts.evaluate(day_store, strict, clock=alerts.Clock(LAST_CALL))
    sl = next(s for s in states if s.key == "queue:sales:service_level:today")
    assert sl.status == "bad" and not sl.firing
    assert sl.message("en").endswith("(fewer than 50 calls: no alert)")
    good = next(s for s in states if s.key == "queue:support:service_level:today")
    assert good.message("en").endswith("within the target 80.0 %")


def test_cli_checks_history_as_of_its_end_and_says_so(day_store: Store) -> None:
    db = Path(day_store.path)
    day_store.close()
    _register_commands()
    result = CliRunner().invoke(app, ["alerts", "check", "--db", str(db), "--format", "json"])
    assert result.exit_code == 1, result.output  # it fired on the data's last day
    rows = json.loads(result.stdout)
    assert {f"{r['scope']}:{r['scope_value']}:{r['metric']}:{r['window']}" for r in rows} == SALES_FIRING
    assert {r["clock"] for r in rows} == {"data_end"} and all("today" not in r["message"] for r in rows)
    assert "not live" in result.stderr
    live = CliRunner().invoke(app, ["alerts", "check", "--db", str(db), "--as-of", "now", "--all",
                                    "--format", "json"])
    assert live.exit_code == 0, live.output  # today (the real one) has no calls: nothing fires
    assert all("alert level" not in r["message"] for r in json.loads(live.stdout))


def test_the_alerts_page_says_it_checked_as_of_the_data_end(tmp_path: Path) -> None:
    with serve(tmp_path) as running:
        running.monitor.run_once()  # the present: months after the data
        page = running.browser().get("/alerts")
        assert page.status_code == 200
        assert 'id="alerts-clock" data-clock="data_end"' in page.text
        assert "Firing now (4)" in page.text and "the data&#39;s last day" in page.text
