"""KPI rollups give the numbers the raw tables give over a simulated centre, its queue_log and CDR
loaded in either order, in parts, for any query (helpers in test_rollup.py; a file of its own so
that the test workers share out the rollup checks: pytest-xdist hands out whole files)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callkpi.config import MetricParams, Settings
from callkpi.ingest.formats import load_file
from callkpi.metrics.engine import KpiQuery
from callkpi.simulate import Scenario, simulate
from callkpi.storage import Store
from conftest import write_log
from test_rollup import GROUPINGS, _rotated, assert_incremental_equals_rebuild, assert_same

# -- a simulated centre: queue_log and CDR, either order -------------------------------------------


def _scenario() -> Scenario:
    data = Scenario().model_dump()
    data.update(days=3, seed=5, agents=8)
    data["arrivals"]["calls_per_day"] = 300
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rollup_sim")
    simulate(_scenario(), folder)
    return folder


def _load_sim(run: Path, names: Sequence[str], zone: str = "Europe/Moscow") -> Store:
    store = Store(":memory:")
    store.set_meta("timezone", zone)
    for name in names:
        load_file(store, run / name, Settings(), timezone="Europe/Moscow")
    return store


@pytest.fixture(scope="module", params=[("queue_log", "Master.csv"), ("Master.csv", "queue_log")],
                ids=["queue_log-first", "cdr-first"])
def centre(run: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    store = _load_sim(run, request.param)
    yield store
    store.close()


def test_simulated_centre_same_with_rollups(centre: Store) -> None:
    first = centre.connection.execute("SELECT min(start_utc)::DATE FROM calls").fetchall()[0][0]
    days = [None, (first, first), (date.fromordinal(first.toordinal() + 1), date.fromordinal(first.toordinal() + 2))]
    for query in _rotated(GROUPINGS, ("Europe/Moscow", "Europe/Berlin", "Asia/Kolkata"), days):
        assert_same(centre, query)
    assert_incremental_equals_rebuild(centre)


def test_simulated_centre_filters_same_with_rollups(centre: Store) -> None:
    queue = centre.connection.execute("SELECT min(queue) FROM queue_legs").fetchall()[0][0]
    agent = centre.connection.execute("SELECT min(agent) FROM agent_legs").fetchall()[0][0]
    filters = [{"queue": (queue,)}, {"agent": (agent,)}, {"direction": ("outbound",)}, {"source": ("queue_log",)}]
    for flt, by in zip(filters * 2, GROUPINGS[1:9], strict=True):
        assert_same(centre, KpiQuery(by=by, filters=flt, params=MetricParams(timezone="Europe/Moscow")))


def test_cdr_loaded_after_queue_log_in_parts_keeps_rollups_identical(run: Path, tmp_path: Path) -> None:
    """queue_log in two appended parts with the CDR loaded between them."""
    lines = (run / "queue_log").read_text(encoding="utf-8").splitlines(keepends=True)
    path = write_log(tmp_path, "".join(lines[: len(lines) // 2]), "queue_log")
    with Store(":memory:") as store:
        store.set_meta("timezone", "Europe/Moscow")
        load_file(store, path, Settings(), timezone="Europe/Moscow")
        load_file(store, run / "Master.csv", Settings(), timezone="Europe/Moscow")
        assert_incremental_equals_rebuild(store)
        with path.open("a", encoding="utf-8") as handle:
            handle.write("".join(lines[len(lines) // 2:]))
        load_file(store, path, Settings(), timezone="Europe/Moscow")
        assert_incremental_equals_rebuild(store)
        for by in ((), ("agent", "day"), ("queue", "interval"), ("did",)):
            assert_same(store, KpiQuery(by=by, params=MetricParams(timezone="Europe/Moscow")))


_DIMS = ("agent", "team", "queue", "direction", "source", "campaign", "pause_reason", "did", "trunk")
_TIMES = ("hour", "day", "week", "month", "interval", "weekday", "time_of_day")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    dims=st.lists(st.sampled_from(_DIMS), max_size=2, unique=True),
    times=st.lists(st.sampled_from(_TIMES), max_size=1, unique=True),
    zone=st.sampled_from(("Europe/Moscow", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "UTC")),
    start=st.integers(min_value=-1, max_value=4),
    length=st.integers(min_value=0, max_value=3),
    interval=st.sampled_from((15, 30, 60)),
    threshold=st.sampled_from((20.0, 20.0, 30.0)),
)
def test_any_query_same_with_rollups(centre: Store, dims: list[str], times: list[str], zone: str, start: int,
                                     length: int, interval: int, threshold: float) -> None:
    first = centre.connection.execute("SELECT min(start_utc)::DATE FROM calls").fetchall()[0][0]
    date_from = date.fromordinal(first.toordinal() + start) if start >= 0 else None
    date_to = date.fromordinal(date_from.toordinal() + length) if date_from else None
    params = MetricParams(timezone=zone, interval_minutes=interval, sl_threshold_s=threshold)
    assert_same(centre, KpiQuery(by=(*dims, *times), date_from=date_from, date_to=date_to, params=params))
