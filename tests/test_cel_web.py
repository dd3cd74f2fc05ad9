"""Transfers the CEL records, where a supervisor looks (issue 19 item 3: "transfers and who received
them are known"): the call's API answer and its page list each transfer with its kind, who made it
and who received it. Expected values are the hand-read events of tests/scenarios/cel_scenarios.cel.csv
(see tests/test_cel.py): call 1772452800.30, 201 answers and at 12:01:05 UTC transfers blind to
202@from-internal, where 202 takes it; call 1772456400.40, 201 consults 203 and at 13:02:00 UTC
completes an attended transfer to 203.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.queries.web_tables import ensure_web_schema
from callkpi.storage import Store
from callkpi.web.app import create_app
from callkpi.web.auth import create_token, create_user
from test_web_api import PASSWORD, login

SCENARIO = Path(__file__).parent / "scenarios" / "cel_scenarios.cel.csv"


@pytest.fixture(scope="module")
def cel_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    path = tmp_path_factory.mktemp("cel-web") / "cel.duckdb"
    with Store(path) as store:
        report = load_file(store, SCENARIO, Settings(), timezone="UTC")
        assert (report.format, report.quarantined) == ("asterisk-cel-csv", 0)
        store.set_meta("timezone", "UTC")
        ensure_web_schema(store)
        create_user(store, "admin", PASSWORD, "admin")
        token = create_token(store, "admin")
    app = create_app(path, Settings(), warm=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, token


def test_the_call_api_lists_its_transfers_with_who_received_them(cel_web: tuple[TestClient, str]) -> None:
    client, token = cel_web
    headers = {"Authorization": f"Bearer {token}"}
    blind = client.get("/api/v1/calls/1772452800.30", headers=headers)
    assert blind.status_code == 200, blind.text
    [transfer] = blind.json()["transfers"]
    assert transfer["time_utc"].startswith("2026-03-02T12:01:05")
    assert (transfer["kind"], transfer["from_agent"], transfer["to_agent"]) == ("blind", "201", "202")
    attended = client.get("/api/v1/calls/1772456400.40", headers=headers).json()["transfers"]
    assert [(t["kind"], t["from_agent"], t["to_agent"]) for t in attended] == [("attended", "201", "203")]
    assert attended[0]["time_utc"].startswith("2026-03-02T13:02:00")
    plain = client.get("/api/v1/calls/1772442000.1", headers=headers).json()
    assert plain["transfers"] == []


@pytest.mark.parametrize("lang,title,kind", [("en", "Transfers (from the CEL)", "blind"),
                                             ("ru", "Переводы (по CEL)", "слепой")])
def test_the_call_page_shows_the_transfers(cel_web: tuple[TestClient, str], lang: str, title: str, kind: str) -> None:
    client, _ = cel_web
    browser = TestClient(client.app, raise_server_exceptions=False)
    login(browser)
    browser.get(f"/lang/{lang}", params={"next": "/"})
    page = browser.get("/calls/1772452800.30")
    assert page.status_code == 200
    assert 'id="transfers"' in page.text and title in page.text
    assert '<tr data-kind="blind"><td>12:01' in page.text and f"<td>{kind}</td>" in page.text
    assert 'id="transfers"' not in browser.get("/calls/1772442000.1").text
