"""`callkpi ingest`, `callkpi sources`, `callkpi quarantine`, `callkpi findings`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

from callkpi.cli.app import app
from callkpi.cli.common import (
    ConfigOption,
    DbOption,
    MappingOption,
    TzOption,
    check_timezone,
    console,
    err_console,
    mapping_in_environment,
    resolve_db,
    settings_for,
    with_mapping,
    writable_store,
)
from callkpi.ingest.base import ImportError_, ImportReport
from callkpi.ingest.formats import FORMATS, load_file
from callkpi.queries.sources import findings as findings_rows
from callkpi.queries.sources import quarantine_lines, source_listing
from callkpi.report.render import print_table, to_csv, to_json
from callkpi.storage import Store

SHOWN_ISSUES = 20


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="files to load"),
    db: Path | None = DbOption,
    tz: str | None = TzOption,
    fmt: str | None = typer.Option(None, "--format", help=f"force a format: {', '.join(FORMATS)}"),
    mapping: str | None = MappingOption,
    config: Path | None = ConfigOption,
) -> None:
    """Load phone-system records. Loading the same file again adds nothing; a file that grew
    adds only its new lines. Bad lines go to the quarantine and the rest still loads.

    Exit status: 0 all loaded, 1 some lines quarantined, 2 a file could not be loaded.
    """
    settings = with_mapping(settings_for(config), mapping)
    check_timezone(tz)
    worst = 0
    with mapping_in_environment(mapping), writable_store(resolve_db(db)) as store:
        if tz:
            store.set_meta("timezone", tz)
        for path in paths:
            try:
                report = _load_with_progress(store, path, settings, fmt, tz)
            except (ImportError_, OSError) as exc:
                err_console.print(f"[bold red]error:[/] {exc}")
                worst = 2
                continue
            except ValueError as exc:  # e.g. an unknown time zone
                err_console.print(f"[bold red]error:[/] {path}: {exc}")
                worst = 2
                continue
            _print_report(report)
            if report.quarantined:
                worst = max(worst, 1)
    raise typer.Exit(worst)


def _load_with_progress(store: Store, path: Path, settings, fmt: str | None, tz: str | None) -> ImportReport:
    if not sys.stdout.isatty() or not path.is_file():
        return load_file(store, path, settings, fmt=fmt, timezone=tz)
    size = path.stat().st_size
    columns = (
        *Progress.get_default_columns()[:1],
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(path.name, total=size)
        return load_file(
            store, path, settings, fmt=fmt, timezone=tz, progress=lambda done: progress.update(task, completed=done)
        )


def _print_report(report: ImportReport) -> None:
    colour = {"unchanged": "yellow", "failed": "red"}.get(report.status, "green")
    console.print(
        f"[{colour}]{report.status}[/] {report.path} ({report.format}): {report.lines_read} lines read, "
        f"{report.lines_loaded} loaded, {report.quarantined} quarantined"
        + (f", {report.duplicates} duplicates" if report.duplicates else "")
        + f"; {report.calls} calls in store"
    )
    for message in report.messages:
        console.print(f"  {message}")
    for issue in report.issues[:SHOWN_ISSUES]:
        err_console.print(f"  [red]{report.path}:{issue.line_no}[/]: {issue.reason}")
    if len(report.issues) > SHOWN_ISSUES:
        err_console.print(f"  … {len(report.issues) - SHOWN_ISSUES} more; see `callkpi quarantine`")


ListFormat = typer.Option("table", "--format", help="table, json or csv")


def _emit(rows: list[dict], columns: list[str], fmt: str, title: str) -> None:
    if fmt == "json":
        print(to_json(rows))
    elif fmt == "csv":
        print(to_csv(rows, columns), end="")
    else:
        print_table(console, rows, columns, title=title)


@app.command()
def sources(db: Path | None = DbOption, fmt: str = ListFormat) -> None:
    """List what was loaded: file, format, lines, calls, first and last time."""
    with Store(resolve_db(db)) as store:
        rows = source_listing(store)
    _emit(rows, list(rows[0]) if rows else ["file"], fmt, "Loaded sources")


@app.command()
def quarantine(
    db: Path | None = DbOption,
    fmt: str = ListFormat,
    limit: int = typer.Option(200, help="at most this many lines (0 for all)"),
) -> None:
    """List the lines that could not be loaded, with file, line number and reason."""
    with Store(resolve_db(db)) as store:
        rows = quarantine_lines(store, limit if limit > 0 else None)
    if not rows and fmt == "table":
        console.print("quarantine is empty")
        return
    _emit(rows, ["file", "line", "reason", "raw"], fmt, "Quarantined lines")


@app.command()
def findings(db: Path | None = DbOption, fmt: str = ListFormat) -> None:
    """List data-quality findings: legs without an end, sessions taken from logoff records..."""
    with Store(resolve_db(db)) as store:
        rows = findings_rows(store)
    if not rows and fmt == "table":
        console.print("no findings")
        return
    _emit(rows, ["source", "kind", "call_id", "agent", "time_utc", "detail"], fmt, "Data-quality findings")
