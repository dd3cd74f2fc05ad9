"""`callkpi staffing`: agents needed per interval (Erlang C, or Erlang A when callers abandon), from the
offered calls, handle time and patience the loaded data shows, beside the agents scheduled (schedules)
and logged in (presence); see :mod:`callkpi.analyses.staffing`."""

from __future__ import annotations

from pathlib import Path

import typer

from callkpi.analyses.staffing import MODELS, Staffing, Targets, export_parameters, staffing
from callkpi.cli.app import app
from callkpi.cli.common import (
    ConfigOption,
    DbOption,
    TzOption,
    command_params,
    console,
    err_console,
    existing_db,
    fail,
    format_help,
    parse_date,
    settings_for,
    split_values,
    table_format,
)
from callkpi.cli.words import known_message, n, print_note, t
from callkpi.metrics.engine import QueryError
from callkpi.report.render import print_table, to_csv, to_json, write_xlsx
from callkpi.storage import Store


@app.command("staffing")
def staffing_cmd(
    db: Path | None = DbOption,
    date_from: str | None = typer.Option(None, "--from", help="first local date"),
    date_to: str | None = typer.Option(None, "--to", help="last local date (inclusive)"),
    queue: list[str] | None = typer.Option(None, "--queue", help="only these queues"),
    interval_minutes: int = typer.Option(30, "--interval-minutes", help="15, 30 or 60"),
    service_level: float = typer.Option(0.8, "--service-level", help="target share answered within T"),
    threshold_s: float | None = typer.Option(None, "--threshold-s", help="T in seconds (default sl_threshold_s)"),
    max_occupancy: float = typer.Option(0.85, "--max-occupancy", help="upper bound of agent occupancy"),
    shrinkage: float = typer.Option(0.3, "--shrinkage", help="share of paid time agents are unavailable"),
    model: str = typer.Option("auto", "--model", help="auto (Erlang A where callers abandon), erlang-c, erlang-a"),
    typical_week: bool = typer.Option(False, "--typical-week", help="average week: weekday x time of day"),
    tz: str | None = TzOption,
    fmt: str = typer.Option("auto", "--format", help=format_help("json", "csv", "xlsx")),
    output: Path | None = typer.Option(None, "--output", help="write to this file (needed for xlsx)"),
    config: Path | None = ConfigOption,
) -> None:
    """Agents needed per interval beside the agents scheduled and logged in."""
    if model not in MODELS:
        fail(t("cli.bad_model"))
    table_format(fmt, "json", "csv", "xlsx")
    if fmt == "xlsx" and output is None:
        fail(t("cli.xlsx_needs_output"))
    settings = settings_for(config)
    with Store(existing_db(db), read_only=True) as store:
        params = command_params(settings, store.get_meta("timezone"), tz=tz,
                                options={"interval_minutes": interval_minutes})
        targets = Targets(interval_minutes=interval_minutes,
                          threshold_s=threshold_s if threshold_s is not None else params.sl_threshold_s,
                          service_level=service_level, max_occupancy=max_occupancy, shrinkage=shrinkage, model=model)
        first, last = parse_date(date_from, "--from"), parse_date(date_to, "--to")
        queues = split_values(queue) if queue else ()
        try:
            result = staffing(store, params, targets, date_from=first, date_to=last, queues=queues,
                              typical_week=typical_week)
        except (QueryError, ValueError) as exc:
            fail(str(exc))
            raise
    for note in result.notes:
        print_note(err_console, known_message(note))
    if fmt == "xlsx":
        assert output is not None
        write_xlsx(output, result.rows, result.columns, definitions=result.definitions(), sheet="staffing",
                   parameters=export_parameters(targets, date_from=first, date_to=last, queues=queues,
                                                timezone=params.timezone, notes=result.notes))
        console.print(t("cli.wrote_rows", path=output, rows=n("cli.n_rows", len(result.rows))))
        return
    _print(result, fmt, output, t("cli.staffing_title", tz=params.timezone, minutes=interval_minutes))


def _print(result: Staffing, fmt: str, output: Path | None, title: str) -> None:
    """JSON or CSV to stdout or ``output``; a table (or TSV when piped) otherwise."""
    texts = {"json": lambda: to_json(result.rows) + "\n", "csv": lambda: to_csv(result.rows, result.columns)}
    text = texts[fmt]() if fmt in texts else None
    if text is None:
        print_table(console, result.rows, result.columns, title=title)
    elif output is not None:
        output.write_text(text, encoding="utf-8")
        console.print(t("cli.wrote_rows", path=output, rows=n("cli.n_rows", len(result.rows))))
    else:
        print(text, end="")
