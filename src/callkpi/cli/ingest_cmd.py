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
from callkpi.ingest import cdr_asterisk, cdr_freeswitch, cdr_generic, queue_log
from callkpi.ingest.base import DUPLICATE_PREFIX, ImportError_, ImportReport
from callkpi.ingest.formats import FORMATS, load_file
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


def _query(db: Path | None, sql: str, params: list | dict | None = None) -> list[dict]:
    with Store(resolve_db(db)) as store:
        cursor = store.connection.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@app.command()
def sources(db: Path | None = DbOption, fmt: str = ListFormat) -> None:
    """List what was loaded: file, format, lines, calls, first and last time."""
    rows = _query(
        db,
        """
        SELECT s.source_id AS id, s.path AS file, s.format, s.lines_read AS lines, s.lines_loaded AS loaded,
               s.lines_quarantined AS quarantined,
               (SELECT count(*) FROM quarantine q WHERE q.source_id = s.source_id
                AND starts_with(q.reason, $duplicate)) AS duplicates,
               CASE WHEN list_contains($queue_log_formats, s.format)
                    THEN (SELECT count(DISTINCT callid) FROM queue_log_events e
                          WHERE e.source_id = s.source_id AND e.event = 'ENTERQUEUE')
                    WHEN list_contains($cdr_formats, s.format)
                    THEN (SELECT count(DISTINCT call_key) FROM cdr_records r WHERE r.source_id = s.source_id)
               END AS calls,
               strftime(s.first_utc, '%Y-%m-%d %H:%M:%S') AS first_utc,
               strftime(s.last_utc, '%Y-%m-%d %H:%M:%S') AS last_utc, s.loads, s.timezone
        FROM sources s ORDER BY s.source_id
        """,
        {"duplicate": DUPLICATE_PREFIX, "queue_log_formats": [queue_log.FORMAT_PLAIN, queue_log.FORMAT_CSV],
         "cdr_formats": [cdr_asterisk.FORMAT, cdr_freeswitch.FORMAT_CSV, cdr_freeswitch.FORMAT_JSON,
                         cdr_generic.FORMAT]},
    )
    _emit(rows, list(rows[0]) if rows else ["file"], fmt, "Loaded sources")


@app.command()
def quarantine(
    db: Path | None = DbOption,
    fmt: str = ListFormat,
    limit: int = typer.Option(200, help="at most this many lines (0 for all)"),
) -> None:
    """List the lines that could not be loaded, with file, line number and reason."""
    rows = _query(
        db,
        "SELECT path AS file, line_no AS line, reason, raw FROM quarantine ORDER BY source_id, line_no LIMIT ?",
        [limit if limit > 0 else None],
    )
    if not rows and fmt == "table":
        console.print("quarantine is empty")
        return
    _emit(rows, ["file", "line", "reason", "raw"], fmt, "Quarantined lines")


@app.command()
def findings(db: Path | None = DbOption, fmt: str = ListFormat) -> None:
    """List data-quality findings: legs without an end, sessions taken from logoff records..."""
    rows = _query(
        db,
        "SELECT source, kind, call_id, agent, strftime(time_utc, '%Y-%m-%d %H:%M:%S') AS time_utc, detail "
        "FROM data_quality ORDER BY time_utc",
    )
    if not rows and fmt == "table":
        console.print("no findings")
        return
    _emit(rows, ["source", "kind", "call_id", "agent", "time_utc", "detail"], fmt, "Data-quality findings")
