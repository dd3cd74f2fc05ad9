"""Hand-computed scenarios, one per queue_log rule (docs/queue_log.md, docs/sources.md).

Every scenario file in ``tests/scenarios/`` is a plain queue_log with epoch seconds in UTC; the
test docstring gives each line as UTC clock time. Every expected number is worked out by hand in
the comment beside it, from the definitions in docs/metrics.md — never copied from output.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from callkpi.config import AgentNaming, IngestSettings, Settings
from callkpi.ingest.formats import load_file
from conftest import T0, by_key, kpi_result, kpis, ql_line, query_rows, scenario_text, total, write_log

approx = pytest.approx


def _local(text: str, zone: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def _interval_rows(rows: list[dict], metric: str) -> dict[datetime, object]:
    """{interval start as an aware datetime: value}; accepts ISO text with or without offset."""
    out: dict[datetime, object] = {}
    for row in rows:
        start = datetime.fromisoformat(row["interval"])
        out[start] = row[metric]
    return out


def _same_instant(found: dict[datetime, object], expected: dict[datetime, object]) -> None:
    """Compare interval maps; a naive key is compared by local wall-clock time."""
    def norm(d: dict[datetime, object], naive: bool) -> dict:
        return {(k.replace(tzinfo=None) if naive else k.astimezone(UTC)): v for k, v in d.items()}

    naive = any(k.tzinfo is None for k in found)
    assert norm(found, naive) == norm(expected, naive)


# -- answered calls: wait vs talk vs hold ------------------------------------------------------


def test_answered_call_wait_talk_and_missing_hold(store, load) -> None:
    """answered.queue_log (sales, 2026-03-02 UTC):
    call .1: 09:00:00 ENTERQUEUE; 09:00:08 RINGNOANSWER 1001 8000 ms; 09:00:15 CONNECT 1002
             holdtime 15 ringtime 7; 09:02:15 COMPLETECALLER holdtime 15 calltime 120
    call .2: 09:05:00 ENTERQUEUE; 09:05:25 CONNECT 1001 holdtime 25; 09:10:25 COMPLETEAGENT 25|300
    CONNECT holdtime is the queue wait (ring included), calltime is talk, hold is not in queue_log.
    """
    load("answered.queue_log")
    result = kpi_result(store)
    row = result.rows[0]
    assert row["calls_offered"] == 2
    assert row["calls_answered"] == 2
    assert row["answer_rate"] == approx(1.0)  # 2 / 2
    assert row["asa_s"] == approx(20.0)  # (15 + 25) / 2: holdtime = wait incl. ring
    assert row["max_wait_s"] == approx(25.0)
    assert row["avg_wait_s"] == approx(20.0)  # (15 + 25) / 2
    assert row["service_level"] == approx(0.5)  # answered <= 20 s: 1 (15 s) / (2 offered - 0 short)
    assert row["calls_handled"] == 2
    assert row["att_s"] == approx(210.0)  # (120 + 300) / 2: calltime, the 15/25 s wait not added
    assert row["aht_s"] is None  # no PAUSE line: after-call work not recorded, so not 0 (issue 12 item 1)
    assert row["aht_without_acw_s"] == approx(210.0)  # (420 talk + 0 hold known) / 2
    assert row["acw_s"] is None
    assert row["avg_hold_s"] is None  # queue_log has no customer hold: missing, not 0
    assert row["ring_no_answer"] == 1
    assert row["agent_answer_rate"] == approx(2 / 3)  # 2 answered / (2 answered + 1 RNA)
    assert row["short_call_share"] == approx(0.0)  # no talk < 10 s among 2
    assert row["long_call_share"] == approx(0.0)  # no talk > 1200 s among 2
    assert row["calls_inbound"] == 2
    assert row["calls_missed"] == 0
    assert row["missed_rate"] == approx(0.0)  # 0 / 2
    assert any(note.startswith("avg_hold_s") for note in result.notes), result.notes
    assert any(note.startswith("aht_without_acw_s") and "hold" in note for note in result.notes), result.notes
    assert any(note.startswith("aht_s") and "not recorded" in note for note in result.notes), result.notes


def test_answered_call_per_agent(store, load) -> None:
    """answered.queue_log by agent: 1002 answered .1 (wait 15, talk 120), 1001 answered .2 (wait
    25, talk 300) and let .1 ring without answer."""
    load("answered.queue_log")
    rows = by_key(kpis(store, ("agent",)), "agent")
    assert set(rows) == {"1001", "1002"}
    assert rows["1001"]["calls_handled"] == 1
    assert rows["1001"]["att_s"] == approx(300.0)
    assert rows["1001"]["ring_no_answer"] == 1
    assert rows["1001"]["agent_answer_rate"] == approx(0.5)  # 1 / (1 + 1 RNA)
    assert rows["1001"]["asa_s"] == approx(25.0)
    assert rows["1002"]["calls_handled"] == 1
    assert rows["1002"]["att_s"] == approx(120.0)
    assert rows["1002"]["agent_answer_rate"] == approx(1.0)  # 1 / 1
    assert rows["1002"]["asa_s"] == approx(15.0)


# -- service level: the synthetic interval of docs/sources.md#one-interval-every-variant ------------------------------


def _service_level_interval() -> str:
    """offered 120 = answered 100 (80 <= 20 s) + abandoned 15 (9 <= 20 s, 4 of them < 5 s) + 5 flow-outs.

    All legs enter queue `sales` between 09:00:00 and 09:14:59 UTC (one 15-minute interval), each
    with its own callid:
      answered: 40 wait 10 s, 40 wait 20 s (= T, inside), 20 wait 21 s; talk 60 s each
      abandoned: 4 wait 4 s (short, < 5 s), 5 wait 5 s (= short threshold, not short), 6 wait 50 s
      flowed out: 5 EXITWITHTIMEOUT after 60 s
    """
    lines: list[str] = []
    plan = (
        [("answer", 10)] * 40 + [("answer", 20)] * 40 + [("answer", 21)] * 20
        + [("abandon", 4)] * 4 + [("abandon", 5)] * 5 + [("abandon", 50)] * 6
        + [("timeout", 60)] * 5
    )
    assert len(plan) == 120
    for i, (kind, wait) in enumerate(plan):
        enter = T0 + i * 7  # 0 .. 833 s: all inside 09:00-09:15
        callid = f"{enter}.{i}"
        lines.append(ql_line(enter, callid, "sales", "NONE", "ENTERQUEUE", "", f"7495100{i:04d}", 1))
        if kind == "answer":
            agent = f"SIP/10{i % 4:02d}"
            lines.append(ql_line(enter + wait, callid, "sales", agent, "CONNECT", wait, f"{enter}.9{i}", 2))
            lines.append(ql_line(enter + wait + 60, callid, "sales", agent, "COMPLETEAGENT", wait, 60, 1))
        elif kind == "abandon":
            lines.append(ql_line(enter + wait, callid, "sales", "NONE", "ABANDON", 1, 1, wait))
        else:
            lines.append(ql_line(enter + wait, callid, "sales", "NONE", "EXITWITHTIMEOUT", 1, 1, wait))
    lines.sort(key=lambda line: int(line.split("|", 1)[0]))
    return "\n".join(lines) + "\n"


SERVICE_LEVEL_INTERVAL = _service_level_interval()


@pytest.mark.parametrize(
    ("variant", "short_abandon_s", "expected"),
    [
        # offered (ours, default): ans<=T / (offered - short abandons) = 80 / (120 - 4); = the
        # published B' "Cisco with 5 s short-call timer" 68.9655 %
        ("offered", 5, 80 / 116),
        # offered with short abandons disabled = published B ans<=T/offered = 80/120 = 66.6667 %
        ("offered", 0, 80 / 120),
        # A: ans<=T / ans = 80 / 100 = 80 %
        ("answered", 5, 80 / 100),
        # C Cisco "abandons ignored": 80 / (120 - 9 abandoned <= T) = 72.0721 %
        ("ignore_abandons_within_t", 5, 80 / 111),
        # D Cisco "abandons positive": (80 + 9) / 120 = 74.1667 %
        ("abandons_positive", 5, 89 / 120),
    ],
)
def test_service_level_variants_on_the_published_interval(store, load, variant, short_abandon_s, expected) -> None:
    load(SERVICE_LEVEL_INTERVAL)
    row = total(store, metrics=("service_level",), sl_variant=variant, short_abandon_s=short_abandon_s)
    assert row["service_level"] == approx(expected, abs=1e-9)


def test_service_level_published_percentages(store, load) -> None:
    """The four values of docs/sources.md#one-interval-every-variant, rounded as printed there."""
    load(SERVICE_LEVEL_INTERVAL)

    def pct(**params) -> float:
        return round(100 * total(store, metrics=("service_level",), **params)["service_level"], 4)

    assert pct(sl_variant="offered", short_abandon_s=0) == 66.6667  # B
    assert pct(sl_variant="answered") == 80.0  # A
    assert pct(sl_variant="ignore_abandons_within_t") == 72.0721  # C
    assert pct(sl_variant="abandons_positive") == 74.1667  # D
    assert pct(sl_variant="offered") == 68.9655  # B' (short abandons out of the denominator)


def test_service_level_interval_counts_and_waits(store, load) -> None:
    load(SERVICE_LEVEL_INTERVAL)
    row = total(store)
    assert row["calls_offered"] == 120
    assert row["calls_answered"] == 100
    assert row["calls_abandoned"] == 11  # 15 abandoned - 4 short
    assert row["calls_short_abandoned"] == 4
    assert row["calls_flowed_out"] == 5
    assert row["answer_rate"] == approx(100 / 120)
    # docs/sources.md#abandonment-and-short-abandons: 9.48 % with short abandons out of both sides
    assert row["abandon_rate"] == approx(11 / 116)
    assert row["asa_s"] == approx(16.2)  # (40*10 + 40*20 + 20*21) / 100 = 1620 / 100
    # answered 1620 + abandoned (5*5 + 6*50 = 325) + flowed out 5*60 = 300; short abandons out
    assert row["avg_wait_s"] == approx(2245 / 116)  # 19.3534
    assert row["avg_abandon_wait_s"] == approx(325 / 11)  # 29.5455
    assert row["max_wait_s"] == approx(60.0)
    assert row["calls_inbound"] == 120
    assert row["calls_missed"] == 20  # 15 abandoned (short included) + 5 flowed out
    assert row["missed_rate"] == approx(20 / 120)
    short_off = total(store, metrics=("abandon_rate", "calls_abandoned"), short_abandon_s=0)
    assert short_off["calls_abandoned"] == 15
    # docs/sources.md#abandonment-and-short-abandons: 12.50 % the Amazon/Genesys way
    assert short_off["abandon_rate"] == approx(15 / 120)
    wider = total(store, metrics=("service_level",), sl_threshold_s=30)
    assert wider["service_level"] == approx(100 / 116)  # all 100 answered within 30 s


def test_service_level_interval_lands_in_one_interval(store, load) -> None:
    load(SERVICE_LEVEL_INTERVAL)
    rows = kpis(store, ("interval",), metrics=("calls_offered", "service_level"), interval_minutes=15)
    assert len(rows) == 1
    assert rows[0]["calls_offered"] == 120
    assert rows[0]["service_level"] == approx(80 / 116)


# -- ring no answer --------------------------------------------------------------------------


def test_ring_no_answer_is_milliseconds(store, load) -> None:
    """ring_no_answer.queue_log (support, UTC):
    call .10: 10:00:00 ENTERQUEUE; 10:00:15 RINGNOANSWER 1001 15000 ms; 10:00:30 RINGNOANSWER 1002
              15000 ms; 10:00:40 CONNECT 1001 holdtime 40; 10:01:40 COMPLETEAGENT 40|60
    call .20: 10:05:00 ENTERQUEUE; 10:05:15 RINGNOANSWER 1002 15000 ms; 10:05:20 RINGCANCELED 1001
              (the caller hung up while it rang: not the agent's miss); 10:05:20 ABANDON waittime 20
    15000 is milliseconds: each ring began 15 s before its line, all inside hour 10. Read as
    seconds they would start more than 4 hours earlier.
    """
    load("ring_no_answer.queue_log")
    row = total(store)
    assert row["ring_no_answer"] == 3
    assert row["agent_answer_rate"] == approx(0.25)  # 1 answered / (1 + 3 RNA); RINGCANCELED not counted
    assert row["calls_abandoned"] == 1  # waited 20 s >= 5
    agents = by_key(kpis(store, ("agent",), metrics=("ring_no_answer", "agent_answer_rate", "calls_handled")),
                    "agent")
    assert agents["1001"]["ring_no_answer"] == 1
    assert agents["1001"]["agent_answer_rate"] == approx(0.5)  # 1 / (1 + 1)
    assert agents["1001"]["calls_handled"] == 1
    assert agents["1002"]["ring_no_answer"] == 2
    assert agents["1002"]["agent_answer_rate"] == approx(0.0)  # 0 / 2: rung but never answered
    assert agents["1002"]["calls_handled"] == 0
    hours = kpis(store, ("hour",), metrics=("ring_no_answer",))
    assert {r["hour"]: r["ring_no_answer"] for r in hours if r["ring_no_answer"]} == {10: 3}
    rings = query_rows(store, "SELECT ring_s FROM agent_legs WHERE outcome = 'no_answer'")
    assert sorted(r["ring_s"] for r in rings) == [15.0, 15.0, 15.0]


# -- overflow: one call, two queue legs ------------------------------------------------------


def test_overflow_is_one_call_with_two_legs(store, load) -> None:
    """overflow.queue_log (UTC), callid .30 throughout:
    11:00:00 ENTERQUEUE sales; 11:00:30 EXITWITHTIMEOUT sales waittime 30;
    11:00:30 ENTERQUEUE overflow; 11:00:40 CONNECT 1003 holdtime 10; 11:03:40 COMPLETEAGENT 10|180
    """
    load("overflow.queue_log")
    row = total(store)
    assert row["calls_offered"] == 2  # by leg: sales and overflow
    assert row["calls_answered"] == 1
    assert row["calls_flowed_out"] == 1
    assert row["answer_rate"] == approx(0.5)  # per leg: 1 / 2
    assert row["avg_wait_s"] == approx(20.0)  # (30 flowed out + 10 answered) / 2
    assert row["calls_inbound"] == 1  # one customer call
    assert row["calls_missed"] == 0  # answered in the second queue
    assert row["missed_rate"] == approx(0.0)
    assert row["calls_handled"] == 1
    assert row["att_s"] == approx(180.0)
    queues = by_key(kpis(store, ("queue",), metrics=("calls_offered", "calls_answered", "calls_flowed_out",
                                                     "asa_s", "answer_rate")), "queue")
    assert queues["sales"]["calls_offered"] == 1
    assert queues["sales"]["calls_flowed_out"] == 1
    assert queues["sales"]["calls_answered"] == 0
    assert queues["sales"]["asa_s"] is None  # nothing answered there
    assert queues["overflow"]["calls_offered"] == 1
    assert queues["overflow"]["calls_answered"] == 1
    assert queues["overflow"]["asa_s"] == approx(10.0)  # wait in the second queue only
    only_b = total(store, metrics=("calls_offered",), filters={"queue": ("overflow",)})
    assert only_b["calls_offered"] == 1
    calls = query_rows(store, "SELECT call_id, queue_legs, answered FROM calls")
    assert calls == [{"call_id": "1772449200.30", "queue_legs": 2, "answered": True}]


# -- transfers -------------------------------------------------------------------------------


def test_transfers_talk_is_calltime(store, load) -> None:
    """transfers.queue_log (sales, UTC):
    .40 12:00:00 in, 12:00:05 CONNECT 1001, 12:01:40 BLINDTRANSFER 200|from-internal|5|95 (talk 95)
    .42 12:10:00 in, 12:10:08 CONNECT 1002, 12:11:00 ATTENDEDTRANSFER BRIDGE|...|8|52 (talk 52)
    .45 12:20:00 in, 12:20:03 CONNECT 1001, 12:20:33 COMPLETEAGENT 3|30 (talk 30)
    .47 12:30:00 in, 12:30:04 CONNECT 1002, 12:30:48 TRANSFER 300|from-internal|4|44 (talk 44)
    """
    load("transfers.queue_log")
    row = total(store)
    assert row["calls_handled"] == 4
    assert row["transfers"] == 3
    assert row["transfer_rate"] == approx(0.75)  # 3 / 4
    assert row["att_s"] == approx(55.25)  # (95 + 52 + 30 + 44) / 4 = 221 / 4
    assert row["asa_s"] == approx(5.0)  # (5 + 8 + 3 + 4) / 4
    assert row["calls_answered"] == 4
    agents = by_key(kpis(store, ("agent",), metrics=("calls_handled", "transfers", "transfer_rate", "att_s")),
                    "agent")
    assert agents["1001"]["transfers"] == 1
    assert agents["1001"]["transfer_rate"] == approx(0.5)  # 1 / 2
    assert agents["1001"]["att_s"] == approx(62.5)  # (95 + 30) / 2
    assert agents["1002"]["transfers"] == 2
    assert agents["1002"]["transfer_rate"] == approx(1.0)  # 2 / 2
    assert agents["1002"]["att_s"] == approx(48.0)  # (52 + 44) / 2


# -- presence: sessions and pauses -----------------------------------------------------------


def test_login_sessions_from_every_kind_of_event(store, load) -> None:
    """sessions.queue_log (UTC):
    1001: 09:30 ADDMEMBER sales, 09:40 ADDMEMBER support, 10:00 REMOVEMEMBER sales, 10:30
          REMOVEMEMBER support -> logged in 09:30-10:30 (member of at least one queue) = 3600 s
    1002: 09:15 AGENTLOGIN, 10:00 AGENTLOGOFF (logintime 2700) -> 2700 s
    1003: 09:00 AGENTCALLBACKLOGIN, 09:20 AGENTCALLBACKLOGOFF (logintime 1200) -> 1200 s
    1004: 09:50 AGENTCALLBACKLOGOFF logintime 600 with no login in the log -> session taken from
          logintime, 09:40-09:50 = 600 s, and a data-quality finding
    """
    load("sessions.queue_log")
    assert total(store, metrics=("logged_in_s",))["logged_in_s"] == approx(8100.0)  # 3600+2700+1200+600
    agents = by_key(kpis(store, ("agent",), metrics=("logged_in_s",)), "agent")
    assert {a: r["logged_in_s"] for a, r in agents.items()} == {
        "1001": approx(3600.0),
        "1002": approx(2700.0),
        "1003": approx(1200.0),
        "1004": approx(600.0),
    }
    hours = by_key(kpis(store, ("hour",), metrics=("logged_in_s",)), "hour")
    assert hours[9]["logged_in_s"] == approx(6300.0)  # 1001 1800 + 1002 2700 + 1003 1200 + 1004 600
    assert hours[10]["logged_in_s"] == approx(1800.0)  # 1001 10:00-10:30
    findings = query_rows(store, "SELECT kind, agent FROM data_quality")
    assert {"kind": "session_start_inferred", "agent": "1004"} in findings


def test_pause_reason_change_without_unpause(store, load) -> None:
    """pause_reason_change.queue_log (UTC), agent 1001:
    09:00 ADDMEMBER; 09:10 PAUSE lunch; 09:25 PAUSE training (no UNPAUSE between: Asterisk does
    not log one on a reason change); 09:35 UNPAUSE; 10:00 REMOVEMEMBER
    """
    load("pause_reason_change.queue_log")
    row = total(store, metrics=("logged_in_s", "paused_s", "idle_s"))
    assert row["logged_in_s"] == approx(3600.0)
    assert row["paused_s"] == approx(1500.0)  # 09:10-09:35
    assert row["idle_s"] == approx(2100.0)  # 3600 - 1500, no calls
    reasons = by_key(kpis(store, ("pause_reason",), metrics=("paused_s",)), "pause_reason")
    assert reasons["lunch"]["paused_s"] == approx(900.0)  # 09:10-09:25
    assert reasons["training"]["paused_s"] == approx(600.0)  # 09:25-09:35
    assert set(reasons) == {"lunch", "training"}


def test_pauseall_and_its_per_queue_pauses_count_once(store, load) -> None:
    """pauseall.queue_log (UTC), agent 1001 member of sales and support from 09:00 to 10:00:
    09:10 PAUSEALL break + PAUSE break (sales) + PAUSE break (support);
    09:20 UNPAUSEALL + UNPAUSE (sales) + UNPAUSE (support)
    """
    load("pauseall.queue_log")
    row = total(store, metrics=("logged_in_s", "paused_s"))
    assert row["paused_s"] == approx(600.0)  # one pause 09:10-09:20, not 3 x 600
    assert row["logged_in_s"] == approx(3600.0)  # one session, not one per queue
    reasons = by_key(kpis(store, ("pause_reason",), metrics=("paused_s",)), "pause_reason")
    assert reasons["break"]["paused_s"] == approx(600.0)


ACW_EXPECTED = {
    "logged_in_s": 3600.0,  # 09:00-10:00
    "paused_s": 720.0,  # ACW 90 + wrapup 30 + lunch 600
    "handle_s": 600.0,  # talk 300 + 180, ACW 90 + 30
    "idle_s": 2400.0,  # 3600 - 600 lunch (non-ACW pause) - 600 handle
    "utilization": 600 / 3600,  # handle / logged in
    "occupancy": 600 / 3000,  # handle / (handle + idle)
    "calls_handled": 2,
    "att_s": 240.0,  # (300 + 180) / 2
    "acw_s": 60.0,  # (90 + 30) / 2
    "aht_s": 300.0,  # (480 talk + 120 ACW) / 2
    "calls_per_hour": 2.0,  # 2 handled / (3600 s / 3600)
    "calls_offered": 2,
    "asa_s": 15.0,  # (10 + 20) / 2
}


def _assert_acw(store) -> None:
    row = total(store)
    for metric, value in ACW_EXPECTED.items():
        assert row[metric] == approx(value), metric
    reasons = by_key(kpis(store, ("pause_reason",), metrics=("paused_s",)), "pause_reason")
    assert {r: v["paused_s"] for r, v in reasons.items()} == {
        "ACW": approx(90.0),
        "wrapup": approx(30.0),
        "lunch": approx(600.0),
    }
    agent = by_key(kpis(store, ("agent",), metrics=tuple(ACW_EXPECTED)), "agent")["1001"]
    for metric, value in ACW_EXPECTED.items():
        assert agent[metric] == approx(value), metric


def test_after_call_work_from_acw_pauses(store, load) -> None:
    """acw.queue_log (sales, UTC), agent 1001 logged in 09:00-10:00:
    .50 09:10:00 in, 09:10:10 CONNECT holdtime 10, 09:15:10 COMPLETEAGENT 10|300 (talk 300)
        09:15:10 PAUSE ACW, 09:16:40 UNPAUSE (ACW 90)
    .52 09:20:00 in, 09:20:20 CONNECT holdtime 20, 09:23:20 COMPLETECALLER 20|180 (talk 180)
        09:23:20 PAUSE wrapup, 09:23:50 UNPAUSE (ACW 30)
    09:30 PAUSE lunch, 09:40 UNPAUSE (not ACW: 600)
    """
    load("acw.queue_log")
    _assert_acw(store)


def test_acw_reasons_are_a_parameter(store, load) -> None:
    """acw.queue_log with acw_pause_reasons = lunch only: ACW 600, handle 480 + 600 = 1080."""
    load("acw.queue_log")
    row = total(store, metrics=("acw_s", "aht_s", "handle_s", "idle_s"), acw_pause_reasons=("lunch",))
    assert row["acw_s"] == approx(300.0)  # 600 / 2
    assert row["aht_s"] == approx(540.0)  # (480 + 600) / 2
    assert row["handle_s"] == approx(1080.0)
    assert row["idle_s"] == approx(2400.0)  # 3600 - 120 (ACW, wrapup: now plain pauses) - 1080


def test_lines_out_of_time_order(store, load) -> None:
    """acw_out_of_order.queue_log holds the lines of acw.queue_log shuffled (REMOVEMEMBER first,
    each COMPLETE before its CONNECT and ENTERQUEUE, each UNPAUSE before its PAUSE): the KPIs are
    those of the ordered file."""
    load("acw_out_of_order.queue_log")
    _assert_acw(store)


# -- restarts, cut files, system lines -------------------------------------------------------


def test_queuestart_closes_sessions_pauses_and_legs(store, load) -> None:
    """queuestart.queue_log (sales, UTC):
    09:00 QUEUESTART; 09:00 ADDMEMBER 1001; 09:10 PAUSE break; 09:20 ENTERQUEUE .60 (never closed)
    09:30 QUEUESTART  -> closes the session (09:00-09:30), the pause (09:10-09:30) and leg .60
    09:40 ADDMEMBER 1001; 09:45 .61 in, CONNECT holdtime 10, 09:47:10 COMPLETEAGENT 10|120;
    10:00 REMOVEMEMBER
    """
    load("queuestart.queue_log")
    row = total(store)
    assert row["logged_in_s"] == approx(3000.0)  # 1800 (09:00-09:30) + 1200 (09:40-10:00)
    assert row["paused_s"] == approx(1200.0)  # 09:10-09:30, not until 09:40 or later
    assert row["calls_offered"] == 2  # the open leg is offered, not dropped
    assert row["calls_answered"] == 1
    assert row["calls_unknown_outcome"] == 1
    assert row["calls_abandoned"] == 0
    found = query_rows(store, "SELECT kind, call_id, detail FROM data_quality WHERE kind = 'leg_without_end'")
    assert [f["call_id"] for f in found] == ["1772443200.60"]
    assert "restart" in found[0]["detail"].lower()


def test_file_cut_mid_call(store, load) -> None:
    """cut_mid_call.queue_log (sales, UTC), the log ends after the last line:
    .70 09:00:00 in, 09:00:12 CONNECT 1001 holdtime 12, 09:01:12 COMPLETEAGENT 12|60
    .72 09:05:00 in, 09:05:30 CONNECT 1002 holdtime 30 -- cut: answered, talk unknown
    .74 09:06:00 in -- cut: outcome unknown
    """
    load("cut_mid_call.queue_log")
    row = total(store)
    assert row["calls_offered"] == 3
    assert row["calls_answered"] == 2  # .70 and .72 (CONNECT seen)
    assert row["calls_unknown_outcome"] == 1  # .74
    assert row["asa_s"] == approx(21.0)  # (12 + 30) / 2
    assert row["calls_handled"] == 2
    assert row["att_s"] == approx(60.0)  # talk known only for .70: 60 / 1
    found = by_key(query_rows(store, "SELECT call_id, detail FROM data_quality WHERE kind = 'leg_without_end'"),
                   "call_id")
    assert set(found) == {"1772442300.72", "1772442360.74"}


def test_none_and_manager_lines_are_not_calls(store, load) -> None:
    """none_manager.queue_log (sales, UTC): QUEUESTART and CONFIGRELOAD with callid NONE;
    09:00:10 MANAGER ADDMEMBER 1001; 09:10 NONE PAUSE lunch; 09:20 MANAGER UNPAUSE;
    09:30 call .80 answered (holdtime 6, talk 120); 09:40 CONFIGRELOAD (sessions survive reloads);
    10:00:10 MANAGER REMOVEMEMBER
    """
    load("none_manager.queue_log")
    row = total(store)
    assert row["calls_offered"] == 1
    assert row["calls_inbound"] == 1
    assert row["logged_in_s"] == approx(3600.0)  # 09:00:10-10:00:10, the reload closes nothing
    assert row["paused_s"] == approx(600.0)  # 09:10-09:20
    calls = query_rows(store, "SELECT call_id FROM calls")
    assert calls == [{"call_id": "1772443800.80"}]
    legs = query_rows(store, "SELECT count(*) AS n FROM queue_legs WHERE call_id IN ('NONE', 'MANAGER')")
    assert legs[0]["n"] == 0


def test_configreload_closes_sessions_only_when_configured(store, load) -> None:
    """none_manager.queue_log with [ingest] close_sessions_on_reload = true: the 09:40 CONFIGRELOAD
    ends 1001's session (09:00:10-09:40:00 = 2390 s); the REMOVEMEMBER at 10:00:10 then finds none."""
    load("none_manager.queue_log", settings=Settings(ingest=IngestSettings(close_sessions_on_reload=True)))
    row = total(store, metrics=("logged_in_s", "paused_s"))
    assert row["logged_in_s"] == approx(2390.0)
    assert row["paused_s"] == approx(600.0)


# -- loading the same file again, and a growing file ------------------------------------------


def _table_counts(store) -> dict[str, int]:
    return {t: store.row_count(t) for t in ("queue_log_events", "queue_legs", "agent_legs", "calls", "agent_time")}


def test_same_file_loaded_twice_adds_nothing(store, tmp_path) -> None:
    """answered.queue_log loaded twice, then a copy of it under another name: nothing is added."""
    path = write_log(tmp_path, scenario_text("answered.queue_log"), "queue_log")
    first = load_file(store, path, Settings(), timezone="UTC")
    assert first.lines_loaded == 7
    counts, kpi_before = _table_counts(store), total(store)
    again = load_file(store, path, Settings(), timezone="UTC")
    assert again.status == "unchanged"
    assert _table_counts(store) == counts
    copy = tmp_path / "queue_log.copy"
    shutil.copy(path, copy)
    load_file(store, copy, Settings(), timezone="UTC")
    assert _table_counts(store) == counts
    assert total(store) == kpi_before
    assert total(store)["calls_offered"] == 2


def test_file_that_grew_adds_only_new_lines(store, tmp_path) -> None:
    """growth_part1.queue_log, then growth_part2.queue_log appended to the same file (UTC):
    part 1: 09:00 ADDMEMBER 1001; .90 09:00 in, CONNECT holdtime 10, 09:02:10 COMPLETEAGENT 10|120;
            .92 09:10 in, 09:10:20 CONNECT holdtime 20 (the log ends here)
    part 2: 09:15:20 COMPLETECALLER .92 20|300; .94 09:20 in, 09:20:04 ABANDON waittime 4 (short);
            10:00 REMOVEMEMBER
    """
    path = write_log(tmp_path, scenario_text("growth_part1.queue_log"), "queue_log")
    load_file(store, path, Settings(), timezone="UTC")
    before = total(store)
    assert before["calls_offered"] == 2
    assert before["att_s"] == approx(120.0)  # only .90's talk is known yet
    open_legs = query_rows(store, "SELECT call_id FROM data_quality WHERE kind = 'leg_without_end'")
    assert open_legs == [{"call_id": "1772442600.92"}]

    with path.open("a", encoding="utf-8") as handle:
        handle.write(scenario_text("growth_part2.queue_log"))
    report = load_file(store, path, Settings(), timezone="UTC")
    assert report.status == "appended"
    assert report.lines_loaded == 4  # only the 4 new lines
    assert store.row_count("queue_log_events") == 10  # 6 + 4, nothing twice
    row = total(store)
    assert row["calls_offered"] == 3
    assert row["calls_answered"] == 2
    assert row["calls_short_abandoned"] == 1
    assert row["calls_handled"] == 2
    assert row["att_s"] == approx(210.0)  # (120 + 300) / 2: .92 rebuilt from both parts
    assert row["service_level"] == approx(1.0)  # 2 answered <= 20 s / (3 offered - 1 short)
    assert row["logged_in_s"] == approx(3600.0)  # 09:00-10:00
    assert query_rows(store, "SELECT call_id FROM data_quality WHERE kind = 'leg_without_end'") == []
    legs = query_rows(store, "SELECT call_id, outcome, talk_s FROM queue_legs WHERE call_id = '1772442600.92'")
    assert legs == [{"call_id": "1772442600.92", "outcome": "answered", "talk_s": 300.0}]


def test_file_growing_while_a_line_is_half_written(store, tmp_path) -> None:
    """growth_part1 plus the first half of part 2's first line (no newline yet), then the rest:
    after the second load the KPIs are those of the whole file and nothing stays quarantined."""
    part2 = scenario_text("growth_part2.queue_log")
    path = write_log(tmp_path, scenario_text("growth_part1.queue_log") + part2[:20], "queue_log")
    load_file(store, path, Settings(), timezone="UTC")
    with path.open("a", encoding="utf-8") as handle:
        handle.write(part2[20:])
    load_file(store, path, Settings(), timezone="UTC")
    assert store.row_count("queue_log_events") == 10
    assert store.row_count("quarantine") == 0  # the half line was not bad, only unfinished
    numbers = query_rows(store, "SELECT max(line_no) AS last FROM queue_log_events")
    assert numbers == [{"last": 10}]  # the completed line is line 7 of the file, the last one 10
    row = total(store, metrics=("calls_offered", "att_s"))
    assert row["calls_offered"] == 3
    assert row["att_s"] == approx(210.0)


# -- agent names -------------------------------------------------------------------------------


def test_agent_channel_names_are_one_agent(store, load) -> None:
    """channel_names.queue_log (sales, UTC), one person under four names:
    09:00 ADDMEMBER Local/1127@from-queue/n ... 10:00 REMOVEMEMBER Local/1127@from-queue/n
    .100 09:05 in; 09:05:10 RINGNOANSWER SIP/1127-0000001a; 09:05:25 CONNECT Agent/1127;
         09:07:25 COMPLETEAGENT 25|120
    .102 09:10 in; 09:10:05 CONNECT PJSIP/1127; 09:11:05 COMPLETECALLER 5|60
    """
    load("channel_names.queue_log")
    rows = kpis(store, ("agent",))
    assert [r["agent"] for r in rows] == ["1127"]
    row = rows[0]
    assert row["logged_in_s"] == approx(3600.0)
    assert row["ring_no_answer"] == 1
    assert row["calls_handled"] == 2
    assert row["agent_answer_rate"] == approx(2 / 3)  # 2 / (2 + 1)
    assert row["att_s"] == approx(90.0)  # (120 + 60) / 2
    assert row["handle_s"] == approx(180.0)
    assert row["utilization"] == approx(0.05)  # 180 / 3600
    assert row["calls_offered"] == 2


def test_agent_channel_normalisation_can_be_switched_off(store, load) -> None:
    """With [agents] normalise_channels = false the four names stay four agents."""
    load("channel_names.queue_log", settings=Settings(agents=AgentNaming(normalise_channels=False)))
    agents = {r["agent"] for r in kpis(store, ("agent",), metrics=("calls_handled", "ring_no_answer"))}
    assert {"Agent/1127", "PJSIP/1127", "SIP/1127-0000001a"} <= agents
    assert "1127" not in agents


# -- time zones, DST, midnight, interval boundaries -------------------------------------------


def test_dst_spring_forward_berlin(store, load) -> None:
    """dst_berlin.queue_log, Europe/Berlin; 2026-03-29 has 23 hours (02:00 CET -> 03:00 CEST).
    Agent 2001 logged in 2026-03-28 22:00Z (23:00 CET) to 2026-03-30 00:00Z (02:00 CEST).
    Calls (wait 10, talk 60) entering at
      2026-03-28 22:50Z = 28th 23:50 CET; 2026-03-29 00:30Z = 01:30 CET; 01:10Z = 03:10 CEST;
      21:50Z = 23:50 CEST; 22:10Z = 30th 00:10 CEST
    """
    load("dst_berlin.queue_log")
    zone = "Europe/Berlin"
    days = by_key(kpis(store, ("day",), metrics=("calls_offered", "logged_in_s"), timezone=zone), "day")
    assert {d: r["calls_offered"] for d, r in days.items()} == {"2026-03-28": 1, "2026-03-29": 3, "2026-03-30": 1}
    assert days["2026-03-28"]["logged_in_s"] == approx(3600.0)  # 23:00-24:00 CET
    assert days["2026-03-29"]["logged_in_s"] == approx(23 * 3600.0)  # the short day
    assert days["2026-03-30"]["logged_in_s"] == approx(7200.0)  # 00:00-02:00 CEST
    one_day = {"date_from": date(2026, 3, 29), "date_to": date(2026, 3, 29), "timezone": zone}
    hours = by_key(kpis(store, ("hour",), metrics=("calls_offered", "logged_in_s"), **one_day), "hour")
    assert sorted(hours) == [0, 1, *range(3, 24)]  # no 02:00 that day
    assert all(r["logged_in_s"] == approx(3600.0) for r in hours.values())
    assert {h: r["calls_offered"] for h, r in hours.items() if r["calls_offered"]} == {1: 1, 3: 1, 23: 1}
    intervals = kpis(store, ("interval",), metrics=("calls_offered",), interval_minutes=30, **one_day)
    found = {k: v for k, v in _interval_rows(intervals, "calls_offered").items() if v}
    _same_instant(found, {
        _local("2026-03-29T01:30", zone): 1,
        _local("2026-03-29T03:00", zone): 1,
        _local("2026-03-29T23:30", zone): 1,
    })


def test_dst_fall_back_new_york(store, load) -> None:
    """dst_new_york.queue_log, America/New_York; 2026-11-01 has 25 hours (02:00 EDT -> 01:00 EST).
    Agent 3001 logged in 2026-11-01 03:00Z (Oct 31 23:00 EDT) to 2026-11-02 05:00Z (Nov 2 00:00 EST).
    Calls (wait 10, talk 60) entering at
      03:50Z = Oct 31 23:50 EDT; 05:30Z = Nov 1 01:30 EDT; 06:30Z = Nov 1 01:30 EST;
      Nov 2 04:50Z = Nov 1 23:50 EST
    """
    load("dst_new_york.queue_log")
    zone = "America/New_York"
    days = by_key(kpis(store, ("day",), metrics=("calls_offered", "logged_in_s", "handle_s"), timezone=zone),
                  "day")
    assert {d: r["calls_offered"] for d, r in days.items()} == {"2026-10-31": 1, "2026-11-01": 3}
    assert days["2026-10-31"]["logged_in_s"] == approx(3600.0)
    assert days["2026-11-01"]["logged_in_s"] == approx(25 * 3600.0)  # the long day
    assert days["2026-11-01"]["handle_s"] == approx(180.0)  # 3 calls x 60 s talk
    one_day = {"date_from": date(2026, 11, 1), "date_to": date(2026, 11, 1), "timezone": zone}
    hours = by_key(kpis(store, ("hour",), metrics=("calls_offered", "logged_in_s"), **one_day), "hour")
    assert sorted(hours) == list(range(24))
    assert hours[1]["logged_in_s"] == approx(7200.0)  # 01:00-02:00 happens twice
    assert hours[1]["calls_offered"] == 2  # 01:30 EDT and 01:30 EST
    assert hours[0]["logged_in_s"] == approx(3600.0)
    assert hours[23]["calls_offered"] == 1
    intervals = kpis(store, ("interval",), metrics=("calls_offered", "logged_in_s"), interval_minutes=30,
                     **one_day)
    assert len(intervals) == 50  # 25 hours x 2 half-hours: the repeated hour's intervals stay apart
    assert all(r["logged_in_s"] == approx(1800.0) for r in intervals)
    found = {k: v for k, v in _interval_rows(intervals, "calls_offered").items() if v}
    expected = {
        datetime(2026, 11, 1, 1, 30, tzinfo=timezone(timedelta(hours=-4))): 1,  # 01:30 EDT
        datetime(2026, 11, 1, 1, 30, tzinfo=timezone(timedelta(hours=-5))): 1,  # 01:30 EST
        _local("2026-11-01T23:30", zone): 1,
    }
    assert {k.astimezone(UTC): v for k, v in found.items()} == {k.astimezone(UTC): v for k, v in expected.items()}


def test_call_spanning_midnight(store, load) -> None:
    """midnight.queue_log, Europe/Moscow (UTC+3). Agent 1001 logged in 23:00-01:00 MSK.
    .110 enters 23:55:00 MSK (20:55Z), CONNECT 23:58:00 holdtime 180 ringtime 10,
         COMPLETEAGENT 00:08:00 next day, calltime 600.
    Queue KPIs stay on the entry day; the 600 s of talk split 120 s / 480 s across midnight.
    """
    load("midnight.queue_log")
    zone = "Europe/Moscow"
    days = by_key(kpis(store, ("day",), timezone=zone), "day")
    first, second = days["2026-03-02"], days["2026-03-03"]
    assert first["calls_offered"] == 1
    assert first["calls_answered"] == 1
    assert first["asa_s"] == approx(180.0)
    assert first["service_level"] == approx(0.0)  # 0 within 20 s / 1
    assert second["calls_offered"] == 0
    assert second["asa_s"] is None
    assert first["logged_in_s"] == approx(3600.0)  # 23:00-24:00
    assert second["logged_in_s"] == approx(3600.0)  # 00:00-01:00
    assert first["handle_s"] == approx(120.0)  # talk 23:58-24:00
    assert second["handle_s"] == approx(480.0)  # talk 00:00-00:08
    assert first["utilization"] == approx(120 / 3600)
    assert second["utilization"] == approx(480 / 3600)
    assert first["idle_s"] == approx(3480.0)  # 3600 - 120
    assert second["idle_s"] == approx(3120.0)  # 3600 - 480
    assert total(store, metrics=("handle_s",), timezone=zone)["handle_s"] == approx(600.0)


@pytest.mark.parametrize(
    ("minutes", "logged_in", "handle", "paused", "offered"),
    [
        # session 09:10-10:20, talk 09:28-09:32, pause 09:55-10:05, call entered 09:20 (all UTC)
        (15, {"09:00": 300, "09:15": 900, "09:30": 900, "09:45": 900, "10:00": 900, "10:15": 300},
         {"09:15": 120, "09:30": 120}, {"09:45": 300, "10:00": 300}, {"09:15": 1}),
        (30, {"09:00": 1200, "09:30": 1800, "10:00": 1200},
         {"09:00": 120, "09:30": 120}, {"09:30": 300, "10:00": 300}, {"09:00": 1}),
        (60, {"09:00": 3000, "10:00": 1200}, {"09:00": 240}, {"09:00": 300, "10:00": 300}, {"09:00": 1}),
    ],
)
def test_agent_time_split_across_interval_boundaries(store, load, minutes, logged_in, handle, paused,
                                                     offered) -> None:
    """interval_split.queue_log (sales, UTC), agent 1001:
    09:10 ADDMEMBER; .120 09:20 ENTERQUEUE, 09:28 CONNECT holdtime 480, 09:32 COMPLETEAGENT 480|240;
    09:55 PAUSE break; 10:05 UNPAUSE; 10:20 REMOVEMEMBER
    Agent time is split pro rata; the call's queue KPIs stay in the interval of queue entry.
    """
    load("interval_split.queue_log")
    rows = kpis(store, ("interval",), metrics=("logged_in_s", "handle_s", "paused_s", "calls_offered"),
                interval_minutes=minutes)

    def expect(values: dict[str, int]) -> dict[datetime, float]:
        return {datetime.fromisoformat(f"2026-03-02T{hm}:00+00:00"): float(v) for hm, v in values.items()}

    for metric, values in (("logged_in_s", logged_in), ("handle_s", handle), ("paused_s", paused),
                           ("calls_offered", offered)):
        found = {k: v for k, v in _interval_rows(rows, metric).items() if v}
        _same_instant(found, expect(values))
    if minutes == 60:
        hours = by_key(kpis(store, ("hour",), metrics=("logged_in_s", "handle_s")), "hour")
        assert hours[9]["logged_in_s"] == approx(3000.0)
        assert hours[10]["logged_in_s"] == approx(1200.0)
        assert hours[9]["handle_s"] == approx(240.0)


# -- first-call resolution ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window_h", "expected"),
    [
        # data ends 03-04 12:00 (last call). Eligible: answered, known number, entered <= end - window.
        # 24 h: eligible A (111, 03-02 09:00), B (222, 10:00), A2 (111, 15:00) - D has no number,
        # C was not answered. A repeats after 6 h (not resolved); B's repeat comes 48.5 h later
        # (resolved); A2 has no repeat (resolved) -> 2 / 3
        (24, 2 / 3),
        # 48 h: eligible only calls entered <= 03-02 12:00: A (repeat after 6 h) and B (repeat after
        # 48.5 h > 48) -> 1 / 2
        (48, 1 / 2),
        # 168 h: every call is younger than the window -> all pending -> undefined
        (168, None),
    ],
)
def test_first_call_resolution_window(store, load, window_h, expected) -> None:
    """fcr.queue_log (sales, UTC), every answered call waits 5 s and talks 60 s:
    A  03-02 09:00 from 74950000111 answered     B  03-02 10:00 from 74950000222 answered
    C  03-02 11:00 from 74950000333 abandoned    D  03-02 12:00 from 'anonymous' answered
    A2 03-02 15:00 from 74950000111 answered     B2 03-04 10:30 from 74950000222 answered
    E  03-04 12:00 from 74950000444 answered
    """
    load("fcr.queue_log")
    row = total(store, metrics=("fcr_rate",), fcr_window_h=window_h)
    if expected is None:
        assert row["fcr_rate"] is None
    else:
        assert row["fcr_rate"] == approx(expected)


# -- empty denominators ---------------------------------------------------------------------------


EMPTY_DENOMINATOR_METRICS = (
    "calls_offered", "calls_short_abandoned", "calls_abandoned", "answer_rate", "missed_rate", "max_wait_s",
    "utilization", "occupancy", "calls_per_hour", "idle_s", "calls_handled", "abandon_rate", "service_level",
    "asa_s", "avg_wait_s", "avg_abandon_wait_s", "att_s", "aht_s", "acw_s", "short_call_share", "long_call_share",
    "transfer_rate", "agent_answer_rate", "fcr_rate",
)


def test_empty_denominators_give_null_never_zero(store, load) -> None:
    """empty_denominators.queue_log (sales, UTC): agent 1001 logged in 09:00-10:00; one call,
    .130 09:10:00 ENTERQUEUE, 09:10:03 ABANDON waittime 3 (a short abandon). Nothing answered."""
    load("empty_denominators.queue_log")
    row = total(store, metrics=EMPTY_DENOMINATOR_METRICS)  # asked for by name: some facts have no rows
    assert row["calls_offered"] == 1
    assert row["calls_short_abandoned"] == 1
    assert row["calls_abandoned"] == 0
    assert row["answer_rate"] == approx(0.0)  # 0 / 1: a real zero
    assert row["missed_rate"] == approx(1.0)  # 1 / 1
    assert row["max_wait_s"] == approx(3.0)
    assert row["utilization"] == approx(0.0)  # 0 handle / 3600 logged in
    assert row["occupancy"] == approx(0.0)  # 0 / (0 + 3600 idle)
    assert row["calls_per_hour"] == approx(0.0)  # 0 handled / 1 h
    assert row["idle_s"] == approx(3600.0)
    assert row["calls_handled"] == 0
    for metric in (
        "abandon_rate",  # 0 / (1 offered - 1 short)
        "service_level",  # offered variant: 0 / (1 - 1)
        "asa_s",  # nothing answered
        "avg_wait_s",  # the only leg is a short abandon
        "avg_abandon_wait_s",  # no abandon >= 5 s
        "att_s", "aht_s", "acw_s", "short_call_share", "long_call_share", "transfer_rate",  # 0 handled
        "agent_answer_rate",  # no offer rang an agent
        "fcr_rate",  # nothing answered
    ):
        assert row[metric] is None, metric
    assert total(store, metrics=("service_level",), sl_variant="answered")["service_level"] is None  # 0 / 0
    positive = total(store, metrics=("service_level",), sl_variant="abandons_positive")
    assert positive["service_level"] == approx(1.0)  # (0 + 1 abandoned <= 20 s) / 1
    agents = by_key(kpis(store, ("agent",), metrics=("calls_offered", "answer_rate", "calls_per_hour")), "agent")
    assert agents["1001"]["answer_rate"] is None  # no leg offered to 1001's group
    assert agents["1001"]["calls_per_hour"] == approx(0.0)
    assert agents[None]["calls_offered"] == 1
