"""Staff lists and teams: who works in which team since when, who left and why, who leads a team.

An agent may have several employment spells (rehired): one row each. A newer file replaces what
older files said about the same agents (or teams). The ``agents`` table gets each agent's name
and team from here (the ``team`` dimension of every KPI), and ``staff_days`` counts who was
employed on each day (headcount, turnover).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from callkpi.ingest.base import ImportReport
from callkpi.ingest.business.rows import ParseContext, Row, RowError
from callkpi.ingest.business.values import parse_day
from callkpi.model.business_schema import STAFF, arrow_records
from callkpi.storage import Store, first_row


def parse_row(row: Row, ctx: ParseContext) -> dict[str, Any]:
    if ctx.kind == "teams":
        return _team_row(row)
    agent = row.text("agent")
    if not agent:
        raise RowError("empty agent")
    hired = parse_day(row.get("hired"), ctx.mapping, "hired")
    left = parse_day(row.get("left"), ctx.mapping, "left")
    if hired and left and left < hired:
        raise RowError(f"left {left} is before hired {hired}")
    return {
        "agent": agent,
        "name": row.text("name"),
        "team": row.text("team"),
        "hired": hired,
        "left_on": left,
        "leave_reason": row.text("leave_reason"),
        "aliases": row.text("aliases"),
        "team_lead": row.text("team_lead"),
    }


def _team_row(row: Row) -> dict[str, Any]:
    team = row.text("team")
    if not team:
        raise RowError("empty team")
    return {"team": team, "lead": row.text("lead"), "description": row.text("description")}


def duplicate_key(record: dict[str, Any]) -> object:
    if "agent" not in record:
        return ("team", record["team"])
    return ("agent", record["agent"], record["hired"])


def describe_key(key: object) -> str:
    assert isinstance(key, tuple)
    return f"team {key[1]}" if key[0] == "team" else f"agent {key[1]} hired {key[2] or '(no date)'}"


def forget_source(store: Store, kind: str, source_id: int) -> None:
    table = "teams" if kind == "teams" else "staff"
    store.connection.execute(f'DELETE FROM "{table}" WHERE source_id = ?', [source_id])  # noqa: S608 - our table
    if kind == "staff":
        store.connection.execute("DELETE FROM teams WHERE source_id = ?", [source_id])


def store_records(store: Store, kind: str, source_id: int, records: Sequence[dict[str, Any]],
                  report: ImportReport) -> None:
    if kind == "teams":
        _store_teams(store, source_id, [{**r, "source_id": source_id} for r in records], report)
        return
    con = store.connection
    store.append_arrow("staff", arrow_records(STAFF, records))
    row = first_row(con.execute(
        "SELECT count(DISTINCT agent) FROM staff WHERE source_id <> ? AND agent IN "
        "(SELECT agent FROM staff WHERE source_id = ?)", [source_id, source_id]))
    if row and row[0]:
        con.execute("DELETE FROM staff WHERE source_id <> ? AND agent IN (SELECT agent FROM staff WHERE source_id = ?)",
                    [source_id, source_id])
        report.messages.append(f"{row[0]} agent(s) replaced rows loaded from earlier files (newest file wins)")
    leads = {(r["team"], r["team_lead"]) for r in records if r["team"] and r["team_lead"]}
    if leads:
        _store_teams(store, source_id, [{"source_id": source_id, "team": t, "lead": lead, "description": None}
                                        for t, lead in sorted(leads)], report)


def _store_teams(store: Store, source_id: int, records: Sequence[dict[str, Any]], report: ImportReport) -> None:
    con = store.connection
    table = pa.table({
        "source_id": pa.array([r["source_id"] for r in records], pa.int64()),
        "team": pa.array([r["team"] for r in records], pa.string()),
        "lead": pa.array([r["lead"] for r in records], pa.string()),
        "description": pa.array([r["description"] for r in records], pa.string()),
    })
    store.append_arrow("teams", table)
    con.execute("DELETE FROM teams WHERE source_id <> ? AND team IN (SELECT team FROM teams WHERE source_id = ?)",
                [source_id, source_id])


def update_agents(store: Store) -> None:
    """Names, teams and aliases from the staff list into ``agents`` (rows are added for staff the
    call records have not shown yet; the most recent spell of an agent wins)."""
    store.connection.execute(
        """
        INSERT INTO agents (agent, name, team, aliases)
        SELECT agent, name, team, aliases FROM staff
        QUALIFY row_number() OVER (PARTITION BY agent ORDER BY hired DESC NULLS LAST, line_no DESC) = 1
        ON CONFLICT (agent) DO UPDATE SET
            name = coalesce(excluded.name, agents.name),
            team = coalesce(excluded.team, agents.team),
            aliases = coalesce(excluded.aliases, agents.aliases)
        """
    )


def rebuild_staff_days(store: Store) -> None:
    """One row per staff agent and day of ``biz_days``: employed (hired <= day < left) or not."""
    con = store.connection
    con.execute("DELETE FROM staff_days")
    con.execute(
        """
        INSERT INTO staff_days
        SELECT a.agent, d.day, d.first_slice,
            CASE WHEN EXISTS (SELECT 1 FROM staff s WHERE s.agent = a.agent
                              AND (s.hired IS NULL OR s.hired <= d.day)
                              AND (s.left_on IS NULL OR d.day < s.left_on)) THEN 1 ELSE 0 END
        FROM (SELECT DISTINCT agent FROM staff) a CROSS JOIN biz_days d
        """
    )
    con.execute(
        """
        UPDATE staff SET left_slice = d.first_slice FROM biz_days d WHERE staff.left_on = d.day
        """
    )
    con.execute(
        "UPDATE staff SET left_slice = NULL WHERE left_on IS NOT NULL AND left_on NOT IN (SELECT day FROM biz_days)"
    )
