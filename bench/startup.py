"""How long `callkpi` takes to start: `callkpi --help` and `callkpi kpi` on a small store.

    ./dev bench startup            # best of 5 runs each
    ./dev bench startup --runs 10

Prints figures; it is not a test. Each command runs in a fresh interpreter under
``python -X importtime``: the wall time of the whole process (best of ``--runs``), the import time
Python reports for the top-level modules, the heaviest packages imported, and whether the heavy
libraries (scipy, statsmodels, pandas, the web stack) were imported at all. The small store is one
simulated day of a 5-agent centre, made once in ``--workdir``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HEAVY = ("scipy", "statsmodels", "pandas", "fastapi", "uvicorn", "starlette", "reportlab", "openpyxl")
IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def small_store(workdir: Path) -> Path:
    db = workdir / "small.duckdb"
    if db.exists():
        return db
    data = workdir / "small"
    subprocess.run([sys.executable, "-m", "callkpi", "simulate", "--out", str(data), "--days", "1",
                    "--agents", "5", "--calls-per-day", "200"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "callkpi", "ingest", "--db", str(db), "--tz", "Europe/Moscow",
                    str(data / "queue_log")], check=True, stdout=subprocess.DEVNULL)
    return db


def run_once(args: list[str], env_extra: dict[str, str] | None = None) -> tuple[float, str]:
    """Wall seconds of one ``python -X importtime -m callkpi ARGS`` and its import report."""
    env = {**os.environ, "COLUMNS": "80", **(env_extra or {})}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "callkpi", *args], capture_output=True,
                          text=True, env=env, check=False)
    return time.perf_counter() - started, done.stderr


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


def describe(label: str, args: list[str], runs: int, cache: Path | None = None, first: bool = False) -> None:
    """Best of ``runs``; with ``cache`` (CALLKPI_CACHE_DIR) ``first`` empties it before each run
    (the query is compiled: a first run) and otherwise keeps it (a repeat run reads the kept SQL)."""
    def once() -> tuple[float, str]:
        if cache is None:
            return run_once(args)
        if first and cache.exists():
            shutil.rmtree(cache)
        return run_once(args, {"CALLKPI_CACHE_DIR": str(cache)})

    if cache is not None and not first:
        once()  # compile and keep it
    best, report = min((once() for _ in range(runs)), key=lambda pair: pair[0])
    modules = parse_imports(report)
    heavy = [name for name in HEAVY if name in modules]
    packages = {name: cumulative for name, (_, cumulative) in modules.items() if "." not in name}
    heaviest = sorted(packages.items(), key=lambda item: -item[1])[:8]
    print(f"{label}: {best:.3f} s wall (best of {runs}), {top_level_total(report):.3f} s importing, "
          f"{len(modules)} modules")
    print("  heavy libraries imported: " + (", ".join(heavy) if heavy else "none"))
    print("  heaviest packages: " + ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in heaviest))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    db = small_store(args.workdir)
    describe("callkpi --help", ["--help"], args.runs)
    describe("callkpi --version", ["--version"], args.runs)
    cache = args.workdir / "cache"
    for label, extra in (("callkpi kpi", []), ("callkpi kpi --by agent", ["--by", "agent"])):
        command = ["kpi", "--db", str(db), *extra]
        describe(f"{label} (small store), first run", command, args.runs, cache, first=True)
        describe(f"{label} (small store), repeat run", command, args.runs, cache)


if __name__ == "__main__":
    main()
