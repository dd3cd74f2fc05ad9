"""Options and helpers shared by the commands."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from callkpi.cli.consoles import console as console  # re-exported: every command prints through these
from callkpi.cli.consoles import err_console as err_console
from callkpi.cli.served import holding_server, locked_message
from callkpi.cli.words import known_message, t
from callkpi.config import (
    MetricParams,
    Settings,
    default_db_path,
    effective_params,
    load_settings,
    parse_param_overrides,
)
from callkpi.storage import Store, is_store_url
from callkpi.storage.store import StoreLocked

DbOption = typer.Option(None, "--db", help="database file (default: $CALLKPI_DB or ./callkpi.duckdb)")
TzOption = typer.Option(None, "--tz", help="business time zone, e.g. Europe/Moscow (default: settings)")
MappingOption = typer.Option(
    None, "--mapping", help="mapping of a cloud-PBX export: a TOML/YAML file or a shipped name "
    "(twilio, bitrix24, mango, zadarma, yeastar, elastix-callcenter); see docs/formats.md")
ConfigOption = typer.Option(None, "--config", help="settings file (default: $CALLKPI_CONFIG or ./callkpi.toml)")
# The commands that also run on a ClickHouse store (docs/engines.md) take its URL.
StoreOption = typer.Option(
    None, "--db", help="database file, or a ClickHouse store: chdb:///path/to/dir (in-process) or "
    "clickhouse://user:password@host:8123/db (default: $CALLKPI_DB or ./callkpi.duckdb)")
CLICKHOUSE_COMMANDS = "`callkpi ingest`, `callkpi kpi`, `callkpi copy`, `callkpi serve` and `callkpi alerts`"


def resolve_db(db: Path | None) -> Path:
    path = db or default_db_path()
    if _looks_like_url(str(path)):
        fail(f"{_as_url(str(path))}: this command runs on a DuckDB file; a ClickHouse store serves "
             f"{CLICKHOUSE_COMMANDS} (docs/engines.md)")
    return path


def resolve_store(db: str | None, *, must_exist: bool = True) -> str:
    """A ``--db`` of the commands that run on either engine: a DuckDB file or a ClickHouse URL."""
    location = db or os.environ.get("CALLKPI_DB") or str(default_db_path())
    if not is_store_url(location):
        return str(existing_db(Path(location)) if must_exist else Path(location))
    if must_exist and location.lower().startswith("chdb://") and not Path(location[7:].split("?")[0]).exists():
        fail(f"{location}: no ClickHouse store there yet; fill one with `callkpi copy --to {location}`")
    return location


def _looks_like_url(text: str) -> bool:
    """A ClickHouse URL, also as a Path leaves it (``chdb:/dir``: a Path folds the double slash)."""
    return re.match(r"^(chdb|clickhouses?):/", text, re.IGNORECASE) is not None


def _as_url(text: str) -> str:
    return text if "://" in text else text.replace(":/", "://", 1)


def writable_store(path: Path) -> Store:
    """The store opened read-write, or one line saying who holds it (a running `callkpi serve`...)."""
    try:
        return Store(path)
    except StoreLocked as locked:
        fail(locked_message(locked, holding_server(locked)))
        raise


def existing_db(db: Path | None) -> Path:
    """The database to read, or a clear error when nothing was loaded yet."""
    path = resolve_db(db)
    if not path.exists():
        fail(t("cli.no_db", path=path))
    return path


def settings_for(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ValueError as exc:
        fail(t("cli.settings", error=one_line(exc)))
        raise  # unreachable


def check_timezone(tz: str | None) -> None:
    """A ``--tz`` value must be an IANA zone name."""
    if not tz:
        return
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        fail(t("cli.bad_tz", tz=tz))


def with_mapping(settings: Settings, mapping: str | None) -> Settings:
    """The settings with ``--mapping`` as their ``[cdr] mapping``."""
    if not mapping:
        return settings
    return settings.model_copy(update={"cdr": settings.cdr.model_copy(update={"mapping": mapping})})


@contextmanager
def mapping_in_environment(mapping: str | None) -> Iterator[None]:
    """Format detection reads the mapping from the environment: --mapping wins over it for this command."""
    from callkpi.ingest.cdr.generic import MAPPING_ENV

    saved = os.environ.get(MAPPING_ENV)
    if mapping:
        os.environ[MAPPING_ENV] = mapping
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(MAPPING_ENV, None)
        else:
            os.environ[MAPPING_ENV] = saved


def port_in_use(host: str, port: int) -> bool:
    """Whether another process listens on ``host:port`` (a server could not bind it)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def check_port(host: str, port: int) -> None:
    """One line and exit 2 when the port is taken, before anything is created."""
    if port_in_use(host, port):
        fail(t("cli.port_busy", port=port, host=host, next=port + 1))


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]{t('cli.error')}[/] {message}")
    raise typer.Exit(code)


_DAY_FIRST = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")  # 31.03.2026, as typed in Russia (also 31/03/2026)
DATE_FORMS = "2026-03-31 or 31.03.2026"
_DAY_FIRST_MOMENT = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_date(value: str | None, option: str) -> date | None:
    """A ``--from``/``--to`` style date option (ISO ``2026-03-31`` or day first ``31.03.2026``), or a
    clear error naming the option and the forms it takes."""
    if value is None:
        return None
    text = value.strip()
    try:
        day_first = _DAY_FIRST.match(text)
        if day_first:
            day, month, year = (int(part) for part in day_first.groups())
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        fail(t("cli.bad_date", option=option, forms=t("cli.date_forms"), value=value))
        raise


def one_line(exc: Exception) -> str:
    """An error as one line: a pydantic validation error as ``field: reason`` pairs, not its dump."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            parts = [f"{'.'.join(str(p) for p in e.get('loc', ())) or 'value'}: {e.get('msg', '')}" for e in errors()]
        except (TypeError, AttributeError):
            parts = []
        if parts:
            return "; ".join(parts)
    return " ".join(str(exc).split())


def did_you_mean(given: str, known: Iterable[str]) -> str:
    """`` (did you mean X?)`` when ``given`` is close to a known name, else nothing."""
    close = difflib.get_close_matches(given, list(known), n=3, cutoff=0.6)
    return t("cli.did_you_mean", names=f" {t('cli.or')} ".join(close)) if close else ""


def parse_utc(value: str | None, option: str = "--as-of") -> datetime | None:
    """A date-time option as naive UTC (an offset in the value is honoured; without one it is UTC)."""
    if value is None:
        return None
    try:
        day_first = _DAY_FIRST_MOMENT.match(value.strip())
        if day_first:  # 31.03.2026 10:00, as typed in Russia
            day, month, year, hour, minute, second = (int(part or 0) for part in day_first.groups())
            moment = datetime(year, month, day, hour, minute, second)
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        fail(t("cli.bad_moment", option=option, value=value))
        raise
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def split_values(values: list[str] | None) -> tuple[str, ...]:
    """Repeated and comma-separated option values: ``--queue a,b --queue c`` -> ``("a", "b", "c")``."""
    return tuple(part.strip() for value in values or [] for part in value.split(",") if part.strip())


def command_params(settings: Settings, store_timezone: str | None, *, tz: str | None = None,
                   param: list[str] | None = None, options: dict[str, object] | None = None) -> MetricParams:
    """A command's metric parameters: the settings (the zone given at ingest when they name none),
    then ``--param NAME=VALUE``, the command's own options and ``--tz``; a bad value is a clear error."""
    try:
        overrides = parse_param_overrides(param)
        overrides.update({name: value for name, value in (options or {}).items() if value is not None})
        if tz:
            check_timezone(tz)
            overrides["timezone"] = tz
        return effective_params(settings, store_timezone).with_overrides(overrides)
    except ValueError as exc:
        fail(known_message(one_line(exc)))
        raise


TABLE_FORMATS_HELP = "auto (a table on a terminal, TSV when piped), table, tsv"


def format_help(*others: str) -> str:
    """The --format help of a command that prints tables and also ``others`` (json, csv, xlsx)."""
    return ", ".join((TABLE_FORMATS_HELP, *others))


def table_format(fmt: str, *others: str) -> str:
    """Check a --format; an explicit ``table`` or ``tsv`` makes every table of the command follow it
    (``auto`` lets the output decide). Returns the format."""
    allowed = ("auto", "table", "tsv", *others)
    if fmt not in allowed:
        fail(t("cli.bad_format", formats=", ".join(allowed)))
    if fmt in ("table", "tsv"):
        from callkpi.report.tables import set_terminal_output

        set_terminal_output(fmt == "table")
    return fmt
