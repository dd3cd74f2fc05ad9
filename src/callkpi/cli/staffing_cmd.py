"""`callkpi staffing`: agents needed per interval (Erlang C, or Erlang A when callers abandon),
from the offered calls, handle time and patience the loaded data shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, timedelta
from pathlib import Path

import typer

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
    parse_date,
    settings_for,
    split_values,
)
from callkpi.config import MetricParams
from callkpi.metrics.engine import KpiQuery, QueryError, compute
from callkpi.queries.queues import queue_entry_bounds
from callkpi.report.render import print_table, to_csv, to_json
from callkpi.staffing.erlang import IntervalDemand, staffing_plan
from callkpi.storage import Store

DEMAND_METRICS = ("calls_offered", "aht_s", "aht_without_acw_s", "est_patience_s", "logged_in_s")


@app.command()
def staffing(
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
    fmt: str = typer.Option("table", "--format", help="table, json or csv"),
    config: Path | None = ConfigOption,
) -> None:
    """Agents needed per interval against what was logged in."""
    if model not in ("auto", "erlang-c", "erlang-a"):
        fail("--model must be auto, erlang-c or erlang-a")
    settings = settings_for(config)
    db_path = existing_db(db)
    with Store(db_path, read_only=True) as store:
        params = command_params(settings, store.get_meta("timezone"), tz=tz,
                                options={"interval_minutes": interval_minutes})
        try:
            by = ("weekday", "time_of_day") if typical_week else ("interval",)
            query = KpiQuery(
                by=by,
                date_from=parse_date(date_from, "--from"),
                date_to=parse_date(date_to, "--to"),
                filters={"queue": split_values(queue)} if queue else {},
                metrics=DEMAND_METRICS,
                params=params,
            )
            result = compute(store, query)
            whole = {**query.__dict__, "by": (), "metrics": ("aht_s", "aht_without_acw_s")}
            overall = compute(store, KpiQuery(**whole))
        except (QueryError, ValueError) as exc:
            fail(str(exc))
            raise
        days_per_weekday = _weekday_counts(store, query, params) if typical_week else None
    targets = Targets(
        interval_s=interval_minutes * 60,
        threshold_s=threshold_s if threshold_s is not None else params.sl_threshold_s,
        service_level=service_level,
        max_occupancy=max_occupancy,
        shrinkage=shrinkage,
        model=model,
    )
    fallback_aht = handle_time(overall.rows[0]) if overall.rows else None
    if any(r["aht_s"] is None and r["aht_without_acw_s"] is not None for r in [*result.rows, *overall.rows]):
        err_console.print("note: after-call work is not recorded by the loaded sources for some intervals; "
                          "their handle time is talk + hold (aht_without_acw_s)")
    rows = _plan(result.rows, by, days_per_weekday, targets, fallback_aht)
    columns = [*by, "offered", "aht_s", "model", "agents_needed", "agents_scheduled", "service_level",
               "occupancy", "agents_logged_in"]
    if fmt == "json":
        print(to_json(rows))
    elif fmt == "csv":
        print(to_csv(rows, columns), end="")
    else:
        print_table(console, rows, columns, title=f"Staffing ({params.timezone}, {interval_minutes} min)")


def _weekday_counts(store: Store, query: KpiQuery, params: MetricParams) -> dict[int, int]:
    """How many times each weekday occurs in the period (to average a typical week)."""
    first, last = query.date_from, query.date_to
    if first is None or last is None:
        lo, hi = queue_entry_bounds(store)
        if lo is None or hi is None:
            return {}
        zone = params.zone
        first = first or lo.replace(tzinfo=UTC).astimezone(zone).date()
        last = last or hi.replace(tzinfo=UTC).astimezone(zone).date()
    counts: dict[int, int] = {}
    day: date = first
    while day <= last:
        counts[day.isoweekday()] = counts.get(day.isoweekday(), 0) + 1
        day += timedelta(days=1)
    return counts


@dataclass(frozen=True)
class Targets:
    interval_s: int
    threshold_s: float
    service_level: float
    max_occupancy: float
    shrinkage: float
    model: str


def _plan(
    rows: list[dict],
    by: tuple[str, ...],
    days_per_weekday: dict[int, int] | None,
    targets: Targets,
    fallback_aht: float | None,
) -> list[dict]:
    """Erlang per interval; an interval with calls but none handled uses the period's AHT."""
    rows = [r for r in rows if r["calls_offered"] and (handle_time(r) or fallback_aht)]
    interval_s, model = targets.interval_s, targets.model
    demands, logged = [], []
    for row in rows:
        occurrences = days_per_weekday.get(row["weekday"], 1) if days_per_weekday else 1
        offered = (row["calls_offered"] or 0) / occurrences
        patience = row["est_patience_s"] if model != "erlang-c" else None
        if model == "erlang-a" and patience is None:
            patience = float("inf")
        label = " ".join(str(row[d]) for d in by)
        demands.append(IntervalDemand(label, offered, handle_time(row) or fallback_aht, patience))
        seconds = row["logged_in_s"]
        logged.append(None if seconds is None else seconds / interval_s / occurrences)
    plan = staffing_plan(
        demands,
        interval_s=interval_s,
        target_s=targets.threshold_s,
        service_level_target=targets.service_level,
        max_occupancy=targets.max_occupancy,
        shrinkage=targets.shrinkage,
    )
    out = []
    for row, item, agents in zip(rows, plan, logged, strict=True):
        out.append(
            {
                **{d: row[d] for d in by},
                "offered": round(item.offered_calls, 2),
                "aht_s": item.aht_s,
                "model": item.model,
                "agents_needed": item.raw_agents,
                "agents_scheduled": item.scheduled_agents,
                "service_level": item.service_level,
                "occupancy": item.occupancy,
                "agents_logged_in": None if agents is None else round(agents, 2),
            }
        )
    return out


def handle_time(row: dict) -> float | None:
    """AHT where after-call work is recorded; else talk + hold (said in a note), never a silent 0 ACW."""
    return row["aht_s"] if row["aht_s"] is not None else row["aht_without_acw_s"]
