"""Issue 17 item 5: `callkpi compact` rewrites a store into a fresh file (the space of deleted and
replaced rows back, the raw events stored in the order that compresses). The KPIs of the compacted
store are those of the raw file, computed independently (tests/reference/queue_log.py), and the
raw events still rebuild everything when the file grows."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from tests.reference import queue_log as reference

from callkpi.config import Settings
from callkpi.ingest import queue_log_model
from callkpi.ingest.formats import load_file
from callkpi.metrics.engine import KpiQuery, available_metrics, compute
from callkpi.model.working_tables import QUEUE_LOG_NEW_CALLIDS
from callkpi.queries.calls import call_detail
from callkpi.simulate import simulate
from callkpi.storage import Store
from callkpi.storage.compact import STORED_ORDER, compact_store
from conftest import Cli, load_scenario, scenario_text
from test_ratio_bounds import small_centre

AGENT = re.compile(r"^Local/(\d+)@")
CONSTRAINTS = ("SELECT table_name, constraint_type, constraint_text FROM duckdb_constraints() "
               "WHERE database_name = current_database() ORDER BY ALL")


@pytest.fixture(scope="module")
def simulated_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small simulated centre's queue_log (written once for the module)."""
    directory = tmp_path_factory.mktemp("sim")
    simulate(small_centre(), directory)
    return directory / "queue_log"


def _reference_by_agent_day(log: Path, timezone: str) -> dict[tuple[str, str], dict[str, float]]:
    """Answered queue legs and their talk per (agent, local day of queue entry), from the raw lines."""
    zone, groups = ZoneInfo(timezone), defaultdict(lambda: {"answered": 0, "talk": 0.0, "wait": 0.0})
    for leg in reference.queue_legs(reference.read_events(log)):
        if leg.outcome != "answered":
            continue
        agent = AGENT.match(leg.agent)
        day = datetime.fromtimestamp(leg.entered, UTC).astimezone(zone).date().isoformat()
        group = groups[(agent.group(1) if agent else leg.agent, day)]
        group["answered"] += 1
        group["talk"] += leg.talk_s
        group["wait"] += leg.wait_s or 0.0
    return dict(groups)


def _kpi_json(cli: Cli, db: Path, timezone: str) -> list[dict]:
    result = cli("kpi", "--db", db, "--by", "agent,day", "--format", "json", "--tz", timezone)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _ingest(cli: Cli, db: Path, log: Path, timezone: str) -> None:
    result = cli("ingest", log, "--db", db, "--tz", timezone)
    assert result.exit_code == 0, result.output


def _garbage_store(cli: Cli, tmp_path: Path, log: Path) -> tuple[Path, str]:
    """A store whose queue_log was loaded, forgotten and loaded again (rebuilds by delete leave
    free blocks behind)."""
    timezone = small_centre().timezone
    db = tmp_path / "store.duckdb"
    _ingest(cli, db, log, timezone)
    assert cli("sources", "forget", "1", "--db", db).exit_code == 0
    _ingest(cli, db, log, timezone)
    return db, timezone


def test_a_compacted_store_gives_the_reference_kpis_by_agent_and_day(
    cli: Cli, tmp_path: Path, simulated_log: Path
) -> None:
    log = simulated_log
    db, timezone = _garbage_store(cli, tmp_path, log)
    before = _kpi_json(cli, db, timezone)
    result = cli("compact", "--db", db)
    assert result.exit_code == 0, result.output
    assert "MiB" in result.stdout
    after = _kpi_json(cli, db, timezone)
    assert after == before  # every KPI of every agent and day, unchanged
    expected = _reference_by_agent_day(log, timezone)
    got = {(row["agent"], row["day"]): row for row in after if row["calls_answered"]}
    assert set(got) == set(expected)
    for key, want in expected.items():
        row = got[key]
        assert row["calls_answered"] == want["answered"], key
        assert row["att_s"] == pytest.approx(want["talk"] / want["answered"]), key
        assert row["asa_s"] == pytest.approx(want["wait"] / want["answered"]), key


def test_compact_gives_back_the_space_and_keeps_every_row(cli: Cli, tmp_path: Path, simulated_log: Path) -> None:
    db, _tz = _garbage_store(cli, tmp_path, simulated_log)
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in tables}  # noqa: S608
        events = con.execute("SELECT * FROM queue_log_events ORDER BY source_id, line_no").fetchall()
        keys = con.execute(CONSTRAINTS).fetchall()
    report = compact_store(db)
    assert report.bytes_after < report.bytes_before
    assert report.tables == counts
    assert not db.with_name(db.name + ".compacting").exists()
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT * FROM queue_log_events ORDER BY source_id, line_no").fetchall() == events
        assert con.execute(CONSTRAINTS).fetchall() == keys  # primary keys and NOT NULLs kept
        order = ", ".join(STORED_ORDER["queue_log_events"])
        stored = con.execute(f"SELECT {order} FROM queue_log_events").fetchall()  # noqa: S608 - fixed names
        assert stored == sorted(stored)  # rewritten in the compressing order


def test_the_raw_events_of_a_compacted_store_still_rebuild_a_grown_file(
    cli: Cli, tmp_path: Path, simulated_log: Path
) -> None:
    log, timezone = simulated_log, small_centre().timezone
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    half = tmp_path / "grown" / "queue_log"
    half.parent.mkdir()
    half.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    compacted, whole = tmp_path / "compacted.duckdb", tmp_path / "whole.duckdb"
    _ingest(cli, compacted, half, timezone)
    assert cli("compact", "--db", compacted).exit_code == 0
    half.write_text("".join(lines), encoding="utf-8")  # the file grew: calls begun in the first half end now
    _ingest(cli, compacted, half, timezone)
    _ingest(cli, whole, log, timezone)
    assert _kpi_json(cli, compacted, timezone) == _kpi_json(cli, whole, timezone)



# -- every metric of every hand-made scenario, and the computed leg ids -------------------------

SCENARIO_DIR = Path(__file__).parent / "scenarios"
SCENARIOS = sorted(p.name for p in SCENARIO_DIR.iterdir()
                   if p.name.endswith((".queue_log", ".cdr.csv", ".cel.csv")))
DERIVED = ("calls", "queue_legs", "agent_legs", "agent_states", "agent_time")
SHAPES = ((("agent", "day"), True), (("queue", "hour"), False))  # (grouping, from the rollups)


def _every_metric(db: Path) -> dict[tuple[str, ...], list[dict]]:
    """Every metric the store has data for, by agent and day from the rollups, by queue and hour
    from the tables themselves."""
    with Store(db, read_only=True) as store:
        metrics = available_metrics(store)
        return {shape: compute(store, KpiQuery(by=shape, metrics=metrics), rollups=rollups).rows
                for shape, rollups in SHAPES}


def _rows(db: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return sorted(con.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)  # noqa: S608 - fixed names


def _load_scenario(db: Path, name: str, tmp_path: Path) -> None:
    with Store(db) as store:
        load_scenario(store, tmp_path, name)


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_metric_of_a_scenario_is_the_same_after_compaction(tmp_path: Path, name: str) -> None:
    db = tmp_path / "store.duckdb"
    _load_scenario(db, name, tmp_path)
    before = _every_metric(db)
    rows = {table: _rows(db, table) for table in DERIVED}
    compact_store(db)
    assert _every_metric(db) == before
    assert {table: _rows(db, table) for table in DERIVED} == rows


@pytest.mark.parametrize("name", [n for n in SCENARIOS if n.endswith(".queue_log")])
def test_the_raw_events_of_a_compacted_store_rebuild_the_same_calls(tmp_path: Path, name: str) -> None:
    """Re-derivation after a rule changes: every call rebuilt from the stored raw events alone
    (the tables dropped first) gives the rows the import gave."""
    db = tmp_path / "store.duckdb"
    _load_scenario(db, name, tmp_path)
    compact_store(db)
    rows = {table: _rows(db, table) for table in ("calls", "queue_legs", "agent_legs", "agent_states")}
    with Store(db) as store, store.transaction() as con:
        for table in ("calls", "queue_legs", "agent_legs", "agent_states", "agent_time"):
            con.execute(f'DELETE FROM "{table}"')  # noqa: S608 - fixed names
        store.create_working_table(QUEUE_LOG_NEW_CALLIDS, empty=True)
        con.execute("INSERT INTO ql_new_callids SELECT DISTINCT callid FROM queue_log_events")
        queue_log_model.register_agent_aliases(store, Settings())
        queue_log_model.rebuild(store, Settings(), None)
    assert {table: _rows(db, table) for table in rows} == rows


def test_leg_ids_are_computed_from_the_call_and_leg_number(tmp_path: Path) -> None:
    """``leg_id`` is no stored column: each queue leg's is its call id, '#', its number in the call
    (counted here from the ENTERQUEUE lines of the raw file), each agent leg's that of its queue leg."""
    db = tmp_path / "store.duckdb"
    _load_scenario(db, "overflow.queue_log", tmp_path)
    expected, entered = set(), defaultdict(int)
    for line in sorted(scenario_text("overflow.queue_log").splitlines(), key=lambda text: float(text.split("|")[0])):
        fields = line.split("|")
        if len(fields) > 4 and fields[4] == "ENTERQUEUE":
            entered[fields[1]] += 1
            expected.add((fields[1], f"{fields[1]}#{entered[fields[1]]}"))
    with duckdb.connect(str(db), read_only=True) as con:
        stored = {r[0]: r[1] for r in con.execute(
            "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
            "WHERE NOT is_generated AND table_name IN ('queue_legs', 'agent_legs') GROUP BY ALL").fetchall()}
        legs = set(con.execute("SELECT call_id, leg_id FROM queue_legs").fetchall())
        unmatched = con.execute("SELECT count(*) FROM agent_legs a ANTI JOIN queue_legs q USING (leg_id) "
                                "WHERE a.direction = 'inbound'").fetchall()[0][0]
    assert "leg_id" not in stored["queue_legs"] and "leg_id" not in stored["agent_legs"]
    assert legs == expected
    assert unmatched == 0


def test_a_store_with_stored_leg_ids_is_migrated_unchanged(tmp_path: Path, simulated_log: Path) -> None:
    """A store of an older callkpi (leg_id a stored column, agent_legs without leg_no, the caller
    on each queue leg) opens with the same leg ids, computed, the caller only in calls, and the
    same KPIs."""
    db = tmp_path / "store.duckdb"
    with Store(db) as store:
        load_file(store, simulated_log, Settings(), timezone=small_centre().timezone)
    before = _every_metric(db)
    legs = {table: _rows(db, table) for table in ("queue_legs", "agent_legs")}
    with duckdb.connect(str(db)) as con:  # back to the old layout, columns in their old order
        for table, select in (
            ("queue_legs", "SELECT q.* EXCLUDE (position), c.caller, c.caller_norm, q.position "
                           "FROM queue_legs q JOIN calls c USING (call_id)"),
            ("agent_legs", "SELECT * EXCLUDE (leg_no) FROM agent_legs"),
        ):
            con.execute(f"CREATE TABLE old AS {select}")
            con.execute(f"DROP TABLE {table}")
            con.execute(f"ALTER TABLE old RENAME TO {table}")
        assert con.execute("SELECT count(*) FROM duckdb_columns() WHERE is_generated").fetchall()[0][0] == 0
    with Store(db):
        pass
    with duckdb.connect(str(db), read_only=True) as con:
        generated = con.execute("SELECT table_name FROM duckdb_columns() WHERE is_generated "
                                "ORDER BY ALL").fetchall()
        callers = con.execute("SELECT count(*) FROM duckdb_columns() WHERE table_name = 'queue_legs' "
                              "AND column_name LIKE 'caller%'").fetchall()[0][0]
    assert generated == [("agent_legs",), ("queue_legs",)]
    assert callers == 0
    old_order = {t: sorted(rows, key=repr) for t, rows in legs.items()}
    with duckdb.connect(str(db), read_only=True) as con:
        got = {
            "queue_legs": sorted(con.execute("SELECT * FROM queue_legs").fetchall(), key=repr),
            "agent_legs": sorted(con.execute(
                "SELECT * EXCLUDE (leg_no), leg_no FROM agent_legs").fetchall(), key=repr),
        }
    assert got == old_order
    assert _every_metric(db) == before


def test_each_queue_leg_of_a_call_shows_the_caller_its_enterqueue_named(tmp_path: Path) -> None:
    """``queue_legs`` keeps no caller: the call page and API give each leg the call's, which is
    the number each ENTERQUEUE line of the raw file names (overflow: two legs, one number)."""
    db = tmp_path / "store.duckdb"
    _load_scenario(db, "overflow.queue_log", tmp_path)
    named = defaultdict(list)
    for line in scenario_text("overflow.queue_log").splitlines():
        fields = line.split("|")
        if len(fields) > 6 and fields[4] == "ENTERQUEUE":
            named[fields[1]].append(fields[6])
    with Store(db, read_only=True) as store:
        for callid, callers in named.items():
            detail = call_detail(store, callid, {}, hide_numbers=False)
            assert [leg["caller"] for leg in detail["queue_legs"]] == callers, callid
