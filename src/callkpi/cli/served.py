"""Commands beside a running ``callkpi serve``.

DuckDB lets one process hold a database file read-write and no other process read it beside that
one. ``callkpi serve`` holds its store for as long as it runs, so it writes ``<db>.serve.json``
next to the database (pid, address and a random token, readable by its owner only) and removes
it when it stops. A command that finds the file locked then:

- when it only reads (``READING_COMMANDS``), sends its arguments to the server
  (``POST /api/v1/cli`` with that token); the server runs the same command in its own process,
  over its own connection, and returns what it printed, the files it wrote and its exit status,
  which the command prints, writes and exits with as if it had run here;
- when it writes, says in one line which server holds the database and what to do, and exits 2;
- when the holder is not a callkpi server, names the process DuckDB reports, and exits 2.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import secrets
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
import typer.main

from callkpi.cli.consoles import console, err_console

if TYPE_CHECKING:  # the store (DuckDB, Ibis) is imported by the commands that open one, not at start-up
    from callkpi.storage.store import StoreLocked

log = logging.getLogger("callkpi.cli.served")

SERVE_FILE_SUFFIX = ".serve.json"
CLI_ENDPOINT = "/api/v1/cli"
# How long a forwarded command may take (a KPI over millions of calls is not instant).
FORWARD_TIMEOUT_S = 600.0
EXIT_LOCKED = 2

# Command paths that only read the store: these run through the server. Everything else writes.
READING_COMMANDS: frozenset[tuple[str, ...]] = frozenset({
    ("kpi",), ("sources",), ("quarantine",), ("findings",), ("missed",), ("metrics",), ("staffing",),
    ("scorecard",), ("training-effect",), ("survey-list",), ("sales",),
    ("qa", "queue"), ("qa", "reviews"), ("qa", "report"),
    ("alerts", "check"), ("alerts", "history"),
})
# Options that make a reading command write (``alerts check --notify`` records the alerts).
WRITING_OPTIONS: dict[tuple[str, ...], frozenset[str]] = {("alerts", "check"): frozenset({"--notify"})}


# -- the server's file --------------------------------------------------------------------------

@dataclass(frozen=True)
class ServerInfo:
    """What ``<db>.serve.json`` says of the server holding the database."""

    pid: int
    host: str
    port: int
    token: str

    @property
    def url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def local_url(self) -> str:
        """Where a command on this machine reaches it (a server on every address answers on loopback)."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        return f"http://{_url_host(host)}:{self.port}"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def serve_file(db: Path | str) -> Path:
    path = Path(os.path.abspath(db))
    return path.with_name(path.name + SERVE_FILE_SUFFIX)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def write_serve_file(db: Path | str, host: str, port: int, token: str) -> ServerInfo:
    """Announce this process as the server of ``db`` (replacing a stale file): owner-only, written whole."""
    info = ServerInfo(pid=os.getpid(), host=host, port=port, token=token)
    target = serve_file(db)
    handle, temp = tempfile.mkstemp(prefix=target.name + ".", dir=target.parent)  # mode 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"pid": info.pid, "host": info.host, "port": info.port, "token": info.token,
                       "db": os.path.abspath(db)}, out)
        os.chmod(temp, 0o600)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return info


def remove_serve_file(db: Path | str, token: str) -> None:
    """Remove the file if it is still this server's (a later server may have replaced it)."""
    current = _read_serve_json(serve_file(db))
    if current is not None and current.token == token:
        with contextlib.suppress(OSError):
            serve_file(db).unlink()


def running_server(db: Path | str) -> ServerInfo | None:
    """The server announced for ``db`` while its process lives (a file left by a killed one is ignored)."""
    info = _read_serve_json(serve_file(db))
    return info if info is not None and _pid_alive(info.pid) else None


def _read_serve_json(path: Path) -> ServerInfo | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ServerInfo(pid=int(data["pid"]), host=str(data["host"]), port=int(data["port"]),
                          token=str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True


# -- which commands read ------------------------------------------------------------------------

def command_path(app: typer.Typer, argv: Sequence[str]) -> tuple[tuple[str, ...], Any]:
    """The sub-command names ``argv`` selects (``("qa", "report")``) and that (click) command, or None."""
    command: Any = typer.main.get_command(app)
    path: list[str] = []
    tokens = _without_root_values(argv)
    while isinstance(getattr(command, "commands", None), dict):  # a group (typer vendors its own click)
        names = [t for t in tokens if not t.startswith("-")]
        sub = command.commands.get(names[0]) if names else None
        if sub is None:  # no sub-command: a group that runs by itself (`callkpi sources`) is the command
            runs_alone = bool(path) and getattr(command, "invoke_without_command", False)
            return tuple(path), command if runs_alone else None
        path.append(names[0])
        tokens = tokens[tokens.index(names[0]) + 1:]
        command = sub
    return tuple(path), command


ROOT_OPTIONS_WITH_VALUES = ("--lang",)


def _without_root_values(argv: Sequence[str]) -> list[str]:
    """``argv`` without the root options that take a value (``--lang ru kpi`` -> ``kpi``)."""
    tokens = list(argv)
    i = 0
    while i < len(tokens) and tokens[i].startswith("-"):
        if tokens[i] in ROOT_OPTIONS_WITH_VALUES:
            del tokens[i:i + 2]
        else:
            i += 1
    return tokens


def is_reading(app: typer.Typer, argv: Sequence[str]) -> bool:
    path, command = command_path(app, argv)
    if command is None or path not in READING_COMMANDS:
        return False
    writing = WRITING_OPTIONS.get(path, frozenset())
    return not any(arg.split("=", 1)[0] in writing for arg in argv)


# -- the client side ----------------------------------------------------------------------------

def run(app: typer.Typer, argv: Sequence[str]) -> None:
    """Run the CLI; a store locked by another process is handled as this module says, never a traceback."""
    try:
        app(args=list(argv), prog_name="callkpi")
    except Exception as locked:
        store = sys.modules.get("callkpi.storage.store")  # loaded whenever a store could be locked
        if store is None or not isinstance(locked, store.StoreLocked):
            raise
        try:
            sys.exit(on_locked(app, argv, locked))
        except KeyboardInterrupt:  # while waiting for the server
            sys.exit(130)


def locked_message(locked: StoreLocked, server: ServerInfo | None) -> str:
    """The one line saying who holds the database and what to do."""
    if server is not None:
        return (f"callkpi serve (pid {server.pid}, {server.url}) holds {locked.path}: load files with "
                "`callkpi serve --watch PATH`, or stop the server first")
    holder = f"pid {locked.holder_pid}" if locked.holder_pid else "another process"
    program = f" ({locked.holder_program})" if locked.holder_program else ""
    return f"{locked.path} is held by {holder}{program}, not a callkpi server: wait for it to finish or stop it"


def holding_server(locked: StoreLocked) -> ServerInfo | None:
    """The callkpi server holding the locked file, if it is one."""
    server = running_server(locked.path)
    if server is None or (locked.holder_pid is not None and locked.holder_pid != server.pid):
        return None
    return server


def on_locked(app: typer.Typer, argv: Sequence[str], locked: StoreLocked) -> int:
    server = holding_server(locked)
    if server is None or not is_reading(app, argv):
        _print_error(err_console, locked_message(locked, server))
        return EXIT_LOCKED
    try:
        terminal = ["--terminal-output"] if console.is_terminal else []  # tables as this terminal shows them
        from callkpi.i18n import lang_from_env

        speech = ["--lang", lang_from_env()]  # in this locale's language (a --lang in argv comes later and wins)
        answer = forward(server, [*terminal, *speech, *argv], width=err_console.width)
    except (OSError, ValueError) as exc:
        import urllib.error

        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        _print_error(err_console, f"callkpi serve (pid {server.pid}, {server.url}) holds {locked.path} "
                     f"but did not run the command: {reason}")
        return EXIT_LOCKED
    return replay(answer)


def _print_error(err_console: Any, message: str) -> None:
    from rich.markup import escape

    err_console.print(f"[bold red]error:[/] {escape(message)}")


def forward(server: ServerInfo, argv: Sequence[str], *, width: int) -> dict[str, Any]:
    """Ask the server to run ``argv``; its JSON answer (stdout, stderr, exit_code, files)."""
    import urllib.error  # here, not at start-up: most commands never forward (http.client, ssl, email)
    import urllib.request

    body = json.dumps({"argv": list(argv), "config": _config_text(argv), "width": width}).encode()
    request = urllib.request.Request(
        server.local_url + CLI_ENDPOINT, data=body, method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {server.token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=FORWARD_TIMEOUT_S) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")
        with contextlib.suppress(ValueError, KeyError, TypeError):
            detail = json.loads(detail)["error"]
        raise ValueError(f"HTTP {exc.code}: {detail}") from None


def _config_text(argv: Sequence[str]) -> str | None:
    """The settings this command would read here (the server's own may differ): ``--config``, else the default."""
    from callkpi.config import config_path

    given = option_value(argv, "--config")
    path = Path(given) if given else config_path()
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def replay(answer: dict[str, Any]) -> int:
    """Print and write what the command did on the server; its exit status."""
    for name, data in answer.get("files", {}).items():
        Path(name).write_bytes(base64.b64decode(data))
    sys.stdout.write(answer.get("stdout", ""))
    sys.stdout.flush()
    sys.stderr.write(answer.get("stderr", ""))
    sys.stderr.flush()
    return int(answer.get("exit_code", 1))


def option_value(argv: Sequence[str], option: str) -> str | None:
    """The last value of ``--option VALUE`` or ``--option=VALUE`` in ``argv``."""
    value = None
    for i, arg in enumerate(argv):
        if arg == option and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith(option + "="):
            value = arg.split("=", 1)[1]
    return value


# -- the server side ----------------------------------------------------------------------------

_run_lock = threading.Lock()  # one forwarded command at a time: output capture swaps sys.stdout


@dataclass(frozen=True)
class CommandRun:
    stdout: str
    stderr: str
    exit_code: int
    files: dict[str, str]  # the client's path -> base64 content


def run_in_server(app: typer.Typer, db: str, connection: Any, argv: Sequence[str], *,
                  config: str | None, width: int) -> CommandRun:
    """Run a reading command here over the server's connection, as the client would have run it."""
    from callkpi.storage.store import lend_connection

    path, command = command_path(app, argv)
    if command is None or not is_reading(app, argv):
        raise PermissionError("not a reading command")
    with tempfile.TemporaryDirectory(prefix="callkpi-cli-") as work, _run_lock:
        args, outputs = _server_argv(argv, command, Path(work), Path(db), config)
        with _console_width(width), lend_connection(db, connection):
            import typer.testing

            result = typer.testing.CliRunner().invoke(app, args, catch_exceptions=True)
        stdout, stderr = result.stdout, result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            log.error("forwarded command %s failed", " ".join(path), exc_info=result.exception)
            stderr += f"error: {type(result.exception).__name__}: {result.exception} (see the server log)\n"
        files = {}
        for original, temp in outputs.items():
            stdout, stderr = stdout.replace(str(temp), original), stderr.replace(str(temp), original)
            if temp.is_file():
                files[original] = base64.b64encode(temp.read_bytes()).decode()
    return CommandRun(stdout, stderr, result.exit_code, files)


def _server_argv(argv: Sequence[str], command: Any, work: Path, db: Path,
                 config: str | None) -> tuple[list[str], dict[str, Path]]:
    """``argv`` with the server's database, the client's settings and outputs into ``work``."""
    options = {opt for param in command.params for opt in getattr(param, "opts", ())}
    args = _without(argv, "--db")
    outputs: dict[str, Path] = {}
    original = option_value(args, "--output")
    if original is not None:
        args = _without(args, "--output")
        temp = work / "output" / (Path(original).name or "output")
        temp.parent.mkdir()
        outputs[str(Path(original))] = temp
        args += ["--output", str(temp)]
    if "--config" in options:
        settings = work / "callkpi.toml"  # absent: defaults, as where the client has no settings file
        if config is not None:
            settings.write_text(config, encoding="utf-8")
        args = [*_without(args, "--config"), "--config", str(settings)]
    if "--db" in options:
        args += ["--db", str(db)]
    return args, outputs


def _without(argv: Sequence[str], option: str) -> list[str]:
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == option:
            skip = True
        elif not arg.startswith(option + "="):
            out.append(arg)
    return out


@contextlib.contextmanager
def _console_width(width: int) -> Iterator[None]:
    """The CLI's consoles as wide as the client's terminal (rich fixes widths when first imported)."""
    consoles = [console, err_console]
    saved = [c._width for c in consoles]
    for c in consoles:
        c.width = width
    try:
        yield
    finally:
        for c, old in zip(consoles, saved, strict=True):
            c._width = old

