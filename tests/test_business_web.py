"""The business pages and API: training effect, agent scorecard, sales & money, on a store built from
the hand-made day of test_business_sales (agents 1001-1003, deals, costs, surveys, staff) and the
constructed centre of test_business_training (agents 2001-2008; 2001-2004 take "Objection handling"
on day 20 and convert 4 percentage points more afterwards).

Users: admin; ``north`` supervises team north (1001, 1002); ``support`` supervises queue support
(nobody took a call there); agents 1001 and 1002.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from callkpi.analyses.agent_scorecard import agent_scorecard
from callkpi.analyses.training_effect import training_effect
from callkpi.config import MetricParams, Settings
from callkpi.ingest.formats import load_file
from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.catalogue.business import ATTRIBUTION_RULE
from callkpi.metrics.engine import KpiQuery, compute
from callkpi.queries.web_tables import ensure_web_schema
from callkpi.storage import Store
from callkpi.web.app import create_app
from callkpi.web.auth import create_token, create_user
from callkpi.web.features.business_tables import SALES_METRICS
from store_copies import copied
from test_business_sales import COSTS, DEALS, QUEUE_LOG, RU, SURVEYS
from test_business_training import constructed_centre

pytestmark = pytest.mark.skipif("deals_won" not in REGISTRY.metrics, reason="business KPIs not registered")

PASSWORD = "correct horse battery"
PROGRAMME = "Objection handling"
STAFF = "agent,name,team,hired\n1001,Anna,north,2025-03-02\n1002,Boris,north,2026-01-10\n1003,Vera,south,2024-05-01\n"
TRAINING = "agent,programme,date\n1001,Product basics,2026-02-20\n"
USERS = {"admin": ("admin", {}), "north": ("supervisor", {"teams": ("north",)}),
         "support": ("supervisor", {"queues": ("support",)}), "agent1": ("agent", {"agent": "1001"}),
         "agent2": ("agent", {"agent": "1002"})}
TRAINING_QUERY = {"programme": PROGRAMME, "window_days": 19}
DAY = {"from": "2026-03-02", "to": "2026-03-02"}


@dataclass
class BusinessStore:
    path: Path
    tokens: dict[str, str]


def build_business_store(directory: Path) -> BusinessStore:
    """The store described in the module docstring, with users and their API tokens. Built once per
    process and copied (tests/store_copies.py): this module and tests/test_business_browser.py use it."""
    built = copied("business-store", directory, _build_business_store)
    return BusinessStore(directory / built.path.name, built.tokens)


def _build_business_store(directory: Path) -> BusinessStore:
    centre = directory / "centre"
    centre.mkdir()
    files = [*((directory / name, text) for name, text in (
        ("queue_log", QUEUE_LOG), ("deals.csv", DEALS), ("costs.csv", COSTS), ("surveys.csv", SURVEYS),
        ("staff.csv", STAFF), ("training.csv", TRAINING)))]
    for path, text in files:
        path.write_text(text, encoding="utf-8")
    paths = [p for p, _ in files] + constructed_centre(centre, days=40, training_day=20, calls_per_day=25,
                                                       uplift=0.04, seed=7)
    db = directory / "business.duckdb"
    with Store(db) as store:
        for path in paths:
            report = load_file(store, path, RU, timezone="UTC")
            assert report.quarantined == 0, (path, report.issues[:3])
        store.set_meta("timezone", "UTC")
        ensure_web_schema(store)
        for name, (role, scope) in USERS.items():
            create_user(store, name, PASSWORD, role, **scope)
        tokens = {name: create_token(store, name) for name in USERS}
    return BusinessStore(db, tokens)


@dataclass
class Web:
    client: TestClient
    store: Store
    data: BusinessStore

    def api(self, path: str, user: str = "admin", **params: Any) -> Any:
        return self.client.get(path, params=params, headers={"Authorization": f"Bearer {self.data.tokens[user]}"})


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    data = build_business_store(tmp_path_factory.mktemp("business-web"))
    app = create_app(data.path, Settings(phone=RU.phone), warm=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Web(client, app.state.web.db.store(), data)


def login(client: TestClient, username: str) -> TestClient:
    form = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf,
                                            "next": "/"}, follow_redirects=False)
    assert response.status_code == 303
    return client


@pytest.fixture
def session(web: Web) -> TestClient:
    """A signed-in admin browser session (own cookies, English)."""
    client = login(TestClient(web.client.app, raise_server_exceptions=False), "admin")
    client.get("/lang/en", params={"next": "/"})
    return client


def as_user(web: Web, username: str) -> TestClient:
    return login(TestClient(web.client.app, raise_server_exceptions=False), username)


def cell(page: str, pattern: str) -> str:
    match = re.search(pattern, page, re.S)
    assert match, pattern
    return match.group(1)


# -- training effect ------------------------------------------------------------------------------


def test_training_api_is_training_effect(web: Web) -> None:
    response = web.api("/api/v1/training-effect", **TRAINING_QUERY, metrics="conversion_rate,csat")
    assert response.status_code == 200, response.text
    body = response.json()
    expected = training_effect(web.store, MetricParams(timezone="UTC"), programme=PROGRAMME, window_days=19,
                               metrics=["conversion_rate", "csat"])
    assert body == json.loads(json.dumps([e.as_dict() for e in expected]))
    effects = {e["metric"]: e for e in body}
    conversion = effects["conversion_rate"]
    assert conversion["ci_low"] < 0.04 < conversion["ci_high"]  # the constructed uplift
    assert conversion["cells"]["trained_after"] == 1900  # 4 agents x 19 days x 25 calls
    assert effects["csat"]["verdict"] == "not_enough_data" and effects["csat"]["effect"] is None


def test_every_programme_by_default(web: Web) -> None:
    body = web.api("/api/v1/training-effect", metrics="aht_s").json()
    assert sorted(e["programme"] for e in body) == [PROGRAMME, "Product basics"]
    basics = next(e for e in body if e["programme"] == "Product basics")
    assert basics["verdict"] == "not_enough_data"  # one trained agent, no calls around 2026-02-20


def test_training_page_shows_the_apis_numbers_and_words(web: Web, session: TestClient) -> None:
    api = {e["metric"]: e for e in web.api("/api/v1/training-effect", **TRAINING_QUERY).json()}
    page = session.get("/training", params=TRAINING_QUERY)
    assert page.status_code == 200, page.text[:300]
    for metric, effect in api.items():
        row = cell(page.text, rf'(<tr data-metric="{metric}".*?</tr>)')
        shown = cell(row, r'class="num effect" data-value="([^"]*)"')
        assert (float(shown) if shown else None) == (pytest.approx(effect["effect"]) if effect["effect"] is not None
                                                     else None), metric
        assert f'data-verdict="{effect["verdict"]}"' in row
        assert escape(effect["verdict_text"]) in page.text, metric
    session.get("/lang/ru", params={"next": "/"})
    russian = session.get("/training", params=TRAINING_QUERY).text
    session.get("/lang/en", params={"next": "/"})
    assert "Эффект обучения" in russian and "недостаточно данных: нужно не менее 30 наблюдений" in russian
    assert "улучшение: показатель «Конверсия звонков в сделки» вырос на" in russian


def test_training_exports(web: Web, session: TestClient) -> None:
    from openpyxl import load_workbook

    api = {e["metric"]: e for e in web.api("/api/v1/training-effect", **TRAINING_QUERY).json()}
    text = session.get("/training/export.csv", params=TRAINING_QUERY).text
    rows = {r["metric"]: r for r in csv.DictReader(io.StringIO(text))}
    assert set(rows) == set(api)
    assert float(rows["conversion_rate"]["effect"]) == pytest.approx(api["conversion_rate"]["effect"])
    assert rows["csat"]["effect"] == "" and rows["csat"]["verdict"] == "not_enough_data"
    assert int(rows["aht_s"]["untrained_before"]) == api["aht_s"]["cells"]["untrained_before"]
    response = session.get("/training/export.xlsx", params=TRAINING_QUERY)
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["training-effect", "definitions"]
    definitions = {row[0]: row[1] for row in book["definitions"].values if row and row[0]}
    assert definitions["window_days"] == "19" and definitions["programme"] == PROGRAMME
    assert "conversion_rate" in definitions and "difference in differences" in definitions["method"]


@pytest.mark.parametrize(("query", "status", "needle"), [
    ({"window_days": 0}, 422, "window_days"),
    ({"window_days": "abc"}, 422, "window_days"),
    ({"window_days": 10_000}, 422, "window_days"),
    ({"metrics": "happiness"}, 400, "happiness"),
    ({"programme": "Juggling"}, 400, "Juggling"),
    ({"param": "attribution_window_d=soon"}, 400, "attribution_window_d"),
    ({"param": "nonsense"}, 400, "param"),
])
def test_training_malformed_parameters_are_4xx(web: Web, query: dict[str, Any], status: int, needle: str) -> None:
    response = web.api("/api/v1/training-effect", **query)
    assert response.status_code == status, response.text
    assert needle in response.text


def test_training_page_malformed_parameters_are_4xx(session: TestClient) -> None:
    assert session.get("/training", params={"window_days": "x"}).status_code == 422
    assert session.get("/training", params={"programme": "Juggling"}).status_code == 400
    assert session.get("/training", params={"metrics": "happiness"}).status_code == 400
    assert session.get("/training/export.pdf").status_code == 400


def test_agents_may_not_see_the_training_effect(web: Web) -> None:
    assert web.api("/api/v1/training-effect", user="agent1").status_code == 403
    assert web.api("/api/v1/training-effect", user="north").status_code == 200
    agent = as_user(web, "agent1")
    assert agent.get("/training").status_code == 403
    assert agent.get("/training/export.csv").status_code == 403
    assert 'data-nav="training"' not in agent.get("/sales").text


# -- scorecard ------------------------------------------------------------------------------------


def test_scorecard_api_is_the_shared_function(web: Web) -> None:
    response = web.api("/api/v1/agents/1001/scorecard", to="2026-03-31")
    assert response.status_code == 200, response.text
    card = response.json()
    expected = agent_scorecard(web.store, "1001", MetricParams(timezone="UTC"), date_to=date(2026, 3, 31))
    assert card == json.loads(json.dumps(expected, default=str))
    assert (card["profile"]["team"], card["profile"]["tenure_days"], card["team_agents"]) == ("north", 394, 2)
    rows = {r["metric"]: r for r in card["rows"]}
    assert (rows["calls_handled"]["agent"], rows["calls_handled"]["team"]) == (2, 1.5)  # north: 3 calls / 2
    assert rows["conversion_rate"]["agent"] == 0.5 and rows["conversion_rate"]["team"] == pytest.approx(1 / 3)
    assert card["profile"]["trainings"][0]["programme"] == "Product basics"


@pytest.mark.parametrize(("user", "agent", "status"), [
    ("agent1", "1001", 200),
    ("agent1", "1002", 403),
    ("agent1", "9999", 403),  # an agent learns nothing about other ids
    ("agent2", "1001", 403),
    ("north", "1002", 200),
    ("north", "1003", 403),
    ("support", "1001", 403),
    ("admin", "1003", 200),
    ("admin", "9999", 404),
])
def test_scorecard_scope(web: Web, user: str, agent: str, status: int) -> None:
    assert web.api(f"/api/v1/agents/{agent}/scorecard", user=user).status_code == status
    client = as_user(web, user)
    assert client.get(f"/agents/{agent}/scorecard", params=DAY).status_code == status
    assert client.get(f"/agents/{agent}/scorecard.csv", params=DAY).status_code == status


@pytest.mark.parametrize("query", [{"from": "2026-13-01"}, {"to": "yesterday"},
                                   {"from": "2026-03-05", "to": "2026-03-01"}, {"param": "fcr_window_h=x"}])
def test_scorecard_malformed_parameters_are_400(web: Web, query: dict[str, Any]) -> None:
    response = web.api("/api/v1/agents/1001/scorecard", **query)
    assert response.status_code == 400, response.text
    assert response.json()["error"]


def test_scorecard_page_and_exports(web: Web, session: TestClient) -> None:
    from openpyxl import load_workbook

    api = {r["metric"]: r for r in web.api("/api/v1/agents/1001/scorecard", **DAY).json()["rows"]}
    page = session.get("/agents/1001/scorecard", params=DAY).text
    for metric in ("calls_handled", "conversion_rate", "revenue", "csat", "nps"):
        row = cell(page, rf'(<tr data-metric="{metric}">.*?</tr>)')
        agent = cell(row, r'class="num agent"><a [^>]*data-value="([^"]*)"')
        team = cell(row, r'class="num team"><a [^>]*data-value="([^"]*)"')
        assert float(agent) == pytest.approx(api[metric]["agent"]), metric
        assert float(team) == pytest.approx(api[metric]["team"]), metric
    assert escape(ATTRIBUTION_RULE[0]) in page
    assert "Product basics" in page and 'data-field="tenure_days" data-value="' in page
    text = session.get("/agents/1001/scorecard.csv", params=DAY).text
    rows = {r["metric"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows["name"]["agent"] == "Anna" and float(rows["revenue"]["agent"]) == api["revenue"]["agent"]
    book = load_workbook(io.BytesIO(session.get("/agents/1001/scorecard.xlsx", params=DAY).content))
    assert book.sheetnames == ["scorecard_1001", "definitions"]
    sheet = list(book.worksheets[0].values)
    found = {r[1]: r for r in sheet[1:]}
    assert found["calls_handled"][3] == api["calls_handled"]["agent"]
    assert any(ATTRIBUTION_RULE[0] in str(r[4]) for r in book["definitions"].values)


def test_the_agent_page_links_its_scorecard(session: TestClient) -> None:
    page = session.get("/agents/1001", params=DAY).text
    assert 'href="/agents/1001/scorecard?from=2026-03-02&amp;to=2026-03-02" id="scorecard-link"' in page


# -- sales & money, and business KPIs on the other pages -------------------------------------------


def _engine(web: Web, by: tuple[str, ...], metrics: tuple[str, ...], **filters: tuple[str, ...]) -> list[dict]:
    day = date(2026, 3, 2)
    query = KpiQuery(by=by, date_from=day, date_to=day, filters=filters, metrics=metrics,
                     params=MetricParams(timezone="UTC"))
    return compute(web.store, query).rows


def test_sales_page_rows_are_the_engines(web: Web, session: TestClient) -> None:
    page = session.get("/sales", params={**DAY, "by": "agent"})
    assert page.status_code == 200, page.text[:300]
    # costs and answers with no agent (rent, a survey of an unknown call) make a row of their own
    expected = {r["agent"]: r for r in _engine(web, ("agent",), SALES_METRICS) if r["agent"] is not None}
    assert {"1001", "1002", "1003", "2001"} <= set(expected)
    table = cell(page.text, r'(<table class="data sortable" id="sales-table">.*?</table>)')
    for agent, row in expected.items():
        shown = cell(table, rf'<a href="/agents/{agent}">{agent}</a>(.*?)</tr>')
        for metric in ("deals_won", "revenue", "conversion_rate", "cost_per_call", "roi", "csat", "nps"):
            value = cell(shown, rf'data-metric="{metric}" data-value="([^"]*)"')
            assert (float(value) if value else None) == (pytest.approx(row[metric]) if row[metric] is not None
                                                          else None), (agent, metric)
    assert escape(ATTRIBUTION_RULE[0]) in page.text
    by_team = session.get("/sales", params={**DAY, "by": "team"}).text
    assert '<td data-value="north">north</td>' in by_team


def test_sales_page_for_an_agent_and_bad_grouping(web: Web, session: TestClient) -> None:
    assert session.get("/sales", params={"by": "colour"}).status_code == 400
    assert session.get("/sales", params={"from": "2026-02-30"}).status_code == 400
    mine = as_user(web, "agent1").get("/sales", params={**DAY, "by": "agent"}).text
    assert '<a href="/agents/1001">1001</a>' in mine and '<a href="/agents/1002">' not in mine


def test_overview_and_outbound_show_conversion_csat_nps(web: Web, session: TestClient) -> None:
    api = web.api("/api/v1/kpi", **DAY, metrics="conversion_rate,csat,nps").json()[0]
    overview = session.get("/", params=DAY).text
    for metric in ("conversion_rate", "csat", "nps"):
        value = cell(overview, rf'<div class="card-value"><a [^>]*data-metric="{metric}" data-value="([^"]*)"')
        assert float(value) == pytest.approx(api[metric]), metric
    # the rule is on every sales number: in its hover text
    hint = cell(overview, r'<a class="kpi[^"]*" href="/metrics#m-conversion_rate" title="([^"]*)"')
    assert escape(ATTRIBUTION_RULE[0]) in hint
    outbound = session.get("/outbound", params=DAY).text
    assert 'data-card="conversion_rate"' in outbound
    agents = session.get("/agents", params=DAY).text
    for page in (overview, outbound, agents):  # and as a visible box wherever sales numbers are
        assert 'data-rule="attribution"' in page and escape(ATTRIBUTION_RULE[0]) in page


def test_openapi_lists_the_business_endpoints(web: Web) -> None:
    paths = web.api("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/training-effect" in paths and "/api/v1/agents/{agent_id}/scorecard" in paths
    assert "/training" not in paths and "/sales" not in paths


def test_pages_without_business_data(tmp_path: Path) -> None:
    """Calls only: the pages say what to load instead of failing."""
    db = tmp_path / "calls.duckdb"
    with Store(db) as store:
        (tmp_path / "queue_log").write_text(QUEUE_LOG, encoding="utf-8")
        load_file(store, tmp_path / "queue_log", RU, timezone="UTC")
        ensure_web_schema(store)
        create_user(store, "admin", PASSWORD, "admin")
    with TestClient(create_app(db, Settings(), warm=False), raise_server_exceptions=False) as client:
        login(client, "admin")
        assert 'id="no-business"' in client.get("/sales", params=DAY).text
        assert 'id="no-programmes"' in client.get("/training").text
        card = client.get("/agents/1001/scorecard", params=DAY)
        assert card.status_code == 200 and 'data-field="tenure_days" data-value=""' in card.text


def test_training_page_draws_each_groups_before_and_after_with_its_interval(web: Web, session: TestClient) -> None:
    api = {e["metric"]: e for e in web.api("/api/v1/training-effect", **TRAINING_QUERY).json()}
    page = session.get("/training", params=TRAINING_QUERY).text
    conversion = api["conversion_rate"]
    spec = json.loads(html.unescape(cell(page, r'<figure data-metric="conversion_rate".*?data-chart="([^"]*)"')))
    assert spec["kind"] == "intervals" and spec["labels"] == ["before", "after"]
    trained = spec["series"][0]
    assert trained["name"] == "Trained"
    # the chart's points are the API's (weighted) cell means and their intervals, which hold the means
    assert trained["mean"] == pytest.approx([conversion["means"]["trained_before"]["mean"],
                                             conversion["means"]["trained_after"]["mean"]])
    assert trained["mean"][0] == pytest.approx(conversion["trained"]["mean_before"])
    assert all(lo < m < hi for lo, m, hi in zip(trained["low"], trained["mean"], trained["high"], strict=True))


def test_training_page_says_when_its_after_windows_are_still_maturing(web: Web, session: TestClient) -> None:
    """By hand from the canonical tables: the last after-training window ends window_days after the last
    training; its deals may still be won while that day is less than attribution_window_d before the
    newest call loaded."""
    con = web.store.connection
    (last_training,) = con.execute("SELECT max(end_date) FROM training_events WHERE programme = ?",
                                   [PROGRAMME]).fetchone()
    (newest_call,) = con.execute("SELECT max(start_utc) FROM calls").fetchone()
    after_end = last_training + timedelta(days=TRAINING_QUERY["window_days"])
    maturing = (newest_call.date() - after_end).days < MetricParams().attribution_window_d
    page = session.get("/training", params=TRAINING_QUERY).text
    assert ('data-maturing="' in page) == maturing
