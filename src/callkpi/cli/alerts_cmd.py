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
    StoreOption,
    console,
    err_console,
    fail,
    format_help,
    parse_date,
    parse_utc,
    resolve_store,
    settings_for,
    table_format,
)
from callkpi.cli.words import CLI_STRINGS, n, print_note, t
from callkpi.config import Settings
from callkpi.report.render import print_table, to_json
from callkpi.storage import Store, open_store

alerts_app = typer.Typer(help="Alerts: KPIs beyond their targets' warning levels.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")

COLUMNS = ("status", "metric", "scope", "scope_value", "window", "period", "value", "warn", "target", "calls")


@alerts_app.command("check")
def check(
    db: str | None = StoreOption,
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
        fail(t("cli.bad_window"))
    settings = settings_for(config)
    with open_store(resolve_store(db)) as store:
        clock = _clock(store, settings, as_of)
        states = alerts.evaluate(store, settings, windows=windows, clock=clock)
        changes = alerts.record(store, states, clock.moment) if notify else []
        errors = alerts.notify(changes, settings) if notify else []
    lang = _language(settings)
    note = clock.note(lang)
    if note:
        print_note(err_console, note)
    as_json = table_format(fmt, "json") == "json"
    rows = [_row(s, settings.alerts.language if as_json else lang) for s in states if show_all or s.firing]
    if as_json:
        typer.echo(to_json(rows))
    else:
        firing = sum(s.firing for s in states)
        print_table(console, [_readable(row) for row in rows], COLUMNS, title=n("cli.n_alerts_firing", firing))
        for change in changes:
            word = t(f"cli.alert.{change.change}") if change.change in ("fired", "resolved") else change.change
            console.print(f"{word}: {change.state.message(lang)}")
    for error in errors:
        console.print(f"[red]{t('cli.webhook_failed')}[/] {error}")
    if any(s.firing for s in states):
        raise typer.Exit(1)


@alerts_app.command("history")
def history_cmd(
    db: str | None = StoreOption,
    since: str | None = typer.Option(None, "--since", help="fired on or after this day (YYYY-MM-DD, UTC)"),
    fmt: str = typer.Option("auto", "--format", help=format_help("json")),
) -> None:
    """Alerts that fired, newest first, with when they resolved (empty: still firing)."""
    with open_store(resolve_store(db)) as store:
        rows = alerts.history(store, since=parse_date(since, "--since"))
    if table_format(fmt, "json") == "json":
        typer.echo(to_json(rows))
        return
    columns = ("fired_utc", "resolved_utc", "metric", "scope", "scope_value", "window", "period", "value",
               "last_value", "warn", "target", "calls")
    print_table(console, rows, columns, title=t("cli.alert_history"))


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


def _language(settings: Settings) -> str:
    """The alerts' words: Russian when the command speaks Russian, else the settings' alert language."""
    from callkpi.report.language import russian

    return "ru" if russian() else settings.alerts.language


def _row(state: alerts.AlertState, lang: str = "en") -> dict[str, Any]:
    from callkpi.report.language import russian

    status = "FIRING" if state.firing else {"bad": "bad (few calls)", "warn": "warning", "good": "ok"}.get(
        state.status, "no data")
    numbers = "ru" if lang == "ru" and russian() else "en"  # JSON keeps its numbers as they were
    return {"status": status, "metric": state.metric, "scope": state.scope, "scope_value": state.scope_value,
            "window": state.window, "period": state.period,
            "value": alerts.format_value(state.metric, state.value, numbers),
            "warn": alerts.format_value(state.metric, state.warn, numbers),
            "target": alerts.format_value(state.metric, state.target, numbers), "calls": state.calls,
            "clock": state.clock, "message": state.message(lang)}


_STATUS_WORDS = {"FIRING": "cli.alert.firing", "bad (few calls)": "cli.alert.bad", "warning": "cli.alert.warn",
                 "ok": "cli.alert.good", "no data": "cli.alert.none"}


def _readable(row: dict[str, Any]) -> dict[str, Any]:
    """A row as the table shows it: status, scope and window in the command's language (JSON keeps the English
    words and the ids)."""
    status, scope, window = row["status"], f"cli.alert.scope.{row['scope']}", f"cli.alert.window.{row['window']}"
    return {**row, "status": t(_STATUS_WORDS[status]) if status in _STATUS_WORDS else status,
            "scope": t(scope) if scope in CLI_STRINGS else row["scope"],
            "window": t(window) if window in CLI_STRINGS else row["window"]}
