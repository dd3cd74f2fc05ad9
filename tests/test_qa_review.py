"""Call quality without the web: CQR against hand-computed reviews, scorecard versions and YAML,
the review sample (share, strata, reproducibility, short calls), corrections and the QA KPIs.

The store is the web tests' (``build_web_store``): 2 and 3 March 2026, agents 1001 and 1002 in
``sales``, 1003 in ``support``, three answered queue calls per agent and day.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from callkpi.config import MetricParams
from callkpi.metrics.engine import KpiQuery, compute
from callkpi.qa.reports import calibration, weakest_criteria
from callkpi.qa.review import (
    ReviewError,
    ScoredCriterion,
    compute_cqr,
    correct_review,
    create_review,
    get_review,
    parse_score,
)
from callkpi.qa.sample import HandledCall, draw_sample, pick_by_rule, review_queue, stratified_choice
from callkpi.qa.scorecards import (
    Criterion,
    Scorecard,
    ScorecardError,
    default_scorecards,
    ensure_default_scorecards,
    list_scorecards,
    load_scorecard,
    parse_yaml,
    save_scorecard,
    to_yaml,
)
from callkpi.storage import Store
from test_web_api import DAY1, DAY2, TZ, build_web_store

PARAMS = MetricParams(timezone=TZ)


def item(weight: float, score: float | None, fatal: bool = False) -> ScoredCriterion:
    return ScoredCriterion("c", weight, fatal, score)


# -- CQR ------------------------------------------------------------------------------------------


def test_cqr_of_the_published_example_leaves_na_out_of_the_denominator() -> None:
    # docs/sources.md#qa-scorecards: weights 20, 30, 50; scores 1, 0.5, N/A -> 100 x 35 / 50
    assert compute_cqr([item(20, 1), item(30, 0.5), item(50, None)]) == (70.0, False)


def test_cqr_counts_half_points() -> None:
    value, fatal = compute_cqr([item(1, 0.5), item(3, 0.5), item(2, 1)])
    assert value == pytest.approx(100 * (0.5 + 1.5 + 2) / 6)
    assert not fatal


def test_a_failed_fatal_criterion_makes_the_review_zero() -> None:
    assert compute_cqr([item(4, 1), item(3, 1), item(1, 0, fatal=True)]) == (0.0, True)
    assert compute_cqr([item(4, 1), item(3, 0), item(1, 1, fatal=True)]) == (pytest.approx(100 * 5 / 8), False)


def test_a_review_with_every_criterion_na_has_no_cqr() -> None:
    assert compute_cqr([item(2, None), item(3, None)]) == (None, False)


@pytest.mark.parametrize("text,value", [("0", 0.0), ("0.5", 0.5), ("0,5", 0.5), ("1", 1.0), ("NA", None),
                                        ("n/a", None), ("", None)])
def test_scores_are_read_as_written(text: str, value: float | None) -> None:
    assert parse_score(text) == value


@pytest.mark.parametrize("text", ["2", "0.3", "yes", "-1"])
def test_other_scores_are_refused(text: str) -> None:
    with pytest.raises(ReviewError):
        parse_score(text)


# -- scorecards -----------------------------------------------------------------------------------


def test_default_scorecards_carry_the_dictionary_weights() -> None:
    cards = {c.call_type: c for c in default_scorecards()}
    assert {"qualification", "objection", "spam", "transactional", "reactivation"} <= set(cards)
    weight = {t: {c.name: c.weight for c in card.criteria} for t, card in cards.items()}
    assert weight["qualification"]["problem identification"] == 3
    assert weight["objection"]["objection handling"] == 4
    assert {weight["objection"][n] for n in ("initiative", "product presentation", "closing")} == {3}
    reactivation = weight["reactivation"]
    assert reactivation["initiative"] == max(reactivation.values())
    others = [w for t, ws in weight.items() for n, w in ws.items()
              if (t, n) not in {("qualification", "problem identification"), ("objection", "objection handling"),
                                ("objection", "initiative"), ("objection", "product presentation"),
                                ("objection", "closing"), ("reactivation", "initiative")}]
    assert others and all(1 <= w <= 2 for w in others)


def test_yaml_export_reads_back_the_same_scorecards() -> None:
    cards = default_scorecards()
    again = parse_yaml(to_yaml(cards))
    assert [c.content() for c in again] == [c.content() for c in cards]


@pytest.mark.parametrize("text,problem", [
    ("scorecards: [{call_type: x, criteria: [{name: a, weight: 0}]}]", "weight"),
    ("scorecards: [{call_type: x, criteria: [{name: a, weight: 1}, {name: A, weight: 2}]}]", "same name"),
    ("scorecards: [{call_type: 'Bad Type', criteria: [{name: a, weight: 1}]}]", "call_type"),
    ("scorecards: [{call_type: x, criteria: []}]", "criteria"),
    ("scorecards: [a: b: c", "YAML"),
])
def test_bad_scorecards_are_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(ScorecardError, match=problem):
        parse_yaml(text)


# -- on a store -----------------------------------------------------------------------------------


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    data = build_web_store(tmp_path)
    with Store(data.path) as opened:
        ensure_default_scorecards(opened)
        yield opened


def answered_calls(store: Store, agent: str) -> list[str]:
    rows = store.connection.execute(
        "SELECT DISTINCT call_id FROM agent_legs WHERE agent = ? AND outcome = 'answered' ORDER BY call_id",
        [agent]).fetchall()
    return [r[0] for r in rows]


def qualification_scores(**overrides: object) -> dict[str, object]:
    scores: dict[str, object] = {"greeting": "1", "problem identification": "0.5", "needs questions": "na",
                                 "product presentation": "1", "next step agreed": "0", "personal data consent": "1"}
    return {**scores, **overrides}


def test_a_saved_review_has_the_hand_computed_cqr(store: Store) -> None:
    call = answered_calls(store, "1001")[0]
    review = create_review(store, call_id=call, call_type="qualification", reviewer="qa", scores=qualification_scores())
    # weights greeting 1, problem identification 3, needs questions 2 (N/A), presentation 2, next step 2, consent 1
    assert review["cqr"] == pytest.approx(100 * (1 + 1.5 + 2 + 0 + 1) / (1 + 3 + 2 + 2 + 1))
    assert review["agent"] == "1001" and review["version"] == 1 and review["scorecard_version"] == 1
    failed = create_review(store, call_id=call, call_type="qualification", reviewer="qa2",
                           scores=qualification_scores(**{"personal data consent": "0"}))
    assert failed["cqr"] == 0 and failed["fatal_failed"]


def test_a_review_must_score_every_criterion_as_the_scorecard_allows(store: Store) -> None:
    call = answered_calls(store, "1001")[0]
    missing = qualification_scores()
    del missing["greeting"]
    with pytest.raises(ReviewError, match="greeting"):
        create_review(store, call_id=call, call_type="qualification", reviewer="qa", scores=missing)
    with pytest.raises(ReviewError, match="may not be N/A"):
        create_review(store, call_id=call, call_type="qualification", reviewer="qa",
                      scores=qualification_scores(**{"problem identification": "na"}))
    with pytest.raises(ReviewError, match="fatal"):
        create_review(store, call_id=call, call_type="qualification", reviewer="qa",
                      scores=qualification_scores(**{"personal data consent": "0.5"}))
    with pytest.raises(ReviewError, match="did not talk"):
        create_review(store, call_id=call, call_type="qualification", reviewer="qa", agent="1003",
                      scores=qualification_scores())


def test_changing_a_scorecard_never_changes_past_scores(store: Store) -> None:
    call = answered_calls(store, "1002")[0]
    before = create_review(store, call_id=call, call_type="qualification", reviewer="qa", scores=qualification_scores())
    old = load_scorecard(store, "qualification")
    assert old is not None and old.version == 1
    heavier = old.model_copy(update={"criteria": tuple(
        c.model_copy(update={"weight": 10.0}) if c.name == "next step agreed" else c for c in old.criteria)})
    assert save_scorecard(store, heavier, "admin") == 2
    assert save_scorecard(store, heavier, "admin") == 2  # the same content adds no version
    after = get_review(store, before["review_id"])
    assert after is not None and after["cqr"] == before["cqr"] and after["scorecard_version"] == 1
    assert load_scorecard(store, "qualification", 1).criterion("next step agreed").weight == 2  # type: ignore[union-attr]
    new = create_review(store, call_id=call, call_type="qualification", reviewer="qa2", scores=qualification_scores())
    assert new["scorecard_version"] == 2
    assert new["cqr"] == pytest.approx(100 * (1 + 1.5 + 2 + 0 + 1) / (1 + 3 + 2 + 10 + 1))


def test_a_correction_is_a_new_version_with_who_and_why(store: Store) -> None:
    call = answered_calls(store, "1003")[0]
    first = create_review(store, call_id=call, call_type="qualification", reviewer="qa", scores=qualification_scores())
    with pytest.raises(ReviewError, match="reason"):
        correct_review(store, first["review_id"], reviewer="lead", reason=" ", scores=qualification_scores())
    fixed = correct_review(store, first["review_id"], reviewer="lead", reason="misheard the consent",
                           scores=qualification_scores(**{"next step agreed": "1"}))
    assert fixed["version"] == 2 and fixed["reviewer"] == "lead" and fixed["reason"] == "misheard the consent"
    assert fixed["cqr"] == pytest.approx(100 * 7.5 / 9)
    original = get_review(store, first["review_id"], 1)
    assert original is not None and original["cqr"] == first["cqr"] and original["reviewer"] == "qa"
    assert [v["version"] for v in fixed["versions"]] == [1, 2]


def test_the_kpis_count_the_latest_version_of_each_review(store: Store) -> None:
    calls = answered_calls(store, "1001")
    good = create_review(store, call_id=calls[0], call_type="qualification", reviewer="qa",
                         scores=qualification_scores(**{"next step agreed": "1"}))
    bad = create_review(store, call_id=calls[1], call_type="qualification", reviewer="qa",
                        scores=qualification_scores(**{"personal data consent": "0"}))
    correct_review(store, bad["review_id"], reviewer="lead", reason="consent was given",
                   scores=qualification_scores())
    result = compute(store, KpiQuery(by=("agent",), metrics=("qa_reviews", "qa_coverage", "cqr", "qa_pass_rate",
                                                              "calls_handled"), params=PARAMS))
    row = next(r for r in result.rows if r["agent"] == "1001")
    corrected = 100 * 5.5 / 9
    assert row["qa_reviews"] == 2
    assert row["qa_coverage"] == pytest.approx(2 / row["calls_handled"])
    assert row["cqr"] == pytest.approx((good["cqr"] + corrected) / 2)
    assert good["cqr"] >= 80 > corrected and row["qa_pass_rate"] == pytest.approx(0.5)
    by_type = compute(store, KpiQuery(by=("call_type",), metrics=("qa_reviews", "cqr"), params=PARAMS))
    assert [(r["call_type"], r["qa_reviews"]) for r in by_type.rows] == [("qualification", 2)]


# -- the sample -----------------------------------------------------------------------------------


def synthetic_calls() -> list[HandledCall]:
    calls = []
    for agent, counts in (("a1", {"qualification": 6, "objection": 4}), ("a2", {"qualification": 7}),
                          ("a3", {"objection": 2, "spam": 1})):
        for call_type, count in counts.items():
            calls += [HandledCall(f"{agent}-{call_type}-{i}", agent, 60.0, "q", None, "inbound", call_type)
                      for i in range(count)]
    return calls


def test_the_sample_takes_the_share_of_each_agent_spread_over_call_types() -> None:
    chosen = stratified_choice(synthetic_calls(), DAY1, 0.3, "seed")
    per_agent = {a: sum(1 for c in chosen if c.agent == a) for a in ("a1", "a2", "a3")}
    assert per_agent == {"a1": 3, "a2": 2, "a3": 1}  # round(10 x 0.3), round(7 x 0.3), round(3 x 0.3)
    a1 = {t: sum(1 for c in chosen if c.agent == "a1" and c.call_type == t) for t in ("qualification", "objection")}
    assert a1 == {"qualification": 2, "objection": 1}  # 1.8 and 1.2: largest remainders


def test_the_sample_is_reproducible_from_its_seed_whatever_the_row_order() -> None:
    calls = synthetic_calls()
    shuffled = calls[:]
    random.Random(7).shuffle(shuffled)
    first = {c.call_id for c in stratified_choice(calls, DAY1, 0.3, "seed")}
    assert first == {c.call_id for c in stratified_choice(shuffled, DAY1, 0.3, "seed")}
    others = [{c.call_id for c in stratified_choice(calls, DAY1, 0.3, f"seed-{i}")} for i in range(5)]
    assert any(o != first for o in others)


def test_drawing_a_day_skips_short_calls_and_fills_the_queue(store: Store) -> None:
    params = PARAMS.with_overrides({"qa_sample_share": 0.5})
    result = draw_sample(store, DAY1, params, seed="s", min_talk_s=100)
    # day 1 answered talk: 1001 120 and 45, 1002 300 and 1300, 1003 600 and 90
    assert result.by_agent == {"1001": (1, 1), "1002": (2, 1), "1003": (1, 1)}
    queue = review_queue(store)
    assert len(queue) == 3 and {q["reason"] for q in queue} == {"sample"}
    again = draw_sample(store, DAY1, params, seed="s", min_talk_s=100)
    assert again.drawn == 3 and {q["call_id"] for q in review_queue(store)} == {q["call_id"] for q in queue}
    reviewed = queue[0]
    create_review(store, call_id=reviewed["call_id"], call_type="qualification", reviewer="qa",
                  agent=reviewed["agent"], scores=qualification_scores())
    assert reviewed["call_id"] not in {q["call_id"] for q in review_queue(store)}


def test_rules_pick_long_calls(store: Store) -> None:
    added = pick_by_rule(store, DAY1, PARAMS.with_overrides({"long_call_s": 500}), "long_call", per_agent=5)
    assert added == 2  # 1002's 1300 s and 1003's 600 s
    assert {q["agent"] for q in review_queue(store)} == {"1002", "1003"}


def test_scorecards_saved_in_the_store_list_by_call_type(store: Store) -> None:
    custom = Scorecard(call_type="retention", title="Retention", criteria=(Criterion(name="save offer", weight=2),))
    save_scorecard(store, custom, "admin")
    assert "retention" in {c.call_type for c in list_scorecards(store)}


# -- reports --------------------------------------------------------------------------------------


def test_the_weakest_criteria_per_agent(store: Store) -> None:
    calls = answered_calls(store, "1001")
    create_review(store, call_id=calls[0], call_type="qualification", reviewer="qa", scores=qualification_scores())
    create_review(store, call_id=calls[1], call_type="qualification", reviewer="qa", scores=qualification_scores(
        **{"next step agreed": "0.5", "product presentation": "0.5"}))
    rows = weakest_criteria(store, date_from=DAY1, date_to=DAY2, timezone=TZ, per_agent=2)
    assert [(r["agent"], r["criterion"], r["mean_score"], r["points_lost"]) for r in rows] == [
        ("1001", "next step agreed", 0.25, 3.0), ("1001", "problem identification", 0.5, 3.0)]
    assert weakest_criteria(store, date_from=date(2026, 3, 4), date_to=date(2026, 3, 5), timezone=TZ) == []


def test_calibration_compares_two_reviewers_on_the_same_call(store: Store) -> None:
    call = answered_calls(store, "1002")[0]
    create_review(store, call_id=call, call_type="qualification", reviewer="qa", scores=qualification_scores())
    create_review(store, call_id=call, call_type="qualification", reviewer="qa2", scores=qualification_scores(
        **{"greeting": "0", "next step agreed": "1", "needs questions": "1"}))
    rows = {r["criterion"]: r for r in calibration(store)}
    assert set(rows) == set(qualification_scores())
    assert all(r["pairs"] == 1 for r in rows.values())
    assert rows["greeting"]["mean_abs_diff"] == 1 and rows["next step agreed"]["mean_abs_diff"] == 1
    assert rows["problem identification"]["mean_abs_diff"] == 0 and rows["problem identification"]["agreement"] == 1
    assert rows["needs questions"]["na_mismatches"] == 1 and rows["needs questions"]["agreement"] == 0
