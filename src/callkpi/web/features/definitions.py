"""Metric definitions: every metric with its formula, unit, direction and parameters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from callkpi.config import MetricParams
from callkpi.metrics import recorded
from callkpi.metrics.describe import describe_all
from callkpi.web.scope import Principal
from callkpi.web.security import page_principal, web_state
from callkpi.web.ui import locale, render

router = APIRouter(include_in_schema=False)


@router.get("/metrics", response_class=HTMLResponse)
def definitions(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    db = web_state(request).db
    params = db.params()
    loc = locale(request, me, params)
    items = describe_all(params, loc.lang)
    unrecorded = db.cached(("not_recorded", loc.lang, params.model_dump_json()),
                           lambda: recorded.by_metric(recorded.not_recorded(db.store(), params), loc.lang))
    for item in items:
        item["not_recorded"] = unrecorded.get(item["id"])
    sections: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        sections.setdefault(item["section"], []).append(item)
    parameters = [
        {
            "name": name,
            "title": loc.parameter(name),
            "value": value,
            "description": loc.parameter_description(name, field.description or ""),
        }
        for name, field in MetricParams.model_fields.items()
        for value in [params.model_dump()[name]]
    ]
    return render(
        request, me, "metrics.html", loc=loc, active="definitions", sections=sections, parameters=parameters,
        not_recorded_label=recorded.LABEL[loc.lang],
    )
