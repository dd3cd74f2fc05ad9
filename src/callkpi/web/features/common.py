"""Pieces several dashboard pages share: metric cards with sparklines, heat maps, the queue list."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from callkpi.metrics.catalogue import REGISTRY
from callkpi.queries.queues import queue_names
from callkpi.queries.targets import Targets
from callkpi.web.i18n import Locale
from callkpi.web.security import web_state
from callkpi.web.ui import chart, series


def metric_card(
    metric_id: str,
    current: dict[str, Any],
    previous: dict[str, Any],
    daily: list[dict[str, Any]],
    targets: Targets,
    queue: str | None,
) -> dict[str, Any]:
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
    """A weekday x hour heat map (used once the engine offers a ``weekday`` dimension)."""
    days = sorted({r["weekday"] for r in rows if r.get("weekday") is not None})
    numeric = all(isinstance(d, int) for d in days)
    first = 1 if numeric and days and min(days) >= 1 and max(days) == 7 else 0
    labels = [loc.weekday(d - first) if numeric and 0 <= d - first < 7 else str(d) for d in days]
    data = [[r["hour"], days.index(r["weekday"]), r.get(metric) or 0] for r in rows if r.get("weekday") is not None]
    return chart("heatmap", x=[f"{h:02d}" for h in range(24)], y=labels, data=data, name=loc.metric_title(metric))
