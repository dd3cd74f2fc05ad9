"""The QA page's trends: CQR per agent and the mean score per criterion, one point per day of the period
(a day without reviews has no point: a quality rate of no reviews is undefined, not 0)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from callkpi.config import MetricParams
from callkpi.metrics.engine import KpiQuery, compute
from callkpi.qa import reports
from callkpi.storage import Store
from callkpi.web.i18n import Locale
from callkpi.web.kpi import Period
from callkpi.web.ui import chart

MAX_LINES = 10  # more lines than this cannot be told apart: the agents / criteria with most reviews


def _days(period: Period) -> list[Any]:
    return [period.date_from + timedelta(days=i) for i in range(period.days)]


def _day_key(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)[:10]


def _lines(points: Mapping[str, dict[str, float | None]], weights: Mapping[str, float], days: list[Any],
           label: Any, unit: str) -> list[dict[str, Any]]:
    chosen = sorted(points, key=lambda k: (-weights.get(k, 0), k))[:MAX_LINES]
    return [{"name": label(key), "data": [points[key].get(d.isoformat()) for d in days], "unit": unit, "axis": 0}
            for key in sorted(chosen)]


def qa_trend_charts(store: Store, params: MetricParams, period: Period, filters: Mapping[str, tuple[str, ...]],
                    agents: Sequence[str], loc: Locale, name_of: Any) -> dict[str, str]:
    """``cqr_trend_chart`` (CQR per agent by day, the engine's ``cqr``) and ``criterion_trend_chart``
    (mean score per criterion by day); empty strings when there is no review in the period."""
    days = _days(period)
    labels = [loc.date(d) for d in days]
    by_day = compute(store, KpiQuery(by=("day", "agent"), date_from=period.date_from, date_to=period.date_to,
                                     filters=dict(filters), metrics=("cqr", "qa_reviews"), params=params))
    per_agent: dict[str, dict[str, float | None]] = {}
    reviews: dict[str, float] = {}
    for row in by_day.rows:
        if row.get("agent") is None or not row.get("qa_reviews"):
            continue
        per_agent.setdefault(row["agent"], {})[_day_key(row["day"])] = row.get("cqr")
        reviews[row["agent"]] = reviews.get(row["agent"], 0) + row["qa_reviews"]
    criteria: dict[str, dict[str, float | None]] = {}
    scored: dict[str, float] = {}
    for row in reports.criterion_scores_by_day(store, agents=agents, date_from=period.date_from,
                                               date_to=period.date_to, timezone=params.timezone):
        criteria.setdefault(row["criterion"], {})[row["day"].isoformat()] = row["mean_score"]
        scored[row["criterion"]] = scored.get(row["criterion"], 0) + row["scored"]
    return {
        "cqr_trend_chart": chart("line", labels=labels, series=_lines(
            per_agent, reviews, days, lambda a: name_of(a) or a, "score")) if per_agent else "",
        "criterion_trend_chart": chart("line", labels=labels, series=_lines(
            criteria, scored, days, str, "ratio")) if criteria else "",
    }
