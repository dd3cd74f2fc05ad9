"""The same call in the CEL and the CDR of one PBX (CEL linkedid = CDR linkedid): the CEL call
is the one counted (it measures hold, transfers and each leg's bridge time); the CDR call gives
way whichever file was loaded first, and where the two disagree a data-quality finding says so."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa

from callkpi.storage import Store

CEL_SOURCE = "asterisk_cel"
FINDING = "cel_vs_cdr"
TALK_TOLERANCE_S = 5.0


def _with_ids(store: Store, call_ids: list[str], sql: str, params: list[object] | None = None) -> list[tuple]:
    if not call_ids:
        return []
    con = store.connection
    con.register("cel_overlap_ids", pa.table({"call_id": pa.array(sorted(set(call_ids)), pa.string())}))
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.unregister("cel_overlap_ids")


def cel_call_ids(store: Store, call_ids: list[str]) -> set[str]:
    """The ids among ``call_ids`` that are calls of the loaded CEL."""
    rows = _with_ids(store, call_ids, "SELECT DISTINCT linkedid FROM cel_events "
                     "WHERE linkedid IN (SELECT call_id FROM cel_overlap_ids)")
    return {row[0] for row in rows}


def compare(call_id: str, cdr: dict[str, Any], cel: dict[str, Any]) -> tuple[str, str | None, datetime, str] | None:
    """(call, agent, time, detail) when the CDR and the CEL tell the call differently."""
    differences = []
    if bool(cdr.get("answered")) != bool(cel.get("answered")):
        differences.append(f"answered: CEL {_yes(cel.get('answered'))}, CDR {_yes(cdr.get('answered'))}")
    if cdr.get("agent") and cel.get("agent") and cdr["agent"] != cel["agent"]:
        differences.append(f"agent: CEL {cel['agent']}, CDR {cdr['agent']}")
    cel_time = (cel.get("talk_s") or 0.0) + (cel.get("hold_s") or 0.0)  # the CDR's billsec includes hold
    if cdr.get("talk_s") is not None and cel.get("talk_s") is not None and abs(cdr["talk_s"] - cel_time) > \
            TALK_TOLERANCE_S:
        differences.append(f"talk: CEL {cel['talk_s']:.0f} s (+{cel.get('hold_s') or 0:.0f} s hold), "
                           f"CDR {cdr['talk_s']:.0f} s")
    if not differences:
        return None
    return call_id, cel.get("agent"), cel.get("start_utc") or cdr.get("start_utc"), "; ".join(differences)


def _yes(value: object) -> str:
    return "yes" if value else "no"


_ROW = ("answered", "agent", "talk_s", "hold_s", "start_utc")


def stored_rows(store: Store, call_ids: list[str], sources: list[str]) -> dict[str, dict[str, Any]]:
    rows = _with_ids(store, call_ids, "SELECT call_id, answered, agent, talk_s, hold_s, start_utc FROM calls "
                     "WHERE list_contains(?, source) AND call_id IN (SELECT call_id FROM cel_overlap_ids)", [sources])
    return {row[0]: dict(zip(_ROW, row[1:], strict=True)) for row in rows}


def record_findings(store: Store, findings: list[tuple[str, str | None, datetime, str]]) -> None:
    ids = [f[0] for f in findings]
    _with_ids(store, ids, "DELETE FROM data_quality WHERE source = ? AND kind = ? AND call_id IN "
              "(SELECT call_id FROM cel_overlap_ids)", [CEL_SOURCE, FINDING])
    if findings:
        store.connection.executemany(
            "INSERT INTO data_quality VALUES (?, ?, ?, ?, ?, ?)",
            [(CEL_SOURCE, FINDING, call_id, agent, when, detail) for call_id, agent, when, detail in findings])
