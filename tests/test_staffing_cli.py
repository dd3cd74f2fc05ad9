"""`callkpi staffing` turns the engine's offered calls and AHT per interval into Erlang staffing."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from callkpi.cli import _register_commands, app
from callkpi.staffing.erlang import erlang_c_agents_required

T0 = 1772442000  # 2026-03-02 09:00:00 UTC, a Monday


def _log(path: Path) -> None:
    """Ten calls between 09:00 and 09:30 UTC, each waiting 5 s and talking 175 s, all answered
    by agent 1001 (no abandons, so Erlang C applies): offered 10, AHT (175 + 0 hold + 0 ACW) = 175 s."""
    lines = [f"{T0 - 60}|NONE|NONE|NONE|QUEUESTART|", f"{T0 - 30}|MANAGER|sales|SIP/1001|ADDMEMBER|"]
    for i in range(10):
        start, call = T0 + i * 170, f"{T0 + i * 170}.{i}"
        lines += [
            f"{start}|{call}|sales|NONE|ENTERQUEUE||7495100000{i}|1",
            f"{start + 5}|{call}|sales|SIP/1001|CONNECT|5|{call}1|2",
            f"{start + 180}|{call}|sales|SIP/1001|COMPLETECALLER|5|175|1",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_staffing_matches_erlang_c_for_the_measured_demand(tmp_path: Path) -> None:
    _register_commands()
    log, db = tmp_path / "queue_log", tmp_path / "s.duckdb"
    _log(log)
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", "--db", str(db), str(log)]).exit_code == 0
    result = runner.invoke(
        app,
        ["staffing", "--db", str(db), "--tz", "UTC", "--format", "json", "--service-level", "0.8",
         "--threshold-s", "20", "--max-occupancy", "0.85", "--shrinkage", "0.3"],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)  # notes go to stderr
    first = next(r for r in rows if r["interval"].startswith("2026-03-02T09:00"))
    expected = erlang_c_agents_required(
        10, 1800, 175, target_s=20, service_level_target=0.8, max_occupancy=0.85, shrinkage=0.3
    )
    assert first["offered"] == 10
    assert first["aht_s"] == 175
    assert first["agents_needed"] == expected.raw_agents
    assert first["agents_needed_with_shrinkage"] == expected.scheduled_agents
    assert first["agents_scheduled"] is None  # no schedules loaded: unknown, not 0
    # logged in from before 09:00 until the log ends at the last COMPLETECALLER, 09:28:30:
    # 1710 s of the 1800 s interval = 0.95 agents on average
    assert first["agents_logged_in"] == 0.95
