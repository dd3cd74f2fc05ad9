"""`callkpi ingest` straight into ClickHouse (issue 16, item 1), on chDB: the same tables and KPIs
as a DuckDB store loaded with the same files, the same file twice adds nothing, a grown file adds
only its new lines, an interrupted import leaves nothing visible. Skipped when chdb is missing.

The hand-made scenarios are a representative subset (QUEUE_LOG_SUBSET, CDR_SUBSET), not all of them:
what this module checks is the staged import and its publication (tables copied to a DuckDB stage,
loaded there by the ordinary importers, the changed tables swapped in), which does not depend on the
calls a file holds. The subset gives every table an import writes rows in (queue_log events, calls,
agent legs, agent time with pauses and ACW, transfers, CDR legs of queue and ring-group calls);
every scenario's KPIs on both engines are compared in tests/test_engine_conformance.py, and every
importer's handling of every scenario in the importer's own tests. The simulated centre has a third
of the small centre's calls (quiet_centre): every kind of file the simulator writes, fewer rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.engine import KpiQuery, compute
from callkpi.simulate import Scenario, simulate
from callkpi.storage import Store
from conftest import SCENARIOS
from test_ratio_bounds import SIMULATED_FILES, small_centre

pytest.importorskip("chdb")

from callkpi.metrics.rollup import import_into_clickhouse
from callkpi.storage.clickhouse import ClickHouseStore
from callkpi.storage.clickhouse_ingest import STAGED_PREFIX, staged_import
from test_engine_conformance import differing_metrics

# Tables an import writes whose rows both engines must hold alike (the rollups are compared by KPIs).
COMPARED = ("queue_log_events", "cdr_records", "calls", "agent_legs", "agent_time", "sources", "quarantine",
            "deals", "surveys")


# ACW and its pauses, transfers between agents, a pause of all queues, a caller cut mid-call, events
# of several kinds in one call; CDR: one leg per member of a ring group, local channel halves, a queue
# wait beside direct calls, summary rows beside the legs.
QUEUE_LOG_SUBSET = ("acw.queue_log", "transfers.queue_log", "pauseall.queue_log", "cut_mid_call.queue_log",
                    "mixed.queue_log")
CDR_SUBSET = ("ring_members.cdr.csv", "local_halves.cdr.csv", "queue_wait_mix.cdr.csv", "summary_rows.cdr.csv")


def quiet_centre() -> Scenario:
    """tests/test_ratio_bounds.py's small centre with 50 calls a day, not 150: every kind of file, each with rows."""
    data = small_centre().model_dump()
    data["arrivals"]["calls_per_day"] = 50
    return Scenario.model_validate(data)


def _files(name: str, work: Path) -> list[tuple[Path, str]]:
    if name == "simulated":
        scenario = quiet_centre()
        simulate(scenario, work)
        return [(work / file, scenario.timezone) for file in SIMULATED_FILES]
    names = QUEUE_LOG_SUBSET if name == "scenarios_queue_log" else CDR_SUBSET
    return [(SCENARIOS / file, "UTC") for file in names]


def _counts(store: object, tables: tuple[str, ...] = COMPARED) -> dict[str, int]:
    sizes = store.table_sizes()  # type: ignore[attr-defined]
    return {t: store.row_count(t) for t in tables if t in sizes}  # type: ignore[attr-defined]


def _ch_import(ch: ClickHouseStore, files: list[tuple[Path, str]]) -> list[str]:
    with import_into_clickhouse(ch) as stage:  # as `callkpi ingest` does: ClickHouse then rebuilds its rollups
        return [load_file(stage, path, Settings(), timezone=zone).status for path, zone in files]


@pytest.mark.parametrize("dataset", ["scenarios_queue_log", "scenarios_cdr", "simulated"])
def test_ingest_into_clickhouse_equals_duckdb_and_twice_adds_nothing(tmp_path: Path, dataset: str) -> None:
    files = _files(dataset, tmp_path)
    with Store(tmp_path / "d.duckdb") as duck, ClickHouseStore(f"chdb://{tmp_path / 'ch'}") as ch:
        for path, zone in files:
            load_file(duck, path, Settings(), timezone=zone)
        half = len(files) // 2  # two imports: the second publishes over the first's tables
        _ch_import(ch, files[:half])
        _ch_import(ch, files[half:])
        expected = _counts(duck)
        assert expected["calls"] > 0
        assert _counts(ch) == expected
        assert ch.table_engine("rollup_calls_day") == "AggregatingMergeTree"  # rebuilt by ClickHouse, not uploaded
        query = KpiQuery(by=("day",), metrics=tuple(REGISTRY.metrics))
        for rollups in (True, False):
            assert differing_metrics(compute(duck, query, rollups=rollups), compute(ch, query, rollups=rollups)) == {}
        again = [load_file(duck, path, Settings(), timezone=zone).status for path, zone in files]
        assert _ch_import(ch, files) == again and again.count("unchanged") >= len(files) - 1
        assert _counts(ch) == _counts(duck)
        facts = ("queue_log_events", "cdr_records", "calls", "agent_legs", "agent_time")
        if set(again) == {"unchanged"}:  # (a CDR scenario repeating another's rows loads again on DuckDB too)
            assert _counts(ch, facts) == {t: expected[t] for t in facts if t in expected}  # no row added


def test_a_grown_file_adds_only_its_new_lines(tmp_path: Path) -> None:
    lines = (SCENARIOS / "answered.queue_log").read_bytes().splitlines(keepends=True)
    lines += (SCENARIOS / "acw.queue_log").read_bytes().splitlines(keepends=True)
    grown = tmp_path / "queue_log"
    grown.write_bytes(b"".join(lines[: len(lines) // 2]))
    with ClickHouseStore(f"chdb://{tmp_path / 'ch'}") as ch:
        assert _ch_import(ch, [(grown, "UTC")]) == ["loaded"]
        first = _counts(ch)["queue_log_events"]
        grown.write_bytes(b"".join(lines))
        assert _ch_import(ch, [(grown, "UTC")]) == ["appended"]
        with Store(tmp_path / "d.duckdb") as duck:
            load_file(duck, grown, Settings(), timezone="UTC")
            assert _counts(ch) == _counts(duck)
            assert 0 < first < _counts(duck)["queue_log_events"]
        assert ch.fetch_all("SELECT count(), max(lines_read) FROM sources")[0] == (1, len(lines))


def test_an_interrupted_import_leaves_nothing_visible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = SCENARIOS / "answered.queue_log", SCENARIOS / "acw.queue_log"
    with ClickHouseStore(f"chdb://{tmp_path / 'ch'}") as ch:
        _ch_import(ch, [(first, "UTC")])
        before = _counts(ch)
        with pytest.raises(KeyboardInterrupt), staged_import(ch) as stage:  # stopped while loading
            load_file(stage, second, Settings(), timezone="UTC")
            raise KeyboardInterrupt
        assert _counts(ch) == before

        uploads = 0

        def failing_upload(table: str, data: object) -> None:  # the connection lost mid-upload
            nonlocal uploads
            uploads += 1
            if uploads > 1:
                raise ConnectionError("lost")
            original(table, data)

        original = ch.append_arrow
        monkeypatch.setattr(ch, "append_arrow", failing_upload)
        with pytest.raises(ConnectionError):
            _ch_import(ch, [(second, "UTC")])
        monkeypatch.undo()
        assert uploads > 1 and _counts(ch) == before
        assert not [n for n in ch.table_sizes() if n.startswith(STAGED_PREFIX)]
        assert ch.fetch_all("SELECT count() FROM system.tables WHERE database = currentDatabase() "
                            "AND startsWith(name, ?)", [STAGED_PREFIX])[0][0] > 0  # left, unseen
        assert _ch_import(ch, [(second, "UTC")]) == ["loaded"]  # the next import drops them and loads
        assert _counts(ch)["queue_log_events"] > before["queue_log_events"]
        assert ch.fetch_all("SELECT count() FROM system.tables WHERE database = currentDatabase() "
                            "AND startsWith(name, ?)", [STAGED_PREFIX])[0][0] == 0


def test_cli_ingest_into_chdb_then_kpi_equals_duckdb(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = [SCENARIOS / "answered.queue_log", SCENARIOS / "acw.queue_log"]
    url, duck = f"chdb://{tmp_path / 'ch'}", tmp_path / "d.duckdb"
    assert cli("ingest", "--db", duck, *files).exit_code == 0
    loaded = cli("ingest", "--db", url, *files)
    assert loaded.exit_code == 0, loaded.output
    again = cli("ingest", "--db", url, *files)
    assert again.exit_code == 0 and again.stdout.count("already loaded") == 2
    args = ("kpi", "--by", "agent", "--format", "json")
    on_duck, on_ch = cli(*args, "--db", duck), cli(*args, "--db", url)
    assert on_ch.exit_code == 0, on_ch.output
    assert on_ch.stdout == on_duck.stdout and '"calls_handled"' in on_ch.stdout
