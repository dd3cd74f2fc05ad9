"""`callkpi kpi`: KPIs by any dimensions, in any period, as a table, JSON, CSV or XLSX."""

from __future__ import annotations

from pathlib import Path

import typer

from callkpi.cli.app import app
from callkpi.cli.common import (
    ConfigOption,
    DbOption,
    TzOption,
    command_params,
    console,
    existing_db,
    fail,
    parse_date,
    settings_for,
    split_values,
)
from callkpi.metrics import recorded
from callkpi.metrics.describe import describe
from callkpi.metrics.engine import KpiQuery, KpiResult, QueryError, compute
from callkpi.report.render import FORMATS, print_table, to_csv, to_json, write_xlsx
from callkpi.storage import Store


@app.command()
def kpi(
    db: Path | None = DbOption,
    by: str = typer.Option("", "--by", help="dimensions: agent,team,queue,campaign,direction,source,did,trunk,"
                           "pause_reason,hour,day,week,month,interval,weekday,time_of_day"),
    date_from: str | None = typer.Option(None, "--from", help="first local date, e.g. 2026-03-01"),
    date_to: str | None = typer.Option(None, "--to", help="last local date (inclusive)"),
    queue: list[str] | None = typer.Option(None, "--queue", help="only these queues (repeat or comma list)"),
    agent: list[str] | None = typer.Option(None, "--agent", help="only these agents"),
    team: list[str] | None = typer.Option(None, "--team", help="only these teams"),
    campaign: list[str] | None = typer.Option(None, "--campaign", help="only these campaigns"),
    direction: list[str] | None = typer.Option(None, "--direction", help="inbound, outbound, internal"),
    metrics: str | None = typer.Option(
        None, "--metrics", help="metric ids (comma list); default: every metric the data supports"
    ),
    param: list[str] | None = typer.Option(None, "--param", help="NAME=VALUE, e.g. sl_threshold_s=30"),
    interval_minutes: int | None = typer.Option(None, "--interval-minutes", help="15, 30 or 60"),
    tz: str | None = TzOption,
    fmt: str = typer.Option("table", "--format", help="table, json, csv or xlsx"),
    output: Path | None = typer.Option(None, "--output", help="write to this file"),
    explain: bool = typer.Option(
        False, "--explain",
        help="add each metric's definition and parameters, and the KPIs the loaded sources do not record"),
    config: Path | None = ConfigOption,
) -> None:
    """Print KPIs. Rates are fractions in JSON/CSV, durations seconds, null where undefined."""
    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}")
    if fmt == "xlsx" and output is None:
        fail("--format xlsx needs --output FILE")
    settings = settings_for(config)
    db_path = existing_db(db)
    with Store(db_path, read_only=True) as store:
        store_timezone = store.get_meta("timezone")
    params = command_params(settings, store_timezone, tz=tz, param=param,
                            options={"interval_minutes": interval_minutes or None})
    filters = {
        name: values
        for name, values in (
            ("queue", split_values(queue)),
            ("agent", split_values(agent)),
            ("team", split_values(team)),
            ("campaign", split_values(campaign)),
            ("direction", split_values(direction)),
        )
        if values
    }
    query = KpiQuery(
        by=split_values([by]),
        date_from=parse_date(date_from, "--from"),
        date_to=parse_date(date_to, "--to"),
        filters=filters,
        metrics=split_values([metrics]) if metrics else None,
        params=params,
    )
    with Store(db_path, read_only=True) as store:
        try:
            result = compute(store, query)
        except QueryError as exc:
            fail(str(exc))
            raise
        unrecorded = recorded.not_recorded(store, result.params, result.metrics) if explain else []
    _output(result, fmt, output, explain, unrecorded)


def _output(result: KpiResult, fmt: str, output: Path | None, explain: bool,
            unrecorded: list[recorded.NotRecorded] | None = None) -> None:
    columns = [*result.dimensions, *result.metrics]
    definitions = [describe(m, result.params) for m in result.definitions()]
    parameters = result.params.model_dump()
    if fmt == "xlsx":
        assert output is not None
        write_xlsx(output, result.rows, columns, definitions=definitions, parameters=parameters)
        console.print(f"wrote {output} ({len(result.rows)} rows)")
        return
    if fmt == "json":
        text = to_json(result.rows) if not explain else to_json_explained(result, definitions, parameters,
                                                                           unrecorded or [])
    elif fmt == "csv":
        text = to_csv(result.rows, columns)
    else:
        text = None
    if text is not None:
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            print(text)
        return
    print_table(console, result.rows, columns, title=f"KPIs ({result.params.timezone})")
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}")
    if explain:
        for item in definitions:
            params_text = ", ".join(f"{k}={v}" for k, v in item["parameters"].items())
            console.print(f"[bold]{item['id']}[/] = {item['formula']}  {params_text}\n  {item['description']}")
        for source, metrics in recorded.by_source(unrecorded or []).items():
            listed = "; ".join(f"{metric} ({reason})" for metric, reason in metrics.items())
            console.print(f"[bold]not recorded by {source}:[/] {listed}")


def to_json_explained(result: KpiResult, definitions: list[dict], parameters: dict,
                      unrecorded: list[recorded.NotRecorded]) -> str:
    import json

    return json.dumps(
        {"rows": result.rows, "definitions": definitions, "parameters": parameters, "notes": result.notes,
         "not_recorded": recorded.by_source(unrecorded)},
        ensure_ascii=False,
        indent=2,
        default=list,
    )
