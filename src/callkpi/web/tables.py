"""The tables behind pages and exports, built from engine results (a page and its export
always show the same rows)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from callkpi.config import MetricParams
from callkpi.metrics.describe import describe
from callkpi.metrics.engine import KpiResult
from callkpi.web import kpi
from callkpi.web.db import Database
from callkpi.web.kpi import Period
from callkpi.web.scope import Principal


@dataclass
class KpiTable:
    """Engine rows ready to show: dimension columns, extra label columns, metric columns."""

    name: str
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    rows: list[dict[str, Any]]
    notes: list[str]
    params: MetricParams
    labels: tuple[str, ...] = ()  # e.g. name, team next to the agent id
    context: dict[str, Any] = field(default_factory=dict)  # period and filters, for exports

    @property
    def columns(self) -> list[str]:
        return [*self.dimensions, *self.labels, *self.metrics]

    def definitions(self, lang: str) -> list[dict[str, Any]]:
        from callkpi.metrics.catalogue import REGISTRY

        return [describe(REGISTRY.metrics[m], self.params, lang) for m in self.metrics]

    def parameters(self) -> dict[str, Any]:
        return {**self.context, **self.params.model_dump()}


def _table(name: str, result: KpiResult, context: Mapping[str, Any], labels: tuple[str, ...] = ()) -> KpiTable:
    return KpiTable(
        name=name,
        dimensions=result.dimensions,
        metrics=result.metrics,
        rows=[dict(row) for row in result.rows],
        notes=list(result.notes),
        params=result.params,
        labels=labels,
        context=dict(context),
    )


def context_of(period: Period, filters: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    ctx: dict[str, Any] = {"from": period.date_from.isoformat(), "to": period.date_to.isoformat()}
    ctx.update({name: ", ".join(values) for name, values in filters.items() if values})
    return ctx


def by_table(
    db: Database,
    principal: Principal,
    name: str,
    period: Period,
    by: Sequence[str],
    metrics: Sequence[str],
    filters: Mapping[str, Sequence[str]],
    params: MetricParams | None = None,
) -> KpiTable:
    wanted = kpi.present(db, metrics)
    result = kpi.run_period(db, principal, period, by=by, filters=filters, metrics=wanted, params=params)
    return _table(name, result, context_of(period, filters))


AGENTS_PER_PAGE = 200


@dataclass(frozen=True)
class Paging:
    """One page of a long table: the rows shown are sorted on the server, the rest a click away."""

    sort: str
    descending: bool
    page: int
    pages: int
    total: int
    first: int  # 1-based number of the first row shown
    last: int


def page_of(table: KpiTable, sort: str | None, descending: bool, page: int,
            per_page: int = AGENTS_PER_PAGE) -> tuple[KpiTable, Paging]:
    """The rows of ``page`` after sorting by ``sort`` (empty values last, whichever the direction)."""
    columns = table.columns
    key = sort if sort in columns else (table.metrics[0] if table.metrics else columns[0])
    filled = [row for row in table.rows if row.get(key) is not None]
    empty = [row for row in table.rows if row.get(key) is None]
    filled.sort(key=lambda row: (isinstance(row[key], str), row[key]), reverse=descending)
    ordered = filled + empty
    pages = max(1, -(-len(ordered) // per_page))
    page = min(max(page, 1), pages)
    start = (page - 1) * per_page
    shown = ordered[start:start + per_page]
    paged = KpiTable(table.name, table.dimensions, table.metrics, shown, table.notes, table.params,
                     table.labels, table.context)
    return paged, Paging(key, descending, page, pages, len(ordered), start + 1 if shown else 0, start + len(shown))


def intervals_table(
    db: Database,
    principal: Principal,
    period: Period,
    filters: Mapping[str, Sequence[str]],
    interval_minutes: int,
) -> KpiTable:
    params = db.params().with_overrides({"interval_minutes": interval_minutes})
    table = by_table(db, principal, "intervals", period, ("interval",), kpi.INTERVAL_METRICS, filters, params)
    table.context["interval_minutes"] = interval_minutes
    return table
