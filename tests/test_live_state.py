"""The live state (who is doing what now, who waits now) folded from queue_log lines written over time.

One hand-written morning of queue ``sales`` from 2 March 2026 09:00 UTC (T), appended to a file a
few lines at a time; at chosen moments the states are compared with what the lines say (worked out
by hand in the comments):

  T+0   1001 and 1002 join sales (ADDMEMBER)      T+5   1002 pauses: lunch
  T+10  call c1 (74950000001) enters              T+15  call c2 (74950000002) enters
  T+25  1001 answers c1 after 15 s                T+40  c2 hangs up after 25 s
  T+60  1002 back from lunch                      T+100 c1 ends (caller hung up)
  T+101 1001 pauses for ACW                       T+130 1001 back
  T+140 1003 (a static member: never logs in) answers c4 after 5 s; T+170 c4 ends
  T+200 call c5 enters                            T+210 Asterisk restarts (QUEUESTART)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from callkpi.analyses.live_service_level import WindowServiceLevel
from callkpi.analyses.live_state import LiveState, agent_id, fold, parse_line, snapshot, visible, window_legs
from callkpi.config import MetricParams, Settings
from callkpi.storage import Store
from callkpi.web.db import Database
from callkpi.web.live import LiveHub
from conftest import ql_line

T = 1772442000  # 2026-03-02 09:00:00 UTC
LINES: list[tuple[int, str]] = [
    (0, ql_line(T, "NONE", "sales", "SIP/1001", "ADDMEMBER", "")),
    (0, ql_line(T, "NONE", "sales", "PJSIP/1002-0000a1b2", "ADDMEMBER", "")),
    (5, ql_line(T + 5, "NONE", "sales", "SIP/1002", "PAUSE", "lunch")),
    (10, ql_line(T + 10, "c1", "sales", "NONE", "ENTERQUEUE", "", "74950000001", 1)),
    (15, ql_line(T + 15, "c2", "sales", "NONE", "ENTERQUEUE", "", "74950000002", 2)),
    (25, ql_line(T + 25, "c1", "sales", "SIP/1001", "CONNECT", 15, "c1.1", 3)),
    (40, ql_line(T + 40, "c2", "sales", "NONE", "ABANDON", 2, 1, 25)),
    (60, ql_line(T + 60, "NONE", "sales", "SIP/1002", "UNPAUSE", "")),
    (100, ql_line(T + 100, "c1", "sales", "SIP/1001", "COMPLETECALLER", 15, 75, 1)),
    (101, ql_line(T + 101, "NONE", "sales", "SIP/1001", "PAUSE", "ACW")),
    (130, ql_line(T + 130, "NONE", "sales", "SIP/1001", "UNPAUSE", "")),
    (135, ql_line(T + 135, "c4", "sales", "NONE", "ENTERQUEUE", "", "74950000004", 1)),
    (140, ql_line(T + 140, "c4", "sales", "SIP/1003", "CONNECT", 5, "c4.1", 2)),
    (170, ql_line(T + 170, "c4", "sales", "SIP/1003", "COMPLETEAGENT", 5, 30, 1)),
    (200, ql_line(T + 200, "c5", "sales", "NONE", "ENTERQUEUE", "", "74950000005", 1)),
    (210, ql_line(T + 210, "NONE", "NONE", "NONE", "QUEUESTART", "")),
]


def _state_until(offset: int) -> LiveState:
    settings = Settings()
    state = LiveState.for_settings(settings, MetricParams().acw_pause_reasons)
    events = [parse_line(line, settings) for at, line in LINES if at <= offset]
    return fold(state, [e for e in events if e is not None])


def _agents(state: LiveState, now: float) -> dict[str, tuple[str, float | None, str | None]]:
    return {a.agent: (a.state, a.since, a.reason) for a in snapshot(state, now).agents}


def test_at_t30_one_agent_talks_one_is_at_lunch_one_call_waits() -> None:
    snap = snapshot(_state_until(30), T + 30)
    agents = {a.agent: a for a in snap.agents}
    assert (agents["1001"].state, agents["1001"].since, agents["1001"].seconds) == ("on_call", T + 25, 5)
    assert (agents["1001"].callid, agents["1001"].party, agents["1001"].queue) == ("c1", "74950000001", "sales")
    assert (agents["1002"].state, agents["1002"].since, agents["1002"].reason) == ("paused", T + 5, "lunch")
    assert [(w.callid, w.caller, w.wait_s) for w in snap.waiting] == [("c2", "74950000002", 15)]
    (sales,) = snap.queues
    assert (sales.queue, sales.waiting, sales.longest_wait_s, sales.available, sales.busy, sales.paused) == (
        "sales", 1, 15, 0, 1, 1)


def test_at_t110_acw_then_idle() -> None:
    state = _state_until(110)
    assert _agents(state, T + 110) == {
        "1001": ("after_call_work", T + 101, "ACW"),
        "1002": ("idle", T + 60, None),
    }
    assert snapshot(state, T + 110).waiting == ()
    (sales,) = snapshot(state, T + 110).queues
    assert (sales.waiting, sales.longest_wait_s, sales.available, sales.busy, sales.paused) == (0, None, 1, 1, 0)


def test_a_static_member_is_idle_after_its_call() -> None:
    state = _state_until(150)
    assert _agents(state, T + 150)["1003"] == ("on_call", T + 140, None)
    assert _agents(state, T + 150)["1001"] == ("idle", T + 130, None)
    assert _agents(_state_until(180), T + 180)["1003"] == ("idle", T + 170, None)


def test_a_pbx_restart_ends_the_waiting_call_and_every_session() -> None:
    state = _state_until(220)
    agents = _agents(state, T + 220)
    assert agents["1001"] == agents["1002"] == ("logged_out", T + 210, None)
    assert agents["1003"] == ("idle", T + 170, None)  # a static member stays in the queue
    assert snapshot(state, T + 220).waiting == ()
    assert state.restarted_at == T + 210
    assert [(leg.callid, leg.outcome, leg.wait_s) for leg in state.closed] == [
        ("c1", "answered", 15), ("c2", "abandoned", 25), ("c4", "answered", 5), ("c5", "unknown", None)]


def test_window_service_level_comes_from_the_engine() -> None:
    state = _state_until(220)
    # legs ended by T+220: c1 answered 15 s, c2 abandoned 25 s, c4 answered 5 s, c5 unknown:
    # offered 4, short abandons (< 5 s) none, answered within 20 s 2 -> 2/4
    figures = WindowServiceLevel().compute(window_legs(state, T + 220), MetricParams())
    assert figures["sales"][15]["service_level"] == pytest.approx(0.5)
    assert figures[""][60]["calls_offered"] == 4
    # 16 minutes later only... nothing ended in the last 15 minutes; c2.. still within 30
    later = WindowServiceLevel().compute(window_legs(state, T + 220 + 16 * 60), MetricParams())
    assert 15 not in later["sales"] and later["sales"][30]["calls_answered"] == 2


def test_visible_keeps_a_supervisors_queues_and_an_agents_own_tile() -> None:
    snap = snapshot(_state_until(30), T + 30)
    assert visible(snap, queues=["support"]).queues == () and visible(snap, queues=["support"]).agents == ()
    own = visible(snap, queues=["sales"], agents=["1001"])
    assert [a.agent for a in own.agents] == ["1001"] and [q.queue for q in own.queues] == ["sales"]


def test_agent_ids_are_made_as_at_ingest(tmp_path: Path) -> None:
    """The Python twin of the ingest's SQL channel normalisation gives the same ids."""
    from callkpi.ingest.queue_log_model import agent_expression

    settings = Settings.model_validate({"agents": {"aliases": {"Agent/7": "7007"}}})
    raws = ["SIP/1001", "PJSIP/1002-0000a1b2", "Local/1003@from-queue/n", "IAX2/1004-1234;2", "Agent/7",
            "1005", "NONE", "Bob Smith"]
    with Store(tmp_path / "s.duckdb") as store:
        sql = agent_expression("r", settings)
        got = [store.connection.execute(f"SELECT {sql} FROM (SELECT ? AS r)", [r]).fetchone()[0] for r in raws]  # noqa: S608
    aliases = settings.agents.aliases  # the ingest applies an alias to the raw name or to the id
    expected = [aliases.get(r, aliases.get(g, g)) if g else None for r, g in zip(raws, got, strict=True)]
    assert [agent_id(r, settings) for r in raws] == expected


# -- the hub follows a file as it is written ---------------------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_hub_follows_the_lines_as_they_are_written_and_rebuilds_after_a_restart(tmp_path: Path) -> None:
    from callkpi.ingest.formats import load_file

    log = tmp_path / "queue_log"
    log.write_text("", encoding="utf-8")
    settings = Settings()
    with Store(tmp_path / "s.duckdb") as store:
        store.ensure_schema()
        store.set_meta("timezone", "UTC")
    db = Database(tmp_path / "s.duckdb", settings)
    clock = Clock(T)
    hub = LiveHub(db, [log], clock=clock)
    try:
        written = 0
        for moment in (30, 110, 220):
            with log.open("a", encoding="utf-8") as handle:
                for at, line in LINES:
                    if written < at <= moment or (at == 0 and written == 0):
                        handle.write(line + "\n")
            written = moment
            clock.now = T + moment
            hub.poll_once()
            expected = _agents(_state_until(moment), T + moment)
            assert {a.agent: (a.state, a.since, a.reason) for a in hub.snapshot().agents} == expected, moment
        version = hub.version
        with log.open("a", encoding="utf-8") as handle:
            handle.write(ql_line(T + 230, "NONE", "sales", "SIP/1001", "ADDMEMBER", ""))  # no newline yet
        hub.poll_once()
        assert hub.version == version  # a line still being written waits
        with log.open("a", encoding="utf-8") as handle:
            handle.write("\n")
        hub.poll_once()
        assert {a.agent: a.state for a in hub.snapshot().agents}["1001"] == "idle"
        # half the file goes into the store; a new hub (a restart of callkpi) gets the rest from the file
        load_file(db.store(), log, settings, fmt="asterisk-queue-log", timezone="UTC")
        with log.open("a", encoding="utf-8") as handle:
            handle.write(ql_line(T + 240, "c6", "sales", "NONE", "ENTERQUEUE", "", "74950000006", 1) + "\n")
        again = LiveHub(db, [log], clock=Clock(T + 250))
        try:
            assert [(w.callid, w.wait_s) for w in again.snapshot().waiting] == [("c6", 10)]
            assert {a.agent: (a.state, a.since) for a in again.snapshot().agents} == {
                "1001": ("idle", T + 230), "1002": ("logged_out", T + 210), "1003": ("idle", T + 170)}
        finally:
            again.stop()
    finally:
        hub.stop()
        db.close()


def test_the_hub_thread_stops_without_viewers_and_catches_up_when_asked_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from callkpi.web import live as live_module

    monkeypatch.setattr(live_module, "IDLE_STOP_S", 0.3)
    log = tmp_path / "queue_log"
    log.write_text(LINES[0][1] + "\n", encoding="utf-8")
    with Store(tmp_path / "s.duckdb") as store:
        store.ensure_schema()
    db = Database(tmp_path / "s.duckdb", Settings())
    hub = LiveHub(db, [log], poll_s=0.05, clock=Clock(T + 1))
    try:
        hub.start()
        time.sleep(1.0)
        assert hub._thread is not None and not hub._thread.is_alive()
        with log.open("a", encoding="utf-8") as handle:
            handle.write(LINES[5][1] + "\n")  # 1001 answers c1 (no ENTERQUEUE seen: still on the call)
        hub.start()
        assert hub._thread.is_alive()
        deadline = time.monotonic() + 5
        while {a.agent: a.state for a in hub.snapshot().agents}.get("1001") != "on_call":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        hub.stop()
        db.close()
