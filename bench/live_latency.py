"""Live wallboard latency: from a line appended to the watched queue_log to the wallboard's push.

    python bench/live_latency.py --calls 1000000 [--events 300] [--every 0.1] [--workdir bench-data]
    ./dev bench live --calls 100000

Uses the store of bench/load.py (``--calls`` simulated calls over 30 days, loaded once per size
under --workdir), starts `callkpi serve --watch` (the simulated log, and today's log the events
are appended to; --watch-every 2, so the server also loads each append into the big store while
the wallboard follows) in a child process, signs in, opens the wallboard's event stream
(``/wallboard/stream``) and appends ``--events`` presence lines one at a time, every ``--every``
seconds: agent ``LIVE1`` pauses with reason ``b<i>``, the next line unpauses it, and so on. The
latency of a line is from the end of its write (flushed) to the first pushed wallboard that shows
its effect (the reason on the tile, or the tile idle again). Prints p50, p99 and max.
Not a test: figures depend on the machine. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import re
import threading
import time
from pathlib import Path

import httpx
from load import HOST, PASSWORD, USER, percentile, prepare, start_server, stop_server

AGENT = "LIVE1"


def sign_in(client: httpx.Client) -> None:
    form = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    response = client.post("/login", data={"username": USER, "password": PASSWORD, "next": "/",
                                           "csrf_token": csrf.group(1) if csrf else ""})
    if response.status_code != 303:
        raise SystemExit(f"sign-in failed: HTTP {response.status_code}")


class Pushes:
    """Reads the event stream in a thread; ``seen(pattern)`` waits for a push matching it."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client
        self._cond = threading.Condition()
        self._pushes: list[tuple[float, str]] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            self._stream()
        except httpx.HTTPError:  # the client closed at the end of the run
            return

    def _stream(self) -> None:
        with self._client.stream("GET", "/wallboard/stream", timeout=None) as response:
            data: list[str] = []
            for line in response.iter_lines():
                if line.startswith("data:"):
                    data.append(line[5:])
                elif line == "" and data:
                    with self._cond:
                        self._pushes.append((time.perf_counter(), "\n".join(data)))
                        self._cond.notify_all()
                    data = []

    def seen(self, pattern: re.Pattern[str], after: float, timeout: float = 30.0) -> float | None:
        """When the first push after ``after`` matching ``pattern`` arrived (None: not within ``timeout``)."""
        deadline = time.perf_counter() + timeout
        with self._cond:
            while True:
                for at, html in self._pushes:
                    if at >= after and pattern.search(html):
                        return at
                left = deadline - time.perf_counter()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def forget(self) -> None:
        with self._cond:
            self._pushes.clear()


def tile(state: str, reason: str | None = None) -> re.Pattern[str]:
    head = rf'data-agent="{AGENT}" data-state="{state}">'
    body = rf'[^<]*<span class="at-name">[^<]*</span>\s*<span class="at-state">[^<]*· {reason}</span>' if reason else ""
    return re.compile(head + body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--every", type=float, default=0.1, help="seconds between two appended lines")
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--workdir", type=Path, default=Path("bench-data"))
    args = parser.parse_args()
    db, simulated, _rest = prepare(args.calls, args.workdir)
    today = args.workdir / f"live-{args.calls}" / "queue_log"
    today.parent.mkdir(parents=True, exist_ok=True)
    today.write_text(f"{int(time.time()) - 60}|NONE|live|SIP/{AGENT}|ADDMEMBER|\n", encoding="utf-8")
    server = start_server(db, [simulated, today], args.port, today.parent / "serve.log")
    latencies: list[float] = []
    missed = 0
    try:
        with httpx.Client(base_url=f"http://{HOST}:{args.port}", timeout=60) as client:
            sign_in(client)
            pushes = Pushes(client)
            if pushes.seen(tile("idle"), 0.0, timeout=120) is None:
                raise SystemExit("the wallboard never showed the agent")
            with today.open("a", encoding="utf-8") as handle:
                for i in range(args.events):
                    paused = i % 2 == 0
                    event, reason = ("PAUSE", f"b{i}") if paused else ("UNPAUSE", "")
                    handle.write(f"{int(time.time())}|NONE|live|SIP/{AGENT}|{event}|{reason}\n")
                    handle.flush()
                    written = time.perf_counter()
                    seen = pushes.seen(tile("paused", reason) if paused else tile("idle"), written)
                    if seen is None:
                        missed += 1
                    else:
                        latencies.append(seen - written)
                    pushes.forget()
                    time.sleep(args.every)
    finally:
        stop_server(server)
    if not latencies:
        raise SystemExit("no push seen")
    print(f"store: {args.calls:,} simulated calls ({db}); {len(latencies)} appended lines seen, "
          f"{missed} not within 30 s")
    print(f"append -> wallboard push: p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
          f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
