"""The demo's sales and money on the pages people look at: a few simulated days of the default scenario
(inbound queues in queue_log, the outbound team only in the CDR, transfers to extensions outside the
team), with costs, schedules, staff and deals loaded. What the pages must show is worked out from the
simulator's CSVs with pandas, not from callkpi:

- every agent with an hourly rate is costed: a dialer agent (no presence anywhere) by its schedule,
  rate x scheduled hours;
- the agents with calls but no rate in costs.csv are named as uncosted (the cost is incomplete);
- the period's deals are maturing (the data is younger than attribution_window_d), on the overview and
  the sales page, with the cohort view by call day.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.metrics.catalogue import REGISTRY
from callkpi.queries.web_tables import ensure_web_schema
from callkpi.simulate import Scenario, simulate
from callkpi.storage import Store
from callkpi.web.app import create_app
from callkpi.web.auth import create_user
from callkpi.web.ui import DEFAULT_PRESET, PRESETS
from conftest import query_rows

pytestmark = pytest.mark.skipif("deals_won" not in REGISTRY.metrics, reason="business KPIs not registered")

PASSWORD = "correct horse battery"
LOADED = ("queue_log", "Master.csv", "staff.csv", "costs.csv", "schedules.csv", "deals.csv")
EXTENSION = re.compile(r"^(?:PJSIP|SIP|Local)/(\d{4})\b")


@dataclass
class Demo:
    records: Path
    client: TestClient
    store: Store


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    directory = tmp_path_factory.mktemp("demo-pages")
    records = directory / "records"
    simulate(Scenario.load().with_overrides(days=3, agents=12, calls_per_day=300, seed=3), records)
    db = directory / "demo.duckdb"
    settings = Settings()
    with Store(db) as store:
        for name in LOADED:
            report = load_file(store, records / name, settings, timezone="Europe/Moscow")
            assert report.lines_loaded > 0, name
        ensure_web_schema(store)
        create_user(store, "admin", PASSWORD, "admin")
    app = create_app(db, settings, warm=False)
    with TestClient(app, raise_server_exceptions=True) as client:
        form = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf
        client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf.group(1),
                                    "next": "/"})
        client.get("/lang/en", params={"next": "/"})
        yield Demo(records, client, app.state.web.db.store())


def _rates(records: Path) -> dict[str, float]:
    costs = pd.read_csv(records / "costs.csv", dtype=str)
    hourly = costs[costs.cost_type == "agent_hourly"]
    return dict(zip(hourly.agent, hourly.amount.astype(float), strict=True))


def _queue_log_agents(records: Path) -> set[str]:
    """Agents that appear anywhere in queue_log (presence or calls)."""
    log = pd.read_csv(records / "queue_log", sep="|", header=None, usecols=[3], names=["agent"], dtype=str)
    return {m.group(1) for a in log.agent.dropna() if (m := EXTENSION.match(a))}


def _cdr_agents(records: Path) -> dict[str, set[str]]:
    """Extensions on answered CDR rows: as the dialling channel (outbound) and as the answering one."""
    cdr = pd.read_csv(records / "Master.csv", header=None, dtype=str, keep_default_na=False)
    answered = cdr[cdr[14] == "ANSWERED"]
    found: dict[str, set[str]] = {"dialling": set(), "answering": set()}
    for column, kind in ((5, "dialling"), (6, "answering")):
        found[kind] = {m.group(1) for value in answered[column] if (m := EXTENSION.match(value))}
    return found


def test_dialer_agents_are_costed_by_their_schedule(demo: Demo) -> None:
    rates = _rates(demo.records)
    cdr = _cdr_agents(demo.records)
    dialers = sorted(cdr["dialling"] - _queue_log_agents(demo.records))
    assert dialers, "the scenario has an outbound team seen only in the CDR"
    schedules = pd.read_csv(demo.records / "schedules.csv")
    schedules["hours"] = (pd.to_datetime(schedules.shift_end) - pd.to_datetime(schedules.shift_start)
                          ).dt.total_seconds() / 3600
    hours = schedules.groupby(schedules.agent.astype(str)).hours.sum()
    labour = {r["agent"]: r["amount"] for r in query_rows(
        demo.store, "SELECT agent, sum(amount) AS amount FROM cost_allocation WHERE cost_type = 'agent_hourly' "
                    "GROUP BY agent")}
    for agent in dialers:
        assert labour.get(agent) == pytest.approx(rates[agent] * hours[agent]), agent


def _uncosted_by_hand(records: Path) -> list[str]:
    rates = _rates(records)
    cdr = _cdr_agents(records)
    with_calls = cdr["dialling"] | cdr["answering"] | _queue_log_agents(records)
    return sorted(with_calls - set(rates))


def test_overview_and_sales_say_who_is_uncosted_and_that_deals_are_maturing(demo: Demo) -> None:
    expected = _uncosted_by_hand(demo.records)
    for path in ("/", "/sales"):
        page = demo.client.get(path).text
        assert 'data-maturing="' in page, path  # three days of data, a 30-day window: every day is maturing
        labour = re.search(r'data-labour="(\w+)"(?: data-uncosted="(\d+)")?[^>]*>([^<]*)', page)
        assert labour, path
        if expected:
            assert labour.group(1) == "incomplete" and int(labour.group(2)) == len(expected), path
            assert ", ".join(expected) in labour.group(3), path
        else:
            assert labour.group(1) == "complete", path
    overview = demo.client.get("/").text
    assert 'data-maturing-card="conversion_rate"' in overview
    sales = demo.client.get("/sales").text
    days = re.findall(r'<tr data-day="([\d-]+)" data-maturing="(yes|no)"', sales)
    # the default period of every page (web/ui.DEFAULT_PRESET: 7 days to the last day with data), data in the last 3
    assert len(days) == PRESETS[DEFAULT_PRESET] == 7 and all(flag == "yes" for _, flag in days[-3:])
    assert 'id="sales-trend"' in sales and 'id="sales-funnel"' in sales


def test_money_reads_with_the_currency_of_the_deals(demo: Demo) -> None:
    currencies = set(pd.read_csv(demo.records / "deals.csv", dtype=str).currency.dropna())
    assert len(currencies) == 1, "the simulator writes its deals in one currency"
    (currency,) = currencies
    sales = demo.client.get("/sales").text
    revenue = re.search(r'data-metric="revenue"[^>]*>([^<]+)<', sales)
    assert revenue and revenue.group(1).strip().endswith(f"\u00a0{currency}"), revenue and revenue.group(1)
    agent = sorted(_rates(demo.records))[0]
    card = demo.client.get(f"/agents/{agent}/scorecard").text
    row = re.search(r'<tr data-metric="revenue">(.*?)</tr>', card, re.S)
    assert row
    cells = [re.sub(r"<[^>]+>", " ", c).split()
             for c in re.findall(r'<td class="num[^"]*">(.*?)</td>', row.group(1), re.S)]
    assert cells and all(words.count(currency) == (0 if words == ["—"] else 1) for words in cells), cells
