"""Asterisk CDR scenarios, written here as small cdr-csv files (the 21-column Master.csv order:
accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer,
end, duration, billsec, disposition, amaflags, uniqueid, userfield, peeraccount, linkedid,
sequence). Times are UTC; T0 = 2026-03-02 09:00:00 (a Monday). Every expected number is worked
out by hand in the comment next to it.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from callkpi.cli.missed_cmd import missed_worklist
from callkpi.config import MetricParams, Settings
from callkpi.ingest.cdr import asterisk as cdr_asterisk
from callkpi.ingest.formats import detect, load_file
from callkpi.storage import Store
from conftest import by_key, kpis, query_rows, total

T0 = datetime(2026, 3, 2, 9, 0, 0)
RU_PHONE = {"phone": {"country_code": "7", "national_prefix": "8", "national_length": 10}}


def stamp(offset_s: float | None) -> str:
    return "" if offset_s is None else (T0 + timedelta(seconds=offset_s)).strftime("%Y-%m-%d %H:%M:%S")


def cdr(
    src: str, dst: str, channel: str, dstchannel: str, start: float, answer: float | None, end: float,
    disposition: str, *, linkedid: str, uniqueid: str | None = None, dcontext: str = "from-trunk",
    lastapp: str = "Dial", lastdata: str = "", accountcode: str = "", sequence: int = 0,
) -> list[str]:
    """One Master.csv row; times are seconds after T0, durations follow from them."""
    billsec = 0 if answer is None else int(end - answer)
    return [
        accountcode, src, dst, dcontext, f'"{src}" <{src}>', channel, dstchannel, lastapp, lastdata,
        stamp(start), stamp(answer), stamp(end), str(int(end - start)), str(billsec), disposition,
        "DOCUMENTATION", uniqueid or linkedid, "", "", linkedid, str(sequence),
    ]


def master_csv(rows: list[list[str]], *, line_end: str = "\n") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator=line_end).writerows(rows)
    return buffer.getvalue()


def load_cdr(store: Store, tmp_path: Path, text: str | bytes, *, name: str = "Master.csv",
             settings: Settings | None = None, tz: str = "UTC"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return load_file(store, path, settings or Settings(), timezone=tz)


def ru_settings(**cdr_settings: object) -> Settings:
    return Settings.model_validate({**RU_PHONE, "cdr": cdr_settings})


# -- scenarios -------------------------------------------------------------------------------

TRUNK = "SIP/trunk1-00000001"

# A ring group: the caller's trunk channel dials 101, 102 and 103 at once at T0; 102 answers
# after 12 s and talks 120 s; the other two stop ringing the moment 102 answers.
RING_GROUP = [
    cdr("79161234567", "4951112233", TRUNK, "SIP/101-00000002", 0, None, 12, "NO ANSWER", linkedid="1000.1",
        lastdata="SIP/101&SIP/102&SIP/103,30", sequence=1),
    cdr("79161234567", "4951112233", TRUNK, "SIP/102-00000003", 0, 12, 132, "ANSWERED", linkedid="1000.1",
        lastdata="SIP/101&SIP/102&SIP/103,30", sequence=2),
    cdr("79161234567", "4951112233", TRUNK, "SIP/103-00000004", 0, None, 12, "NO ANSWER", linkedid="1000.1",
        lastdata="SIP/101&SIP/102&SIP/103,30", sequence=3),
]

# A blind transfer at T0+1 h: 101 answers after 5 s, talks 60 s and transfers to 102, who
# answers 5 s later and talks 90 s.
TRANSFER = [
    cdr("79031112233", "4951112233", "SIP/trunk1-00000010", "SIP/101-00000011", 3600, 3605, 3665, "ANSWERED",
        linkedid="2000.1", sequence=10),
    cdr("79031112233", "4951112233", "SIP/trunk1-00000010", "SIP/102-00000012", 3665, 3670, 3760, "ANSWERED",
        linkedid="2000.1", sequence=11),
]


def test_ring_group_is_one_answered_call(store: Store, tmp_path: Path) -> None:
    report = load_cdr(store, tmp_path, master_csv(RING_GROUP))
    assert (report.format, report.lines_loaded, report.quarantined) == ("asterisk-cdr", 3, 0)
    row = total(store, metrics=["calls_inbound", "calls_missed", "calls_offered", "calls_answered", "asa_s",
                                "calls_handled", "att_s", "ring_no_answer"])
    assert row == {
        "calls_inbound": 1,  # three CDR rows, one linkedid
        "calls_missed": 0,  # 102 answered: not one answered and two missed
        "calls_offered": 1,  # a direct call gets one queue leg (queue NULL)
        "calls_answered": 1,
        "asa_s": 12.0,  # answered at T0+12, call started at T0
        "calls_handled": 1,  # only 102 talked
        "att_s": 120.0,  # billsec of 102's leg
        "ring_no_answer": 0,  # 101 and 103 stopped the moment 102 answered: cancelled, not unanswered
    }
    legs = by_key(query_rows(store, "SELECT agent, outcome, ring_s FROM agent_legs"), "agent")
    assert {a: (r["outcome"], r["ring_s"]) for a, r in legs.items()} == {
        "101": ("canceled", 12.0), "102": ("answered", 12.0), "103": ("canceled", 12.0)}
    call = query_rows(store, "SELECT agent, did, trunk, caller, direction FROM calls")[0]
    assert call == {"agent": "102", "did": "4951112233", "trunk": "trunk1", "caller": "79161234567",
                    "direction": "inbound"}


def test_transfer_counts_for_both_agents(store: Store, tmp_path: Path) -> None:
    load_cdr(store, tmp_path, master_csv(TRANSFER))
    row = total(store, metrics=["calls_inbound", "calls_handled", "transfers", "transfer_rate", "att_s", "asa_s"])
    assert row == {
        "calls_inbound": 1,
        "calls_handled": 2,  # 101 and 102 each talked
        "transfers": 1,  # 101's leg ended in the transfer
        "transfer_rate": 0.5,  # 1 transfer / 2 handled
        "att_s": 75.0,  # (60 + 90) / 2
        "asa_s": 5.0,  # 101 answered 5 s after the call came in
    }
    call = query_rows(store, "SELECT agent, talk_s, answered FROM calls")[0]
    assert call == {"agent": "101", "talk_s": 150.0, "answered": True}  # first to answer; 60 + 90


# Missed calls and callbacks (numbers written three ways; country code 7, trunk prefix 8):
# M1 at T0+2 h from 8 916 111-22-33 rings 101 for 20 s, nobody answers; 101 calls back
# +79161112233 at T0+3 h (1 h later), answered, 45 s.
# M2 at T0+4 h from 7 495 222-33-44, not answered; the callback comes at T0+30 h (26 h later).
# M3 from 79990001122 at T0+25 h and T0+25.5 h, never returned.
DAY = 86400


def callbacks_file() -> str:
    rows = [
        cdr("89161112233", "4951112233", "SIP/trunk1-00000020", "SIP/101-00000021", 7200, None, 7220, "NO ANSWER",
            linkedid="3000.1"),
        cdr("101", "+79161112233", "SIP/101-00000022", "SIP/trunk1-00000023", 10800, 10805, 10850, "ANSWERED",
            linkedid="3001.1", dcontext="from-internal", lastdata="SIP/trunk1/+79161112233,60"),
        cdr("74952223344", "4951112233", "SIP/trunk1-00000030", "SIP/101-00000031", 14400, None, 14430, "NO ANSWER",
            linkedid="4000.1"),
        cdr("101", "84952223344", "SIP/101-00000032", "SIP/trunk1-00000033", 14400 + 26 * 3600,
            14400 + 26 * 3600 + 4, 14400 + 26 * 3600 + 34, "ANSWERED", linkedid="4001.1", dcontext="from-internal"),
        cdr("79990001122", "4951112233", "SIP/trunk1-00000040", "SIP/102-00000041", 25 * 3600, None,
            25 * 3600 + 15, "NO ANSWER", linkedid="5000.1"),
        cdr("79990001122", "4951112233", "SIP/trunk1-00000042", "SIP/102-00000043", 25.5 * 3600, None,
            25.5 * 3600 + 15, "NO ANSWER", linkedid="5001.1"),
    ]
    return master_csv(rows)


def test_missed_calls_returned_within_and_outside_the_window(store: Store, tmp_path: Path) -> None:
    load_cdr(store, tmp_path, callbacks_file(), settings=ru_settings())
    row = total(store, metrics=["calls_inbound", "calls_outbound", "calls_missed", "missed_rate", "callback_rate",
                                "callback_success_rate", "time_to_callback_s", "missed_unreturned"])
    assert row == {
        "calls_inbound": 4,  # M1, M2, M3 twice
        "calls_outbound": 2,  # the two callbacks
        "calls_missed": 4,
        "missed_rate": 1.0,  # 4 / 4
        "callback_rate": 0.25,  # only M1 was called back within 24 h: 1 / 4
        "callback_success_rate": 0.25,  # and that callback was answered
        "time_to_callback_s": 3600.0,  # M1 -> callback 1 h later (M2's 26 h is outside the window)
        "missed_unreturned": 3,  # M2 (late) and M3 twice
    }
    wide = total(store, metrics=["callback_rate", "missed_unreturned"], callback_window_h=48)
    assert wide == {"callback_rate": 0.5, "missed_unreturned": 2}  # with 48 h, M2's callback counts: 2 / 4


def test_missed_worklist_lists_numbers_nobody_called_back(store: Store, tmp_path: Path) -> None:
    load_cdr(store, tmp_path, callbacks_file(), settings=ru_settings())
    as_of = T0 + timedelta(hours=31)  # T0+31 h: M3's last call was 5.5 h ago
    rows = missed_worklist(store, MetricParams(), as_of=as_of)
    assert rows == [{
        "number": "79990001122",
        "missed_calls": 2,  # called twice, neither returned (M1 and M2 were called back)
        "first_missed": "2026-03-03 10:00",  # T0 + 25 h
        "last_missed": "2026-03-03 10:30",
        "queue": None,
        "did": "4951112233",
        "age_h": 5.5,  # 31 - 25.5
        "overdue": False,  # 5.5 h < callback_window_h 24
    }]
    later = missed_worklist(store, MetricParams(callback_window_h=4), as_of=as_of)
    assert later[0]["overdue"] is True  # 5.5 h > 4 h


def test_missed_command_prints_json(tmp_path: Path, cli) -> None:
    db = tmp_path / "m.duckdb"
    (tmp_path / "Master.csv").write_text(callbacks_file(), encoding="utf-8")
    assert cli("ingest", "--db", db, tmp_path / "Master.csv").exit_code == 0
    result = cli("missed", "--db", db, "--format", "json", "--as-of", "2026-03-03T16:00:00")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    # Without phone settings 89161112233 and +79161112233 are different numbers, so M1 stays on
    # the list too: numbers 89161112233 (1 call) and 79990001122 (2 calls); M2's number
    # 74952223344 vs the callback's 84952223344 also differ.
    assert [(r["number"], r["missed_calls"]) for r in rows] == [
        ("89161112233", 1), ("74952223344", 1), ("79990001122", 2)]


# An outbound campaign from extension 201 (accountcode "spring" names the campaign):
# 74951000001 busy; 74951000002 no answer; 74951000003 answered after 8 s, 95 s of talk;
# 74951000002 again, answered, 5 s of talk (too short to be a live contact).
CAMPAIGN = [
    cdr("201", "74951000001", "SIP/201-00000050", "SIP/trunk1-00000051", 0, None, 3, "BUSY", linkedid="6000.1",
        dcontext="from-internal", accountcode="spring"),
    cdr("201", "74951000002", "SIP/201-00000052", "SIP/trunk1-00000053", 600, None, 630, "NO ANSWER",
        linkedid="6001.1", dcontext="from-internal", accountcode="spring"),
    cdr("201", "74951000003", "SIP/201-00000054", "SIP/trunk1-00000055", 1200, 1208, 1303, "ANSWERED",
        linkedid="6002.1", dcontext="from-internal", accountcode="spring"),
    cdr("201", "74951000002", "SIP/201-00000056", "SIP/trunk1-00000057", 1800, 1806, 1811, "ANSWERED",
        linkedid="6003.1", dcontext="from-internal", accountcode="spring"),
]


def test_outbound_campaign(store: Store, tmp_path: Path) -> None:
    load_cdr(store, tmp_path, master_csv(CAMPAIGN), settings=ru_settings(campaign_field="accountcode"))
    rows = kpis(store, ("campaign",), metrics=[
        "dials", "dials_answered", "connect_rate", "contacts", "contact_rate", "unique_numbers_dialled",
        "attempts_per_number", "calls_handled", "att_s", "short_call_share"])
    assert rows == [{
        "campaign": "spring",
        "dials": 4,
        "dials_answered": 2,  # ...03 and the second try of ...02
        "connect_rate": 0.5,  # 2 / 4
        "contacts": 1,  # 95 s >= contact_min_talk_s 10; 5 s is not a live contact
        "contact_rate": pytest.approx(1 / 3),  # 1 number contacted / 3 numbers dialled
        "unique_numbers_dialled": 3,
        "attempts_per_number": pytest.approx(4 / 3),
        "calls_handled": 2,  # 201's two answered dials
        "att_s": 50.0,  # (95 + 5) / 2
        "short_call_share": 0.5,  # the 5 s call < short_call_s 10: 1 / 2
    }]
    outcomes = query_rows(store, "SELECT outcome, count(*) AS n FROM calls GROUP BY 1 ORDER BY 1")
    assert outcomes == [{"outcome": "answered", "n": 2}, {"outcome": "busy", "n": 1},
                        {"outcome": "no_answer", "n": 1}]
    assert {r["agent"] for r in query_rows(store, "SELECT agent FROM agent_legs")} == {"201"}


def test_queue_application_rows_make_a_queue_leg(store: Store, tmp_path: Path) -> None:
    # Queue(sales) rings 101 (10 s, no answer) then 102, who answers at T0+25 s and talks 60 s.
    rows = [
        cdr("79160000001", "4951112233", TRUNK, "SIP/101-00000060", 5, None, 15, "NO ANSWER", linkedid="7000.1",
            lastapp="Queue", lastdata="sales,t,,,300"),
        cdr("79160000001", "4951112233", TRUNK, "SIP/102-00000061", 15, 25, 85, "ANSWERED", linkedid="7000.1",
            lastapp="Queue", lastdata="sales,t,,,300"),
    ]
    load_cdr(store, tmp_path, master_csv(rows))
    legs = query_rows(store, "SELECT queue, outcome, wait_s, agent, talk_s FROM queue_legs")
    assert legs == [{"queue": "sales", "outcome": "answered", "wait_s": 20.0, "agent": "102", "talk_s": 60.0}]
    assert total(store, metrics=["ring_no_answer", "service_level"]) == {
        "ring_no_answer": 1,  # 101 rang out 10 s before 102 was tried: a real no-answer
        "service_level": 1.0,  # waited 20 s (queue entry T0+5 to answer T0+25) <= 20 s
    }


# -- robustness ------------------------------------------------------------------------------


def test_loading_again_adds_nothing_and_growth_adds_the_rest(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    path.write_text(master_csv(RING_GROUP[:1]), encoding="utf-8")
    first = load_file(store, path, Settings(), timezone="UTC")
    assert (first.status, first.lines_loaded) == ("loaded", 1)
    assert query_rows(store, "SELECT answered FROM calls") == [{"answered": False}]  # only 101's ring so far
    path.write_text(master_csv(RING_GROUP), encoding="utf-8")
    grown = load_file(store, path, Settings(), timezone="UTC")
    assert (grown.status, grown.lines_loaded) == ("appended", 2)  # rows 2 and 3 only
    again = load_file(store, path, Settings(), timezone="UTC")
    assert again.status == "unchanged"
    assert query_rows(store, "SELECT count(*) AS n, bool_and(answered) AS answered FROM calls") == [
        {"n": 1, "answered": True}]  # the call was rebuilt with all three rows
    assert total(store, metrics=["calls_handled", "ring_no_answer"]) == {"calls_handled": 1, "ring_no_answer": 0}


def test_repeated_rows_count_once(store: Store, tmp_path: Path) -> None:
    report = load_cdr(store, tmp_path, master_csv([*RING_GROUP, RING_GROUP[1]]))
    assert report.lines_loaded == 4
    assert "1 row(s) repeat rows already loaded; counted once" in report.messages
    assert total(store, metrics=["calls_handled", "att_s"]) == {"calls_handled": 1, "att_s": 120.0}
    other = load_cdr(store, tmp_path, master_csv(RING_GROUP), name="copy-of-Master.csv")
    assert "3 row(s) repeat rows already loaded; counted once" in other.messages  # another file, same rows
    assert total(store, metrics=["calls_inbound"]) == {"calls_inbound": 1}


def test_table_export_with_header_cr_line_ends_bom_and_quoted_commas(store: Store, tmp_path: Path) -> None:
    # A FreePBX "CDR Reports"-style export: header in its own order, an extra column (tenant),
    # old-Mac CR line ends, a BOM, a caller name with a comma, d/m/yyyy dates (local Lisbon time).
    header = ["uniqueid", "calldate", "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp",
              "duration", "billsec", "disposition", "tenant"]
    rows = [
        ["1772442000.1", "2/3/2026 09:00:00", '"Doe, John" <912345678>', "912345678", "213000000", "from-trunk",
         "SIP/trunk1-00000001", "SIP/101-00000002", "Dial", "70", "60", "ANSWERED", "north"],
        ["1772442300.3", "2/3/2026 09:05:00", '"Roe, Ann" <913333333>', "913333333", "213000000", "from-trunk",
         "SIP/trunk1-00000003", "SIP/101-00000004", "Dial", "20", "0", "NO ANSWER", "north"],
    ]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r").writerows([header, *rows])
    report = load_cdr(store, tmp_path, b"\xef\xbb\xbf" + buffer.getvalue().encode(), name="export.csv",
                      tz="Europe/Lisbon")
    assert (report.lines_loaded, report.quarantined) == (2, 0)
    calls = query_rows(store, "SELECT start_utc, answer_utc, caller, answered FROM calls ORDER BY start_utc")
    assert calls == [  # Lisbon is UTC+0 in March; d/m/yyyy: 2 March; answer = start + 70 - 60
        {"start_utc": datetime(2026, 3, 2, 9, 0), "answer_utc": datetime(2026, 3, 2, 9, 0, 10),
         "caller": "912345678", "answered": True},
        {"start_utc": datetime(2026, 3, 2, 9, 5), "answer_utc": None, "caller": "913333333", "answered": False},
    ]
    extra = query_rows(store, "SELECT extra FROM cdr_records ORDER BY line_no")
    assert json.loads(extra[0]["extra"]) == {"tenant": "north"}  # columns callkpi does not use are kept


@pytest.mark.parametrize(("dayfirst", "expected"), [(True, datetime(2026, 4, 3, 10, 0)),
                                                   (False, datetime(2026, 3, 4, 10, 0))])
def test_ambiguous_dates_follow_the_setting(store: Store, tmp_path: Path, dayfirst: bool, expected: datetime) -> None:
    text = "calldate,src,dst,duration,billsec,disposition\n03/04/2026 10:00:00,101,102,10,5,ANSWERED\n"
    load_cdr(store, tmp_path, text, name="report.csv", settings=ru_settings(dayfirst=dayfirst))
    assert query_rows(store, "SELECT start_utc FROM calls") == [{"start_utc": expected}]


def test_bad_rows_are_quarantined_with_reasons_and_the_rest_loads(store: Store, tmp_path: Path) -> None:
    good = RING_GROUP[1]
    zero_start = cdr("79160000002", "4951112233", TRUNK, "SIP/104-00000070", 0, None, 10, "NO ANSWER",
                     linkedid="8000.1")
    zero_start[9] = "0000-00-00 00:00:00"
    zero_answer = cdr("79160000003", "4951112233", TRUNK, "SIP/104-00000071", 60, None, 70, "NO ANSWER",
                      linkedid="8001.1")
    zero_answer[10] = "0000-00-00 00:00:00"  # unanswered legs of some versions: loads, answer stays empty
    unknown = cdr("79160000004", "4951112233", TRUNK, "SIP/104-00000072", 60, None, 70, "RINGING",
                  linkedid="8002.1")
    text = master_csv([good, zero_start, zero_answer, unknown]) + '"","101","102","default"\n'
    report = load_cdr(store, tmp_path, text)
    assert (report.lines_loaded, report.quarantined) == (2, 3)
    reasons = {issue.line_no: issue.reason for issue in report.issues}
    assert reasons[2] == "start time '0000-00-00 00:00:00' is a zero date"
    assert reasons[4] == "disposition 'RINGING' is not one this format knows"
    assert reasons[5] == "4 fields; this file's first line has 21"
    stored = query_rows(store, "SELECT path, line_no FROM quarantine ORDER BY line_no")
    assert [r["line_no"] for r in stored] == [2, 4, 5]
    assert stored[0]["path"].endswith("Master.csv")
    assert total(store, metrics=["calls_inbound", "calls_missed"]) == {"calls_inbound": 2, "calls_missed": 1}


def test_spreadsheet_times_without_seconds_take_answer_and_end_from_durations(store: Store, tmp_path: Path) -> None:
    text = ("calldate,src,dst,duration,billsec,disposition\r"
            "2/3/26 9:00,74951234567,101,95,80,ANSWERED\r")
    report = load_cdr(store, tmp_path, text, name="report.csv")
    assert report.quarantined == 0
    call = query_rows(store, "SELECT direction, start_utc, answer_utc, end_utc, talk_s FROM calls")[0]
    assert call == {"direction": "inbound", "start_utc": datetime(2026, 3, 2, 9, 0),
                    "answer_utc": datetime(2026, 3, 2, 9, 0, 15),  # 95 - 80 s after the start
                    "end_utc": datetime(2026, 3, 2, 9, 1, 35), "talk_s": 80.0}
    kinds = [r["kind"] for r in query_rows(store, "SELECT kind FROM data_quality")]
    assert kinds == ["cdr_minute_precision"]


def test_headerless_orders_are_recognised_by_their_shape() -> None:
    row21 = cdr("1", "2", "dahdi", "", 0, None, 1, "NO ANSWER", linkedid="1.1")
    assert cdr_asterisk.detect_layout(row21) == "cdr-csv-21"
    assert cdr_asterisk.detect_layout(row21[:18]) == "cdr-csv-18"
    assert cdr_asterisk.detect_layout(row21[:16]) == "cdr-csv-16"
    table16 = ["2026-03-02 09:00:00", "", "1", "2", "ctx", "SIP/1-1", "", "Hangup", "", "1", "0", "BUSY", "3", "",
               "1.1", ""]
    assert cdr_asterisk.detect_layout(table16) == "table-16"
    assert cdr_asterisk.detect_layout(row21[:20]) is None


def test_configured_column_order_reads_any_headerless_file(store: Store, tmp_path: Path) -> None:
    text = "2026-03-02 09:00:00|79160000009|101|SIP/trunk1-1|SIP/101-2|30|20|ANSWERED|9.9\n".replace("|", ",")
    columns = ["calldate", "src", "dst", "channel", "dstchannel", "duration", "billsec", "disposition", "uniqueid"]
    report = load_cdr(store, tmp_path, text, name="odd.csv", settings=ru_settings(asterisk_columns=columns))
    # recognised as Asterisk CDR by its date and disposition, read with the configured order
    assert (report.format, report.lines_loaded) == ("asterisk-cdr", 1)
    assert query_rows(store, "SELECT agent, talk_s, wait_s FROM calls") == [
        {"agent": "101", "talk_s": 20.0, "wait_s": 10.0}]


def test_direction_rules_are_settings(store: Store, tmp_path: Path) -> None:
    # A trunk named like an extension (a PBX whose trunk peer is "7000"): inbound only once the
    # rules say so.
    row = cdr("79160000010", "101", "SIP/7000-00000001", "SIP/101-00000002", 0, 5, 65, "ANSWERED",
              linkedid="9000.1", dcontext="office")
    path = tmp_path / "Master.csv"
    path.write_text(master_csv([row]), encoding="utf-8")
    load_file(store, path, Settings(), timezone="UTC")
    assert query_rows(store, "SELECT direction FROM calls") == [{"direction": "internal"}]
    with Store(":memory:") as other:
        load_file(other, path, ru_settings(direction={"trunk_channels": ["SIP/7000-*"]}), timezone="UTC")
        assert query_rows(other, "SELECT direction, agent FROM calls") == [{"direction": "inbound", "agent": "101"}]


def test_detected_from_the_first_line(tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    path.write_text(master_csv(RING_GROUP), encoding="utf-8")
    assert detect(path) == "asterisk-cdr"


def test_times_are_read_in_the_files_zone(store: Store, tmp_path: Path) -> None:
    load_cdr(store, tmp_path, master_csv(RING_GROUP), tz="Europe/Moscow")
    start = query_rows(store, "SELECT start_utc FROM calls")[0]["start_utc"]
    assert start == datetime(2026, 3, 2, 6, 0)  # 09:00 in Moscow (UTC+3)


def test_kpis_by_did_and_trunk(store: Store, tmp_path: Path) -> None:
    # the ring group came in on trunk1 to 4951112233; another caller dials 4959998877 on trunk2
    # at T0+2 h and nobody answers
    other = cdr("79035550000", "4959998877", "SIP/trunk2-00000099", "SIP/101-0000009a", 7200, None, 7230,
                "NO ANSWER", linkedid="1100.1")
    load_cdr(store, tmp_path, master_csv([*RING_GROUP, other]))
    assert kpis(store, ("did",), metrics=["calls_inbound", "calls_missed"]) == [
        {"did": "4951112233", "calls_inbound": 1, "calls_missed": 0},
        {"did": "4959998877", "calls_inbound": 1, "calls_missed": 1},
    ]
    assert kpis(store, ("trunk",), metrics=["missed_rate"]) == [
        {"trunk": "trunk1", "missed_rate": 0.0},  # 0 / 1
        {"trunk": "trunk2", "missed_rate": 1.0},  # 1 / 1
    ]


def test_voicemail_after_no_answer_is_a_missed_call_that_flowed_out(store: Store, tmp_path: Path) -> None:
    # 101 rings 20 s unanswered, then the caller leaves a 30 s voicemail (the PBX answers it)
    rows = [
        cdr("79160000020", "4951112233", TRUNK, "SIP/101-00000080", 0, None, 20, "NO ANSWER", linkedid="9100.1",
            sequence=1),
        cdr("79160000020", "4951112233", TRUNK, "", 20, 20, 50, "ANSWERED", linkedid="9100.1", lastapp="VoiceMail",
            lastdata="101@default,u", sequence=2),
    ]
    load_cdr(store, tmp_path, master_csv(rows))
    assert total(store, metrics=["calls_missed", "calls_offered", "calls_flowed_out", "calls_abandoned",
                                 "ring_no_answer"]) == {
        "calls_missed": 1,  # the PBX answered for the voicemail, no person did
        "calls_offered": 1,
        "calls_flowed_out": 1,  # left for voicemail, not hung up while waiting
        "calls_abandoned": 0,
        "ring_no_answer": 1,  # 101 rang out
    }
