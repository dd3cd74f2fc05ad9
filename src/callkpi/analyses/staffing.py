"""Staffing, needed against scheduled against logged in, per interval (``callkpi staffing``, the web's
/staffing page and ``/api/v1/staffing``).

* **needed**: Erlang C (or Erlang A where callers abandon, from their estimated patience) for the
  interval's offered calls and handle time (AHT where after-call work is recorded, else talk + hold,
  said in a note), at the service-level target; ``agents_needed_with_shrinkage`` adds the shrinkage
  (``ceil(N / (1 - shrinkage))``: the agents to schedule).
* **scheduled**: planned work time of the loaded schedules (shifts minus breaks and other off-queue
  activities) over the interval length: the average number of agents scheduled to take calls.
* **logged in**: logged-in time (the registry's ``logged_in_s``) over the interval length: the
  average number of agents logged in.

Presence and schedules name no queue, so for a queue (``queues``) both count the agents serving that
queue in the period: offered one of its calls, or logged in to it (a queue_log ADDMEMBER naming it, to
its REMOVEMEMBER or the end of the session); an agent serving two queues counts in each.
A typical week averages each weekday x time of day over
the times that weekday occurs in the period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from callkpi.config import MetricParams
from callkpi.metrics.calendar import calendar_table, slice_range
from callkpi.metrics.engine import KpiQuery, compute
from callkpi.model.schema import SLICE_SECONDS
from callkpi.queries.queues import queue_entry_bounds
from callkpi.queries.staffing import agents_serving, scheduled_work_by_slice
from callkpi.staffing.erlang import IntervalDemand, staffing_plan
from callkpi.storage import Store

DEMAND_METRICS = ("calls_offered", "aht_s", "aht_without_acw_s", "est_patience_s")
COLUMNS = ("offered", "aht_s", "model", "agents_needed", "agents_needed_with_shrinkage", "agents_scheduled",
           "agents_logged_in", "service_level", "occupancy")
MODELS = ("auto", "erlang-c", "erlang-a")
COLUMN_DOCS = {  # what each column of the table means (the definitions sheet of an XLSX export)
    "interval": "the interval's local start (ISO, with offset)",
    "weekday": "ISO weekday (1 = Monday) of the typical week",
    "time_of_day": "the interval's local start time of the typical week",
    "offered": "calls offered in the interval (a typical week: averaged over the times the weekday occurs)",
    "aht_s": "handle time used, seconds (AHT; talk + hold where after-call work is not recorded)",
    "model": "erlang-c, or erlang-a where callers abandon (from their estimated patience)",
    "agents_needed": "agents needed on the phones to reach the service-level target within the occupancy cap",
    "agents_needed_with_shrinkage": "agents to schedule: ceil(agents_needed / (1 - shrinkage))",
    "agents_scheduled": "planned work time of the loaded schedules over the interval length (average agents); "
                        "empty: no schedules loaded",
    "agents_logged_in": "logged-in time over the interval length (average agents); for a queue, the agents "
                        "serving it; empty: no presence recorded",
    "service_level": "predicted share answered within the threshold with agents_needed",
    "occupancy": "predicted occupancy with agents_needed",
}


@dataclass(frozen=True)
class Targets:
    interval_minutes: int = 30
    threshold_s: float = 20.0
    service_level: float = 0.8
    max_occupancy: float = 0.85
    shrinkage: float = 0.3
    model: str = "auto"

    @property
    def interval_s(self) -> int:
        return self.interval_minutes * 60


@dataclass
class Staffing:
    by: tuple[str, ...]
    rows: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.by, *COLUMNS)

    def definitions(self) -> list[dict[str, str]]:
        """Every column with what it means (the definitions sheet of an XLSX file)."""
        return [{"id": column, "description": COLUMN_DOCS[column]} for column in self.columns]


def export_parameters(targets: Targets, *, date_from: date | None, date_to: date | None, queues: Sequence[str],
                      timezone: str, notes: Sequence[str] = ()) -> dict[str, Any]:
    """The targets and the period a staffing table was computed for (the parameters of an export)."""
    return {"from": str(date_from or ""), "to": str(date_to or ""), "queues": list(queues) or "all",
            "timezone": timezone, "interval_minutes": targets.interval_minutes, "threshold_s": targets.threshold_s,
            "service_level": targets.service_level, "max_occupancy": targets.max_occupancy,
            "shrinkage": targets.shrinkage, "model": targets.model, "notes": list(notes)}


def handle_time(row: dict[str, Any]) -> float | None:
    """AHT where after-call work is recorded; else talk + hold (said in a note), never a silent 0 ACW."""
    return row["aht_s"] if row.get("aht_s") is not None else row.get("aht_without_acw_s")


def staffing(store: Store, params: MetricParams, targets: Targets, *, date_from: date | None = None,
             date_to: date | None = None, queues: Sequence[str] = (), typical_week: bool = False,
             filters: dict[str, tuple[str, ...]] | None = None) -> Staffing:
    """Needed, scheduled and logged-in agents per interval (or per weekday x time of day)."""
    if targets.model not in MODELS:
        raise ValueError(f"the model must be one of {', '.join(MODELS)}")
    params = params.model_copy(update={"interval_minutes": targets.interval_minutes})
    by = ("weekday", "time_of_day") if typical_week else ("interval",)
    demand_filters = {**(filters or {}), **({"queue": tuple(queues)} if queues else {})}
    query = KpiQuery(by=by, date_from=date_from, date_to=date_to, filters=demand_filters, metrics=DEMAND_METRICS,
                     params=params)
    demand = compute(store, query).rows
    whole = compute(store, KpiQuery(by=(), date_from=date_from, date_to=date_to, filters=demand_filters,
                                    metrics=("aht_s", "aht_without_acw_s"), params=params)).rows
    notes: list[str] = []
    if any(r["aht_s"] is None and r["aht_without_acw_s"] is not None for r in [*demand, *whole]):
        notes.append("after-call work is not recorded by the loaded sources for some intervals; their handle time "
                     "is talk + hold (aht_without_acw_s)")
    first, last = _slice_bounds(store, params, date_from, date_to)
    agents = _agents(store, queues, first, last, notes)
    occurrences = _weekday_counts(params, first, last) if typical_week else None
    logged = _logged_in(store, query, agents, occurrences, targets)
    scheduled = _scheduled(store, params, by, agents, first, last, occurrences, targets)
    if scheduled is None:
        notes.append("no schedules are loaded: agents scheduled is unknown")
    if logged is None:
        notes.append("the loaded sources record no presence (logged-in sessions): agents logged in is unknown")
    fallback = handle_time(whole[0]) if whole else None
    rows = _rows(demand, by, occurrences, targets, fallback, logged or {}, scheduled or {},
                 logged_known=logged is not None, scheduled_known=scheduled is not None)
    return Staffing(by, rows, notes)


def _slice_bounds(store: Store, params: MetricParams, date_from: date | None,
                  date_to: date | None) -> tuple[int | None, int | None]:
    """The period's first and last slice; an open end is the first or last local day of the calls."""
    if date_from is None or date_to is None:
        lo, hi = queue_entry_bounds(store)
        if lo is None or hi is None:
            return None, None
        date_from = date_from or lo.replace(tzinfo=UTC).astimezone(params.zone).date()
        date_to = date_to or hi.replace(tzinfo=UTC).astimezone(params.zone).date()
    first, end = slice_range(date_from, date_to, params.timezone)
    assert first is not None and end is not None
    return first, end - 1


def _agents(store: Store, queues: Sequence[str], first: int | None, last: int | None,
            notes: list[str]) -> list[str] | None:
    if not queues:
        return None
    serving = agents_serving(store, queues, first, last)
    notes.append(f"presence and schedules name no queue: agents scheduled and logged in count the {len(serving)} "
                 f"agent(s) serving {', '.join(queues)} in the period (offered its calls or logged in to it)")
    return serving


def _weekday_counts(params: MetricParams, first: int | None, last: int | None) -> dict[int, int]:
    """How many times each weekday occurs in the period (to average a typical week)."""
    if first is None or last is None:
        return {}
    zone = params.zone
    day = _local_day(first, zone)
    final = _local_day(last, zone)
    counts: dict[int, int] = {}
    while day <= final:
        counts[day.isoweekday()] = counts.get(day.isoweekday(), 0) + 1
        day += timedelta(days=1)
    return counts


def _local_day(slice_id: int, zone: Any) -> date:
    return datetime.fromtimestamp(slice_id * SLICE_SECONDS, UTC).astimezone(zone).date()


def _key(row: dict[str, Any], by: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(row[d] for d in by)


def _agents_from_seconds(seconds: float, row: dict[str, Any], occurrences: dict[int, int] | None,
                         targets: Targets) -> float:
    times = occurrences.get(row["weekday"], 1) if occurrences else 1
    return seconds / targets.interval_s / max(times, 1)


def _logged_in(store: Store, query: KpiQuery, agents: list[str] | None, occurrences: dict[int, int] | None,
               targets: Targets) -> dict[tuple[Any, ...], float] | None:
    if agents is not None and not agents:
        return {}  # nobody served the queue: no agent logged in for it
    filters = {name: values for name, values in query.filters.items() if name != "queue"}
    if agents is not None:
        filters["agent"] = tuple(agents)
    rows = compute(store, KpiQuery(by=query.by, date_from=query.date_from, date_to=query.date_to, filters=filters,
                                   metrics=("logged_in_s",), params=query.params)).rows
    if not any(r["logged_in_s"] is not None for r in rows):
        return None
    return {_key(r, query.by): _agents_from_seconds(r["logged_in_s"] or 0.0, r, occurrences, targets) for r in rows}


def _scheduled(store: Store, params: MetricParams, by: tuple[str, ...], agents: list[str] | None,
               first: int | None, last: int | None, occurrences: dict[int, int] | None,
               targets: Targets) -> dict[tuple[Any, ...], float] | None:
    if first is None or last is None:
        return None
    seconds = scheduled_work_by_slice(store, agents, first, last)
    if seconds is None:
        return None
    calendar = calendar_table(params.timezone, first, last, targets.interval_minutes).to_pylist()
    totals: dict[tuple[Any, ...], float] = {}
    for row in calendar:
        if row["slice_id"] in seconds:
            key = _key(row, by)
            totals[key] = totals.get(key, 0.0) + seconds[row["slice_id"]]
    weekday_of = {_key(row, by): row for row in calendar}
    return {key: _agents_from_seconds(value, weekday_of[key], occurrences, targets) for key, value in totals.items()}


def _rows(demand: list[dict[str, Any]], by: tuple[str, ...], occurrences: dict[int, int] | None, targets: Targets,
          fallback_aht: float | None, logged: dict[tuple[Any, ...], float], scheduled: dict[tuple[Any, ...], float],
          *, logged_known: bool, scheduled_known: bool) -> list[dict[str, Any]]:
    """Erlang per interval with calls (an interval with calls but none handled uses the period's AHT);
    intervals with agents but no call need none."""
    with_calls = [r for r in demand if r["calls_offered"] and (handle_time(r) or fallback_aht)]
    plan = _plan(with_calls, by, occurrences, targets, fallback_aht)
    keys = sorted({*plan, *logged, *scheduled}, key=lambda k: tuple(str(v) for v in k))
    out = []
    for key in keys:
        needed = plan.get(key, {"offered": 0.0, "aht_s": None, "model": None, "agents_needed": 0,
                                "agents_needed_with_shrinkage": 0, "service_level": None, "occupancy": None})
        out.append({
            **dict(zip(by, key, strict=True)), **needed,
            "agents_scheduled": _rounded(scheduled.get(key, 0.0)) if scheduled_known else None,
            "agents_logged_in": _rounded(logged.get(key, 0.0)) if logged_known else None,
        })
    return [{name: row[name] for name in (*by, *COLUMNS)} for row in out]


def _rounded(value: float) -> float:
    return round(value, 2)


def _plan(rows: list[dict[str, Any]], by: tuple[str, ...], occurrences: dict[int, int] | None, targets: Targets,
          fallback_aht: float | None) -> dict[tuple[Any, ...], dict[str, Any]]:
    demands = []
    for row in rows:
        times = occurrences.get(row["weekday"], 1) if occurrences else 1
        patience = row["est_patience_s"] if targets.model != "erlang-c" else None
        if targets.model == "erlang-a" and patience is None:
            patience = float("inf")
        label = " ".join(str(row[d]) for d in by)
        demands.append(IntervalDemand(label, (row["calls_offered"] or 0) / max(times, 1),
                                      handle_time(row) or fallback_aht or 0.0, patience))
    plan = staffing_plan(demands, interval_s=targets.interval_s, target_s=targets.threshold_s,
                         service_level_target=targets.service_level, max_occupancy=targets.max_occupancy,
                         shrinkage=targets.shrinkage)
    return {_key(row, by): {"offered": round(item.offered_calls, 2), "aht_s": item.aht_s, "model": item.model,
                            "agents_needed": item.raw_agents, "agents_needed_with_shrinkage": item.scheduled_agents,
                            "service_level": item.service_level, "occupancy": item.occupancy}
            for row, item in zip(rows, plan, strict=True)}
