"""Significance tests for before/after and trained/untrained comparisons (docs/sources.md#statistical-tests).

Pure functions on numbers or arrays, no I/O; distributions come from scipy / statsmodels.

* :func:`two_proportion_ztest` — conversion, FCR, SL attainment (pooled-SE z test, unpooled Wald CI).
* :func:`welch_ttest` / :func:`welch_ttest_samples` — AHT, talk time (unequal-variance t test).
* :func:`difference_in_differences` — training effect: OLS ``Y = b0 + b1·Treated + b2·Post + b3·Treated·Post``,
  ``b3`` = DiD, cluster-robust SE by agent when agent ids are given (else HC1).
* :func:`stacked_difference_in_differences` — several training cohorts: each cohort its own DiD, combined
  by cohort weight, cluster-robust SE by agent over the stacked comparisons.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import numpy as np
import statsmodels.api as sm
from numpy.typing import ArrayLike
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

__all__ = [
    "MIN_AGENTS_PER_GROUP",
    "MIN_OBSERVATIONS_PER_CELL",
    "DiDCell",
    "DiDResult",
    "Estimate",
    "StackedDiDResult",
    "TwoProportionZTest",
    "Verdict",
    "WelchTTest",
    "difference_in_differences",
    "stacked_difference_in_differences",
    "two_proportion_ztest",
    "welch_ttest",
    "welch_ttest_samples",
]

#: Minimum-sample rule of :func:`difference_in_differences`: below this many observations in any of
#: the four treated/control × pre/post cells the verdict is ``not_enough_data``.
MIN_OBSERVATIONS_PER_CELL = 30
#: With agent ids, fewer distinct agents than this in the treated or the control group → ``not_enough_data``.
MIN_AGENTS_PER_GROUP = 2

OutcomeKind = Literal["binary", "continuous"]
Group = Literal["treated", "control"]
Period = Literal["pre", "post"]


class Verdict(StrEnum):
    """Translation key summarising a training-effect estimate."""

    IMPROVED = "improved"
    WORSENED = "worsened"
    NO_SIGNIFICANT_CHANGE = "no_significant_change"
    NOT_ENOUGH_DATA = "not_enough_data"


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _check_confidence(confidence: float) -> None:
    _require(0 < confidence < 1, f"confidence must be in (0, 1), got {confidence!r}")


# --------------------------------------------------------------------------------------------
# Two-proportion z test
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TwoProportionZTest:
    """Result of :func:`two_proportion_ztest`; ``difference = p1 − p2`` and its CI are proportions."""

    z: float
    p_value: float
    p1: float
    p2: float
    difference: float
    ci_low: float
    ci_high: float
    n1: int
    n2: int
    confidence: float


def _check_count(name: str, successes: int, trials: int) -> None:
    _require(trials > 0, f"n{name} must be > 0, got {trials!r}")
    _require(0 <= successes <= trials, f"x{name} must be in [0, n{name}], got {successes!r} of {trials!r}")


def two_proportion_ztest(x1: int, n1: int, x2: int, n2: int, *, confidence: float = 0.95) -> TwoProportionZTest:
    """Two-sided z test of ``p1 = p2`` with the pooled standard error (statsmodels ``proportions_ztest`` default).

    ``p̂ = (x1 + x2) / (n1 + n2)``, ``z = (p1 − p2) / sqrt(p̂(1 − p̂)(1/n1 + 1/n2))``, ``p = 2·(1 − Φ(|z|))``.
    The confidence interval of ``p1 − p2`` is the *unpooled* Wald interval
    ``(p1 − p2) ± z_{1−α/2}·sqrt(p1(1−p1)/n1 + p2(1−p2)/n2)`` (statsmodels ``confint_proportions_2indep``,
    ``method="wald"``), so in borderline cases test and CI can disagree slightly. No continuity correction
    (R ``prop.test`` applies Yates' by default). When both samples are all-0 or all-1 the pooled SE is 0;
    then ``z = 0`` and ``p = 1`` (no evidence of a difference). Vector (docs/sources.md#statistical-tests, statsmodels
    GH-2969): x = (5, 12), n = (83, 99) → z = −1.40783, p = 0.15918.
    """
    _check_count("1", x1, n1)
    _check_count("2", x2, n2)
    _check_confidence(confidence)
    pooled = (x1 + x2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        z, p_value = 0.0, 1.0
    else:
        z_stat, p_stat = proportions_ztest([x1, x2], [n1, n2], alternative="two-sided")
        z, p_value = float(z_stat), float(p_stat)
    ci_low, ci_high = confint_proportions_2indep(x1, n1, x2, n2, method="wald", compare="diff", alpha=1 - confidence)
    p1, p2 = x1 / n1, x2 / n2
    return TwoProportionZTest(
        z=z,
        p_value=p_value,
        p1=p1,
        p2=p2,
        difference=p1 - p2,
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        n1=int(n1),
        n2=int(n2),
        confidence=confidence,
    )


# --------------------------------------------------------------------------------------------
# Welch t test
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WelchTTest:
    """Result of :func:`welch_ttest`; ``difference = mean1 − mean2``, ``df`` is Welch–Satterthwaite."""

    t: float
    df: float
    p_value: float
    mean1: float
    mean2: float
    difference: float
    ci_low: float
    ci_high: float
    n1: int
    n2: int
    confidence: float


def _welch_satterthwaite_df(var1_over_n1: float, var2_over_n2: float, n1: int, n2: int) -> float:
    """``df = (s1²/n1 + s2²/n2)² / [(s1²/n1)²/(n1−1) + (s2²/n2)²/(n2−1)]``."""
    numerator = (var1_over_n1 + var2_over_n2) ** 2
    return numerator / (var1_over_n1**2 / (n1 - 1) + var2_over_n2**2 / (n2 - 1))


def welch_ttest(
    mean1: float,
    sd1: float,
    n1: int,
    mean2: float,
    sd2: float,
    n2: int,
    *,
    confidence: float = 0.95,
) -> WelchTTest:
    """Two-sided Welch (unequal-variance) t test from summary statistics (sample SDs, ddof = 1).

    ``t = (x̄1 − x̄2) / sqrt(s1²/n1 + s2²/n2)`` with Welch–Satterthwaite df; p from
    ``scipy.stats.ttest_ind_from_stats(equal_var=False)``; CI ``(x̄1 − x̄2) ± t_{1−α/2, df}·SE``.
    Vector (docs/sources.md#statistical-tests, Boost.Math / NIST AUTO83B): t = −12.946, df = 136.87,
    one-sided p = 7.855e−26 (two-sided = ×2).
    """
    _require(n1 >= 2 and n2 >= 2, f"each group needs n >= 2, got n1={n1!r}, n2={n2!r}")
    _require(sd1 >= 0 and sd2 >= 0, "standard deviations must be >= 0")
    _require(sd1 > 0 or sd2 > 0, "both standard deviations are 0: the t statistic is undefined")
    _check_confidence(confidence)
    var1_over_n1, var2_over_n2 = sd1**2 / n1, sd2**2 / n2
    standard_error = math.sqrt(var1_over_n1 + var2_over_n2)
    df = _welch_satterthwaite_df(var1_over_n1, var2_over_n2, n1, n2)
    scipy_result = stats.ttest_ind_from_stats(mean1, sd1, n1, mean2, sd2, n2, equal_var=False)
    difference = mean1 - mean2
    margin = float(stats.t.ppf(0.5 + confidence / 2, df)) * standard_error
    return WelchTTest(
        t=float(scipy_result.statistic),
        df=df,
        p_value=float(scipy_result.pvalue),
        mean1=mean1,
        mean2=mean2,
        difference=difference,
        ci_low=difference - margin,
        ci_high=difference + margin,
        n1=int(n1),
        n2=int(n2),
        confidence=confidence,
    )


def _finite_sample(name: str, values: ArrayLike) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    _require(bool(np.all(np.isfinite(array))), f"{name} contains NaN or infinite values")
    return array


def welch_ttest_samples(sample1: ArrayLike, sample2: ArrayLike, *, confidence: float = 0.95) -> WelchTTest:
    """Welch t test on raw observations (e.g. per-call AHT seconds); see :func:`welch_ttest`.

    AHT is right-skewed: for small samples compare log-AHT or use a rank test instead
    (docs/sources.md#statistical-tests).
    """
    first, second = _finite_sample("sample1", sample1), _finite_sample("sample2", sample2)
    _require(first.size >= 2 and second.size >= 2, "each sample needs at least 2 observations")
    return welch_ttest(
        float(first.mean()),
        float(first.std(ddof=1)),
        first.size,
        float(second.mean()),
        float(second.std(ddof=1)),
        second.size,
        confidence=confidence,
    )


# --------------------------------------------------------------------------------------------
# Difference in differences
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiDCell:
    """Observations, mean outcome and distinct agents (if known) of one group × period cell."""

    group: Group
    period: Period
    n: int
    mean: float
    agents: int | None


@dataclass(frozen=True, slots=True)
class DiDResult:
    """Difference-in-differences estimate of a training effect.

    ``estimate`` is ``b3`` in outcome units; for binary outcomes it is a difference of proportions
    (``0.03`` = +3 percentage points, see :attr:`estimate_pp`). ``se_kind`` is ``"cluster_agent"``
    (inference with t, G − 1 df) or ``"hc1"`` (normal inference).
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    verdict: Verdict
    outcome_kind: OutcomeKind
    se_kind: Literal["cluster_agent", "hc1"]
    confidence: float
    cells: tuple[DiDCell, ...]
    treated_agents: int | None
    control_agents: int | None

    @property
    def cell_sizes(self) -> dict[str, int]:
        """Observations per cell, keyed ``treated_pre``, ``treated_post``, ``control_pre``, ``control_post``."""
        return {f"{cell.group}_{cell.period}": cell.n for cell in self.cells}

    @property
    def estimate_pp(self) -> float | None:
        """Effect in percentage points for binary outcomes (linear-probability model), else ``None``."""
        return 100.0 * self.estimate if self.outcome_kind == "binary" else None


@dataclass(frozen=True, slots=True)
class _DiDData:
    outcome: np.ndarray
    treated: np.ndarray
    post: np.ndarray
    agent_codes: np.ndarray | None


def _binary_indicator(name: str, values: ArrayLike, size: int) -> np.ndarray:
    array = np.asarray(values).ravel()
    _require(array.size == size, f"{name} has {array.size} values, outcome has {size}")
    _require(bool(np.isin(array, (0, 1)).all()), f"{name} must contain only 0/1 or booleans")
    return array.astype(float)


def _agent_codes(agent_ids: Sequence[object] | ArrayLike, treated: np.ndarray) -> np.ndarray:
    """Integer codes for agent ids; an agent may not be both treated and control."""
    ids = np.asarray(agent_ids, dtype=object).ravel()
    _require(ids.size == treated.size, f"agent_ids has {ids.size} values, outcome has {treated.size}")
    _, codes = np.unique(ids.astype(str), return_inverse=True)
    mixed = set(codes[treated == 1]) & set(codes[treated == 0])
    _require(not mixed, "some agents appear in both the treated and the control group")
    return codes


def _prepare_did_data(
    outcome: ArrayLike, treated: ArrayLike, post: ArrayLike, agent_ids: Sequence[object] | ArrayLike | None
) -> _DiDData:
    y = _finite_sample("outcome", outcome)
    treated_flags = _binary_indicator("treated", treated, y.size)
    post_flags = _binary_indicator("post", post, y.size)
    codes = None if agent_ids is None else _agent_codes(agent_ids, treated_flags)
    return _DiDData(outcome=y, treated=treated_flags, post=post_flags, agent_codes=codes)


def _resolve_outcome_kind(y: np.ndarray, outcome_kind: Literal["auto", "binary", "continuous"]) -> OutcomeKind:
    is_binary = bool(np.isin(y, (0.0, 1.0)).all())
    if outcome_kind == "binary":
        _require(is_binary, "outcome_kind='binary' but outcome has values other than 0/1")
        return "binary"
    if outcome_kind == "continuous":
        return "continuous"
    return "binary" if is_binary else "continuous"


def _did_cells(data: _DiDData) -> tuple[DiDCell, ...]:
    cells = []
    for group, treated_value in (("treated", 1.0), ("control", 0.0)):
        for period, post_value in (("pre", 0.0), ("post", 1.0)):
            mask = (data.treated == treated_value) & (data.post == post_value)
            agents = None if data.agent_codes is None else len(np.unique(data.agent_codes[mask]))
            mean = float(data.outcome[mask].mean()) if mask.any() else math.nan
            cells.append(DiDCell(group=group, period=period, n=int(mask.sum()), mean=mean, agents=agents))
    return tuple(cells)


def _agents_in_group(data: _DiDData, treated_value: float) -> int | None:
    if data.agent_codes is None:
        return None
    return len(np.unique(data.agent_codes[data.treated == treated_value]))


def _has_enough_data(
    cells: tuple[DiDCell, ...],
    agent_counts: tuple[int | None, int | None],
    min_observations_per_cell: int,
    min_agents_per_group: int,
) -> bool:
    enough_observations = all(cell.n >= max(1, min_observations_per_cell) for cell in cells)
    enough_agents = all(count is None or count >= min_agents_per_group for count in agent_counts)
    return enough_observations and enough_agents


def _fit_did_ols(data: _DiDData, confidence: float) -> tuple[float, float, float, float, float]:
    """OLS of ``Y`` on ``[1, T, P, T·P]``; returns (b3, SE, CI low, CI high, p) for the interaction."""
    design = np.column_stack(
        (np.ones_like(data.outcome), data.treated, data.post, data.treated * data.post),
    )
    model = sm.OLS(data.outcome, design)
    # Nuisance coefficients can get a round-off negative cluster variance; only b3 is reported.
    with np.errstate(invalid="ignore", divide="ignore"):
        if data.agent_codes is not None:
            fit = model.fit(cov_type="cluster", cov_kwds={"groups": data.agent_codes}, use_t=True)
        else:
            fit = model.fit(cov_type="HC1")
        ci_low, ci_high = fit.conf_int(alpha=1 - confidence)[3]
        estimate, se, p_value = float(fit.params[3]), float(fit.bse[3]), float(fit.pvalues[3])
    if math.isnan(p_value):  # zero SE with zero estimate (e.g. every outcome identical)
        p_value = 1.0 if estimate == 0 else 0.0
    return estimate, se, float(ci_low), float(ci_high), p_value


def _verdict(estimate: float, p_value: float, confidence: float, higher_is_better: bool) -> Verdict:
    if p_value >= 1 - confidence or estimate == 0:
        return Verdict.NO_SIGNIFICANT_CHANGE
    return Verdict.IMPROVED if (estimate > 0) == higher_is_better else Verdict.WORSENED


def difference_in_differences(
    outcome: ArrayLike,
    treated: ArrayLike,
    post: ArrayLike,
    agent_ids: Sequence[object] | ArrayLike | None = None,
    *,
    outcome_kind: Literal["auto", "binary", "continuous"] = "auto",
    higher_is_better: bool = True,
    confidence: float = 0.95,
    min_observations_per_cell: int = MIN_OBSERVATIONS_PER_CELL,
    min_agents_per_group: int = MIN_AGENTS_PER_GROUP,
) -> DiDResult:
    """Training effect by difference in differences (docs/sources.md#statistical-tests).

    One row per observation (call, contact, …): ``outcome`` (0/1 or a number), ``treated`` (1 = trained
    agent's observation, in both periods), ``post`` (1 = after the training), optional ``agent_ids``.
    ``DiD = (Ȳ_T,post − Ȳ_T,pre) − (Ȳ_C,post − Ȳ_C,pre)`` equals ``b3`` of the OLS
    ``Y = b0 + b1·Treated + b2·Post + b3·Treated·Post``. Standard errors: cluster-robust by agent when
    agent ids are given (calls of one agent are correlated; t with G − 1 df), otherwise HC1. For binary
    outcomes this is the linear-probability model, so ``b3`` is in percentage points / 100 (a logit
    interaction would not be the pp DiD). Key assumption: parallel pre-trends — check separately.

    Verdict: ``not_enough_data`` when any cell has fewer than ``min_observations_per_cell`` (30)
    observations, or, with agent ids, the treated or control group has fewer than
    ``min_agents_per_group`` (2) distinct agents; otherwise ``improved`` / ``worsened`` when
    ``p < 1 − confidence`` (direction judged with ``higher_is_better``; pass ``False`` for AHT),
    else ``no_significant_change``. The estimate is still reported for thin data when every cell is
    non-empty; with an empty cell all numbers are NaN.
    """
    _check_confidence(confidence)
    data = _prepare_did_data(outcome, treated, post, agent_ids)
    kind = _resolve_outcome_kind(data.outcome, outcome_kind)
    cells = _did_cells(data)
    agent_counts = (_agents_in_group(data, 1.0), _agents_in_group(data, 0.0))
    se_kind: Literal["cluster_agent", "hc1"] = "hc1" if data.agent_codes is None else "cluster_agent"
    if any(cell.n == 0 for cell in cells):
        estimate = se = ci_low = ci_high = p_value = math.nan
    else:
        estimate, se, ci_low, ci_high, p_value = _fit_did_ols(data, confidence)
    if _has_enough_data(cells, agent_counts, min_observations_per_cell, min_agents_per_group):
        verdict = _verdict(estimate, p_value, confidence, higher_is_better)
    else:
        verdict = Verdict.NOT_ENOUGH_DATA
    return DiDResult(
        estimate=estimate,
        se=se,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=p_value,
        verdict=verdict,
        outcome_kind=kind,
        se_kind=se_kind,
        confidence=confidence,
        cells=cells,
        treated_agents=agent_counts[0],
        control_agents=agent_counts[1],
    )


# --------------------------------------------------------------------------------------------
# Several cohorts: per-cohort DiD, combined by cohort weight
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Estimate:
    """A linear combination of regression coefficients with its cluster-robust interval."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float


@dataclass(frozen=True, slots=True)
class StackedDiDResult:
    """Per-cohort difference in differences combined with cohort weights (see
    :func:`stacked_difference_in_differences`). ``cells`` count *distinct* observations (an untrained
    observation that serves several cohorts counts once per cell); ``means`` and ``changes`` are the
    weighted per-cohort cell means (``treated_pre`` ...) and group changes (``treated``, ``control``), so
    ``estimate = changes["treated"] - changes["control"]`` exactly."""

    effect: Estimate
    verdict: Verdict
    weights: dict[object, float]
    per_stack: dict[object, float]
    means: dict[str, Estimate]
    changes: dict[str, Estimate]
    cells: dict[str, int]
    treated_agents: int
    control_agents: int
    dropped: tuple[object, ...]
    clusters: int


_NAN_ESTIMATE = Estimate(math.nan, math.nan, math.nan, math.nan, math.nan)
_CELL_COLUMNS = {"control_pre": (1, 0, 0, 0), "control_post": (1, 0, 1, 0),
                 "treated_pre": (1, 1, 0, 0), "treated_post": (1, 1, 1, 1)}


def _usable_stacks(treated: np.ndarray, post: np.ndarray, stack: np.ndarray) -> tuple[list[object], list[object]]:
    usable, dropped = [], []
    for key in sorted(set(stack.tolist()), key=str):
        mask = stack == key
        full = all(((treated[mask] == t) & (post[mask] == p)).any() for t in (0, 1) for p in (0, 1))
        (usable if full else dropped).append(key)
    return usable, dropped


def _combination(fit: object, vector: np.ndarray, confidence: float) -> Estimate:
    test = fit.t_test(vector.reshape(1, -1))  # type: ignore[attr-defined]
    value, se = float(np.squeeze(test.effect)), float(np.squeeze(test.sd))
    low, high = (float(v) for v in np.squeeze(test.conf_int(alpha=1 - confidence)))
    p_value = float(np.squeeze(test.pvalue))
    if math.isnan(p_value):  # zero SE (every outcome identical)
        p_value = 1.0 if value == 0 else 0.0
    return Estimate(value, se, low, high, p_value)


def stacked_difference_in_differences(
    outcome: ArrayLike,
    treated: ArrayLike,
    post: ArrayLike,
    stack: ArrayLike,
    agent_ids: ArrayLike,
    observation_ids: ArrayLike,
    stack_weights: dict[object, float],
    *,
    higher_is_better: bool = True,
    confidence: float = 0.95,
    min_observations_per_cell: int = MIN_OBSERVATIONS_PER_CELL,
    min_agents_per_group: int = MIN_AGENTS_PER_GROUP,
) -> StackedDiDResult:
    """Training effect over several cohorts (a stacked difference in differences).

    One row per observation *and comparison*: each cohort (``stack``) is its own 2x2 comparison of its
    trained agents against the untrained over the cohort's windows, so an untrained observation appears
    once in every cohort whose window holds it, and once only within a cohort. One OLS, fully
    interacted by cohort (``Y = Σ_k S_k·(a_k + b_k·T + c_k·P + d_k·T·P)``), gives each cohort's own
    DiD ``d_k`` exactly (= its four cell means' difference in differences). The effect is
    ``Σ_k w_k·d_k`` with ``w_k = stack_weights[k] / Σ w`` (cohort size: its trained agents), its
    variance ``w'Vw`` from the cluster-robust covariance by agent over all the rows (the same agent's,
    and the same observation's, rows in several cohorts are one cluster), t with G - 1 df.
    A cohort with an empty cell cannot be compared and is left out (``dropped``). The verdict rule is
    :func:`difference_in_differences`'s, on the distinct observations of each cell.
    """
    _check_confidence(confidence)
    y = _finite_sample("outcome", outcome)
    t_flags = _binary_indicator("treated", treated, y.size)
    p_flags = _binary_indicator("post", post, y.size)
    stacks = np.asarray(stack, dtype=object).ravel()
    ids = np.asarray(observation_ids).ravel()
    agents = np.asarray(agent_ids, dtype=object).ravel().astype(str)
    usable, dropped = _usable_stacks(t_flags, p_flags, stacks)
    keep = np.isin(stacks, usable)
    cells = {f"{g}_{p}": len(np.unique(ids[keep & (t_flags == tv) & (p_flags == pv)]))
             for g, tv in (("treated", 1), ("control", 0)) for p, pv in (("pre", 0), ("post", 1))}
    treated_agents = len(set(agents[keep & (t_flags == 1)]))
    control_agents = len(set(agents[keep & (t_flags == 0)]))
    total = sum(stack_weights[k] for k in usable)
    weights = {k: stack_weights[k] / total for k in usable} if total > 0 else {}
    _, codes = np.unique(agents[keep], return_inverse=True)
    clusters = int(codes.max()) + 1 if codes.size else 0
    if not weights or clusters < 2:
        nan_means = dict.fromkeys(_CELL_COLUMNS, _NAN_ESTIMATE)
        return StackedDiDResult(_NAN_ESTIMATE, Verdict.NOT_ENOUGH_DATA, weights, {}, nan_means,
                                {"treated": _NAN_ESTIMATE, "control": _NAN_ESTIMATE}, cells, treated_agents,
                                control_agents, tuple(dropped), clusters)
    y, t_flags, p_flags, stacks = y[keep], t_flags[keep], p_flags[keep], stacks[keep]
    columns = []
    for key in usable:
        s = (stacks == key).astype(float)
        columns += [s, s * t_flags, s * p_flags, s * t_flags * p_flags]
    with np.errstate(invalid="ignore", divide="ignore"):
        fit = sm.OLS(y, np.column_stack(columns)).fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)

        def weighted(pattern: tuple[int, ...]) -> np.ndarray:
            return np.concatenate([weights[k] * np.asarray(pattern, dtype=float) for k in usable])

        effect = _combination(fit, weighted((0, 0, 0, 1)), confidence)
        means = {name: _combination(fit, weighted(pattern), confidence) for name, pattern in _CELL_COLUMNS.items()}
        changes = {"treated": _combination(fit, weighted((0, 0, 1, 1)), confidence),
                   "control": _combination(fit, weighted((0, 0, 1, 0)), confidence)}
    per_stack = {k: float(fit.params[4 * i + 3]) for i, k in enumerate(usable)}
    cell_list = tuple(DiDCell(group=name.split("_")[0], period=name.split("_")[1], n=n, mean=math.nan, agents=None)  # type: ignore[arg-type]
                      for name, n in cells.items())
    if _has_enough_data(cell_list, (treated_agents, control_agents), min_observations_per_cell,
                        min_agents_per_group):
        verdict = _verdict(effect.estimate, effect.p_value, confidence, higher_is_better)
    else:
        verdict = Verdict.NOT_ENOUGH_DATA
    return StackedDiDResult(effect, verdict, weights, per_stack, means, changes, cells, treated_agents,
                            control_agents, tuple(dropped), clusters)
