"""People KPIs by hand: headcount and turnover over months with hires and leavers, schedule
adherence against queue_log presence, salaries spread over the days an agent is employed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.metrics.catalogue import REGISTRY
from callkpi.storage import Store
from conftest import T0, by_key, kpis, ql_line, query_rows, total

pytestmark = pytest.mark.skipif(
    "deals_won" not in REGISTRY.metrics,
    reason="business KPIs not registered yet: the catalogue must register callkpi.metrics.catalogue.business",
)
approx = pytest.approx


def load(store: Store, directory: Path, name: str, text: str) -> None:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    report = load_file(store, path, Settings(), timezone="UTC")
    assert report.quarantined == 0, report.issues


STAFF = """agent,name,team,hired,left,leave_reason
A1,Anna,sales,2025-01-10,,
A2,Boris,sales,2025-06-01,2026-03-16,voluntary
A3,Vera,sales,2026-03-10,,
A4,Gleb,support,2024-02-01,2026-03-01,dismissed
A5,Dina,support,2025-11-01,2026-04-05,relocation
"""


def test_headcount_and_turnover_over_months_with_hires_and_leavers(store: Store, tmp_path: Path) -> None:
    load(store, tmp_path, "staff.csv", STAFF)
    metrics = ["headcount_avg", "separations", "turnover_rate", "turnover_rate_annual"]
    months = by_key(kpis(store, ["month"], metrics=metrics, date_from=date(2026, 2, 1), date_to=date(2026, 4, 30)),
                    "month")
    # February (28 days): A1, A2, A4, A5 employed every day = 112 person-days -> 4.0; nobody left
    assert months["2026-02"] == {"month": "2026-02", "headcount_avg": 4.0, "separations": 0, "turnover_rate": 0.0,
                                 "turnover_rate_annual": 0.0}
    # March (31 days): A1 31 + A2 15 (left on the 16th) + A3 22 (from the 10th) + A4 0 (left on the 1st)
    # + A5 31 = 99 person-days; separations A2 and A4
    march = months["2026-03"]
    assert march["headcount_avg"] == approx(99 / 31)
    assert march["separations"] == 2
    assert march["turnover_rate"] == approx(2 / (99 / 31))  # 0.6263
    assert march["turnover_rate_annual"] == approx(2 * 365 / 99)  # x 365 / 31 days
    # April (30 days): A1 30 + A3 30 + A5 4 = 64 person-days; A5 left on the 5th
    assert months["2026-04"]["headcount_avg"] == approx(64 / 30)
    assert months["2026-04"]["turnover_rate"] == approx(1 / (64 / 30))
    teams = by_key(kpis(store, ["team"], metrics=metrics, date_from=date(2026, 3, 1), date_to=date(2026, 3, 31)),
                   "team")
    assert teams["sales"]["headcount_avg"] == approx(68 / 31)  # 31 + 15 + 22
    assert teams["support"]["separations"] == 1  # A4


SCHEDULE = """agent,start,end,activity
1001,2026-03-02 09:00,2026-03-02 13:00,work
1001,2026-03-02 11:00,2026-03-02 11:30,lunch
"""

PRESENCE = "\n".join([  # T0 = 09:00 UTC
    ql_line(T0 + 600, "MANAGER", "sales", "SIP/1001", "ADDMEMBER", ""),  # 10 minutes late
    ql_line(T0 + 3600, "NONE", "sales", "SIP/1001", "PAUSE", "ACW"),  # 10:00-10:05 after-call work
    ql_line(T0 + 3900, "NONE", "sales", "SIP/1001", "UNPAUSE", ""),
    ql_line(T0 + 7200, "NONE", "sales", "SIP/1001", "PAUSE", "Lunch"),  # 11:00-11:40: 10 minutes too long
    ql_line(T0 + 9600, "NONE", "sales", "SIP/1001", "UNPAUSE", ""),
    ql_line(T0 + 13800, "MANAGER", "sales", "SIP/1001", "REMOVEMEMBER", ""),  # leaves at 12:50
]) + "\n"


def test_adherence_against_queue_log_presence(store: Store, tmp_path: Path) -> None:
    load(store, tmp_path, "queue_log", PRESENCE)
    load(store, tmp_path, "schedules.csv", SCHEDULE)
    # planned: work 09:00-11:00 and 11:30-13:00 (12 600 s), lunch 11:00-11:30 (1 800 s) = 14 400 s
    # work: logged in 09:10-11:00 (6 600) + 11:30-12:50 (4 800) = 11 400, minus the lunch overrun
    #   11:30-11:40 (600); the ACW pause 10:00-10:05 is work -> 10 800
    # lunch: paused the whole 30 minutes -> 1 800
    assert total(store, metrics=["adherence"]) == {"adherence": 12600 / 14400}  # 0.875
    # when ACW is not an after-call-work reason the 5 minutes count against: 12 300 / 14 400
    strict = total(store, metrics=["adherence"], acw_pause_reasons=("wrapup",))
    assert strict["adherence"] == approx(12300 / 14400)
    hours = by_key(kpis(store, ["hour"], metrics=["adherence"]), "hour")
    assert hours[9]["adherence"] == approx(3000 / 3600)  # late by 10 minutes
    assert hours[12]["adherence"] == approx(3000 / 3600)  # gone 10 minutes early


def test_a_monthly_salary_is_spread_over_the_days_employed(store: Store, tmp_path: Path) -> None:
    # call data covers 2026-03-02..03 (two days); B joins on the 3rd
    calls = "\n".join([
        ql_line(T0, "k1", "sales", "NONE", "ENTERQUEUE", "", "74951111111", 1),
        ql_line(T0 + 10, "k1", "sales", "SIP/A", "CONNECT", 10, "x", 2),
        ql_line(T0 + 70, "k1", "sales", "SIP/A", "COMPLETECALLER", 10, 60, 1),
        ql_line(T0 + 86400, "k2", "sales", "NONE", "ENTERQUEUE", "", "74951111112", 1),
        ql_line(T0 + 86410, "k2", "sales", "SIP/B", "CONNECT", 10, "x", 2),
        ql_line(T0 + 86470, "k2", "sales", "SIP/B", "COMPLETECALLER", 10, 60, 1),
    ]) + "\n"
    load(store, tmp_path, "queue_log", calls)
    load(store, tmp_path, "staff.csv", "agent,name,team,hired\nA,Anna,sales,2025-01-01\nB,Boris,sales,2026-03-03\n")
    load(store, tmp_path, "costs.csv", "cost_type,team,amount\nagent_monthly,sales,62000\n")
    rows = query_rows(store, "SELECT agent, count(*) AS days, sum(amount) AS amount FROM cost_allocation "
                             "GROUP BY agent ORDER BY agent")
    # 62 000 / 31 days of March = 2 000 a day: A on the 2nd and 3rd, B on the 3rd only
    assert rows == [{"agent": "A", "days": 2, "amount": 4000.0}, {"agent": "B", "days": 1, "amount": 2000.0}]
    assert total(store, metrics=["cost", "cost_per_call"]) == {"cost": 6000.0, "cost_per_call": 3000.0}
