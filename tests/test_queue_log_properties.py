"""Property: for random valid queue_logs, every count and sum grouped by agent, queue, day, hour or
interval adds up to the ungrouped total (the group of legs without an agent included), and every
rate lies in [0, 1].

A valid log here is what Asterisk writes for agents who take one call at a time while logged in:
per agent a session (ADDMEMBER/REMOVEMEMBER, or AGENTLOGIN/AGENTLOGOFF, or left open to the end of
the log) holding calls (CONNECT + COMPLETE*/TRANSFER, some after an overflow from another queue),
ACW pauses and other pauses (reason changes, PAUSEALL); and calls no one answered (ABANDON,
EXITWITH*, or no end at all) with rings nobody picked up.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.storage import Store
from conftest import kpi_result, ql_line, write_log

COUNTS = (
    "calls_offered", "calls_answered", "calls_abandoned", "calls_short_abandoned", "calls_flowed_out",
    "ring_no_answer", "calls_handled", "transfers",
)
SUMS = ("logged_in_s", "paused_s", "handle_s")
RATES = (
    "answer_rate", "abandon_rate", "service_level", "agent_answer_rate", "missed_rate", "short_call_share",
    "long_call_share", "transfer_rate", "utilization", "occupancy", "fcr_rate",
)
DIMENSIONS = ("agent", "queue", "day", "hour", "interval")

BASE = 1774735200  # 2026-03-28 22:00 UTC: the Berlin spring-forward night is inside the range
SPAN = 3 * 86400
QUEUES = ("sales", "support", "vip")
CHANNELS = {
    "1001": ("SIP/1001", "Local/1001@from-queue/n", "SIP/1001-0000abcd"),
    "1002": ("PJSIP/1002", "Local/1002@from-queue/n"),
    "1003": ("Agent/1003", "SIP/1003-00000011"),
}


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[int, int, str]] = []
        self.calls = 0

    def add(self, epoch: int, callid: str, queue: str, agent: str, event: str, *data: object) -> None:
        self.lines.append((epoch, len(self.lines), ql_line(epoch, callid, queue, agent, event, *data)))

    def callid(self, epoch: int) -> str:
        self.calls += 1
        return f"{epoch}.{self.calls}"

    def text(self) -> str:
        return "\n".join(line for _, _, line in sorted(self.lines)) + "\n"


@st.composite
def _answered_call(draw, log: Log, start: int, agent: str, channel) -> int:
    """A call answered by `agent` at `start`; returns when the agent is free again."""
    wait = draw(st.integers(0, 90))
    ring = draw(st.integers(0, min(wait, 15)))
    talk = draw(st.integers(0, 1500))
    queue = draw(st.sampled_from(QUEUES))
    enter = start - wait
    callid = log.callid(enter)
    caller = draw(st.sampled_from(["74950000001", "74950000002", "74950000003", "anonymous"]))
    if draw(st.booleans()):  # overflow: first a stay in another queue that timed out
        first_wait = draw(st.integers(1, 60))
        other = draw(st.sampled_from([q for q in QUEUES if q != queue]))
        log.add(enter - first_wait, callid, other, "NONE", "ENTERQUEUE", "", caller, 1)
        log.add(enter, callid, other, "NONE", "EXITWITHTIMEOUT", 1, 1, first_wait)
    log.add(enter, callid, queue, "NONE", "ENTERQUEUE", "", caller, 1)
    if wait >= 2 and draw(st.booleans()):
        someone = draw(st.sampled_from([c for cs in CHANNELS.values() for c in cs]))
        log.add(start - ring, callid, queue, someone, "RINGNOANSWER", 1000 * draw(st.integers(1, wait - ring or 1)))
    log.add(start, callid, queue, channel(), "CONNECT", wait, f"{start}.9", ring)
    end = draw(st.sampled_from(["COMPLETEAGENT", "COMPLETECALLER", "BLINDTRANSFER", "ATTENDEDTRANSFER"]))
    if end.startswith("COMPLETE"):
        log.add(start + talk, callid, queue, channel(), end, wait, talk, 1)
    elif end == "BLINDTRANSFER":
        log.add(start + talk, callid, queue, channel(), end, "200", "from-internal", wait, talk, 1)
    else:
        log.add(start + talk, callid, queue, channel(), end, "BRIDGE", f"{start}.8", wait, talk, 1)
    free = start + talk
    if draw(st.booleans()):  # after-call work
        acw = draw(st.integers(1, 300))
        reason = draw(st.sampled_from(["ACW", "wrapup"]))
        log.add(free, "NONE", queue, channel(), "PAUSE", reason)
        log.add(free + acw, "NONE", queue, channel(), "UNPAUSE")
        free += acw
    return free


@st.composite
def _pause(draw, log: Log, start: int, queues: list[str], channel) -> int:
    reason = draw(st.sampled_from(["lunch", "break", "training", "ACW"]))
    length = draw(st.integers(1, 3600))
    if draw(st.booleans()):  # PAUSEALL and one PAUSE per queue
        log.add(start, "NONE", "NONE", channel(), "PAUSEALL", reason)
        for queue in queues:
            log.add(start, "NONE", queue, channel(), "PAUSE", reason)
    else:
        log.add(start, "NONE", queues[0], channel(), "PAUSE", reason)
    if draw(st.booleans()):  # the reason changes without an UNPAUSE
        other = draw(st.sampled_from(["lunch", "break", "training"]))
        log.add(start + length // 2, "NONE", queues[0], channel(), "PAUSE", other)
    log.add(start + length, "NONE", queues[0], channel(), "UNPAUSE")
    return start + length


@st.composite
def queue_logs(draw) -> str:
    log = Log()
    agents = draw(st.lists(st.sampled_from(sorted(CHANNELS)), min_size=1, max_size=3, unique=True))
    for agent in agents:
        def channel(agent: str = agent) -> str:
            return draw(st.sampled_from(CHANNELS[agent]))

        t = BASE + draw(st.integers(0, SPAN // 2))
        queues = draw(st.lists(st.sampled_from(QUEUES), min_size=1, max_size=2, unique=True))
        agent_login = draw(st.booleans())
        if agent_login:
            log.add(t, "NONE", "NONE", f"Agent/{agent}", "AGENTLOGIN", f"SIP/{agent}")
        else:
            for queue in queues:
                log.add(t, "MANAGER", queue, channel(), "ADDMEMBER")
        login = t
        for _ in range(draw(st.integers(0, 4))):
            t += draw(st.integers(0, 4 * 3600))
            if draw(st.integers(0, 2)):
                t = draw(_answered_call(log, t, agent, channel))
            else:
                t = draw(_pause(log, t, queues, channel))
        t += draw(st.integers(1, 3600))
        if draw(st.integers(0, 3)):  # else the session stays open to the end of the log
            if agent_login:
                log.add(t, "NONE", "NONE", f"Agent/{agent}", "AGENTLOGOFF", f"SIP/{agent}", t - login)
            else:
                for queue in queues:
                    log.add(t, "MANAGER", queue, channel(), "REMOVEMEMBER")
    for _ in range(draw(st.integers(0, 6))):  # calls no one answered
        enter = BASE + draw(st.integers(0, SPAN))
        queue = draw(st.sampled_from(QUEUES))
        callid = log.callid(enter)
        wait = draw(st.integers(0, 300))
        log.add(enter, callid, queue, "NONE", "ENTERQUEUE", "", draw(st.sampled_from(["74950000001", ""])), 1)
        if wait >= 2 and draw(st.booleans()):
            someone = draw(st.sampled_from([c for cs in CHANNELS.values() for c in cs]))
            log.add(enter + wait // 2, callid, queue, someone, "RINGNOANSWER", 1000 * (wait // 2))
        end = draw(st.sampled_from(["ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY", None]))
        if end == "EXITWITHKEY":
            log.add(enter + wait, callid, queue, "NONE", end, "5", 1, 1, wait)
        elif end is not None:
            log.add(enter + wait, callid, queue, "NONE", end, 1, 1, wait)
    return log.text()


def _check(store: Store, timezone: str, interval_minutes: int) -> None:
    metrics = (*COUNTS, *SUMS, *RATES)
    whole = kpi_result(store, metrics=metrics, timezone=timezone, interval_minutes=interval_minutes)
    assert len(whole.rows) == 1
    expected = whole.rows[0]
    for dimension in DIMENSIONS:
        result = kpi_result(store, (dimension,), metrics=metrics, timezone=timezone,
                            interval_minutes=interval_minutes)
        for metric in (*COUNTS, *SUMS):
            values = [row[metric] for row in result.rows]
            if expected[metric] is None:  # not recorded for the whole store: not recorded in any group either
                assert all(v is None for v in values), (dimension, metric)
                continue
            if all(v is None for v in values) and any(n.startswith(f"{metric}:") for n in result.notes):
                continue  # e.g. logged_in_s by queue: agent time has no queue, said in a note
            got = sum(v for v in values if v is not None)
            assert got == pytest.approx(expected[metric], rel=1e-9, abs=1e-6), (dimension, metric)
        for row in [*result.rows, expected]:
            for metric in RATES:
                value = row[metric]
                assert value is None or -1e-12 <= value <= 1 + 1e-9, (dimension, metric, row)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    text=queue_logs(),
    timezone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
    interval_minutes=st.sampled_from([15, 30, 60]),
)
def test_grouped_totals_equal_the_total(text: str, timezone: str, interval_minutes: int) -> None:
    with tempfile.TemporaryDirectory() as folder, Store(":memory:") as store:
        report = load_file(store, write_log(Path(folder), text), Settings(), timezone=timezone)
        assert report.quarantined == 0, report.issues
        _check(store, timezone, interval_minutes)
