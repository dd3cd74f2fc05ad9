"""`callkpi ingest`, `callkpi sources`, `callkpi quarantine`, `callkpi findings`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

from callkpi.cli.app import app
from callkpi.cli.common import (
    ConfigOption,
    DbOption,
    MappingOption,
    StoreOption,
    TzOption,
    check_timezone,
    console,
    err_console,
    fail,
    mapping_in_environment,
    resolve_db,
    resolve_store,
    settings_for,
    with_mapping,
    writable_store,
)
from callkpi.cli.tables import TABLE_FORMATS, print_table, resolve_format
from callkpi.cli.words import known_message, n, t
from callkpi.ingest.base import ImportError_, ImportReport
from callkpi.ingest.forget import forget_source
from callkpi.ingest.formats import FORMATS, is_database_url, load_database, load_file
from callkpi.queries.sources import findings as findings_rows
from callkpi.queries.sources import quarantine_lines, source_listing
from callkpi.report.render import to_csv, to_json
from callkpi.storage import Store, is_store_url, open_store

SHOWN_ISSUES = 20
CLI_STATUSES = frozenset({"cli.status.loaded", "cli.status.appended", "cli.status.unchanged", "cli.status.failed"})


@app.command()
def ingest(
    paths: list[str] = typer.Argument(..., help="files to load, or mysql://user@host/db, postgresql://user@host/db"),
    db: str | None = StoreOption,
    tz: str | None = TzOption,
    file_tz: str | None = typer.Option(
        None, "--file-tz", help="the zone the file's local times are written in, when it is not the business zone "
        "(e.g. UTC); default: --tz, else the settings' zone"),
    fmt: str | None = typer.Option(None, "--format", help=f"force a format: {', '.join(FORMATS)}"),
    mapping: str | None = MappingOption,
    config: Path | None = ConfigOption,
) -> None:
    """Load phone-system records. Loading the same file again adds nothing; a file that grew
    adds only its new lines. Bad lines go to the quarantine and the rest still loads.

    --tz is the business zone (days, hours and reports); --file-tz the zone the file's times are
    written in, stored with the source. When the file's own clock (e.g. the epoch in an Asterisk
    uniqueid) shows its times are in another zone, the zone it looks like is named and the exit
    status is 1: forget the source (`callkpi sources forget ID`) and load it again with --file-tz.

    Exit status: 0 all loaded, 1 some lines quarantined or the file's times look wrong, 2 a file
    could not be loaded.
    """
    settings = with_mapping(settings_for(config), mapping)
    check_timezone(tz)
    check_timezone(file_tz)
    worst = 0
    with mapping_in_environment(mapping), _import_store(db, config) as store:
        if tz:
            store.set_meta("timezone", tz)
        for path in paths:
            try:
                if is_database_url(path):
                    report = load_database(store, path, settings, timezone=file_tz or tz)
                else:
                    report = _load_with_progress(store, Path(path), settings, fmt, file_tz or tz)
            except (ImportError_, OSError) as exc:
                err_console.print(f"[bold red]{t('cli.error')}[/] {known_message(str(exc))}")
                worst = 2
                continue
            except ValueError as exc:  # e.g. an unknown time zone
                err_console.print(f"[bold red]{t('cli.error')}[/] {path}: {exc}")
                worst = 2
                continue
            _print_report(report)
            if report.quarantined or report.problems:
                worst = max(worst, 1)
    raise typer.Exit(worst)


@contextmanager
def _import_store(db: str | None, config: Path | None) -> Iterator[Store]:
    """The DuckDB store to import into: the file itself, or for a ClickHouse store a DuckDB stage
    whose changed tables replace the ClickHouse ones at the end (callkpi.storage.clickhouse_ingest).

    A DuckDB store's common reports are compiled at the end (see :func:`_warm`)."""
    location = resolve_store(db, must_exist=False)
    if not is_store_url(location):
        with writable_store(Path(location)) as store:
            yield store
            _warm(store, config)
        return
    from callkpi.metrics.rollup import import_into_clickhouse  # ClickHouse then rebuilds its own rollups

    with open_store(location) as target, import_into_clickhouse(target) as stage:
        yield stage


def _warm(store: Store, config: Path | None) -> None:
    """Compile and keep the SQL of the common `callkpi kpi` reports on the data as loaded, with the
    parameters `kpi` would take, so that the first `kpi` after a load starts as fast as a repeat."""
    from callkpi.config import effective_params
    from callkpi.metrics.engine import warm

    settings = settings_for(config)  # `kpi` takes the settings without the ingest's --mapping
    with suppress(Exception):  # the data is loaded; `kpi` compiles (and reports) what cannot be here
        warm(store, effective_params(settings, store.get_meta("timezone")))


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
    status = t(f"cli.status.{report.status}") if f"cli.status.{report.status}" in CLI_STATUSES else report.status
    console.print(
        f"[{colour}]{status}[/] {report.path} ({report.format}): {n('cli.n_lines_read', report.lines_read)}, "
        f"{n('cli.n_loaded', report.lines_loaded)}, {n('cli.n_quarantined', report.quarantined)}"
        + (f", {n('cli.n_duplicates', report.duplicates)}" if report.duplicates else "")
        + f"; {n('cli.n_calls_in_store', report.calls)}"
    )
    for message in report.messages:
        console.print(f"  {known_message(message)}")
    for issue in report.issues[:SHOWN_ISSUES]:
        err_console.print(f"  [red]{report.path}:{issue.line_no}[/]: {escape(known_message(issue.reason))}")
    if len(report.issues) > SHOWN_ISSUES:
        err_console.print(f"  {t('cli.more_issues', count=len(report.issues) - SHOWN_ISSUES)}")
    for problem in report.problems:
        err_console.print(f"  [bold red]{report.path}[/]: {problem}", soft_wrap=True)


ListFormat = typer.Option("auto", "--format", help="auto (a table on a terminal, TSV when piped), table, tsv, "
                          "json or csv")


def _emit(rows: list[dict], columns: list[str], fmt: str, title: str) -> None:
    if fmt == "json":
        print(to_json(rows))
    elif fmt == "csv":
        print(to_csv(rows, columns), end="")
    elif fmt in TABLE_FORMATS:
        print_table(console, rows, columns, title=title, fmt=fmt)
    else:
        fail(t("cli.bad_format", formats=", ".join((*TABLE_FORMATS, "json", "csv"))))


sources_app = typer.Typer(help="List what was loaded; `forget ID` removes a source.", no_args_is_help=False)
app.add_typer(sources_app, name="sources")


@sources_app.callback(invoke_without_command=True)
def sources(ctx: typer.Context, db: Path | None = DbOption, fmt: str = ListFormat) -> None:
    """List what was loaded: file, format, lines, calls, first and last time, the file's zone."""
    if ctx.invoked_subcommand:
        return
    with Store(resolve_db(db)) as store:
        rows = source_listing(store)
    _emit(rows, list(rows[0]) if rows else ["file"], fmt, t("cli.sources_title"))


@sources_app.command("forget")
def forget(
    source_id: int = typer.Argument(..., help="the id `callkpi sources` shows"),
    db: Path | None = DbOption,
    config: Path | None = ConfigOption,
) -> None:
    """Remove a source and everything derived from it (its lines, quarantine and findings; the calls,
    agent time, rollups and callbacks rebuilt from what remains). Loading the file again then
    loads it as new, e.g. with another --file-tz."""
    settings = settings_for(config)
    with writable_store(resolve_db(db)) as store:
        try:
            gone = forget_source(store, settings, source_id)
        except ImportError_ as exc:
            err_console.print(f"[bold red]{t('cli.error')}[/] {exc}")
            raise typer.Exit(2) from exc
    console.print(t("cli.forgot", id=gone.source_id, path=gone.path, format=gone.format,
                    rows=n("cli.n_rows_removed", gone.rows), calls=n("cli.n_calls_rebuilt", gone.calls_touched)))


@app.command()
def quarantine(
    db: Path | None = DbOption,
    fmt: str = ListFormat,
    limit: int = typer.Option(200, help="at most this many lines (0 for all)"),
) -> None:
    """List the lines that could not be loaded, with file, line number and reason."""
    with Store(resolve_db(db)) as store:
        rows = quarantine_lines(store, limit if limit > 0 else None)
    if not rows and resolve_format(console, fmt) == "table":
        console.print(t("cli.quarantine_empty"))
        return
    if fmt not in ("json", "csv"):  # read by a person: the reason in the command's language
        rows = [{**row, "reason": known_message(str(row["reason"]))} for row in rows]
    _emit(rows, ["file", "line", "reason", "raw"], fmt, t("cli.quarantine_title"))


@app.command()
def findings(db: Path | None = DbOption, fmt: str = ListFormat) -> None:
    """List data-quality findings: legs without an end, sessions taken from logoff records..."""
    with Store(resolve_db(db)) as store:
        rows = findings_rows(store)
    if not rows and resolve_format(console, fmt) == "table":
        console.print(t("cli.no_findings"))
        return
    if fmt not in ("json", "csv"):  # read by a person: what was found in the command's language
        rows = [{**row, "detail": known_message(str(row["detail"]))} for row in rows]
    _emit(rows, ["source", "kind", "call_id", "agent", "time_utc", "detail"], fmt, t("cli.findings_title"))
