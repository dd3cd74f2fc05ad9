"""Pieces several dashboard pages share: metric cards with sparklines, heat maps, the queue list."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import Request

from callkpi.metrics.catalogue import REGISTRY
from callkpi.queries.queues import queue_names
from callkpi.queries.targets import Targets
from callkpi.web.i18n import Locale
from callkpi.web.kpi import Period
from callkpi.web.security import web_state
from callkpi.web.ui import chart, series


def metric_card(
    metric_id: str,
    current: dict[str, Any],
    previous: dict[str, Any],
    daily: list[dict[str, Any]],
    targets: Targets,
    queue: str | None,
    period: Period | None = None,
) -> dict[str, Any]:
    """A metric card; with ``period`` its sparkline has a point for every day (days without calls at 0)."""
    if period is not None:
        daily = every_day(daily, period, (metric_id,))
    value, before = current.get(metric_id), previous.get(metric_id)
    change = value - before if isinstance(value, int | float) and isinstance(before, int | float) else None
    return {
        "id": metric_id,
        "value": value,
        "previous": before,
        "change": change,
        "status": targets.status(metric_id, value, queue=queue),
        "target": targets.find(metric_id, queue=queue),
        "spark": chart("spark", data=series(daily, metric_id), labels=series(daily, "day"),
                       unit=metric_unit(metric_id)),
    }


def metric_unit(metric_id: str) -> str:
    metric = REGISTRY.metrics.get(metric_id)
    return metric.unit if metric else ""


def queue_choices(request: Request) -> list[str]:
    db = web_state(request).db
    return db.cached(("queues",), lambda: queue_names(db.store()))


def heat_chart(rows: list[dict[str, Any]], loc: Locale, metric: str) -> str:
    """A day x hour heat map of one engine count."""
    days = sorted({r["day"] for r in rows if r.get("day")})
    data = [[r["hour"], days.index(r["day"]), r.get(metric) or 0] for r in rows if r.get("day")]
    return chart(
        "heatmap",
        x=[f"{h:02d}" for h in range(24)],
        y=[loc.date(d) for d in days],
        data=data,
        name=loc.metric_title(metric),
    )


def weekday_heat_chart(rows: list[dict[str, Any]], loc: Locale, metric: str) -> str:
    """A weekday x hour heat map. The engine's ``weekday`` is ISO (1 = Monday ... 7 = Sunday) whatever
    days the period holds: a label never depends on which weekdays are present."""
    days = sorted({int(r["weekday"]) for r in rows if r.get("weekday") is not None})
    labels = [loc.weekday(d - 1) if 1 <= d <= 7 else str(d) for d in days]
    data = [[r["hour"], days.index(int(r["weekday"])), r.get(metric) or 0]
            for r in rows if r.get("weekday") is not None]
    return chart("heatmap", x=[f"{h:02d}" for h in range(24)], y=labels, data=data, name=loc.metric_title(metric))


def _day_key(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def every_day(rows: list[dict[str, Any]], period: Period, metrics: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    """The engine's rows by ``day`` with one row for each day of ``period``: a day without calls has
    its counts 0 (nothing happened) and its other figures null (a rate of no calls is undefined)."""
    by_day = {_day_key(r["day"]): r for r in rows if r.get("day") is not None}
    filled = []
    for offset in range(period.days):
        day = period.date_from + timedelta(days=offset)
        row = by_day.get(day.isoformat())
        filled.append(row if row is not None else
                      {"day": day, **{m: 0 if metric_unit(m) == "count" else None for m in metrics}})
    return filled


def every_hour(rows: list[dict[str, Any]], metrics: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    """The engine's rows by ``hour`` with one row for each hour 0..23 (counts 0 where nothing happened)."""
    by_hour = {int(r["hour"]): r for r in rows if r.get("hour") is not None}
    return [by_hour.get(h) or {"hour": h, **{m: 0 if metric_unit(m) == "count" else None for m in metrics}}
            for h in range(24)]


def count_bars(loc: Locale, labels: list[str], rows: list[dict[str, Any]], metrics: tuple[str, ...]) -> str:
    """Bars of engine counts, one series per metric."""
    return chart("line", labels=labels, series=[
        {"name": loc.metric_title(m), "data": series(rows, m), "unit": metric_unit(m), "axis": 0, "type": "bar"}
        for m in metrics
    ])
