"""KPI rollups give the numbers the raw tables give: for every grouping, filter, date range and
time zone (DST days included), after first loads, appended lines, re-imports and files loaded later.

All scenario files in one store: test_rollup_zones.py; the DST days: test_rollup_dst.py; a simulated centre:
test_rollup_centre.py (files of their own, so that the test workers share out the rollup checks)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from callkpi.config import MetricParams, Settings
from callkpi.ingest.formats import load_file
from callkpi.metrics import engine, rollup
from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.engine import KpiQuery, compute
from callkpi.storage import Store
from conftest import SCENARIOS, scenario_text, write_log

GROUPINGS: tuple[tuple[str, ...], ...] = (
    (), ("agent",), ("queue",), ("team",), ("direction",), ("source",), ("pause_reason",), ("campaign",),
    ("did",), ("agent", "day"), ("queue", "interval"), ("queue", "hour"), ("day",), ("week",), ("month",),
    ("weekday", "time_of_day"), ("agent", "interval"), ("queue", "direction", "day"),
)
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")


def assert_same(store: Store, query: KpiQuery) -> None:
    """The engine's answer with rollups equals its answer from the raw tables."""
    rolled = compute(store, query)
    raw = compute(store, query, rollups=False)
    assert rolled.metrics == raw.metrics
    assert len(rolled.rows) == len(raw.rows), query
    for got, want in zip(rolled.rows, raw.rows, strict=True):
        assert got.keys() == want.keys()
        for key, value in want.items():
            assert _same(got[key], value), (query, key, got[key], value)
    assert rolled.notes == raw.notes


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) and isinstance(got, float):
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-6)
    return bool(got == want)


def rollup_rows(store: Store) -> dict[str, list[tuple]]:
    """Every rollup table's rows, sorted, floats rounded (sums may be added in another order)."""
    result = {}
    for table in sorted(rollup.rollup_sizes(store)):
        rows = store.connection.execute(f'SELECT * FROM "{table}"').fetchall()  # noqa: S608 - our table names
        rounded = [tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows]
        result[table] = sorted(rounded, key=lambda r: tuple((v is None, str(v)) for v in r))
    return result


def assert_incremental_equals_rebuild(store: Store) -> None:
    """The incrementally maintained rollups equal rollups recomputed from scratch."""
    maintained = rollup_rows(store)
    assert maintained, "no rollups were built"
    params = rollup.stored_params(store)
    assert params is not None
    rollup.rebuild(store, params)
    assert rollup_rows(store) == maintained


def _queries(by_options: Sequence[tuple[str, ...]], zones: Sequence[str], days: Sequence[tuple[date, date] | None],
             filters: Sequence[dict[str, tuple[str, ...]]] = ({},)) -> Iterator[KpiQuery]:
    for by in by_options:
        for zone in zones:
            for span in days:
                for flt in filters:
                    yield KpiQuery(by=by, date_from=span[0] if span else None, date_to=span[1] if span else None,
                                   filters=flt, params=MetricParams(timezone=zone, interval_minutes=15))


# -- queue_log scenarios ---------------------------------------------------------------------------


def _scenario_store(tmp_path: Path, names: Sequence[str], zone: str = "UTC") -> Store:
    store = Store(":memory:")
    store.set_meta("timezone", zone)
    for name in names:
        path = write_log(tmp_path, scenario_text(name), name)
        load_file(store, path, Settings(), timezone=zone)
    return store


SCENARIO_NAMES = sorted(p.name for p in SCENARIOS.glob("*.queue_log"))


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_every_scenario_rollups_equal_a_rebuild(tmp_path: Path, name: str) -> None:
    with _scenario_store(tmp_path, [name]) as store:
        assert_incremental_equals_rebuild(store)


def _rotated(by_options: Sequence[tuple[str, ...]], zones: Sequence[str],
             days: Sequence[tuple[date, date] | None]) -> Iterator[KpiQuery]:
    """Each grouping once, cycling through the zones and date ranges (a product would be too slow)."""
    for i, by in enumerate(by_options):
        span = days[i % len(days)]
        zone = zones[(i // len(days)) % len(zones)] if len(zones) > 1 else zones[0]
        yield KpiQuery(by=by, date_from=span[0] if span else None, date_to=span[1] if span else None,
                       params=MetricParams(timezone=zone, interval_minutes=15))


def _plan(store: Store, query: KpiQuery) -> engine._RollupPlan | None:
    return engine._RollupPlan.of(engine._Build(store, query, {}, {}), rollup.data_context(store))


def test_day_rollup_is_used_in_its_zone(tmp_path: Path) -> None:
    with _scenario_store(tmp_path, ["dst_berlin.queue_log", "acw.queue_log"], "Europe/Berlin") as store:
        berlin = KpiQuery(by=("agent", "day"), params=MetricParams(timezone="Europe/Berlin"))
        plan = _plan(store, berlin)
        assert plan is not None
        part = plan.part(REGISTRY.facts["queue_legs"], ["ql_offered", "ql_answered"])
        assert part is not None and part[1] == {"ql_offered", "ql_answered"}
        assert "rollup_queue_legs_day" in engine.ibis.to_sql(part[0])
        by_interval = KpiQuery(by=("agent", "interval"), params=MetricParams(timezone="Europe/Berlin"))
        plan = _plan(store, by_interval)
        assert plan is not None and plan.part(REGISTRY.facts["queue_legs"], ["ql_offered"]) is None
        other_zone = KpiQuery(by=("queue", "interval"), params=MetricParams(timezone="Asia/Kolkata"))
        plan = _plan(store, other_zone)
        assert plan is not None
        part = plan.part(REGISTRY.facts["queue_legs"], ["ql_offered"])
        assert part is not None and "rollup_queue_legs_slice" in engine.ibis.to_sql(part[0])


def test_distinct_counts_and_medians_are_never_rolled_up() -> None:
    with Store(":memory:") as store:
        held = {m for g in rollup.grains(store.ibis, MetricParams()) for m in g.measures}
    assert {"ql_offered", "ql_max_wait_s", "al_talk_s", "at_idle_s", "at_acw_s", "c_missed"} <= held
    assert {"c_fcr_eligible", "c_fcr_resolved"} <= held  # for the data end at refresh time
    assert not held & {"o_unique_numbers", "o_numbers_contacted", "c_time_to_callback_s"}


def test_other_parameters_fall_back_to_raw(tmp_path: Path) -> None:
    with _scenario_store(tmp_path, ["answered.queue_log", "acw.queue_log", "empty_denominators.queue_log"]) as store:
        for params in (MetricParams(sl_threshold_s=5), MetricParams(short_abandon_s=0),
                       MetricParams(acw_pause_reasons=("Lunch",)), MetricParams(sl_variant="answered"),
                       MetricParams(fcr_window_h=24)):
            for by in ((), ("agent",), ("queue", "interval")):
                assert_same(store, KpiQuery(by=by, params=params))
        plan = _plan(store, KpiQuery(params=MetricParams(sl_threshold_s=5)))
        assert plan is not None
        part = plan.part(REGISTRY.facts["queue_legs"], ["ql_offered", "ql_answered_within_t"])
        assert part is not None and part[1] == {"ql_offered"}


def test_filters_same_with_rollups(tmp_path: Path) -> None:
    names = ["answered.queue_log", "overflow.queue_log", "transfers.queue_log", "pauseall.queue_log"]
    with _scenario_store(tmp_path, names) as store:
        queues = [r[0] for r in store.connection.execute("SELECT DISTINCT queue FROM queue_legs").fetchall()]
        agents = [r[0] for r in store.connection.execute("SELECT DISTINCT agent FROM agent_legs").fetchall()]
        filters = [{"queue": (queues[0],)}, {"queue": tuple(queues)}, {"agent": (agents[0],)},
                   {"agent": tuple(agents[:2]), "queue": (queues[-1],)}, {"direction": ("inbound",)}]
        days = (None, (date(2026, 3, 2), date(2026, 3, 2)))
        for i, by in enumerate(GROUPINGS[:12]):
            span = days[i % 2]
            assert_same(store, KpiQuery(by=by, filters=filters[i % len(filters)], date_from=span and span[0],
                                        date_to=span and span[1]))


# -- incremental maintenance -------------------------------------------------------------------------


def test_appended_lines_keep_rollups_identical(tmp_path: Path) -> None:
    with Store(":memory:") as store:
        path = write_log(tmp_path, scenario_text("growth_part1.queue_log"), "queue_log")
        load_file(store, path, Settings(), timezone="UTC")
        assert_incremental_equals_rebuild(store)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(scenario_text("growth_part2.queue_log"))
        assert load_file(store, path, Settings(), timezone="UTC").status == "appended"
        for query in _rotated(GROUPINGS[:8], ("UTC", "Europe/Berlin"), (None,)):
            assert_same(store, query)
        assert_incremental_equals_rebuild(store)
        assert load_file(store, path, Settings(), timezone="UTC").status == "unchanged"
        assert_incremental_equals_rebuild(store)


def test_files_loaded_later_keep_rollups_identical(tmp_path: Path) -> None:
    with Store(":memory:") as store:
        for name in ("sessions.queue_log", "acw.queue_log", "overflow.queue_log", "fcr.queue_log",
                     "cut_mid_call.queue_log", "queuestart.queue_log"):
            path = write_log(tmp_path, scenario_text(name), name)
            load_file(store, path, Settings(), timezone="UTC")
            assert_incremental_equals_rebuild(store)
        for by in GROUPINGS[:6]:
            assert_same(store, KpiQuery(by=by))


def test_fcr_rollups_follow_the_data_end(tmp_path: Path) -> None:
    """FCR counts only calls whose repeat window is over: a file that moves the data end 10 days on
    settles calls loaded earlier, and the rolled-up FCR must follow (and equal the raw one)."""
    fcr = ("fcr_rate",)
    with Store(":memory:") as store:
        load_file(store, write_log(tmp_path, scenario_text("fcr.queue_log"), "fcr"), Settings(), timezone="UTC")
        before = compute(store, KpiQuery(metrics=fcr)).rows[0]
        later = "1773500000|1773500000.900|sales|NONE|ENTERQUEUE||74950000999|1\n" \
                "1773500030|1773500000.900|sales|NONE|ABANDON|1|1|30\n"
        load_file(store, write_log(tmp_path, later, "later"), Settings(), timezone="UTC")
        after = compute(store, KpiQuery(metrics=fcr)).rows[0]
        assert before["fcr_rate"] is None and after["fcr_rate"] is not None
        for by in ((), ("day",), ("agent", "day"), ("queue", "interval")):
            assert_same(store, KpiQuery(by=by, metrics=fcr))
        assert_incremental_equals_rebuild(store)
        plan = _plan(store, KpiQuery(metrics=fcr))
        assert plan is not None
        part = plan.part(REGISTRY.facts["calls"], ["c_fcr_eligible", "c_fcr_resolved"])
        assert part is not None and part[1] == {"c_fcr_eligible", "c_fcr_resolved"}
        store.set_meta(rollup.DATA_END_KEY, "2000-01-01T00:00:00")  # rollups made for another data end
        stale = _plan(store, KpiQuery(metrics=fcr))
        assert stale is not None and stale.part(REGISTRY.facts["calls"], ["c_fcr_eligible"]) is None


def test_changed_parameters_rebuild_the_rollups(tmp_path: Path) -> None:
    with Store(":memory:") as store:
        load_file(store, write_log(tmp_path, scenario_text("acw.queue_log"), "a"), Settings(), timezone="UTC")
        other = Settings.model_validate({"params": {"sl_threshold_s": 7, "acw_pause_reasons": ["Lunch"]}})
        load_file(store, write_log(tmp_path, scenario_text("answered.queue_log"), "b"), other, timezone="UTC")
        stored = rollup.stored_params(store)
        assert stored is not None and stored.sl_threshold_s == 7
        assert_same(store, KpiQuery(by=("agent",), params=MetricParams(sl_threshold_s=7,
                                                                       acw_pause_reasons=("Lunch",))))
        assert_incremental_equals_rebuild(store)


