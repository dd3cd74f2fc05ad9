"""`callkpi serve --watch`: the server loads what is new in growing record files while it serves.

The store starts empty but for its users (admin, supervisor ``sup``, agent ``agent1`` = 1001, each
with a token). The watched queue_log is ``growth_part1`` (2 March 2026, queue ``sales``: two calls
answered by 1001, the second still talking) and then grows by ``growth_part2`` (the second call
ends, a third caller hangs up after 4 s). Cycles run one at a time through ``Watcher.run_once``
(no background thread) unless a test says otherwise.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from callkpi.config import Settings
from callkpi.queries.web_tables import ensure_web_schema
from callkpi.storage import Store
from callkpi.web.app import create_app
from callkpi.web.auth import create_token, create_user
from callkpi.web.watch import Watcher, WatchOptions
from conftest import ql_line, query_rows, scenario_text, write_log
from store_copies import copied

PASSWORD = "correct horse battery"
DAY = {"from": "2026-03-02", "to": "2026-03-02"}
KPI = {**DAY, "metrics": "calls_offered,calls_handled"}
PART1, PART2 = scenario_text("growth_part1.queue_log"), scenario_text("growth_part2.queue_log")


def build_store(path: Path) -> dict[str, str]:
    """An empty store with its users; their API tokens by user name. Built once per process and
    copied (tests/store_copies.py): most tests here start from it, and its argon2 hashes cost seconds."""
    return copied(("watch-store", path.name), path.parent, lambda folder: _build_store(folder / path.name))


def _build_store(path: Path) -> dict[str, str]:
    with Store(path) as store:
        ensure_web_schema(store)
        create_user(store, "admin", PASSWORD, "admin")
        create_user(store, "sup", PASSWORD, "supervisor")
        create_user(store, "agent1", PASSWORD, "agent", agent="1001")
        return {name: create_token(store, name) for name in ("admin", "sup", "agent1")}


@dataclass
class Served:
    client: TestClient
    tokens: dict[str, str]
    log: Path

    @property
    def watcher(self) -> Watcher:
        watcher = self.client.app.state.web.watcher
        assert watcher is not None
        return watcher

    def api(self, path: str, user: str = "admin", **kwargs: Any) -> Any:
        return self.client.get(path, headers={"Authorization": f"Bearer {self.tokens[user]}"}, **kwargs)

    def kpi(self) -> dict[str, Any]:
        response = self.api("/api/v1/kpi", params=KPI)
        assert response.status_code == 200, response.text
        return response.json()[0]

    def status(self) -> dict[str, dict[str, Any]]:
        body = self.api("/api/v1/watch").json()
        return {Path(f["path"]).name: f for f in body["files"]}

    def grow(self, text: str) -> None:
        with self.log.open("a", encoding="utf-8") as handle:
            handle.write(text)

    def rows(self, sql: str) -> list[dict[str, Any]]:
        return query_rows(self.client.app.state.web.db.store(), sql)


@contextmanager
def serve(tmp_path: Path, *extra: Path, own_log: bool = True, background: bool = False,
          every_s: float = 10.0) -> Iterator[Served]:
    """The server on a fresh store, watching ``tmp_path/queue_log`` (unless not ``own_log``) and ``extra``."""
    tokens = build_store(tmp_path / "live.duckdb")
    log = write_log(tmp_path, PART1)
    options = WatchOptions((log, *extra) if own_log else extra, every_s=every_s, background=background)
    app = create_app(tmp_path / "live.duckdb", Settings(), warm=False, watch=options)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Served(client, tokens, log)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serve(tmp_path) as running:
        yield running


def login(client: TestClient, username: str = "admin") -> None:
    form = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf,
                                           "next": "/"}, follow_redirects=False)
    assert response.status_code == 303


def page_value(html: str, metric: str) -> float | None:
    match = re.search(rf'data-metric="{metric}" data-value="([^"]*)"', html)
    assert match, metric
    return float(match.group(1)) if match.group(1) else None


# -- loading what is new ---------------------------------------------------------------------


def test_a_grown_file_shows_on_the_api_and_the_overview(served: Served) -> None:
    browser = TestClient(served.client.app, raise_server_exceptions=False)
    login(browser)
    assert [r.status for r in served.watcher.run_once()] == ["loaded"]
    assert served.kpi() == {"calls_offered": 2, "calls_handled": 2}
    assert page_value(browser.get("/", params=DAY).text, "calls_inbound") == 2  # now cached for this data

    served.grow(PART2)
    [report] = served.watcher.run_once()
    assert (report.status, report.lines_loaded, report.quarantined) == ("appended", 4, 0)
    assert served.kpi() == {"calls_offered": 3, "calls_handled": 2}
    assert page_value(browser.get("/", params=DAY).text, "calls_inbound") == 3
    assert page_value(browser.get("/wallboard/tiles").text, "calls_offered") == 3

    status = served.status()["queue_log"]
    assert (status["state"], status["loads"], status["lines_loaded"], status["error"]) == ("appended", 2, 10, None)
    assert status["format"] == "asterisk-queue-log" and status["last_load_utc"]


def test_a_cycle_without_change_adds_nothing(served: Served) -> None:
    served.watcher.run_once()
    sources = served.rows("SELECT loads, lines_loaded, loaded_at_utc FROM sources")
    before = served.status()["queue_log"]

    assert served.watcher.run_once() == []
    os.utime(served.log)  # touched, same content: read again, nothing new
    [report] = served.watcher.run_once()
    assert (report.status, report.lines_read) == ("unchanged", 0)

    assert served.rows("SELECT loads, lines_loaded, loaded_at_utc FROM sources") == sources
    after = served.status()["queue_log"]
    assert (after["loads"], after["lines_loaded"], after["last_load_utc"]) == (
        before["loads"], before["lines_loaded"], before["last_load_utc"])
    assert served.kpi() == {"calls_offered": 2, "calls_handled": 2}


def test_a_malformed_line_goes_to_the_quarantine_and_the_rest_loads(served: Served) -> None:
    served.watcher.run_once()
    lines = PART2.splitlines(keepends=True)
    served.grow("".join(lines[:1]) + "this is not a queue_log line\n" + "".join(lines[1:]))

    [report] = served.watcher.run_once()
    assert (report.lines_loaded, report.quarantined) == (4, 1)
    assert served.rows("SELECT line_no, raw FROM quarantine") == [
        {"line_no": 8, "raw": "this is not a queue_log line"}]
    assert served.kpi() == {"calls_offered": 3, "calls_handled": 2}
    status = served.status()["queue_log"]
    assert (status["quarantined"], status["error"]) == (1, None)


def test_a_file_that_cannot_be_loaded_is_reported_once_and_the_server_keeps_serving(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\nmilk\n", encoding="utf-8")
    missing = tmp_path / "cdr-csv" / "Master.csv"
    with serve(tmp_path, notes, missing) as served:
        with caplog.at_level(logging.WARNING, logger="callkpi"):
            for _ in range(3):
                served.watcher.run_once()
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 2, warnings  # one per file, not one per cycle

        status = served.status()
        assert status["queue_log"]["state"] == "loaded"
        assert status["notes.txt"]["state"] == "failed"
        assert "not in a format callkpi reads" in status["notes.txt"]["error"]
        assert status["Master.csv"]["error"] == f"{missing}: no such file or directory"
        assert status["Master.csv"]["error_since_utc"]
        assert served.kpi() == {"calls_offered": 2, "calls_handled": 2}
        assert served.client.get("/health").json() == {"status": "ok"}

        browser = TestClient(served.client.app, raise_server_exceptions=False)
        login(browser)
        page = browser.get("/admin/sources")
        assert page.status_code == 200
        assert "not in a format callkpi reads" in page.text and str(missing) in page.text
        assert 'id="watch-alert"' in browser.get("/").text  # every page tells the admin

        missing.parent.mkdir()
        missing.write_text("", encoding="utf-8")  # created empty: nothing to load, nothing wrong
        served.watcher.run_once()
        assert served.status()["Master.csv"]["state"] == "empty"
        assert served.status()["Master.csv"]["error"] is None


def test_the_alert_is_for_admins_only(tmp_path: Path) -> None:
    with serve(tmp_path, tmp_path / "missing.log") as served:
        served.watcher.run_once()
        browser = TestClient(served.client.app, raise_server_exceptions=False)
        login(browser, "sup")
        assert browser.get("/").status_code == 200
        assert 'id="watch-alert"' not in browser.get("/").text
        assert browser.get("/admin/sources").status_code == 403


def test_a_watched_directory_loads_its_files_and_new_ones(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    (folder / "archive").mkdir(parents=True)
    write_log(folder, PART1, "queue_log")
    write_log(folder, "editor swap file\n", ".queue_log.swp")
    write_log(folder / "archive", PART2, "queue_log.1")
    with serve(tmp_path, folder, own_log=False) as served:
        served.watcher.run_once()
        assert [Path(f["path"]) for f in served.api("/api/v1/watch").json()["files"]] == [folder / "queue_log"]
        assert served.kpi() == {"calls_offered": 2, "calls_handled": 2}

        call = 1772444000
        write_log(folder, "\n".join([
            ql_line(call, f"{call}.1", "sales", "NONE", "ENTERQUEUE", "", "74958880009", 1),
            ql_line(call + 5, f"{call}.1", "sales", "SIP/1001", "CONNECT", 5, f"{call}.2", 3),
            ql_line(call + 65, f"{call}.1", "sales", "SIP/1001", "COMPLETECALLER", 5, 60, 1),
        ]) + "\n", "queue_log.new")
        [report] = served.watcher.run_once()
        assert report.path.endswith("queue_log.new") and report.status == "loaded"
        assert served.kpi() == {"calls_offered": 3, "calls_handled": 3}


# -- the status endpoint, the page, the server without --watch --------------------------------


def test_watch_status_is_for_admins(served: Served) -> None:
    served.watcher.run_once()
    body = served.api("/api/v1/watch").json()
    assert body["watching"] is True and body["running"] is False and body["every_s"] == 10
    assert body["last_cycle_utc"] and [f["path"] for f in body["files"]] == [str(served.log)]
    assert served.api("/api/v1/watch", "sup").status_code == 403
    assert served.api("/api/v1/watch", "agent1").status_code == 403
    anonymous = served.client.get("/api/v1/watch")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"


def test_watch_status_is_in_the_openapi_schema(served: Served) -> None:
    schema = served.api("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/watch"]["get"]
    assert {"200", "401", "403"} <= set(operation["responses"])
    assert "WatchReport" in schema["components"]["schemas"]


def test_a_server_without_watch(tmp_path: Path) -> None:
    tokens = build_store(tmp_path / "plain.duckdb")
    with TestClient(create_app(tmp_path / "plain.duckdb", Settings(), warm=False)) as client:
        body = client.get("/api/v1/watch", headers={"Authorization": f"Bearer {tokens['admin']}"}).json()
        assert body == {"watching": False, "running": False, "every_s": None, "last_cycle_utc": None, "files": []}
        login(client)
        page = client.get("/admin/sources")
        assert page.status_code == 200 and "callkpi serve --watch" in page.text


# -- the background thread and the command line ----------------------------------------------


def test_the_server_loads_on_its_own_and_stops_its_loader(tmp_path: Path) -> None:
    with serve(tmp_path, background=True, every_s=0.05) as served:
        watcher = served.watcher
        assert _eventually(lambda: served.kpi()["calls_offered"] == 2)
        served.grow(PART2)
        assert _eventually(lambda: served.kpi()["calls_offered"] == 3)
        assert watcher.running
    assert not watcher.running


def _eventually(check: Any, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_cli_serve_watch_options(tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    served: list[Any] = []

    def fake_run(app: Any, **kwargs: Any) -> None:
        served.append(app.state.web.watcher.options)
        app.state.web.db.close()

    monkeypatch.setattr(uvicorn, "run", fake_run)
    db, log, folder = tmp_path / "cli.duckdb", tmp_path / "queue_log", tmp_path / "cdr-csv"
    result = cli("serve", "--db", db, "--watch", log, "--watch", folder, "--watch", log, "--watch-every", "5",
                 "--tz", "Europe/Moscow")
    assert result.exit_code == 0, result.output
    [options] = served
    assert (options.paths, options.every_s, options.timezone) == ((log, folder), 5.0, "Europe/Moscow")
    with Store(db, read_only=True) as store:
        assert store.get_meta("timezone") == "Europe/Moscow"

    bad = cli("serve", "--db", db, "--watch", log, "--tz", "Mars/Olympus")
    assert bad.exit_code == 2 and "unknown time zone" in bad.output
    assert len(served) == 1
