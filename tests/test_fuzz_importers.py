"""Fuzzing every importer with damaged copies of small fixtures (tests/fuzz_support.py).

For every input: the import either refuses the whole file (ImportError_: not that format at all)
or loads it, with every line loaded, quarantined (file, line, reason) or counted as a duplicate;
no other exception, no example over its time bound, and a second load of the same bytes adds
nothing and says "unchanged". The CI budget is small (CALLKPI_FUZZ_EXAMPLES examples per importer,
default 12, the same inputs on every run: tests/conftest.py's replay profile); `./dev fuzz` raises it and
draws new inputs (HYPOTHESIS_PROFILE=explore).

The KPI rollups are refreshed by a no-op here (each refresh compiles some twenty Ibis queries, a
second or more per import on this machine); tests/test_rollup.py checks them, and
CALLKPI_FUZZ_ROLLUPS=1 keeps them in the fuzz run.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from hypothesis import HealthCheck, given, settings

from callkpi.config import Settings
from callkpi.ingest.base import ImportError_, ImportReport
from callkpi.ingest.formats import load_file
from callkpi.ingest.sqltables.dumpfile import spool_folder
from callkpi.qa.scorecards import ScorecardError, import_scorecards, parse_yaml
from callkpi.storage import Store
from fuzz_support import SCORECARDS_YAML, TEXT_FIXTURES, Fixture, damaged, damaged_workbook_rows

EXAMPLES = int(os.environ.get("CALLKPI_FUZZ_EXAMPLES", "12"))
EXAMPLE_LIMIT_S = float(os.environ.get("CALLKPI_FUZZ_EXAMPLE_LIMIT_S", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=timedelta(seconds=EXAMPLE_LIMIT_S * 2),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
COUNTED_TABLES = ("queue_log_events", "cdr_records", "cel_events", "cel_transfers", "calls", "agent_legs",
                  "quarantine", "sources", "data_quality",
                  "deals", "surveys", "costs", "staff", "teams", "training", "schedules", "qa_reviews")


class Stall(Exception):
    """An example ran past its time bound."""


@pytest.fixture(scope="module", autouse=True)
def _cheap_rollups() -> Iterator[None]:
    if os.environ.get("CALLKPI_FUZZ_ROLLUPS") == "1":
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("callkpi.metrics.rollup.refresh", lambda store, settings: None)
        yield


@contextmanager
def time_bound(store: Store, limit_s: float) -> Iterator[None]:
    """Raise Stall when the block runs past ``limit_s``: a query is interrupted, Python code gets SIGALRM."""
    expired = threading.Event()

    def on_alarm(_signum: int, _frame: object) -> None:
        raise Stall(f"over {limit_s:g} s")

    def expire() -> None:
        expired.set()
        store.connection.interrupt()

    timer = threading.Timer(limit_s, expire)
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit_s + 1)
    timer.start()
    try:
        yield
    except Exception as exc:
        if expired.is_set():
            raise Stall(f"over {limit_s:g} s ({type(exc).__name__})") from exc
        raise
    finally:
        timer.cancel()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def counts(store: Store) -> dict[str, int]:
    con = store.connection
    present = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    return {t: int(con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0])  # noqa: S608 - our names
            for t in COUNTED_TABLES if t in present}


def settings_for(fixture: Fixture) -> Settings:
    return Settings.model_validate({"cdr": {"mapping": fixture.mapping}} if fixture.mapping else {})


@contextmanager
def mapping_env(fixture: Fixture) -> Iterator[None]:
    before = os.environ.get("CALLKPI_MAPPING")
    if fixture.mapping:
        os.environ["CALLKPI_MAPPING"] = fixture.mapping
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("CALLKPI_MAPPING", None)
        else:
            os.environ["CALLKPI_MAPPING"] = before


def check_accounting(store: Store, report: ImportReport, path: Path) -> None:
    assert report.status == "loaded", report
    assert report.lines_loaded + report.quarantined + report.duplicates == report.lines_read, report
    rows = store.connection.execute("SELECT path, line_no, reason FROM quarantine").fetchall()
    assert len(rows) == report.quarantined + report.duplicates
    spooled = str(spool_folder(store, path))  # a dump's tables load from spool files of their own
    for file, line_no, reason in rows:
        assert (file == str(path) or file.startswith(spooled)) and line_no >= 1 and reason.strip()


def import_twice(fixture: Fixture, data: bytes, directory: Path) -> str:
    """Load ``data`` into a new store twice; 'refused' or 'loaded'. Fails on a crash, a stall, broken
    accounting or a second load that changes anything."""
    path = directory / fixture.filename
    path.write_bytes(data)
    config = settings_for(fixture)
    with Store(":memory:") as store, mapping_env(fixture):
        try:
            with time_bound(store, EXAMPLE_LIMIT_S):
                report = load_file(store, path, config, fmt=fixture.fmt, timezone="UTC")
        except ImportError_:
            assert counts(store).get("sources", 0) == 0
            return "refused"
        check_accounting(store, report, path)
        before = counts(store)
        with time_bound(store, EXAMPLE_LIMIT_S):
            again = load_file(store, path, config, fmt=fixture.fmt, timezone="UTC")
        assert again.status == "unchanged", again
        assert counts(store) == before
    return "loaded"


@pytest.mark.parametrize("fixture", TEXT_FIXTURES, ids=[f.name for f in TEXT_FIXTURES])
def test_every_fixture_loads_clean(fixture: Fixture, tmp_path: Path) -> None:
    """The undamaged fixtures load every line: the fuzzing below starts from valid files."""
    path = tmp_path / fixture.filename
    path.write_bytes(fixture.data)
    with Store(":memory:") as store, mapping_env(fixture):
        report = load_file(store, path, settings_for(fixture), fmt=fixture.fmt, timezone="UTC")
        assert (report.quarantined, report.duplicates) == (0, 0), report.issues
        assert report.lines_loaded == report.lines_read > 0


@pytest.mark.parametrize("fixture", TEXT_FIXTURES, ids=[f.name for f in TEXT_FIXTURES])
def test_damaged_input_never_crashes_stalls_or_loses_a_line(fixture: Fixture) -> None:
    @FUZZ
    @given(damage=damaged(fixture.data))
    def run(damage: tuple[list[str], bytes]) -> None:
        with TemporaryDirectory() as directory:
            import_twice(fixture, damage[1], Path(directory))

    run()


@FUZZ
@given(rows=damaged_workbook_rows())
def test_damaged_workbook_never_crashes(rows: list[list[object]]) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    with TemporaryDirectory() as directory:
        path = Path(directory) / "bitrix.xlsx"
        book.save(path)
        import_twice(Fixture("business_xlsx", "bitrix.xlsx", path.read_bytes()), path.read_bytes(), Path(directory))


@settings(max_examples=EXAMPLES * 3, deadline=timedelta(seconds=EXAMPLE_LIMIT_S))
@given(damage=damaged(SCORECARDS_YAML.encode()))
def test_damaged_scorecards_yaml_is_refused_with_a_reason_or_imported(damage: tuple[list[str], bytes]) -> None:
    text = damage[1].decode("utf-8", errors="replace")
    try:
        cards = parse_yaml(text)
    except ScorecardError as exc:
        assert str(exc).strip()
        return
    with Store(":memory:") as store:
        saved = import_scorecards(store, text, "fuzz")
        assert set(saved) == {card.call_type for card in cards}


def test_time_bound_stops_a_long_query() -> None:
    with Store(":memory:") as store, pytest.raises(Stall), time_bound(store, 0.5):
        store.connection.execute("SELECT count(*) FROM range(100000000000) a").fetchall()


@pytest.mark.parametrize("value", ["1e22", "1e24", "inf", "NaN", "-1e22"])
def test_an_impossible_ring_time_quarantines_one_line_and_the_rest_loads(value: str, tmp_path: Path) -> None:
    fixture = TEXT_FIXTURES[0]
    text = fixture.data.decode().replace("RINGNOANSWER|15000", f"RINGNOANSWER|{value}")
    path = tmp_path / "queue_log"
    path.write_text(text)
    with Store(":memory:") as store:
        report = load_file(store, path, Settings(), timezone="UTC")
        assert (report.lines_read, report.lines_loaded, report.quarantined) == (13, 12, 1)
        assert report.issues[0].line_no == 3 and "out of range" in report.issues[0].reason
