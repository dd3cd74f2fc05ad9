"""`callkpi alerts check|history`: KPIs beyond their targets' warning levels, now and before.

`check` compares every target (the dashboard's traffic lights) for today and the current interval
and exits with status 1 while any alert fires, so cron or a monitoring system can run it. Data that is
not live (newest call older than ``alerts.live_within_h``) is checked as of its end, and says so.
`--notify` also records fired/resolved alerts and posts them to the webhooks of the settings.
A running `callkpi serve` does the same by itself every `alerts.check_every_s` seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from callkpi.analyses import alerts
from callkpi.cli.app import app
from callkpi.cli.common import (
    ConfigOption,
    DbOption,
    console,
    err_console,
    existing_db,
    fail,
    format_help,
    parse_date,
    parse_utc,
    settings_for,
    table_format,
)
from callkpi.config import Settings
from callkpi.report.render import print_table, to_json
from callkpi.storage import Store

alerts_app = typer.Typer(help="Alerts: KPIs beyond their targets' warning levels.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")

COLUMNS = ("status", "metric", "scope", "scope_value", "window", "period", "value", "warn", "target", "calls")


@alerts_app.command("check")
def check(
    db: Path | None = DbOption,
    config: Path | None = ConfigOption,
    window: str = typer.Option("both", "--window", help="today, interval or both"),
    as_of: str | None = typer.Option(
        None, "--as-of", help="check as of this UTC time (YYYY-MM-DD HH:MM), 'data-end' for the last call loaded, "
        "or 'now' (default: now, or the data's end when the data is not live)"
    ),
    notify: bool = typer.Option(False, "--notify", help="record fired/resolved alerts and post them to the webhooks"),
    show_all: bool = typer.Option(False, "--all", help="list every target checked, not only the firing ones"),
    fmt: str = typer.Option("auto", "--format", help=format_help("json")),
) -> None:
    """Compare every target with its KPI; exit status 1 while an alert fires."""
    windows: tuple[alerts.Window, ...] = {"both": alerts.WINDOWS, "today": ("today",),
                                          "interval": ("interval",)}.get(window, ())
    if not windows:
        fail("--window is today, interval or both")
    settings = settings_for(config)
    with Store(existing_db(db)) as store:
        clock = _clock(store, settings, as_of)
        states = alerts.evaluate(store, settings, windows=windows, clock=clock)
        changes = alerts.record(store, states, clock.moment) if notify else []
        errors = alerts.notify(changes, settings) if notify else []
    note = clock.note(settings.alerts.language)
    if note:
        err_console.print(f"note: {note}")
    rows = [_row(s, settings.alerts.language) for s in states if show_all or s.firing]
    if table_format(fmt, "json") == "json":
        typer.echo(to_json(rows))
    else:
        print_table(console, rows, COLUMNS, title=f"{sum(s.firing for s in states)} alert(s) firing")
        for change in changes:
            console.print(f"{change.change}: {change.state.message(settings.alerts.language)}")
    for error in errors:
        console.print(f"[red]webhook failed:[/] {error}")
    if any(s.firing for s in states):
        raise typer.Exit(1)


@alerts_app.command("history")
def history_cmd(
    db: Path | None = DbOption,
    since: str | None = typer.Option(None, "--since", help="fired on or after this day (YYYY-MM-DD, UTC)"),
    fmt: str = typer.Option("auto", "--format", help=format_help("json")),
) -> None:
    """Alerts that fired, newest first, with when they resolved (empty: still firing)."""
    with Store(existing_db(db)) as store:
        rows = alerts.history(store, since=parse_date(since, "--since"))
    if table_format(fmt, "json") == "json":
        typer.echo(to_json(rows))
        return
    columns = ("fired_utc", "resolved_utc", "metric", "scope", "scope_value", "window", "period", "value",
               "last_value", "warn", "target", "calls")
    print_table(console, rows, columns, title="alert history")


def _clock(store: Store, settings: Settings, as_of: str | None) -> alerts.Clock:
    if as_of is None:
        return alerts.evaluation_clock(store, settings)
    if as_of == "now":
        return alerts.Clock(datetime.now(UTC))
    if as_of == "data-end":
        end = alerts.newest_data_time(store)
        return alerts.Clock(end, "data_end", end, settings.alerts.live_within_h) if end else alerts.Clock(
            datetime.now(UTC))
    moment = parse_utc(as_of)
    assert moment is not None
    return alerts.Clock(moment if moment.tzinfo else moment.replace(tzinfo=UTC), "as_of")


def _row(state: alerts.AlertState, lang: str = "en") -> dict[str, Any]:
    status = "FIRING" if state.firing else {"bad": "bad (few calls)", "warn": "warning", "good": "ok"}.get(
        state.status, "no data")
    return {"status": status, "metric": state.metric, "scope": state.scope, "scope_value": state.scope_value,
            "window": state.window, "period": state.period, "value": alerts.format_value(state.metric, state.value),
            "warn": alerts.format_value(state.metric, state.warn),
            "target": alerts.format_value(state.metric, state.target), "calls": state.calls, "clock": state.clock,
            "message": state.message(lang)}
