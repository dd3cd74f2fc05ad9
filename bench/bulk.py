"""Bulk KPI results from `callkpi serve`: 20 concurrent clients each fetch the whole agent x day
report, as paged JSON and as streamed CSV, Parquet and Arrow IPC.

    python bench/bulk.py --calls 1000000 [--clients 20] [--workdir bench-data]
    ./dev bench bulk --calls 100000

Uses the store of bench/load.py (simulated, loaded once per size under --workdir). Prints, per
format, the bytes of one full result, the seconds per client (p50 / max) and the server's peak
resident memory while the clients run. Not a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from pathlib import Path

import httpx
from load import HOST, percentile, prepare, start_server, stop_server, token_for

REPORT = "/api/v1/kpi?by=agent,day"


async def fetch_all(client: httpx.AsyncClient, token: str, fmt: str) -> int:
    """Every row of the report in ``fmt``: JSON page after page, the other formats in one stream."""
    headers = {"Authorization": f"Bearer {token}"}
    if fmt != "json":
        size = 0
        async with client.stream("GET", f"{REPORT}&format={fmt}", headers=headers) as response:
            response.raise_for_status()
            async for chunk in response.aiter_bytes():
                size += len(chunk)
        return size
    size, url = 0, f"{REPORT}&limit=10000"
    while url:
        response = await client.get(url, headers=headers)
        response.raise_for_status()
        size += len(response.content)
        token_next = response.headers.get("x-next-page-token")
        url = f"{REPORT}&limit=10000&page_token={token_next}" if token_next else ""
    return size


async def one_format(port: int, token: str, clients: int, fmt: str) -> tuple[int, list[float]]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", limits=limits, timeout=600) as client:
        await fetch_all(client, token, fmt)  # once: compile and cache before timing

        async def timed() -> tuple[int, float]:
            started = time.perf_counter()
            size = await fetch_all(client, token, fmt)
            return size, time.perf_counter() - started

        results = await asyncio.gather(*(timed() for _ in range(clients)))
    return results[0][0], [seconds for _, seconds in results]


class PeakMemory:
    """The peak resident memory of a process, sampled every 50 ms (from /proc)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        status = Path(f"/proc/{self.pid}/status")
        while not self._stop.is_set():
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    self.peak = max(self.peak, int(line.split()[1]) * 1024)
            time.sleep(0.05)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--workdir", type=Path, default=Path("bench-data"))
    args = parser.parse_args()
    db, watched, _ = prepare(args.calls, args.workdir)
    token = token_for(db)
    server = start_server(db, watched, args.port)
    try:
        print(f"{args.clients} concurrent clients, each the whole {REPORT} at {args.calls:,} calls")
        print(f"{'format':8} {'bytes':>12} {'p50 s':>7} {'max s':>7} {'server peak MB':>15}")
        for fmt in ("json", "csv", "parquet", "arrow"):
            with PeakMemory(server.pid) as memory:
                size, seconds = asyncio.run(one_format(args.port, token, args.clients, fmt))
            print(f"{fmt:8} {size:12,d} {percentile(seconds, 0.5):7.2f} {max(seconds):7.2f} "
                  f"{memory.peak / 1e6:15.0f}", flush=True)
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
