"""`callkpi schedule add|list|remove|run-now|run-due`: reports e-mailed on a schedule.

A running `callkpi serve` sends due reports by itself (every `mail.check_every_s` seconds);
`run-due` is the same check once, for cron when no server runs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from callkpi.cli.app import app
from callkpi.cli.command_words import COMMAND_STRINGS, counted, say
from callkpi.cli.common import ConfigOption, DbOption, console, existing_db, fail, parse_utc, settings_for
from callkpi.cli.words import known_message
from callkpi.report import language

if TYPE_CHECKING:
    from callkpi.queries.schedules import RunRecord
    from callkpi.web.db import Database

schedule_app = typer.Typer(help="Reports e-mailed on a schedule.", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")


def _database(db: Path | None, config: Path | None) -> Database:
    from callkpi.cli.served import holding_server, locked_message
    from callkpi.storage.store import StoreLocked
    from callkpi.web.db import Database

    path = existing_db(db)
    try:
        return Database(path, settings_for(config))
    except StoreLocked as locked:
        fail(locked_message(locked, holding_server(locked)) + say("cli.schedule.edit_in_web"))
        raise


def _split(values: list[str] | None) -> tuple[str, ...]:
    return tuple(part.strip() for value in values or [] for part in value.split(",") if part.strip())


@schedule_app.command("add")
def add(
    every: str = typer.Option(..., "--every", help="when, in the business time zone: 'mon 09:00', 'mon,thu 08:30', "
                              "'daily 07:00', 'weekdays 09:00', 'monthly 1 09:00'"),
    report: str = typer.Option(..., "--report", help="overview, agents, sales, qa or scorecard"),
    period: str = typer.Option("last-week", "--period",
                               help="last-day, last-week, last-7-days, last-month or last-30-days (before the run)"),
    fmt: str = typer.Option("xlsx", "--format", help="pdf (overview only) or xlsx"),
    to: list[str] = typer.Option(..., "--to", help="recipient e-mail address; repeat"),
    queue: list[str] | None = typer.Option(None, "--queue", help="only these queues; repeat (default all)"),
    agent: str | None = typer.Option(None, "--agent", help="the agent of a scorecard report"),
    lang: str = typer.Option("en", "--lang", help="en or ru"),
    db: Path | None = DbOption,
    config: Path | None = ConfigOption,
) -> None:
    """Add a scheduled report; prints its id."""
    from callkpi.queries.schedules import Schedule, add_schedule
    from callkpi.report.schedule_time import BadSchedule
    from callkpi.web.features.scheduled_reports import check_schedule

    schedule = Schedule(0, every, report, period, fmt, _split(to), _split(queue), agent, lang, "cli")
    try:
        check_schedule(schedule)
    except BadSchedule as exc:
        fail(known_message(str(exc)))
    database = _database(db, config)
    try:
        new_id = add_schedule(database.store(), schedule, datetime.now(UTC).replace(tzinfo=None))
    finally:
        database.close()
    recipients = ", ".join(schedule.recipients)
    console.print(say("cli.schedule.added", id=f"[cyan]{new_id}[/]", report=report, period=period, format=fmt,
                      every=escape(every), recipients=escape(recipients)))


@schedule_app.command("list")
def list_(db: Path | None = DbOption, config: Path | None = ConfigOption) -> None:
    """The schedules, their next run and the last send of each (status, attempts, error)."""
    from zoneinfo import ZoneInfo

    from callkpi.queries.schedules import list_schedules, recent_runs
    from callkpi.report.schedule_time import BadSchedule, next_slot, parse_every

    database = _database(db, config)
    try:
        zone_name = database.params().timezone
        now = datetime.now(UTC)
        for s in list_schedules(database.store()):
            try:
                upcoming = _minute(next_slot(parse_every(s.every), now, ZoneInfo(zone_name)))
            except BadSchedule:
                upcoming = "—"
            runs = recent_runs(database.store(), s.schedule_id, limit=1)
            last = say("cli.schedule.never_sent") if not runs else _run_text(runs[0])
            queues = ",".join(s.queues) or say("cli.schedule.all_queues")
            print(f"{s.schedule_id}\t{s.every}\t{s.report}\t{s.period}\t{s.format}\t{','.join(s.recipients)}\t"
                  f"{queues}\t{say('cli.schedule.next', when=upcoming, tz=zone_name)}\t{last}")
    finally:
        database.close()


def _run_text(run: RunRecord) -> str:
    status = f"cli.schedule.status.{run.status}"
    text = say("cli.schedule.run", status=say(status) if status in COMMAND_STRINGS else run.status,
               when=_minute(run.last_utc), attempts=counted("cli.n_attempts", run.attempts))
    if run.error:
        text += f": {known_message(run.error)}"
    if run.next_retry_utc:
        text += say("cli.schedule.retry", when=_minute(run.next_retry_utc))
    return text


def _minute(moment: datetime) -> str:
    """``2026-03-31 09:00`` (``31.03.2026 09:00`` in Russian)."""
    return f"{moment:%Y-%m-%d %H:%M}" if not language.russian() else f"{language.day(moment.date())} {moment:%H:%M}"


@schedule_app.command("remove")
def remove(schedule_id: int = typer.Argument(..., help="the id `schedule list` shows"),
           db: Path | None = DbOption, config: Path | None = ConfigOption) -> None:
    """Remove a schedule and its send log."""
    from callkpi.queries.schedules import remove_schedule

    database = _database(db, config)
    try:
        if not remove_schedule(database.store(), schedule_id):
            fail(say("cli.schedule.no_schedule", id=schedule_id))
    finally:
        database.close()
    console.print(say("cli.schedule.removed", id=schedule_id))


@schedule_app.command("run-now")
def run_now(schedule_id: int = typer.Argument(..., help="the id `schedule list` shows"),
            db: Path | None = DbOption, config: Path | None = ConfigOption) -> None:
    """Send a schedule's report now (for its period as of today); exit 1 when it could not be sent."""
    from callkpi.queries.schedules import get_schedule
    from callkpi.web.features import scheduled_reports

    database = _database(db, config)
    try:
        schedule = get_schedule(database.store(), schedule_id)
        if schedule is None:
            fail(say("cli.schedule.no_schedule", id=schedule_id))
            return
        record = scheduled_reports.run_now(database, schedule)
    finally:
        database.close()
    print(f"{schedule_id}\t{_run_text(record)}")
    if record.status != "sent":
        raise typer.Exit(1)


@schedule_app.command("run-due")
def run_due(db: Path | None = DbOption, config: Path | None = ConfigOption,
            now: str | None = typer.Option(None, "--now", help="as of this UTC time (YYYY-MM-DDTHH:MM; default now)")
            ) -> None:
    """Send every report that is due and retry failed sends whose time has come (for cron: e.g. every
    5 minutes); exit 1 when a send failed."""
    from callkpi.web.features import scheduled_reports

    moment = parse_utc(now, "--now")
    database = _database(db, config)
    try:
        records = scheduled_reports.run_due(database, moment.replace(tzinfo=UTC) if moment else None)
    finally:
        database.close()
    for record in records:
        print(f"{record.schedule_id}\t{record.slot}\t{_run_text(record)}")
    if not records:
        console.print(say("cli.schedule.nothing_due"))
    if any(record.status != "sent" for record in records):
        raise typer.Exit(1)
