"""Alerts: targets' warning levels compared with today's and this interval's KPIs, recorded once per
firing, resolved, posted to webhooks, and checked from the CLI (exit status 1 while one fires)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callkpi.analyses import alerts
from callkpi.cli import _register_commands, app
from callkpi.config import AlertSettings, Settings
from callkpi.queries.targets import save_target
from callkpi.queries.web_tables import ensure_web_schema
from callkpi.storage import Store
from conftest import T0, Webhook, load_text, ql_line

# T0 is 2026-03-02 09:00 UTC. Twelve calls per queue, one a minute from 09:00, each answered by
# its own agent: in `sales` six wait 5 s and six wait 60 s (service level in 20 s = 6/12 = 50 %,
# ASA = (6*5 + 6*60) / 12 = 32.5 s), in `support` all wait 5 s (100 %, 5 s).
# Together: service level 18/24 = 75 % (amber: between the warning level 70 % and the target 80 %),
# ASA (12*5 + 6*60) / 24 = 17.5 s (amber), abandon rate 0 %.
NOW = datetime.fromtimestamp(T0 + 20 * 60, UTC)  # 09:20, inside the 09:00 interval (30 minutes)


def _day_log() -> str:
    lines = []
    for queue, waits in (("sales", [5] * 6 + [60] * 6), ("support", [5] * 12)):
        for n, wait in enumerate(waits):
            start = T0 + n * 60
            call = f"{start}.{queue}{n}"
            agent = f"SIP/{queue}{n}"
            lines += [
                ql_line(start, call, queue, "NONE", "ENTERQUEUE", "", f"7495000{n:04d}", 1),
                ql_line(start + wait, call, queue, agent, "CONNECT", wait, f"{call}.1", 1),
                ql_line(start + wait + 30, call, queue, agent, "COMPLETEAGENT", wait, 30, 1),
            ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def day_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "alerts.duckdb")
    ensure_web_schema(store)
    load_text(store, tmp_path, _day_log())
    try:
        yield store
    finally:
        store.close()


def _firing(states: list[alerts.AlertState]) -> set[str]:
    return {s.key for s in states if s.firing}


def test_breaches_of_the_warning_level_fire_per_queue_and_window(day_store: Store) -> None:
    states = alerts.evaluate(day_store, Settings(), now=NOW)
    assert _firing(states) == {
        "queue:sales:service_level:today", "queue:sales:asa_s:today",
        "queue:sales:service_level:interval", "queue:sales:asa_s:interval",
    }
    by_key = {s.key: s for s in states}
    assert by_key["queue:sales:service_level:today"].value == pytest.approx(0.5)
    assert by_key["queue:sales:asa_s:today"].value == pytest.approx(32.5)
    overall = by_key["all:*:service_level:today"]
    assert overall.value == pytest.approx(0.75) and overall.status == "warn" and not overall.firing
    assert by_key["queue:support:service_level:today"].status == "good"
    assert by_key["queue:sales:service_level:interval"].period == "2026-03-02T09:00:00+00:00"
    assert by_key["queue:sales:service_level:today"].calls == 12


def test_few_calls_do_not_fire(day_store: Store) -> None:
    settings = Settings(alerts=AlertSettings(min_calls=13))
    states = alerts.evaluate(day_store, settings, now=NOW)
    assert not _firing(states)
    assert {s.status for s in states if s.scope_value == "sales"} == {"bad", "good"}


def test_a_queue_target_overrides_the_default(day_store: Store) -> None:
    save_target(day_store, "queue", "sales", "service_level", 0.5, 0.4, "admin")
    states = alerts.evaluate(day_store, Settings(), now=NOW, windows=("today",))
    assert _firing(states) == {"queue:sales:asa_s:today"}


def test_another_day_has_no_data_and_no_alert(day_store: Store) -> None:
    assert not _firing(alerts.evaluate(day_store, Settings(), now=datetime(2026, 3, 3, 9, 20, tzinfo=UTC)))


def test_interval_label_follows_the_business_zone(tmp_path: Path) -> None:
    with Store(tmp_path / "msk.duckdb") as store:
        store.set_meta("timezone", "Europe/Moscow")  # as `callkpi ingest --tz Europe/Moscow` records it
        load_text(store, tmp_path, _day_log(), tz="Europe/Moscow")
        states = alerts.evaluate(store, Settings(), now=NOW, windows=("interval",))
    assert {s.period for s in states} == {"2026-03-02T12:00:00+03:00"}
    assert "queue:sales:service_level:interval" in _firing(states)


def test_an_alert_is_recorded_once_and_resolves(day_store: Store) -> None:
    states = alerts.evaluate(day_store, Settings(), now=NOW, windows=("today",))
    fired = alerts.record(day_store, states, NOW)
    assert {(c.change, c.state.key) for c in fired} == {
        ("fired", "queue:sales:service_level:today"), ("fired", "queue:sales:asa_s:today")}
    assert alerts.record(day_store, states, NOW) == []
    save_target(day_store, "queue", "sales", "asa_s", 30.0, 40.0, "admin")
    later = alerts.evaluate(day_store, Settings(), now=NOW, windows=("today",))
    resolved = alerts.record(day_store, later, NOW)
    assert [(c.change, c.state.key) for c in resolved] == [("resolved", "queue:sales:asa_s:today")]
    events = alerts.history(day_store)
    assert len(events) == 2
    assert {e["alert_key"]: e["resolved_utc"] is None for e in events} == {
        "queue:sales:service_level:today": True, "queue:sales:asa_s:today": False}
    asa = next(c.state for c in fired if c.state.metric == "asa_s")
    assert asa.message("en") == ("Average speed of answer 32 s (queue sales, today, 12 calls): "
                                 "above the alert level 30 s, target 15 s")


def test_changes_are_posted_to_webhooks_and_failures_reported(day_store: Store, webhook: Webhook) -> None:
    settings = Settings(alerts=AlertSettings(webhooks=(webhook.url, "http://127.0.0.1:9/nothing-listens"),
                                             language="ru", webhook_timeout_s=2))
    changes = alerts.record(day_store, alerts.evaluate(day_store, settings, now=NOW, windows=("today",)), NOW)
    errors = alerts.notify(changes, settings)
    assert len(webhook.received) == 2 and len(errors) == 2
    texts = sorted(p["text"] for p in webhook.received)
    assert all(t.startswith("🔴 Тревога: ") and "очередь sales" in t for t in texts)
    assert {p["alert"]["key"] for p in webhook.received} == {
        "queue:sales:service_level:today", "queue:sales:asa_s:today"}
    assert all("nothing-listens" in e for e in errors)


def test_cli_check_exits_1_while_an_alert_fires(day_store: Store, tmp_path: Path) -> None:
    db = Path(day_store.path)
    day_store.close()
    _register_commands()
    runner = CliRunner()
    firing = runner.invoke(app, ["alerts", "check", "--db", str(db), "--as-of", "2026-03-02T09:20",
                                 "--format", "json", "--notify"])
    assert firing.exit_code == 1, firing.output
    rows = json.loads(firing.output)
    assert {(r["scope_value"], r["metric"], r["window"]) for r in rows} == {
        ("sales", "service_level", "today"), ("sales", "asa_s", "today"),
        ("sales", "service_level", "interval"), ("sales", "asa_s", "interval")}
    history = runner.invoke(app, ["alerts", "history", "--db", str(db), "--format", "json"])
    assert history.exit_code == 0 and len(json.loads(history.output)) == 4
    quiet = runner.invoke(app, ["alerts", "check", "--db", str(db), "--as-of", "2026-03-03T09:20"])
    assert quiet.exit_code == 0, quiet.output
