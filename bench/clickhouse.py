"""DuckDB beside ClickHouse (chDB, the engine in-process): `callkpi copy` throughput and the same KPI
reports through the same metric engine on both stores.

    ./dev setup && .venv/bin/python bench/clickhouse.py --calls 100000,1000000

Prints figures; it is not a test. Each size is simulated with `callkpi simulate` (30 days), the
queue_log loaded into DuckDB with `callkpi ingest` (ClickHouse has no ingest yet), the store copied
to chDB with `callkpi copy`'s code, then each report is run on both stores (best of three, after
one run that compiles the query shape), with and without the rollups (the rollup tables are copied
from DuckDB). Needs chdb (`pip install "callkpi[clickhouse]"`).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import DAYS, START, TIMEZONE, best_of, run_child

from callkpi.config import MetricParams
from callkpi.metrics.engine import KpiQuery, compute
from callkpi.storage import Store, open_store
from callkpi.storage.copy import copy_store


def reports() -> dict[str, KpiQuery]:
    params = MetricParams(timezone=TIMEZONE)
    return {
        "total": KpiQuery(params=params),
        "agent x day": KpiQuery(by=("agent", "day"), params=params),
        "queue x interval": KpiQuery(by=("queue", "interval"), params=params),
        "one day, one queue, by interval": KpiQuery(by=("interval",), date_from=START, date_to=START,
                                                   filters={"queue": ("support",)}, params=params),
    }


def bench_size(calls: int, workdir: Path) -> None:
    data = workdir / f"sim-{calls}"
    callkpi = [sys.executable, "-m", "callkpi"]
    if not (data / "queue_log").exists():
        run_child([*callkpi, "simulate", "--out", str(data), "--days", str(DAYS), "--calls-per-day",
                   str(calls // DAYS), "--seed", "1", "--start", START.isoformat()])
    db = data / "bench.duckdb"
    if not db.exists():
        seconds, peak = run_child([*callkpi, "ingest", "--db", str(db), "--tz", TIMEZONE, str(data / "queue_log")])
        print(f"{calls:>11,} calls: DuckDB ingest {seconds:.1f} s, peak {peak:,.0f} MB")
    target = data / "chdb"
    shutil.rmtree(target, ignore_errors=True)
    with Store(db, read_only=True) as duck, open_store(f"chdb://{target}") as ch:
        started = time.perf_counter()
        copied = copy_store(duck, ch)
        seconds = time.perf_counter() - started
        print(f"{calls:>11,} calls: copy to chDB {copied.rows:,} rows in {seconds:.1f} s "
              f"({copied.rows / seconds:,.0f} rows/s); chDB parts {_size_mb(ch):,.0f} MB, "
              f"DuckDB file {db.stat().st_size / 1e6:,.0f} MB")
        for name, query in reports().items():
            for rollups in (True, False):
                times = [_best(store, query, rollups) for store in (duck, ch)]
                label = f"{name}{'' if rollups else ' (raw tables)'}"
                print(f"{calls:>11,} calls: {label:44s} DuckDB {times[0] * 1000:7.0f} ms   "
                      f"chDB {times[1] * 1000:7.0f} ms")


def _best(store: Any, query: KpiQuery, rollups: bool) -> float:
    def action() -> object:
        return compute(store, query, rollups=rollups)

    action()  # compiles the shape
    return best_of(3, action)


def _size_mb(store: Any) -> float:
    """The active parts' bytes on disk (the directory itself changes while ClickHouse merges)."""
    rows = store.fetch_all("SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = currentDatabase()")
    return float(rows[0][0] or 0) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", default="100000,1000000", help="comma list of call counts")
    parser.add_argument("--workdir", type=Path, default=Path(__file__).resolve().parent / "out")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    for calls in (int(c) for c in args.calls.split(",")):
        bench_size(calls, args.workdir)


if __name__ == "__main__":
    main()
