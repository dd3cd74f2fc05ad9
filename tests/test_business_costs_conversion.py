"""Every agent costed, conversion by distinct calls, open deals shown as open: a hand-made day from the
CDR (agents seen only there, like a dialer team), with presence for one agent from queue_log, a schedule
and a cost file; every expected number is worked out by hand next to it.

Times UTC, T0 = 2026-03-02 09:00 (the store's zone is UTC):

    call    customer       legs (agent: offer -> answer, talk)                  notes
    X1      7 903 111 2233 101: 10:00:00 -> 10:00:05, 60 s; 102: 10:01:05 -> 10:01:10, 90 s  a transfer
    X2      7 903 222 3344 102: 13:00:00 -> 13:00:05, 60 s
    X3      7 903 555 6677 103: 14:00:00 -> 14:00:05, 60 s
    O1      7 916 111 0001 201 dials 09:00:00, answered 09:00:10, 120 s
    O2      7 916 111 0002 201 dials 11:00:00, no answer, ends 11:00:30
    O3      7 916 111 0003 202 dials 09:30:00, answered 09:30:10, 60 s

Working time: 101 is logged in 08:00-12:00 (queue_log) and scheduled 09:00-17:00; 202 is scheduled
09:00-13:00; 201, 102 and 103 have neither.

Rates: 101 300/h, 201 360/h, 202 250/h (per hour of working time); 102 200 per *scheduled* hour; 103 none.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from callkpi.config import MetricParams, Settings
from callkpi.ingest.formats import load_file
from callkpi.metrics.catalogue import REGISTRY
from callkpi.queries.business import cohort_rows, deal_maturity, period_maturity
from callkpi.storage import Store
from conftest import Cli, by_key, kpis, ql_line, query_rows, total
from test_cdr_asterisk import cdr, master_csv

pytestmark = pytest.mark.skipif("deals_won" not in REGISTRY.metrics, reason="business KPIs not registered")

T0_EPOCH = 1772442000  # 2026-03-02 09:00:00 UTC
TRUNK = "SIP/trunk1-00000001"
CDR_ROWS = [
    cdr("79031112233", "4951112233", TRUNK, "SIP/101-00000011", 3600, 3605, 3665, "ANSWERED",
        linkedid="2000.1", sequence=10),
    cdr("79031112233", "4951112233", TRUNK, "SIP/102-00000012", 3665, 3670, 3760, "ANSWERED",
        linkedid="2000.1", sequence=11),
    cdr("79032223344", "4951112233", TRUNK, "SIP/102-00000021", 14400, 14405, 14465, "ANSWERED",
        linkedid="2100.1", sequence=20),
    cdr("79035556677", "4951112233", TRUNK, "SIP/103-00000031", 18000, 18005, 18065, "ANSWERED",
        linkedid="2200.1", sequence=30),
    cdr("201", "+79161110001", "SIP/201-00000041", "SIP/trunk1-00000042", 0, 10, 130, "ANSWERED",
        linkedid="3000.1", sequence=40),
    cdr("201", "+79161110002", "SIP/201-00000051", "SIP/trunk1-00000052", 7200, None, 7230, "NO ANSWER",
        linkedid="3100.1", sequence=50),
    cdr("202", "+79161110003", "SIP/202-00000061", "SIP/trunk1-00000062", 1800, 1810, 1870, "ANSWERED",
        linkedid="3200.1", sequence=60),
]
PRESENCE = "\n".join([
    ql_line(T0_EPOCH - 3600, "NONE", "sales", "SIP/101", "ADDMEMBER", ""),
    ql_line(T0_EPOCH + 3 * 3600, "NONE", "sales", "SIP/101", "REMOVEMEMBER", ""),
]) + "\n"
SCHEDULES = """agent,date,shift_start,shift_end
101,2026-03-02,2026-03-02T09:00:00+00:00,2026-03-02T17:00:00+00:00
202,2026-03-02,2026-03-02T09:00:00+00:00,2026-03-02T13:00:00+00:00
"""
COSTS = """cost_type,agent,amount,description
agent_hourly,101,300,pay
agent_hourly,201,360,pay
agent_hourly,202,250,pay
agent_paid_hourly,102,200,paid hours
"""
# D1: X1 by number (agent: X1's first agent, 101); D2 names X1 too; D3: O1, owner 201; D4: X2 by number but
# owned by 103, who did not talk on X2; D5: still open, O3's customer.
DEALS = """deal_id,created_at,closed_at,status,amount,customer_phone,owner_agent,call_id
D1,2026-03-02 10:05,2026-03-03 12:00,won,1000,79031112233,,
D2,2026-03-02 10:05,2026-03-04 12:00,won,500,,,2000.1
D3,2026-03-02 09:05,2026-03-03 09:00,won,2000,79161110001,201,
D4,2026-03-02 13:05,2026-03-05 09:00,won,700,79032223344,103,
D5,2026-03-02 09:40,,open,900,79161110003,,
"""


@pytest.fixture
def day(store: Store, tmp_path: Path) -> Store:
    files = (("Master.csv", master_csv(CDR_ROWS)), ("queue_log", PRESENCE), ("schedules.csv", SCHEDULES),
             ("costs.csv", COSTS), ("deals.csv", DEALS))
    for name, text in files:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        report = load_file(store, path, Settings(), timezone="UTC")
        assert report.quarantined == 0, (name, report.issues)
    store.set_meta("timezone", "UTC")
    return store


def test_labour_follows_presence_else_schedule_else_the_days_calls(day: Store) -> None:
    time = query_rows(day, "SELECT agent, basis, sum(seconds) AS s FROM labour_time GROUP BY ALL ORDER BY ALL")
    assert time == [
        {"agent": "101", "basis": "presence", "s": 14400.0},  # logged in 08:00-12:00; the 8 h schedule is not used
        # no presence, no schedule: first leg 10:01:05 to the end of the last talk, 13:00:05 + 60 s = 13:01:05
        {"agent": "102", "basis": "calls", "s": 10800.0},
        {"agent": "103", "basis": "calls", "s": 65.0},  # 14:00:00 -> 14:00:05 + 60 s
        {"agent": "201", "basis": "calls", "s": 7230.0},  # 09:00:00 -> 11:00:00 + 30 s of ringing
        {"agent": "202", "basis": "schedule", "s": 14400.0},  # 09:00-13:00
    ]
    labour = query_rows(day, "SELECT agent, sum(amount) AS amount FROM cost_allocation GROUP BY ALL ORDER BY ALL")
    assert labour == [
        {"agent": "101", "amount": 1200.0},  # 4 h x 300
        {"agent": "201", "amount": 723.0},  # 7 230 s = 2.008 3 h x 360 (a dialer agent seen only in the CDR)
        {"agent": "202", "amount": 1000.0},  # 4 scheduled h x 250
    ]


def test_agents_with_calls_and_no_labour_cost_are_counted_not_hidden(day: Store) -> None:
    gaps = query_rows(day, "SELECT agent, reason, calls FROM labour_gaps ORDER BY agent")
    assert gaps == [
        {"agent": "102", "reason": "no_working_time", "calls": 2},  # a paid-hours rate and no schedule
        {"agent": "103", "reason": "no_rate", "calls": 1},
    ]
    row = total(day, metrics=["cost", "agents_uncosted", "calls_handled", "cost_per_call"])
    # 1 200 + 723 + 1 000; handled: X1 twice (101, 102), X2, X3, O1, O3 = 6
    assert row == {"cost": 2923.0, "agents_uncosted": 2, "calls_handled": 6, "cost_per_call": 2923.0 / 6}
    agents = by_key(kpis(day, ["agent"], metrics=["agents_uncosted"]), "agent")
    assert {a: r["agents_uncosted"] for a, r in agents.items()} == {"102": 1, "103": 1}  # only agents with gaps


def test_conversion_counts_each_won_call_once_for_the_deals_agent(day: Store) -> None:
    # won calls: X1 (D1 and D2), O1 (D3), X2 (D4) = 3 distinct of 6 handled; legs of them would be 4
    assert total(day, metrics=["conversion_rate", "deals_won"]) == {"conversion_rate": 0.5, "deals_won": 4}
    agents = by_key(kpis(day, ["agent"], metrics=["conversion_rate", "calls_handled"]), "agent")
    rates = {a: (r["conversion_rate"], r["calls_handled"]) for a, r in agents.items() if a}
    assert rates == {
        "101": (1.0, 1),  # X1, its deals go to X1's first agent
        "102": (0.0, 2),  # talked on X1 after the transfer (not the deals' agent) and on X2 (D4 is 103's)
        "103": (0.0, 1),  # owns D4 but did not talk on X2: X2 counts in the total only
        "201": (1.0, 1),  # O1 (O2 was not answered)
        "202": (0.0, 1),  # O3's deal is open
    }


def test_open_deals_and_the_maturing_period(day: Store) -> None:
    row = total(day, metrics=["open_deal_share", "cohort_deals_won", "cohort_revenue"])
    # attributed: D1-D5, one open; all five calls were on 03-02, so by call date 03-02 has them all
    assert row == {"open_deal_share": 0.2, "cohort_deals_won": 4, "cohort_revenue": 4200.0}
    days = by_key(kpis(day, ["day"], metrics=["cohort_deals_won", "deals_won"]), "day")
    assert days["2026-03-02"]["cohort_deals_won"] == 4  # by call date
    assert {d: r["deals_won"] for d, r in days.items() if r["deals_won"]} == {  # by the date they were won
        "2026-03-03": 2, "2026-03-04": 1, "2026-03-05": 1}
    params = MetricParams(timezone="UTC", attribution_window_d=2)
    maturity = deal_maturity(day, params)
    # the newest call starts on 03-02 14:00: days up to 02-28 have had their 2 days
    assert (maturity.data_end, maturity.matured_until) == (date(2026, 3, 2), date(2026, 2, 28))
    assert period_maturity(maturity, date(2026, 3, 2), ["conversion_rate"]) is not None
    assert period_maturity(maturity, date(2026, 2, 28), ["conversion_rate"]) is None
    assert period_maturity(maturity, date(2026, 3, 2), ["calls_handled"]) is None  # nothing there depends on deals
    rows = cohort_rows([{"day": "2026-03-02", "calls_handled": 6, "conversion_rate": 0.5, "cohort_deals_won": 4,
                         "cohort_revenue": 4200.0, "open_deal_share": 0.2}], maturity, date(2026, 2, 27),
                       date(2026, 3, 3))
    assert [(r["day"], r["calls_handled"], r["conversion_rate"], r["cohort_revenue"], r["maturing"])
            for r in rows] == [
        ("2026-02-27", 0, None, 0, False), ("2026-02-28", 0, None, 0, False), ("2026-03-01", 0, None, 0, True),
        ("2026-03-02", 6, 0.5, 4200.0, True), ("2026-03-03", 0, None, 0, True)]


def test_cli_sales_report(cli: Cli, day: Store, tmp_path: Path) -> None:
    db = tmp_path / "sales.duckdb"
    with Store(db) as store:
        for name in ("Master.csv", "queue_log", "schedules.csv", "costs.csv", "deals.csv"):
            load_file(store, tmp_path / name, Settings(), timezone="UTC")
        store.set_meta("timezone", "UTC")
    result = cli("sales", "--db", str(db), "--from", "2026-03-01", "--to", "2026-03-02", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["totals"]["conversion_rate"] == 0.5 and report["totals"]["agents_uncosted"] == 2
    assert report["uncosted_agents"] == ["102", "103"] and report["maturing"] is True
    assert [(r["day"], r["calls_handled"], r["maturing"]) for r in report["cohorts"]] == [
        ("2026-03-01", 0, True), ("2026-03-02", 6, True)]  # window 30 d: nothing has matured yet
    table = cli("sales", "--db", str(db), "--from", "2026-03-01", "--to", "2026-03-02")
    assert "maturing" in table.output and "cost incomplete" in table.output and "102, 103" in table.output
