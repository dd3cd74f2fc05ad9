"""Cloud-PBX call exports read through mappings: the shipped ones (Twilio, Bitrix24, Mango Office,
Zadarma, Yeastar; column names from their documentation, see docs/formats.md) on small files
written here, and a mapping of one's own (YAML, Windows-1251, separate date and time columns).
T0 = 2026-03-02 09:00:00 UTC. Expected numbers are worked out by hand next to each assertion.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from callkpi.config import Settings
from callkpi.ingest.base import ImportError_
from callkpi.ingest.cdr import generic as cdr_generic
from callkpi.ingest.formats import detect, load_file
from callkpi.storage import Store
from conftest import query_rows, total

T0 = datetime(2026, 3, 2, 9, 0, 0)
T0_EPOCH = 1772442000
RU_PHONE = {"country_code": "7", "national_prefix": "8", "national_length": 10}


@pytest.fixture(autouse=True)
def _no_mapping_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLKPI_MAPPING", raising=False)


def load_export(store: Store, tmp_path: Path, mapping: str, text: str | bytes, *, name: str = "export.csv",
                tz: str = "UTC", phone: dict | None = None):
    """Load with ``--format generic`` and the mapping named the way the CLI passes it today
    ($CALLKPI_MAPPING; [cdr] mapping in the settings says the same)."""
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    settings = Settings.model_validate({"cdr": {"mapping": mapping}, "phone": phone or {}})
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CALLKPI_MAPPING", mapping)
        return load_file(store, path, settings, fmt="generic", timezone=tz)


def outcomes(store: Store) -> list[tuple[str, str, int]]:
    rows = query_rows(store, "SELECT direction, outcome, count(*) AS n FROM calls GROUP BY ALL ORDER BY ALL")
    return [(r["direction"], r["outcome"], r["n"]) for r in rows]


def test_every_shipped_mapping_is_valid_and_says_what_it_was_checked_against() -> None:
    shipped = cdr_generic.shipped_mappings()
    assert {"twilio", "bitrix24", "mango", "zadarma", "yeastar", "elastix-callcenter"} <= set(shipped)
    checked = {name: cdr_generic.load_mapping(name).checked_against for name in shipped}
    assert checked["elastix-callcenter"] == "real file"
    assert {checked[n] for n in ("twilio", "bitrix24", "mango", "zadarma", "yeastar")} == {"documentation"}


def twilio_row(sid: str, minute: int, end_s: int | None, talk: str, status: str, direction: str, caller: str,
               callee: str, queue_ms: str = "") -> str:
    """sid, parent, created, start, end (RFC 2822, UTC), duration, status, direction, from, to, queue_time, price"""
    def rfc(second: int) -> str:
        return f'"Mon, 02 Mar 2026 09:{minute + second // 60:02d}:{second % 60:02d} +0000"'

    end = rfc(end_s) if end_s is not None else ""
    return ",".join([sid, "", rfc(0), rfc(0), end, talk, status, direction, caller, callee, queue_ms, ""])


TWILIO = "\n".join([
    "sid,parent_call_sid,date_created,start_time,end_time,duration,status,direction,from,to,queue_time,price",
    twilio_row("CA01", 0, 70, "60", "completed", "inbound", "+79161234567", "+74951112233", "4000"),
    twilio_row("CA02", 10, 30, "", "no-answer", "inbound", "+79031112233", "+74951112233"),
    twilio_row("CA03", 20, 5, "", "busy", "outbound-api", "+74951112233", "+79031112233"),
    twilio_row("CA04", 30, 120, "100", "completed", "outbound-api", "+74951112233", "+79031112233"),
    twilio_row("CA05", 40, None, "", "ringing", "inbound", "+79160000000", "+74951112233"),
]) + "\n"


def test_twilio(store: Store, tmp_path: Path) -> None:
    report = load_export(store, tmp_path, "twilio", TWILIO)
    assert (report.lines_loaded, report.quarantined) == (4, 1)
    assert report.issues[0].reason == "disposition 'ringing' is not in the mapping's disposition_values"
    assert outcomes(store) == [("inbound", "answered", 1), ("inbound", "no_answer", 1),
                               ("outbound", "answered", 1), ("outbound", "busy", 1)]
    row = total(store, metrics=["calls_missed", "asa_s", "dials", "dials_answered", "callback_rate",
                                "time_to_callback_s"])
    assert row == {
        "calls_missed": 1,  # CA02
        "asa_s": 10.0,  # CA01: 70 s on the line, 60 s connected
        "dials": 2, "dials_answered": 1,
        "callback_rate": 1.0,  # CA02's number was called back (CA03, busy) 10 min later
        "time_to_callback_s": 600.0,
    }


def test_twilio_console_title_case_header(store: Store, tmp_path: Path) -> None:
    text = ("Sid,Start Time,End Time,Duration,Status,Direction,From,To\n"
            "CA01,2026-03-02 09:00:00 UTC,2026-03-02 09:01:00 UTC,55,completed,inbound,+79161234567,+74951112233\n")
    report = load_export(store, tmp_path, "twilio", text)
    assert report.quarantined == 0
    assert query_rows(store, "SELECT start_utc, answer_utc, talk_s FROM calls") == [
        {"start_utc": T0, "answer_utc": datetime(2026, 3, 2, 9, 0, 5), "talk_s": 55.0}]  # 60 s - 55 s talk


BITRIX = (
    "CALL_ID;CALL_TYPE;PORTAL_USER_ID;PORTAL_NUMBER;PHONE_NUMBER;CALL_DURATION;CALL_START_DATE;CALL_FAILED_CODE;"
    "CALL_RECORD_URL\n"
) + """externalCall.1;2;15;74951112233;79161234567;95;2026-03-02T12:00:00+03:00;200;https://rec.example/1.mp3
externalCall.2;2;;74951112233;79031112233;0;2026-03-02T12:10:00+03:00;304;
externalCall.3;1;15;74951112233;79161234567;0;2026-03-02T12:20:00+03:00;486;
externalCall.4;4;15;74951112233;79031112233;40;2026-03-02T12:30:00+03:00;200;
"""


def test_bitrix24(store: Store, tmp_path: Path) -> None:
    report = load_export(store, tmp_path, "bitrix24", BITRIX)
    assert report.quarantined == 0
    assert outcomes(store) == [("inbound", "answered", 1), ("inbound", "no_answer", 1),
                               ("outbound", "answered", 1), ("outbound", "busy", 1)]
    first = query_rows(store, "SELECT start_utc, agent, did, caller, recording FROM calls ORDER BY start_utc")[0]
    assert first == {"start_utc": T0, "agent": "15", "did": "74951112233", "caller": "79161234567",
                     "recording": "https://rec.example/1.mp3"}  # 12:00+03:00 is 09:00 UTC
    row = total(store, metrics=["callback_rate", "callback_success_rate", "time_to_callback_s", "att_s"])
    assert row == {"callback_rate": 1.0, "callback_success_rate": 1.0,  # call 2 missed, call 4 (callback) answered
                   "time_to_callback_s": 1200.0,  # 12:10 -> 12:30
                   "att_s": 67.5}  # (95 + 40) / 2


def mango_text() -> str:
    t = T0_EPOCH
    rows = [
        f";{t};{t + 70};{t + 10};;79161234567;101;;1110;74951112233;ivr;E1",  # inbound, 101 answers after 10 s
        f";{t + 600};{t + 620};0;;79031112233;102;;1120;74951112233;ivr;E2",  # inbound, 102 rings 20 s: missed
        f";{t + 1200};{t + 1230};{t + 1205};101;74951112233;;79161234567;1110;74951112233;;E3",  # outbound by 101
        f";{t + 1800};{t + 1830};{t + 1802};101;;102;;1110;;;E4",  # 101 calls 102: internal
    ]
    return "\n".join(rows) + "\n"


def test_mango_headerless_epochs(store: Store, tmp_path: Path) -> None:
    report = load_export(store, tmp_path, "mango", mango_text())
    assert (report.lines_loaded, report.quarantined) == (4, 0)
    assert outcomes(store) == [("inbound", "answered", 1), ("inbound", "no_answer", 1),
                               ("internal", "answered", 1), ("outbound", "answered", 1)]
    row = total(store, metrics=["calls_missed", "asa_s", "ring_no_answer", "calls_handled", "att_s"])
    assert row == {"calls_missed": 1, "asa_s": 10.0,
                   "ring_no_answer": 1,  # 102's 20 s ring in E2
                   "calls_handled": 2,  # E1 by 101 and the outbound E3 by 101 (internal E4 is not a customer call)
                   "att_s": 42.5}  # (60 + 25) / 2


ZADARMA = """call_id,sip,callstart,clid,destination,disposition,seconds,is_recorded,pbx_call_id
1001.1,101,2026-03-02 12:00:00,79161234567,101,no answer,0,0,in_1
1001.2,102,2026-03-02 12:00:00,79161234567,102,answered,75,1,in_1
1002.1,101,2026-03-02 12:10:00,101,79161234567,busy,0,0,out_2
"""


def test_zadarma_legs_of_one_pbx_call(store: Store, tmp_path: Path) -> None:
    load_export(store, tmp_path, "zadarma", ZADARMA, tz="Europe/Moscow")
    calls = query_rows(store, "SELECT call_id, direction, outcome, agent, start_utc FROM calls ORDER BY start_utc")
    assert calls == [  # two legs of in_1 are one answered call
        {"call_id": "in_1", "direction": "inbound", "outcome": "answered", "agent": "102", "start_utc": T0},
        {"call_id": "out_2", "direction": "outbound", "outcome": "busy", "agent": "101",
         "start_utc": datetime(2026, 3, 2, 9, 10)},
    ]


YEASTAR = (
    "callid,timestart,callfrom,callto,callduraction,talkduraction,srctrunkname,dsttrunkname,status,type,"
    "recording,didnumber,agentringtime\n"
) + """1.1,2026-03-02 09:00:00,79161234567,1001,70,60,SIP_trunk,,ANSWERED,Inbound,rec1.wav,74951112233,10
1.2,2026-03-02 09:05:00,79031112233,1002,30,0,SIP_trunk,,VOICEMAIL,Inbound,,74951112233,
1.3,2026-03-02 09:10:00,1001,79161234567,50,45,,SIP_trunk,ANSWERED,Outbound,,,
1.4,2026-03-02 09:15:00,1001,1002,20,15,,,ANSWERED,Internal,,,
"""


def test_yeastar(store: Store, tmp_path: Path) -> None:
    load_export(store, tmp_path, "yeastar", YEASTAR)
    assert outcomes(store) == [("inbound", "answered", 1), ("inbound", "no_answer", 1),
                               ("internal", "answered", 1), ("outbound", "answered", 1)]
    first = query_rows(store, "SELECT agent, trunk, did, wait_s, recording FROM calls ORDER BY start_utc")[0]
    assert first == {"agent": "1001", "trunk": "SIP_trunk", "did": "74951112233", "wait_s": 10.0,  # 70 - 60
                     "recording": "rec1.wav"}
    assert total(store, metrics=["calls_missed", "missed_rate"]) == {"calls_missed": 1, "missed_rate": 0.5}


CRM_MAPPING = """name: crm-ru
source: crm_ru
delimiter: ";"
encoding: cp1251
dayfirst: true
timezone: Europe/Moscow
columns:
  date: Дата
  time: Время
  direction: Тип
  customer: Клиент
  agent: Сотрудник
  disposition: Статус
  talk: "Разговор, сек"
direction_values:
  inbound: [Входящий]
  outbound: [Исходящий]
disposition_values:
  answered: [Принят]
  no_answer: [Пропущен]
"""
CRM_EXPORT = """Дата;Время;Тип;Клиент;Сотрудник;Статус;Разговор, сек
02.03.2026;12:00:05;Входящий;+7 (916) 123-45-67;Иванов;Принят;60
02.03.2026;12:10:00;Входящий;8 903 111-22-33;;Пропущен;0
02.03.2026;12:20:00;Исходящий;89031112233;Петров;Принят;30
02.03.2026;12:30:00;Исходящий;89031112233;Петров;Перезвонить;0
"""


def test_own_yaml_mapping_cp1251_separate_date_and_time(store: Store, tmp_path: Path) -> None:
    mapping = tmp_path / "crm.yaml"
    mapping.write_text(CRM_MAPPING, encoding="utf-8")
    report = load_export(store, tmp_path, str(mapping), CRM_EXPORT.encode("cp1251"), phone=RU_PHONE)
    assert (report.lines_loaded, report.quarantined) == (3, 1)
    assert report.issues[0].reason == "disposition 'Перезвонить' is not in the mapping's disposition_values"
    calls = query_rows(store, "SELECT source, direction, agent, caller_norm, callee_norm, start_utc FROM calls "
                              "ORDER BY start_utc")
    assert calls[0] == {"source": "crm_ru", "direction": "inbound", "agent": "Иванов", "caller_norm": "79161234567",
                        "callee_norm": None, "start_utc": datetime(2026, 3, 2, 9, 0, 5)}  # 12:00:05 Moscow
    assert calls[2]["callee_norm"] == "79031112233"  # 8 903... normalised with country code 7
    row = total(store, metrics=["calls_missed", "callback_rate", "time_to_callback_s"])
    assert row == {"calls_missed": 1, "callback_rate": 1.0, "time_to_callback_s": 600.0}  # 12:10 -> 12:20


def test_mapping_from_the_environment_is_detected(store: Store, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(YEASTAR, encoding="utf-8")
    with pytest.raises(ImportError_):
        detect(path)  # without a mapping a Yeastar export is nothing callkpi knows
    monkeypatch.setenv("CALLKPI_MAPPING", "yeastar")
    assert detect(path) == "generic"
    report = load_file(store, path, Settings(), timezone="UTC")
    assert (report.format, report.lines_loaded) == ("generic", 4)


def test_ingest_command_with_a_mapping(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bitrix.csv"
    path.write_text(BITRIX, encoding="utf-8")
    db = tmp_path / "c.duckdb"
    monkeypatch.setenv("CALLKPI_MAPPING", "bitrix24")
    result = cli("ingest", "--db", db, "--format", "generic", path)
    assert result.exit_code == 0, result.output
    assert "4 loaded, 0 quarantined" in result.output


def test_a_file_without_the_columns_the_mapping_needs(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    twilio = Settings.model_validate({"cdr": {"mapping": "twilio"}})
    with pytest.raises(ImportError_, match=r"the mapping twilio needs column\(s\) start_time or date_created"):
        cdr_generic.load(store, path, twilio, timezone="UTC")
    unknown = Settings.model_validate({"cdr": {"mapping": "no-such-mapping"}})
    with pytest.raises(ImportError_, match="no such file and no shipped mapping of that name"):
        cdr_generic.load(store, path, unknown, timezone="UTC")
    with pytest.raises(ImportError_, match="does not look like generic"):
        load_export(store, tmp_path, "twilio", "a,b,c\n1,2,3\n")  # the CLI's --format check says it first
