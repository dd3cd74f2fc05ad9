"""freepbx-lab-2024 (issue 19 item 5): callkpi's KPIs from the real ``cel`` table equal an
independent reference computed from the raw cel rows (tests/reference/asterisk_cel.py, which
parses the dump's INSERT lines itself), and agree with callkpi's KPIs from the ``cdr`` rows of
the same calls. Skipped when ../shared is absent.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import pytest

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.storage import Store
from conftest import SHARED, by_key, kpis, query_rows
from reference import asterisk_cel

pytestmark = pytest.mark.real

DUMP = SHARED / "data" / "real" / "freepbx-lab-2024" / "asteriskcdrdb.sql"


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The dump's cel and cdr tables as the CSV files a database reader writes (header, every column)."""
    if not DUMP.is_file():
        pytest.skip(f"real data not found at {DUMP}")
    directory = tmp_path_factory.mktemp("freepbx-lab")
    paths = {}
    for table in ("cel", "cdr"):
        rows = asterisk_cel.dump_rows(DUMP, table)
        paths[table] = directory / f"{table}.csv"
        with paths[table].open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return paths


@cache
def _reference() -> asterisk_cel.CelSummary:
    return asterisk_cel.summarise(asterisk_cel.dump_rows(DUMP, "cel"))


def _store(*paths: Path) -> Store:
    store = Store(":memory:")
    for path in paths:
        load_file(store, path, Settings(), timezone="UTC")  # the dump's times are UTC (uniqueid clock)
    return store


def test_every_cel_row_loads(tables: dict[str, Path]) -> None:
    store = Store(":memory:")
    try:
        report = load_file(store, tables["cel"], Settings(), timezone="UTC")
        assert report.format == "asterisk-cel-table"
        assert (report.lines_read, report.lines_loaded, report.quarantined, report.duplicates) == (4100, 4100, 0, 0)
        assert report.problems == []
    finally:
        store.close()


def test_kpis_per_agent_equal_the_reference(tables: dict[str, Path]) -> None:
    store = _store(tables["cel"])
    try:
        rows = by_key(kpis(store, ("agent",), metrics=("calls_handled", "att_s", "avg_hold_s", "transfers")),
                      "agent")
        expected = {agent: f for agent, f in _reference().agents.items() if f.handled}
        assert {a for a, r in rows.items() if r["calls_handled"]} == set(expected)
        for agent, figures in expected.items():
            row = rows[agent]
            assert row["calls_handled"] == figures.handled, agent
            assert row["att_s"] == pytest.approx(figures.talk_s / figures.handled), agent
            assert row["avg_hold_s"] == pytest.approx(figures.hold_s / figures.handled), agent  # recorded: 0, not null
            assert (row["transfers"] or 0) == figures.transfers, agent
    finally:
        store.close()


def test_calls_by_direction_equal_the_reference(tables: dict[str, Path]) -> None:
    store = _store(tables["cel"])
    try:
        got = {r["direction"]: (r["n"], r["answered"]) for r in query_rows(
            store, "SELECT direction, count(*) AS n, count(*) FILTER (WHERE answered) AS answered FROM calls "
            "GROUP BY direction")}
        reference = _reference()
        assert sum(n for n, _ in got.values()) == reference.calls == 397
        assert {d: n for d, (n, _) in got.items()} == {
            "inbound": reference.inbound, "outbound": reference.outbound, "internal": reference.internal}
        assert got["inbound"][1] + got["outbound"][1] == reference.answered
    finally:
        store.close()


def test_consistent_with_the_cdr_of_the_same_calls(tables: dict[str, Path]) -> None:
    """Same direction for every call both have; answered the same but where the CDR lacks the
    forwarded leg's row; the CEL's talk (bridge time) + hold never exceeds the CDR's billsec
    (answer to hangup, which also counts an IVR's answer before the agent); each difference is a
    data-quality finding, and loaded together each call counts once."""
    cel, cdr = _store(tables["cel"]), _store(tables["cdr"])
    together = _store(tables["cdr"], tables["cel"])
    try:
        sql = "SELECT call_id, direction, answered, talk_s, hold_s FROM calls"
        from_cel = {r["call_id"]: r for r in query_rows(cel, sql)}
        from_cdr = {r["call_id"]: r for r in query_rows(cdr, sql)}
        shared = set(from_cel) & set(from_cdr)
        assert len(shared) == len(from_cdr) == 371  # the 38 zero-date CDR rows are quarantined
        assert all(from_cel[c]["direction"] == from_cdr[c]["direction"] for c in shared)
        differ = {c for c in shared if from_cel[c]["answered"] != from_cdr[c]["answered"]}
        assert differ == {"1713463694.37"}  # a follow-me to a mobile talked 55 s; its CDR row says FAILED
        for call in shared:
            cel_row, cdr_row = from_cel[call], from_cdr[call]
            if cel_row["answered"] and cdr_row["answered"]:
                assert cel_row["talk_s"] + cel_row["hold_s"] <= cdr_row["talk_s"] + 1, call
        far = {c for c in shared if from_cel[c]["answered"] and from_cdr[c]["answered"]
               and abs(from_cel[c]["talk_s"] + from_cel[c]["hold_s"] - from_cdr[c]["talk_s"]) > 5}
        findings = {r["call_id"] for r in query_rows(
            together, "SELECT call_id FROM data_quality WHERE kind = 'cel_vs_cdr'")}
        assert differ | far <= findings
        assert query_rows(together, "SELECT count(*) AS n FROM calls")[0]["n"] == len(from_cel)
        assert query_rows(together, "SELECT count(*) AS n FROM calls WHERE source <> 'asterisk_cel'")[0]["n"] == 0
    finally:
        for store in (cel, cdr, together):
            store.close()
