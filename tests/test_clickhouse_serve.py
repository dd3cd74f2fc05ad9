"""`callkpi serve` on ClickHouse (issue 16, item 1): the same store (the web test's hand-made two-day
centre of tests/test_web_api.py: queue_log, outbound calls, users and tokens) on DuckDB and copied
to chDB (the ClickHouse engine in-process), the app started on each; the KPI API by agent, queue
and day, the overview and agents pages' figures, the call log API and the CSV exports must be
equal, every page must answer 200 on chDB, and what does not run there yet
(callkpi.metrics.backends.CLICKHOUSE_UNSUPPORTED_ANALYSES) must say so (501 on the API, a notice
with the reason on the page), never a 500. Skipped when chdb is not installed.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from callkpi.analyses import alerts
from callkpi.config import Settings
from callkpi.metrics.backends import CLICKHOUSE_UNSUPPORTED_ANALYSES
from callkpi.storage import Store
from test_web_api import PASSWORD, build_web_store, login

pytest.importorskip("chdb")

from callkpi.model.qa_schema import QA_CRITERIA
from callkpi.qa.scorecards import load_scorecard
from callkpi.queries.targets import delete_target, load_targets, save_target
from callkpi.queries.users import update_lang, user_row
from callkpi.storage.clickhouse import ClickHouseStore, clickhouse_ddl
from callkpi.storage.copy import copy_store
from callkpi.web.app import create_app
from callkpi.web.auth import authenticate, create_token, create_user

PERIOD = {"from": "2026-03-02", "to": "2026-03-03"}
# Pages whose path has a parameter, with a value of this store (call ids are looked up)
PAGE_VALUES = {"agent_id": "1001", "fmt": "csv", "view": "kpi", "code": "en", "review_id": "none"}
NOT_SUPPORTED = "Not available on this store"


@dataclass
class Served:
    duck: TestClient
    ch: TestClient
    tokens: dict[str, str]
    ch_store: Any

    def both(self, path: str, **params: Any) -> tuple[Any, Any]:
        headers = {"Authorization": f"Bearer {self.tokens['admin']}"}
        return (self.duck.get(path, params=params, headers=headers), self.ch.get(path, params=params, headers=headers))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("chserve")
    data = build_web_store(base)
    url = f"chdb://{base / 'ch'}?database=serve"  # chDB: one directory per process
    with Store(data.path) as duck:
        target = ClickHouseStore(url)
        copy_store(duck, target)
        target.close()
    options = {"warm": False, "alerts": False, "schedules": False}
    duck_app = create_app(data.path, Settings(), **options)
    ch_app = create_app(url, Settings(), **options)
    with TestClient(duck_app, raise_server_exceptions=False) as duck_client, \
            TestClient(ch_app, raise_server_exceptions=False) as ch_client:
        for client in (duck_client, ch_client):
            assert login(client).status_code == 303
        yield Served(duck_client, ch_client, data.tokens, ch_app.state.web.db.store())


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def test_the_engines_differ(served: Served) -> None:
    """The ClickHouse app really reads ClickHouse (else every comparison below is DuckDB against itself)."""
    assert served.ch_store.dialect == "clickhouse"
    assert served.ch.app.state.web.db.engine == "clickhouse"
    assert served.duck.app.state.web.db.engine == "duckdb"


@pytest.mark.parametrize("by", ["agent", "queue", "day", "agent,day", ""])
def test_kpi_api_equal(served: Served, by: str) -> None:
    duck, ch = served.both("/api/v1/kpi", by=by, **PERIOD)
    assert duck.status_code == ch.status_code == 200
    rows = duck.json()
    assert rows and any(v not in (None, 0) for r in rows for v in r.values())  # figures, not only nulls
    assert _same(rows, ch.json()), (rows, ch.json())
    assert duck.headers.get("x-kpi-notes") == ch.headers.get("x-kpi-notes")


def _figures(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-metric="([^"]+)" data-value="([^"]*)"', html))


@pytest.mark.parametrize("path", ["/", "/agents", "/agents/1001", "/queues", "/outbound", "/wallboard/tiles"])
def test_page_figures_equal(served: Served, path: str) -> None:
    duck, ch = served.duck.get(path, params=PERIOD), served.ch.get(path, params=PERIOD)
    assert duck.status_code == ch.status_code == 200
    figures = _figures(duck.text)
    if path != "/wallboard/tiles":
        assert figures, path
    other = _figures(ch.text)
    assert figures.keys() == other.keys()
    for metric, value in figures.items():
        assert _same(float(value) if value else None, float(other[metric]) if other[metric] else None), metric


def test_call_log_equal(served: Served) -> None:
    duck, ch = served.both("/api/v1/calls", limit=500, **PERIOD)
    assert duck.status_code == ch.status_code == 200
    calls = duck.json()
    listed = calls["items"]
    assert len(listed) >= 20
    assert _same(calls, ch.json())
    one = listed[0]["call_id"]
    duck, ch = served.both(f"/api/v1/calls/{one}")
    assert duck.status_code == ch.status_code == 200 and _same(duck.json(), ch.json())


def test_missed_api_equal(served: Served) -> None:
    duck, ch = served.both("/api/v1/missed", **PERIOD)
    assert duck.status_code == ch.status_code == 200
    def settled(answer: dict[str, Any]) -> dict[str, Any]:  # without the clock of the request
        items = [{k: v for k, v in item.items() if k not in ("age_s", "overdue")} for item in answer["items"]]
        return {**{k: v for k, v in answer.items() if k != "as_of"}, "items": items}

    assert duck.json()["items"] and _same(settled(duck.json()), settled(ch.json()))


def _csv(text: str) -> list[list[str]]:
    """The rows, without the columns the request's clock sets (a missed call's age)."""
    rows = list(csv.reader(io.StringIO(text)))
    keep = [i for i, name in enumerate(rows[0] if rows else []) if name != "age_s"]
    return [[row[i] for i in keep if i < len(row)] for row in rows]


def _numeric_equal(a: list[list[str]], b: list[list[str]]) -> bool:
    def cell(x: str, y: str) -> bool:
        try:
            return math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-9)
        except ValueError:
            return x == y

    return len(a) == len(b) and all(len(r) == len(s) and all(map(cell, r, s)) for r, s in zip(a, b, strict=True))


@pytest.mark.parametrize("view,query", [
    ("kpi", {"by": "agent"}), ("kpi", {"by": "queue,day"}), ("agents", {}), ("calls", {}), ("missed", {}),
    ("metrics", {}),
])
def test_csv_exports_equal(served: Served, view: str, query: dict[str, str]) -> None:
    duck = served.duck.get(f"/export/{view}.csv", params={**PERIOD, **query})
    ch = served.ch.get(f"/export/{view}.csv", params={**PERIOD, **query})
    assert duck.status_code == ch.status_code == 200
    rows = _csv(duck.text)
    assert len(rows) > 1
    assert _numeric_equal(rows, _csv(ch.text))


def _page_paths(app: Any) -> list[str]:
    found: set[str] = set()

    def walk(routes: Any) -> None:
        for route in routes:
            if hasattr(route, "original_router"):
                walk(route.original_router.routes)
            elif "GET" in (getattr(route, "methods", None) or ()):
                found.add(route.path)

    walk(app.routes)
    return sorted(p for p in found if not p.startswith("/static") and not p.endswith("/stream"))


def test_every_page_and_endpoint_answers_on_clickhouse(served: Served) -> None:
    """200 (or what DuckDB answers: a 404 of a path value this store lacks, a 400), 501 only for the
    analyses the support table lists; never a 500."""
    call_id = served.both("/api/v1/calls", limit=1, **PERIOD)[0].json()
    call_id = call_id["items"][0]["call_id"]
    values = {**PAGE_VALUES, "call_id": call_id}
    headers = {"Authorization": f"Bearer {served.tokens['admin']}"}
    paths = _page_paths(served.ch.app)
    assert len(paths) > 40
    unsupported = []
    for template in paths:
        path = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), template)
        duck = served.duck.get(path, params=PERIOD, headers=headers if path.startswith("/api/") else None)
        ch = served.ch.get(path, params=PERIOD, headers=headers if path.startswith("/api/") else None)
        assert ch.status_code != 500, (path, ch.text[:300])
        if ch.status_code == 501:
            assert path.startswith("/api/") and duck.status_code in (200, 404), path  # 404: no such review
            answer = ch.json()
            assert "ClickHouse" in answer["error"] and answer["reason"] in CLICKHOUSE_UNSUPPORTED_ANALYSES.values()
            unsupported.append(path)
        elif NOT_SUPPORTED in ch.text:  # the notice stands where DuckDB finds the page or no such review
            assert duck.status_code in (200, 404), path
        else:
            assert ch.status_code == duck.status_code, (path, duck.status_code, ch.status_code)
        if NOT_SUPPORTED in ch.text:
            assert ch.status_code == 200 and NOT_SUPPORTED not in duck.text, path
            unsupported.append(path)
    assert bool(unsupported) == bool(CLICKHOUSE_UNSUPPORTED_ANALYSES), "unsupported: exactly the listed analyses"
    assert not [p for p in unsupported if p in ("/", "/agents", "/queues", "/calls", "/api/v1/kpi", "/wallboard")]


@pytest.mark.parametrize("path", ["/api/v1/staffing", "/api/v1/training-effect", "/api/v1/qa/reviews",
                                  "/api/v1/qa/queue"])
def test_the_analyses_answer_the_same(served: Served, path: str) -> None:
    """The analyses beyond the registry's KPIs (once DuckDB-only: tests/test_clickhouse_analyses.py
    compares them in depth) answer the API alike."""
    duck, ch = served.both(path, **PERIOD)
    assert duck.status_code == 200, duck.text[:300]
    assert ch.status_code == 200 and _same(ch.json(), duck.json()), path


def test_users_tokens_targets_are_written_on_clickhouse(served: Served) -> None:
    """The web's own writes (a user, a token, a language, a target) on the ClickHouse store, then a
    login with the new user; ClickHouse writes them as inserts, mutations and lightweight deletes."""
    store = served.ch_store
    create_user(store, "chuser", PASSWORD, "supervisor", queues=("sales",))
    assert authenticate(store, "chuser", PASSWORD) is not None
    update_lang(store, "chuser", "ru")
    assert user_row(store, "chuser")[6] == "ru"
    token = create_token(store, "chuser")
    me = served.ch.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["username"] == "chuser"
    save_target(store, "queue", "sales", "service_level", 0.8, 0.7, "admin")
    save_target(store, "queue", "sales", "service_level", 0.9, 0.75, "admin")  # the newest row of a key wins
    rows = "SELECT target, warn FROM web_targets WHERE scope = 'queue' AND scope_value = 'sales'"
    assert store.fetch_all(rows) == [(0.9, 0.75)]
    assert load_targets(store).find("service_level", queue="sales").target == 0.9
    delete_target(store, "queue", "sales", "service_level")
    assert store.fetch_all(rows) == []


# -- alerts (issue 16, item 1: "alerts work the same") ------------------------------------------


ALERTS = {"alerts": {"min_calls": 1}}  # the two-day store has fewer calls a day than the default 10


def test_alerts_equal_and_recorded_on_clickhouse(served: Served) -> None:
    settings = Settings(**ALERTS)
    duck_store = served.duck.app.state.web.db.store()
    clock = alerts.evaluation_clock(duck_store, settings)
    assert clock == alerts.evaluation_clock(served.ch_store, settings) and clock.kind == "data_end"
    duck = alerts.evaluate(duck_store, settings, clock=clock)
    ch = alerts.evaluate(served.ch_store, settings, clock=clock)
    assert len(duck) > 3 and any(s.firing for s in duck)
    assert [(s.key, s.period, s.calls, s.status) for s in duck] == [(s.key, s.period, s.calls, s.status) for s in ch]
    assert all(_same(a.value, b.value) for a, b in zip(duck, ch, strict=True))
    fired = alerts.record(served.ch_store, ch, clock.moment)
    assert {c.state.key for c in fired} == {s.key for s in ch if s.firing}
    assert alerts.record(served.ch_store, ch, clock.moment) == []  # still firing: nothing new
    history = alerts.history(served.ch_store)
    assert {h["alert_key"] for h in history} == {s.key for s in ch if s.firing}
    assert all(h["resolved_utc"] is None for h in history)
    calm = [replace(s, value=s.target) for s in ch]  # every KPI back at its target: each alert resolves
    resolved = alerts.record(served.ch_store, calm, clock.moment)
    assert {c.change for c in resolved} == {"resolved"} and len(resolved) == len(fired)
    assert all(h["resolved_utc"] is not None for h in alerts.history(served.ch_store))


def test_alerts_cli_on_clickhouse(served: Served, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from callkpi.cli import _register_commands
    from callkpi.cli.app import app

    _register_commands()
    url = served.ch.app.state.web.db.path
    config = tmp_path / "callkpi.toml"
    config.write_text("[alerts]\nmin_calls = 1\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["alerts", "check", "--db", url, "--as-of", "data-end", "--all",
                                      "--format", "json", "--config", str(config)], env={"COLUMNS": "300"})
    assert result.exit_code == 1, result.output  # alerts fire on this data
    rows = json.loads(result.stdout)
    duck_store = served.duck.app.state.web.db.store()
    settings = Settings(**ALERTS)
    duck = alerts.evaluate(duck_store, settings, clock=alerts.evaluation_clock(duck_store, settings))
    assert sorted((r["metric"], r["scope"], r["scope_value"], r["window"]) for r in rows) == sorted(
        (s.metric, s.scope, s.scope_value, s.window) for s in duck)


# -- the schema of an older ClickHouse store (issue 16: qa_criteria.script_stage) -------------------


def test_missing_columns_are_added_to_an_older_clickhouse_store(served: Served) -> None:
    url = served.ch.app.state.web.db.path.replace("database=serve", "database=older")
    older = ClickHouseStore(url, read_only=True)
    try:
        without = replace(QA_CRITERIA, columns=tuple(c for c in QA_CRITERIA.columns if c[0] != "script_stage"))
        older.command(clickhouse_ddl(without))
        older.command("INSERT INTO qa_criteria (call_type, version, position, criterion) "
                      "VALUES ('sales', 1, 0, 'greet')")
        columns = "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'qa_criteria'"
        assert "script_stage" not in {r[0] for r in older.fetch_all(columns)}
    finally:
        older.close()
    with ClickHouseStore(url) as upgraded:  # a writable open brings the schema up to the model
        assert "script_stage" in {r[0] for r in upgraded.fetch_all(columns)}
        assert upgraded.fetch_all("SELECT criterion, script_stage FROM qa_criteria") == [("greet", None)]
        card = load_scorecard(upgraded, "sales")
        assert card is None  # no qa_scorecards head row: the criteria alone are no scorecard
