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

from callkpi.simulate import simulate
from callkpi.storage.compact import STORED_ORDER, compact_store
from conftest import Cli
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

