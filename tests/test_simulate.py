"""`callkpi simulate`: reproducible, internally consistent, and right where theory is exact."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from callkpi.simulate import Scenario, simulate
from callkpi.simulate.engine import count_earlier_greater, queue_positions

CLOSING_EVENTS = {"ABANDON", "EXITWITHTIMEOUT", "COMPLETEAGENT", "COMPLETECALLER", "BLINDTRANSFER",
                  "ATTENDEDTRANSFER"}
TALK_ENDS = {"COMPLETEAGENT", "COMPLETECALLER", "BLINDTRANSFER", "ATTENDEDTRANSFER"}


def small(days: int = 2, seed: int = 3, **changes: object) -> Scenario:
    data = Scenario().model_dump()
    data.update(days=days, seed=seed, agents=12)
    data["arrivals"]["calls_per_day"] = 400
    for key, value in changes.items():
        data[key] = value
    return Scenario.model_validate(data)


def read_queue_log(folder: Path) -> list[list[str]]:
    return [line.split("|") for line in (folder / "queue_log").read_text(encoding="utf-8").splitlines()]


def read_truth(folder: Path, name: str) -> list[dict[str, str]]:
    with gzip.open(folder / name, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_csv(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two weeks of the default centre: past the training day, with hires and leavers."""
    folder = tmp_path_factory.mktemp("sim")
    simulate(Scenario().with_overrides(days=15, seed=11), folder)
    return folder


@pytest.fixture(scope="module")
def lines(run: Path) -> list[list[str]]:
    return read_queue_log(run)


@pytest.fixture(scope="module")
def legs(run: Path) -> list[dict[str, str]]:
    return read_truth(run, "truth_queue_legs.csv.gz")


# ---- scenario ---------------------------------------------------------------------------------
def test_default_scenario_file_spells_out_the_model_defaults() -> None:
    assert Scenario.load() == Scenario()


def test_overrides_scale_agents_with_volume_unless_given() -> None:
    base = Scenario()
    assert base.with_overrides(calls_per_day=2000).agents == 60
    assert base.with_overrides(calls_per_day=2000, agents=45).agents == 45
    moved = base.with_overrides(start=date(2026, 10, 20), timezone="Europe/Berlin", days=5)
    assert (moved.start, moved.timezone, moved.days) == (date(2026, 10, 20), "Europe/Berlin", 5)


def test_bad_scenarios_are_refused() -> None:
    data = Scenario().model_dump()
    data["queues"][1]["overflow_to"] = "sales"  # sales -> support -> sales
    with pytest.raises(ValueError, match="overflow loop"):
        Scenario.model_validate(data)
    with pytest.raises(ValueError, match="time zone"):
        Scenario().with_overrides(timezone="Mars/Olympus")


# ---- reproducibility --------------------------------------------------------------------------
def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        simulate(small(seed=seed), tmp_path / name)
    for file in ("queue_log", "Master.csv", "deals.csv", "truth_calls.csv.gz", "truth_summary.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file
    assert (tmp_path / "a" / "queue_log").read_bytes() != (tmp_path / "c" / "queue_log").read_bytes()
    assert (tmp_path / "a" / "Master.csv").read_bytes() != (tmp_path / "c" / "Master.csv").read_bytes()


# ---- queue_log against the ground truth -------------------------------------------------------
def test_lines_are_in_time_order_and_shaped_like_asterisk(lines: list[list[str]]) -> None:
    epochs = [int(fields[0]) for fields in lines]
    assert epochs == sorted(epochs)
    assert lines[0] == [lines[0][0], "NONE", "NONE", "NONE", "QUEUESTART", ""]
    arity = {"ENTERQUEUE": 8, "CONNECT": 8, "COMPLETEAGENT": 8, "COMPLETECALLER": 8, "ABANDON": 8,
             "EXITWITHTIMEOUT": 8, "BLINDTRANSFER": 10, "ATTENDEDTRANSFER": 10, "RINGNOANSWER": 6,
             "RINGCANCELED": 6, "PAUSE": 6, "UNPAUSE": 6, "ADDMEMBER": 6, "REMOVEMEMBER": 6}
    seen = Counter(fields[4] for fields in lines[1:])
    assert set(seen) <= set(arity), set(seen) - set(arity)
    assert {"RINGNOANSWER", "BLINDTRANSFER", "ATTENDEDTRANSFER", "EXITWITHTIMEOUT", "ABANDON"} <= set(seen)
    for fields in lines[1:]:
        assert len(fields) == arity[fields[4]], fields
        if fields[4] in ("ENTERQUEUE", "ABANDON", "EXITWITHTIMEOUT"):
            assert fields[3] == "NONE"
        else:
            assert fields[3].startswith("Local/1") and fields[3].endswith("@from-queue/n"), fields
    reasons = Counter(fields[5] for fields in lines if fields[4] == "PAUSE")
    assert {"ACW", "Lunch", "Training"} <= set(reasons)


def test_every_enterqueue_is_a_truth_leg_and_outcomes_match(lines: list[list[str]],
                                                           legs: list[dict[str, str]]) -> None:
    entered = Counter((f[1], f[2], f[0]) for f in lines if f[4] == "ENTERQUEUE")
    truth = Counter((leg["call_id"], leg["queue"], leg["enter_epoch"]) for leg in legs)
    assert entered == truth
    events = Counter(f[4] for f in lines)
    outcomes = Counter(leg["outcome"] for leg in legs)
    assert events["CONNECT"] == outcomes["answered"]
    assert events["ABANDON"] == outcomes["abandoned"]
    assert events["EXITWITHTIMEOUT"] == outcomes["flowed_out"]
    assert events["RINGNOANSWER"] == sum(int(leg["ring_no_answer_count"]) for leg in legs)
    assert outcomes["answered"] > 0.7 * len(legs)
    assert sum(1 for leg in legs if leg["leg_no"] == "1") > 0  # overflow happened


def test_waits_and_talk_times_equal_the_truth(lines: list[list[str]], legs: list[dict[str, str]]) -> None:
    truth = {(leg["call_id"], leg["queue"]): leg for leg in legs}
    for f in lines:
        if f[4] == "CONNECT":
            leg = truth[(f[1], f[2])]
            assert (leg["outcome"], f[5]) == ("answered", leg["wait_s"])
            assert f[3] == f"Local/{leg['agent']}@from-queue/n"
        elif f[4] in ("ABANDON", "EXITWITHTIMEOUT"):
            assert f[7] == truth[(f[1], f[2])]["wait_s"]
        elif f[4] in ("COMPLETEAGENT", "COMPLETECALLER"):
            leg = truth[(f[1], f[2])]
            assert (f[5], f[6], leg["transferred"]) == (leg["wait_s"], leg["talk_s"], "0")
        elif f[4] in ("BLINDTRANSFER", "ATTENDEDTRANSFER"):
            leg = truth[(f[1], f[2])]
            assert (f[7], f[8], leg["transferred"]) == (leg["wait_s"], leg["talk_s"], "1")


def test_every_call_leg_closes_and_overflow_keeps_the_callid(lines: list[list[str]]) -> None:
    per_call: dict[str, list[str]] = defaultdict(list)
    for f in lines:
        if f[1] != "NONE":
            per_call[f[1]].append(f"{f[4]}:{f[2]}")
    for callid, events in per_call.items():
        opened = [e for e in events if e.startswith("ENTERQUEUE")]
        closed = [e for e in events if e.split(":")[0] in CLOSING_EVENTS]
        assert len(opened) == len(closed), (callid, events)
        assert events[-1].split(":")[0] in CLOSING_EVENTS, (callid, events)
        if len(opened) == 2:
            assert events[events.index(opened[1]) - 1] == "EXITWITHTIMEOUT:sales", (callid, events)


def test_an_agent_never_has_two_calls_or_rings_during_a_call(lines: list[list[str]]) -> None:
    busy: dict[str, list[tuple[int, int]]] = defaultdict(list)
    connected: dict[tuple[str, str], int] = {}
    rings: dict[str, list[int]] = defaultdict(list)
    for f in lines:
        if f[4] == "CONNECT":
            connected[(f[1], f[3])] = int(f[0])
        elif f[4] in TALK_ENDS:
            busy[f[3]].append((connected.pop((f[1], f[3])), int(f[0])))
        elif f[4] == "RINGNOANSWER":
            rings[f[3]].append(int(f[0]) - int(f[5]) // 1000)
    assert not connected
    for agent, spans in busy.items():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end, agent
        starts = np.array([s for s, _ in spans])
        ends = np.array([e for _, e in spans])
        for ring in rings[agent]:
            inside = np.searchsorted(starts, ring, side="right") - 1
            assert inside < 0 or ring >= ends[inside], (agent, ring)


def test_members_and_pauses_open_and_close(lines: list[list[str]]) -> None:
    state: dict[tuple[str, str], str] = {}
    for f in lines:
        key = (f[2], f[3])
        if f[4] == "ADDMEMBER":
            assert state.get(key, "out") == "out", f
            state[key] = "in"
        elif f[4] == "REMOVEMEMBER":
            assert state.get(key) == "in", f
            state[key] = "out"
        elif f[4] == "PAUSE":
            assert state.get(key) == "in", f
            state[key] = f"paused:{f[5]}"
        elif f[4] == "UNPAUSE":
            assert state.get(key) == f"paused:{f[5]}", f
            state[key] = "in"
        elif f[4] in ("CONNECT", "RINGNOANSWER"):
            assert state.get(key) == "in", f  # rung only while logged in and not paused
    assert set(state.values()) == {"out"}


# ---- Master.csv -------------------------------------------------------------------------------
def test_cdr_is_cdr_csv_and_joins_the_queue_log(run: Path, lines: list[list[str]]) -> None:
    raw = (run / "Master.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(raw)))
    assert {len(row) for row in rows} == {21}
    first = raw.splitlines()[0]
    assert first.startswith('"","') and first.split(",")[-1].isdigit()  # sequence is not quoted
    assert ',,"' in raw  # an empty answer time is not quoted either
    callids = {f[1] for f in lines if f[4] == "ENTERQUEUE"}
    inbound = [row for row in rows if row[19] in callids]
    assert {row[19] for row in inbound} == callids
    assert {row[3] for row in inbound} == {"ext-queues", "from-queue", "from-internal-xfer"}
    outbound = [row for row in rows if row[3] == "from-internal"]
    assert outbound and {row[14] for row in outbound} == {"ANSWERED", "NO ANSWER", "BUSY"}
    for row in rows:
        duration, billsec = int(row[12]), int(row[13])
        assert 0 <= billsec <= duration
        assert (row[10] == "") == (billsec == 0 and row[14] != "ANSWERED")
    local_two = {row[16] for row in inbound if row[3] == "from-queue"}
    assert {f[6] for f in lines if f[4] == "CONNECT"} == {f"{u.split('.')[0]}.{int(u.split('.')[1]) - 1}"
                                                         for u in local_two}
    rung = sum(1 for f in lines if f[4] in ("CONNECT", "RINGNOANSWER", "RINGCANCELED"))
    assert rung == sum(1 for row in inbound if row[3] == "ext-queues" and row[6].endswith(";1"))


def test_callers_appear_in_several_number_shapes(lines: list[list[str]]) -> None:
    shapes = Counter(f[6][:2] if f[6].startswith("+") else f[6][0] for f in lines if f[4] == "ENTERQUEUE")
    assert set(shapes) == {"+7", "8", "7"}


# ---- ground truth and business files ----------------------------------------------------------
def test_truth_calls_cover_calls_callbacks_and_repeats(run: Path, legs: list[dict[str, str]]) -> None:
    calls = read_truth(run, "truth_calls.csv.gz")
    inbound = [c for c in calls if c["direction"] == "inbound"]
    assert {c["call_id"] for c in inbound} == {leg["call_id"] for leg in legs}
    missed = {c["call_id"]: int(c["end_epoch"]) for c in inbound if c["answered"] == "0"}
    callbacks = [c for c in calls if c["callback_of"]]
    assert callbacks and all(c["callback_of"] in missed for c in callbacks)
    delays = [int(c["start_epoch"]) - missed[c["callback_of"]] for c in callbacks]
    assert min(delays) > 0 and any(d < 86400 for d in delays) and any(d > 86400 for d in delays)
    repeat_callers = Counter(c["caller"] for c in inbound)
    assert sum(1 for n in repeat_callers.values() if n > 1) > 0.05 * len(repeat_callers)
    states = read_truth(run, "truth_agent_states.csv.gz")
    assert {s["reason"] for s in states if s["state"] == "paused"} == {"ACW", "Lunch", "Training"}


def test_business_files(run: Path) -> None:
    calls = {c["call_id"] for c in read_truth(run, "truth_calls.csv.gz")}
    deals = read_csv(run, "deals.csv")
    assert {d["status"] for d in deals} == {"won", "lost", "open"}
    assert all(d["call_id"] in calls for d in deals if d["call_id"])
    assert any(not d["call_id"] for d in deals) and any(d["campaign"] for d in deals)
    assert all(d["currency"] == "RUB" and int(d["amount"]) > 0 for d in deals)
    surveys = read_csv(run, "surveys.csv")
    for survey in surveys:
        low, high = (1, 5) if survey["survey_type"] == "csat" else (0, 10)
        assert low <= int(survey["score"]) <= high
    reviews = read_csv(run, "qa_reviews.csv")
    assert {r["score"] for r in reviews} == {"0", "0.5", "1", "NA"}
    assert {"qualification", "objection", "transactional", "reactivation"} <= {r["call_type"] for r in reviews}
    staff = read_csv(run, "staff.csv")
    assert sum(1 for s in staff if s["left"]) == 2 and sum(1 for s in staff if s["hired"] >= "2026-03-02") == 2
    training = read_csv(run, "training.csv")
    assert training and {t["programme"] for t in training} == {"Objection handling"}
    summary = json.loads((run / "truth_summary.json").read_text(encoding="utf-8"))
    assert summary["training_effect"]["true_uplift"] == 0.04
    assert sorted(summary["training_effect"]["trained_agents"]) == sorted(t["agent"] for t in training)
    costs = {c["cost_type"] for c in read_csv(run, "costs.csv")}
    assert costs == {"agent_hourly", "telecom_per_minute", "fixed_monthly"}
    assert len(read_csv(run, "schedules.csv")) > 10 * 15


# ---- theory -----------------------------------------------------------------------------------
def test_stationary_centre_meets_erlang_c(tmp_path: Path) -> None:
    """Erlang C vector V1 of docs/sources.md#published-erlang-test-vectors: pyworkforce tests/test_erlang.py
    (rodrigo-arenas/pyworkforce), the widely cited callcentrehelper.com example. 100 calls per
    30 minutes, AHT 180 s, 14 agents, T = 20 s -> published service level 0.888 and P(wait)
    0.174; ASA 7.8 s by the same formula. 24 simulated days (115k calls): the seed-to-seed
    standard deviation of the service level is about 0.005."""
    scenario = Scenario.stationary(calls_per_hour=200, aht_s=180, agents=14, days=24, seed=5)
    simulate(scenario, tmp_path)
    waits = np.array([int(leg["wait_s"]) for leg in read_truth(tmp_path, "truth_queue_legs.csv.gz")])
    assert len(waits) > 100_000
    assert abs(float(np.mean(waits <= 20)) - 0.888) < 0.02
    assert abs(float(np.mean(waits > 0)) - 0.174) < 0.02
    assert abs(float(waits.mean()) - 7.84) < 2.0


def test_queue_positions_match_brute_force() -> None:
    rng = np.random.default_rng(0)
    values = rng.integers(0, 50, 300)
    brute = [sum(values[j] > values[i] for j in range(i)) for i in range(len(values))]
    assert count_earlier_greater(values).tolist() == brute
    enter = np.sort(rng.integers(0, 1000, 200))
    leave = enter + rng.integers(1, 120, 200)
    position_in, position_out = queue_positions(np.zeros(200, dtype=np.int64), enter, leave)
    for i in range(200):
        ahead = [j for j in range(i) if leave[j] > enter[i]]
        assert position_in[i] == len(ahead) + 1
        assert position_out[i] == sum(leave[j] > leave[i] for j in range(i)) + 1


# ---- command line -----------------------------------------------------------------------------
def test_command_line(tmp_path: Path) -> None:
    from callkpi.cli import _register_commands
    from callkpi.cli.app import app

    _register_commands()
    result = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path), "--days", "2", "--agents", "8",
                                      "--calls-per-day", "300", "--seed", "2", "--start", "2026-10-24",
                                      "--timezone", "Europe/Berlin"])
    assert result.exit_code == 0, result.output
    assert "inbound calls" in result.output and "calls/s" in result.output
    assert (tmp_path / "queue_log").stat().st_size > 0
    first_row = (tmp_path / "Master.csv").read_text(encoding="utf-8").splitlines()[0]
    assert '"2026-10-24 ' in first_row
    bad = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path), "--start", "31.02.2026"])  # no such day
    assert bad.exit_code == 2


def test_writer_process_writes_the_same_bytes_as_the_writer_thread(tmp_path: Path) -> None:
    simulate(small(days=1), tmp_path / "thread", parallel=False)
    simulate(small(days=1), tmp_path / "process", parallel=True)
    for file in ("queue_log", "Master.csv", "deals.csv", "truth_queue_legs.csv.gz", "truth_summary.json"):
        assert (tmp_path / "thread" / file).read_bytes() == (tmp_path / "process" / file).read_bytes(), file


def test_the_simulated_centre_reviews_the_qa_sample_share_of_handled_calls(run: Path) -> None:
    """The demo reviewed 3 % of calls (the scenario said 0.03) while qa_sample_share says 30 %."""
    from callkpi.config import MetricParams

    assert Scenario().qa.sample_share == MetricParams().qa_sample_share == 0.30
    answered = {c["call_id"] for c in read_truth(run, "truth_calls.csv.gz")
                if c["direction"] == "inbound" and c["answered"] == "1"}
    reviewed = {r["call_id"] for r in read_csv(run, "qa_reviews.csv")} & answered
    share = len(reviewed) / len(answered)
    # thousands of answered inbound calls, each reviewed with probability 0.30: the share is within a few points
    assert len(answered) > 2000 and 0.27 < share < 0.33, (len(answered), share)
