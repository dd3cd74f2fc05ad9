"""FreeSWITCH CDR scenarios: mod_cdr_csv lines (the stock "example" template unless a test says
otherwise) and mod_json_cdr documents, written here. Times are UTC epochs or UTC stamps; T0 =
2026-03-02 09:00:00. Expected numbers are worked out by hand next to each assertion.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from callkpi.config import Settings
from callkpi.ingest.cdr import freeswitch as cdr_freeswitch
from callkpi.ingest.formats import detect, load_file
from callkpi.storage import Store
from conftest import query_rows, total

T0 = datetime(2026, 3, 2, 9, 0, 0)
T0_EPOCH = 1772442000
A1, B1, A2, A3, A4, A5 = (f"{n:08x}-0000-4000-8000-000000000000" for n in range(1, 7))


def stamp(offset_s: float | None) -> str:
    return "" if offset_s is None else (T0 + timedelta(seconds=offset_s)).strftime("%Y-%m-%d %H:%M:%S")


def example_line(name: str, number: str, dest: str, context: str, start: float, answer: float | None,
                 end: float, cause: str, uuid: str, bleg: str = "") -> str:
    """caller_id_name, caller_id_number, destination_number, context, start/answer/end stamps,
    duration, billsec, hangup_cause, uuid, bleg_uuid, accountcode, read_codec, write_codec."""
    billsec = 0 if answer is None else int(end - answer)
    cells = [name, number, dest, context, stamp(start), stamp(answer), stamp(end), str(int(end - start)),
             str(billsec), cause, uuid, bleg, "", "PCMA", "PCMA"]
    return ",".join(f'"{c}"' for c in cells)


def load_text(store: Store, tmp_path: Path, text: str, *, name: str = "Master.csv", settings: Settings | None = None):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_file(store, path, settings or Settings(), timezone="UTC")


# An inbound call from 79161234567 (context public) to the support number 3000: the b-leg to
# agent 1001 was written first (b-legs end first), its a-leg names it in bleg_uuid. 1001
# answers 8 s after the call arrived and talks 60 s. A second inbound call rings 1002 for 20 s
# (b-leg NO_ANSWER) and the caller hangs up: missed. An outbound call from 1001 to 74951234567
# is answered after 5 s, 30 s of talk; one more outbound gets USER_BUSY.
CALLCENTER = "\n".join([
    example_line("Customer", "79161234567", "1001", "default", 0, 8, 68, "NORMAL_CLEARING", B1),
    example_line("Customer", "79161234567", "3000", "public", 0, 0, 68, "NORMAL_CLEARING", A1, B1),
    example_line("Other", "79031112233", "1002", "default", 600, None, 620, "NO_ANSWER", A5),
    example_line("Other", "79031112233", "3000", "public", 600, 600, 625, "ORIGINATOR_CANCEL", A2, A5),
    example_line("1001", "1001", "74951234567", "default", 1200, 1205, 1235, "NORMAL_CLEARING", A3),
    example_line("1001", "1001", "74951234568", "default", 1800, None, 1802, "USER_BUSY", A4),
]) + "\n"


def test_legs_of_one_call_are_joined_by_bleg_uuid(store: Store, tmp_path: Path) -> None:
    report = load_text(store, tmp_path, CALLCENTER)
    assert (report.format, report.lines_loaded, report.quarantined) == ("freeswitch-cdr-csv", 6, 0)
    calls = query_rows(store, "SELECT call_id, direction, outcome, agent, wait_s, talk_s FROM calls ORDER BY start_utc")
    assert calls == [
        {"call_id": A1, "direction": "inbound", "outcome": "answered", "agent": "1001", "wait_s": 8.0,
         "talk_s": 60.0},  # the b-leg joined its a-leg: one call, answered by 1001 after 8 s
        {"call_id": A2, "direction": "inbound", "outcome": "no_answer", "agent": None, "wait_s": None,
         "talk_s": None},  # the a-leg was answered by the IVR, but no person answered
        {"call_id": A3, "direction": "outbound", "outcome": "answered", "agent": "1001", "wait_s": 5.0,
         "talk_s": 30.0},
        {"call_id": A4, "direction": "outbound", "outcome": "busy", "agent": "1001", "wait_s": None,
         "talk_s": None},
    ]
    row = total(store, metrics=["calls_inbound", "calls_missed", "asa_s", "dials", "dials_answered",
                                "calls_handled", "ring_no_answer"])
    assert row == {"calls_inbound": 2, "calls_missed": 1, "asa_s": 8.0, "dials": 2, "dials_answered": 1,
                   "calls_handled": 2,  # 1001's inbound and outbound answered calls
                   "ring_no_answer": 1}  # 1002 rang 20 s unanswered


def test_b_leg_loaded_before_its_a_leg_in_another_file(store: Store, tmp_path: Path) -> None:
    lines = CALLCENTER.splitlines()
    load_text(store, tmp_path, lines[0] + "\n", name="part1.csv")
    assert query_rows(store, "SELECT count(*) AS n FROM calls") == [{"n": 1}]  # alone, the b-leg is a call
    load_text(store, tmp_path, lines[1] + "\n", name="part2.csv")
    assert query_rows(store, "SELECT call_id, agent, agent_legs FROM calls") == [
        {"call_id": A1, "agent": "1001", "agent_legs": 1}]  # one call once the a-leg arrived


def test_a_repeated_uuid_counts_once_and_a_differing_repeat_is_reported(store: Store, tmp_path: Path) -> None:
    line = example_line("1001", "1001", "74951234567", "default", 1200, 1205, 1235, "NORMAL_CLEARING", A3)
    changed = line.replace("NORMAL_CLEARING", "USER_BUSY")
    report = load_text(store, tmp_path, "\n".join([line, line, changed]) + "\n")
    assert "2 row(s) repeat rows already loaded; counted once" in report.messages
    assert total(store, metrics=["dials", "dials_answered"]) == {"dials": 1, "dials_answered": 1}  # first row wins
    findings = query_rows(store, "SELECT kind, detail FROM data_quality")
    assert [f["kind"] for f in findings] == ["cdr_conflicting_duplicate"]
    assert A3 in findings[0]["detail"]


def test_other_stock_templates_and_custom_columns(store: Store, tmp_path: Path) -> None:
    # the stock "asterisk" template names channels, so legs come from them as for Asterisk
    cells = ["", "79160000001", "1001", "public", "", "sofia/external/79160000001@gw1",
             "sofia/internal/1001@10.0.0.5", "bridge", "user/1001", stamp(0), stamp(6), stamp(66), "66", "60",
             "NORMAL_CLEARING", "3", A1, ""]
    report = load_text(store, tmp_path, ",".join(f'"{c}"' for c in cells) + "\n",
                       settings=Settings.model_validate({"cdr": {"freeswitch_template": "asterisk"}}))
    assert report.quarantined == 0
    assert query_rows(store, "SELECT direction, agent, trunk, wait_s FROM calls") == [
        {"direction": "inbound", "agent": "1001", "trunk": "gw1", "wait_s": 6.0}]
    custom = Settings.model_validate({"cdr": {"freeswitch_columns": [
        "uuid", "caller_id_number", "destination_number", "start_epoch", "answer_epoch", "end_epoch", "hangup_cause"]}})
    with Store(":memory:") as other:
        line = f"{A2},1001,74951234567,{T0_EPOCH},{T0_EPOCH + 3},{T0_EPOCH + 63},NORMAL_CLEARING\n"
        wrong = f"{A3},1001,74951234567,{T0_EPOCH},NORMAL_CLEARING\n"
        path = tmp_path / "custom.csv"
        path.write_text(line + wrong, encoding="utf-8")
        report = load_file(other, path, custom, fmt="freeswitch-cdr-csv", timezone="UTC")
        assert (report.lines_loaded, report.quarantined) == (1, 1)
        assert report.issues[0].reason.startswith("5 fields; the template in freeswitch_columns has 7")
        assert query_rows(other, "SELECT direction, talk_s FROM calls") == [{"direction": "outbound", "talk_s": 60.0}]


def test_sql_template_lines(store: Store, tmp_path: Path) -> None:
    values = ['"Customer"', '"79161234567"', '"1001"', '"default"', f'"{stamp(0)}"', f'"{stamp(4)}"',
              f'"{stamp(34)}"', '"34"', '"30"', '"NORMAL_CLEARING"', f'"{A1}"', '""', ' ""']
    line = "INSERT INTO cdr VALUES (" + ",".join(values) + ");\n"  # noqa: S608 - a file line, not a query
    settings = Settings.model_validate({"cdr": {"freeswitch_template": "sql"}})
    report = load_text(store, tmp_path, line, settings=settings)
    assert (report.format, report.quarantined) == ("freeswitch-cdr-csv", 0)
    assert query_rows(store, "SELECT direction, agent, talk_s FROM calls") == [
        {"direction": "inbound", "agent": "1001", "talk_s": 30.0}]


@pytest.mark.parametrize(("cause", "answered", "expected"), [
    ("NORMAL_CLEARING", "", "no_answer"), ("USER_BUSY", "", "busy"), ("CALL_REJECTED", "", "busy"),
    ("UNALLOCATED_NUMBER", "", "failed"), ("RECOVERY_ON_TIMER_EXPIRE", "2026-03-02 09:00:05", "answered"),
])
def test_hangup_cause_and_answer_give_the_outcome(cause: str, answered: str, expected: str) -> None:
    assert cdr_freeswitch.outcome(cause, answered or None, "0") == expected


# -- mod_json_cdr ----------------------------------------------------------------------------


def json_leg(uuid: str, *, caller: str, dest: str, context: str, start: int, answer: int | None, end: int,
             cause: str, channel: str, bridge: str | None = None, **variables: Any) -> dict[str, Any]:
    values = {
        "uuid": uuid, "start_epoch": str(T0_EPOCH + start), "answer_epoch": str(T0_EPOCH + answer) if answer else "0",
        "end_epoch": str(T0_EPOCH + end), "duration": str(end - start),
        "billsec": str(end - answer) if answer else "0", "hangup_cause": cause, "channel_name": channel,
        "start_stamp": "2000-01-01 00:00:00",  # local text a JSON loader must not prefer over epochs
    }
    if bridge:
        values["bridge_channel"] = bridge
    values.update({k: str(v) for k, v in variables.items()})
    return {"core-uuid": "core", "switchname": "fs1", "channel_data": {"state": "CS_REPORTING"},
            "variables": values,
            "callflow": [{"caller_profile": {"caller_id_number": caller, "destination_number": dest,
                                             "context": context, "uuid": uuid, "chan_name": channel}}]}


def test_json_cdr_with_mod_callcenter_queue_wait(store: Store, tmp_path: Path) -> None:
    # The caller joins queue support at T0+10 (after 10 s of IVR); agent 1001 answers at T0+40
    # and talks 120 s, 15 s of it on hold.
    leg = json_leg(A1, caller="79161234567", dest="3000", context="public", start=0, answer=2, end=160,
                   cause="NORMAL_CLEARING", channel="sofia/external/79161234567@gw1",
                   bridge="sofia/internal/1001@10.0.0.5", cc_queue="support@default",
                   cc_queue_joined_epoch=T0_EPOCH + 10, cc_queue_answered_epoch=T0_EPOCH + 40,
                   cc_agent="1001@default", hold_accum_seconds=15, billsec=158)
    path = tmp_path / f"a_{A1}.cdr.json"
    path.write_text(json.dumps(leg, indent=2), encoding="utf-8")
    assert detect(path) == "freeswitch-json-cdr"
    report = load_file(store, path, Settings(), timezone="UTC")
    assert (report.lines_loaded, report.quarantined) == (1, 0)
    assert query_rows(store, "SELECT queue, outcome, wait_s, agent FROM queue_legs") == [
        {"queue": "support@default", "outcome": "answered", "wait_s": 30.0, "agent": "1001"}]  # 40 - 10
    assert query_rows(store, "SELECT start_utc, hold_s, trunk FROM calls") == [
        {"start_utc": T0, "hold_s": 15.0, "trunk": "gw1"}]  # epochs, not the misleading local stamp


def test_json_lines_file_with_a_broken_document(store: Store, tmp_path: Path) -> None:
    good = json_leg(A2, caller="1001", dest="1002", context="default", start=0, answer=3, end=33,
                    cause="NORMAL_CLEARING", channel="sofia/internal/1001@h", bridge="sofia/internal/1002@h")
    text = json.dumps(good) + "\n" + '{"variables": {"uuid": ' + "\n" + json.dumps({"not": "a cdr"}) + "\n"
    path = tmp_path / "cdr.jsonl"
    path.write_text(text, encoding="utf-8")
    report = load_file(store, path, Settings(), fmt="freeswitch-json-cdr", timezone="UTC")
    assert (report.lines_loaded, report.quarantined) == (1, 2)
    reasons = [issue.reason for issue in report.issues]
    assert reasons[0].startswith("not a JSON document")
    assert reasons[1] == 'not a mod_json_cdr document (no "variables" object)'
    assert query_rows(store, "SELECT direction, answered FROM calls") == [{"direction": "internal", "answered": True}]


def test_ring_group_b_legs_joined_by_originating_leg_uuid(store: Store, tmp_path: Path) -> None:
    # A template with ${originating_leg_uuid} (the stock "example" cannot link a ring group's
    # losing b-legs to their call): the caller rings 1001, 1002, 1003 at once; 1002 answers after
    # 9 s and talks 50 s; the other two stop at that moment (LOSE_RACE).
    columns = ["uuid", "originating_leg_uuid", "caller_id_number", "destination_number", "context", "start_stamp",
               "answer_stamp", "end_stamp", "billsec", "hangup_cause"]
    settings = Settings.model_validate({"cdr": {"freeswitch_columns": columns}})

    def line(uuid: str, origin: str, dest: str, context: str, answer: float | None, end: float, cause: str) -> str:
        billsec = 0 if answer is None else int(end - answer)
        return ",".join([uuid, origin, "79161234567", dest, context, stamp(0), stamp(answer), stamp(end),
                         str(billsec), cause])

    text = "\n".join([
        line(B1, A1, "1001", "default", None, 9, "LOSE_RACE"),
        line(A3, A1, "1003", "default", None, 9, "LOSE_RACE"),
        line(A2, A1, "1002", "default", 9, 59, "NORMAL_CLEARING"),
        line(A1, "", "5000", "public", 0, 59, "NORMAL_CLEARING"),
    ]) + "\n"
    path = tmp_path / "Master.csv"
    path.write_text(text, encoding="utf-8")
    report = load_file(store, path, settings, fmt="freeswitch-cdr-csv", timezone="UTC")
    assert (report.lines_loaded, report.quarantined) == (4, 0)
    assert total(store, metrics=["calls_inbound", "calls_missed", "calls_handled", "ring_no_answer", "asa_s"]) == {
        "calls_inbound": 1,  # four legs, one call
        "calls_missed": 0,
        "calls_handled": 1,  # 1002
        "ring_no_answer": 0,  # 1001 and 1003 stopped when 1002 answered
        "asa_s": 9.0,
    }


def test_lost_ring_group_legs_of_the_example_template_are_not_calls(store: Store, tmp_path: Path) -> None:
    # with the stock template the losing b-legs cannot be linked to their a-leg: they are left out
    # rather than counted as missed calls (their rows stay in cdr_records)
    text = "\n".join([
        example_line("Customer", "79161234567", "1001", "default", 0, None, 9, "LOSE_RACE", A3),
        example_line("Customer", "79161234567", "1002", "default", 0, 9, 59, "NORMAL_CLEARING", B1),
        example_line("Customer", "79161234567", "5000", "public", 0, 0, 59, "NORMAL_CLEARING", A1, B1),
    ]) + "\n"
    report = load_text(store, tmp_path, text)
    assert (report.lines_loaded, report.quarantined) == (3, 0)
    assert total(store, metrics=["calls_inbound", "calls_missed"]) == {"calls_inbound": 1, "calls_missed": 0}
