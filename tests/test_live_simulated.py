"""The live state against the simulator's truth: one simulated day (6 agents, 300 calls) is written
to a queue_log a slice of time at a time, the hub follows the file, and at moments through the day
(each half a second past a whole second, so that no event sits on the boundary) the states are
compared with the simulator's own records (``truth_*.csv.gz``), not with anything callkpi computed:

- waiting: the queue legs with ``enter_epoch <= t < enter_epoch + wait_s``;
- on a call: the answered legs with ``enter + wait <= t < enter + wait + talk`` (their agent);
- after-call work / paused: the pause spans (reason ACW / other) holding t; idle: logged in, none
  of those; logged out: no logged-in span holds t.

Agents on an outbound dial at t are left out: dials are not in the plain queue_log.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from callkpi.config import Settings
from callkpi.simulate import Scenario, simulate
from callkpi.storage import Store
from callkpi.web.db import Database
from callkpi.web.live import LiveHub


def _scenario() -> Scenario:
    data = Scenario().model_dump()
    data.update(days=1, seed=3, agents=6)
    data["arrivals"]["calls_per_day"] = 300
    return Scenario.model_validate(data)


def _truth(folder: Path, name: str) -> list[dict[str, str]]:
    with gzip.open(folder / f"truth_{name}.csv.gz", "rt", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _expected(folder: Path, t: float) -> tuple[set[str], dict[str, str], set[str]]:
    """(callids waiting, agent -> state, agents on an outbound call) at t from the truth files."""
    legs = _truth(folder, "queue_legs")
    waiting = {leg["call_id"] for leg in legs if float(leg["enter_epoch"]) <= t < float(leg["enter_epoch"])
               + float(leg["wait_s"] or 0)}
    states: dict[str, str] = {}
    for span in _truth(folder, "agent_states"):
        if span["state"] == "logged_in":
            states.setdefault(span["agent"], "logged_out")
            if float(span["start_epoch"]) <= t < float(span["end_epoch"]):
                states[span["agent"]] = "idle"
    for span in _truth(folder, "agent_states"):
        if span["state"] == "paused" and float(span["start_epoch"]) <= t < float(span["end_epoch"]):
            states[span["agent"]] = "after_call_work" if span["reason"] == "ACW" else "paused"
    for leg in legs:
        if leg["outcome"] == "answered" and leg["talk_s"]:
            answer = float(leg["enter_epoch"]) + float(leg["wait_s"])
            if answer <= t < answer + float(leg["talk_s"]):
                states[leg["agent"]] = "on_call"
    dialling = {call["agent"] for call in _truth(folder, "calls") if call["direction"] == "outbound"
                and float(call["start_epoch"]) <= t < float(call["end_epoch"] or call["start_epoch"])}
    return waiting, states, dialling


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("live_sim")
    simulate(_scenario(), folder)
    return folder


def test_the_live_state_follows_a_simulated_day(day: Path, tmp_path: Path) -> None:
    lines = (day / "queue_log").read_text(encoding="utf-8").splitlines(keepends=True)
    epochs = [int(line.split("|", 1)[0]) for line in lines]
    first, last = min(epochs[1:]), max(epochs)
    moments = [first + k * (last - first) / 96 for k in range(1, 96)]
    moments = [float(int(m)) + 0.5 for m in moments]
    with Store(tmp_path / "s.duckdb") as store:
        store.ensure_schema()
        store.set_meta("timezone", "Europe/Moscow")
    log = tmp_path / "queue_log"
    log.write_text("", encoding="utf-8")
    db = Database(tmp_path / "s.duckdb", Settings())
    clock = {"now": float(first)}
    hub = LiveHub(db, [log], clock=lambda: clock["now"])
    written = 0
    compared_agents = compared_waiting = 0
    seen: set[str] = set()
    try:
        for t in moments:
            with log.open("a", encoding="utf-8") as handle:  # everything the PBX wrote by t
                while written < len(lines) and epochs[written] <= t:
                    handle.write(lines[written])
                    written += 1
            clock["now"] = t
            hub.poll_once()
            snap = hub.snapshot()
            waiting, states, dialling = _expected(day, t)
            assert {w.callid for w in snap.waiting} == waiting, t
            shown = {a.agent: a.state for a in snap.agents}
            for agent, state in states.items():
                if agent in dialling or (agent not in shown and state == "logged_out"):
                    continue
                assert shown.get(agent) == state, (t, agent)
                compared_agents += 1
                seen.add(state)
            compared_waiting += len(waiting)
    finally:
        hub.stop()
        db.close()
    assert compared_agents > 200 and compared_waiting > 10  # the moments did see a working centre
    assert {"on_call", "idle", "after_call_work", "logged_out"} <= seen
