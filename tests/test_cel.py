"""Asterisk CEL (issue 19 item 3): the hand-made scenario file tests/scenarios/cel_scenarios.cel.csv
(cel_custom's 20-field Master.csv) against values computed by hand from its events, the same
events as a cel table CSV, re-import, growth, quarantine, forgetting, and CEL beside the CDR and
the queue_log of the same PBX.

The scenario (2026-03-02, UTC; trunk PJSIP/TRUNK200, agents 201..203):

| call | what happens | hand-computed |
|---|---|---|
| 1772442000.1  | queue support, 201 rings 09:00:03, bridged 09:00:10..09:02:10 | wait 10, talk 120, ring 7 |
| 1772445600.10 | queue support, 202 rings 20 s, 203 rings 15 s, caller hangs up at 45 s | 2 ring-no-answer, abandoned |
| 1772449200.20 | direct to 201, bridged 11:00:05..11:05:05, HOLD 90 s + 30 s | talk 300-120=180, hold 120 |
| 1772452800.30 | 201 answers 12:00:05, BLINDTRANSFER 12:01:05 to 202 | 201 talk 60, transferred |
|               | (a Local pair), 202 bridged 12:01:12..12:04:12 | 202 talk 180 |
| 1772456400.40 | 201 answers 13:00:05, HOLD 13:01:00, consults 203 | 201 talk 115-60=55, hold 60 |
|               | (call 1772456460.42), ATTENDEDTRANSFER 13:02:00, 203 to 13:05:00 | 203 talk 180 |
| 1772456460.42 | the consultation 201 -> 203, bridged 13:01:10..13:02:00 | internal, talk 50, no agent legs |
| 1772460000.50 | queue sales through Local/201@from-queue;1/;2, 201 bridged 14:00:08..14:01:38 | one leg, talk 90 |
| 1772463600.60 | a Local pair alone | no call |
| 1772467200.70 | 202 dials 5557654321, bridged 16:00:09..16:00:49 | outbound, talk 40 |
| 1772495880.80 | 201 bridged 23:58:10..00:03:10 next day | talk 300 across midnight |
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from callkpi.config import Settings
from callkpi.ingest.forget import forget_source
from callkpi.ingest.formats import detect, load_file
from callkpi.storage import Store
from conftest import SCENARIOS, by_key, kpis, query_rows, total

SCENARIO = SCENARIOS / "cel_scenarios.cel.csv"
MASTER_20 = ("eventtype", "eventtime", "cid_name", "cid_num", "cid_ani", "cid_rdnis", "cid_dnid", "exten",
             "context", "channame", "appname", "appdata", "amaflags", "accountcode", "uniqueid", "linkedid", "peer",
             "userfield", "userdeftype", "extra")

EXPECTED_CALLS = {
    "1772442000.1": ("inbound", True, "201", 10.0, 120.0, 0.0),
    "1772445600.10": ("inbound", False, None, None, None, None),
    "1772449200.20": ("inbound", True, "201", 5.0, 180.0, 120.0),
    "1772452800.30": ("inbound", True, "201", 5.0, 240.0, 0.0),
    "1772456400.40": ("inbound", True, "201", 5.0, 235.0, 60.0),
    "1772456460.42": ("internal", True, "201", 9.0, 50.0, 0.0),
    "1772460000.50": ("inbound", True, "201", 8.0, 90.0, 0.0),
    "1772467200.70": ("outbound", True, "202", 9.0, 40.0, 0.0),
    "1772495880.80": ("inbound", True, "201", 10.0, 300.0, 0.0),
}
# per agent: handled, talk, hold, transfers, ring-no-answer
EXPECTED_AGENTS = {
    "201": (6, 120 + 180 + 60 + 55 + 90 + 300, 120 + 60, 2, 0),
    "202": (2, 180 + 40, 0, 0, 1),
    "203": (1, 180, 0, 0, 1),
}


def _load(store: Store, path: Path, **kw: object):
    return load_file(store, path, Settings(), timezone="UTC", **kw)


def _as_table_csv(path: Path, target: Path, order: tuple[str, ...]) -> Path:
    """The scenario as the cel table CSV another reader writes: a header, columns in ``order``, an id."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    with target.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["id", *order])
        for number, row in enumerate(rows, 1):
            named = dict(zip(MASTER_20, row, strict=True))
            out.writerow([number, *(named.get(name, "") for name in order)])
    return target


@pytest.fixture
def scenario_store(store: Store) -> Store:
    report = _load(store, SCENARIO)
    assert report.format == "asterisk-cel-csv"
    assert (report.lines_read, report.lines_loaded, report.quarantined, report.duplicates) == (169, 169, 0, 0)
    return store


def test_calls_match_hand_computed_values(scenario_store: Store) -> None:
    rows = query_rows(scenario_store, "SELECT call_id, direction, answered, agent, wait_s, talk_s, hold_s FROM calls")
    got = {r["call_id"]: (r["direction"], r["answered"], r["agent"], r["wait_s"], r["talk_s"], r["hold_s"])
           for r in rows}
    assert got == EXPECTED_CALLS  # the lone Local pair 1772463600.60 is no call


def test_agent_kpis_match_hand_computed_values(scenario_store: Store) -> None:
    rows = by_key(kpis(scenario_store, ("agent",), metrics=("calls_handled", "att_s", "avg_hold_s", "transfers",
                                                            "ring_no_answer")), "agent")
    for agent, (handled, talk, hold, transfers, rna) in EXPECTED_AGENTS.items():
        row = rows[agent]
        assert row["calls_handled"] == handled, agent
        assert row["att_s"] == pytest.approx(talk / handled), agent
        assert row["avg_hold_s"] == pytest.approx(hold / handled), agent  # measured, not "not recorded"
        assert row["transfers"] == transfers, agent
        assert (row["ring_no_answer"] or 0) == rna, agent


def test_legs_rings_and_local_channels(scenario_store: Store) -> None:
    legs = query_rows(scenario_store, "SELECT call_id, agent, outcome, ring_s, talk_s, hold_s, transferred "
                      "FROM agent_legs ORDER BY offer_utc")
    assert [(r["call_id"], r["agent"], r["outcome"]) for r in legs] == [
        ("1772442000.1", "201", "answered"),
        ("1772445600.10", "202", "no_answer"), ("1772445600.10", "203", "no_answer"),
        ("1772449200.20", "201", "answered"),
        ("1772452800.30", "201", "answered"), ("1772452800.30", "202", "answered"),
        ("1772456400.40", "201", "answered"), ("1772456400.40", "203", "answered"),
        ("1772460000.50", "201", "answered"),  # the Local halves are neither legs nor calls
        ("1772467200.70", "202", "answered"),
        ("1772495880.80", "201", "answered"),
    ]
    assert [r["ring_s"] for r in legs[:3]] == [7.0, 20.0, 15.0]
    assert [r["transferred"] for r in legs if r["call_id"] in ("1772452800.30", "1772456400.40")] == [
        True, False, True, False]


def test_transfers_name_who_received_them(scenario_store: Store) -> None:
    rows = query_rows(scenario_store, "SELECT call_id, kind, from_agent, to_agent, target FROM cel_transfers "
                      "ORDER BY time_utc")
    assert rows == [
        {"call_id": "1772452800.30", "kind": "blind", "from_agent": "201", "to_agent": "202",
         "target": "202@from-internal"},
        {"call_id": "1772456400.40", "kind": "attended", "from_agent": "201", "to_agent": "203",
         "target": "PJSIP/203-00000043"},
    ]


def test_overnight_call_split_at_midnight(scenario_store: Store) -> None:
    talk = query_rows(scenario_store, "SELECT sum(seconds) AS s, min(slice_id) AS a, max(slice_id) AS b "
                      "FROM agent_time WHERE agent = '201' AND state = 'talk' AND slice_id >= 1969439")[0]
    assert talk["s"] == pytest.approx(300.0)
    assert talk["b"] > talk["a"]  # the talk runs into 2026-03-03
    row = total(scenario_store, metrics=("calls_offered", "calls_answered"), date_from=None)
    assert row["calls_offered"] == 7  # the inbound calls (direct ones are offered once)
    assert row["calls_answered"] == 6


def test_table_csv_gives_the_same_calls(store: Store, tmp_path: Path) -> None:
    order = tuple(reversed([*MASTER_20, "peeraccount"]))  # any order, a column the file does not fill
    path = _as_table_csv(SCENARIO, tmp_path / "cel.csv", order)
    assert detect(path) == "asterisk-cel-table"
    report = _load(store, path)
    assert (report.lines_read, report.lines_loaded, report.quarantined) == (169, 169, 0)
    got = {r["call_id"]: r["talk_s"] for r in query_rows(store, "SELECT call_id, talk_s FROM calls")}
    assert got == {k: v[4] for k, v in EXPECTED_CALLS.items()}


def test_reimport_adds_nothing_and_growth_adds_only_new_lines(store: Store, tmp_path: Path) -> None:
    lines = SCENARIO.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "Master.csv"
    path.write_text("".join(lines[:100]), encoding="utf-8")
    first = _load(store, path)
    assert first.lines_loaded == 100
    assert _load(store, path).status == "unchanged"
    path.write_text("".join(lines), encoding="utf-8")
    grown = _load(store, path)
    assert (grown.status, grown.lines_read, grown.lines_loaded) == ("appended", 69, 69)
    got = {r["call_id"]: r["talk_s"] for r in query_rows(store, "SELECT call_id, talk_s FROM calls")}
    assert got == {k: v[4] for k, v in EXPECTED_CALLS.items()}
    copy = tmp_path / "copy.csv"  # the same events in another file: duplicates, counted once
    copy.write_text("".join(lines[:10]), encoding="utf-8")
    again = _load(store, copy)
    assert (again.lines_read, again.lines_loaded, again.quarantined, again.duplicates) == (10, 0, 0, 10)
    assert query_rows(store, "SELECT count(*) AS n FROM calls")[0]["n"] == 9


def test_bad_rows_are_quarantined_with_reason(store: Store, tmp_path: Path) -> None:
    good = SCENARIO.read_text(encoding="utf-8").splitlines()[:15]  # the first call
    def row(event: str, when: str, uniqueid: str) -> str:
        fields = [event, when, "", "1", "", "", "", "1", "c", "PJSIP/201-1", "", "", "3", "", uniqueid, uniqueid,
                  "", "", "", ""]
        return ",".join(f'"{f}"' for f in fields)

    bad = [
        row("CHAN_START", "0000-00-00 00:00:00", "9.1"),
        row("CHAN_START", "1000-01-01 00:00:00", "9.2"),
        row("CHAN_START", "1971-05-01 00:00:00", "9.3"),
        row("NOT_AN_EVENT", "2026-03-02 09:00:00", "9.4"),
        row("CHAN_START", "", "9.5"),
        row("CHAN_START", "2026-03-02 09:00:00", ""),
        '"CHAN_START","2026-03-02 09:00:00","only","three"',
        row("CHAN_START", "2026-03-02 09:00:00", "9.8"),
    ]
    path = tmp_path / "Master.csv"
    path.write_bytes(("\n".join(good + bad) + "\n").encode("utf-8") + b'"HANGUP","2026-03-02 09:00:0\x98"\n')
    report = _load(store, path)
    reasons = {issue.line_no: issue.reason for issue in report.issues}
    assert report.lines_read == report.lines_loaded + report.quarantined + report.duplicates == 24
    assert report.lines_loaded == 16
    assert "zero date" in reasons[16] and "zero date" in reasons[17]
    assert "plausible window" in reasons[18]
    assert "unknown CEL event type" in reasons[19]
    assert reasons[20] == "no eventtime" and reasons[21] == "no uniqueid"
    assert "4 fields" in reasons[22]
    assert 24 in reasons
    stored = query_rows(store, "SELECT path, line_no, reason FROM quarantine ORDER BY line_no")
    assert [r["line_no"] for r in stored] == [16, 17, 18, 19, 20, 21, 22, 24]
    assert {r["path"] for r in stored} == {str(path)}


def test_forget_removes_the_events_and_their_calls(store: Store, tmp_path: Path) -> None:
    report = _load(store, SCENARIO)
    source_id = query_rows(store, "SELECT source_id FROM sources")[0]["source_id"]
    assert report.calls == 9
    forgotten = forget_source(store, Settings(), source_id)
    assert forgotten.rows == 169
    for table in ("cel_events", "cel_transfers", "calls", "agent_legs", "queue_legs", "agent_time"):
        assert query_rows(store, f"SELECT count(*) AS n FROM {table}")[0]["n"] == 0, table  # noqa: S608


@pytest.mark.parametrize("name", ["answered.queue_log", "mixed.cdr.csv", "local_halves.cdr.csv"])
def test_cel_detection_leaves_other_formats_alone(name: str) -> None:
    assert not detect(SCENARIOS / name).startswith("asterisk-cel")


# -- beside the CDR and the queue_log of the same PBX -----------------------------------------

CDR_HEADER = "calldate,clid,src,dst,dcontext,channel,dstchannel,lastapp,lastdata,duration,billsec,disposition," \
             "amaflags,accountcode,uniqueid,userfield,linkedid,sequence"


def _cdr_of_first_calls(tmp_path: Path, talk_c: int = 300) -> Path:
    """The CDR the same PBX wrote for calls 1772442000.1 and 1772449200.20 (billsec includes hold)."""
    rows = [
        '2026-03-02 09:00:00,"""x"" <5551234567>",5551234567,5550100,from-pstn,PJSIP/TRUNK200-00000001,'
        'PJSIP/201-00000002,Queue,"support,t",130,120,ANSWERED,3,,1772442000.1,,1772442000.1,1',
        f'2026-03-02 11:00:00,"""y"" <5553334444>",5553334444,5550101,from-pstn,PJSIP/TRUNK200-00000020,'
        f'PJSIP/201-00000021,Dial,"PJSIP/201,30",305,{talk_c},ANSWERED,3,,1772449200.20,,1772449200.20,2',
    ]
    path = tmp_path / "cdr.csv"
    path.write_text(CDR_HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("cel_first", [True, False])
def test_a_call_in_cel_and_cdr_counts_once(store: Store, tmp_path: Path, cel_first: bool) -> None:
    cdr = _cdr_of_first_calls(tmp_path)
    for path in ([SCENARIO, cdr] if cel_first else [cdr, SCENARIO]):
        _load(store, path)
    calls = query_rows(store, "SELECT call_id, source, hold_s FROM calls WHERE call_id IN "
                       "('1772442000.1', '1772449200.20') ORDER BY call_id")
    assert [(r["source"], r["hold_s"]) for r in calls] == [("asterisk_cel", 0.0), ("asterisk_cel", 120.0)]
    assert query_rows(store, "SELECT count(*) AS n FROM calls")[0]["n"] == 9
    assert query_rows(store, "SELECT count(*) AS n FROM agent_legs WHERE source = 'asterisk_cdr'")[0]["n"] == 0
    assert not query_rows(store, "SELECT * FROM data_quality WHERE kind = 'cel_vs_cdr'")  # they agree


def test_cel_and_cdr_disagreeing_is_a_finding(store: Store, tmp_path: Path) -> None:
    _load(store, SCENARIO)
    _load(store, _cdr_of_first_calls(tmp_path, talk_c=200))
    found = query_rows(store, "SELECT call_id, detail FROM data_quality WHERE kind = 'cel_vs_cdr'")
    assert [r["call_id"] for r in found] == ["1772449200.20"]
    assert "talk: CEL 180 s (+120 s hold), CDR 200 s" in found[0]["detail"]


def test_forgetting_the_cel_brings_back_the_cdr_calls(store: Store, tmp_path: Path) -> None:
    _load(store, _cdr_of_first_calls(tmp_path))
    _load(store, SCENARIO)
    cel_id = query_rows(store, "SELECT source_id FROM sources WHERE format = 'asterisk-cel-csv'")[0]["source_id"]
    forget_source(store, Settings(), cel_id)
    calls = query_rows(store, "SELECT call_id, source FROM calls ORDER BY call_id")
    assert calls == [{"call_id": "1772442000.1", "source": "asterisk_cdr"},
                     {"call_id": "1772449200.20", "source": "asterisk_cdr"}]


QUEUE_LOG = "\n".join([
    "1772442000|1772442000.1|support|NONE|ENTERQUEUE||5551234567|1",
    "1772442010|1772442000.1|support|PJSIP/201|CONNECT|10|1772442000.2|7",
    "1772442130|1772442000.1|support|PJSIP/201|COMPLETEAGENT|10|120|1",
    "1772445600|1772445600.10|support|NONE|ENTERQUEUE||5552223333|1",
    "1772445622|1772445600.10|support|PJSIP/202|RINGNOANSWER|20000",
    "1772445639|1772445600.10|support|PJSIP/203|RINGNOANSWER|15000",
    "1772445645|1772445600.10|support|NONE|ABANDON|1|1|45",
    "1772452800|1772452800.30|support|NONE|ENTERQUEUE||5554445555|1",
    "1772452805|1772452800.30|support|PJSIP/201|CONNECT|5|1772452800.31|4",
    "1772452865|1772452800.30|support|PJSIP/201|BLINDTRANSFER|202|from-internal|5|60|1",
    "1772456400|1772456400.40|support|NONE|ENTERQUEUE||5556667777|1",
    "1772456405|1772456400.40|support|PJSIP/201|CONNECT|5|1772456400.41|4",
    "1772456520|1772456400.40|support|PJSIP/201|ATTENDEDTRANSFER|BRIDGE|b7|5|115|1",
    "1772460000|1772460000.50|sales|NONE|ENTERQUEUE||5558889999|1",
    "1772460008|1772460000.50|sales|PJSIP/201|CONNECT|8|1772460000.53|6",
    "1772460098|1772460000.50|sales|PJSIP/201|COMPLETECALLER|8|90|1",
]) + "\n"


@pytest.mark.parametrize("cel_first", [True, False])
def test_queue_kpis_of_the_queue_log_stay_and_hold_is_filled_in(store: Store, tmp_path: Path,
                                                                cel_first: bool) -> None:
    queue_log = tmp_path / "queue_log"
    queue_log.write_text(QUEUE_LOG, encoding="utf-8")
    alone = Store(":memory:")
    try:
        _load(alone, queue_log)
        queue_kpis = ("calls_offered", "calls_answered", "asa_s", "service_level", "calls_abandoned")
        expected = by_key(kpis(alone, ("queue",), metrics=queue_kpis), "queue")
    finally:
        alone.close()
    for path in ([SCENARIO, queue_log] if cel_first else [queue_log, SCENARIO]):
        _load(store, path)
    assert by_key(kpis(store, ("queue",), metrics=queue_kpis), "queue") == expected
    calls = query_rows(store, "SELECT call_id, source, hold_s FROM calls WHERE call_id IN "
                       "('1772442000.1', '1772456400.40') ORDER BY call_id")
    assert [(r["source"], r["hold_s"]) for r in calls] == [("queue_log", 0.0), ("queue_log", 60.0)]
    assert query_rows(store, "SELECT count(*) AS n FROM calls")[0]["n"] == 9  # each call once
