"""Options and helpers shared by the commands."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from callkpi.config import Settings, default_db_path, load_settings

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

DbOption = typer.Option(None, "--db", help="database file (default: $CALLKPI_DB or ./callkpi.duckdb)")
TzOption = typer.Option(None, "--tz", help="business time zone, e.g. Europe/Moscow (default: settings)")
ConfigOption = typer.Option(None, "--config", help="settings file (default: $CALLKPI_CONFIG or ./callkpi.toml)")


def resolve_db(db: Path | None) -> Path:
    return db or default_db_path()


def settings_for(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ValueError as exc:
        fail(f"settings: {exc}")
        raise  # unreachable


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)
