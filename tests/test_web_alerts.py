"""Alerts in the server: the monitor checks them (here one check at a time with ``run_once``, as of
09:20 on the day of ``test_alerts``: queue ``sales`` breaches service level and ASA, today and in the
09:00 interval, ``support`` is fine), ``GET /api/v1/alerts`` and the ``/alerts`` page show them in the
user's scope and language, the nav badge counts them, the wallboard lists them, webhooks get each
fired alert once.

Users: admin, ``sup`` (supervisor of ``support``), ``sup_sales`` (supervisor of ``sales``) and
``agent1`` (agent ``sales0``), each with a token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from callkpi.analyses import alerts
from callkpi.config import AlertSettings, Settings
from callkpi.queries.web_tables import ensure_web_schema
from callkpi.storage import Store
from callkpi.web.app import create_app
from callkpi.web.auth import create_token, create_user
from callkpi.web.features.alert_monitor import AlertMonitor, MonitorOptions
from callkpi.web.watch import WatchOptions
from conftest import Webhook, load_text, write_log
from store_copies import copied
from test_alerts import NOW, _day_log
from test_web_watch import PASSWORD, login

SALES_FIRING = {"queue:sales:service_level:today", "queue:sales:asa_s:today",
                "queue:sales:service_level:interval", "queue:sales:asa_s:interval"}
# The sales service-level alert of today, as `callkpi.analyses.alerts` words it.
SL_TODAY = alerts.AlertState("service_level", "queue", "sales", "today", "2026-03-02", 0.5, 0.8, 0.7, 12, 10)
USERS = {"admin": ("admin", {}), "sup": ("supervisor", {"queues": ("support",)}),
         "sup_sales": ("supervisor", {"queues": ("sales",)}), "agent1": ("agent", {"agent": "sales0"})}


def build_store(path: Path, directory: Path, *, with_day: bool = True) -> dict[str, str]:
    """The store with its users (and the day's calls, their queue_log beside it); their API tokens by
    user name. Built once per process and copied (tests/store_copies.py): nearly every test starts
    from it, and its argon2 hashes and import cost seconds."""
    assert path.parent == directory
    return copied(("alerts-store", path.name, with_day), directory,
                  lambda folder: _build_store(folder / path.name, folder, with_day=with_day))


def _build_store(path: Path, directory: Path, *, with_day: bool) -> dict[str, str]:
    with Store(path) as store:
        ensure_web_schema(store)
        if with_day:
            load_text(store, directory, _day_log())
        for name, (role, scope) in USERS.items():
            create_user(store, name, PASSWORD, role, **scope)
        return {name: create_token(store, name) for name in USERS}


@dataclass
class Served:
    client: TestClient
    tokens: dict[str, str]

    @property
    def monitor(self) -> AlertMonitor:
        monitor = self.client.app.state.web.alerts
        assert monitor is not None
        return monitor

    def api(self, user: str = "admin", **params: Any) -> Any:
        return self.client.get("/api/v1/alerts", params=params,
                               headers={"Authorization": f"Bearer {self.tokens[user]}"})

    def report(self, user: str = "admin", **params: Any) -> dict[str, Any]:
        response = self.api(user, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def browser(self, user: str = "admin") -> TestClient:
        client = TestClient(self.client.app, raise_server_exceptions=False)
        login(client, user)
        return client


@contextmanager
def serve(tmp_path: Path, settings: Settings | None = None, *, monitor: MonitorOptions | None = None,
          watch: WatchOptions | None = None, with_day: bool = True) -> Iterator[Served]:
    tokens = build_store(tmp_path / "alerts.duckdb", tmp_path, with_day=with_day)
    app = create_app(tmp_path / "alerts.duckdb", settings or Settings(), warm=False, watch=watch,
                     alerts=monitor or MonitorOptions(background=False))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Served(client, tokens)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serve(tmp_path) as running:
        yield running


@pytest.fixture
def checked(served: Served) -> Served:
    served.monitor.run_once(now=NOW)
    return served


def _wait_for(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# -- the API ---------------------------------------------------------------------------------


def test_before_the_first_check_nothing_is_known(served: Served) -> None:
    report = served.report()
    assert report["checking"] is True and report["checked_utc"] is None
    assert report["states"] == [] and report["history"] == [] and report["firing"] == 0


def test_a_check_makes_the_api_list_the_firing_alerts_first(checked: Served) -> None:
    report = checked.report()
    assert report["firing"] == 4 and report["checked_utc"] is not None and report["error"] is None
    states = report["states"]
    assert {s["key"] for s in states[:4]} == SALES_FIRING and all(s["firing"] for s in states[:4])
    assert not any(s["firing"] for s in states[4:])
    by_key = {s["key"]: s for s in states}
    sl = by_key["queue:sales:service_level:today"]
    assert sl | {"message": ""} == {
        "key": "queue:sales:service_level:today", "metric": "service_level", "scope": "queue",
        "scope_value": "sales", "window": "today", "period": "2026-03-02", "value": pytest.approx(0.5),
        "target": 0.8, "warn": 0.7, "calls": 12, "status": "bad", "firing": True, "clock": "live",
        "message": ""}
    assert sl["message"] == SL_TODAY.message("en")
    assert by_key["all:*:service_level:today"]["status"] == "warn"
    assert by_key["queue:sales:service_level:interval"]["period"] == "2026-03-02T09:00:00+00:00"
    history = report["history"]
    assert {e["key"] for e in history} == SALES_FIRING
    assert all(e["resolved_utc"] is None and e["fired_utc"].startswith("2026-03-02T09:20") for e in history)
    sl_event = next(e["message"] for e in history if e["key"] == "queue:sales:service_level:today")
    assert "(queue sales, on 2026-03-02, 12 calls)" in sl_event and "today" not in sl_event


def test_messages_follow_the_language(checked: Served) -> None:
    report = checked.report(lang="ru")
    assert SL_TODAY.message("ru") in {s["message"] for s in report["states"]}
    assert checked.api(lang="fr").status_code == 422


def test_a_supervisor_sees_the_alerts_of_their_queues_only(checked: Served) -> None:
    support = checked.report("sup")
    assert support["firing"] == 0 and support["history"] == []
    assert {s["scope"] for s in support["states"]} == {"queue"}
    assert {s["scope_value"] for s in support["states"]} == {"support"}
    sales = checked.report("sup_sales")
    assert sales["firing"] == 4 and {e["key"] for e in sales["history"]} == SALES_FIRING
    assert {s["scope_value"] for s in sales["states"]} == {"sales"}


def test_agents_are_refused_and_a_token_is_needed(checked: Served) -> None:
    assert checked.api("agent1").status_code == 403
    anonymous = checked.client.get("/api/v1/alerts")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"


def test_the_alerts_endpoint_is_in_the_openapi_schema(served: Served) -> None:
    schema = served.client.get("/api/v1/openapi.json",
                               headers={"Authorization": f"Bearer {served.tokens['admin']}"}).json()
    operation = schema["paths"]["/api/v1/alerts"]["get"]
    assert "supervisor" in operation["description"] and {"401", "403"} <= set(operation["responses"])
    fields = schema["components"]["schemas"]["AlertItem"]["properties"]
    assert {"metric", "scope", "scope_value", "window", "period", "value", "target", "warn", "calls", "status",
            "firing", "message"} <= set(fields)


def test_without_the_monitor_the_api_evaluates_on_request(tmp_path: Path) -> None:
    build_store(tmp_path / "plain.duckdb", tmp_path)
    with TestClient(create_app(tmp_path / "plain.duckdb", Settings(), warm=False, alerts=False)) as client:
        assert client.app.state.web.alerts is None
        token = create_token(client.app.state.web.db.store(), "admin")
        report = client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {token}"}).json()
    assert report["checking"] is False and report["every_s"] is None and report["checked_utc"] is not None


# -- the page, the badge, the wallboard -------------------------------------------------------


def test_the_page_shows_the_firing_alerts_in_english_and_russian(checked: Served) -> None:
    browser = checked.browser()
    page = browser.get("/alerts")
    assert page.status_code == 200
    assert "Firing now (4)" in page.text and SL_TODAY.message("en") in page.text
    assert 'data-key="queue:sales:service_level:today" data-state="firing"' in page.text
    assert 'data-key="queue:support:service_level:today" data-state="good"' in page.text
    assert 'class="kpi v-bad"' in page.text and 'class="kpi v-good"' in page.text  # traffic-light colours
    assert page.text.count("still firing") == 4  # the history
    browser.get("/lang/ru", params={"next": "/alerts"})
    russian = browser.get("/alerts").text
    assert "Сейчас (4)" in russian and SL_TODAY.message("ru") in russian and "действует" in russian


def test_the_nav_badge_counts_the_firing_alerts_of_the_users_scope(served: Served) -> None:
    admin = served.browser()
    assert 'id="alerts-badge"' not in admin.get("/metrics").text and 'href="/alerts"' in admin.get("/metrics").text
    served.monitor.run_once(now=NOW)
    assert 'id="alerts-badge" title="Firing now">4</span>' in admin.get("/metrics").text
    support = served.browser("sup")
    assert 'href="/alerts"' in support.get("/metrics").text and 'id="alerts-badge"' not in support.get("/metrics").text
    agent = served.browser("agent1")
    assert 'href="/alerts"' not in agent.get("/metrics").text
    assert agent.get("/alerts").status_code == 403


def test_the_wallboard_lists_the_firing_alerts_of_its_scope(checked: Served) -> None:
    assert SL_TODAY.message("en") in checked.browser().get("/wallboard/tiles").text
    assert SL_TODAY.message("en") in checked.browser("sup_sales").get("/wallboard").text
    assert 'id="wb-alerts"' not in checked.browser("sup").get("/wallboard").text
    assert 'id="wb-alerts"' not in checked.browser("agent1").get("/wallboard/tiles").text


# -- webhooks and the background check --------------------------------------------------------


def test_a_webhook_gets_each_fired_alert_once_across_checks(tmp_path: Path, webhook: Webhook) -> None:
    settings = Settings(alerts=AlertSettings(webhooks=(webhook.url,), webhook_timeout_s=5))
    with serve(tmp_path, settings) as running:
        first = running.monitor.run_once(now=NOW)
        second = running.monitor.run_once(now=NOW)
    assert len(first) == 4 and second == []
    assert sorted(p["alert"]["key"] for p in webhook.received) == sorted(SALES_FIRING)
    assert all(p["event"] == "fired" and p["text"].startswith("🔴 Alert: ") for p in webhook.received)


def test_an_unreachable_or_malformed_webhook_does_not_stop_the_check(tmp_path: Path) -> None:
    settings = Settings(alerts=AlertSettings(webhooks=("http://127.0.0.1:9/nothing-listens", "not a url"),
                                             webhook_timeout_s=2))
    with serve(tmp_path, settings) as running:
        assert len(running.monitor.run_once(now=NOW)) == 4
        assert running.report()["firing"] == 4


def test_the_background_check_survives_a_failure_and_stops_with_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> list[alerts.AlertState]:
        raise RuntimeError("the store is busy")

    with serve(tmp_path, monitor=MonitorOptions(every_s=3600)) as running:
        monitor = running.monitor
        _wait_for(lambda: monitor.snapshot().checked_utc is not None)  # the first check, at start-up
        assert monitor.running
        monkeypatch.setattr(alerts, "evaluate", broken)
        monitor.poke()
        _wait_for(lambda: monitor.snapshot().error is not None)
        assert "the store is busy" in (running.report()["error"] or "")
        assert monitor.running and running.client.get("/health").status_code == 200
        monkeypatch.undo()
        monitor.poke()
        _wait_for(lambda: monitor.snapshot().error is None)
    assert not monitor.running


def test_a_watch_cycle_that_loads_lines_triggers_a_check(tmp_path: Path) -> None:
    log = write_log(tmp_path, "")
    watch = WatchOptions((log,), background=False)
    with serve(tmp_path, watch=watch, monitor=MonitorOptions(every_s=3600), with_day=False) as running:
        monitor = running.monitor
        _wait_for(lambda: monitor.snapshot().checked_utc is not None)
        first = monitor.snapshot().checked_utc
        watcher = running.client.app.state.web.watcher
        watcher.run_once()  # the empty file: nothing loaded, no check
        time.sleep(0.3)
        assert monitor.snapshot().checked_utc == first
        log.write_text(_day_log(), encoding="utf-8")
        assert [r.status for r in watcher.run_once()] == ["loaded"]
        _wait_for(lambda: monitor.snapshot().checked_utc != first)
