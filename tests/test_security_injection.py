"""Negative security tests, SQL injection: every string parameter of the API, the pages' and
exports' parameters and a call id path take hostile SQL without a server error, a password hash
or another agent's calls in the answer. Over the simulated centre of ``web_centre``, with the
helpers and fixtures of tests/test_security_negative.py (a file of its own, so that the test
workers share out the security tests: pytest-xdist hands out whole files).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from test_security_negative import SQL_PAYLOADS, _session, api, assert_no_foreign_calls, visible_ids
from web_centre import Centre, build_centre, serve


@pytest.fixture(scope="module", autouse=True)
def _quiet_server_log() -> Iterator[None]:
    """A 500 would show in the assertions; its traceback need not flood the output."""
    logger = logging.getLogger("callkpi.web")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Centre:
    return build_centre(tmp_path_factory.mktemp("security-injection"))


@pytest.fixture(scope="module")
def anonymous(centre: Centre) -> Iterator[TestClient]:
    with serve(centre) as client:
        yield client


@pytest.fixture(scope="module")
def pages(anonymous: TestClient) -> dict[str, TestClient]:
    return {"agent_a": _session(anonymous, "agent_a")}


# -- SQL injection ---------------------------------------------------------------------------


def _string_parameters(anonymous: TestClient, centre: Centre) -> list[tuple[str, str]]:
    schema = api(anonymous, centre, "admin", "/api/v1/openapi.json").json()
    found = []
    for path, operations in schema["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            types = json.dumps(parameter.get("schema", {}))
            if parameter["in"] == "query" and '"string"' in types:
                found.append((path, parameter["name"]))
    return found


def test_sql_injection_in_every_string_parameter(anonymous: TestClient, centre: Centre) -> None:
    parameters = _string_parameters(anonymous, centre)
    assert ("/api/v1/calls", "q") in parameters and ("/api/v1/kpi", "by") in parameters
    calls_before = api(anonymous, centre, "admin", "/api/v1/calls", params={"limit": 1}).json()["total"]
    for path, name in parameters:
        concrete = path.replace("{agent_id}", centre.agent_a).replace("{call_id}", "x").replace("{review_id}", "x")
        for payload in SQL_PAYLOADS:
            response = api(anonymous, centre, "agent_a", concrete, params={name: payload})
            where = f"{concrete}?{name}={payload}"
            assert response.status_code < 500, where
            assert "$argon2" not in response.text, where  # no password hash, whatever the message echoes
            assert_no_foreign_calls(response.text, centre)
            if concrete == "/api/v1/calls" and response.status_code == 200:
                assert visible_ids(response.json()) <= centre.facts.visible[centre.agent_a], where
    assert api(anonymous, centre, "admin", "/api/v1/calls", params={"limit": 1}).json()["total"] == calls_before


@pytest.mark.parametrize("payload", SQL_PAYLOADS)
def test_sql_injection_in_page_and_export_parameters(pages: dict[str, TestClient], centre: Centre,
                                                     payload: str) -> None:
    client = pages["agent_a"]
    for path in ("/calls", "/export/calls.csv", "/agents", "/", "/queues"):
        for name in ("q", "number", "sort", "queue", "team", "campaign", "direction", "outcome", "from", "dir"):
            response = client.get(path, params={name: payload})
            assert response.status_code < 500, (path, name, payload)
            assert "$argon2" not in response.text
            assert_no_foreign_calls(response.text, centre)


def test_sql_injection_in_a_call_id_path(anonymous: TestClient, centre: Centre) -> None:
    for payload in SQL_PAYLOADS:
        response = api(anonymous, centre, "admin", f"/api/v1/calls/{quote(payload, safe='')}")
        assert response.status_code == 404, payload
