"""The analyses beyond the registry's KPIs on ClickHouse (issue 16): the per-source listing, staffing
(who serves a queue, scheduled work), the training effect and the QA review workflow give on chDB (the
ClickHouse engine in-process) what they give on DuckDB over the same loaded data: the hand-made
scenarios, the queue-membership fixture of tests/test_staffing_queue_members.py, the training centre
of tests/test_training_effect_cohorts.py and a small simulated centre (every file the simulator
writes), each loaded into DuckDB and copied with `callkpi copy`'s code. The DuckDB side is the
reference: its own tests check it against hand computations. Skipped when chdb is not installed."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.simulate import simulate
from callkpi.storage import Store
from conftest import SCENARIOS
from test_ratio_bounds import SIMULATED_FILES, small_centre
from test_staffing_queue_members import RU, SERVING, write_log
from test_training_effect_cohorts import write_centre

pytest.importorskip("chdb")

from callkpi.storage.clickhouse import ClickHouseStore
from test_engine_conformance import open_stores

Pair = tuple[Store, ClickHouseStore]
# A few of the hand-made scenarios, queue_log and CDR (all of them take most of a minute to load)
SCENARIO_FILES = ("mixed.queue_log", "sessions.queue_log", "growth_part1.queue_log", "growth_part2.queue_log",
                  "acw.queue_log", "mixed.cdr.csv", "ring_members.cdr.csv")


def load_dataset(name: str, work: Path, store: Store) -> None:
    """One of the datasets below loaded into ``store`` (``work``: a folder for its files)."""
    if name == "scenarios":
        for file in SCENARIO_FILES:
            load_file(store, SCENARIOS / file, Settings(), timezone="UTC")
        # the same lines again in another file after a new first one: duplicates naming the first file
        again = work / "again.queue_log"
        again.write_bytes(b"1772440000|c0|sales|NONE|ENTERQUEUE||7|1\nnot a queue_log line\n"
                          + (SCENARIOS / SCENARIO_FILES[0]).read_bytes())
        load_file(store, again, Settings(), timezone="UTC")
    elif name == "members":
        write_log(work / "queue_log")
        load_file(store, work / "queue_log", RU, timezone="UTC")
    elif name == "training":
        for path in write_centre(work).values():
            load_file(store, path, RU, timezone="UTC")
    else:
        scenario = small_centre()
        simulate(scenario, work)
        for file in SIMULATED_FILES:
            load_file(store, work / file, Settings(), timezone=scenario.timezone)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Pair]]:
    """Each dataset in DuckDB and copied to chDB, built once for the module (the QA tests write into
    copies of their own)."""
    yield from open_stores(tmp_path_factory.mktemp("chanalyses"), ("scenarios", "members", "training", "simulated"),
                           load=load_dataset, clickhouse_rollups=False)


def same(a: Any, b: Any) -> bool:
    """Equal, floats within 1e-9 relative, through lists, tuples and dicts."""
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        if math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


# -- the per-source listing -----------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["scenarios", "simulated"])
def test_the_source_listing_is_the_same(stores: dict[str, Pair], dataset: str) -> None:
    from callkpi.queries.sources import source_listing

    duck, ch = stores[dataset]
    expected = source_listing(duck)
    assert any(r["calls"] for r in expected)
    if dataset == "scenarios":  # the listing's counts are exercised
        assert any(r["duplicates"] for r in expected) and any(r["quarantined"] for r in expected)
    assert same(source_listing(ch), expected)


# -- staffing -------------------------------------------------------------------------------------------

SLICES = [(None, None), (1969380, None), (None, 1969383), (1969380, 1969392)]  # slice 1969380: 2026-03-02 09:00 UTC


@pytest.mark.parametrize("queues", [("sales",), ("support",), ("sales", "support"), ("nosuch",)])
def test_the_agents_serving_a_queue_are_the_same(stores: dict[str, Pair], queues: tuple[str, ...]) -> None:
    from callkpi.queries.staffing import agents_serving, queue_members

    for dataset in ("members", "training", "simulated"):
        duck, ch = stores[dataset]
        for first, last in SLICES:
            expected = agents_serving(duck, queues, first, last)
            assert agents_serving(ch, queues, first, last) == expected, (dataset, first, last)
            assert queue_members(ch, queues, first, last) == queue_members(duck, queues, first, last)
    duck, _ = stores["members"]
    day = (1969344, 1969344 + 95)  # 2026-03-02 (UTC), where the fixture's hand list holds
    assert agents_serving(duck, ("sales",), *day) == sorted(SERVING["sales"])


def test_the_staffing_analysis_is_the_same(stores: dict[str, Pair]) -> None:
    """The whole analysis (demand, scheduled and logged-in agents) by interval and by typical week."""
    from dataclasses import asdict

    from callkpi.analyses.staffing import Targets, staffing
    from callkpi.config import MetricParams
    from callkpi.queries.staffing import scheduled_work_by_slice

    duck, ch = stores["simulated"]
    params = MetricParams(timezone=small_centre().timezone)
    seconds = scheduled_work_by_slice(duck, None, 0, 10**8)
    assert seconds and scheduled_work_by_slice(ch, None, 0, 10**8) == seconds
    some = sorted({r["agent"] for r in duck.fetch_records("SELECT DISTINCT agent FROM schedules")})[:2]
    assert scheduled_work_by_slice(ch, some, 0, 10**8) == scheduled_work_by_slice(duck, some, 0, 10**8)
    for typical_week in (False, True):
        for queues in ((), ("sales",)):
            expected = asdict(staffing(duck, params, Targets(), queues=queues, typical_week=typical_week))
            assert any(r.get("agents_scheduled") for r in expected["rows"])
            assert same(asdict(staffing(ch, params, Targets(), queues=queues, typical_week=typical_week)), expected)


# -- the training effect --------------------------------------------------------------------------------


def test_the_handle_time_per_call_is_the_same(stores: dict[str, Pair]) -> None:
    """The as-of join of after-call-work pauses to the call that ended last before each."""
    from callkpi.queries.training import handle_time_per_call

    duck, ch = stores["training"]
    expected = sorted(handle_time_per_call(duck, ["ACW"]).to_pylist(), key=lambda r: (r["agent"], r["t"]))
    assert len(expected) > 100 and any(r["v"] != round(r["v"]) or r["v"] > 0 for r in expected)
    found = sorted(handle_time_per_call(ch, ["ACW"]).to_pylist(), key=lambda r: (r["agent"], r["t"]))
    assert same(found, expected)


def test_the_training_effect_is_the_same(stores: dict[str, Pair]) -> None:
    """Every outcome of the training centre's programme: effects, intervals, cells and verdicts."""
    from dataclasses import asdict

    from callkpi.analyses.training_effect import training_effect
    from callkpi.config import MetricParams

    duck, ch = stores["training"]
    params = MetricParams(timezone="UTC", acw_pause_reasons=("ACW",))
    expected = [asdict(e) for e in training_effect(duck, params, window_days=6)]
    assert expected and any(e["effect"] is not None for e in expected)
    found = [asdict(e) for e in training_effect(ch, params, window_days=6)]
    assert same(found, expected)


# -- the QA review workflow -----------------------------------------------------------------------------
# These write (a sample, reviews, a response) into the simulated centre's two stores, the same steps on
# each, so they come last; review ids are random and times are the clock's, so those are left out.

VOLATILE = ("review_id", "reviewed_utc", "picked_utc", "responded_utc")


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def _days(duck: Store) -> list[Any]:
    from datetime import timedelta

    first, last = duck.column_bounds("calls", "start_utc")
    return [first.date() + timedelta(days=n) for n in range((last.date() - first.date()).days + 1)]


def test_the_imported_reviews_read_the_same(stores: dict[str, Pair]) -> None:
    """The review list (filtered and paged), single reviews and the QA reports over the imported reviews."""
    from callkpi.qa import reports
    from callkpi.qa.review import ReviewFilter, count_reviews, get_review, list_reviews

    duck, ch = stores["simulated"]
    everything = list_reviews(duck, ReviewFilter(limit=10_000))
    assert len(everything) > 10
    agent, queue = everything[0]["agent"], everything[0]["queue"]
    team = duck.fetch_all("SELECT team FROM agents WHERE agent = ?", [agent])[0][0]
    for wanted in (ReviewFilter(limit=10_000), ReviewFilter(agents=(agent,)), ReviewFilter(queues=(queue,)),
                   ReviewFilter(teams=(team,)), ReviewFilter(limit=5, offset=3),
                   ReviewFilter(call_id=everything[1]["call_id"])):
        assert same(list_reviews(ch, wanted), list_reviews(duck, wanted)), wanted
        assert count_reviews(ch, wanted) == count_reviews(duck, wanted)
    for row in everything[:5]:
        assert same(get_review(ch, row["review_id"]), get_review(duck, row["review_id"]))
    zone = small_centre().timezone
    for report in (reports.weakest_criteria, reports.criterion_scores_by_day, reports.calibration):
        expected = report(duck, timezone=zone)
        assert expected or report is reports.calibration
        assert same(report(ch, timezone=zone), expected), report.__name__
        first = _days(duck)[0]
        assert same(report(ch, date_from=first, date_to=first, timezone=zone),
                    report(duck, date_from=first, date_to=first, timezone=zone))
    assert same(reports.weakest_criteria(ch, agents=(agent,)), reports.weakest_criteria(duck, agents=(agent,)))
    assert same(reports.calibration_pairs(ch), reports.calibration_pairs(duck))


def test_the_sample_the_rules_and_the_queue_are_the_same(stores: dict[str, Pair]) -> None:
    from dataclasses import asdict

    from callkpi.config import MetricParams
    from callkpi.qa.sample import RULES, draw_sample, handled_calls, pick_by_rule, review_queue, review_queue_size

    duck, ch = stores["simulated"]
    params = MetricParams(timezone=small_centre().timezone, qa_sample_share=0.2)
    days = _days(duck)
    for day in days:
        assert handled_calls(ch, day, params, 10) == handled_calls(duck, day, params, 10)
        expected = asdict(draw_sample(duck, day, params))
        assert expected["drawn"] > 0
        assert asdict(draw_sample(ch, day, params)) == expected
        again = params.model_copy(update={"qa_sample_share": 0.1})  # drawing a day again replaces its sample
        assert asdict(draw_sample(ch, day, again, seed="other")) == asdict(draw_sample(duck, day, again, seed="other"))
        for rule in RULES:
            added = pick_by_rule(duck, day, params, rule, per_agent=1)
            assert pick_by_rule(ch, day, params, rule, per_agent=1) == added, (day, rule)
    assert review_queue_size(ch) == review_queue_size(duck) > 0
    assert _stable(review_queue(ch, limit=10_000)) == _stable(review_queue(duck, limit=10_000))
    agent = review_queue(duck, limit=1)[0]["agent"]
    assert _stable(review_queue(ch, agents=(agent,), limit=7, offset=2)) == _stable(
        review_queue(duck, agents=(agent,), limit=7, offset=2))


def test_reviews_are_written_and_read_the_same(stores: dict[str, Pair]) -> None:
    """A call picked by hand, reviewed, corrected and answered by its agent, on each engine."""
    from callkpi.qa.review import ReviewFilter, correct_review, create_review, get_review, list_reviews, respond
    from callkpi.qa.sample import pick_call, review_queue_size
    from callkpi.qa.scorecards import ensure_default_scorecards, list_scorecards

    duck, ch = stores["simulated"]
    for store in (duck, ch):
        ensure_default_scorecards(store)
    assert [c.content() for c in list_scorecards(ch)] == [c.content() for c in list_scorecards(duck)]
    card = list_scorecards(duck)[0]
    call_id = duck.fetch_all("SELECT call_id FROM calls WHERE agent IS NOT NULL ORDER BY call_id LIMIT 1")[0][0]
    scores = {c.name: "1" if n % 2 else "0.5" for n, c in enumerate(card.criteria) if not c.fatal} | {
        c.name: "1" for c in card.criteria if c.fatal}
    done = []
    for store in (duck, ch):
        picked = pick_call(store, call_id, user="qa", timezone=small_centre().timezone)
        waiting = review_queue_size(store)
        first = create_review(store, call_id=call_id, call_type=card.call_type, reviewer="qa", scores=scores,
                              comment="a review")
        assert review_queue_size(store) == waiting - 1
        fixed = correct_review(store, first["review_id"], reviewer="lead", reason="misheard",
                               scores={**scores, card.criteria[0].name: "1"})
        respond(store, first["review_id"], agent=fixed["agent"], response="disputed", comment="no", user="agent")
        done.append((picked, first, get_review(store, first["review_id"]), get_review(store, first["review_id"], 1),
                     list_reviews(store, ReviewFilter(call_id=call_id))))
    assert done[1][2]["version"] == 2 and done[1][2]["response"]["response"] == "disputed"
    assert same(_stable(list(done[1][1:])), _stable(list(done[0][1:]))) and done[1][0] == done[0][0]
