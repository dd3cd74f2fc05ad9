"""Sales, money and customer KPIs on a hand-made day, every number computed by hand below.

The calls (queue_log, UTC, 2026-03-02; agent 1001 is a queue member 08:00-13:00):

    call  start  customer       agent  wait  talk  end       (calls.end - start)
    c1    09:00  7 495 111 1111 1001   20 s  100 s  09:02:00  120 s
    c2    10:00  7 495 222 2222 1002   10 s   50 s  10:01:00   60 s
    c3    11:00  7 495 222 2222 1003   30 s  150 s  11:03:00  180 s
    c4    12:00  7 495 333 3333 1001   60 s  240 s  12:05:00  300 s
    c5    13:00  7 495 444 4444 -      abandoned after 60 s     60 s

The deals (times UTC):

    D1 won  10 000  names call c1, no owner, won 03-05 10:00        -> c1, agent 1001
    D2 won  20 000  phone 8 (495) 222-22-22, won 03-04 09:00        -> c3 (the last of c2/c3), agent 1003
    D3 won   5 000  phone +7 (495) 333-33-33, won 04-11 09:00       -> c4 is 39 d 21 h earlier: outside 30 d
    D4 won   7 000  phone 7 495 222 2222, owner 1002, won 03-04 10:00 -> c3, but the owner 1002 gets the deal
    D5 lost  3 000  phone 7 495 111 1111, closed 03-03 10:00        -> c1 (a lead of 1001)
    D6 open         phone 7 495 999 9999, no call, no owner         -> not attributed
"""

from __future__ import annotations

from pathlib import Path

import pytest

from callkpi.config import PhoneSettings, Settings
from callkpi.ingest.business import attribution
from callkpi.ingest.formats import load_file
from callkpi.metrics.catalogue import REGISTRY
from callkpi.storage import Store
from conftest import T0, by_key, kpis, ql_line, query_rows, total

pytestmark = pytest.mark.skipif(
    "deals_won" not in REGISTRY.metrics,
    reason="business KPIs not registered yet: the catalogue must register callkpi.metrics.catalogue.business",
)

RU = Settings(phone=PhoneSettings(country_code="7", national_prefix="8", national_length=10))
approx = pytest.approx

QUEUE_LOG = "\n".join([
    ql_line(T0 - 3600, "MANAGER", "sales", "SIP/1001", "ADDMEMBER", ""),
    ql_line(T0, "c1", "sales", "NONE", "ENTERQUEUE", "", "74951111111", 1),
    ql_line(T0 + 20, "c1", "sales", "SIP/1001", "CONNECT", 20, "x", 2),
    ql_line(T0 + 120, "c1", "sales", "SIP/1001", "COMPLETECALLER", 20, 100, 1),
    ql_line(T0 + 3600, "c2", "sales", "NONE", "ENTERQUEUE", "", "74952222222", 1),
    ql_line(T0 + 3610, "c2", "sales", "SIP/1002", "CONNECT", 10, "x", 2),
    ql_line(T0 + 3660, "c2", "sales", "SIP/1002", "COMPLETECALLER", 10, 50, 1),
    ql_line(T0 + 7200, "c3", "sales", "NONE", "ENTERQUEUE", "", "74952222222", 1),
    ql_line(T0 + 7230, "c3", "sales", "SIP/1003", "CONNECT", 30, "x", 2),
    ql_line(T0 + 7380, "c3", "sales", "SIP/1003", "COMPLETECALLER", 30, 150, 1),
    ql_line(T0 + 10800, "c4", "sales", "NONE", "ENTERQUEUE", "", "74953333333", 1),
    ql_line(T0 + 10860, "c4", "sales", "SIP/1001", "CONNECT", 60, "x", 2),
    ql_line(T0 + 11100, "c4", "sales", "SIP/1001", "COMPLETECALLER", 60, 240, 1),
    ql_line(T0 + 14400, "MANAGER", "sales", "SIP/1001", "REMOVEMEMBER", ""),
    ql_line(T0 + 14400, "c5", "sales", "NONE", "ENTERQUEUE", "", "74954444444", 1),
    ql_line(T0 + 14460, "c5", "sales", "NONE", "ABANDON", 1, 1, 60),
]) + "\n"

DEALS = """deal_id,created_at,closed_at,status,amount,customer_phone,owner_agent,call_id
D1,2026-03-02 09:00,2026-03-05 10:00,won,10000,,,c1
D2,2026-03-02 12:00,2026-03-04 09:00,won,"20 000,00",8 (495) 222-22-22,,
D3,2026-03-02 12:00,2026-04-11 09:00,won,5000,+7 (495) 333-33-33,,
D4,2026-03-02 12:00,2026-03-04 10:00,won,7000,74952222222,1002,
D5,2026-03-02 12:00,2026-03-03 10:00,lost,3000,74951111111,,
D6,2026-03-03 12:00,,open,,74959999999,,
"""

COSTS = """cost_type,agent,amount,valid_from,description
agent_hourly,1001,300,,
telecom_per_minute,,"1,5",,
fixed_monthly,,31000,2026-03,rent
"""

SURVEYS = """call_id,phone,answered_at,survey_type,score
c1,,2026-03-02 09:03,csat,5
c2,,2026-03-02 10:02,csat,4
,8 495 222-22-22,2026-03-02 11:10,csat,2
,74959999999,2026-03-02 11:10,csat,5
""" + "".join(f"c1,,2026-03-02 09:{10 + i}:00,nps,{score}\n"
             for i, score in enumerate((10, 10, 9, 9, 8, 7, 6, 3, 0, 10)))


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def day(store: Store, tmp_path: Path) -> Store:
    """The store with the calls, deals, costs and surveys above (loaded with timezone UTC)."""
    for name, text in (("queue_log", QUEUE_LOG), ("deals.csv", DEALS), ("costs.csv", COSTS),
                       ("surveys.csv", SURVEYS)):
        report = load_file(store, write(tmp_path, name, text), RU, timezone="UTC")
        assert report.quarantined == 0, report.issues
    return store


def test_each_deal_gets_its_named_call_or_the_last_handled_call_with_its_number(day: Store) -> None:
    rows = query_rows(day, "SELECT deal_id, call_id, matched_by, gap_s, call_agent FROM deal_attribution "
                           "ORDER BY deal_id")
    assert rows == [
        # D1 names c1: 09:00 -> won 03-05 10:00 = 3 d 1 h = 262 800 s
        {"deal_id": "D1", "call_id": "c1", "matched_by": "call_id", "gap_s": 262800.0, "call_agent": "1001"},
        # D2: two agents talked to 7 495 222 2222 (c2 1002 at 10:00, c3 1003 at 11:00): the last one, c3;
        # 11:00 -> 03-04 09:00 = 1 d 22 h = 165 600 s
        {"deal_id": "D2", "call_id": "c3", "matched_by": "number", "gap_s": 165600.0, "call_agent": "1003"},
        # D3: c4 12:00 -> 04-11 09:00 = 39 d 21 h = 3 445 200 s, more than 30 d
        {"deal_id": "D3", "call_id": "c4", "matched_by": "number", "gap_s": 3445200.0, "call_agent": "1001"},
        {"deal_id": "D4", "call_id": "c3", "matched_by": "number", "gap_s": 169200.0, "call_agent": "1003"},
        {"deal_id": "D5", "call_id": "c1", "matched_by": "number", "gap_s": 90000.0, "call_agent": "1001"},
    ]  # D6 has no call with its number


SALES = ["deals_won", "revenue", "deals_unattributed", "conversion_rate", "lead_conversion_rate", "aov", "arpc",
         "calls_handled"]


def test_sales_kpis_in_total_and_per_agent(day: Store) -> None:
    row = total(day, metrics=SALES)
    # won and attributed: D1 (named call), D2 (c3, 1 d 22 h), D4 (owner); D3 is 39 d 21 h from its call
    assert row["deals_won"] == 3 and row["deals_unattributed"] == 1
    assert row["revenue"] == 37000.0  # 10 000 + 20 000 + 7 000
    assert row["calls_handled"] == 4  # c1..c4
    assert row["conversion_rate"] == 0.5  # handled calls with a won deal: c1 (D1), c3 (D2, D4) = 2 / 4
    assert row["lead_conversion_rate"] == 0.75  # leads attributed: D1, D2, D4 won, D5 lost (D3, D6 not) = 3 / 4
    assert row["aov"] == approx(37000 / 3)
    assert row["arpc"] == 9250.0  # 37 000 / 4
    agents = by_key(kpis(day, ["agent"], metrics=SALES), "agent")
    assert (agents["1001"]["deals_won"], agents["1001"]["revenue"]) == (1, 10000.0)  # D1
    assert (agents["1003"]["deals_won"], agents["1003"]["revenue"]) == (1, 20000.0)  # D2 through c3
    assert (agents["1002"]["deals_won"], agents["1002"]["revenue"]) == (1, 7000.0)  # D4: the owner, not c3's agent
    assert agents["1001"]["conversion_rate"] == 0.5  # c1 of c1, c4
    assert agents["1002"]["conversion_rate"] == 0.0  # c2 led to nothing
    assert agents["1003"]["conversion_rate"] == 1.0  # c3
    assert agents["1001"]["deals_unattributed"] == 1  # D3, shown under the agent of its too-old call
    assert agents["1001"]["lead_conversion_rate"] == 0.5  # D1 won, D5 lost


def test_the_attribution_window_is_a_report_time_parameter(day: Store) -> None:
    row = total(day, metrics=["deals_won", "revenue", "conversion_rate"], attribution_window_d=45)
    # D3 (39 d 21 h) is now inside: 4 deals, 42 000, and c4 converts: 3 of 4 handled calls
    assert row == {"deals_won": 4, "revenue": 42000.0, "conversion_rate": 0.75}
    narrow = total(day, metrics=["deals_won", "revenue"], attribution_window_d=1)
    # 1 day: D2 (1 d 22 h) drops out; D1 names its call, D4 has an owner
    assert narrow == {"deals_won": 2, "revenue": 17000.0}


def test_costs_are_allocated_by_hand(day: Store) -> None:
    rows = query_rows(day, "SELECT cost_type, agent, sum(amount) AS amount FROM cost_allocation "
                           "GROUP BY ALL ORDER BY ALL")
    assert rows == [
        {"cost_type": "agent_hourly", "agent": "1001", "amount": 1500.0},  # logged in 08:00-13:00 = 5 h x 300
        # March 31 000 x 1 covered day / 31 = 1 000, shared by 4 handled calls = 250 each (1001 has 2)
        {"cost_type": "fixed_monthly", "agent": "1001", "amount": 500.0},
        {"cost_type": "fixed_monthly", "agent": "1002", "amount": 250.0},
        {"cost_type": "fixed_monthly", "agent": "1003", "amount": 250.0},
        # inbound minutes from start to end x 1.5: c1 2 + c4 5 = 7 -> 10.5; c2 1 -> 1.5; c3 3 -> 4.5; c5 1 -> 1.5
        {"cost_type": "telecom_per_minute", "agent": "1001", "amount": 10.5},
        {"cost_type": "telecom_per_minute", "agent": "1002", "amount": 1.5},
        {"cost_type": "telecom_per_minute", "agent": "1003", "amount": 4.5},
        {"cost_type": "telecom_per_minute", "agent": None, "amount": 1.5},
    ]
    money = total(day, metrics=["cost", "cost_per_call", "profit_per_call", "cost_per_sale", "roi"])
    assert money["cost"] == 2518.0  # 1 500 + 1 000 + 18
    assert money["cost_per_call"] == 629.5  # 2 518 / 4
    assert money["profit_per_call"] == 8620.5  # (37 000 - 2 518) / 4
    assert money["cost_per_sale"] == approx(2518 / 3)
    assert money["roi"] == approx((37000 - 2518) / 2518)
    agents = by_key(kpis(day, ["agent"], metrics=["cost", "cost_per_call"]), "agent")
    assert agents["1001"] == {"agent": "1001", "cost": 2010.5, "cost_per_call": 1005.25}  # 1500+500+10.5 over 2


def test_csat_nps_and_the_response_rate(day: Store) -> None:
    row = total(day, metrics=["survey_responses", "survey_response_rate", "csat", "csat_mean", "nps"])
    assert row["survey_responses"] == 14  # 4 CSAT + 10 NPS
    # CSAT 5, 4, 2, 5: top-2-box 3 / 4; mean 16 / 4
    assert row["csat"] == 0.75 and row["csat_mean"] == 4.0
    # NPS 10 10 9 9 | 8 7 | 6 3 0 | 10: promoters 5, detractors 3 -> 100 x (5 - 3) / 10
    assert row["nps"] == 20.0
    # answered calls with an answer: c1, c2, c3 (the 7 495 999 9999 answer found no call) = 3 of 4
    assert row["survey_response_rate"] == 0.75
    matched = query_rows(day, "SELECT score, call_id, matched_by, agent FROM surveys "
                              "WHERE survey_type = 'csat' ORDER BY line_no")
    assert [(m["call_id"], m["matched_by"], m["agent"]) for m in matched] == [
        ("c1", "call_id", "1001"), ("c2", "call_id", "1002"), ("c3", "number_time", "1003"), (None, None, None)]
    agents = by_key(kpis(day, ["agent"], metrics=["csat", "nps"]), "agent")
    assert agents["1003"]["csat"] == 0.0 and agents["1001"]["nps"] == 20.0


def test_deals_loaded_before_their_calls_are_attributed_by_a_refresh(store: Store, tmp_path: Path) -> None:
    load_file(store, write(tmp_path, "deals.csv", DEALS), RU, timezone="UTC")
    assert query_rows(store, "SELECT count(*) AS n FROM deal_attribution") == [{"n": 0}]
    load_file(store, write(tmp_path, "queue_log", QUEUE_LOG), RU, timezone="UTC")
    assert attribution.has_business_data(store)
    attribution.refresh(store, RU)  # what `callkpi relink` (and, once wired, every call import) does
    assert query_rows(store, "SELECT count(*) AS n FROM deal_attribution") == [{"n": 5}]
    assert total(store, metrics=["deals_won"]) == {"deals_won": 3}


def test_kpis_by_time_and_team(day: Store, tmp_path: Path) -> None:
    load_file(day, write(tmp_path, "staff.csv", "agent,name,team\n1001,A,north\n1002,B,north\n1003,C,south\n"),
              RU, timezone="UTC")
    teams = by_key(kpis(day, ["team"], metrics=["deals_won", "revenue", "cost"]), "team")
    assert teams["north"]["deals_won"] == 2 and teams["north"]["revenue"] == 17000.0  # D1 (1001) + D4 (1002)
    assert teams["south"]["revenue"] == 20000.0
    days = by_key(kpis(day, ["day"], metrics=["deals_won"]), "day")
    # won days: D2 and D4 on 03-04, D1 on 03-05; D5 (lost) and D6 (open) give 03-03 a row, D3 (not
    # attributed) 04-11
    assert {d: r["deals_won"] for d, r in days.items()} == {
        "2026-03-03": 0, "2026-03-04": 2, "2026-03-05": 1, "2026-04-11": 0}
