"""amoCRM and Bitrix24 deal exports, written by hand from the CRMs' documented columns
(``tests/crm/README.md``), load with the shipped mappings and attribute to the calls of
test_business_sales; the responsible user's name maps to an agent by ``[agents.crm_users]``.

The calls (UTC, 2026-03-02): c1 09:00 agent 1001 from 7 495 111 1111; c2 10:00 1002 and c3 11:00 1003,
both from 7 495 222 2222; c4 12:00 1001 from 7 495 333 3333. The exports are in account time,
Europe/Moscow (UTC+3): 12:10 in the file is 09:10 UTC.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from callkpi.config import AgentNaming, MoneySettings, PhoneSettings, Settings
from callkpi.ingest.formats import load_file
from callkpi.metrics.catalogue import REGISTRY
from callkpi.queries.currency import money_currency
from callkpi.storage import Store
from conftest import by_key, kpis, query_rows, total
from test_business_sales import QUEUE_LOG

pytestmark = pytest.mark.skipif("deals_won" not in REGISTRY.metrics, reason="business KPIs not registered")

CRM = Path(__file__).parent / "crm"
ZONE = "Europe/Moscow"
USERS = {"Иванова Мария": "1001", "Петров Борис": "1002", "Соколов Дмитрий": "1003"}
SETTINGS = Settings(phone=PhoneSettings(country_code="7", national_prefix="8", national_length=10),
                    agents=AgentNaming(crm_users=USERS))


def loaded(store: Store, tmp_path: Path, export: str, settings: Settings = SETTINGS) -> Store:
    calls = tmp_path / "queue_log"
    calls.write_text(QUEUE_LOG, encoding="utf-8")
    assert load_file(store, calls, settings, timezone=ZONE).quarantined == 0
    report = load_file(store, CRM / export, settings, timezone=ZONE)
    assert (report.lines_read, report.lines_loaded, report.quarantined) == (4, 4, 0), report.issues
    return store


def deals(store: Store) -> list[dict[str, object]]:
    return query_rows(store, "SELECT deal_id, status, amount, currency, owner, pipeline, created_utc, closed_utc "
                             "FROM deals ORDER BY deal_id")


def attribution(store: Store) -> list[dict[str, object]]:
    return query_rows(store, "SELECT deal_id, call_id, matched_by, gap_s FROM deal_attribution ORDER BY deal_id")


def test_amocrm_export_loads_and_attributes(store: Store, tmp_path: Path) -> None:
    day = loaded(store, tmp_path, "amocrm_deals.csv")
    assert deals(day) == [
        # won; the currency is the budget header's (Бюджет ₽); created 12:10 MSK, closed 04.03 16:20 MSK
        {"deal_id": "31200101", "status": "won", "amount": 15000.0, "currency": "RUB", "owner": "1001",
         "pipeline": "Продажи", "created_utc": datetime(2026, 3, 2, 9, 10), "closed_utc": datetime(2026, 3, 4, 13, 20)},
        {"deal_id": "31200102", "status": "won", "amount": 8500.0, "currency": "RUB", "owner": "1003",
         "pipeline": "Продажи", "created_utc": datetime(2026, 3, 2, 11, 5), "closed_utc": datetime(2026, 3, 3, 8, 0)},
        # "Переговоры" is a stage in progress: open
        {"deal_id": "31200103", "status": "open", "amount": None, "currency": "RUB", "owner": "1002",
         "pipeline": "Повторные продажи", "created_utc": datetime(2026, 3, 3, 7, 0), "closed_utc": None},
        {"deal_id": "31200104", "status": "lost", "amount": 3000.0, "currency": "RUB", "owner": "1001",
         "pipeline": "Продажи", "created_utc": datetime(2026, 3, 2, 12, 30), "closed_utc": datetime(2026, 3, 5, 7, 0)},
    ]
    assert attribution(day) == [
        # 7 495 111 1111: c1 09:00 -> won 03-04 13:20 UTC = 2 d 4 h 20 min
        {"deal_id": "31200101", "call_id": "c1", "matched_by": "number", "gap_s": 2 * 86400 + 4 * 3600 + 1200.0},
        # 8 (495) 222-22-22: c2 10:00 and c3 11:00, the last one -> won 03-03 08:00 UTC = 21 h
        {"deal_id": "31200102", "call_id": "c3", "matched_by": "number", "gap_s": 21 * 3600.0},
        # 7 495 333 3333: c4 12:00 -> lost 03-05 07:00 UTC = 2 d 19 h
        {"deal_id": "31200104", "call_id": "c4", "matched_by": "number", "gap_s": 2 * 86400 + 19 * 3600.0},
    ]  # 31200103 names no phone
    row = total(day, metrics=["deals_won", "revenue", "lead_conversion_rate"])
    assert row == {"deals_won": 2, "revenue": 23500.0, "lead_conversion_rate": 0.5}  # 15 000 + 8 500; 2 of 4
    agents = by_key(kpis(day, ["agent"], metrics=["deals_won", "revenue"]), "agent")
    assert (agents["1001"]["deals_won"], agents["1001"]["revenue"]) == (1, 15000.0)  # Иванова Мария
    assert (agents["1003"]["deals_won"], agents["1003"]["revenue"]) == (1, 8500.0)  # Соколов Дмитрий
    assert money_currency(day) == "RUB"


def test_bitrix24_export_loads_and_attributes_and_never_adds_currencies(store: Store, tmp_path: Path) -> None:
    day = loaded(store, tmp_path, "bitrix24_deals.csv")  # Windows-1251
    assert deals(day) == [
        {"deal_id": "517", "status": "won", "amount": 12000.0, "currency": "RUB", "owner": "1001",
         "pipeline": "Общее", "created_utc": datetime(2026, 3, 2, 9, 30), "closed_utc": datetime(2026, 3, 3, 15, 0)},
        {"deal_id": "518", "status": "lost", "amount": 4500.0, "currency": "RUB", "owner": "1002",
         "pipeline": "Опт", "created_utc": datetime(2026, 3, 2, 10, 40), "closed_utc": datetime(2026, 3, 6, 9, 0)},
        {"deal_id": "519", "status": "open", "amount": None, "currency": "RUB", "owner": "1003",
         "pipeline": "Общее", "created_utc": datetime(2026, 3, 3, 6, 15), "closed_utc": None},
        # "1 250,50" in "Доллар США"
        {"deal_id": "520", "status": "won", "amount": 1250.5, "currency": "USD", "owner": "1003",
         "pipeline": "Общее", "created_utc": datetime(2026, 3, 2, 12, 10), "closed_utc": datetime(2026, 3, 4, 7, 0)},
    ]
    assert attribution(day) == [
        # c1 09:00 -> won 03-03 15:00 UTC = 1 d 6 h
        {"deal_id": "517", "call_id": "c1", "matched_by": "number", "gap_s": 86400 + 6 * 3600.0},
        # c3 11:00 (the last of c2, c3) -> lost 03-06 09:00 UTC = 3 d 22 h
        {"deal_id": "518", "call_id": "c3", "matched_by": "number", "gap_s": 3 * 86400 + 22 * 3600.0},
        # c4 12:00 -> won 03-04 07:00 UTC = 1 d 19 h
        {"deal_id": "520", "call_id": "c4", "matched_by": "number", "gap_s": 86400 + 19 * 3600.0},
    ]
    row = total(day, metrics=["deals_won", "revenue", "aov", "arpc"])
    # 12 000 RUB and 1 250.50 USD are never added: revenue and what divides it are null (mixed currencies)
    assert row == {"deals_won": 2, "revenue": None, "aov": None, "arpc": None}
    agents = by_key(kpis(day, ["agent"], metrics=["deals_won", "revenue", "aov"]), "agent")
    assert (agents["1001"]["revenue"], agents["1001"]["aov"]) == (12000.0, 12000.0)  # one RUB deal
    assert (agents["1003"]["revenue"], agents["1003"]["aov"]) == (1250.5, 1250.5)  # one USD deal
    assert money_currency(day) is None  # mixed: no single currency to show


def test_without_crm_users_a_responsible_name_is_not_an_agent_id(store: Store, tmp_path: Path) -> None:
    unmapped = SETTINGS.model_copy(update={"agents": AgentNaming()})
    day = loaded(store, tmp_path, "amocrm_deals.csv", unmapped)
    owners = {r["deal_id"]: r["owner"] for r in query_rows(day, "SELECT deal_id, owner FROM deals")}
    assert set(owners.values()).isdisjoint({"1001", "1002", "1003"}), owners


def test_the_currency_setting_fills_deals_that_name_none(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text("deal_id,created_at,closed_at,status,amount,call_id\n"
                    "D1,2026-03-02 09:00,2026-03-05 10:00,won,10000,c1\n"
                    "D2,2026-03-02 12:00,2026-03-04 10:00,won,\"7 000 $\",c4\n", encoding="utf-8")
    settings = SETTINGS.model_copy(update={"money": MoneySettings(currency="KZT")})
    calls = tmp_path / "queue_log"
    calls.write_text(QUEUE_LOG, encoding="utf-8")
    load_file(store, calls, settings, timezone="UTC")
    assert load_file(store, path, settings, timezone="UTC").quarantined == 0
    currencies = query_rows(store, "SELECT deal_id, currency FROM deals ORDER BY deal_id")
    assert currencies == [{"deal_id": "D1", "currency": "KZT"}, {"deal_id": "D2", "currency": "USD"}]  # 7 000 $
    assert total(store, metrics=["revenue"]) == {"revenue": None}  # KZT + USD
    assert by_key(kpis(store, ["agent"], metrics=["revenue"]), "agent")["1001"]["revenue"] is None  # c1 and c4
