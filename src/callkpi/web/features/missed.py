"""The missed-call worklist page (and its "handled" form), and the worklist as the page, its export and
``/api/v1/missed`` show it: the rows of :func:`callkpi.queries.missed.unreturned_worklist`, numbers
masked when the user may not see them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from callkpi.config import MetricParams
from callkpi.queries._rows import iso, plain
from callkpi.queries.missed import mark_handled, unreturned_worklist
from callkpi.queries.queues import queue_names
from callkpi.queries.targets import load_targets
from callkpi.storage import Store
from callkpi.web import kpi
from callkpi.web.features.common import count_bars, every_day, every_hour
from callkpi.web.i18n import Locale
from callkpi.web.kpi import Period
from callkpi.web.scope import Principal, require_role, scoped_filters
from callkpi.web.security import check_form_csrf, page_principal, web_state
from callkpi.web.ui import locale, page_query, render

router = APIRouter(include_in_schema=False)


def missed_page(
    store: Store,
    params: MetricParams,
    scope: Mapping[str, tuple[str, ...]],
    *,
    date_from: date | None,
    date_to: date | None,
    hide_numbers: bool,
    limit: int = 100,
    offset: int = 0,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """One page of the worklist, JSON-ready: items, total, as_of, limit, offset."""
    worklist = unreturned_worklist(store, params, scope=scope, date_from=date_from, date_to=date_to,
                                   as_of=as_of, limit=limit, offset=offset)
    items = [plain(row, hide_numbers, ("number", "caller")) for row in worklist.items]
    return {"items": items, "total": worklist.total, "as_of": iso(worklist.as_of), "limit": limit, "offset": offset}


@router.get("/missed", response_class=HTMLResponse)
def missed(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    require_role(me, "admin", "supervisor")
    db = web_state(request).db
    params = db.params()
    pq = page_query(request, params)
    scope = scoped_filters(me, pq.filters)
    worklist = missed_page(
        db.store(), params, scope, date_from=pq.period.date_from, date_to=pq.period.date_to,
        hide_numbers=not me.sees_numbers(db.settings.phone.mask_numbers), limit=200,
    )
    metrics = kpi.present(db, kpi.CALLBACK_METRICS)
    result = kpi.run_period(db, me, pq.period, filters=pq.filters, metrics=metrics)
    loc = locale(request, me, params)
    return render(
        request,
        me,
        "missed.html",
        loc=loc,
        **missed_charts(db, me, pq.period, pq.filters, loc),
        active="missed",
        pq=pq,
        worklist=worklist,
        metrics=metrics,
        row=result.rows[0] if result.rows else {},
        notes=result.notes,
        targets=load_targets(db.store()),
        params=params,
        export_metrics=",".join(metrics),
        queues=db.cached(("queues",), lambda: queue_names(db.store())),
    )


MISSED_CHART_METRICS = ("calls_missed", "missed_unreturned")


def missed_charts(db: Any, me: Principal, period: Period, filters: dict[str, tuple[str, ...]],
                  loc: Locale) -> dict[str, str]:
    """Missed calls by day (every day of the period, 0 where none) and by hour of day (0..23)."""
    metrics = kpi.present(db, MISSED_CHART_METRICS)
    if not metrics:
        return {}
    daily = every_day(kpi.run_period(db, me, period, by=("day",), filters=filters, metrics=metrics).rows,
                      period, metrics)
    hourly = every_hour(kpi.run_period(db, me, period, by=("hour",), filters=filters, metrics=metrics).rows,
                        metrics)
    return {
        "by_day_chart": count_bars(loc, [loc.date(r["day"]) for r in daily], daily, metrics),
        "by_hour_chart": count_bars(loc, [f"{r['hour']:02d}" for r in hourly], hourly, metrics),
    }


@router.post("/missed/{call_id}/handled", response_model=None)
async def missed_handled(
    call_id: str, request: Request, me: Principal = Depends(page_principal)
) -> HTMLResponse | RedirectResponse:
    form = await check_form_csrf(request, me)
    require_role(me, "admin", "supervisor")
    db = web_state(request).db
    marked = mark_handled(
        db.store(), call_id, scoped_filters(me, {}), me.username, str(form.get("note", ""))[:500]
    )
    if request.headers.get("hx-request") == "true":
        loc = locale(request, me)
        return HTMLResponse(
            f'<tr class="handled"><td colspan="7">{loc.t("handled")}: {len(marked)}</td></tr>'
        )
    back = request.headers.get("referer") or "/missed"
    return RedirectResponse(back if back.startswith(str(request.base_url)) else "/missed", status_code=303)

