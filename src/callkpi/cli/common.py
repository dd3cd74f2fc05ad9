"""Options and helpers shared by the commands."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import typer
from rich.console import Console

from callkpi.config import (
    MetricParams,
    Settings,
    default_db_path,
    effective_params,
    load_settings,
    parse_param_overrides,
)

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

DbOption = typer.Option(None, "--db", help="database file (default: $CALLKPI_DB or ./callkpi.duckdb)")
TzOption = typer.Option(None, "--tz", help="business time zone, e.g. Europe/Moscow (default: settings)")
ConfigOption = typer.Option(None, "--config", help="settings file (default: $CALLKPI_CONFIG or ./callkpi.toml)")


def resolve_db(db: Path | None) -> Path:
    return db or default_db_path()


def existing_db(db: Path | None) -> Path:
    """The database to read, or a clear error when nothing was loaded yet."""
    path = resolve_db(db)
    if not path.exists():
        fail(f"{path}: no database yet; load records with `callkpi ingest`")
    return path


def settings_for(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ValueError as exc:
        fail(f"settings: {exc}")
        raise  # unreachable


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def parse_date(value: str | None, option: str) -> date | None:
    """A ``--from``/``--to`` style date option, or a clear error naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} expects a date like 2026-03-31, got {value!r}")
        raise


def parse_utc(value: str | None, option: str = "--as-of") -> datetime | None:
    """A date-time option as naive UTC (an offset in the value is honoured; without one it is UTC)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} expects a date-time like 2026-03-31T18:00, got {value!r}")
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
            overrides["timezone"] = tz
        return effective_params(settings, store_timezone).with_overrides(overrides)
    except ValueError as exc:
        fail(str(exc))
        raise
