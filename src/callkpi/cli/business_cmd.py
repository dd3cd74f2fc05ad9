"""`callkpi sales`, `callkpi training-effect`, `callkpi scorecard`, `callkpi survey-list`, `callkpi relink`.

The functions behind them (:func:`callkpi.analyses.agent_scorecard.agent_scorecard`,
:func:`callkpi.analyses.training_effect.training_effect`,
:func:`callkpi.queries.survey_targets.survey_candidates`) take a store and parameters and return plain rows,
so the web pages show the same.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from callkpi.analyses.agent_scorecard import SCORECARD_COLUMNS, agent_scorecard, export_rows
from callkpi.analyses.training_effect import DEFAULT_WINDOW_DAYS, OUTCOMES, format_amount, training_effect
from callkpi.cli.app import app
from callkpi.cli.command_words import counted, say
from callkpi.cli.common import (
    ConfigOption,
    DbOption,
    TzOption,
    command_params,
    console,
    existing_db,
    fail,
    format_help,
    parse_date,
    parse_utc,
    settings_for,
    split_values,
    table_format,
)
from callkpi.cli.words import known_message, n, print_note, t
from callkpi.config import MetricParams
from callkpi.metrics.engine import KpiQuery, QueryError, compute
from callkpi.queries.business import COHORT_METRICS, deal_maturity, relink_counts, sales_report
from callkpi.queries.survey_targets import survey_candidates
from callkpi.report import language
from callkpi.report.render import format_value, print_table, write_xlsx
from callkpi.report.scorecard_text import display_rows
from callkpi.report.tables import header
from callkpi.storage import Store

ParamOption = typer.Option(None, "--param", help="NAME=VALUE, e.g. attribution_window_d=14")


# -- sales ---------------------------------------------------------------------------------------


@app.command()
def sales(
    db: Path | None = DbOption,
    date_from: str | None = typer.Option(None, "--from", help="first local date (default: 29 days before --to)"),
    date_to: str | None = typer.Option(None, "--to", help="last local date, inclusive (default: the data end)"),
    queue: list[str] | None = typer.Option(None, "--queue", help="only these queues"),
    team: list[str] | None = typer.Option(None, "--team", help="only these teams"),
    agent: list[str] | None = typer.Option(None, "--agent", help="only these agents"),
    fmt: str = typer.Option("auto", "--format", help=format_help("json")),
    param: list[str] | None = ParamOption,
    tz: str | None = TzOption,
    config: Path | None = ConfigOption,
) -> None:
    """Sales & money of a period: totals, whether its deals are still maturing (calls less than
    attribution_window_d before the data end, with the share of their deals still open), the agents
    with calls but no labour cost, and the deals by the day of their call (the cohort view)."""
    table_format(fmt, "json")
    settings = settings_for(config)
    filters = {k: v for k, v in (("queue", split_values(queue)), ("team", split_values(team)),
                                 ("agent", split_values(agent))) if v}
    with Store(existing_db(db), read_only=True) as store:
        params = command_params(settings, store.get_meta("timezone"), tz=tz, param=param)
        maturity = deal_maturity(store, params)
        end = parse_date(date_to, "--to") or maturity.data_end or date.today()
        start = parse_date(date_from, "--from") or end - timedelta(days=29)
        if start > end:
            fail(say("cli.from_after_to"))

        def run(by: tuple[str, ...], metrics: Any) -> list[dict[str, Any]]:
            query = KpiQuery(by=by, date_from=start, date_to=end, filters=filters, metrics=tuple(metrics),
                             params=params)
            return compute(store, query).rows

        try:
            report = sales_report(run, maturity, start, end)
        except QueryError as exc:
            fail(str(exc))
            raise
    if fmt == "json":
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    _print_sales(report)


def _print_sales(report: dict[str, Any]) -> None:
    russian = language.russian()
    totals = [{"metric": header(m) if russian else m, "value": format_value(m, v)}
              for m, v in report["totals"].items()]
    print_table(console, totals, ("metric", "value"),
                title=say("cli.sales.title", start=_day(report["from"]), end=_day(report["to"])))
    maturity = report["maturity"]
    if report["maturing"]:
        share = format_value("open_deal_share", report["open_deal_share"])
        text = say("cli.sales.maturing_text", until=_day(maturity["matured_until"]), window=maturity["window_d"],
                   share=share)
        console.print(f"[yellow]{say('cli.sales.maturing')}[/] {escape(text)}")
    if report["uncosted_agents"]:
        agents = counted("cli.n_agents_uncosted", len(report["uncosted_agents"])) if russian else \
            f"{len(report['uncosted_agents'])} agent(s)"
        text = say("cli.sales.uncosted", agents=agents, names=", ".join(report["uncosted_agents"]))
        console.print(f"[yellow]{say('cli.sales.cost_incomplete')}[/] {escape(text)}")
    rows = [{"day": r["day"], **{m: format_value(m, r[m]) for m in COHORT_METRICS},
             "state": say("cli.sales.maturing_state" if r["maturing"] else "cli.sales.matured_state")}
            for r in report["cohorts"]]
    print_table(console, rows, ("day", *COHORT_METRICS, "state"), title=say("cli.sales.cohorts_title"))


def _day(value: Any) -> str:
    """An ISO date of a report as the command's language writes it (``31.03.2026`` in Russian)."""
    try:
        return language.day(date.fromisoformat(str(value)[:10]))
    except ValueError:
        return str(value)


# -- training-effect ---------------------------------------------------------------------------

EFFECT_COLUMNS = ("programme", "metric", "trained_agents", "control_agents", "trained_before", "trained_after",
                  "untrained_before", "untrained_after", "effect", "ci_95", "p_value", "verdict")


@app.command("training-effect")
def training_effect_command(
    db: Path | None = DbOption,
    programme: str | None = typer.Option(None, "--programme", help="one programme (default: every programme)"),
    window_days: int = typer.Option(DEFAULT_WINDOW_DAYS, "--window-days", help="days before and after the training"),
    metrics: str | None = typer.Option(None, "--metrics", help=f"comma list of {', '.join(OUTCOMES)}"),
    fmt: str = typer.Option("auto", "--format", help=format_help("json")),
    param: list[str] | None = ParamOption,
    tz: str | None = TzOption,
    config: Path | None = ConfigOption,
) -> None:
    """Did training pay off? Trained agents before vs after, against untrained agents over the same
    windows (difference in differences): effect, 95 % confidence interval, p-value, sample sizes
    and a verdict in words ("not enough data" when it is so)."""
    table_format(fmt, "json")
    settings = settings_for(config)
    with Store(existing_db(db), read_only=True) as store:
        params = command_params(settings, store.get_meta("timezone"), tz=tz, param=param)
        try:
            results = training_effect(store, params, programme=programme, window_days=window_days,
                                      metrics=split_values([metrics]) if metrics else tuple(OUTCOMES))
        except ValueError as exc:
            fail(known_message(str(exc)))
            raise
    if not results:
        fail(say("cli.training.none"), code=1)
    if fmt == "json":
        print(json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=2))
        return
    if language.russian():
        _print_effects_russian(results, window_days)
        return
    rows = []
    for r in results:
        spec = OUTCOMES[r.metric]
        rows.append({
            "programme": r.programme, "metric": r.metric, "trained_agents": r.trained_agents,
            "control_agents": r.control_agents, **{k: r.cells[k] for k in EFFECT_COLUMNS[4:8]},
            "effect": format_amount(spec, r.effect, signed=True),
            "ci_95": f"{format_amount(spec, r.ci_low, signed=True)} .. {format_amount(spec, r.ci_high, signed=True)}",
            "p_value": "—" if r.p_value is None else f"{r.p_value:.3g}", "verdict": r.verdict.replace("_", " "),
        })
    print_table(console, rows, EFFECT_COLUMNS, title=f"Training effect ({window_days} days each side)")
    for r in results:
        console.print(f"[bold]{r.programme} / {r.metric}[/]: {r.verdict_text}")


def _print_effects_russian(results: list[Any], window_days: int) -> None:
    """The training effects in Russian: the same sentences and amounts as the training page."""
    from callkpi.web.features.business_tables import amount, training_note, verdict_text
    from callkpi.web.i18n import Locale

    loc = Locale("ru")
    rows = [{
        "programme": r.programme, "metric": loc.metric_title(r.metric), "trained_agents": r.trained_agents,
        "control_agents": r.control_agents, **{k: r.cells[k] for k in EFFECT_COLUMNS[4:8]},
        "effect": amount(loc, r.unit, r.effect, signed=True),
        "ci_95": f"{amount(loc, r.unit, r.ci_low, signed=True)} … {amount(loc, r.unit, r.ci_high, signed=True)}",
        "p_value": "—" if r.p_value is None else language.number(r.p_value, 3),
        "verdict": say(f"cli.training.verdict.{r.verdict}"),
    } for r in results]
    print_table(console, rows, EFFECT_COLUMNS, title=say("cli.training.title", days=n("cli.n_days", window_days)))
    for r in results:
        console.print(f"[bold]{escape(r.programme)} / {escape(loc.metric_title(r.metric))}[/]: "
                      f"{escape(verdict_text(loc, r))}")
        for note in r.notes:
            print_note(console, training_note(loc, note), style="dim")


# -- scorecard -----------------------------------------------------------------------------------

@app.command()
def scorecard(
    agent: str = typer.Argument(..., help="agent id"),
    db: Path | None = DbOption,
    date_from: str | None = typer.Option(None, "--from", help="first local date"),
    date_to: str | None = typer.Option(None, "--to", help="last local date (inclusive)"),
    fmt: str = typer.Option("auto", "--format", help=format_help("json", "xlsx")),
    output: Path | None = typer.Option(None, "--output", help="write to this file (needed for xlsx)"),
    param: list[str] | None = ParamOption,
    tz: str | None = TzOption,
    config: Path | None = ConfigOption,
) -> None:
    """One agent on one page: calls, handling, missed calls and callbacks, sales and money, CSAT/NPS,
    quality, adherence, tenure and trainings, with the team beside (counts per team agent)."""
    table_format(fmt, "json", "xlsx")
    if fmt == "xlsx" and output is None:
        fail(t("cli.xlsx_needs_output"))
    settings = settings_for(config)
    with Store(existing_db(db), read_only=True) as store:
        params = command_params(settings, store.get_meta("timezone"), tz=tz, param=param)
        try:
            card = agent_scorecard(store, agent, params, date_from=parse_date(date_from, "--from"),
                                   date_to=parse_date(date_to, "--to"))
        except QueryError as exc:
            fail(str(exc))
            raise
    _emit_scorecard(card, fmt, output, params)


def _emit_scorecard(card: dict[str, Any], fmt: str, output: Path | None, params: MetricParams) -> None:
    if fmt == "json":
        text = json.dumps(card, ensure_ascii=False, indent=2, default=str)
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            print(text)
        return
    if fmt == "xlsx":
        assert output is not None
        write_xlsx(output, export_rows(card), SCORECARD_COLUMNS, definitions=card["definitions"],
                   parameters=params.model_dump(), sheet=f"scorecard {card['profile']['agent']}")
        console.print(t("cli.wrote", path=output))
        return
    _print_profile(card)
    print_table(console, display_rows(card), SCORECARD_COLUMNS, title=t("cli.scorecard_title"))
    for note in card["notes"]:
        print_note(console, note)


def _print_profile(card: dict[str, Any]) -> None:
    """The agent's line above the scorecard: name, team and its size, hire date, tenure, trainings."""
    from callkpi.report.language import day

    profile = card["profile"]

    def when(value: Any) -> str:
        return day(date.fromisoformat(str(value)[:10])) if value else "—"

    tenure = n("cli.n_days", profile["tenure_days"]) if profile["tenure_days"] is not None else "—"
    head = t("cli.scorecard_head", team=profile["team"] or "—", agents=n("cli.n_agents", card["team_agents"]),
             hired=when(profile["hired"]), tenure=tenure)
    left = f"  {t('cli.scorecard_left', day=when(profile['left']))}" if profile["left"] else ""
    console.print(f"[bold]{profile['agent']}[/] {profile['name'] or ''}  {head}{left}")
    for training in profile["trainings"]:
        console.print(f"  {t('cli.training')}: {training['programme']} {when(training['start'])}"
                      + (f"..{when(training['end'])}" if training["end"] != training["start"] else ""))


# -- survey-list ---------------------------------------------------------------------------------

SURVEY_LIST_COLUMNS = ("phone_number", "call_id", "agent", "queue", "last_call")


@app.command("survey-list")
def survey_list(
    since: str = typer.Option(..., "--since", help="first local date of the answered calls"),
    until: str | None = typer.Option(None, "--until", help="last local date (default: all after --since)"),
    not_surveyed_days: int = typer.Option(90, "--not-surveyed-days", help="skip numbers surveyed this recently"),
    output: Path | None = typer.Option(None, "--output", help="CSV file for the dialer (default: stdout)"),
    queue: list[str] | None = typer.Option(None, "--queue", help="only calls of these queues"),
    limit: int | None = typer.Option(None, "--limit", help="at most this many numbers"),
    as_of: str | None = typer.Option(None, "--as-of", help="count 'recently' back from this UTC time (default: now)"),
    db: Path | None = DbOption,
    tz: str | None = TzOption,
    config: Path | None = ConfigOption,
) -> None:
    """The customers an auto-dial survey campaign should call, as a CSV a dialer accepts: one number
    per line with the call it follows up. Load the answers back with `callkpi ingest` (a survey file
    with call_id, survey_type, score)."""
    settings = settings_for(config)
    with Store(existing_db(db), read_only=True) as store:
        params = command_params(settings, store.get_meta("timezone"), tz=tz, param=None)
        rows = survey_candidates(
            store, params, settings.phone, since=parse_date(since, "--since") or date.min,
            until=parse_date(until, "--until"), not_surveyed_days=not_surveyed_days,
            as_of=parse_utc(as_of), queues=split_values(queue), limit=limit)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SURVEY_LIST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    if output:
        output.write_text(buffer.getvalue(), encoding="utf-8")
        numbers = counted("cli.n_numbers", len(rows)) if language.russian() else f"{len(rows)} number(s)"
        console.print(say("cli.survey.wrote", path=output, numbers=numbers))
    else:
        print(buffer.getvalue(), end="")




# -- relink --------------------------------------------------------------------------------------


@app.command()
def relink(db: Path | None = DbOption, config: Path | None = ConfigOption) -> None:
    """Redo what joins business data to calls (deal attribution, survey matching, agent names and
    teams, headcount days, adherence, cost allocation): run it after loading calls that arrived
    after the deals, surveys, costs or schedules that concern them."""
    from callkpi.ingest.business import attribution

    settings = settings_for(config)
    with Store(existing_db(db)) as store:
        with store.transaction():
            attribution.refresh(store, settings)
        counts = relink_counts(store)
    console.print(say("cli.relink.done", counts=", ".join(f"{k} {v}" for k, v in counts.items())))
