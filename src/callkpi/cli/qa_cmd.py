"""`callkpi qa ...`: scorecards (export / import YAML), the review sample, the review queue, reviews
and the QA reports. Reviews done elsewhere load with `callkpi ingest` (format ``qa-reviews``)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import typer

from callkpi.cli.app import app
from callkpi.cli.command_words import COMMAND_STRINGS, say
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
    resolve_db,
    settings_for,
    split_values,
    table_format,
)
from callkpi.cli.words import t
from callkpi.config import MetricParams
from callkpi.metrics.data_end import data_end_utc
from callkpi.metrics.engine import KpiQuery, QueryError, compute
from callkpi.qa import reports
from callkpi.qa.review import ReviewFilter, list_reviews
from callkpi.qa.sample import DEFAULT_ADHERENCE_BELOW, DEFAULT_SEED, RULES, draw_sample, pick_by_rule, review_queue
from callkpi.qa.scorecards import ScorecardError, ensure_default_scorecards, import_scorecards, list_scorecards, to_yaml
from callkpi.report import language
from callkpi.report.render import print_table, to_json
from callkpi.storage import Store

qa_app = typer.Typer(help="Call quality: scorecards, the review sample, reviews and QA reports (docs/qa.md).",
                     no_args_is_help=True)
app.add_typer(qa_app, name="qa")
FormatOption = typer.Option("auto", "--format", help=format_help("json"))
ParamOption = typer.Option(None, "--param", help="NAME=VALUE, e.g. qa_sample_share=0.2")


def _show(rows: list[dict], columns: tuple[str, ...], fmt: str, title: str) -> None:
    if table_format(fmt, "json") == "json":
        print(to_json(rows))
    else:
        print_table(console, [_readable(row) for row in rows] if language.russian() else rows, columns, title=title)


_RESPONSES = {"acknowledged": "qa_ack_state", "disputed": "qa_dispute_state"}


def _readable(row: dict) -> dict:
    """A row as a Russian table shows it: call types, criteria, reasons and answers in words (JSON keeps the ids)."""
    from callkpi.i18n import lookup
    from callkpi.web.i18n import Locale

    loc = Locale("ru")
    shown = dict(row)
    if row.get("call_type"):
        shown["call_type"] = loc.call_type(row["call_type"])
    if row.get("criterion"):
        shown["criterion"] = loc.criterion(row["criterion"])
    if row.get("reason"):
        shown["reason"] = lookup(f"qa_reason_{row['reason']}", "ru") or row["reason"]
    if row.get("response") in _RESPONSES:
        shown["response"] = lookup(_RESPONSES[row["response"]], "ru") or row["response"]
    for column in ("week", "month"):
        if isinstance(row.get(column), str) and len(row[column]) == 10:
            shown[column] = language.value_text("day", row[column])
    return shown


@qa_app.command("scorecards")
def scorecards_command(
    db: Path | None = DbOption,
    output: Path | None = typer.Option(None, "--output", help="write the YAML to this file (default: print it)"),
    config: Path | None = ConfigOption,
) -> None:
    """Export every scorecard (latest versions) as YAML; the defaults are created on first use."""
    settings_for(config)  # like every command: a broken settings file is an error, not silently ignored
    with Store(resolve_db(db)) as store:
        ensure_default_scorecards(store)
        text = to_yaml(list_scorecards(store))
    if output:
        output.write_text(text, encoding="utf-8")
        console.print(t("cli.wrote", path=output))
    else:
        print(text, end="")


@qa_app.command("import-scorecards")
def import_scorecards_command(
    file: Path = typer.Argument(..., help="YAML file with a `scorecards:` list"),
    db: Path | None = DbOption,
    user: str = typer.Option("cli", "--user", help="recorded as the author of the new versions"),
    config: Path | None = ConfigOption,
) -> None:
    """Import scorecards from YAML: a changed scorecard gets a new version, past reviews keep theirs."""
    settings_for(config)  # like every command: a broken settings file is an error, not silently ignored
    if not file.is_file():
        fail(say("cli.scripts.no_file", path=file))
    with Store(resolve_db(db)) as store:
        ensure_default_scorecards(store)
        try:
            versions = import_scorecards(store, file.read_text(encoding="utf-8"), user)
        except ScorecardError as exc:
            fail(f"{file}: {exc}")
            raise
    for call_type, version in versions.items():
        console.print(say("cli.qa.version", call_type=call_type, version=version))


@qa_app.command("sample")
def sample_command(
    day: str | None = typer.Option(None, "--day", help="one local day (default: the latest day with calls)"),
    date_from: str | None = typer.Option(None, "--from", help="first day of a range"),
    date_to: str | None = typer.Option(None, "--to", help="last day of a range"),
    seed: str = typer.Option(DEFAULT_SEED, "--seed", help="the same seed draws the same calls"),
    rule: list[str] | None = typer.Option(None, "--rule", help=f"also pick by rule: {', '.join(RULES)}"),
    min_talk_s: float | None = typer.Option(None, "--min-talk-s", help="skip shorter calls (default: short_call_s)"),
    adherence_below: float = typer.Option(DEFAULT_ADHERENCE_BELOW, "--adherence-below", min=0.0, max=1.0,
                                          help="--rule low_adherence: calls whose transcript's script adherence "
                                               "is below this share"),
    db: Path | None = DbOption,
    param: list[str] | None = ParamOption,
    tz: str | None = TzOption,
    config: Path | None = ConfigOption,
) -> None:
    """Draw qa_sample_share of each agent's handled calls per day, stratified by agent and call type."""
    rules = split_values(rule)
    unknown = [r for r in rules if r not in RULES]
    if unknown:
        fail(say("cli.qa.unknown_rules", rules=", ".join(unknown), known=", ".join(RULES)))
    with Store(resolve_db(db)) as store:
        ensure_default_scorecards(store)
        params = command_params(settings_for(config), store.get_meta("timezone"), tz=tz, param=param)
        rows = []
        for one_day in _days(store, params, day, date_from, date_to):
            result = draw_sample(store, one_day, params, seed=seed, min_talk_s=min_talk_s, user="cli")
            added = {r: pick_by_rule(store, one_day, params, r, seed=seed, user="cli", adherence_below=adherence_below)
                     for r in rules}
            rows.append({"day": one_day.isoformat(), "handled": result.handled, "sampled": result.drawn,
                         **{f"rule_{r}": n for r, n in added.items()}})
    share = f"{params.qa_sample_share:.0%}" if not language.russian() else language.percent(params.qa_sample_share, 0)
    print_table(console, rows, tuple(rows[0]) if rows else ("day",), title=say("cli.qa.sample_title", share=share))


def _days(store: Store, params: MetricParams, day: str | None, date_from: str | None,
          date_to: str | None) -> list[date]:
    if day:
        return [parse_date(day, "--day") or date.today()]
    first, last = parse_date(date_from, "--from"), parse_date(date_to, "--to")
    if first is None or last is None:
        latest = data_end_utc(store)
        if latest is None:
            fail(say("cli.qa.no_calls"))
        from zoneinfo import ZoneInfo

        latest_day = latest.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(params.timezone)).date()  # type: ignore[union-attr]
        first, last = first or last or latest_day, last or latest_day
    if first > last:
        fail(say("cli.from_after_to"))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@qa_app.command("queue")
def queue_command(
    agent: list[str] | None = typer.Option(None, "--agent", help="only these agents"),
    fmt: str = FormatOption,
    db: Path | None = DbOption,
    config: Path | None = ConfigOption,
) -> None:
    """Sampled calls still waiting for a review."""
    settings_for(config)  # like every command: a broken settings file is an error, not silently ignored
    with Store(existing_db(db), read_only=True) as store:
        rows = review_queue(store, agents=split_values(agent), limit=10_000)
    _show(rows, ("day", "call_id", "agent", "call_type", "reason", "queue", "talk_s"), fmt, say("cli.qa.queue_title"))


@qa_app.command("reviews")
def reviews_command(
    agent: list[str] | None = typer.Option(None, "--agent", help="only these agents"),
    limit: int = typer.Option(200, "--limit"),
    fmt: str = FormatOption,
    db: Path | None = DbOption,
    config: Path | None = ConfigOption,
) -> None:
    """Reviews (latest version of each), newest first."""
    settings_for(config)  # like every command: a broken settings file is an error, not silently ignored
    with Store(existing_db(db), read_only=True) as store:
        rows = list_reviews(store, ReviewFilter(agents=split_values(agent), limit=limit))
    _show(rows, ("review_id", "version", "call_id", "agent", "reviewer", "call_type", "cqr", "response"), fmt,
          say("cli.qa.reviews_title"))


@qa_app.command("report")
def report_command(
    kind: str = typer.Argument(..., help="weakest | calibration | trend | agents"),
    agent: list[str] | None = typer.Option(None, "--agent", help="only these agents"),
    date_from: str | None = typer.Option(None, "--from"),
    date_to: str | None = typer.Option(None, "--to"),
    by: str = typer.Option("week", "--by", help="trend: day, week or month"),
    fmt: str = FormatOption,
    db: Path | None = DbOption,
    param: list[str] | None = ParamOption,
    tz: str | None = TzOption,
    config: Path | None = ConfigOption,
) -> None:
    """QA reports: the weakest criteria per agent, reviewer calibration, the CQR trend, agents' CQR."""
    first, last = parse_date(date_from, "--from"), parse_date(date_to, "--to")
    agents = split_values(agent)
    with Store(existing_db(db), read_only=True) as store:
        params = command_params(settings_for(config), store.get_meta("timezone"), tz=tz, param=param)
        if kind == "weakest":
            rows = reports.weakest_criteria(store, agents=agents, date_from=first, date_to=last,
                                            timezone=params.timezone)
            _show(rows, ("agent", "criterion", "scored", "mean_score", "weight", "points_lost", "zeros"), fmt,
                  say("cli.qa.weakest_title"))
        elif kind == "calibration":
            rows = reports.calibration(store, date_from=first, date_to=last, timezone=params.timezone)
            _show(rows, ("criterion", "pairs", "mean_abs_diff", "agreement", "na_mismatches"), fmt,
                  say("cli.qa.calibration_title"))
        elif kind in ("trend", "agents"):
            dims = (by,) if kind == "trend" else ("agent",)
            metrics = ("qa_reviews", "cqr", "qa_pass_rate", "qa_fatal_rate")
            filters = {"agent": agents} if agents else {}
            try:
                result = compute(store, KpiQuery(by=dims, date_from=first, date_to=last, filters=filters,
                                                 metrics=metrics, params=params))
            except QueryError as exc:
                fail(str(exc))
                raise
            for row in result.rows:
                row["needs_work_share"] = needs_work_share(row["qa_pass_rate"])
            shown = result.rows if fmt == "json" else [
                {**row, "needs_work_share": _percent(row["needs_work_share"])} for row in result.rows]
            dim_words = ", ".join(say(f"cli.qa.cqr_by.{d}") if f"cli.qa.cqr_by.{d}" in COMMAND_STRINGS else d
                                  for d in dims)
            _show(shown, (*dims, *metrics, "needs_work_share"), fmt, say("cli.qa.cqr_title", dims=dim_words))
        else:
            fail(say("cli.qa.bad_report"))


def needs_work_share(pass_rate: float | None) -> float | None:
    """Share of reviews below qa_pass_score: 1 - pass rate without the binary float's tail
    (0.3, not 0.30000000000000004)."""
    return None if pass_rate is None else round(1 - pass_rate, 12)


def _percent(share: float | None) -> str:
    if share is None:
        return "—"
    return f"{share * 100:.1f} %" if not language.russian() else language.percent(share)
