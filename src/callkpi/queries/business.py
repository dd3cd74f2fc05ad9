"""Business data joined to calls: how many rows the linking steps hold, and how far the deals of a
period have matured.

Deals close days after their call; a deal matched by number counts for its call only when it is won
within ``attribution_window_d`` of it. So the conversion, revenue and ROI of the calls of the last
``attribution_window_d`` days before the end of the data can still grow: those days are *maturing*.
:func:`deal_maturity` says where the matured days end; :func:`cohort_rows` lays the deals of a
period out by the day of their call (every day of the period, days without calls as zero), each day
marked maturing or not. The surfaces (``callkpi sales``, the overview and sales pages,
``/api/v1/sales/cohorts``) show both; the numbers are the registry's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from callkpi.config import MetricParams
from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.data_end import data_end_utc
from callkpi.model.business_schema import (
    ADHERENCE_TIME,
    COST_ALLOCATION,
    DEAL_ATTRIBUTION,
    DEAL_CALLS,
    LABOUR_GAPS,
    LABOUR_TIME,
    STAFF_DAYS,
    SURVEYS,
)
from callkpi.storage import Store

RELINKED_TABLES = (DEAL_ATTRIBUTION, DEAL_CALLS, SURVEYS, COST_ALLOCATION, LABOUR_TIME, LABOUR_GAPS, ADHERENCE_TIME,
                   STAFF_DAYS)

# The KPIs whose value for a period can still change while its deals are open.
MATURING_METRICS = frozenset({
    "deals_won", "revenue", "conversion_rate", "lead_conversion_rate", "aov", "arpc", "profit_per_call",
    "cost_per_sale", "roi", "cohort_deals_won", "cohort_revenue", "open_deal_share",
})
# The cohort view: the deals of each day's calls, however late they closed.
COHORT_METRICS = ("calls_handled", "conversion_rate", "cohort_deals_won", "cohort_revenue", "open_deal_share")
_SUMMED_UNITS = ("count", "money")  # 0 on a day without calls; ratios stay null there (0 / 0)


def relink_counts(store: Store) -> dict[str, int]:
    """Rows of every table `callkpi relink` rebuilds, by table name."""
    return {table.name: store.row_count(table.name) for table in RELINKED_TABLES}


@dataclass(frozen=True)
class Maturity:
    """Where the deals of the loaded calls have had their full window to close."""

    window_d: int
    data_end: date | None  # the local day of the newest call
    matured_until: date | None  # the last call day whose deals have had attribution_window_d days

    def maturing(self, last_day: date) -> bool:
        """A period (or day) ending on ``last_day`` can still gain won deals."""
        return self.matured_until is None or last_day > self.matured_until

    def as_dict(self) -> dict[str, Any]:
        return {"window_d": self.window_d, "data_end": _iso(self.data_end), "matured_until": _iso(self.matured_until)}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def deal_maturity(store: Store, params: MetricParams) -> Maturity:
    """The maturity of the loaded data under ``attribution_window_d`` (days in the business time zone)."""
    end = data_end_utc(store)
    window = int(params.attribution_window_d)
    if end is None:
        return Maturity(window, None, None)
    last = end.replace(tzinfo=UTC).astimezone(ZoneInfo(params.timezone)).date()
    return Maturity(window, last, last - timedelta(days=window))


def period_maturity(maturity: Maturity, date_to: date | None, shown: Sequence[str]) -> dict[str, Any] | None:
    """The "maturing" marker of a period showing ``shown`` KPIs, or None when none of them can still change
    or the period's deals have all matured."""
    if not any(m in MATURING_METRICS for m in shown):
        return None
    last = date_to or maturity.data_end
    if last is None or not maturity.maturing(last):
        return None
    return {**maturity.as_dict(), "maturing": True}


def cohort_rows(rows: Sequence[Mapping[str, Any]], maturity: Maturity, date_from: date, date_to: date,
                metrics: Sequence[str] = COHORT_METRICS) -> list[dict[str, Any]]:
    """Engine rows by ``day``, one per day from ``date_from`` to ``date_to``: on a day without calls counts
    and amounts are 0 and ratios null (nothing to divide); each day says whether it is still maturing."""
    summed = {m for m in metrics if m in REGISTRY.metrics and REGISTRY.metrics[m].unit in _SUMMED_UNITS}
    by_day = {str(r.get("day")): r for r in rows}
    out = []
    day = date_from
    while day <= date_to:
        found = by_day.get(day.isoformat(), {})
        row: dict[str, Any] = {"day": day.isoformat()}
        for m in metrics:
            value = found.get(m)
            row[m] = (value or 0) if m in summed else value
        row["maturing"] = maturity.maturing(day)
        out.append(row)
        day += timedelta(days=1)
    return out


# The sales & money report of `callkpi sales` and /api/v1/sales/cohorts.
REPORT_METRICS = ("calls_handled", "deals_won", "revenue", "conversion_rate", "aov", "arpc", "cost",
                  "cost_per_call", "cost_per_sale", "profit_per_call", "roi", "agents_uncosted", "open_deal_share")
Run = Callable[[tuple[str, ...], Sequence[str]], list[dict[str, Any]]]


def sales_report(run: Run, maturity: Maturity, date_from: date, date_to: date,
                 metrics: Sequence[str] = REPORT_METRICS) -> dict[str, Any]:
    """Totals of the period, whether it is maturing (and how many of its deals are still open), the agents
    with calls but no labour cost, and the cohort view; ``run(by, metrics)`` gives engine rows (the caller
    applies its user's scope)."""
    totals = run((), metrics)
    total = totals[0] if totals else {}
    by_agent = run(("agent",), ("agents_uncosted",)) if "agents_uncosted" in metrics else []
    return {
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "totals": {m: total.get(m) for m in metrics},
        "maturing": period_maturity(maturity, date_to, metrics) is not None,
        "maturity": maturity.as_dict(),
        "open_deal_share": total.get("open_deal_share"),
        "uncosted_agents": sorted(str(r["agent"]) for r in by_agent if r.get("agents_uncosted") and r.get("agent")),
        "cohorts": cohort_rows(run(("day",), COHORT_METRICS), maturity, date_from, date_to),
    }
