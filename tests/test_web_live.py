"""The live wallboard over HTTP: ``GET /api/v1/live``, the page and its kiosk view, who sees what,
and the server-sent events of ``/wallboard/stream`` as lines are appended to the watched queue_log.

The log (times relative to now, so that they are today): 1001 joins sales and 1002 joins support
10 min ago; 1002 pauses (training) 8 min ago; call s1 (74951110001) enters sales 60 s ago and
1001 answers it 50 s ago after 10 s; call p1 (74952220002) enters support 30 s ago and waits.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from browser_support import serving
from callkpi.config import Settings
from callkpi.storage import Store
from callkpi.web.app import create_app
from callkpi.web.auth import create_token, create_user
from callkpi.web.watch import WatchOptions
from conftest import ql_line
from test_web_watch import PASSWORD, build_store, login


def log_lines(now: int) -> str:
    return "\n".join([
        ql_line(now - 600, "NONE", "sales", "SIP/1001", "ADDMEMBER", ""),
        ql_line(now - 600, "NONE", "support", "SIP/1002", "ADDMEMBER", ""),
        ql_line(now - 480, "NONE", "support", "SIP/1002", "PAUSE", "training"),
        ql_line(now - 60, "s1", "sales", "NONE", "ENTERQUEUE", "", "74951110001", 1),
        ql_line(now - 50, "s1", "sales", "SIP/1001", "CONNECT", 10, "s1.1", 2),
        ql_line(now - 30, "p1", "support", "NONE", "ENTERQUEUE", "", "74952220002", 1),
    ]) + "\n"


@dataclass
class Live:
    client: TestClient
    tokens: dict[str, str]
    log: Path
    now: int

    def api(self, user: str = "admin", **params: Any) -> httpx.Response:
        return self.client.get("/api/v1/live", params=params, headers={"Authorization": f"Bearer {self.tokens[user]}"})


def _store_with_users(tmp_path: Path) -> dict[str, str]:
    tokens = build_store(tmp_path / "store.duckdb")
    with Store(tmp_path / "store.duckdb") as store:
        create_user(store, "sup_support", PASSWORD, "supervisor", queues=("support",))
        tokens["sup_support"] = create_token(store, "sup_support")
    return tokens


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    tokens = _store_with_users(tmp_path)
    log = tmp_path / "queue_log"
    # taken when the test starts, not when the module is collected: a slow run must not age the calls
    now = int(time.time())
    log.write_text(log_lines(now), encoding="utf-8")
    app = create_app(tmp_path / "store.duckdb", Settings(), warm=False, alerts=False,
                     watch=WatchOptions((log,), background=False))
    with TestClient(app) as client:
        yield Live(client, tokens, log, now)
        hub = getattr(app.state, "live_hub", None)
        if hub is not None:
            hub.stop()


def _by(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}


def test_the_api_shows_who_does_what_and_who_waits(live: Live) -> None:
    body = live.api().json()
    agents = _by(body["agents"], "agent")
    assert (agents["1001"]["state"], agents["1001"]["since"], agents["1001"]["callid"]) == (
        "on_call", live.now - 50, "s1")
    assert (agents["1001"]["party"], agents["1001"]["queue"]) == ("74951110001", "sales")
    assert (agents["1002"]["state"], agents["1002"]["since"], agents["1002"]["reason"]) == (
        "paused", live.now - 480, "training")
    queues = _by(body["queues"], "queue")
    assert (queues["support"]["waiting"], queues["support"]["paused"], queues["support"]["available"]) == (1, 1, 0)
    assert queues["support"]["longest_wait_s"] == pytest.approx(body["at"] - (live.now - 30))
    assert (queues["sales"]["waiting"], queues["sales"]["busy"], queues["sales"]["longest_wait_s"]) == (0, 1, None)
    assert [(w["callid"], w["caller"], w["since"]) for w in body["waiting"]] == [("p1", "74952220002", live.now - 30)]
    # s1 was answered after 10 s, within the 20 s of service level: 1 of 1 in every window
    assert queues["sales"]["service_level_window"] == {"15": 1.0, "30": 1.0, "60": 1.0}
    assert queues["sales"]["service_level_status"]["15"] == "good"


def test_an_appended_line_is_seen_at_the_next_request(live: Live) -> None:
    with live.log.open("a", encoding="utf-8") as handle:
        handle.write(ql_line(live.now - 5, "p1", "support", "NONE", "ABANDON", 1, 1, 25) + "\n")
        handle.write(ql_line(live.now - 2, "NONE", "support", "SIP/1002", "UNPAUSE", "") + "\n")
    body = live.api().json()
    assert body["waiting"] == []
    assert _by(body["agents"], "agent")["1002"]["state"] == "idle"
    assert _by(body["agents"], "agent")["1002"]["since"] == live.now - 2


def test_a_supervisor_sees_their_queues_an_agent_their_own_state(live: Live) -> None:
    sup = live.api("sup_support").json()
    assert [q["queue"] for q in sup["queues"]] == ["support"]
    assert [a["agent"] for a in sup["agents"]] == ["1002"]
    assert [w["callid"] for w in sup["waiting"]] == ["p1"]
    assert live.api("sup_support", queues="sales").status_code == 403
    agent = live.api("agent1").json()
    assert [a["agent"] for a in agent["agents"]] == ["1001"]
    assert [q["queue"] for q in agent["queues"]] == ["sales"]
    assert agent["agents"][0]["party"] != "74951110001"  # an agent does not see callers' numbers
    assert live.api("sup", queues="sales").json()["queues"][0]["queue"] == "sales"


def test_the_page_and_the_kiosk_view(live: Live) -> None:
    login(live.client)
    page = live.client.get("/wallboard").text
    assert 'data-agent="1001" data-state="on_call"' in page and 'id="wallboard"' in page
    assert '<header class="top">' in page
    kiosk = live.client.get("/wallboard?kiosk=1&queues=support").text
    assert '<header class="top">' not in kiosk and 'class="kiosk"' in kiosk
    assert 'data-queue="support"' in kiosk and 'data-queue="sales"' not in kiosk
    assert "echarts.min.js" not in kiosk.split("<body")[0]
    assert 'data-stream="/wallboard/stream?kiosk=1&amp;queues=support"' in kiosk
    fragment = live.client.get("/wallboard/live?queues=support").text
    assert re.search(r'data-agent="1002" data-state="paused"', fragment)
    login(live.client, "sup_support")
    assert live.client.get("/wallboard?queues=sales").status_code == 403
    assert live.client.get("/wallboard/stream?queues=sales").status_code == 403


def _events(response: httpx.Response) -> Iterator[str]:
    """The data of each ``live`` event of a stream (its lines joined)."""
    data: list[str] = []
    name = ""
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").removeprefix(" "))
        elif line == "" and data:
            if name == "live":
                yield "\n".join(data)
            data, name = [], ""


def test_the_stream_pushes_a_change_without_a_new_request(tmp_path: Path) -> None:
    _store_with_users(tmp_path)
    log = tmp_path / "queue_log"
    log.write_text(log_lines(int(time.time())), encoding="utf-8")
    app = create_app(tmp_path / "store.duckdb", Settings(), warm=False, alerts=False,
                     watch=WatchOptions((log,), background=False))
    with serving(app) as base, httpx.Client(base_url=base, timeout=20) as client:
        form = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf, "next": "/"})
        with client.stream("GET", "/wallboard/stream") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            events = _events(response)
            assert 'data-agent="1001" data-state="on_call"' in next(events)
            with log.open("a", encoding="utf-8") as handle:
                handle.write(ql_line(int(time.time()), "s1", "sales", "SIP/1001", "COMPLETECALLER", 10, 50, 1) + "\n")
            started = time.monotonic()
            for html in events:
                if 'data-agent="1001" data-state="idle"' in html:
                    break
                assert time.monotonic() - started < 10
        app.state.live_hub.stop()


def test_a_wallboard_key_opens_only_the_wallboard(live: Live) -> None:
    store = live.client.app.state.web.db.store()
    key = create_token(store, "sup_support", "TV", wallboard=True)
    assert key.startswith("ckw_")
    page = live.client.get(f"/wallboard?key={key}")
    assert page.status_code == 200
    assert '<header class="top">' not in page.text and 'class="kiosk"' in page.text  # always the kiosk view
    assert 'data-queue="support"' in page.text and 'data-queue="sales"' not in page.text  # the owner's scope
    assert f"key={key}" in page.text  # the stream carries it
    assert live.client.get(f"/wallboard/live?key={key}").status_code == 200
    assert live.client.get(f"/wallboard?key={key}&queues=sales").status_code == 403
    assert live.client.get(f"/wallboard?key={key}x").status_code == 401
    # nothing else takes it: not the API, not another page
    assert live.client.get("/api/v1/live", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert live.client.get(f"/?key={key}", follow_redirects=False).status_code in (303, 307)
    assert live.client.get("/wallboard/tiles", params={"key": key}, follow_redirects=False).status_code == 303
