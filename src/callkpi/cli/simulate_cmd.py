"""`callkpi simulate`: write a simulated contact centre's records and their ground truth."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from callkpi.cli.app import app
from callkpi.cli.command_words import counted, say
from callkpi.cli.common import DATE_FORMS, console, fail, one_line, parse_date
from callkpi.report import language
from callkpi.simulate import Scenario, SimulationResult, Totals
from callkpi.simulate import simulate as run_simulation


@app.command()
def simulate(
    out: Path = typer.Option(..., "--out", help="folder for queue_log, Master.csv, the CRM files and truth_*"),
    scenario_file: Path | None = typer.Option(
        None, "--scenario", help="scenario TOML (default: the built-in 30-agent Moscow centre)"
    ),
    days: int | None = typer.Option(None, "--days", min=1, help="days to simulate"),
    agents: int | None = typer.Option(None, "--agents", min=1, help="agents at the start"),
    calls_per_day: float | None = typer.Option(
        None, "--calls-per-day", min=0, help="inbound calls per day (weekly average); without --agents the head "
        "count scales with it",
    ),
    seed: int | None = typer.Option(None, "--seed", min=0, help="random seed: the same seed gives the same bytes"),
    start: str | None = typer.Option(None, "--start", help=f"first local date, e.g. {DATE_FORMS}"),
    timezone: str | None = typer.Option(None, "--timezone", "--tz", help="business time zone, e.g. Europe/Moscow"),
    transcripts: bool | None = typer.Option(
        None, "--transcripts/--no-transcripts", help="write transcripts of the handled calls from the call types' "
        "scripts (transcripts-DATE.json, truth_transcripts.csv.gz); default: the scenario's (off)"),
    lang: str | None = typer.Option(None, "--lang", help="language of the transcripts: ru, en or mixed"),
    transcript_share: float | None = typer.Option(
        None, "--transcript-share", min=0, max=1, help="share of the handled calls that get a transcript"),
) -> None:
    """Simulate a sales contact centre: Asterisk queue_log and CDR, CRM deals, surveys, QA, staff,
    costs, schedules, and the ground truth to check KPIs against."""
    scenario = _scenario(scenario_file, days, agents, calls_per_day, seed, start, timezone)
    scenario = _with_transcripts(scenario, transcripts, lang, transcript_share)
    result = _with_progress(scenario, out) if console.is_terminal else run_simulation(scenario, out)
    _summary(result)


def _scenario(path: Path | None, days: int | None, agents: int | None, calls_per_day: float | None,
              seed: int | None, start: str | None, timezone: str | None) -> Scenario:
    if path is not None and not path.is_file():
        fail(say("cli.simulate.no_scenario", path=path))
    first_day = parse_date(start, "--start")  # 2026-03-02 or 02.03.2026
    try:
        return Scenario.load(path).with_overrides(days=days, agents=agents, calls_per_day=calls_per_day, seed=seed,
                                                  start=first_day, timezone=timezone)
    except (ValidationError, ValueError) as exc:
        fail(say("cli.simulate.scenario", error=one_line(exc)))
        raise


def _with_transcripts(scenario: Scenario, enabled: bool | None, lang: str | None, share: float | None
                      ) -> Scenario:
    changes = {key: value for key, value in (("enabled", enabled), ("lang", lang), ("share", share))
               if value is not None}
    if not changes:
        return scenario
    data = scenario.model_dump()
    data["transcripts"].update(changes)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        fail(say("cli.simulate.scenario", error=one_line(exc)))
        raise


def _with_progress(scenario: Scenario, out: Path) -> SimulationResult:
    calls = say("cli.simulate.calls", calls="{task.fields[calls]}")
    columns = (TextColumn(f"[bold]{say('cli.simulate.progress')}"), BarColumn(), MofNCompleteColumn(),
               TextColumn(say("cli.simulate.days")), TextColumn(calls), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("days", total=scenario.days, calls="0")

        def on_day(day: int, totals: Totals) -> None:
            calls = f"{totals.calls:,}" if not language.russian() else language.number(totals.calls)
            progress.update(task, completed=day + 1, calls=calls)

        return run_simulation(scenario, out, on_day)


def _summary(result: SimulationResult) -> None:
    totals = result.totals
    sizes = sum(path.stat().st_size for path in result.files)
    folder = result.files[0].parent if result.files else "?"
    names = ", ".join(path.name for path in result.files)
    if not language.russian():  # English as it always read (1,234: the thousands of a summary line)
        console.print(
            f"{totals.calls:,} inbound calls, {totals.queue_legs:,} queue legs "
            f"({totals.answered_legs:,} answered, {totals.abandoned_legs:,} abandoned, "
            f"{totals.flowed_out_legs:,} flowed out), {totals.outbound_dials:,} outbound dials"
        )
        console.print(f"{len(result.files)} files, {sizes / 1e6:,.1f} MB in {folder}: {names}")
        console.print(f"{result.seconds:,.1f} s ({result.calls_per_second:,.0f} calls/s)")
        return
    console.print(say("cli.simulate.calls_line", calls=counted("cli.n_inbound_calls", totals.calls),
                      legs=counted("cli.n_queue_legs", totals.queue_legs),
                      answered=counted("cli.n_answered", totals.answered_legs),
                      abandoned=counted("cli.n_abandoned", totals.abandoned_legs),
                      flowed=counted("cli.n_flowed_out", totals.flowed_out_legs),
                      dials=counted("cli.n_outbound_dials", totals.outbound_dials)), markup=False)
    console.print(say("cli.simulate.files_line", files=counted("cli.n_files", len(result.files)),
                      size=language.number(sizes / 1e6, 1), folder=folder, names=names), markup=False)
    console.print(say("cli.simulate.speed", seconds=language.number(result.seconds, 1),
                      rate=language.number(result.calls_per_second)), markup=False)
