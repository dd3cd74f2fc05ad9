"""Commands beside a running `callkpi serve` (issue 14, item 6).

A real server runs in a subprocess on a free loopback port. Each reading command is run in
another process first with no server, then while the server holds the store: the output, the
files written and the exit status must be the same. Writing commands must say in one line which
server holds the store and exit 2; the endpoint must refuse a request without the server's token
and a writing command with it. To keep this file quick, one driver process runs a batch of
commands through the same entry point as `callkpi` (``callkpi.cli.served.run``); one command
goes through the real `python -m callkpi` too.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from callkpi.cli import _register_commands
from callkpi.cli.app import app
from callkpi.cli.served import (
    READING_COMMANDS,
    is_reading,
    option_value,
    running_server,
    serve_file,
    write_serve_file,
)
from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.storage import Store
from conftest import scenario_text

SETTINGS = '[params]\ntimezone = "Europe/Moscow"\n'  # visible in every KPI table's title

READING = [
    ["kpi"],
    ["kpi", "--format", "table"],
    ["kpi", "--by", "queue", "--format", "csv"],
    ["kpi", "--by", "agent", "--format", "json", "--explain"],
    ["kpi", "--format", "xlsx", "--output", "out/kpi.xlsx"],
    ["kpi", "--by", "queue", "--format", "csv", "--output", "kpi.csv"],
    ["kpi", "--metrics", "no_such_metric"],  # an error: same message, same status
    ["kpi", "--config", "other.toml", "--by", "queue", "--format", "table"],
    ["sources"],
    ["sources", "--format", "json"],
    ["quarantine"],
    ["quarantine", "--format", "csv"],
    ["findings", "--format", "json"],
    ["missed", "--format", "json", "--as-of", "2026-03-04T00:00"],
    ["metrics", "--format", "json"],
    ["alerts", "check", "--as-of", "data-end", "--all"],
    ["alerts", "history"],
    ["qa", "queue"],
]
WRITING = [
    ["ingest", "{log}"],
    ["user", "add", "someone", "--role", "admin", "--password", "correct horse battery"],
    ["user", "list"],
    ["token", "create", "admin"],
    ["relink"],
    ["alerts", "check", "--notify"],
    ["qa", "sample", "--from", "2026-03-02", "--to", "2026-03-02"],
]

DRIVER = """
import contextlib, io, json, sys
from callkpi.cli import _register_commands
from callkpi.cli.app import app
from callkpi.cli.served import run
_register_commands()
results = []
for argv in json.load(sys.stdin):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            run(app, argv)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    results.append({"stdout": out.getvalue(), "stderr": err.getvalue(), "code": code})
json.dump(results, sys.__stdout__)
"""


@dataclass(frozen=True)
class Ran:
    stdout: str
    stderr: str
    code: int


def _env() -> dict[str, str]:
    # no CALLKPI_ setting of the developer's, but the tests' cheap password hashes (tests/conftest.py)
    kept = "CALLKPI_TEST_CHEAP_PASSWORD_HASHES"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLKPI_") or k == kept}
    env.update(COLUMNS="160", NO_COLOR="1", PYTHONWARNINGS="ignore")
    return env


def run_batch(commands: list[list[str]], db: Path, cwd: Path) -> list[Ran]:
    """Each command with ``--db db`` (before its other options) in one driver process in ``cwd``."""
    batch = [[*_words(argv), *(["--db", str(db)] if _words(argv) != ["metrics"] else []), *_options(argv)]
             for argv in commands]
    done = subprocess.run([sys.executable, "-c", DRIVER], input=json.dumps(batch), capture_output=True,
                          text=True, cwd=cwd, env=_env(), timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return [Ran(r["stdout"], r["stderr"], r["code"]) for r in json.loads(done.stdout)]


def _words(argv: list[str]) -> list[str]:
    """The command words of argv (``alerts check``), the rest being its arguments and options."""
    words = []
    for word in argv:
        if word.startswith("-") or (tuple([*words, word]) not in _PATHS):
            break
        words.append(word)
    return words


def _options(argv: list[str]) -> list[str]:
    return argv[len(_words(argv)):]


_PATHS = {path[:n] for path in (*READING_COMMANDS, ("ingest",), ("user", "add"), ("user", "list"),
                                ("token", "create"), ("relink",), ("alerts", "check"), ("qa", "sample"))
          for n in range(1, len(path) + 1)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_store(directory: Path) -> tuple[Path, Path]:
    """A small store: two queue_logs, one with a line that cannot load; the first log's path."""
    db = directory / "calls.duckdb"
    first = directory / "queue_log"
    first.write_text(scenario_text("answered.queue_log"), encoding="utf-8")
    second = directory / "cut.queue_log"
    second.write_text(scenario_text("cut_mid_call.queue_log") + "not a queue_log line\n", encoding="utf-8")
    with Store(db) as store:
        for path in (first, second):
            load_file(store, path, Settings(), timezone="UTC")
    return db, first


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    db: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_server(db: Path, cwd: Path) -> Server:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "callkpi", "serve", "--db", str(db), "--port", str(port), "--host", "127.0.0.1"],
        cwd=cwd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(process, port, db)
    deadline = time.monotonic() + 120  # a wait for start-up on a busy machine, not a timing assertion
    while time.monotonic() < deadline and process.poll() is None:
        if running_server(db) is not None and _answers(server.url + "/health"):
            return server
        time.sleep(0.2)
    process.kill()
    pytest.fail("callkpi serve did not start")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class World:
    local: list[Ran]
    served: list[Ran]
    writing: list[Ran]
    real_kpi: subprocess.CompletedProcess[str]
    local_dir: Path
    served_dir: Path
    server: Server


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("served")
    db, log = build_store(root)
    local_dir, served_dir, server_dir = root / "local", root / "served", root / "server"
    for directory in (local_dir, served_dir, server_dir):
        (directory / "out").mkdir(parents=True)
    for directory in (local_dir, served_dir):  # the client's settings: the server's cwd has none
        (directory / "callkpi.toml").write_text(SETTINGS, encoding="utf-8")
        (directory / "other.toml").write_text('[params]\ntimezone = "Asia/Tokyo"\n', encoding="utf-8")
    local = run_batch(READING, db, local_dir)
    server = start_server(db, server_dir)
    try:
        real = subprocess.Popen([sys.executable, "-m", "callkpi", "kpi", "--db", str(db), "--by", "queue",
                                 "--format", "table"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=served_dir, env=_env())
        writing_commands = [[a.format(log=log) for a in argv] for argv in WRITING]
        both = run_batch([*READING, *writing_commands], db, served_dir)
        served, writing = both[:len(READING)], both[len(READING):]
        out, err = real.communicate(timeout=300)
        real_kpi = subprocess.CompletedProcess(real.args, real.returncode, out, err)
        yield World(local, served, writing, real_kpi, local_dir, served_dir, server)
    finally:
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=60)
    assert not serve_file(db).exists(), "a stopped server leaves no .serve.json"


@pytest.mark.parametrize("index", range(len(READING)), ids=[" ".join(argv) for argv in READING])
def test_a_reading_command_prints_the_same_through_the_server(world: World, index: int) -> None:
    local, served = world.local[index], world.served[index]
    assert "Traceback" not in served.stderr
    assert (served.stdout, served.stderr, served.code) == (local.stdout, local.stderr, local.code)


def test_the_runs_show_what_they_should(world: World) -> None:
    """Guards the comparison above: the local runs did what the commands do (not all the same error)."""
    by_argv = {" ".join(argv): ran for argv, ran in zip(READING, world.local, strict=True)}
    assert "KPIs (Europe/Moscow)" in by_argv["kpi --format table"].stdout  # the client's settings file
    assert by_argv["kpi"].stdout.startswith("calls_offered\t")  # piped: TSV
    assert "KPIs (Asia/Tokyo)" in by_argv["kpi --config other.toml --by queue --format table"].stdout
    assert by_argv["kpi --metrics no_such_metric"].code == 2
    assert "not a queue_log line" in by_argv["quarantine --format csv"].stdout
    sources = json.loads(by_argv["sources --format json"].stdout)
    assert [Path(s["file"]).name for s in sources] == ["queue_log", "cut.queue_log"]
    assert by_argv["kpi --format xlsx --output out/kpi.xlsx"].stdout.startswith("wrote out/kpi.xlsx")
    assert all(ran.code in (0, 2) or argv[:2] == ["alerts", "check"] for argv, ran in zip(READING, world.local,
                                                                                          strict=True))


def test_files_are_written_where_the_client_said(world: World) -> None:
    import openpyxl

    def cells(path: Path) -> list[list[list[Any]]]:
        book = openpyxl.load_workbook(path)
        return [[list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets]

    local_book, served_book = cells(world.local_dir / "out/kpi.xlsx"), cells(world.served_dir / "out/kpi.xlsx")
    assert local_book == served_book and local_book[0][0][0] == "calls_offered"
    assert (world.served_dir / "kpi.csv").read_text() == (world.local_dir / "kpi.csv").read_text()
    assert (world.served_dir / "kpi.csv").read_text().startswith("queue,")


def test_the_real_entry_point_goes_through_the_server(world: World) -> None:
    ran = world.real_kpi
    assert ran.returncode == 0, ran.stderr
    assert "KPIs (Europe/Moscow)" in ran.stdout and "sales" in ran.stdout
    assert ran.stderr == ""


@pytest.mark.parametrize("index", range(len(WRITING)), ids=[" ".join(argv) for argv in WRITING])
def test_a_writing_command_says_in_one_line_who_holds_the_store(world: World, index: int) -> None:
    ran = world.writing[index]
    expected = (f"error: callkpi serve (pid {world.server.process.pid}, {world.server.url}) holds "
                f"{world.server.db}: load files with `callkpi serve --watch PATH`, or stop the server first\n")
    assert (ran.stdout, ran.stderr, ran.code) == ("", expected, 2)


def _post(url: str, body: dict[str, Any], token: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    request = urllib.request.Request(url + "/api/v1/cli", data=json.dumps(body).encode(), headers=headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _token(db: Path) -> str:
    return str(json.loads(serve_file(db).read_text())["token"])


def test_the_endpoint_takes_only_the_servers_token(world: World) -> None:
    kpi = {"argv": ["kpi", "--format", "json"]}
    assert _post(world.server.url, kpi, None)[0] == 401
    assert _post(world.server.url, kpi, "not-the-token")[0] == 401
    status, body = _post(world.server.url, kpi, _token(world.server.db))
    assert status == 200 and body["exit_code"] == 0 and json.loads(body["stdout"])[0]["calls_offered"] == 5


@pytest.mark.parametrize("argv", [["ingest", "/etc/passwd"], ["user", "add", "x", "--role", "admin"],
                                  ["token", "create", "admin"], ["alerts", "check", "--notify"], ["serve"],
                                  ["alerts", "check", "--notify=true"], [], ["no-such-command"]])
def test_the_endpoint_refuses_a_writing_command_even_with_the_token(world: World, argv: list[str]) -> None:
    status, body = _post(world.server.url, {"argv": argv}, _token(world.server.db))
    assert status == 403 and "only reading commands" in body["error"]


def test_the_serve_file_is_its_owners_only(world: World) -> None:
    assert serve_file(world.server.db).stat().st_mode & 0o777 == 0o600


# -- without a server ------------------------------------------------------------------------------

def test_a_lock_held_by_another_program_names_its_pid(tmp_path: Path) -> None:
    """The lock holder is this test process, not a server; a file a killed server left is ignored."""
    db = tmp_path / "held.duckdb"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    write_serve_file(db, "127.0.0.1", 9, "stale")
    stale = json.loads(serve_file(db).read_text()) | {"pid": int(gone.stdout)}
    serve_file(db).write_text(json.dumps(stale))
    with duckdb.connect(str(db)):
        [reading, writing] = run_batch([["kpi"], ["ingest", str(tmp_path / "x")]], db, tmp_path)
    for ran in (reading, writing):
        assert ran.code == 2 and ran.stdout == "" and ran.stderr.count("\n") == 1
        assert ran.stderr.startswith(f"error: {db} is held by pid {os.getpid()} (")
        assert "not a callkpi server" in ran.stderr


def test_reading_and_writing_commands_are_told_apart() -> None:
    _register_commands()
    assert is_reading(app, ["kpi", "--by", "queue"]) and is_reading(app, ["qa", "report", "weakest"])
    assert is_reading(app, ["alerts", "check", "--all"])
    for argv in (["alerts", "check", "--notify"], ["qa", "sample"], ["ingest", "x"], ["user", "list"],
                 ["relink"], ["qa"], [], ["kpi-nope"]):
        assert not is_reading(app, argv), argv
    assert option_value(["kpi", "--output", "a", "--output=b"], "--output") == "b"


def test_a_serve_file_of_a_dead_process_is_no_server(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    info = write_serve_file(db, "0.0.0.0", 8000, "t")
    assert running_server(db) == info and info.local_url == "http://127.0.0.1:8000"
    serve_file(db).write_text(serve_file(db).read_text().replace(f'"pid": {os.getpid()}', '"pid": 999999999'))
    assert running_server(db) is None
