"""A small simulated contact centre served by ``create_app``, for the API fuzzing and the
negative security tests (``test_api_schemathesis.py``, ``test_security_negative.py``).

Two days of the default scenario (10 agents, ~150 inbound calls a day, the outbound campaign)
with its queue_log, CDR, staff (teams), deals, surveys and QA reviews loaded. Users, each with an
API token and the password ``PASSWORD``:

- ``admin``;
- ``sup``: supervisor of the queue ``support`` and the team ``support``;
- ``agent_a``: an agent of the ``sales`` team; ``agent_b``: an agent of the ``support`` team.

Recordings are set on a few calls (the simulator writes none): an audio file for a call of each
agent, and hostile paths (``../``, a non-audio file) on others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.queries.web_tables import ensure_web_schema
from callkpi.simulate import Scenario, simulate
from callkpi.storage import Store
from callkpi.web.app import create_app
from callkpi.web.auth import create_token, create_user
from store_copies import copied

TZ = "Europe/Moscow"
PASSWORD = "correct horse battery"
SUP_QUEUE = "support"
SUP_TEAM = "support"
LOADED = ("queue_log", "Master.csv", "staff.csv", "deals.csv", "surveys.csv", "qa_reviews.csv")
ROLES = ("admin", "sup", "agent_a", "agent_b")
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Facts:
    """What the store holds, read with plain SQL right after loading (the tests' oracle)."""

    calls: set[str] = field(default_factory=set)
    visible: dict[str, set[str]] = field(default_factory=dict)  # agent -> calls it is on (agent or answered leg)
    numbers: dict[str, set[str]] = field(default_factory=dict)  # agent -> raw numbers of those calls
    reviews: dict[str, set[str]] = field(default_factory=dict)  # agent -> QA review ids
    sup_calls: set[str] = field(default_factory=set)  # queue support and an agent of team support (or none)
    sales_missed: str = ""  # an unreturned missed call of the queue sales


@dataclass
class Centre:
    path: Path
    directory: Path
    tokens: dict[str, str]
    agent_a: str
    agent_b: str
    facts: Facts
    recordings: dict[str, Path] = field(default_factory=dict)  # call_id -> the audio file set on it
    hostile_recordings: dict[str, str] = field(default_factory=dict)  # call_id -> a path that must not be served

    def bearer(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def agent_of(self, user: str) -> str:
        return {"agent_a": self.agent_a, "agent_b": self.agent_b}[user]


def _scenario() -> Scenario:
    return Scenario.load().with_overrides(days=2, agents=10, calls_per_day=150, seed=5)


def _busiest_agent(store: Store, team: str) -> str:
    row = store.connection.execute(
        "SELECT l.agent FROM agent_legs l JOIN agents a USING (agent) WHERE a.team = ? AND l.outcome = 'answered' "
        "GROUP BY l.agent ORDER BY l.agent IN (SELECT agent FROM qa_reviews) DESC, count(*) DESC, l.agent LIMIT 1",
        [team],
    ).fetchone()
    assert row, f"no agent of team {team} answered a call"
    return str(row[0])


def _answered_call(store: Store, agent: str, skip: int = 0) -> str:
    row = store.connection.execute(
        "SELECT call_id FROM calls WHERE agent = ? AND answered ORDER BY start_utc, call_id LIMIT 1 OFFSET ?",
        [agent, skip],
    ).fetchone()
    assert row, f"agent {agent} answered no call"
    return str(row[0])


def _set_recordings(
    store: Store, directory: Path, agent_a: str, agent_b: str
) -> tuple[dict[str, Path], dict[str, str]]:
    audio: dict[str, Path] = {}
    for agent in (agent_a, agent_b):
        call_id = _answered_call(store, agent)
        path = directory / f"recording-{agent}.wav"
        path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + agent.encode())
        audio[call_id] = path
    secret = directory / "secret.txt"
    secret.write_text("not a recording\n", encoding="utf-8")
    hidden = directory / "hidden" / "secret.wav"
    hidden.parent.mkdir(exist_ok=True)
    (directory / "recordings").mkdir(exist_ok=True)  # so that recordings/../hidden/secret.wav is a real file
    hidden.write_bytes(b"RIFF-hidden")
    hostile = {
        _answered_call(store, agent_a, 1): str(secret),
        _answered_call(store, agent_a, 2): str(directory / "recordings" / ".." / "hidden" / "secret.wav"),
        _answered_call(store, agent_a, 3): "/etc/passwd",
    }
    for call_id, value in [*((c, str(p)) for c, p in audio.items()), *hostile.items()]:
        store.connection.execute("UPDATE calls SET recording = ? WHERE call_id = ?", [value, call_id])
    return audio, hostile


def _column(store: Store, sql: str, params: list[Any] | None = None) -> set[str]:
    return {str(row[0]) for row in store.connection.execute(sql, params or []).fetchall() if row[0] is not None}


def _facts(store: Store, agents: tuple[str, ...]) -> Facts:
    facts = Facts(calls=_column(store, "SELECT call_id FROM calls"))
    for agent in agents:
        mine = ("SELECT call_id FROM calls WHERE agent = $1 UNION "
                "SELECT call_id FROM agent_legs WHERE agent = $1 AND outcome = 'answered'")
        facts.visible[agent] = _column(store, mine, [agent])
        facts.numbers[agent] = _column(
            store,
            f"SELECT n FROM (SELECT unnest([caller, callee, caller_norm, callee_norm]) AS n FROM calls "  # noqa: S608
            f"WHERE call_id IN ({mine})) WHERE length(n) >= 7",
            [agent],
        )
        facts.reviews[agent] = _column(store, "SELECT review_id FROM qa_reviews WHERE agent = ?", [agent])
    facts.sup_calls = _column(
        store,
        "SELECT call_id FROM calls WHERE queue = ? AND agent IN (SELECT agent FROM agents WHERE team = ?)",
        [SUP_QUEUE, SUP_TEAM],
    )
    row = store.connection.execute(
        "SELECT call_id FROM calls WHERE queue = 'sales' AND direction = 'inbound' AND NOT coalesce(answered, false) "
        "AND caller_norm IS NOT NULL AND callback_attempt_gap_s IS NULL AND callback_contact_gap_s IS NULL "
        "ORDER BY start_utc LIMIT 1"
    ).fetchone()
    facts.sales_missed = str(row[0]) if row else ""
    return facts


def build_centre(directory: Path) -> Centre:
    """The centre in ``directory``. Four modules use it: it is simulated and loaded once per process
    and copied (tests/store_copies.py), the recording paths in the copy pointed at its own files."""
    built = copied("centre", directory, _build_centre)
    template = str(built.directory)
    path = directory / built.path.name
    with Store(path) as store:
        store.connection.execute(
            "UPDATE calls SET recording = replace(recording, ?, ?) WHERE starts_with(recording, ?)",
            [template, str(directory), template])
    recordings = {call: directory / file.relative_to(built.directory) for call, file in built.recordings.items()}
    hostile = {call: value.replace(template, str(directory), 1) for call, value in built.hostile_recordings.items()}
    return Centre(path, directory, built.tokens, built.agent_a, built.agent_b, built.facts, recordings, hostile)


def _build_centre(directory: Path) -> Centre:
    records = directory / "records"
    simulate(_scenario(), records)
    path = directory / "centre.duckdb"
    with Store(path) as store:
        for name in LOADED:
            load_file(store, records / name, Settings(), timezone=TZ)
        store.set_meta("timezone", TZ)
        agent_a, agent_b = _busiest_agent(store, "sales"), _busiest_agent(store, SUP_TEAM)
        audio, hostile = _set_recordings(store, directory, agent_a, agent_b)
        facts = _facts(store, (agent_a, agent_b))
        ensure_web_schema(store)
        create_user(store, "admin", PASSWORD, "admin")
        create_user(store, "sup", PASSWORD, "supervisor", queues=(SUP_QUEUE,), teams=(SUP_TEAM,))
        create_user(store, "agent_a", PASSWORD, "agent", agent=agent_a)
        create_user(store, "agent_b", PASSWORD, "agent", agent=agent_b)
        tokens = {name: create_token(store, name) for name in ROLES}
    return Centre(path, directory, tokens, agent_a, agent_b, facts, audio, hostile)


@contextmanager
def serve(centre: Centre, settings: Settings | None = None) -> Iterator[TestClient]:
    """The app over the centre's store, without background work (no warm-up, no alert checks)."""
    app = create_app(centre.path, settings or Settings(), warm=False, alerts=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def csrf_of(client: TestClient, page: str = "/login") -> str:
    found = CSRF_INPUT.search(client.get(page).text)
    assert found, f"no CSRF token on {page}"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    """Sign in through the login form (the client keeps the session cookie)."""
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(client), "next": "/"},
        follow_redirects=False,
    )


@dataclass(frozen=True)
class Route:
    path: str
    methods: frozenset[str]


def route_table(app: Any) -> list[Route]:
    """Every HTTP route of the app with its full path. FastAPI now keeps an included router as one
    entry of ``app.routes`` (resolved at request time), so the table is walked here."""

    def walk(routes: list[Any], prefix: str) -> Iterator[Route]:
        for route in routes:
            included = getattr(route, "original_router", None)
            if included is not None:
                yield from walk(included.routes, prefix + route.include_context.prefix)
            elif getattr(route, "methods", None):
                yield Route(prefix + route.path, frozenset(route.methods))

    return list(walk(list(getattr(app, "routes", [])), ""))
