"""The engine keeps what it learnt about a store file (slice spans, end of data, compiled SQL)
only while the data stays the same: a later import or a saved write is seen at once."""

from __future__ import annotations

from pathlib import Path

from callkpi.config import MetricParams, Settings
from callkpi.ingest.formats import load_file
from callkpi.metrics.engine import KpiQuery, compute
from callkpi.storage import Store
from conftest import T0, ql_line

DAY = 86400


def _call(start: int, callid: str, wait: int = 5, talk: int = 60) -> list[str]:
    return [
        ql_line(start, callid, "sales", "NONE", "ENTERQUEUE", "", "79161234567", 1),
        ql_line(start + wait, callid, "sales", "SIP/1001", "CONNECT", wait, f"{callid}.1", 1),
        ql_line(start + wait + talk, callid, "sales", "SIP/1001", "COMPLETECALLER", wait, talk, 1),
    ]


def _offered_by_day(store: Store) -> dict[str, int]:
    result = compute(store, KpiQuery(by=("day",), metrics=("calls_offered",), params=MetricParams()))
    return {row["day"]: row["calls_offered"] for row in result.rows}


def test_a_later_import_into_the_same_file_is_seen(tmp_path: Path) -> None:
    first, later = tmp_path / "queue_log.1", tmp_path / "queue_log.2"
    first.write_text("\n".join(_call(T0, "a.1") + _call(T0 + 600, "a.2")) + "\n", encoding="utf-8")
    later.write_text("\n".join(_call(T0 + 4 * DAY, "b.1")) + "\n", encoding="utf-8")
    with Store(tmp_path / "k.duckdb") as store:
        load_file(store, first, Settings(), timezone="UTC")
        assert _offered_by_day(store) == {"2026-03-02": 2}
        assert _offered_by_day(store) == {"2026-03-02": 2}  # from the kept facts
        load_file(store, later, Settings(), timezone="UTC")
        assert _offered_by_day(store) == {"2026-03-02": 2, "2026-03-06": 1}
    with Store(tmp_path / "k.duckdb", read_only=True) as store:  # another process, same answer
        assert _offered_by_day(store) == {"2026-03-02": 2, "2026-03-06": 1}
