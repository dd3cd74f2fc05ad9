"""How the web asks the engine for KPIs: periods, the user's scope forced in, results cached.

Nothing here computes a KPI; every number is a row of :func:`callkpi.metrics.engine.compute`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from callkpi.config import MetricParams
from callkpi.metrics.data_end import data_end_utc
from callkpi.metrics.engine import KpiQuery, KpiResult, available_metrics, compute
from callkpi.queries.errors import BadRequest
from callkpi.web.db import Database
from callkpi.web.scope import Principal, scoped_filters

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_PERIOD_DAYS = 3660
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2999, 12, 31)

OVERVIEW_METRICS = (
    "calls_inbound",
    "calls_outbound",
    "answer_rate",
    "service_level",
    "asa_s",
    "abandon_rate",
    "aht_s",
    "calls_missed",
    "missed_unreturned",
    "fcr_rate",
    "conversion_rate",
    "csat",
    "nps",
    "cqr",
)
AGENT_METRICS = (
    "calls_handled",
    "agent_answer_rate",
    "ring_no_answer",
    "att_s",
    "avg_hold_s",
    "acw_s",
    "aht_s",
    "short_call_share",
    "long_call_share",
    "transfers",
    "transfer_rate",
    "calls_per_hour",
    "logged_in_s",
    "paused_s",
    "idle_s",
    "utilization",
    "occupancy",
    "asa_s",
    "dials",
    "connect_rate",
    "contacts",
    "conversion_rate",
    "csat",
    "cqr",
)
QUEUE_METRICS = (
    "calls_offered",
    "calls_answered",
    "calls_abandoned",
    "calls_short_abandoned",
    "calls_flowed_out",
    "answer_rate",
    "abandon_rate",
    "service_level",
    "asa_s",
    "avg_wait_s",
    "max_wait_s",
    "avg_abandon_wait_s",
)
INTERVAL_METRICS = ("calls_offered", "calls_answered", "service_level", "asa_s", "abandon_rate", "logged_in_s")
CALLBACK_METRICS = (
    "calls_missed",
    "missed_rate",
    "missed_unreturned",
    "callback_rate",
    "callback_success_rate",
    "time_to_callback_s",
)
OUTBOUND_METRICS = (
    "dials",
    "dials_answered",
    "connect_rate",
    "contacts",
    "contact_rate",
    "unique_numbers_dialled",
    "attempts_per_number",
    "conversion_rate",
)
WALLBOARD_METRICS = (
    "calls_offered",
    "calls_answered",
    "calls_abandoned",
    "service_level",
    "asa_s",
    "max_wait_s",
    "abandon_rate",
)


def parse_date(value: str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    if not _ISO_DATE.match(value):
        raise BadRequest(f"{name} expects a date like 2026-03-31, got {value!r}")
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest(f"{name}: {value!r} is not a calendar date") from exc
    return check_date_range(day, name)


def check_date_range(day: date, name: str) -> date:
    """Dates beyond these years cannot be turned into time slices (Python's datetime ends at years
    1 and 9999, and a local day reaches into the next): a 400, never a 500."""
    if not FIRST_DATE <= day <= LAST_DATE:
        raise BadRequest(f"{name} must lie between {FIRST_DATE} and {LAST_DATE}, got {day}")
    return day


def split_values(values: Sequence[str] | str | None, *, unique: bool = True) -> tuple[str, ...]:
    """``["a,b", "c"]`` -> ``("a", "b", "c")`` (repeats dropped unless ``unique`` is False)."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    parts = (part.strip() for value in values for part in value.split(",") if part.strip())
    return tuple(dict.fromkeys(parts)) if unique else tuple(parts)


@dataclass(frozen=True)
class Period:
    date_from: date
    date_to: date

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def previous(self) -> Period:
        return Period(self.date_from - timedelta(days=self.days), self.date_from - timedelta(days=1))

    def query(self) -> dict[str, str]:
        return {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}


def last_data_day(db: Database, params: MetricParams) -> date:
    """The local date of the newest call (today when there are none)."""

    def make() -> date:
        end = data_end_utc(db.store())
        zone = ZoneInfo(params.timezone)
        if end is None:
            return datetime.now(zone).date()
        return end.replace(tzinfo=UTC).astimezone(zone).date()

    return db.cached(("last_day", params.timezone), make)


def today(params: MetricParams) -> date:
    return datetime.now(ZoneInfo(params.timezone)).date()


def resolve_period(
    db: Database, params: MetricParams, date_from: str | None, date_to: str | None, default_days: int = 7
) -> Period:
    """The period a page shows: as asked, else the last ``default_days`` days of the data."""
    start, end = parse_date(date_from, "from"), parse_date(date_to, "to")
    if end is None:
        end = last_data_day(db, params) if start is None else start + timedelta(days=default_days - 1)
    if start is None:
        start = end - timedelta(days=default_days - 1)
    if start > end:
        raise BadRequest("from is after to")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise BadRequest(f"a period is at most {MAX_PERIOD_DAYS} days")
    return Period(start, end)


def available(db: Database) -> tuple[str, ...]:
    return db.cached(("available",), lambda: available_metrics(db.store()))


def present(db: Database, metric_ids: Sequence[str]) -> tuple[str, ...]:
    """Those of ``metric_ids`` the registry knows and the loaded data supports, in that order."""
    have = set(available(db))
    return tuple(m for m in metric_ids if m in have)


def run(
    db: Database,
    principal: Principal,
    *,
    by: Sequence[str] = (),
    date_from: date | None = None,
    date_to: date | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
    metrics: Sequence[str] | None = None,
    params: MetricParams | None = None,
) -> KpiResult:
    """``compute`` for this user: their scope forced into the filters (Forbidden beyond it)."""
    scoped = scoped_filters(principal, {k: tuple(v) for k, v in (filters or {}).items()})
    query = KpiQuery(
        by=tuple(by),
        date_from=date_from,
        date_to=date_to,
        filters=scoped,
        metrics=tuple(metrics) if metrics is not None else None,
        params=params or db.params(),
    )
    key = (
        "kpi",
        query.by,
        query.date_from,
        query.date_to,
        tuple(sorted(query.filters.items())),
        query.metrics,
        query.params.model_dump_json(),
    )
    return db.cached(key, lambda: compute(db.store(), query))


def run_period(
    db: Database,
    principal: Principal,
    period: Period,
    *,
    by: Sequence[str] = (),
    filters: Mapping[str, Sequence[str]] | None = None,
    metrics: Sequence[str],
    params: MetricParams | None = None,
) -> KpiResult:
    return run(
        db,
        principal,
        by=by,
        date_from=period.date_from,
        date_to=period.date_to,
        filters=filters,
        metrics=metrics,
        params=params,
    )
