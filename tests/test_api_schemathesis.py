"""Property-based fuzzing of the REST API from its own OpenAPI schema (schemathesis).

The schema is the one the app serves at ``/api/v1/openapi.json`` (behind a login), loaded through
ASGI as each role: admin, a supervisor of one queue and one team, an agent. Every operation gets
the schema's own examples and random cases, valid (positive) and invalid (negative); each
response must not be a server error and must carry a status code, content type, headers and a
body that the schema documents for it.

The cases are drawn with schemathesis's Python API (``APIOperation.as_strategy``) inside plain
Hypothesis tests rather than with ``schema.parametrize``: the lazy ``from_fixture`` loader of
schemathesis 4 does not run under pytest 9, and a schema loaded at import time would build the
store in every xdist worker. Bounded for CI (``EXAMPLES`` per operation and mode, no deadline,
derandomised); ``CALLKPI_FUZZ_EXAMPLES=200`` for a long run.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from web_centre import Centre, build_centre, route_table, serve

FUZZED_ROLES = ("admin", "sup", "agent_a")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = int(os.environ.get("CALLKPI_FUZZ_EXAMPLES", "5"))
SCHEMA_PATH = "/api/v1/openapi.json"
# Schemathesis gives up on an answer after 10 s and reports the case as flaky when the retry (its
# SQL compiled by then) is quick: the first request of a new query shape, e.g. sales/cohorts'
# three, compiles for longer than that on a loaded CI machine. Answers are checked here, not their
# speed (benchmarks time them).
RESPONSE_TIMEOUT_S = 600


@dataclass
class Tally:
    cases: Counter[str] = field(default_factory=Counter)  # "METHOD /path" -> cases sent
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Centre:
    return build_centre(tmp_path_factory.mktemp("fuzz"))


class OwnLifespan:
    """The app for schemathesis, whose ASGI client starts and stops an app's lifespan by itself
    (stopping closes the store): here the fixture's TestClient owns the lifespan instead."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})


@pytest.fixture(scope="module")
def app(centre: Centre) -> Iterator[OwnLifespan]:
    with serve(centre) as client:
        yield OwnLifespan(client.app)


def _cases(schema: schemathesis.BaseSchema, operation: schemathesis.APIOperation) -> list[st.SearchStrategy]:
    strategies = list(schema.get_strategies_from_examples(operation))
    strategies += [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
    return strategies


def _run(strategy: st.SearchStrategy, send: Callable[[schemathesis.Case], None]) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        send(case)

    run()


def fuzz(schema: schemathesis.BaseSchema, headers: dict[str, str]) -> Tally:
    tally = Tally()
    def send(case: schemathesis.Case) -> None:
        response = case.call_and_validate(headers=headers, checks=CHECKS, timeout=RESPONSE_TIMEOUT_S)
        tally.cases[case.operation.label] += 1
        tally.statuses[response.status_code] += 1

    for result in schema.get_all_operations():
        operation = result.ok()

        for strategy in _cases(schema, operation):
            try:
                _run(strategy, send)
            except Unsatisfiable:  # nothing to negate: an operation without parameters
                continue
            except (Exception, FailureGroup) as exc:  # a failed check: keep going, report them all
                tally.failures.append(f"{operation.label}: {exc}")
    return tally


@pytest.mark.parametrize("role", FUZZED_ROLES)
def test_api_conforms_to_its_schema(app: OwnLifespan, centre: Centre, role: str) -> None:
    schema = schemathesis.openapi.from_asgi(SCHEMA_PATH, app, headers=centre.bearer(role))
    tally = fuzz(schema, centre.bearer(role))
    print(f"\nschemathesis as {role}: {len(tally.cases)} operations, {sum(tally.cases.values())} cases, "
          f"{len(tally.failures)} failures; statuses {dict(sorted(tally.statuses.items()))}")
    assert not tally.failures, "\n\n".join(tally.failures)
    assert len(tally.cases) == len(list(schema.get_all_operations()))
    if role == "admin":  # an admin may call every operation: some case of each must succeed
        assert any(200 <= status < 300 for status in tally.statuses)


def test_the_schema_lists_every_api_route(app: OwnLifespan, centre: Centre) -> None:
    """The fuzzing covers every /api/v1 route: none is left out of the schema."""
    from fastapi.testclient import TestClient

    routes = {
        (method, route.path)
        for route in route_table(app.app)
        if route.path.startswith("/api/v1/") and route.path != SCHEMA_PATH
        for method in route.methods
    }
    with TestClient(app) as client:
        paths = client.get(SCHEMA_PATH, headers=centre.bearer("admin")).json()["paths"]
    listed = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    assert routes == listed
