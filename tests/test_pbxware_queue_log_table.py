"""Issue 12 item 10: PBXware's queue_log table dump (param1..3, entpos, expos, htime, ttime) is read,
each event's numbers mapped to the plain queue_log's fields; its OUT* events are kept."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from tests.conftest import SHARED, kpi_result, query_rows
from tests.reference import queue_log as reference

from callkpi.config import Settings
from callkpi.ingest import queue_log
from callkpi.ingest.formats import detect, load_file
from callkpi.storage import Store

PBXWARE = SHARED / "data" / "real" / "pbxware-us-2018"
TABLE, PLAIN = PBXWARE / "queue_log_table.csv", PBXWARE / "queue_log"
QUEUE_KPIS = ("calls_offered", "calls_answered", "calls_abandoned", "service_level", "asa_s")
HEADER = "uid,date_time,callid,queue_name,type,event,param1,param2,param3,entpos,expos,htime,ttime,time"
T0 = 1772442000  # 2026-03-02 09:00:00 UTC


def _made_up_table(tmp_path: Path) -> Path:
    """One call: enters at T0 at position 1, rings 1141 for 10 s (no answer), 1127 answers after
    a 16 s wait, talks 120 s; and one agent dial (OUTDIAL, OUTANSWER: ring 3 s, talk 50 s)."""
    rows = [
        f'1,{T0},c1,IT,NONE,ENTERQUEUE,15551234567,,,1,0,0,0,"x"',
        f'2,{T0 + 10},c1,IT,Agent/1141,RINGNOANSWER,15551234567,,,1,1,10000,0,"x"',
        f'3,{T0 + 16},c1,IT,Agent/1127,CONNECT,,c1b,4,0,0,16,0,"x"',
        f'4,{T0 + 136},c1,IT,Agent/1127,COMPLETECALLER,15551234567,,,1,0,16,120,"x"',
        f'5,{T0 + 200},o1,NONE,Agent/1127,OUTDIAL,15557654321,,,0,0,0,0,"x"',
        f'6,{T0 + 253},o1,NONE,Agent/1127,OUTANSWER,15557654321,COMPLETEAGENT,,0,0,3,50,"x"',
    ]
    path = tmp_path / "queue_log_table.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_the_table_dump_is_recognised(tmp_path: Path) -> None:
    assert detect(_made_up_table(tmp_path)) == queue_log.FORMAT_PBXWARE_TABLE


def test_each_event_is_mapped_to_the_plain_fields(tmp_path: Path) -> None:
    with Store(":memory:") as store:
        report = load_file(store, _made_up_table(tmp_path), Settings(), timezone="UTC")
        assert (report.lines_loaded, report.quarantined) == (6, 0)
        events = query_rows(store, "SELECT event, data1, data2, data3, data4 FROM queue_log_events ORDER BY line_no")
        assert [tuple(e.values()) for e in events] == [
            ("ENTERQUEUE", None, "15551234567", "1", None),
            ("RINGNOANSWER", "10000", None, None, None),
            ("CONNECT", "16", "c1b", "4", None),
            ("COMPLETECALLER", "16", "120", "1", None),
            ("OUTDIAL", "15557654321", None, "0", "0"),
            ("OUTANSWER", "15557654321", "COMPLETEAGENT", "3", "50"),
        ]
        row = kpi_result(store, metrics=["calls_offered", "calls_answered", "asa_s"]).rows[0]
        assert (row["calls_offered"], row["calls_answered"], row["asa_s"]) == (1, 1, 16)


@pytest.mark.skipif(not TABLE.is_file(), reason=f"real data not found at {TABLE}")
def test_the_real_table_alone_gives_the_queue_kpis_of_the_plain_queue_log() -> None:
    expected = reference.summarise(PLAIN)  # the independent reference, on the plain file
    with Store(":memory:") as store:
        report = load_file(store, TABLE, Settings(), timezone="UTC")
        assert report.quarantined == 0
        row = kpi_result(store, metrics=list(QUEUE_KPIS)).rows[0]
    for kpi in QUEUE_KPIS:
        assert row[kpi] == pytest.approx(expected[kpi], rel=5e-4), kpi


def test_an_agent_dial_is_an_outbound_call_of_the_agent(tmp_path: Path) -> None:
    with Store(":memory:") as store:
        load_file(store, _made_up_table(tmp_path), Settings(), timezone="UTC")
        calls = query_rows(store, "SELECT direction, agent, callee, answered, outcome, epoch(start_utc) AS s, "
                                  "epoch(answer_utc) AS a, epoch(end_utc) AS e, talk_s FROM calls "
                                  "WHERE call_id = 'o1'")
        # hand-computed: dialled at T0+200, OUTANSWER at T0+253 after 3 s ring and 50 s talk
        assert calls == [{"direction": "outbound", "agent": "1127", "callee": "15557654321", "answered": True,
                          "outcome": "answered", "s": T0 + 200, "a": T0 + 203, "e": T0 + 253, "talk_s": 50.0}]
        legs = query_rows(store, "SELECT agent, direction, outcome, ring_s, talk_s FROM agent_legs "
                                 "WHERE call_id = 'o1'")
        assert legs == [{"agent": "1127", "direction": "outbound", "outcome": "answered", "ring_s": 3.0,
                         "talk_s": 50.0}]


@pytest.mark.skipif(not TABLE.is_file(), reason=f"real data not found at {TABLE}")
def test_the_real_agent_dials_are_outbound_calls() -> None:
    with TABLE.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    ends = {"OUTANSWER", "OUTTRANSFER", "OUTCANCEL", "OUTCHANUNAVAIL", "OUTCONGESTION"}
    dials = {r["callid"] for r in rows if r["event"] in ends}
    answered = {r["callid"] for r in rows if r["event"] in {"OUTANSWER", "OUTTRANSFER"}}
    with Store(":memory:") as store:
        load_file(store, TABLE, Settings(), timezone="UTC")
        got = query_rows(store, "SELECT count(*) AS n, count(*) FILTER (WHERE answered) AS answered FROM calls "
                                "WHERE direction = 'outbound'")[0]
    assert (got["n"], got["answered"]) == (len(dials), len(answered))
