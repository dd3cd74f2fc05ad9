"""How long `callkpi` takes to start: `callkpi --help` and `callkpi kpi` on a small store.

    ./dev bench startup            # best of 5 runs each
    ./dev bench startup --runs 10

    ./dev bench startup --large /tmp/load1m/load-1000000/load.base.duckdb   # and `kpi --by agent,day` there

Prints figures; it is not a test. Each command runs in a fresh interpreter under
``python -X importtime``: the wall time of the whole process (best of ``--runs``) beside the limit
it should stay under on a quiet machine (issue 15: 0.3 s; issue 17: 1 s for the large store), the
CPU time it used (a fairer figure on a loaded machine: other jobs stretch the wall time, not this),
the import time Python reports for the top-level modules, the heaviest packages imported, and
whether the heavy libraries (scipy, statsmodels, pandas, the web stack) were imported at all.

`kpi` is measured three ways: its first run with nothing compiled (it imports Ibis and compiles
its SQL), its first run after `callkpi ingest` (which compiles the common reports' SQL: the first
report a user asks for after loading data), and a repeat. The small store is one simulated day of
a 5-agent centre, made once in ``--workdir``. Bytecode is written (a user's installed callkpi has
it), whatever ``PYTHONDONTWRITEBYTECODE`` says here.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

LIMIT_S = 0.3  # issue 15: `callkpi --help` and `callkpi kpi` on a small store, on this machine
LARGE_LIMIT_S = 1.0  # issue 17: the first `callkpi kpi --by agent,day` at 1M calls
HEAVY = ("scipy", "statsmodels", "pandas", "fastapi", "uvicorn", "starlette", "reportlab", "openpyxl")
IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def small_data(workdir: Path) -> Path:
    data = workdir / "small"
    if not (data / "queue_log").exists():
        subprocess.run([sys.executable, "-m", "callkpi", "simulate", "--out", str(data), "--days", "1",
                        "--agents", "5", "--calls-per-day", "200"], check=True, stdout=subprocess.DEVNULL)
    return data


def ingest(data: Path, db: Path, cache: Path | None = None) -> None:
    """`callkpi ingest` of the small data into a new store (with ``cache`` as the compiled-SQL cache)."""
    db.unlink(missing_ok=True)
    env = {**_env(), **({"CALLKPI_CACHE_DIR": str(cache)} if cache else {})}
    subprocess.run([sys.executable, "-m", "callkpi", "ingest", "--db", str(db), "--tz", "Europe/Moscow",
                    str(data / "queue_log")], check=True, stdout=subprocess.DEVNULL, env=env)


def small_store(workdir: Path) -> Path:
    db = workdir / "small.duckdb"
    if not db.exists():
        ingest(small_data(workdir), db, workdir / "cache-of-ingest")
    return db


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "COLUMNS": "80", **(extra or {})}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed callkpi has its bytecode
    return env


def run_once(args: list[str], env_extra: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall and CPU seconds of one ``python -X importtime -m callkpi ARGS`` and its import report."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "callkpi", *args], capture_output=True,
                          text=True, env=_env(env_extra), check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, done.stderr


def parse_imports(report: str) -> dict[str, tuple[int, int]]:
    """module -> (self, cumulative) microseconds, for every import Python reported."""
    modules: dict[str, tuple[int, int]] = {}
    for line in report.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            modules[match.group(4)] = (int(match.group(1)), int(match.group(2)))
    return modules


def top_level_total(report: str) -> float:
    """Seconds of import time summed over the top-level imports (the nested ones are inside them)."""
    total = 0
    for line in report.splitlines():
        match = IMPORT_LINE.match(line)
        if match and match.group(3) == " ":
            total += int(match.group(2))
    return total / 1e6


def describe(label: str, args: list[str], runs: int, cache: Path | None = None,
             before: Callable[[], None] | None = None, limit: float = LIMIT_S) -> None:
    """Best of ``runs``; with ``cache`` (CALLKPI_CACHE_DIR) kept between the runs unless ``before``
    (called before each run) prepares it: a first run empties it, a first run after an ingest
    empties it and ingests. One untimed run first writes the bytecode (and, for a repeat, the SQL)."""
    extra = {"CALLKPI_CACHE_DIR": str(cache)} if cache is not None else None

    def once() -> tuple[float, float, str]:
        if before is not None:
            before()
        return run_once(args, extra)

    run_once(args, extra)
    results = [once() for _ in range(runs)]
    best, _, report = min(results, key=lambda result: result[0])
    cpu = min(result[1] for result in results)
    modules = parse_imports(report)
    heavy = [name for name in HEAVY if name in modules]
    packages = {name: cumulative for name, (_, cumulative) in modules.items() if "." not in name}
    heaviest = sorted(packages.items(), key=lambda item: -item[1])[:8]
    verdict = "within" if best < limit else "OVER"
    print(f"{label}: {best:.3f} s wall (best of {runs}; limit {limit:.1f} s: {verdict}), {cpu:.3f} s CPU, "
          f"{top_level_total(report):.3f} s importing, {len(modules)} modules")
    print("  heavy libraries imported: " + (", ".join(heavy) if heavy else "none"))
    print("  heaviest packages: " + ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in heaviest))


def _emptied(cache: Path) -> Callable[[], None]:
    return lambda: shutil.rmtree(cache, ignore_errors=True)


def _ingested(cache: Path, data: Path, db: Path) -> Callable[[], None]:
    def prepare() -> None:
        shutil.rmtree(cache, ignore_errors=True)
        ingest(data, db, cache)
    return prepare


def _warmed(cache: Path, db: Path) -> Callable[[], None]:
    """What `callkpi ingest` does at its end (callkpi.metrics.engine.warm), on a store loaded otherwise."""
    script = ("import sys; from callkpi.cli.common import settings_for; from callkpi.config import effective_params; "
              "from callkpi.metrics.engine import warm; from callkpi.storage import Store\n"
              "with Store(sys.argv[1], read_only=True) as s: warm(s, effective_params(settings_for(None), "
              "s.get_meta('timezone')))")

    def prepare() -> None:
        shutil.rmtree(cache, ignore_errors=True)
        subprocess.run([sys.executable, "-c", script, str(db)], check=True, env=_env({"CALLKPI_CACHE_DIR": str(cache)}))
    return prepare


def large(db: Path, runs: int, workdir: Path) -> None:
    """Issue 17: `callkpi kpi --by agent,day` (every metric) in a fresh process on a large store."""
    cache = workdir / "cache-large"
    command = ["kpi", "--db", str(db), "--by", "agent,day", "--format", "tsv"]
    label = f"callkpi kpi --by agent,day ({db.name})"
    describe(f"{label}, first run", command, runs, cache, _emptied(cache), LARGE_LIMIT_S)
    describe(f"{label}, first run after an ingest", command, runs, cache, _warmed(cache, db), LARGE_LIMIT_S)
    describe(f"{label}, repeat run", command, runs, cache, None, LARGE_LIMIT_S)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    parser.add_argument("--large", type=Path, help="a large store (e.g. bench/load.py's 1M calls) for issue 17's "
                        "`kpi --by agent,day`; it is opened read-only")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    db = small_store(args.workdir)
    describe("callkpi --help", ["--help"], args.runs)
    describe("callkpi --version", ["--version"], args.runs)
    cache = args.workdir / "cache"
    fresh = args.workdir / "fresh.duckdb"
    for label, extra in (("callkpi kpi", []), ("callkpi kpi --by agent", ["--by", "agent"]),
                         ("callkpi kpi --by agent,day", ["--by", "agent,day"])):
        command = ["kpi", "--db", str(db), *extra]
        describe(f"{label} (small store), first run", command, args.runs, cache, _emptied(cache))
        after_ingest = ["kpi", "--db", str(fresh), *extra]
        describe(f"{label} (small store), first run after an ingest", after_ingest, args.runs, cache,
                 _ingested(cache, small_data(args.workdir), fresh))
        describe(f"{label} (small store), repeat run", command, args.runs, cache)
    if args.large:
        large(args.large, args.runs, args.workdir)


if __name__ == "__main__":
    main()
