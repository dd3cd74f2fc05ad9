"""`callkpi kpi`: KPIs by any dimensions, in any period, as a table, TSV, JSON, CSV or XLSX.

On a terminal the report is a table: one row per metric without ``--by``, and with ``--by`` a
default set of metrics for those dimensions (``--metrics`` chooses, ``--metrics all`` shows every
one). Piped or redirected, it is TSV with every metric, unless ``--format`` says otherwise."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import typer

from callkpi.cli.app import app
from callkpi.cli.common import (
    DATE_FORMS,
    ConfigOption,
    StoreOption,
    TzOption,
    command_params,
    console,
    did_you_mean,
    err_console,
    fail,
    parse_date,
    resolve_store,
    settings_for,
    split_values,
)
from callkpi.cli.tables import print_table, resolve_format
from callkpi.cli.words import print_note, t
from callkpi.metrics import recorded
from callkpi.metrics.catalogue import DIMENSIONS, REGISTRY
from callkpi.metrics.describe import describe
from callkpi.metrics.engine import KpiQuery, KpiResult, QueryError, compute
from callkpi.report.render import to_csv, to_json, write_xlsx
from callkpi.storage import Store, open_store

FORMATS = ("auto", "table", "tsv", "json", "csv", "xlsx")
# What a table shows with --by when --metrics is not given: handling for agents and teams, the queue
# report for everything else. TSV, CSV, JSON and XLSX carry every metric.
AGENT_METRICS = ("calls_handled", "aht_s", "att_s", "acw_s", "avg_hold_s", "transfers", "agent_answer_rate",
                 "utilization", "occupancy", "calls_per_hour")
QUEUE_METRICS = ("calls_offered", "calls_answered", "calls_abandoned", "answer_rate", "abandon_rate",
                 "service_level", "asa_s", "max_wait_s", "aht_s")
AGENT_DIMENSIONS = frozenset({"agent", "team", "pause_reason"})


@app.command()
def kpi(
    db: str | None = StoreOption,
    by: str = typer.Option("", "--by", help="dimensions, comma separated: agent, team, queue, campaign, direction, "
                           "source, did, trunk, pause_reason, hour, day, week, month, interval, weekday, "
                           "time_of_day"),
    date_from: str | None = typer.Option(None, "--from", help=f"first local date, e.g. {DATE_FORMS}"),
    date_to: str | None = typer.Option(None, "--to", help="last local date (inclusive)"),
    queue: list[str] | None = typer.Option(None, "--queue", help="only these queues (repeat or comma list)"),
    agent: list[str] | None = typer.Option(None, "--agent", help="only these agents"),
    team: list[str] | None = typer.Option(None, "--team", help="only these teams"),
    campaign: list[str] | None = typer.Option(None, "--campaign", help="only these campaigns"),
    direction: list[str] | None = typer.Option(None, "--direction", help="inbound, outbound, internal"),
    metrics: str | None = typer.Option(
        None, "--metrics", help="metric ids (comma list), or `all`; default: every metric the data supports "
        "(a table with --by shows a default set)"
    ),
    param: list[str] | None = typer.Option(None, "--param", help="NAME=VALUE, e.g. sl_threshold_s=30"),
    interval_minutes: int | None = typer.Option(None, "--interval-minutes", help="15, 30 or 60"),
    tz: str | None = TzOption,
    fmt: str = typer.Option("auto", "--format", help="auto (a table on a terminal, TSV when piped), table, "
                            "tsv (tab-separated, a header line of metric ids), json, csv or xlsx"),
    output: Path | None = typer.Option(None, "--output", help="write to this file"),
    explain: bool = typer.Option(
        False, "--explain",
        help="add each metric's definition and parameters, and the KPIs the loaded sources do not record"),
    ids: bool = typer.Option(False, "--ids", help="metric ids instead of titles in the table's headers"),
    config: Path | None = ConfigOption,
) -> None:
    """Print KPIs. Rates are fractions in JSON/CSV/TSV, durations seconds, null where undefined.

    A table reads rates as percent and durations as h:mm:ss; without --by it has one row per metric,
    with --by a default set of metrics (--metrics chooses, --metrics all shows every one)."""
    if fmt not in FORMATS:
        fail(t("cli.bad_format", formats=", ".join(FORMATS)))
    if fmt == "xlsx" and output is None:
        fail(t("cli.xlsx_needs_output"))
    if fmt == "auto" and (explain or output is not None):
        fmt = "table" if explain and output is None else "tsv"  # --explain is read by a person
    if fmt in ("auto", "table", "tsv"):
        fmt = resolve_format(console, fmt)
    dimensions = split_values([by])
    chosen = _chosen_metrics(metrics)
    _check_names(dimensions, chosen)
    settings = settings_for(config)
    db_path = resolve_store(db)
    with open_store(db_path, read_only=True) as store:  # opened once: a connection costs more than the query
        params = command_params(settings, store.get_meta("timezone"), tz=tz, param=param,
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
            by=dimensions,
            date_from=parse_date(date_from, "--from"),
            date_to=parse_date(date_to, "--to"),
            filters=filters,
            metrics=chosen,
            params=params,
        )
        try:
            result = compute(store, query, arrow=False)  # a report to print: Python rows, no Arrow
        except QueryError as exc:
            fail(str(exc))
            raise
        _say_where_the_data_is(store, query)
        _money_in_its_currency(store, settings.money.currency)
        unrecorded = recorded.not_recorded(store, result.params, result.metrics) if explain else []
    _output(result, fmt, output, explain, unrecorded, ids=ids, chosen=chosen is not None or metrics == "all")


def _chosen_metrics(metrics: str | None) -> tuple[str, ...] | None:
    if not metrics or metrics.strip() == "all":
        return None
    return split_values([metrics])


def _check_names(dimensions: tuple[str, ...], metrics: tuple[str, ...] | None) -> None:
    """A misspelt dimension or metric is an error that names the closest ones."""
    for name in dimensions:
        if name not in DIMENSIONS:
            fail(t("cli.unknown_dimension", name=name, close=did_you_mean(name, DIMENSIONS),
                   known=", ".join(DIMENSIONS)))
    for name in metrics or ():
        if name not in REGISTRY.metrics:
            fail(t("cli.unknown_metric", name=name, close=did_you_mean(name, REGISTRY.metrics)))


def _money_in_its_currency(store: Store, setting: str) -> None:
    """Tables show money with the deals' one currency, else the setting's (none over mixed currencies)."""
    from callkpi.cli.tables import set_money_currency
    from callkpi.queries.currency import money_currency

    set_money_currency(money_currency(store, setting))


def _say_where_the_data_is(store: Store, query: KpiQuery) -> None:
    """A period that holds no call gets a note naming the first and last day loaded."""
    if query.date_from is None and query.date_to is None:
        return
    from zoneinfo import ZoneInfo

    from callkpi.metrics.data_end import data_span_utc

    span = data_span_utc(store)
    if span is None:
        print_note(err_console, t("cli.no_calls_loaded"))
        return
    low, high = span
    zone = ZoneInfo(query.params.timezone)
    first = low.replace(tzinfo=UTC).astimezone(zone).date()
    last = high.replace(tzinfo=UTC).astimezone(zone).date()
    start, end = query.date_from or first, query.date_to or last
    if start > last or end < first:
        from callkpi.report.language import day

        print_note(err_console, t("cli.no_calls_in_period", start=day(start), end=day(end), first=day(first),
                                  last=day(last), tz=query.params.timezone))


def _output(result: KpiResult, fmt: str, output: Path | None, explain: bool,
            unrecorded: list[recorded.NotRecorded] | None = None, *, ids: bool = False, chosen: bool = True) -> None:
    columns = [*result.dimensions, *result.metrics]
    definitions = [describe(m, result.params) for m in result.definitions()]
    parameters = result.params.model_dump()
    if fmt == "xlsx":
        assert output is not None
        write_xlsx(output, result.rows, columns, definitions=definitions, parameters=parameters)
        from callkpi.cli.words import n

        console.print(f"{t('cli.wrote', path=output)} ({n('cli.n_rows', len(result.rows))})")
        return
    if fmt == "json":
        text = to_json(result.rows) if not explain else to_json_explained(result, definitions, parameters,
                                                                           unrecorded or [])
    elif fmt == "csv":
        text = to_csv(result.rows, columns)
    elif fmt == "tsv":
        from callkpi.report.tables import columns_to_tsv

        text = columns_to_tsv(columns, result.columns())
    else:
        text = None
    if text is not None:
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            print(text, end="" if fmt == "tsv" else "\n")
        for note in result.notes:
            print_note(err_console, note)
        return
    shown = _print_report(result, ids=ids, chosen=chosen)
    if "calls_handled" in shown and "calls_answered" in shown:
        print_note(console, t("cli.handled_note"), style="dim")
    for note in _notes_on(result, shown):
        print_note(console, note)
    if explain:
        _print_explained(definitions, unrecorded or [])


def _print_explained(definitions: list[dict], unrecorded: list[recorded.NotRecorded]) -> None:
    """Each metric's definition and parameters, then what the loaded sources do not record."""
    from callkpi.report.language import language

    lang = language()
    for item in definitions:
        params_text = ", ".join(f"{k}={v}" for k, v in item["parameters"].items())
        formula, description = item["formula"], item["description"]
        if lang != "en":
            from callkpi.i18n.formulas import russian_formula

            formula, description = russian_formula(formula), item[f"description_{lang}"]
        console.print(f"[bold]{item['id']}[/] = {formula}  {params_text}\n  {description}")
    by_source: dict[str, list[str]] = {}
    for item in unrecorded:
        by_source.setdefault(item.source, []).append(f"{item.metric} ({item.reason(lang)})")
    for source, listed in by_source.items():
        console.print(f"[bold]{t('cli.not_recorded_by', source=source)}[/] {'; '.join(listed)}")


def _notes_on(result: KpiResult, shown: list[str]) -> list[str]:
    """The engine's notes, less those about metrics the table leaves out."""
    hidden = set(result.metrics) - set(shown)
    return [note for note in result.notes if note.split(":", 1)[0] not in hidden]


def _print_report(result: KpiResult, *, ids: bool, chosen: bool) -> list[str]:
    """The report as a table (one row per metric without --by); the metrics it shows."""
    title = t("cli.kpi_title", tz=result.params.timezone)
    if not result.dimensions and len(result.rows) == 1:
        from callkpi.cli.tables import cell, header

        row = result.rows[0]
        lines = [{"metric": header(m, ids), "id": m, "value": cell(m, row.get(m))} for m in result.metrics]
        print_table(console, lines, ["metric", "value"] if ids else ["metric", "id", "value"], title, fmt="table")
        return list(result.metrics)
    metrics = list(result.metrics)
    if not chosen:
        preferred = AGENT_METRICS if AGENT_DIMENSIONS & set(result.dimensions) else QUEUE_METRICS
        default = [m for m in preferred if m in result.metrics]
        if default:
            metrics = default
            if len(default) < len(result.metrics):
                title += ": " + t("cli.kpi_default_set", shown=len(default), total=len(result.metrics))
    print_table(console, result.rows, [*result.dimensions, *metrics], title, fmt="table", ids=ids,
                keys=list(result.dimensions))
    return metrics


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
