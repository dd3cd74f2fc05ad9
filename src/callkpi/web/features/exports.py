"""CSV and XLSX of every table the pages show. XLSX files carry a definitions sheet (metric
formulas, the parameters and filters used), written by :func:`callkpi.report.render.write_xlsx`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from callkpi.metrics.describe import describe_all
from callkpi.queries import calls as call_log
from callkpi.queries.missed import MAX_WORKLIST
from callkpi.web import kpi
from callkpi.web.features.agents import agents_table
from callkpi.web.features.calls import call_query_from, call_scope
from callkpi.web.features.files import FORMATS, file_response
from callkpi.web.features.missed import missed_page
from callkpi.web.features.staffing import scoped_staffing, staffing_file, targets_for
from callkpi.web.kpi import BadRequest, split_values
from callkpi.web.scope import NotFound, Principal, require_role, scoped_filters
from callkpi.web.security import page_principal, web_state
from callkpi.web.tables import KpiTable, by_table, context_of
from callkpi.web.ui import interval_minutes, locale, page_query

router = APIRouter(include_in_schema=False)
EXPORT_MAX_ROWS = MAX_WORKLIST
CALL_COLUMN_DOCS = {
    "call_id": "the call's id in its source (queue_log callid, CDR linkedid)",
    "start_utc": "start, UTC",
    "answer_utc": "answer, UTC",
    "end_utc": "end, UTC",
    "direction": "inbound, outbound, internal or unknown",
    "caller": "calling number as recorded (masked for roles without the right)",
    "callee": "called number as recorded",
    "agent": "first agent who answered",
    "queue": "first queue entered",
    "outcome": "answered, abandoned, flowed_out, no_answer, busy, failed, unknown",
    "wait_s": "seconds from queue entry to answer or hang-up",
    "talk_s": "seconds of talk",
    "duration_s": "end - start, seconds",
}
MISSED_COLUMNS = ("number", "times_called", "first_utc", "last_utc", "age_s", "overdue", "queue", "call_id")


def _table_file(table: KpiTable, fmt: str, lang: str) -> Response:
    return file_response(
        table.name, fmt, table.rows, table.columns, definitions=table.definitions(lang), parameters=table.parameters()
    )


@router.get("/export/{view}.{fmt}")
def export(view: str, fmt: str, request: Request, me: Principal = Depends(page_principal)) -> Response:
    if fmt not in FORMATS:
        raise BadRequest(f"export format must be one of {', '.join(FORMATS)}")
    db = web_state(request).db
    params = db.params()
    qp = request.query_params
    lang = locale(request, me, params).lang
    pq = page_query(request, params)
    filters = {
        name: split_values(qp.getlist(name))
        for name in ("queue", "agent", "team", "campaign", "direction")
        if split_values(qp.getlist(name))
    }
    if view == "kpi":
        by = split_values(qp.getlist("by"), unique=False)
        wanted = split_values(qp.getlist("metrics")) or kpi.available(db)
        interval = qp.get("interval")
        run_params = params
        if interval in ("15", "30", "60"):
            run_params = params.with_overrides({"interval_minutes": int(interval)})
        table = by_table(db, me, "-".join(by) or "total", pq.period, by, wanted, filters, run_params)
        return _table_file(table, fmt, lang)
    if view == "agents":
        return _table_file(agents_table(db, me, pq.period, filters), fmt, lang)
    if view == "calls":
        q = call_query_from(qp, period=pq.period)
        rows = call_log.call_rows(
            db.store(), q, call_scope(me, qp), params,
            hide_numbers=not me.sees_numbers(db.settings.phone.mask_numbers), limit=EXPORT_MAX_ROWS,
        )
        docs = [{"id": column, "description": text} for column, text in CALL_COLUMN_DOCS.items()]
        return file_response(name="calls", fmt=fmt, rows=rows, columns=call_log.CALL_COLUMNS, definitions=docs,
                     parameters={**context_of(pq.period, filters), "timezone": params.timezone,
                                 "max_rows": EXPORT_MAX_ROWS})
    if view == "missed":
        require_role(me, "admin", "supervisor")
        worklist = missed_page(
            db.store(), params, scoped_filters(me, filters), date_from=pq.period.date_from,
            date_to=pq.period.date_to, hide_numbers=not me.sees_numbers(db.settings.phone.mask_numbers),
            limit=EXPORT_MAX_ROWS,
        )
        return file_response("missed", fmt, worklist["items"], MISSED_COLUMNS, definitions=[],
                     parameters={**context_of(pq.period, filters), "callback_window_h": params.callback_window_h,
                                 "as_of": worklist["as_of"]})
    if view == "staffing":
        targets = targets_for(params, interval_minutes(request, params))
        result = scoped_staffing(db, me, pq.period, pq.queues, targets)
        return staffing_file(result, fmt, targets, pq.period, pq.queues, params.timezone)
    if view == "metrics":
        items = describe_all(params, lang)
        rows = [{**item, "parameters": ", ".join(f"{k}={v}" for k, v in item["parameters"].items())} for item in items]
        columns = ("id", "section", "title", "unit", "direction", "formula", "parameters", "description")
        return file_response("metrics", fmt, rows, columns, definitions=[], parameters=params.model_dump())
    raise NotFound(view)
