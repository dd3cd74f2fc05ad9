"""Tests for callkpi.stats.significance (docs/sources.md#statistical-tests).

Published vectors are embedded from docs/sources.md#statistical-tests so the tests run without the shared folder;
the "statistics" entries of ../shared/reference/erlang_test_vectors.json (data beside our checkout) are
checked as well when that file is present.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from callkpi.stats.significance import (
    MIN_OBSERVATIONS_PER_CELL,
    Verdict,
    difference_in_differences,
    two_proportion_ztest,
    welch_ttest,
    welch_ttest_samples,
)

VECTORS_JSON = Path(__file__).resolve().parents[2] / "shared/reference/erlang_test_vectors.json"

# NIST e-Handbook AUTO83B summary statistics as printed in docs/sources.md#statistical-tests (Boost.Math example).
AUTO83B = {"mean1": 20.14458, "sd1": 6.41470, "n1": 249, "mean2": 30.48101, "sd2": 6.10771, "n2": 79}


def matches_printed(observed: float, published: float) -> bool:
    """True when ``observed`` rounds to ``published`` at the precision it was printed with."""
    exponent = Decimal(repr(published)).as_tuple().exponent
    assert isinstance(exponent, int)
    return abs(observed - published) <= 0.5 * 10.0**exponent + 1e-12 * abs(published)


# --------------------------------------------------------------------------------------------
# Two-proportion z test
# --------------------------------------------------------------------------------------------


def test_two_proportion_published_vector() -> None:
    # docs/sources.md#statistical-tests, published (statsmodels test GH-2969 and docstring): x = (5, 12), n = (83, 99)
    # → z = −1.4078304151258787, p = 0.15918129181156992.
    result = two_proportion_ztest(5, 83, 12, 99)
    assert result.z == pytest.approx(-1.4078304151258787, rel=1e-12)
    assert result.p_value == pytest.approx(0.15918129181156992, rel=1e-12)
    assert (result.n1, result.n2) == (83, 99)
    assert result.difference == pytest.approx(5 / 83 - 12 / 99)


def test_two_proportion_ci_is_unpooled_wald() -> None:
    result = two_proportion_ztest(5, 83, 12, 99)
    p1, p2 = 5 / 83, 12 / 99
    half_width = scipy_stats.norm.ppf(0.975) * math.sqrt(p1 * (1 - p1) / 83 + p2 * (1 - p2) / 99)
    assert result.ci_low == pytest.approx(p1 - p2 - half_width, rel=1e-12)
    assert result.ci_high == pytest.approx(p1 - p2 + half_width, rel=1e-12)
    # docs/sources.md#statistical-tests: the unpooled SE would give z = −1.4542 — we test with the pooled one.
    assert round((p1 - p2) / (half_width / scipy_stats.norm.ppf(0.975)), 4) == -1.4542


def test_two_proportion_degenerate_samples() -> None:
    result = two_proportion_ztest(0, 50, 0, 70)
    assert (result.z, result.p_value, result.difference) == (0.0, 1.0, 0.0)


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(-1, 10, 1, 10), (11, 10, 1, 10), (1, 0, 1, 10)])
def test_two_proportion_rejects_invalid_counts(x1: int, n1: int, x2: int, n2: int) -> None:
    with pytest.raises(ValueError):
        two_proportion_ztest(x1, n1, x2, n2)


@settings(max_examples=50, deadline=None)
@given(
    n1=st.integers(1, 500),
    n2=st.integers(1, 500),
    share1=st.floats(min_value=0, max_value=1),
    share2=st.floats(min_value=0, max_value=1),
)
def test_two_proportion_swapping_groups_negates_z(n1: int, n2: int, share1: float, share2: float) -> None:
    x1, x2 = round(share1 * n1), round(share2 * n2)
    forward, backward = two_proportion_ztest(x1, n1, x2, n2), two_proportion_ztest(x2, n2, x1, n1)
    assert forward.z == pytest.approx(-backward.z, abs=1e-12)
    assert forward.p_value == pytest.approx(backward.p_value, abs=1e-12)
    assert 0.0 <= forward.p_value <= 1.0
    assert forward.ci_low <= forward.difference <= forward.ci_high


# --------------------------------------------------------------------------------------------
# Welch t test
# --------------------------------------------------------------------------------------------


def test_welch_published_vector() -> None:
    # docs/sources.md#statistical-tests, published (Boost.Math students_t_two_samples.cpp, NIST AUTO83B):
    # Welch t = −12.946, df = 136.87, one-sided p = 7.855e−26 (two-sided = ×2).
    result = welch_ttest(**AUTO83B)
    assert round(result.t, 3) == -12.946
    assert round(result.df, 2) == 136.87
    assert result.p_value / 2 == pytest.approx(7.855e-26, rel=1e-3)
    assert result.difference == pytest.approx(20.14458 - 30.48101)
    assert result.ci_low < result.difference < result.ci_high < 0


def test_welch_ci_uses_welch_df() -> None:
    result = welch_ttest(**AUTO83B)
    standard_error = math.sqrt(6.41470**2 / 249 + 6.10771**2 / 79)
    expected_half_width = scipy_stats.t.ppf(0.975, result.df) * standard_error
    assert result.ci_high - result.difference == pytest.approx(expected_half_width, rel=1e-12)
    assert result.t == pytest.approx(result.difference / standard_error, rel=1e-12)


def test_welch_samples_agrees_with_scipy() -> None:
    rng = np.random.default_rng(7)
    before, after = rng.lognormal(5.3, 0.5, 120), rng.lognormal(5.2, 0.4, 90)
    result = welch_ttest_samples(before, after)
    reference = scipy_stats.ttest_ind(before, after, equal_var=False)
    low, high = reference.confidence_interval(0.95)
    assert result.t == pytest.approx(reference.statistic, rel=1e-10)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-10)
    assert result.df == pytest.approx(reference.df, rel=1e-10)
    assert (result.ci_low, result.ci_high) == (pytest.approx(low, rel=1e-10), pytest.approx(high, rel=1e-10))
    assert (result.n1, result.n2) == (120, 90)


@pytest.mark.parametrize(
    "call",
    [
        lambda: welch_ttest(1, 1, 1, 2, 1, 10),
        lambda: welch_ttest(1, 0, 10, 2, 0, 10),
        lambda: welch_ttest_samples([1.0, math.nan, 2.0], [1.0, 2.0]),
        lambda: welch_ttest_samples([1.0], [1.0, 2.0]),
    ],
)
def test_welch_rejects_invalid_input(call: Any) -> None:
    with pytest.raises(ValueError):
        call()


# --------------------------------------------------------------------------------------------
# Reference JSON vectors (when present)
# --------------------------------------------------------------------------------------------


def _json_statistics() -> list[Any]:
    if not VECTORS_JSON.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{VECTORS_JSON} not present"))]
    entries = json.loads(VECTORS_JSON.read_text(encoding="utf-8"))["statistics"]
    return [pytest.param(entry, id=entry["id"]) for entry in entries]


@pytest.mark.parametrize("entry", _json_statistics())
def test_json_statistics_vectors(entry: dict[str, Any]) -> None:
    test_name = entry["test"]
    if test_name.startswith("two-proportion"):
        result = two_proportion_ztest(**entry["inputs"])
        observed = {"z": result.z, "p_two_sided": result.p_value}
    elif test_name.startswith("Welch"):
        result_t = welch_ttest(**entry["inputs"])
        observed = {"t": result_t.t, "df": result_t.df, "p_one_sided": result_t.p_value / 2}
    else:
        pytest.skip(f"{test_name}: not provided by callkpi.stats.significance (pooled Student t is not offered)")
    for key, expected in entry["published"].items():
        if key.startswith("p_") and "e-" in repr(expected):
            assert observed[key] == pytest.approx(expected, rel=1e-3), key
        else:
            assert matches_printed(observed[key], expected), f"{key}: {observed[key]} vs {expected}"


# --------------------------------------------------------------------------------------------
# Difference in differences
# --------------------------------------------------------------------------------------------


def conversion_panel(
    rates: dict[tuple[int, int], float], calls_per_cell: int, agents_per_group: int
) -> tuple[list[int], list[int], list[int], list[str]]:
    """Binary outcomes with exactly ``rate × calls`` conversions per (treated, post) cell."""
    outcome: list[int] = []
    treated: list[int] = []
    post: list[int] = []
    agents: list[str] = []
    for (is_treated, is_post), rate in rates.items():
        conversions = round(rate * calls_per_cell)
        outcome += [1] * conversions + [0] * (calls_per_cell - conversions)
        treated += [is_treated] * calls_per_cell
        post += [is_post] * calls_per_cell
        prefix = "trained" if is_treated else "control"
        agents += [f"{prefix}-{i % agents_per_group}" for i in range(calls_per_cell)]
    return outcome, treated, post, agents


# docs/sources.md#statistical-tests, derived: conversion 10 % → 14 % trained vs 10 % → 11 % control ⇒ DiD = +3 pp.
DER_RATES = {(1, 0): 0.10, (1, 1): 0.14, (0, 0): 0.10, (0, 1): 0.11}


def test_did_published_example_is_three_points() -> None:
    outcome, treated, post, agents = conversion_panel(DER_RATES, calls_per_cell=100, agents_per_group=5)
    result = difference_in_differences(outcome, treated, post, agents)
    assert result.estimate == pytest.approx(0.03, abs=1e-12)
    assert result.estimate_pp == pytest.approx(3.0, abs=1e-10)
    assert result.outcome_kind == "binary"
    assert result.se_kind == "cluster_agent"
    assert result.cell_sizes == {"treated_pre": 100, "treated_post": 100, "control_pre": 100, "control_post": 100}
    assert [cell.mean for cell in result.cells] == pytest.approx([0.10, 0.14, 0.10, 0.11])
    assert (result.treated_agents, result.control_agents) == (5, 5)
    assert result.ci_low < 0.03 < result.ci_high


def test_did_published_example_verdict_depends_on_sample_size() -> None:
    small = difference_in_differences(*conversion_panel(DER_RATES, calls_per_cell=100, agents_per_group=5)[:3])
    large = difference_in_differences(*conversion_panel(DER_RATES, calls_per_cell=5000, agents_per_group=5)[:3])
    assert small.verdict == Verdict.NO_SIGNIFICANT_CHANGE == "no_significant_change"
    assert large.estimate == pytest.approx(0.03, abs=1e-12)
    assert large.verdict == Verdict.IMPROVED == "improved"
    assert large.p_value < 0.05 and large.ci_low > 0


def test_did_hc1_standard_error_matches_cell_formula() -> None:
    """Saturated model: HC1 variance of b3 = N/(N−4) · Σ_cells s²_cell(ddof=0) / n_cell."""
    outcome, treated, post, _ = conversion_panel(DER_RATES, calls_per_cell=400, agents_per_group=5)
    result = difference_in_differences(outcome, treated, post)
    variance_hc0 = sum(cell.mean * (1 - cell.mean) / cell.n for cell in result.cells)
    total = sum(result.cell_sizes.values())
    assert result.se_kind == "hc1"
    assert result.se == pytest.approx(math.sqrt(variance_hc0 * total / (total - 4)), rel=1e-10)
    z = scipy_stats.norm.ppf(0.975)
    assert (result.ci_low, result.ci_high) == (
        pytest.approx(0.03 - z * result.se, rel=1e-9),
        pytest.approx(0.03 + z * result.se, rel=1e-9),
    )


def simulated_aht_panel(
    rng: np.random.Generator, true_effect_s: float, agents_per_group: int = 20, calls_per_agent_period: int = 40
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """AHT-like data: agent random effect + period shift + training effect + call noise."""
    rows = []
    for agent in range(2 * agents_per_group):
        is_treated = int(agent < agents_per_group)
        agent_effect = rng.normal(0, 25)
        for is_post in (0, 1):
            mean = 300 + 15 * is_treated + agent_effect - 10 * is_post + true_effect_s * is_treated * is_post
            for value in rng.normal(mean, 60, calls_per_agent_period):
                rows.append((value, is_treated, is_post, agent))
    table = np.array(rows)
    return table[:, 0], table[:, 1], table[:, 2], table[:, 3].astype(int)


def test_did_simulated_known_effect_is_recovered() -> None:
    true_effect_s = -20.0  # training shortens AHT by 20 s
    outcome, treated, post, agents = simulated_aht_panel(np.random.default_rng(2024), true_effect_s)
    result = difference_in_differences(outcome, treated, post, agents, higher_is_better=False)
    assert result.outcome_kind == "continuous"
    assert result.ci_low <= true_effect_s <= result.ci_high
    assert result.verdict == Verdict.IMPROVED  # lower AHT is better
    worse = difference_in_differences(outcome, treated, post, agents, higher_is_better=True)
    assert worse.verdict == Verdict.WORSENED


def test_did_cluster_ci_coverage_on_simulated_data() -> None:
    rng = np.random.default_rng(11)
    true_effect_s, replications = 12.0, 120
    covered = 0
    for _ in range(replications):
        outcome, treated, post, agents = simulated_aht_panel(rng, true_effect_s, agents_per_group=15)
        result = difference_in_differences(outcome, treated, post, agents)
        covered += result.ci_low <= true_effect_s <= result.ci_high
    assert 0.88 <= covered / replications <= 1.0


def test_did_not_enough_data_when_a_cell_is_small() -> None:
    outcome, treated, post, agents = conversion_panel(
        DER_RATES, calls_per_cell=MIN_OBSERVATIONS_PER_CELL - 1, agents_per_group=5
    )
    result = difference_in_differences(outcome, treated, post, agents)
    assert result.verdict == Verdict.NOT_ENOUGH_DATA == "not_enough_data"
    assert math.isfinite(result.estimate)  # still reported for context


def test_did_not_enough_data_with_a_single_trained_agent() -> None:
    outcome, treated, post, agents = conversion_panel(DER_RATES, calls_per_cell=5000, agents_per_group=5)
    single_trainee = ["trained-0" if name.startswith("trained") else name for name in agents]
    result = difference_in_differences(outcome, treated, post, single_trainee)
    assert (result.treated_agents, result.control_agents) == (1, 5)
    assert result.verdict == Verdict.NOT_ENOUGH_DATA


def test_did_empty_cell_gives_nan_and_not_enough_data() -> None:
    rates = {(1, 0): 0.1, (0, 0): 0.1, (0, 1): 0.2}
    outcome, treated, post, _ = conversion_panel(rates, calls_per_cell=200, agents_per_group=5)
    result = difference_in_differences(outcome, treated, post)
    assert result.verdict == Verdict.NOT_ENOUGH_DATA
    assert math.isnan(result.estimate) and math.isnan(result.p_value)
    assert result.cell_sizes["treated_post"] == 0


def test_did_constant_outcome_is_no_change() -> None:
    _, treated, post, agents = conversion_panel(DER_RATES, calls_per_cell=100, agents_per_group=5)
    result = difference_in_differences([0] * len(treated), treated, post, agents)
    assert (result.estimate, result.p_value, result.verdict) == (0.0, 1.0, Verdict.NO_SIGNIFICANT_CHANGE)


@pytest.mark.parametrize(
    ("outcome", "treated", "post", "agents", "kind"),
    [
        ([1, 0], [1, 0], [0, 1], ["a", "a"], "auto"),  # agent in both groups
        ([1, 0], [1, 0, 1], [0, 1], None, "auto"),  # length mismatch
        ([1, 0], [2, 0], [0, 1], None, "auto"),  # treated not 0/1
        ([0.5, 0], [1, 0], [0, 1], None, "binary"),  # declared binary but is not
        ([math.nan, 0], [1, 0], [0, 1], None, "auto"),  # missing outcome
    ],
)
def test_did_rejects_invalid_input(
    outcome: list[float], treated: list[int], post: list[int], agents: list[str] | None, kind: Any
) -> None:
    with pytest.raises(ValueError):
        difference_in_differences(outcome, treated, post, agents, outcome_kind=kind)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    shift=st.floats(min_value=-1000, max_value=1000),
)
def test_did_equals_difference_of_cell_means_and_ignores_level_shifts(seed: int, shift: float) -> None:
    rng = np.random.default_rng(seed)
    size = 200
    outcome = rng.normal(0, 1, size)
    treated, post = rng.integers(0, 2, size), rng.integers(0, 2, size)
    treated[:4], post[:4] = [0, 0, 1, 1], [0, 1, 0, 1]  # every cell non-empty
    result = difference_in_differences(outcome, treated, post)
    means = {(cell.group, cell.period): cell.mean for cell in result.cells}
    by_hand = (means["treated", "post"] - means["treated", "pre"]) - (
        means["control", "post"] - means["control", "pre"]
    )
    assert result.estimate == pytest.approx(by_hand, abs=1e-9)
    shifted = difference_in_differences(outcome + shift, treated, post)
    assert shifted.estimate == pytest.approx(result.estimate, abs=1e-7)
    assert shifted.se == pytest.approx(result.se, rel=1e-6)
