"""Load benchmark of `callkpi serve`: concurrent clients on loopback, idle and during a --watch load.

    python bench/load.py --calls 1000000 [--clients 100] [--seconds 60] [--workdir bench-data]
    ./dev bench load --calls 100000

Simulates 30 days of a centre of ``--calls`` calls (`callkpi simulate`), loads 97 % of the
queue_log with `callkpi ingest` into a store kept per size (``load.base.duckdb``, built once and
copied for each run, so a 1M run does not load again), creates a user and an API token with the CLI, starts
`callkpi serve --watch` on 127.0.0.1 in a child process and drives ``--clients`` concurrent
clients (each signs in through the login form with httpx, a session of its own, then sends one
request at a time over one keep-alive connection, cycling over the overview
page, the agent table, /api/v1/kpi and the call log page) for ``--seconds`` seconds, twice:
idle, then while the rest of the queue_log is appended to the watched file in chunks (the
server loads it as Asterisk would write it). Prints requests/s, p50/p99 latency, errors and
bytes per answer per endpoint and overall, the server's and this process's CPU per request, and
the machine's load average beside them (``--pages overview`` times one page alone). Not a test:
figures depend on the machine. Only 127.0.0.1 is ever contacted.

How it measures: a request is timed from before it is written to after the last byte of its body is
read. The clients (``--client raw``, the default) are HTTP/1.1 written by hand on asyncio streams in
this one process, sending a browser's headers for a page of its own site (``Accept-Encoding: gzip``,
``Sec-Fetch-Site: same-origin``, so pages come compressed as a browser gets them): about 0.1 ms of
client CPU per request, where ``--client httpx`` (httpx.AsyncClient, no browser headers) costs
about 1.3 ms and, with the server on the same 2 cores, was the limit of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HOST = "127.0.0.1"
DAYS = 30
START = "2026-03-02"
TIMEZONE = "Europe/Moscow"
USER, PASSWORD = "load-bench", "load-bench-password"
HELD_BACK = 0.03  # share of the queue_log appended during the --watch phase
MAX_REQUESTS_PER_CLIENT = 100_000
ENDPOINTS = {
    "overview": "/",
    "agents": "/agents",
    "api_kpi": "/api/v1/kpi?by=queue,day&metrics=calls_offered,answer_rate,service_level,asa_s,aht_s",
    "calls": "/calls",
}


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in ENDPOINTS})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENDPOINTS, 0))
    kinds: dict[str, int] = field(default_factory=dict)  # "agents: HTTP 500", "calls: ReadTimeout"
    reconnects: int = 0  # GETs sent again over a new connection (timed from the first try)

    def count(self, name: str, seconds: float, problem: str | None) -> None:
        """One answer of ``name`` (or its failure, ``problem``: "HTTP 500", "ReadTimeout")."""
        self.latencies[name].append(seconds)
        if problem:
            self.errors[name] += 1
            self.kinds[f"{name}: {problem}"] = self.kinds.get(f"{name}: {problem}", 0) + 1
    received: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENDPOINTS, 0))  # body bytes


def callkpi(*args: str, capture: bool = False) -> str:
    done = subprocess.run([sys.executable, "-m", "callkpi", *args], check=True, text=True,
                          stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
    return done.stdout or ""


def prepare(calls: int, workdir: Path) -> tuple[Path, Path, bytes]:
    """The store with most of the queue_log loaded, the watched file, and the bytes still to append."""
    data = workdir / f"load-{calls}"
    full = data / "sim" / "queue_log"
    if not full.exists():
        print(f"simulating {calls:,} calls ...", flush=True)
        callkpi("simulate", "--out", str(full.parent), "--days", str(DAYS), "--calls-per-day", str(calls // DAYS),
                "--seed", "1", "--start", START)
    watched, db, base = data / "watched" / "queue_log", data / "load.duckdb", data / "load.base.duckdb"
    content = full.read_bytes()
    cut = content.rindex(b"\n", 0, int(len(content) * (1 - HELD_BACK))) + 1
    shutil.rmtree(watched.parent, ignore_errors=True)
    watched.parent.mkdir(parents=True)
    watched.write_bytes(content[:cut])
    if not base.exists():  # built once per size and reused: a --watch run adds to its own copy only
        print(f"loading {cut / 1e6:.0f} MB of queue_log ...", flush=True)
        started = time.perf_counter()
        building = base.with_suffix(".building")
        building.unlink(missing_ok=True)
        subprocess.run([sys.executable, "-m", "callkpi", "ingest", "--db", str(building), "--tz", TIMEZONE,
                        str(watched)], check=False, stdout=subprocess.DEVNULL)
        callkpi("user", "add", USER, "--role", "admin", "--password", PASSWORD, "--db", str(building))
        building.rename(base)
        print(f"loaded in {time.perf_counter() - started:.1f} s", flush=True)
    db.unlink(missing_ok=True)
    shutil.copyfile(base, db)
    # the copy must see the watched file as already loaded up to the cut: same path, same bytes
    return db, watched, content[cut:]


def token_for(db: Path) -> str:
    found = re.search(r"ck_[A-Za-z0-9_-]+", callkpi("token", "create", USER, "--db", str(db), capture=True))
    if not found:
        raise SystemExit("callkpi token create printed no token")
    return found.group(0)


def start_server(db: Path, watched: list[Path], port: int, log: Path | None = None) -> subprocess.Popen[bytes]:
    """`callkpi serve` on loopback watching ``watched``, once it answers /health; its messages go to ``log``."""
    args = [sys.executable, "-m", "callkpi", "serve", "--db", str(db), "--host", HOST, "--port", str(port),
            "--watch-every", "2", "--tz", TIMEZONE]
    for path in watched:
        args += ["--watch", str(path)]
    out = log.open("wb") if log else subprocess.DEVNULL
    try:
        server = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"})
    finally:
        if log:
            out.close()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://{HOST}:{port}/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"callkpi serve exited (see {log})" if log else "callkpi serve exited")
        time.sleep(0.5)
    server.kill()
    raise SystemExit("callkpi serve did not answer /health within 300 s")


def stop_server(server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Ask the server to stop as Ctrl+C would, and kill it if it has not stopped within ``timeout``."""
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


async def sign_in(client: httpx.AsyncClient) -> None:
    form = await client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    response = await client.post("/login", data={"username": USER, "password": PASSWORD, "next": "/",
                                                  "csrf_token": csrf.group(1) if csrf else ""})
    if response.status_code != 303:
        raise SystemExit(f"sign-in failed: HTTP {response.status_code}")


class RawSession:
    """One browser session over one keep-alive HTTP/1.1 connection, written by hand on asyncio streams:
    a GET costs the client a few tens of microseconds of CPU where httpx costs about a millisecond, so
    on a 2-core machine the clients take less of the server's CPU. It sends what a browser sends for
    a page of its own site (the session cookie, ``Accept-Encoding: gzip``, ``Sec-Fetch-Site:
    same-origin``) and reads the whole body (Content-Length or chunked), as a browser does."""

    def __init__(self, port: int, cookie: str) -> None:
        self.port, self.cookie = port, cookie
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reconnects = 0  # GETs sent again after the server closed the idle keep-alive connection

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, int]:
        """(status, body bytes); reconnects once when the server closed the idle connection."""
        try:
            return await self._get(path, headers)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()
            self.reconnects += 1
            return await self._get(path, headers)

    async def _get(self, path: str, headers: dict[str, str]) -> tuple[int, int]:
        if self.writer is None:
            await self._connect()
        assert self.reader is not None and self.writer is not None
        lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{self.port}", "Accept-Encoding: gzip",
                 "Sec-Fetch-Site: same-origin"]
        if "Authorization" in headers:
            lines.append(f"Authorization: {headers['Authorization']}")
        else:
            lines.append(f"Cookie: {self.cookie}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *fields = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        found = {}
        for item in fields:
            name, _, value = item.partition(":")
            found[name.strip().lower()] = value.strip()
        if "content-length" in found:
            size = int(found["content-length"])
            await self.reader.readexactly(size)
        elif found.get("transfer-encoding", "").lower() == "chunked":
            size = await self._chunked()
        else:
            raise ConnectionError("answer without Content-Length nor chunks")
        if found.get("connection", "").lower() == "close":
            self.close()
        return status, size

    async def _chunked(self) -> int:
        assert self.reader is not None
        size = 0
        while True:
            length = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await self.reader.readexactly(length + 2)
            size += length
            if length == 0:
                return size

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its threads so far (/proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def one_raw_client(index: int, session: RawSession, token: str, deadline: float, tally: Tally,
                         names: list[str]) -> None:
    for sent in range(MAX_REQUESTS_PER_CLIENT):
        if time.monotonic() >= deadline:
            return
        name = names[(index + sent) % len(names)]
        headers = {"Authorization": f"Bearer {token}"} if name.startswith("api_") else {}
        started = time.perf_counter()
        try:
            status, size = await asyncio.wait_for(session.get(ENDPOINTS[name], headers), timeout=60)
            tally.received[name] += size
            problem = None if status == 200 else f"HTTP {status}"
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            session.close()
            problem = type(exc).__name__
        tally.count(name, time.perf_counter() - started, problem)


async def one_client(index: int, client: httpx.AsyncClient, token: str, deadline: float, tally: Tally,
                     names: list[str]) -> None:
    for sent in range(MAX_REQUESTS_PER_CLIENT):
        if time.monotonic() >= deadline:
            return
        name = names[(index + sent) % len(names)]
        headers = {"Authorization": f"Bearer {token}"} if name.startswith("api_") else {}
        started = time.perf_counter()
        try:
            try:
                response = await client.get(ENDPOINTS[name], headers=headers)
            except httpx.RemoteProtocolError:
                # the server closed the idle keep-alive connection (after 5 s) while this client was
                # still reading the last answer: a browser sends the GET again on a new connection
                tally.reconnects += 1
                response = await client.get(ENDPOINTS[name], headers=headers)
            problem = None if response.status_code == 200 else f"HTTP {response.status_code}"
            tally.received[name] += int(response.headers.get("content-length", len(response.content)))
        except httpx.HTTPError as exc:
            problem = type(exc).__name__
        tally.count(name, time.perf_counter() - started, problem)


async def append_in_chunks(watched: Path, rest: bytes, seconds: float, chunks: int = 20) -> None:
    """Append the held-back lines as a PBX would: ``chunks`` pieces spread over the run."""
    size = max(1, len(rest) // chunks)
    position = 0
    while position < len(rest):
        end = len(rest) if len(rest) - position <= size else rest.index(b"\n", position + size) + 1
        with watched.open("ab") as handle:
            handle.write(rest[position:end])
        position = end
        await asyncio.sleep(seconds / chunks)


async def open_sessions(port: int, count: int) -> list[httpx.AsyncClient]:
    """``count`` browser sessions, each signed in on its own (its own cookie and CSRF token) over one
    keep-alive connection, as ``count`` people at their desks."""
    sessions = [httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=60, follow_redirects=False,
                                  limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
                for _ in range(count)]
    for start in range(0, count, 4):  # a few at a time: each sign-in checks an argon2 hash
        await asyncio.gather(*(sign_in(session) for session in sessions[start:start + 4]))
    return sessions


async def _wake(session: httpx.AsyncClient | RawSession) -> None:
    """A request off the clock: a connection idle for longer than the server keeps it open is
    closed by the server, and the first request over it would fail on the client's side."""
    with contextlib.suppress(httpx.HTTPError, OSError, asyncio.IncompleteReadError, ValueError):
        if isinstance(session, RawSession):
            session.close()
            await session.get("/health", {})
        else:
            await session.get("/health")


@dataclass
class Cpu:
    """CPU seconds of the server and of this client process over a phase (both on the same cores)."""
    server: float
    client: float


async def run_phase(sessions: list[httpx.AsyncClient], raw: list[RawSession] | None, token: str, seconds: float,
                    append: tuple[Path, bytes] | None, names: list[str], server_pid: int) -> tuple[Tally, Cpu]:
    """Each session is one client sending one request at a time for ``seconds``."""
    tally = Tally()
    await asyncio.gather(*(_wake(session) for session in raw or sessions))
    for name, path in ENDPOINTS.items():  # once each: compile the queries before timing
        await sessions[0].get(path, headers={"Authorization": f"Bearer {token}"} if name.startswith("api_") else {})
    server_cpu, client_cpu = cpu_seconds(server_pid), time.process_time()
    deadline = time.monotonic() + seconds
    if raw is not None:
        tasks = [one_raw_client(i, session, token, deadline, tally, names) for i, session in enumerate(raw)]
    else:
        tasks = [one_client(i, session, token, deadline, tally, names) for i, session in enumerate(sessions)]
    if append:
        tasks.append(append_in_chunks(append[0], append[1], seconds * 0.8))
    reconnects = sum(session.reconnects for session in raw or ())
    await asyncio.gather(*tasks)
    tally.reconnects += sum(session.reconnects for session in raw or ()) - reconnects
    return tally, Cpu(cpu_seconds(server_pid) - server_cpu, time.process_time() - client_cpu)


async def run_phases(port: int, token: str, clients: int, seconds: float, append: tuple[Path, bytes] | None,
                     names: list[str], server_pid: int, client_kind: str) -> None:
    """The idle run, then (with ``append``) the run during a --watch load, over the same sessions."""
    sessions = await open_sessions(port, clients)
    raw = None
    if client_kind == "raw":  # the same signed-in sessions, each over a connection of its own
        raw = [RawSession(port, "; ".join(f"{k}={v}" for k, v in session.cookies.items())) for session in sessions]
    try:
        print(f"machine load (uptime): {load_average()}", flush=True)
        report("idle", *await run_phase(sessions, raw, token, seconds, None, names, server_pid), seconds)
        if append is not None:
            print(f"machine load (uptime): {load_average()}", flush=True)
            during = await run_phase(sessions, raw, token, seconds, append, names, server_pid)
            report(f"during a --watch load ({len(append[1]) / 1e6:.1f} MB appended in 20 chunks)", *during, seconds)
    finally:
        for session in raw or ():
            session.close()
        await asyncio.gather(*(session.aclose() for session in sessions))


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def report(title: str, tally: Tally, cpu: Cpu, seconds: float) -> None:
    print(f"\n{title}")
    print(f"{'endpoint':10} {'requests':>9} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'KB sent':>8}")
    every: list[float] = []
    for name, values in tally.latencies.items():
        if not values:
            continue
        every += values
        print(f"{name:10} {len(values):9d} {len(values) / seconds:7.1f} {percentile(values, 0.5) * 1000:8.0f} "
              f"{percentile(values, 0.99) * 1000:8.0f} {tally.errors[name]:7d} "
              f"{tally.received[name] / len(values) / 1000:8.1f}")
    print(f"{'all':10} {len(every):9d} {len(every) / seconds:7.1f} {percentile(every, 0.5) * 1000:8.0f} "
          f"{percentile(every, 0.99) * 1000:8.0f} {sum(tally.errors.values()):7d}")
    if tally.kinds:
        print("errors: " + ", ".join(f"{kind} x{count}" for kind, count in sorted(tally.kinds.items())))
    if tally.reconnects:
        print(f"requests sent again on a new connection (keep-alive closed by the server): {tally.reconnects}")
    if every:
        print(f"CPU per request: server {cpu.server / len(every) * 1000:.2f} ms, this client process "
              f"{cpu.client / len(every) * 1000:.2f} ms (server {cpu.server / seconds:.2f} cores, "
              f"client {cpu.client / seconds:.2f} cores)")
    print(f"machine load average at the end (1, 5, 15 min): {load_average()} on {os.cpu_count()} cores", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workdir", type=Path, default=Path("bench-data"))
    parser.add_argument("--no-watch", action="store_true", help="only the idle run")
    parser.add_argument("--pages", default=",".join(ENDPOINTS),
                        help=f"comma list of the pages the clients cycle over (default all: {','.join(ENDPOINTS)})")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="raw: keep-alive HTTP/1.1 written on asyncio streams, browser headers (default); "
                             "httpx: httpx.AsyncClient (about 1 ms of client CPU per request)")
    parser.add_argument("--prepare-only", action="store_true", help="build the store (once per size) and stop")
    args = parser.parse_args()
    db, watched, rest = prepare(args.calls, args.workdir)
    if args.prepare_only:
        return
    token = token_for(db)
    server = start_server(db, [watched], args.port, log=db.with_name("serve.log"))
    print(f"server messages: {db.with_name('serve.log')}", flush=True)
    try:
        print(f"{args.clients} clients ({args.client}), {args.seconds:.0f} s per run, {args.calls:,} calls", flush=True)
        names = [name for name in args.pages.split(",") if name]
        unknown = sorted(set(names) - set(ENDPOINTS))
        if unknown:
            raise SystemExit(f"unknown pages: {', '.join(unknown)}")
        asyncio.run(run_phases(args.port, token, args.clients, args.seconds,
                               None if args.no_watch else (watched, rest), names, server.pid, args.client))
        if not args.no_watch:
            time.sleep(5)
            status = httpx.get(f"http://{HOST}:{args.port}/api/v1/watch", timeout=30,
                               headers={"Authorization": f"Bearer {token}"}).json()
            for item in status["files"]:
                print(f"watched {item['path']}: state {item['state']}, loads {item['loads']}, "
                      f"lines loaded {item['lines_loaded']}, quarantined {item['quarantined']}, error {item['error']}")
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
