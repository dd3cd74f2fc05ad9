"""Ingest speed against its limit: `callkpi ingest` of a queue_log beside DuckDB's own `read_csv`
of the same file into a table, measured in the same run.

    python bench/ingest_speed.py --log /path/to/queue_log          # an existing file, read in place
    python bench/ingest_speed.py --calls 100000                    # simulate one first (in --workdir)
    python bench/ingest_speed.py --log FILE --steps                # also where callkpi's time goes

Each of the two loads runs in a child process into a new database file under --workdir, with the
same DuckDB memory limit (callkpi's default, or CALLKPI_MEMORY_LIMIT); printed are the wall time,
the CPU time (user + system) and the peak resident memory of each child, the ratio of callkpi to
read_csv, and the machine's load average before and after (the machine may be shared: the ratio
is the figure to compare). ``--steps`` then loads the file once more in this process with a timer
around each step of the import (reading and checking the lines, the call tables, agent time, the
rollups, the commit...). Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TIMEZONE = "Europe/Moscow"

# read_csv as a user would write it for a queue_log: '|' between fields, every field text, short
# lines padded with NULLs, no quoting; the table has as many columns as the widest line.
READ_CSV = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("SET enable_progress_bar = false")
con.execute("SET memory_limit = ?", [sys.argv[3]])
con.execute(
    "CREATE TABLE queue_log AS SELECT * FROM read_csv(?, delim = '|', header = false, all_varchar = true, "
    "null_padding = true, strict_mode = false, quote = '', escape = '')", [sys.argv[2]])
con.close()
"""

# Where an import spends its time: (module, function) wrapped by a timer in --steps.
STEPS = (
    ("callkpi.ingest.queue_log", "_staged_plain"),
    ("callkpi.ingest.queue_log", "_check_lines"),
    ("callkpi.ingest.queue_log", "_validate_and_insert"),
    ("callkpi.ingest.queue_log", "_quarantine_outlying_times"),
    ("callkpi.ingest.queue_log", "_fill_report"),
    ("callkpi.ingest.queue_log", "record_source"),
    ("callkpi.ingest.queue_log_model", "rebuild"),
    ("callkpi.ingest.queue_log_model", "_stage_events"),
    ("callkpi.ingest.queue_log_model", "_stage_legs"),
    ("callkpi.ingest.queue_log_model", "_replace_call_tables"),
    ("callkpi.ingest.queue_log_model", "rebuild_agent_states"),
    ("callkpi.ingest.queue_log_model", "rebuild_agent_time"),
    ("callkpi.ingest.queue_log_model", "find_lines_out_of_order"),
    ("callkpi.ingest.derive", "refresh_agents"),
    ("callkpi.ingest.derive", "refresh_call_links"),
    ("callkpi.ingest.cdr.rebuild", "reconcile_with_queue_log"),
    ("callkpi.ingest.cel.building", "reconcile_with_queue_log"),
    ("callkpi.ingest.refresh", "after_calls_changed"),
    ("callkpi.metrics.rollup", "refresh"),
)


def load_average() -> str:
    source = Path("/proc/loadavg")
    return " ".join(source.read_text().split()[:3]) if source.exists() else "?"


def run_child(args: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Wall and CPU seconds and peak resident memory (MB) of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"failed ({os.waitstatus_to_exitcode(status)}): {' '.join(args)}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}


def memory_limit() -> str:
    from callkpi.storage.store import _default_memory_limit

    return os.environ.get("CALLKPI_MEMORY_LIMIT", _default_memory_limit())


def simulate(calls: int, workdir: Path) -> Path:
    out = workdir / f"sim-{calls}"
    if not (out / "queue_log").exists():
        run_child([sys.executable, "-m", "callkpi", "simulate", "--out", str(out), "--calls", str(calls),
                   "--seed", "1"])
    return out / "queue_log"


def measure(log: Path, workdir: Path) -> dict[str, dict[str, float]]:
    workdir.mkdir(parents=True, exist_ok=True)
    figures: dict[str, dict[str, float]] = {}
    for name in ("callkpi", "read_csv"):
        db = workdir / f"ingest-speed-{name}.duckdb"
        for stale in (db, db.with_suffix(".duckdb.wal")):
            stale.unlink(missing_ok=True)
        if name == "callkpi":
            args = [sys.executable, "-m", "callkpi", "ingest", "--db", str(db), "--tz", TIMEZONE, str(log)]
        else:
            args = [sys.executable, "-c", READ_CSV, str(db), str(log), memory_limit()]
        figures[name] = run_child(args)
        figures[name]["db_mb"] = db.stat().st_size / 1e6
    return figures


def print_figures(log: Path, figures: dict[str, dict[str, float]], before: str, after: str) -> None:
    lines = sum(1 for _ in log.open("rb"))
    print(f"{log}: {log.stat().st_size / 1e6:.0f} MB, {lines:,} lines; DuckDB memory limit {memory_limit()}")
    print(f"{'':10} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'db MB':>8} {'lines/s':>10}")
    for name, row in figures.items():
        print(f"{name:10} {row['wall_s']:8.2f} {row['cpu_s']:8.2f} {row['peak_mb']:8.0f} {row['db_mb']:8.0f} "
              f"{lines / row['wall_s']:10,.0f}")
    ours, limit = figures["callkpi"], figures["read_csv"]
    print(f"callkpi / read_csv: wall {ours['wall_s'] / limit['wall_s']:.2f}x, "
          f"cpu {ours['cpu_s'] / limit['cpu_s']:.2f}x, peak memory {ours['peak_mb'] / limit['peak_mb']:.2f}x "
          "(target: within 2x)")
    print(f"load average before {before}, after {after}")


@contextmanager
def step_timers() -> Iterator[dict[str, list[float]]]:
    """Wrap each of STEPS (and the commit of a transaction) with a timer while inside."""
    from callkpi.storage import store as store_module

    spent: dict[str, list[float]] = defaultdict(list)
    undo: list[Callable[[], None]] = []
    for module_name, attr in STEPS:
        module = importlib.import_module(module_name)
        original = getattr(module, attr)
        setattr(module, attr, _timed(original, f"{module_name.rsplit('.', 1)[-1]}.{attr}", spent))
        undo.append(lambda m=module, a=attr, o=original: setattr(m, a, o))
    original_transaction = store_module.Store.transaction

    @contextmanager
    def transaction(self: Any) -> Iterator[Any]:
        with original_transaction(self) as con:
            yield con
            started = time.perf_counter()
        spent["COMMIT"].append(time.perf_counter() - started)

    store_module.Store.transaction = transaction  # type: ignore[method-assign]
    undo.append(lambda: setattr(store_module.Store, "transaction", original_transaction))
    try:
        yield spent
    finally:
        for restore in undo:
            restore()


def _timed(function: Callable[..., Any], name: str, spent: dict[str, list[float]]) -> Callable[..., Any]:
    if name.endswith("_staged_plain"):  # a generator: time the reading of each block
        @functools.wraps(function)
        def generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
            items = function(*args, **kwargs)
            while True:
                started = time.perf_counter()
                item = next(items, None)
                spent[name + " (wait for a block)"].append(time.perf_counter() - started)
                if item is None:
                    return
                yield item
        return generator

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name].append(time.perf_counter() - started)
    return wrapper


class _TimedConnection:
    """A DuckDB connection whose ``execute`` is timed per statement (the rest passes through)."""

    def __init__(self, con: Any, spent: dict[str, list[float]]) -> None:
        self._con = con
        self._spent = spent

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self._con.execute(sql, *args, **kwargs)
        finally:
            self._spent[" ".join(sql.split())[:110]].append(time.perf_counter() - started)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


@contextmanager
def statement_timers() -> Iterator[dict[str, list[float]]]:
    from callkpi.storage import store as store_module

    spent: dict[str, list[float]] = defaultdict(list)
    original = store_module.Store.connection
    store_module.Store.connection = property(  # type: ignore[method-assign,assignment]
        lambda self: _TimedConnection(self._con, spent))
    try:
        yield spent
    finally:
        store_module.Store.connection = original  # type: ignore[method-assign]


def profile_steps(log: Path, workdir: Path, statements: int) -> None:
    from callkpi.config import Settings
    from callkpi.ingest.formats import load_file
    from callkpi.storage import Store

    db = workdir / "ingest-speed-steps.duckdb"
    for stale in (db, db.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    settings = Settings()
    with Store(db) as store, step_timers() as spent, statement_timers() as queries:
        store.set_meta("timezone", TIMEZONE)  # as `callkpi ingest --tz` does
        started = time.perf_counter()
        load_file(store, log, settings, timezone=TIMEZONE)
        total = time.perf_counter() - started
    print(f"\nsteps of one import in this process ({total:.2f} s in all; nested steps are inside their callers):")
    for name, times in spent.items():
        print(f"  {name:52} {sum(times):7.2f} s  x{len(times)}")
    if statements:
        print(f"\nthe {statements} slowest SQL statements (by their start, summed over their runs):")
        for sql, times in sorted(queries.items(), key=lambda item: -sum(item[1]))[:statements]:
            print(f"  {sum(times):7.2f} s x{len(times):<3} {sql}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log", type=Path, help="queue_log to load (read in place); default: simulate --calls")
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    parser.add_argument("--steps", action="store_true", help="also time each step of an import, in this process")
    parser.add_argument("--only-steps", action="store_true", help="only the steps (no child processes)")
    parser.add_argument("--statements", type=int, default=25, help="with --steps: how many of the slowest SQL "
                        "statements to print")
    options = parser.parse_args()
    options.workdir.mkdir(parents=True, exist_ok=True)
    log = options.log or simulate(options.calls, options.workdir)
    if not options.only_steps:
        before = load_average()
        figures = measure(log, options.workdir)
        print_figures(log, figures, before, load_average())
    if options.steps or options.only_steps:
        profile_steps(log, options.workdir, options.statements)
        print(f"load average {load_average()}")


if __name__ == "__main__":
    main()
