"""KPIs the engine computes from the simulated files equal the same KPIs computed from the
simulator's ground truth: exactly for counts and sums, whichever order the files load in."""

from __future__ import annotations

import csv
import gzip
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.simulate import Scenario, simulate
from callkpi.storage import Store
from conftest import by_key, kpis, total

SHORT_ABANDON_S = 5  # the metric dictionary's default short_abandon_s
SL_THRESHOLD_S = 20  # and sl_threshold_s


def _scenario() -> Scenario:
    data = Scenario().model_dump()
    data.update(days=4, seed=21, agents=12)
    data["arrivals"]["calls_per_day"] = 500
    return Scenario.model_validate(data)


def _truth(folder: Path, name: str) -> list[dict[str, str]]:
    with gzip.open(folder / name, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("truth")
    simulate(_scenario(), folder)
    return folder


def _load(run: Path, names: tuple[str, ...]) -> Store:
    store = Store(":memory:")
    for name in names:
        load_file(store, run / name, Settings(), timezone="Europe/Moscow")
    return store


@pytest.fixture(scope="module")
def queue_log_only(run: Path) -> Store:
    return _load(run, ("queue_log",))


@pytest.fixture(scope="module", params=[("queue_log", "Master.csv"), ("Master.csv", "queue_log")],
                ids=["queue_log-first", "cdr-first"])
def both(run: Path, request: pytest.FixtureRequest) -> Store:
    return _load(run, request.param)


@pytest.fixture(scope="module")
def legs(run: Path) -> list[dict[str, str]]:
    return _truth(run, "truth_queue_legs.csv.gz")


def _queue_truth(legs: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = defaultdict(Counter)
    for leg in legs:
        q, wait = out[leg["queue"]], int(leg["wait_s"])
        q["calls_offered"] += 1
        q["max_wait_s"] = max(q["max_wait_s"], wait)
        if leg["outcome"] == "answered":
            q["calls_answered"] += 1
            q["wait_answered"] += wait
            q["answered_within_t"] += wait <= SL_THRESHOLD_S
        elif leg["outcome"] == "abandoned":
            short = wait < SHORT_ABANDON_S
            q["calls_short_abandoned"] += short
            q["calls_abandoned"] += not short
            q["wait_abandoned"] += 0 if short else wait
        elif leg["outcome"] == "flowed_out":
            q["calls_flowed_out"] += 1
    return out


def test_queue_kpis_equal_the_truth(queue_log_only: Store, legs: list[dict[str, str]]) -> None:
    truth = _queue_truth(legs)
    rows = by_key(kpis(queue_log_only, ["queue"]), "queue")
    assert set(rows) == set(truth)
    for queue, t in truth.items():
        row = rows[queue]
        for metric in ("calls_offered", "calls_answered", "calls_abandoned", "calls_short_abandoned",
                       "calls_flowed_out", "max_wait_s"):
            assert row[metric] == t[metric], (queue, metric)
        assert row["asa_s"] == pytest.approx(t["wait_answered"] / t["calls_answered"])
        assert row["avg_abandon_wait_s"] == pytest.approx(t["wait_abandoned"] / t["calls_abandoned"])
        expected_sl = t["answered_within_t"] / (t["calls_offered"] - t["calls_short_abandoned"])
        assert row["service_level"] == pytest.approx(expected_sl)


def test_agent_kpis_equal_the_truth(queue_log_only: Store, run: Path, legs: list[dict[str, str]]) -> None:
    handled: Counter[str] = Counter()
    talk: Counter[str] = Counter()
    transferred: Counter[str] = Counter()
    for leg in legs:
        if leg["outcome"] == "answered":
            handled[leg["agent"]] += 1
            talk[leg["agent"]] += int(leg["talk_s"])
            transferred[leg["agent"]] += leg["transferred"] == "1"
    timeout_ms = _scenario().agent_behaviour.ring_timeout_s * 1000  # shorter unanswered rings were cancelled
    ring_no_answer = Counter(r["agent"] for r in _truth(run, "truth_ring_attempts.csv.gz")
                             if r["answered"] == "0" and int(r["ring_ms"]) >= timeout_ms)
    rows = by_key(kpis(queue_log_only, ["agent"]), "agent")
    assert {a for a, n in handled.items() if n} == {a for a, r in rows.items() if r["calls_handled"]}
    for agent, row in rows.items():
        assert row["calls_handled"] == handled[agent], agent
        assert (row["ring_no_answer"] or 0) == ring_no_answer[agent], agent
        assert (row["transfers"] or 0) == transferred[agent], agent
        if handled[agent]:
            assert row["att_s"] * row["calls_handled"] == pytest.approx(talk[agent]), agent
    assert sum(ring_no_answer.values()) == sum(int(leg["ring_no_answer_count"]) for leg in legs) > 0


def test_presence_equals_the_truth(queue_log_only: Store, run: Path) -> None:
    """An agent in two queues pauses in both: the truth counts that pause once, and so must we."""
    states = _truth(run, "truth_agent_states.csv.gz")
    paused: Counter[tuple[str, str]] = Counter()
    logged: Counter[str] = Counter()
    for s in states:
        seconds = int(s["end_epoch"]) - int(s["start_epoch"])
        if s["state"] == "paused":
            paused[(s["agent"], s["reason"])] += seconds
        else:
            logged[s["agent"]] += seconds
    rows = by_key(kpis(queue_log_only, ["agent", "pause_reason"], metrics=["paused_s"]), "agent", "pause_reason")
    measured = {key: row["paused_s"] for key, row in rows.items() if row["paused_s"]}
    assert measured == pytest.approx(dict(paused))
    logged_rows = by_key(kpis(queue_log_only, ["agent"], metrics=["logged_in_s"]), "agent")
    assert {a: r["logged_in_s"] for a, r in logged_rows.items() if r["logged_in_s"]} == pytest.approx(dict(logged))


def test_queue_log_and_cdr_together_count_every_call_once(both: Store, queue_log_only: Store, run: Path,
                                                          legs: list[dict[str, str]]) -> None:
    calls = _truth(run, "truth_calls.csv.gz")
    inbound = [c for c in calls if c["direction"] == "inbound"]
    outbound = [c for c in calls if c["direction"] == "outbound"]
    row = total(both)
    assert row["calls_inbound"] == len(inbound)
    assert row["calls_missed"] == sum(1 for c in inbound if c["answered"] == "0")
    assert row["dials"] == len(outbound) > 0
    assert row["dials_answered"] == sum(1 for c in outbound if c["answered"] == "1")
    queue_row = total(queue_log_only)
    for metric in ("calls_offered", "calls_answered", "calls_abandoned", "ring_no_answer"):
        assert row[metric] == queue_row[metric], metric
    # Handled legs: the queue's answered legs, the answered dials and the legs of transfer targets.
    transfers = sum(1 for leg in legs if leg["outcome"] == "answered" and leg["transferred"] == "1")
    assert row["calls_handled"] == queue_row["calls_handled"] + row["dials_answered"] + transfers
