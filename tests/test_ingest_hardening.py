"""Importers under adverse conditions: impossible values and dates, files that repeat each other,
and a SIGKILL at any point of an import (the next run must give the totals of a clean load)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.storage import Store
from conftest import query_rows, total
from fuzz_support import T0_EPOCH, TEXT_FIXTURES, Fixture

FIXTURES = {f.name: f for f in TEXT_FIXTURES}


def _write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def _ql(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


# -- plausibility bounds ------------------------------------------------------------------------


def test_a_time_in_2100_is_quarantined_not_expanded(tmp_path: Path) -> None:
    """One event in 2100 among events of 2026: quarantined with its reason; agent time stays within the
    hour the rest of the file spans (it would be rebuilt over every slice up to 2100 otherwise)."""
    data = FIXTURES["queue_log"].data.replace(f"{T0_EPOCH + 300}|".encode(), b"4102444800|")
    with Store(":memory:") as store:
        report = load_file(store, _write(tmp_path, "queue_log", data), Settings(), timezone="UTC")
        assert (report.lines_read, report.lines_loaded, report.quarantined) == (13, 12, 1)
        assert report.issues[0].line_no == 6 and "outside the plausible window" in report.issues[0].reason
        span = query_rows(store, "SELECT min(slice_id) AS lo, max(slice_id) AS hi FROM agent_time")[0]
        # ADDMEMBER at T0 - 600 s to REMOVEMEMBER at T0 + 3600 s: 15-minute slices (T0 is on a slice boundary)
        assert (span["lo"], span["hi"]) == ((T0_EPOCH - 900) // 900, (T0_EPOCH + 3600) // 900 - 1)


def test_a_date_decades_away_from_the_rest_of_the_file_is_quarantined(tmp_path: Path) -> None:
    data = FIXTURES["queue_log"].data.replace(f"{T0_EPOCH + 600}|c2".encode(), b"1300000000|c2")
    with Store(":memory:") as store:
        report = load_file(store, _write(tmp_path, "queue_log", data), Settings(), timezone="UTC")
        assert [(i.line_no, "max_gap_days" in i.reason) for i in report.issues] == [(8, True)]
        assert report.lines_loaded == 12


def test_the_bounds_are_settings(tmp_path: Path) -> None:
    data = FIXTURES["queue_log"].data.replace(b"COMPLETECALLER|20|100", b"COMPLETECALLER|20|4000")
    tight = Settings.model_validate({"ingest": {"max_duration_s": 3600}})
    with Store(":memory:") as store:
        report = load_file(store, _write(tmp_path, "queue_log", data), tight, timezone="UTC")
        assert [i.line_no for i in report.issues] == [5]  # a talk of 4000 s is over 3600 s
    with Store(":memory:") as store:
        assert load_file(store, _write(tmp_path, "queue_log", data), Settings(), timezone="UTC").quarantined == 0


@pytest.mark.parametrize("value", ["1e22", "inf", "NaN"])
def test_an_impossible_cdr_duration_quarantines_its_row(value: str, tmp_path: Path) -> None:
    data = FIXTURES["asterisk_master_csv"].data.decode().splitlines()
    cells = data[1].split(",")
    cells[-9] = value  # duration (billsec, disposition, amaflags, uniqueid, userfield, peeraccount, linkedid, seq)
    data[1] = ",".join(cells)
    with Store(":memory:") as store:
        report = load_file(store, _write(tmp_path, "Master.csv", ("\n".join(data) + "\n").encode()), Settings(),
                           timezone="UTC")
        assert (report.lines_read, report.lines_loaded, report.quarantined) == (4, 3, 1)
        assert report.issues[0].line_no == 2 and "out of range" in report.issues[0].reason


def test_a_deals_field_over_the_csv_limit_quarantines_its_line(tmp_path: Path) -> None:
    data = FIXTURES["deals"].data.replace(b"Basic", b"B" * 200_000)
    with Store(":memory:") as store:
        report = load_file(store, _write(tmp_path, "deals.csv", data), Settings(), timezone="UTC")
        assert (report.lines_read, report.lines_loaded, report.quarantined) == (4, 3, 1)
        assert report.issues[0].line_no == 2 and "field larger than field limit" in report.issues[0].reason


# -- RINGNOANSWER of 0 ms -----------------------------------------------------------------------


def test_a_ring_of_0_ms_is_a_failed_offer_not_a_ring_no_answer(tmp_path: Path) -> None:
    t = T0_EPOCH
    data = _ql(f"{t}|c1|sales|NONE|ENTERQUEUE||74951111111|1", f"{t + 1}|c1|sales|SIP/1002|RINGNOANSWER|0",
               f"{t + 16}|c1|sales|SIP/1003|RINGNOANSWER|15000", f"{t + 20}|c1|sales|SIP/1001|CONNECT|20|x|4",
               f"{t + 80}|c1|sales|SIP/1001|COMPLETECALLER|20|60|1")
    with Store(":memory:") as store:
        load_file(store, _write(tmp_path, "queue_log", data), Settings(), timezone="UTC")
        legs = query_rows(store, "SELECT agent, outcome FROM agent_legs ORDER BY offer_utc, agent")
        assert legs == [{"agent": "1002", "outcome": "failed"}, {"agent": "1003", "outcome": "no_answer"},
                        {"agent": "1001", "outcome": "answered"}]
        assert total(store, metrics=["ring_no_answer"]) == {"ring_no_answer": 1}  # 1003 only


# -- accounting: loaded + quarantined + duplicates == lines read ---------------------------------


LINE_FIXTURES = [f for f in TEXT_FIXTURES if f.one_record_a_line]  # transcripts and dumps: their own tests


@pytest.mark.parametrize("fixture", LINE_FIXTURES, ids=[f.name for f in LINE_FIXTURES])
def test_every_line_is_loaded_quarantined_or_a_named_duplicate(fixture: Fixture, tmp_path: Path) -> None:
    """The fixture with one broken line, then a copy of it with one more line: the copy's lines
    that the first file loaded are duplicates (or, for files that replace rows, loaded again)."""
    lines = fixture.data.split(b"\n")
    broken = b"\n".join([*lines[:2], b"\x00garbage\x00", *lines[2:]])
    env = {"CALLKPI_MAPPING": fixture.mapping} if fixture.mapping else {}
    settings = Settings.model_validate({"cdr": {"mapping": fixture.mapping}} if fixture.mapping else {})
    with Store(":memory:") as store, pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        first = load_file(store, _write(tmp_path, fixture.filename, broken), settings, fmt=fixture.fmt,
                          timezone="UTC")
        non_blank = sum(1 for line in broken.split(b"\n") if line.strip())
        header = 0 if fixture.name in ("queue_log", "asterisk_master_csv", "freeswitch_csv", "freeswitch_json",
                                              "asterisk_cel_csv") else 1
        assert first.lines_read == non_blank - header
        assert first.lines_loaded + first.quarantined + first.duplicates == first.lines_read
        assert first.quarantined >= 1
        other = tmp_path / "copy"
        other.mkdir()
        second = load_file(store, _write(other, fixture.filename, fixture.data + lines[1] + b"\n"), settings,
                           fmt=fixture.fmt, timezone="UTC")
        assert second.lines_loaded + second.quarantined + second.duplicates == second.lines_read
        rows = query_rows(store, "SELECT source_id, count(*) AS n FROM quarantine GROUP BY ALL ORDER BY 1")
        assert [r["n"] for r in rows][:1] == [first.quarantined + first.duplicates]


def test_lines_repeating_another_file_are_duplicates_naming_it(tmp_path: Path, cli) -> None:
    fixture = FIXTURES["queue_log"]
    db = tmp_path / "db.duckdb"
    first = _write(tmp_path, "queue_log", fixture.data)
    (tmp_path / "b").mkdir()
    extra = f"{T0_EPOCH - 300}|c9|sales|NONE|ENTERQUEUE||7|1\n".encode()  # first: not the same file grown
    second = _write(tmp_path / "b", "queue_log", extra + fixture.data)
    with Store(db) as store:
        load_file(store, first, Settings(), timezone="UTC")
        report = load_file(store, second, Settings(), timezone="UTC")
        assert (report.lines_read, report.lines_loaded, report.quarantined, report.duplicates) == (14, 1, 0, 13)
        reasons = query_rows(store, "SELECT line_no, reason FROM quarantine ORDER BY line_no")
        assert reasons[0] == {"line_no": 2, "reason": f"duplicate of line 1 of {first}"}
    listing = cli("sources", "--db", str(db), "--format", "csv")
    assert listing.exit_code == 0
    header, _first_row, second_row = listing.output.strip().splitlines()[:3]
    row = dict(zip(header.split(","), second_row.split(","), strict=False))
    assert (row["lines"], row["loaded"], row["quarantined"], row["duplicates"]) == ("14", "1", "0", "13")


# -- SIGKILL at any point -----------------------------------------------------------------------

KILL_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from callkpi.config import Settings
    from callkpi.ingest import base, qa_reviews, queue_log
    from callkpi.ingest.business import attribution, loader
    from callkpi.ingest.cdr import driver
    from callkpi.ingest.formats import load_file
    from callkpi.storage import Store

    db, path, fmt, point = sys.argv[1], Path(sys.argv[2]), sys.argv[3] or None, sys.argv[4]
    base.CHUNK_BYTES = 300  # many blocks: a kill can fall between them

    def die(*_args, **_kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "refresh":
        for module in (queue_log, driver):
            module.after_calls_changed = die
        attribution.refresh = die
    if point == "record":
        for module in (queue_log, driver, loader, qa_reviews):
            real = module.record_source
            module.record_source = lambda *a, _real=real, **k: (_real(*a, **k), die())
    calls = []
    def progress(done):
        calls.append(done)
        if point == "progress" and len(calls) == 2:
            die()
    with Store(db) as store:
        load_file(store, path, Settings(), fmt=fmt, timezone="UTC", progress=progress)
    print("finished")
""")


def _counts(db: Path) -> dict[str, int]:
    with Store(db) as store:
        con = store.connection
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()]
        return {n: int(con.execute(f'SELECT count(*) FROM "{n}"').fetchall()[0][0]) for n in sorted(names)}  # noqa: S608


def _killed_run(db: Path, path: Path, fmt: str | None, point: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(db), str(path), fmt or "", point],
                          capture_output=True, text=True, timeout=600, check=False,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


def _clean_counts(tmp_path: Path, path: Path, fmt: str | None) -> dict[str, int]:
    db = tmp_path / "clean.duckdb"
    with Store(db) as store:
        load_file(store, path, Settings(), fmt=fmt, timezone="UTC")
    return _counts(db)


KILLED = [("queue_log", "progress"), ("queue_log", "refresh"), ("queue_log", "record"),
          ("asterisk_master_csv", "progress"), ("asterisk_master_csv", "record"),
          ("freeswitch_json", "refresh"), ("deals", "refresh"), ("deals", "record"), ("qa_reviews", "record")]


@pytest.mark.parametrize(("name", "point"), KILLED, ids=[f"{n}-{p}" for n, p in KILLED])
def test_a_sigkill_leaves_no_partial_rows_and_the_next_run_loads_it_all(name: str, point: str,
                                                                         tmp_path: Path) -> None:
    fixture = FIXTURES[name]
    path = _write(tmp_path, fixture.filename, fixture.data)
    db = tmp_path / "killed.duckdb"
    Store(db).close()
    empty = _counts(db)
    run = _killed_run(db, path, fixture.fmt, point)
    assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
    assert _counts(db) == empty  # nothing of the killed import is left
    with Store(db) as store:
        report = load_file(store, path, Settings(), fmt=fixture.fmt, timezone="UTC")
        assert report.status == "loaded"
    assert _counts(db) == _clean_counts(tmp_path, path, fixture.fmt)


def test_a_sigkill_while_a_grown_file_is_appended_keeps_the_first_load(tmp_path: Path) -> None:
    """As under `serve --watch`: the file is loaded, grows, and the load of its new lines is killed."""
    lines = FIXTURES["queue_log"].data.split(b"\n")
    path = _write(tmp_path, "queue_log", b"\n".join(lines[:6]) + b"\n")
    db = tmp_path / "watched.duckdb"
    with Store(db) as store:
        load_file(store, path, Settings(), timezone="UTC")
    after_first = _counts(db)
    path.write_bytes(FIXTURES["queue_log"].data)
    for point in ("progress", "refresh", "record"):
        run = _killed_run(db, path, None, point)
        assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
        assert _counts(db) == after_first
    with Store(db) as store:
        assert load_file(store, path, Settings(), timezone="UTC").status == "appended"
    assert _counts(db) == _clean_counts(tmp_path, path, None)


WATCH_SCRIPT = KILL_SCRIPT.split("    calls = []")[0] + textwrap.dedent("""
    from callkpi.web.db import Database
    from callkpi.web.watch import Watcher, WatchOptions

    database = Database(db, Settings())
    Watcher(database, WatchOptions(paths=(path,), background=False)).run_once()
    print("finished")
""")


@pytest.mark.parametrize("point", ["refresh", "record"])
def test_a_sigkill_during_a_watch_load_leaves_no_partial_rows(point: str, tmp_path: Path) -> None:
    """`serve --watch` loads a file that grew; the server is killed in the middle of that load."""
    from callkpi.web.db import Database

    lines = FIXTURES["queue_log"].data.split(b"\n")
    watched = tmp_path / "logs"
    watched.mkdir()
    path = _write(watched, "queue_log", b"\n".join(lines[:6]) + b"\n")
    db = tmp_path / "served.duckdb"
    Database(db, Settings()).close()  # the web tables exist before the watcher runs, as under `serve`
    with Store(db) as store:
        load_file(store, path, Settings(), timezone="UTC")
    before = _counts(db)
    path.write_bytes(FIXTURES["queue_log"].data)
    run = subprocess.run([sys.executable, "-c", WATCH_SCRIPT, str(db), str(path), "", point],
                         capture_output=True, text=True, timeout=600, check=False,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
    assert _counts(db) == before
    with Store(db) as store:
        assert load_file(store, path, Settings(), timezone="UTC").status == "appended"
    after = _counts(db)
    clean = _clean_counts(tmp_path, path, None)
    assert {k: v for k, v in after.items() if k in clean} == clean
