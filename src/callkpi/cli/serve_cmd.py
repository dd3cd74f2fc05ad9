"""`callkpi serve` (the dashboard and API), `callkpi user add|list|passwd|delete`, `callkpi token create`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from callkpi.cli import served
from callkpi.cli.app import app
from callkpi.cli.command_words import COMMAND_STRINGS, counted, say
from callkpi.cli.common import (
    ConfigOption,
    DbOption,
    MappingOption,
    StoreOption,
    check_port,
    check_timezone,
    console,
    fail,
    mapping_in_environment,
    resolve_db,
    resolve_store,
    settings_for,
    with_mapping,
)
from callkpi.cli.words import known_message
from callkpi.report import language
from callkpi.storage import Store, is_store_url, open_store

if TYPE_CHECKING:
    from callkpi.web.watch import WatchOptions

user_app = typer.Typer(help="Dashboard and API users.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")


def _split(values: list[str] | None) -> tuple[str, ...]:
    return tuple(part.strip() for value in values or [] for part in value.split(",") if part.strip())


def _store(db: Path | str | None) -> Store:
    from callkpi.cli.served import holding_server, locked_message
    from callkpi.queries.web_tables import ensure_web_schema
    from callkpi.storage.store import StoreLocked

    try:
        store = open_store(db) if is_store_url(db) else Store(resolve_db(db))  # type: ignore[arg-type]
    except StoreLocked as locked:  # another server, an import...
        fail(locked_message(locked, holding_server(locked)))
        raise
    except Exception as exc:  # DuckDB: file unreadable, not a database...
        fail(f"{resolve_db(db)}: {exc}")
        raise
    ensure_web_schema(store)
    return store


@app.command()
def serve(
    db: str | None = StoreOption,
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (0.0.0.0 for all)"),
    port: int = typer.Option(8000, "--port", help="TCP port"),
    config: Path | None = ConfigOption,
    secure_cookies: bool = typer.Option(False, "--secure-cookies", help="cookies only over HTTPS (behind TLS)"),
    watch: list[str] | None = typer.Option(
        None, "--watch", help="a record file (or a directory of them) to load new lines from while serving, or a "
        "mysql:// or postgresql:// PBX database to poll every [sql] poll_s; repeat"),
    watch_every: float = typer.Option(
        10.0, "--watch-every", min=1.0, help="seconds between two looks at the --watch files"),
    tz: str | None = typer.Option(
        None, "--tz", help="business time zone, e.g. Europe/Moscow, as `ingest --tz` (default: settings, "
        "else the zone given at ingest); the local times of --watch files are read in it"),
    mapping: str | None = MappingOption,
) -> None:
    """Run the web dashboard and the REST API (/api/v1, docs at /docs).

    The first run on a store without users creates `admin` and prints its password once. With
    --watch the server loads what is new in those files every --watch-every seconds (the Asterisk
    queue_log, cdr-csv/Master.csv...), so the dashboard and wallboard follow the day's calls.
    """
    import uvicorn

    from callkpi.cli import _register_commands
    from callkpi.web.app import create_app
    from callkpi.web.auth import ensure_admin
    from callkpi.web.features.cli_bridge import CliBridge

    settings = with_mapping(settings_for(config), mapping)
    check_timezone(tz)
    check_port(host, port)
    _register_commands()  # reading commands forwarded here run in this process: all of them are needed
    location = resolve_store(db, must_exist=False)  # a new DuckDB file is created, e.g. for --watch
    on_clickhouse = is_store_url(location)
    if on_clickhouse and watch:
        fail(say("cli.serve.no_watch_on_clickhouse"))
    db_path = location if on_clickhouse else Path(location)
    with _store(db_path) as store:
        password = ensure_admin(store)
        if tz:
            store.set_meta("timezone", tz)
    if password:
        shown = say("cli.serve.admin", password=f"[yellow]{password}[/]").replace("admin", "[cyan]admin[/]", 1)
        console.print(f"[bold]{shown}[/] {escape(say('cli.serve.admin_once'))}")
    options = _watch_options(watch, watch_every, tz)
    token = served.new_token()
    # reading commands beside a server of a DuckDB file run in it (the file is its); a ClickHouse
    # store has many readers, so commands there open it themselves
    bridge = None if on_clickhouse else CliBridge(
        token, is_reading=_is_reading_command, run=_run_command,
        announce=lambda: served.write_serve_file(db_path, host, port, token),
        withdraw=lambda: served.remove_serve_file(db_path, token))
    application = create_app(db_path, settings, secure_cookies=secure_cookies, watch=options,
                             cli_commands=bridge)
    console.print(say("cli.serve.listening", host=host, port=port))
    if options:
        seconds = f"{watch_every:g}" if not language.russian() else language.number(watch_every, 0 if
                                                                                     watch_every.is_integer() else 1)
        console.print(say("cli.serve.watching", paths=", ".join((*map(str, options.paths), *options.urls)),
                          seconds=seconds))
    _log_like_uvicorn()
    # reading commands beside the server find it through <db>.serve.json (see callkpi.cli.served),
    # written and removed by the app's lifespan; removed here too should the app not start
    try:
        with mapping_in_environment(mapping):
            uvicorn.run(application, host=host, port=port, log_level="info")
    finally:
        if not on_clickhouse:
            served.remove_serve_file(db_path, token)


def in_the_commands_language(record: logging.LogRecord) -> bool:
    """A log filter: the server's own lines in the command's language (a message it logs with an
    error of the importer's gets that error translated too); a line it does not know stays."""
    if language.russian():
        keys = {english: key for key, (english, _) in COMMAND_STRINGS.items() if key.startswith("cli.serve.log.")}
        if isinstance(record.msg, str) and record.msg in keys:
            record.msg = say(keys[record.msg])
            if isinstance(record.args, tuple):
                record.args = tuple(known_message(arg) if isinstance(arg, str) else arg for arg in record.args)
    return True


def _log_like_uvicorn() -> None:
    """The server's own messages (files loaded, files that cannot be) beside uvicorn's, in its format."""
    import logging

    from uvicorn.logging import DefaultFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(DefaultFormatter("%(levelprefix)s %(message)s"))
    handler.addFilter(in_the_commands_language)
    logger = logging.getLogger("callkpi")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="user name"),
    role: str = typer.Option(..., "--role", help="admin, supervisor or agent"),
    agent: str | None = typer.Option(None, "--agent", help="agent id (agent role): what they may see"),
    queues: list[str] | None = typer.Option(None, "--queues", help="queues a supervisor sees (default all)"),
    teams: list[str] | None = typer.Option(None, "--teams", help="teams a supervisor sees (default all)"),
    password: str | None = typer.Option(
        None, "--password", help="the password on the command line (other users of the machine see it in the "
        "process list and it stays in the shell history: prefer the prompt or --password-stdin)"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from the first line of "
                                        "standard input (for scripts)"),
    generate: bool = typer.Option(False, "--generate", help="generate a password and print it once"),
    db: Path | None = DbOption,
) -> None:
    """Create a dashboard/API user (password hashed with argon2id). The password is asked for twice,
    hidden, unless --password-stdin, --generate or --password gives it."""
    from callkpi.web.auth import AuthError, create_user, random_password, validate_user

    try:
        validate_user(name, role, agent)
    except AuthError as exc:
        fail(known_message(str(exc)))
    if generate:
        password = random_password()
    elif password is None:
        password = _new_password(password_stdin)
    with _store(db) as store:
        try:
            create_user(store, name, password, role, agent=agent, queues=_split(queues), teams=_split(teams))
        except AuthError as exc:
            fail(known_message(str(exc)))
    console.print(say("cli.user.created", role=_role(role), name=_cyan(name))
                  + (say("cli.user.with_password", password=f"[yellow]{password}[/]") if generate else ""))


def _cyan(name: str) -> str:
    return f"[cyan]{escape(name)}[/]"


def _role(role: str) -> str:
    """A role as the command's language names it (``supervisor`` -> ``супервайзер``)."""
    key = f"cli.role.{role}"
    return say(key) if key in COMMAND_STRINGS else role


@user_app.command("list")
def user_list(db: Path | None = DbOption) -> None:
    """List users and what they may see."""
    from callkpi.web.auth import list_users

    with _store(db) as store:
        for user in list_users(store):
            scope = user.agent if user.role == "agent" else ", ".join((*user.queues, *user.teams)) or say(
                "cli.user.all")
            console.print(f"{user.username}\t{_role(user.role)}\t{scope}"
                          + (f"\t{say('cli.user.disabled')}" if user.disabled else ""), markup=False)


def _new_password(from_stdin: bool) -> str:
    """A new password: the first line of standard input, or asked for twice without echo (in the
    command's language); two different answers are an error, not a third question."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            fail(say("cli.user.no_stdin_password"))
        return line
    first = typer.prompt(say("cli.user.password_prompt"), hide_input=True)
    second = typer.prompt(say("cli.user.password_repeat"), hide_input=True)
    if first != second:
        fail(say("cli.user.password_mismatch"))
    return str(first)


@user_app.command("passwd")
def user_passwd(
    name: str = typer.Argument(...),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from the first line of "
                                        "standard input (for scripts)"),
    generate: bool = typer.Option(False, "--generate", help="generate a password and print it once"),
    db: Path | None = DbOption,
) -> None:
    """Set a user's password (their open sessions end)."""
    from callkpi.web.auth import AuthError, get_user, random_password, set_password

    password = random_password() if generate else _new_password(password_stdin)
    with _store(db) as store:
        if get_user(store, name) is None:
            fail(say("cli.user.no_user", name=name))
        try:
            set_password(store, name, password)
        except AuthError as exc:
            fail(known_message(str(exc)))
    console.print(say("cli.user.password_changed", name=_cyan(name))
                  + (say("cli.user.password_to", password=f"[yellow]{password}[/]") if generate else ""))


@user_app.command("delete")
def user_delete(name: str = typer.Argument(...), db: Path | None = DbOption) -> None:
    """Delete a user and their API tokens."""
    from callkpi.web.auth import delete_user, get_user

    with _store(db) as store:
        if get_user(store, name) is None:
            fail(say("cli.user.no_user", name=name))
        delete_user(store, name)
    console.print(say("cli.user.deleted", name=_cyan(name)))


@token_app.command("create")
def token_create(
    user: str = typer.Argument(..., help="the user the token acts as"),
    label: str = typer.Option("", "--label", help="what the token is for"),
    wallboard: bool = typer.Option(
        False, "--wallboard", help="a read-only token for a TV: opens only /wallboard?key=TOKEN (kiosk view, "
        "the user's scope), never the API or other pages"),
    db: Path | None = DbOption,
) -> None:
    """Create an API token (printed once; use it as `Authorization: Bearer TOKEN`), or with
    --wallboard a wallboard key for a TV (open /wallboard?key=TOKEN)."""
    from callkpi.web.auth import AuthError, create_token

    with _store(db) as store:
        try:
            token = create_token(store, user, label, wallboard=wallboard)
        except AuthError as exc:
            fail(known_message(str(exc)))
            raise
    print(token)


@token_app.command("revoke")
def token_revoke(user: str = typer.Argument(...), db: Path | None = DbOption) -> None:
    """Revoke every API token of a user."""
    from callkpi.web.auth import revoke_tokens

    with _store(db) as store:
        count = revoke_tokens(store, user)
    tokens = counted("cli.n_tokens", count) if language.russian() else f"{count} token(s)"
    console.print(say("cli.token.revoked", tokens=tokens, user=_cyan(user)))


def _is_reading_command(argv: list[str]) -> bool:
    from callkpi.cli import _register_commands
    from callkpi.cli.app import app as cli_app

    _register_commands()
    return served.is_reading(cli_app, argv)


def _run_command(db: str, connection: object, argv: list[str], *, config: str | None, width: int) -> served.CommandRun:
    from callkpi.cli.app import app as cli_app

    return served.run_in_server(cli_app, db, connection, argv, config=config, width=width)


def _watch_options(watch: list[str] | None, every_s: float, tz: str | None) -> WatchOptions | None:
    """--watch values: files and folders, and the database addresses among them."""
    from callkpi.ingest.formats import is_database_url
    from callkpi.web.watch import WatchOptions

    if not watch:
        return None
    given = list(dict.fromkeys(watch))
    urls = tuple(w for w in given if is_database_url(w))
    paths = tuple(Path(w) for w in given if not is_database_url(w))
    return WatchOptions(paths, every_s, tz, urls=urls)
