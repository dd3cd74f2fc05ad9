"""Business files load or quarantine with clear reasons: CRM deals (default layout, amoCRM and
Bitrix24 exports with Russian column names, CSV and XLSX), surveys, costs, staff, teams, training
and schedules. Amounts with comma decimals and phone numbers in every format are read; unknown
status values, bad dates and missing columns are named with file, line and reason; loading a file
again adds nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from callkpi.config import PhoneSettings, Settings
from callkpi.ingest.base import ImportError_, ImportReport
from callkpi.ingest.business import layouts, mappings
from callkpi.ingest.formats import detect, load_file
from callkpi.storage import Store
from conftest import query_rows

RU_PHONES = Settings(phone=PhoneSettings(country_code="7", national_prefix="8", national_length=10))


def load(store: Store, directory: Path, name: str, text: str | bytes, *, settings: Settings = RU_PHONES,
         tz: str = "Europe/Moscow", fmt: str | None = None) -> ImportReport:
    path = directory / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return load_file(store, path, settings, fmt=fmt, timezone=tz)


def reasons(report: ImportReport) -> dict[int, str]:
    return {issue.line_no: issue.reason for issue in report.issues}


# -- deals: default layout ---------------------------------------------------------------------

DEALS = """deal_id,created_at,closed_at,status,amount,currency,customer_phone,owner_agent,call_id,product,campaign
D1,2026-03-02 10:00,2026-03-03 12:30,won,"14 900,50",,+7 (495) 123-45-67,1001,,Basic,
D2,02.03.2026 11:00,04.03.2026 12:00,Выиграна,"1,234.56",RUB,8 495 123 45 67 доб. 12,,1772442000.1,Pro,spring
D3,2026-03-02T08:00:00Z,,open,,,"74951234567; 8-916-765-43-21",,,,
D4,2026-03-02 11:00,2026-03-05 10:00,maybe,10,,,,,,
D5,2026-03-02 11:00,2026-03-01 10:00,lost,10,,,,,,
D6,2026-03-02 11:00,2026-03-05 10:00,won,abc,,,,,,
D1,2026-03-02 11:00,2026-03-05 10:00,won,10,,,,,,
D7,,,won,10,,,,,,
D8,2026-03-02 11:00,2026-03-05 10:00,won,12 500 ₽,,"7,49512E+10",,,,
D9,2026-03-02 11:00,2026-03-05 10:00,lost,-5,,,,,,
"""


def test_deals_default_layout_values_and_quarantine(store: Store, tmp_path: Path) -> None:
    report = load(store, tmp_path, "deals.csv", DEALS)
    assert report.format == "deals"
    assert (report.lines_read, report.lines_loaded, report.quarantined) == (10, 4, 6)
    why = reasons(report)
    assert set(why) == {5, 6, 7, 8, 9, 11}  # file lines (the header is line 1)
    assert why[5] == ("unknown status 'maybe'; known: won, lost, open (map it under [values.status] of a "
                      "mapping file)")
    assert "closed 2026-03-01 07:00 UTC is before created 2026-03-02 08:00 UTC" in why[6]
    assert why[7] == "amount 'abc' is not a number"
    assert why[8] == "repeats line 2 (deal id D1)"
    assert why[9] == "neither a created nor a closing time"
    assert why[11] == "negative amount '-5'"
    stored = {r["line_no"]: r for r in query_rows(store, "SELECT * FROM quarantine ORDER BY line_no")}
    assert stored[5]["path"] == str(tmp_path / "deals.csv") and stored[5]["raw"].startswith("D4,")
    deals = {r["deal_id"]: r for r in query_rows(store, "SELECT * FROM deals")}
    # 14 900,50 (space thousands, comma decimal); 1,234.56 (comma thousands); 12 500 ₽ -> RUB
    assert (deals["D1"]["amount"], deals["D2"]["amount"], deals["D8"]["amount"]) == (14900.5, 1234.56, 12500.0)
    assert (deals["D1"]["currency"], deals["D8"]["currency"]) == (None, "RUB")
    assert deals["D2"]["status"] == "won" and deals["D2"]["status_raw"] == "Выиграна"
    # every spelling of +7 495 123-45-67 is one number; the extension (доб. 12) is dropped
    assert deals["D1"]["phones_norm"] == deals["D2"]["phones_norm"] == ["74951234567"]
    assert deals["D3"]["phones_norm"] == ["74951234567", "79167654321"]
    assert deals["D8"]["phones_norm"] is None  # 7,49512E+10 lost its digits in a spreadsheet
    # local Moscow times (UTC+3) and an explicit Z: 10:00 MSK = 07:00 UTC
    assert deals["D1"]["created_utc"] == datetime(2026, 3, 2, 7, 0)
    assert deals["D1"]["event_utc"] == deals["D1"]["closed_utc"] == datetime(2026, 3, 3, 9, 30)
    assert deals["D2"]["created_utc"] == datetime(2026, 3, 2, 8, 0)  # 02.03.2026 11:00 MSK, day first
    assert deals["D3"]["event_utc"] == datetime(2026, 3, 2, 8, 0)  # open: its creation time
    assert deals["D1"]["owner"] == "1001" and deals["D2"]["call_id"] == "1772442000.1"
    findings = query_rows(store, "SELECT detail FROM data_quality WHERE source LIKE 'deals#%'")
    assert [f["detail"].split(": ", 1)[1] for f in findings] == [
        "deal D8: phone '7,49512E+10' was rounded by a spreadsheet (scientific notation); not used for attribution"]


def test_loading_again_adds_nothing_and_a_newer_export_replaces_deals(store: Store, tmp_path: Path) -> None:
    first = "deal_id,created_at,closed_at,status,amount\nA,2026-03-02 10:00,,open,\nB,2026-03-02 10:00,,open,\n"
    assert load(store, tmp_path, "export1.csv", first).lines_loaded == 2
    again = load(store, tmp_path, "export1.csv", first)
    assert again.status == "unchanged"
    newer = "deal_id,created_at,closed_at,status,amount\nA,2026-03-02 10:00,2026-03-04 10:00,won,500\n"
    report = load(store, tmp_path, "export2.csv", newer)
    assert "1 deal(s) replaced rows loaded from earlier files (newest file wins)" in report.messages
    rows = query_rows(store, "SELECT deal_id, status, amount FROM deals ORDER BY deal_id")
    assert rows == [{"deal_id": "A", "status": "won", "amount": 500.0},
                    {"deal_id": "B", "status": "open", "amount": None}]
    assert query_rows(store, "SELECT count(*) AS n FROM sources")[0]["n"] == 2


def test_a_file_without_a_required_column_is_refused_with_the_column_named(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text("deal_id,created_at,amount\nD1,2026-03-02,100\n", encoding="utf-8")
    assert detect(path) == "deals"  # deal_id is a column only deal files have
    with pytest.raises(ImportError_, match=r"not a deals file the default layout can read: missing column\(s\) "
                                           r"status or stage or state; found deal_id, created_at, amount"):
        load_file(store, path, RU_PHONES, timezone="UTC")
    path.write_text("agent,programme\n1001,Objection handling\n", encoding="utf-8")
    with pytest.raises(ImportError_, match=r"not a training file .* missing column\(s\) date or start or "
                                           r"start_date or started"):
        load_file(store, path, RU_PHONES, fmt="training", timezone="UTC")


# -- amoCRM and Bitrix24 exports ----------------------------------------------------------------

AMOCRM = (
    "ID;Название сделки;Бюджет;Ответственный;Дата создания;Дата закрытия;Этап сделки;Воронка;"
    "Рабочий телефон (контакт);Мобильный телефон (контакт)\n"
    "31001;Заказ;\"15 000,00\";Анна Петрова;02.03.2026 10:00:00;03.03.2026 15:30:00;Успешно реализовано;"
    "Продажи;+7 (495) 123-45-67;\n"
    "31002;Возврат;0;Иван Смирнов;02.03.2026 11:00:00;04.03.2026 09:00:00;Закрыто и не реализовано;Продажи;;"
    "8 916 765-43-21\n"
    "31003;Новый лид;;Анна Петрова;05.03.2026 12:00:00;;Переговоры;Продажи;;\n"
)


def test_amocrm_export_in_windows_1251_with_russian_columns(store: Store, tmp_path: Path) -> None:
    staff = "agent,name,team\n1001,Анна Петрова,sales\n"
    load(store, tmp_path, "staff.csv", staff)
    report = load(store, tmp_path, "amo.csv", AMOCRM.encode("cp1251"))
    assert (report.format, report.lines_loaded, report.quarantined) == ("deals", 3, 0)
    assert report.messages[0] == "read with the amocrm layout (deals)"
    rows = query_rows(store, "SELECT deal_id, crm, status, amount, owner_raw, owner, phones_norm, closed_utc "
                             "FROM deals ORDER BY deal_id")
    assert [(r["deal_id"], r["status"], r["amount"]) for r in rows] == [
        ("31001", "won", 15000.0), ("31002", "lost", 0.0), ("31003", "open", None)]  # "Переговоры": any stage
    assert rows[0]["owner"] == "1001"  # the staff list names Анна Петрова; Иван Смирнов stays as written
    assert rows[1]["owner"] == "Иван Смирнов"
    assert rows[1]["phones_norm"] == ["79167654321"]
    assert rows[0]["closed_utc"] == datetime(2026, 3, 3, 12, 30)  # 15:30 Moscow


def test_bitrix24_export_as_xlsx_is_recognised_by_its_header(store: Store, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ID", "Название сделки", "Стадия сделки", "Сумма", "Валюта", "Ответственный", "Дата создания",
                  "Дата закрытия", "Телефон"])
    sheet.append([501, "Заказ", "Сделка успешна", 25000.5, "RUB", "1002", datetime(2026, 3, 2, 10, 0),
                  datetime(2026, 3, 6, 18, 0), 74951234567])
    sheet.append([502, "Заказ 2", "C2:WON", "3 000,00", "RUB", "1002", datetime(2026, 3, 2, 10, 0),
                  datetime(2026, 3, 6, 18, 0), "8 (495) 765-43-21"])
    sheet.append([503, "Заказ 3", "Анализ причины провала", 0, "RUB", "1003", datetime(2026, 3, 2, 10, 0),
                  datetime(2026, 3, 7, 18, 0), None])
    sheet.append([504, "Заказ 4", "Подготовка документов", None, "RUB", "1003", datetime(2026, 3, 2, 10, 0), None,
                  None])
    path = tmp_path / "bitrix.xlsx"
    book.save(path)
    assert detect(path) == "business-xlsx"
    report = load_file(store, path, RU_PHONES, timezone="Europe/Moscow")
    assert (report.format, report.lines_loaded, report.quarantined) == ("deals", 4, 0)
    rows = query_rows(store, "SELECT deal_id, crm, status, amount, phones_norm, line_no FROM deals ORDER BY deal_id")
    assert [(r["deal_id"], r["status"], r["amount"], r["line_no"]) for r in rows] == [
        ("501", "won", 25000.5, 2), ("502", "won", 3000.0, 3), ("503", "lost", 0.0, 4), ("504", "open", None, 5)]
    assert rows[0]["crm"] == "bitrix24"
    assert rows[0]["phones_norm"] == ["74951234567"]  # a number cell, not text
    assert rows[1]["phones_norm"] == ["74957654321"]


def test_shipped_generic_mapping_is_the_default_layout() -> None:
    generic = mappings.load_mapping("deals-generic")
    default = mappings.default_mapping("deals")
    assert generic.columns == default.columns
    assert generic.values["status"] == layouts.KINDS["deals"].values["status"]
    for name in ("deals-amocrm", "deals-bitrix24"):
        mapping = mappings.load_mapping(name)
        assert mapping.checked_against == "documentation" and mapping.signature


def test_a_mapping_from_the_environment_reads_another_layout(store: Store, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    mapping = tmp_path / "my-crm.toml"
    mapping.write_text(
        'name = "my-crm"\nkind = "deals"\ndecimal = ","\n'
        '[columns]\ndeal_id = "Номер"\nstatus = "Итог"\nclosed = "Когда"\namount = "Сколько"\n'
        '[values.status]\nwon = ["Купил"]\nlost = ["Не купил"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv(layouts.MAPPING_ENV, str(mapping))
    report = load(store, tmp_path, "crm.csv", "Номер,Итог,Когда,Сколько\n7,Купил,2026-03-02,\"1.500,25\"\n"
                                              "8,Думает,2026-03-02,1\n")
    assert report.messages[0] == "read with the my-crm layout (deals)"
    assert report.lines_loaded == 1
    assert reasons(report)[3].startswith("unknown status 'Думает'")
    assert query_rows(store, "SELECT amount FROM deals")[0]["amount"] == 1500.25  # decimal "," given


# -- surveys, costs, staff, teams, training, schedules -------------------------------------------


def test_surveys_scores_types_and_how_the_call_is_named(store: Store, tmp_path: Path) -> None:
    text = (
        "call_id,phone,answered_at,survey_type,score,comment\n"
        "c1,,2026-03-02 12:05,csat,5,спасибо\n"          # 2: by call id
        ",+7 495 123-45-67,2026-03-02 12:10,nps,\"9,0\",\n"  # 3: by number and time; 9,0 is 9
        "c2,,,csat,6,\n"                                 # 4: out of the 1-5 scale
        "c3,,,nps,7.5,\n"                                # 5: not a whole number
        ",,2026-03-02 12:10,csat,4,\n"                   # 6: nothing names the call
        "c4,,,mood,4,\n"                                 # 7: unknown type
        ",+7 495 123-45-67,,csat,4,\n"                   # 8: a number without a time
    )
    report = load(store, tmp_path, "surveys.csv", text)
    assert (report.lines_loaded, report.quarantined) == (2, 5)
    assert reasons(report) == {
        4: "csat score '6' is not a whole number from 1 to 5",
        5: "nps score '7.5' is not a whole number from 0 to 10",
        6: "cannot find the surveyed call: no call id, and no phone number with an answer time",
        7: "unknown survey_type 'mood'; known: csat, nps, ces (map it under [values.survey_type] of a mapping file)",
        8: "cannot find the surveyed call: no call id, and no phone number with an answer time",
    }
    rows = query_rows(store, "SELECT survey_type, score, phone_norm, call_id_given FROM surveys ORDER BY line_no")
    assert rows == [{"survey_type": "csat", "score": 5.0, "phone_norm": None, "call_id_given": "c1"},
                    {"survey_type": "nps", "score": 9.0, "phone_norm": "74951234567", "call_id_given": None}]


def test_costs_types_units_and_bad_lines(store: Store, tmp_path: Path) -> None:
    text = (
        "cost_type,agent,team,amount,valid_from,valid_to,direction,description\n"
        "agent_hourly,1001,,\"350,5\",,,,\n"
        "оклад,,sales,60000,2026-03,,,\n"
        "telecom_per_minute,,,1.2,,,inbound,\n"
        "fixed_monthly,,,420000,2026-03,2026-04,,office rent\n"
        "bonus,,,100,,,,\n"
        "fixed_monthly,,,100,2026-05-01,2026-04-01,,\n"
        "telecom_per_call,,,2,,,sideways,\n"
    )
    report = load(store, tmp_path, "costs.csv", text)
    assert (report.lines_loaded, report.quarantined) == (4, 3)
    why = reasons(report)
    assert why[6].startswith("unknown cost_type 'bonus'; known: agent_hourly, agent_paid_hourly, agent_monthly")
    assert why[7] == "valid_to 2026-04-01 is before valid_from 2026-05-01"
    assert why[8] == "direction 'sideways' is not inbound or outbound"
    rows = query_rows(store, "SELECT cost_type, agent, team, amount, valid_from, valid_to, direction "
                             "FROM cost_items ORDER BY line_no")
    assert rows[0] == {"cost_type": "agent_hourly", "agent": "1001", "team": None, "amount": 350.5,
                       "valid_from": None, "valid_to": None, "direction": None}
    assert rows[1]["cost_type"] == "agent_monthly" and rows[1]["valid_from"] == date(2026, 3, 1)
    assert rows[2]["direction"] == "inbound"
    assert (rows[3]["valid_from"], rows[3]["valid_to"]) == (date(2026, 3, 1), date(2026, 4, 30))  # whole months


def test_staff_fills_the_agents_table_and_teams(store: Store, tmp_path: Path) -> None:
    text = (
        "agent,name,team,hired,left,leave_reason,team_lead\n"
        "1001,Анна Петрова,sales,2024-05-13,,,1009\n"
        "1002,Иван Смирнов,support,01.02.2025,15.03.2026,voluntary,\n"
        "1003,Олег Орлов,sales,2026-03-10,2026-03-01,,\n"
        ",Никто,sales,2026-03-10,,,\n"
    )
    report = load(store, tmp_path, "staff.csv", text)
    assert (report.lines_loaded, report.quarantined) == (2, 2)
    assert reasons(report) == {4: "left 2026-03-01 is before hired 2026-03-10", 5: "empty agent"}
    agents = query_rows(store, "SELECT agent, name, team FROM agents ORDER BY agent")
    assert agents == [{"agent": "1001", "name": "Анна Петрова", "team": "sales"},
                      {"agent": "1002", "name": "Иван Смирнов", "team": "support"}]
    assert query_rows(store, "SELECT team, lead FROM teams") == [{"team": "sales", "lead": "1009"}]
    staff = query_rows(store, "SELECT agent, hired, left_on FROM staff ORDER BY agent")
    assert staff[1] == {"agent": "1002", "hired": date(2025, 2, 1), "left_on": date(2026, 3, 15)}
    teams = load(store, tmp_path, "teams.csv", "team,lead,description\nsupport,1010,second line\n")
    assert teams.format == "teams"
    assert query_rows(store, "SELECT team, lead FROM teams ORDER BY team") == [
        {"team": "sales", "lead": "1009"}, {"team": "support", "lead": "1010"}]


def test_training_names_agents_by_name_and_checks_dates(store: Store, tmp_path: Path) -> None:
    load(store, tmp_path, "staff.csv", "agent,name,team\n1001,Анна Петрова,sales\n")
    text = ("agent,programme,date,end,module\n"
            "Анна Петрова,Objection handling,2026-03-14,,1\n"
            "1002,Objection handling,2026-03-16,2026-03-17,\n"
            "1003,,2026-03-16,,\n"
            "1004,Objection handling,2026-03-16,2026-03-15,\n")
    report = load(store, tmp_path, "training.csv", text)
    assert reasons(report) == {4: "empty programme", 5: "end 2026-03-15 is before start 2026-03-16"}
    rows = query_rows(store, "SELECT agent, start_date, end_date FROM training_events ORDER BY line_no")
    assert rows == [{"agent": "1001", "start_date": date(2026, 3, 14), "end_date": date(2026, 3, 14)},
                    {"agent": "1002", "start_date": date(2026, 3, 16), "end_date": date(2026, 3, 17)}]


def test_schedules_as_date_and_times_with_a_night_shift(store: Store, tmp_path: Path) -> None:
    text = ("agent,date,shift_start,shift_end\n"
            "1001,2026-03-02,09:00,18:00\n"
            "1002,2026-03-02,22:00,06:00\n"     # ends the next morning
            "1003,2026-03-02,9 o'clock,18:00\n")
    report = load(store, tmp_path, "schedules.csv", text)
    assert reasons(report) == {4: "time \"9 o'clock\" is not a time of day like 09:00"}
    rows = query_rows(store, "SELECT agent, activity, start_utc, end_utc FROM schedules ORDER BY line_no")
    assert [(r["agent"], r["activity"], r["start_utc"], r["end_utc"]) for r in rows] == [  # Moscow = UTC+3
        ("1001", "work", datetime(2026, 3, 2, 6), datetime(2026, 3, 2, 15)),
        ("1002", "work", datetime(2026, 3, 2, 19), datetime(2026, 3, 3, 3)),
    ]


def test_the_simulators_business_files_load_with_the_default_layouts(store: Store, tmp_path: Path) -> None:
    writers = pytest.importorskip("callkpi.simulate.writers")
    samples = {  # one row in each file's columns, as the simulator writes them (ISO local times with offset)
        "deals.csv": "D1,2026-03-02T10:00:00+03:00,2026-03-04T12:00:00+03:00,won,14900.00,RUB,"
                     "+7 (495) 123-45-67,1001,1772442000.1,Basic,",
        "surveys.csv": "1772442000.1,74951234567,2026-03-02T10:10:00+03:00,csat,5",
        "costs.csv": "agent_hourly,1001,420.00,RUB,hourly rate",
        "staff.csv": "1001,Анна Петрова,sales,2024-05-13,,",
        "training.csv": "1001,Objection handling,2026-03-14",
        "schedules.csv": "1001,2026-03-02,09:00,18:00",
    }
    kinds = {"deals.csv": "deals", "surveys.csv": "surveys", "costs.csv": "costs", "staff.csv": "staff",
             "training.csv": "training", "schedules.csv": "schedules"}
    for name, row in samples.items():
        header = ",".join(writers.BUSINESS_COLUMNS[name])
        report = load(store, tmp_path, name, f"{header}\n{row}\n")
        assert (report.format, report.lines_loaded, report.quarantined) == (kinds[name], 1, 0), name
