"""Issue 12 item 1: a component the sources do not record is null ("not recorded") in the scope,
never 0, and the engine's note says so for exactly the figures it makes null. Hand-made scenarios:
a queue_log with sessions but no PAUSE line, one where only one agent pauses, and a CDR alone.
T0 = 2026-03-02 09:00:00 UTC."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from pytest import approx

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.metrics import recorded
from callkpi.storage import Store
from conftest import SCENARIOS, T0, by_key, kpi_result, ql_line

AGENT_TIME = ("logged_in_s", "paused_s", "idle_s", "handle_s", "utilization", "occupancy", "calls_per_hour")
HANDLING = ("calls_handled", "att_s", "acw_s", "aht_s", "aht_without_acw_s")


def _load_log(store: Store, directory: Path, lines: list[str]) -> None:
    path = directory / "queue_log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    load_file(store, path, Settings(), timezone="UTC")


def _call(agent: str, callid: str, enter: int, wait: int, talk: int) -> list[str]:
    return [
        ql_line(enter, callid, "sales", "NONE", "ENTERQUEUE", "", "74954440001", "1"),
        ql_line(enter + wait, callid, "sales", f"SIP/{agent}", "CONNECT", wait, f"{callid}b", "3"),
        ql_line(enter + wait + talk, callid, "sales", f"SIP/{agent}", "COMPLETEAGENT", wait, talk, "1"),
    ]


def _notes_of(notes: list[str], metric: str) -> list[str]:
    return [n for n in notes if n.startswith(f"{metric}:")]


def test_queue_log_without_pause_lines(store: Store, tmp_path: Path) -> None:
    """1001 is a member 09:00-10:00 (ADDMEMBER/REMOVEMEMBER) and answers one call at 09:10:10
    (wait 10) that lasts 300 s; the log has no PAUSE line, so after-call work is not recorded."""
    _load_log(store, tmp_path, [
        ql_line(T0, "NONE", "sales", "SIP/1001", "ADDMEMBER", ""),
        *_call("1001", "c1", T0 + 600, 10, 300),
        ql_line(T0 + 3600, "NONE", "sales", "SIP/1001", "REMOVEMEMBER", ""),
    ])
    result = kpi_result(store, metrics=(*AGENT_TIME, *HANDLING))
    row = result.rows[0]
    assert row["logged_in_s"] == approx(3600.0)  # presence is recorded: 09:00-10:00
    assert row["paused_s"] is None  # no pause recorded: unknown, not 0
    assert row["handle_s"] == approx(300.0)  # talk 300; ACW left out (and the note says so)
    assert row["idle_s"] == approx(3300.0)  # 3600 - 300
    assert row["utilization"] == approx(300 / 3600)
    assert row["occupancy"] == approx(300 / 3600)  # 300 / (300 + 3300)
    assert row["calls_per_hour"] == approx(1.0)  # 1 / (3600 s / 3600)
    assert row["att_s"] == approx(300.0)
    assert row["acw_s"] is None
    assert row["aht_s"] is None  # talk + hold + ACW needs ACW
    assert row["aht_without_acw_s"] == approx(300.0)  # (300 talk + no hold) / 1
    for metric in ("acw_s", "aht_s", "paused_s"):
        assert any("not recorded" in n for n in _notes_of(result.notes, metric)), result.notes
    assert _notes_of(result.notes, "aht_without_acw_s") == [
        "aht_without_acw_s: no hold time in the loaded data for this scope; left out"]
    for metric in ("logged_in_s", "idle_s", "calls_per_hour", "att_s"):
        assert not _notes_of(result.notes, metric), result.notes
    for metric in ("handle_s", "utilization", "occupancy"):  # shown, with ACW left out: the note says it
        assert [n for n in _notes_of(result.notes, metric) if "after-call work" in n and "left out" in n
                and "not recorded" not in n], result.notes


def test_pauses_recorded_for_one_agent_only(store: Store, tmp_path: Path) -> None:
    """1001 and 1002 are members 09:00-10:00. 1001 answers c1 (talk 300) and pauses ACW 09:15:10-09:16:10
    (60 s); 1002 answers c2 (talk 200) and never pauses. Over the whole log pauses are recorded:
    acw_s = 60 / 2 calls = 30, aht_s = (300 + 200 + 60) / 2 = 280. By agent, 1002's scope has no
    pause at all: its acw_s and aht_s are null, and the note counts that one row of two."""
    _load_log(store, tmp_path, [
        ql_line(T0, "NONE", "sales", "SIP/1001", "ADDMEMBER", ""),
        ql_line(T0, "NONE", "sales", "SIP/1002", "ADDMEMBER", ""),
        *_call("1001", "c1", T0 + 600, 10, 300),
        ql_line(T0 + 910, "NONE", "sales", "SIP/1001", "PAUSE", "ACW"),
        ql_line(T0 + 970, "NONE", "sales", "SIP/1001", "UNPAUSE", ""),
        *_call("1002", "c2", T0 + 1200, 20, 200),
        ql_line(T0 + 3600, "NONE", "sales", "SIP/1001", "REMOVEMEMBER", ""),
        ql_line(T0 + 3600, "NONE", "sales", "SIP/1002", "REMOVEMEMBER", ""),
    ])
    whole = kpi_result(store, metrics=HANDLING).rows[0]
    assert (whole["acw_s"], whole["aht_s"], whole["aht_without_acw_s"]) == (approx(30.0), approx(280.0), approx(250.0))
    result = kpi_result(store, ("agent",), metrics=HANDLING)
    agents = by_key(result.rows, "agent")
    assert (agents["1001"]["acw_s"], agents["1001"]["aht_s"]) == (approx(60.0), approx(360.0))  # 60 / 1, 300 + 60
    assert (agents["1002"]["acw_s"], agents["1002"]["aht_s"]) == (None, None)
    assert agents["1002"]["aht_without_acw_s"] == approx(200.0)
    assert any("in 1 of 2 rows" in n for n in _notes_of(result.notes, "acw_s")), result.notes


def test_cdr_alone_records_neither_presence_nor_pauses(store: Store, tmp_path: Path) -> None:
    """agent_answer_rate.cdr.csv: five answered rows of agent 101 (one inbound, three outbound, one
    to 102), each with billsec 60. No sessions and no pauses in a CDR: every agent-time figure and
    ACW are null, not 0 s or 100 %; AHT without ACW is the talk, 60 s a call."""
    shutil.copy(SCENARIOS / "agent_answer_rate.cdr.csv", tmp_path / "cdr.csv")
    load_file(store, tmp_path / "cdr.csv", Settings(), timezone="UTC")
    result = kpi_result(store, metrics=(*AGENT_TIME, *HANDLING))
    row = result.rows[0]
    for metric in ("logged_in_s", "paused_s", "idle_s", "utilization", "occupancy", "calls_per_hour",
                   "acw_s", "aht_s"):
        assert row[metric] is None, metric
        assert any("not recorded" in n for n in _notes_of(result.notes, metric)), (metric, result.notes)
    assert row["att_s"] == approx(60.0)
    assert row["aht_without_acw_s"] == approx(60.0)


WAIT_METRICS = ("service_level", "asa_s", "avg_wait_s", "max_wait_s", "avg_abandon_wait_s", "est_patience_s")


def test_queue_wait_not_recorded_is_null_and_a_mix_is_null(store: Store, tmp_path: Path) -> None:
    """queue_wait_mix.cdr.csv (issue 12 item 3), three inbound CDR rows:
    1. 09:00 Queue(sales) answered by SIP/101: Queue() answers the caller, so the wait is unknown;
    2. 09:10 Dial(SIP/102) answered at 09:10:10: a blank-queue leg whose wait is the ring, 10 s;
    3. 09:20 Queue(support), no agent, the caller hangs up after 40 s: abandoned, wait 40 s.
    By queue: sales has no recorded wait (every wait figure null); the direct leg and support are
    measured. The whole day mixes legs with and without a wait: null, not the figure of the others."""
    shutil.copy(SCENARIOS / "queue_wait_mix.cdr.csv", tmp_path / "cdr.csv")
    load_file(store, tmp_path / "cdr.csv", Settings(), timezone="UTC")
    counts = ("calls_offered", "calls_answered", "calls_abandoned")
    whole = kpi_result(store, metrics=(*counts, *WAIT_METRICS))
    assert whole.rows[0] == {"calls_offered": 3, "calls_answered": 2, "calls_abandoned": 1,
                             **dict.fromkeys(WAIT_METRICS)}
    for metric in WAIT_METRICS:
        assert any("not recorded" in n and "queue_log" in n for n in _notes_of(whole.notes, metric)), metric
    queues = by_key(kpi_result(store, ("queue",), metrics=WAIT_METRICS).rows, "queue")
    assert queues["sales"] == {"queue": "sales", **dict.fromkeys(WAIT_METRICS)}
    direct = queues[None]
    assert (direct["service_level"], direct["asa_s"], direct["max_wait_s"]) == (1.0, 10.0, 10.0)  # 10 s <= 20 s
    support = queues["support"]
    assert support["service_level"] == 0.0  # 0 answered within 20 s of 1 offered (40 s is not a short abandon)
    assert support["asa_s"] is None  # nothing answered
    assert (support["avg_abandon_wait_s"], support["est_patience_s"]) == (40.0, 40.0)  # 40 s / 1 abandon


# -- which KPIs each loaded source does not record (kpi --explain, the web's definitions) -------


def _cdr_store(path: Path, tmp_path: Path, scenario: str) -> None:
    shutil.copy(SCENARIOS / scenario, tmp_path / "cdr.csv")
    with Store(path) as store:
        load_file(store, tmp_path / "cdr.csv", Settings(), timezone="UTC")
        store.set_meta("timezone", "UTC")


def test_not_recorded_per_loaded_source(store: Store, tmp_path: Path) -> None:
    """queue_wait_mix.cdr.csv (an Asterisk CDR: one Queue() answer without a wait) and a queue_log
    with sessions and an ACW pause: the CDR records neither presence, pauses, hold nor (for
    Queue()) the wait; the queue_log records presence, pauses and waits, not hold."""
    shutil.copy(SCENARIOS / "queue_wait_mix.cdr.csv", tmp_path / "cdr.csv")
    load_file(store, tmp_path / "cdr.csv", Settings(), timezone="UTC")
    _load_log(store, tmp_path, [
        ql_line(T0, "NONE", "sales", "SIP/1001", "ADDMEMBER", ""),
        *_call("1001", "c1", T0 + 600, 10, 300),
        ql_line(T0 + 910, "NONE", "sales", "SIP/1001", "PAUSE", "ACW"),
        ql_line(T0 + 970, "NONE", "sales", "SIP/1001", "UNPAUSE", ""),
        ql_line(T0 + 3600, "NONE", "sales", "SIP/1001", "REMOVEMEMBER", ""),
    ])
    found = recorded.by_source(recorded.not_recorded(store))
    cdr, log = found["asterisk_cdr"], found["queue_log"]
    assert cdr["service_level"] == cdr["asa_s"] == "queue wait"
    assert cdr["logged_in_s"] == cdr["occupancy"] == "presence (logged-in sessions)"
    assert cdr["acw_s"] == cdr["aht_s"] == "pauses (after-call work)"
    assert cdr["avg_hold_s"] == "hold time"
    assert set(log) == {"avg_hold_s"}  # the queue_log records everything else here
    assert "calls_offered" not in cdr  # a count is always recorded


def test_kpi_explain_lists_what_the_source_does_not_record(cli, tmp_path: Path) -> None:
    """agent_answer_rate.cdr.csv: a CDR of Dial() calls (waits known: the ring), no sessions, no pauses."""
    db = tmp_path / "kpi.duckdb"
    _cdr_store(db, tmp_path, "agent_answer_rate.cdr.csv")
    result = cli("kpi", "--db", db, "--metrics", "asa_s,acw_s,logged_in_s", "--explain", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["not_recorded"] == {"asterisk_cdr": {
        "acw_s": "pauses (after-call work)", "logged_in_s": "presence (logged-in sessions)"}}
    table = cli("kpi", "--db", db, "--metrics", "asa_s,acw_s", "--explain")
    assert "not recorded by asterisk_cdr: acw_s (pauses (after-call work))" in table.stdout


def test_definitions_page_says_what_the_loaded_data_does_not_record(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from callkpi.queries.web_tables import ensure_web_schema
    from callkpi.web.app import create_app
    from callkpi.web.auth import create_user
    from web_centre import PASSWORD, sign_in

    db = tmp_path / "web.duckdb"
    _cdr_store(db, tmp_path, "queue_wait_mix.cdr.csv")
    with Store(db) as store:
        ensure_web_schema(store)
        create_user(store, "admin", PASSWORD, "admin")
    app = create_app(db, Settings(), warm=False, alerts=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        sign_in(client, "admin")
        page = client.get("/metrics").text
    row = page[page.index('id="m-asa_s"'):]
    row = row[:row.index("</tr>")]
    assert "Not recorded by the loaded data: asterisk_cdr: queue wait" in row
    calls = page[page.index('id="m-calls_offered"'):]
    assert "Not recorded" not in calls[:calls.index("</tr>")]
