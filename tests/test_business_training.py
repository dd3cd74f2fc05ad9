"""Training effect: difference in differences on data whose true effect is known (constructed here,
and the simulator's scenario with its ground truth), the published test vectors of
docs/sources.md#statistical-tests through the per-group comparisons, and "not enough data" when it is not."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from callkpi.analyses.training_effect import OUTCOMES, Cohort, Observations, estimate, training_effect
from callkpi.config import MetricParams, PhoneSettings, Settings
from callkpi.ingest.formats import load_file
from callkpi.storage import Store
from conftest import ql_line

RU = Settings(phone=PhoneSettings(country_code="7", national_prefix="8", national_length=10))
DAY0 = date(2026, 3, 2)
EPOCH0 = 1772409600  # 2026-03-02 00:00 UTC


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def constructed_centre(directory: Path, *, days: int, training_day: int, calls_per_day: int, uplift: float,
                       seed: int) -> list[Path]:
    """Agents 2001-2004 take the programme on `training_day`; 2005-2008 never do. Every handled call
    is won with probability 0.10, plus `uplift` for a trained agent's calls after the training day."""
    rng = np.random.default_rng(seed)
    lines, deals = [], ["deal_id,created_at,closed_at,status,amount,call_id"]
    for agent in range(2001, 2009):
        trained = agent <= 2004
        for day in range(days):
            for k in range(calls_per_day):
                start = EPOCH0 + day * 86400 + 9 * 3600 + k * 900
                callid = f"{start}.{agent}"
                lines += [ql_line(start, callid, "sales", "NONE", "ENTERQUEUE", "", f"7495{agent}{day:02d}{k:02d}", 1),
                          ql_line(start + 5, callid, "sales", f"SIP/{agent}", "CONNECT", 5, "x", 1),
                          ql_line(start + 65, callid, "sales", f"SIP/{agent}", "COMPLETECALLER", 5, 60, 1)]
                p_won = 0.10 + (uplift if trained and day > training_day else 0.0)
                if rng.random() < p_won:
                    day_text = (DAY0 + timedelta(days=day)).isoformat()
                    deals.append(f"{callid},{day_text} 12:00,{day_text} 18:00,won,1000,{callid}")
    lines.sort(key=lambda line: int(line.split("|", 1)[0]))
    training_date = (DAY0 + timedelta(days=training_day)).isoformat()
    training = "".join(f"{a},Objection handling,{training_date}\n" for a in range(2001, 2005))
    return [write(directory, "queue_log", "\n".join(lines) + "\n"),
            write(directory, "deals.csv", "\n".join(deals) + "\n"),
            write(directory, "training.csv", "agent,programme,date\n" + training)]


def test_the_confidence_interval_contains_a_constructed_effect(store: Store, tmp_path: Path) -> None:
    for path in constructed_centre(tmp_path, days=40, training_day=20, calls_per_day=25, uplift=0.04, seed=7):
        assert load_file(store, path, RU, timezone="UTC").quarantined == 0
    (effect,) = training_effect(store, MetricParams(), window_days=19, metrics=["conversion_rate"])
    # windows: days 1-19 before, 21-39 after: 4 agents x 19 days x 25 calls = 1 900 calls per group and window
    assert effect.cells == {"trained_before": 1900, "trained_after": 1900, "untrained_before": 1900,
                            "untrained_after": 1900}
    assert (effect.trained_agents, effect.control_agents, effect.cohorts) == (4, 4, 1)
    assert effect.ci_low < 0.04 < effect.ci_high  # the true uplift: +4 percentage points
    assert effect.verdict == "improved"
    assert effect.verdict_text.startswith("improved: conversion rate rose by ")
    assert effect.control.ci_low < 0 < effect.control.ci_high  # untrained agents did not change
    assert effect.trained.test == "two-proportion z-test"
    assert effect.as_dict()["cells"]["trained_after"] == 1900


def test_no_effect_and_not_enough_data(store: Store, tmp_path: Path) -> None:
    for path in constructed_centre(tmp_path, days=40, training_day=20, calls_per_day=25, uplift=0.0, seed=3):
        load_file(store, path, RU, timezone="UTC")
    (flat,) = training_effect(store, MetricParams(), window_days=19, metrics=["conversion_rate"])
    assert flat.ci_low < 0 < flat.ci_high and flat.verdict == "no_significant_change"
    assert flat.verdict_text.startswith("no significant change: conversion rate of trained agents moved ")
    (thin,) = training_effect(store, MetricParams(), window_days=1, metrics=["conversion_rate"])
    # one day each side: 4 agents x 25 calls = 100 per group and window, above the minimum of 30
    assert set(thin.cells.values()) == {100} and thin.verdict != "not_enough_data"
    (csat,) = training_effect(store, MetricParams(), window_days=19, metrics=["csat"])
    assert csat.verdict == "not_enough_data" and csat.effect is None
    assert csat.verdict_text.startswith("not enough data: needs at least 30 observations in each group and 2 "
                                        "agents on each side (trained before 0, trained after 0")


def _exact_sample(mean: float, sd: float, n: int, seed: int) -> np.ndarray:
    z = np.random.default_rng(seed).standard_normal(n)
    return mean + sd * (z - z.mean()) / z.std(ddof=1)


def test_group_comparisons_reproduce_the_published_vectors() -> None:
    """docs/sources.md#statistical-tests: z-test x = (12, 5), n = (99, 83) -> p = 0.15918129181156992; Welch on means
    20.14458 / 30.48101, sd 6.41470 / 6.10771, n 249 / 79 -> t = -12.946, df = 136.87, one-sided
    p = 7.855e-26 (two-sided x 2). Agents A (trained) and B: A's values are the 'after' sample."""
    spec_rate, spec_mean = OUTCOMES["conversion_rate"], OUTCOMES["aht_s"]
    cohort = Cohort(date(2026, 3, 10), date(2026, 3, 10), frozenset({"A"}))
    before, after = EPOCH0 + 3600, EPOCH0 + 10 * 86400 + 3600  # 03-02 and 03-12
    rates = np.concatenate([np.repeat([1.0, 0.0], [5, 78]), np.repeat([1.0, 0.0], [12, 87])])
    times = np.concatenate([np.full(83, before), np.full(99, after)])
    obs = Observations(np.array(["A"] * 182, dtype=object), times.astype(float), rates)
    effect = estimate("P", spec_rate.id, obs, [cohort], {"A"}, 30, "UTC")
    assert effect.trained.p_value == pytest.approx(0.15918129181156992, rel=1e-9)
    assert effect.trained.difference == pytest.approx(12 / 99 - 5 / 83)
    assert effect.verdict == "not_enough_data"  # no untrained agent at all
    means = np.concatenate([_exact_sample(30.48101, 6.10771, 79, 1), _exact_sample(20.14458, 6.41470, 249, 2)])
    times = np.concatenate([np.full(79, before), np.full(249, after)])
    obs = Observations(np.array(["A"] * 328, dtype=object), times.astype(float), means)
    welch = estimate("P", spec_mean.id, obs, [cohort], {"A"}, 30, "UTC").trained
    assert welch.difference == pytest.approx(20.14458 - 30.48101)
    assert welch.p_value == pytest.approx(2 * 7.855e-26, rel=1e-3)
    assert welch.test == "Welch t-test"


def test_a_deal_still_open_counts_as_its_groups_share_of_won_deals() -> None:
    """Trained agent T after the training: won, won, lost, open, no deal. The closed deals were won
    2 times of 3, so the open one counts 2/3 and the group's rate is (1 + 1 + 0 + 2/3 + 0) / 5 = 8/15."""
    cohort = Cohort(date(2026, 3, 10), date(2026, 3, 10), frozenset({"T"}))
    after = float(EPOCH0 + 10 * 86400 + 3600)
    states = np.array(["won", "won", "lost", "open", "none"], dtype=object)
    obs = Observations(np.array(["T"] * 5, dtype=object), np.full(5, after), np.array([1.0, 1.0, 0.0, 0.0, 0.0]),
                       states, np.ones(5))
    effect = estimate("P", "conversion_rate", obs, [cohort], {"T"}, 30, "UTC")
    assert effect.trained.mean_after == pytest.approx(8 / 15)
    assert effect.notes[0].startswith("1 call had a deal still open at the end of the data")


def test_the_simulators_true_training_effect_is_inside_the_interval(store: Store, tmp_path: Path) -> None:
    scenario_module = pytest.importorskip("callkpi.simulate.scenario")
    engine = pytest.importorskip("callkpi.simulate.engine")
    scenario = scenario_module.Scenario.load().with_overrides(days=30, agents=30, calls_per_day=1000, seed=1)
    engine.Simulation(scenario, tmp_path, parallel=False).run()
    truth = json.loads((tmp_path / "truth_summary.json").read_text(encoding="utf-8"))["training_effect"]
    for name in ("queue_log", "staff.csv", "training.csv", "deals.csv"):
        report = load_file(store, tmp_path / name, RU, timezone=scenario.timezone)
        assert report.quarantined == 0, (name, report.issues[:3])
    params = MetricParams(timezone=scenario.timezone)
    (effect,) = training_effect(store, params, programme=truth["programme"], metrics=["conversion_rate"])
    # trained agents who answered queue calls (an outbound agent never appears in queue_log)
    assert 0 < effect.trained_agents <= len(truth["trained_agents"])
    assert effect.ci_low < truth["true_uplift"] < effect.ci_high, effect.as_dict()
