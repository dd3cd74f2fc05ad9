"""Amounts in different currencies are never added: costs carry their line's currency, and cost, cost
per call, cost per sale, profit per call and ROI are null (with the reason said) where they would add or
set against each other amounts in different currencies.

The day is the hand-made one of test_business_costs_conversion (its docstring has the calls, the
working time and the rates); worked out there by hand: labour 101: 4 h x 300 = 1 200, 201: 7 230 s x
360/h = 723, 202: 4 h x 250 = 1 000; revenue by agent 101: D1 1 000 + D2 500, 201: D3 2 000, 103: D4 700;
handled calls 101: 1, 201: 1, 202: 1, total 6.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.metrics.catalogue import REGISTRY
from callkpi.storage import Store
from callkpi.web.i18n import Locale
from conftest import by_key, kpi_result, query_rows
from test_business_costs_conversion import CDR_ROWS, DEALS, PRESENCE, SCHEDULES
from test_cdr_asterisk import master_csv

pytestmark = pytest.mark.skipif("deals_won" not in REGISTRY.metrics, reason="business KPIs not registered")

MONEY = ["revenue", "cost", "cost_per_call", "cost_per_sale", "profit_per_call", "roi"]
RUB_SETTINGS = Settings.model_validate({"money": {"currency": "RUB"}})


def _load(store: Store, tmp_path: Path, costs: str, deals: str = DEALS, settings: Settings = RUB_SETTINGS) -> Store:
    files = (("Master.csv", master_csv(CDR_ROWS)), ("queue_log", PRESENCE), ("schedules.csv", SCHEDULES),
             ("costs.csv", costs), ("deals.csv", deals))
    for name, text in files:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        report = load_file(store, path, settings, timezone="UTC")
        assert report.quarantined == 0, (name, report.issues)
    store.set_meta("timezone", "UTC")
    return store


def test_cost_lines_carry_their_currency_into_the_allocation(store: Store, tmp_path: Path) -> None:
    costs = ("cost_type,agent,amount,currency,description\nagent_hourly,101,300,USD,pay\n"
             "agent_hourly,201,360 ₽,,pay\nagent_hourly,202,250,,pay\n")
    _load(store, tmp_path, costs)
    rows = query_rows(store, "SELECT agent, currency, round(sum(amount), 6) AS amount FROM cost_allocation "
                             "GROUP BY ALL ORDER BY agent")
    # 101 says USD; 201's amount says ₽; 202 says nothing: the [money] currency (RUB)
    assert rows == [{"agent": "101", "currency": "USD", "amount": 1200.0},
                    {"agent": "201", "currency": "RUB", "amount": 723.0},
                    {"agent": "202", "currency": "RUB", "amount": 1000.0}]


def test_costs_in_two_currencies_are_not_added(store: Store, tmp_path: Path) -> None:
    costs = ("cost_type,agent,amount,currency,description\nagent_hourly,101,300,USD,pay\n"
             "agent_hourly,201,360,RUB,pay\nagent_hourly,202,250,RUB,pay\n")
    _load(store, tmp_path, costs)
    result = kpi_result(store, metrics=MONEY)
    row = result.rows[0]
    assert row["revenue"] == 4200.0  # the deals are all in RUB
    assert {m: row[m] for m in MONEY[1:]} == dict.fromkeys(MONEY[1:])  # USD 1 200 and RUB 1 723 are not a sum
    for metric in MONEY[1:]:
        assert f"{metric}: mixed currencies in this scope; shown as null" in result.notes
    agents = by_key(kpi_result(store, ["agent"], metrics=MONEY).rows, "agent")
    assert agents["101"]["cost"] == 1200.0 and agents["101"]["cost_per_call"] == 1200.0  # USD alone
    # 101's revenue is in RUB and its cost in USD: no profit, no ROI
    assert agents["101"]["profit_per_call"] is None and agents["101"]["roi"] is None
    assert agents["201"]["profit_per_call"] == pytest.approx(2000 - 723)  # RUB both: (2 000 - 723) / 1 call
    assert agents["201"]["roi"] == pytest.approx((2000 - 723) / 723)
    assert agents["202"]["cost"] == 1000.0


def test_revenue_and_costs_in_different_currencies_give_no_profit(store: Store, tmp_path: Path) -> None:
    deals = DEALS.replace("deal_id,", "currency,deal_id,").replace("\nD", "\nEUR,D")
    costs = ("cost_type,agent,amount,currency,description\nagent_hourly,101,300,RUB,pay\n"
             "agent_hourly,201,360,RUB,pay\nagent_hourly,202,250,RUB,pay\n")
    _load(store, tmp_path, costs, deals, Settings())
    result = kpi_result(store, metrics=MONEY)
    row = result.rows[0]
    assert (row["revenue"], row["cost"]) == (4200.0, 2923.0)  # each in one currency: EUR and RUB
    assert row["cost_per_call"] == pytest.approx(2923 / 6)
    assert row["cost_per_sale"] == pytest.approx(2923 / 4)  # a count of deals, not an amount
    assert (row["profit_per_call"], row["roi"]) == (None, None)
    assert "roi: mixed currencies in this scope; shown as null" in result.notes
    assert "cost: mixed currencies in this scope; shown as null" not in result.notes
    russian = Locale("ru").note("roi: mixed currencies in this scope; shown as null")
    assert russian == "roi: валюты смешаны в этой выборке; показано пусто"


def test_costs_that_name_no_currency_are_in_the_deals_one(store: Store, tmp_path: Path) -> None:
    costs = "cost_type,agent,amount,description\nagent_hourly,101,300,pay\nagent_hourly,201,360,pay\n"
    _load(store, tmp_path, costs, settings=Settings())
    row = kpi_result(store, metrics=MONEY).rows[0]
    # 1 200 + 723 = 1 923 over 6 handled calls; revenue 4 200
    assert row["profit_per_call"] == pytest.approx((4200 - 1923) / 6)
    assert row["roi"] == pytest.approx((4200 - 1923) / 1923)


def test_a_store_from_before_the_currency_column(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    costs = "cost_type,agent,amount,description\nagent_hourly,101,300,pay\n"
    with Store(db) as store:
        _load(store, tmp_path, costs, settings=Settings())
        store.connection.execute("ALTER TABLE cost_allocation DROP COLUMN currency")  # as an older callkpi wrote it
    with Store(db, read_only=True) as old:  # read as it is: the missing column is null
        assert kpi_result(old, metrics=["cost"]).rows[0]["cost"] == 1200.0
    with Store(db) as store:  # a writable open adds the column
        columns = [r["column_name"] for r in query_rows(
            store, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'cost_allocation'")]
        assert columns[-1] == "currency"
