"""callkpi benchmarks: ingest throughput, KPI report times, memory, database size, and the same
report written plainly in pandas on the same data, in the same run.

    ./dev bench                      # 100k and 1M calls
    ./dev bench --calls 100000,1000000,10000000

Prints figures; it is not a test. Each size is simulated with `callkpi simulate` (30 days),
loaded with `callkpi ingest` in a child process (wall time and peak memory of that process),
then reported through the metric engine (best of three runs).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas_reference

from callkpi.config import MetricParams, Settings
from callkpi.metrics.engine import KpiQuery, compute
from callkpi.storage import Store

TIMEZONE = "Europe/Moscow"
DAYS = 30
START = date(2026, 3, 2)


def run_child(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0 and os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"failed: {' '.join(args)}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def best_of(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def bench_size(calls: int, workdir: Path, *, reuse_db: bool = False, pandas: bool = True) -> dict[str, float]:
    data = workdir / f"sim-{calls}"
    callkpi = [sys.executable, "-m", "callkpi"]
    figures: dict[str, float] = {"calls": calls}
    if not (data / "queue_log").exists():
        figures["simulate_s"], _ = run_child(
            [*callkpi, "simulate", "--out", str(data), "--days", str(DAYS), "--calls-per-day", str(calls // DAYS),
             "--seed", "1", "--start", START.isoformat()]
        )
    log = data / "queue_log"
    db = data / "bench.duckdb"
    if reuse_db and db.exists():
        figures["db_mb_per_million_calls"] = db.stat().st_size / 1e6 / (calls / 1e6)
    else:
        figures.update(bench_ingest(callkpi, log, db, calls))
    figures.update(bench_reports(db))
    if pandas:
        figures.update(bench_pandas(log))
        figures["pandas_over_callkpi_agent_day"] = figures["pandas_agent_day_s"] / figures["kpi_agent_day_s"]
    return figures


def bench_ingest(callkpi: list[str], log: Path, db: Path, calls: int) -> dict[str, float]:
    db.unlink(missing_ok=True)
    size_mb = log.stat().st_size / 1e6
    lines = sum(1 for _ in log.open("rb"))
    seconds, peak = run_child([*callkpi, "ingest", "--db", str(db), "--tz", TIMEZONE, str(log)])
    with Store(db, read_only=True) as store:  # exit status 1 is also a crash: check the load happened
        loaded = store.connection.execute("SELECT coalesce(sum(lines_loaded), 0) FROM sources").fetchall()[0][0]
    if loaded < lines * 0.99:
        raise SystemExit(f"ingest of {log} loaded {loaded} of {lines} lines")
    return dict(
        queue_log_mb=size_mb,
        lines=lines,
        ingest_s=seconds,
        ingest_lines_per_s=lines / seconds,
        ingest_mb_per_min=size_mb / seconds * 60,
        ingest_peak_mb=peak,
        db_mb_per_million_calls=db.stat().st_size / 1e6 / (calls / 1e6),
    )


def bench_reports(db: Path) -> dict[str, float]:
    figures: dict[str, float] = {}
    params = MetricParams(timezone=TIMEZONE)
    half_hours = MetricParams(timezone=TIMEZONE, interval_minutes=30)
    day = (START + timedelta(days=DAYS // 2)).isoformat()
    with Store(db, read_only=True) as store:
        queue = store.connection.execute("SELECT min(queue) FROM queue_legs").fetchall()[0][0]
        reports = {
            "kpi_total_s": KpiQuery(params=params),
            "kpi_agent_day_s": KpiQuery(by=("agent", "day"), params=params),
            "kpi_queue_30min_s": KpiQuery(by=("queue", "interval"), params=half_hours),
            "kpi_one_day_one_queue_s": KpiQuery(
                by=("interval",), date_from=date.fromisoformat(day), date_to=date.fromisoformat(day),
                filters={"queue": (queue,)}, params=params,
            ),
        }
        for name, query in reports.items():
            # The first run builds and compiles the query; later runs of the same shape reuse its SQL.
            figures[name.replace("_s", "_first_s")] = best_of(1, lambda q=query: compute(store, q))
            figures[name] = best_of(3, lambda q=query: compute(store, q))
            figures[name.replace("kpi_", "kpi_raw_")] = best_of(3, lambda q=query: compute(store, q, rollups=False))
    figures.update(bench_web(db, day, queue))
    return figures


BENCH_USER, BENCH_PASSWORD = "bench-admin", "bench password 1"


def bench_web(db: Path, day: str, queue: str) -> dict[str, float]:
    """Server time of the overview page, the agent table and /api/v1/kpi, in-process (TestClient).

    Without the start-up warm-up: the first request (compiles the queries) and the same again.
    With it (as `callkpi serve` runs): after the warm-up, the first overview and agent table, then
    those of another week and of one queue (new values for queries the warm-up compiled). The
    background alert check is off: its KPI queries would run while the pages are timed."""
    from fastapi.testclient import TestClient

    from callkpi.queries.web_tables import ensure_web_schema
    from callkpi.web.app import create_app
    from callkpi.web.auth import create_token, create_user, get_user

    with Store(db) as store:
        ensure_web_schema(store)
        if get_user(store, BENCH_USER) is None:
            create_user(store, BENCH_USER, BENCH_PASSWORD, "admin")
        token = create_token(store, BENCH_USER)
    figures: dict[str, float] = {}
    api = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(db, Settings(), warm=False, alerts=False)) as client:
        _sign_in(client)
        requests = {
            "web_overview": ("/", {}),
            "web_agents": ("/agents", {}),
            "api_kpi_queue_day": (f"/api/v1/kpi?by=interval&from={day}&to={day}&queue={queue}", api),
        }
        for name, (path, headers) in requests.items():
            for label in ("cold", "warm"):
                figures[f"{name}_{label}_s"] = _timed_get(client, path, headers)
    week = date.fromisoformat(day) - timedelta(days=7)
    other_week = f"from={week.isoformat()}&to={(week + timedelta(days=6)).isoformat()}"
    with TestClient(create_app(db, Settings(), warm=True, alerts=False)) as client:
        _sign_in(client)
        while any(t.name == "callkpi-warm-up" and t.is_alive() for t in threading.enumerate()):
            time.sleep(0.1)
        for name, path in (("after_warm_up_overview", "/"), ("after_warm_up_agents", "/agents"),
                           ("after_warm_up_overview_other_week", f"/?{other_week}"),
                           ("after_warm_up_overview_one_queue", f"/?queue={queue}&{other_week}"),
                           ("after_warm_up_agents_other_week", f"/agents?{other_week}")):
            figures[f"web_{name}_s"] = _timed_get(client, path, {})
    return figures


def _sign_in(client: Any) -> None:
    form = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    client.post("/login", data={"username": BENCH_USER, "password": BENCH_PASSWORD,
                                "csrf_token": csrf.group(1) if csrf else "", "next": "/"}, follow_redirects=False)


def _timed_get(client: Any, path: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    response = client.get(path, headers=headers, follow_redirects=False)
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{path}: HTTP {response.status_code}")
    return seconds


def bench_pandas(log: Path) -> dict[str, float]:
    started = time.perf_counter()
    legs = pandas_reference.queue_legs(pandas_reference.load_events(log))
    load = time.perf_counter() - started
    timings = {"pandas_load_s": load}
    for name, by in (("pandas_total_s", []), ("pandas_agent_day_s", ["agent", "day"]),
                     ("pandas_queue_30min_s", ["queue", "interval"])):
        timings[name] = load + best_of(1, lambda b=by: pandas_reference.report(legs, b, TIMEZONE))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", default="100000,1000000", help="comma list of call counts")
    parser.add_argument("--workdir", default="bench/out", type=Path)
    parser.add_argument("--reuse-db", action="store_true",
                        help="report on an existing bench.duckdb of a size instead of loading it again")
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas comparison")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    results = [bench_size(int(n), args.workdir, reuse_db=args.reuse_db, pandas=not args.no_pandas)
               for n in args.calls.split(",")]
    keys = list(dict.fromkeys(key for result in results for key in result))
    print(f"{'figure':44s}" + "".join(f"{int(r['calls']):>16,d}" for r in results))
    for key in keys[1:]:
        print(f"{key:44s}" + "".join(f"{r.get(key, float('nan')):>16,.3f}" for r in results))
    ratios = [r["pandas_over_callkpi_agent_day"] for r in results if "pandas_over_callkpi_agent_day" in r]
    if len(ratios) > 1:
        print("median pandas/callkpi ratio (agent x day):", round(statistics.median(ratios), 2))


if __name__ == "__main__":
    main()
