"""The overview as a PDF (`/export/overview.pdf`): the same engine results the overview page shows,
laid out on A4 landscape with the metric definitions and parameters on the last page.

reportlab writes the file; DejaVu Sans (shipped in ``web/fonts``) has the Cyrillic letters the
standard PDF fonts lack."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.describe import describe
from callkpi.queries.targets import Targets, load_targets
from callkpi.web.features.overview import overview_results
from callkpi.web.i18n import Locale
from callkpi.web.kpi import Period
from callkpi.web.scope import Principal
from callkpi.web.security import page_principal, web_state
from callkpi.web.tables import KpiTable
from callkpi.web.ui import locale, page_query

router = APIRouter(include_in_schema=False)
FONTS = Path(__file__).resolve().parent.parent / "fonts"  # web/fonts
STATUS_COLOURS = {"good": colors.HexColor("#c8ebd0"), "warn": colors.HexColor("#fbe7b5"),
                  "bad": colors.HexColor("#f6c4c0")}
QUEUES_PER_TABLE = 6
TITLES = {"en": ("Overview", "Previous period", "Change", "Target", "Value", "By queue", "Definitions",
                 "Metric", "Period", "Queues", "all", "Generated", "Formula", "Description and parameters"),
          "ru": ("Обзор", "Прошлый период", "Изменение", "Цель", "Значение", "По очередям", "Определения",
                 "Показатель", "Период", "Очереди", "все", "Сформирован", "Формула", "Описание и параметры")}


@cache
def _fonts() -> tuple[str, str]:
    pdfmetrics.registerFont(TTFont("CallkpiSans", str(FONTS / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("CallkpiSans-Bold", str(FONTS / "DejaVuSans-Bold.ttf")))
    return "CallkpiSans", "CallkpiSans-Bold"


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = _fonts()
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=16, leading=20, spaceAfter=4),
        "heading": ParagraphStyle("heading", fontName=bold, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4),
        "body": ParagraphStyle("body", fontName=regular, fontSize=8, leading=10),
        "cell": ParagraphStyle("cell", fontName=regular, fontSize=7.5, leading=9),
    }


def _grid(data: list[list[Any]], widths: Sequence[float] | None = None) -> Table:
    regular, bold = _fonts()
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), regular),
        ("FONTNAME", (0, 0), (-1, 0), bold),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b8c0cc")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
    ]))
    return table


def period_has_data(metrics: Sequence[str], row: dict[str, Any]) -> bool:
    """A period has data when one of its counts is above 0; a period before (or after) the data counts
    only zeros, and its values and the change against it are unknown ("—"), not 0 and "+30,960"."""
    counts = [row.get(m) for m in metrics if m in REGISTRY.metrics and REGISTRY.metrics[m].unit == "count"]
    return any(isinstance(value, int | float) and value > 0 for value in counts)


def _cards_table(loc: Locale, metrics: Sequence[str], row: dict[str, Any], before: dict[str, Any],
                 targets: Targets, queue: str | None) -> Table:
    words = TITLES[loc.lang]
    if not period_has_data(metrics, before):
        before = {}
    data: list[list[Any]] = [["", words[4], words[1], words[2], words[3]]]
    shading = []
    for index, metric_id in enumerate(metrics, start=1):
        value, previous = row.get(metric_id), before.get(metric_id)
        change = value - previous if isinstance(value, int | float) and isinstance(previous, int | float) else None
        target = targets.find(metric_id, queue=queue)
        data.append([loc.metric_title(metric_id), loc.metric(metric_id, value),
                     loc.metric(metric_id, previous), loc.delta(metric_id, change),
                     loc.metric(metric_id, target.target) if target else ""])
        status = targets.status(metric_id, value, queue=queue)
        if status in STATUS_COLOURS:
            shading.append(("BACKGROUND", (1, index), (1, index), STATUS_COLOURS[status]))
    table = _grid(data, widths=[70 * mm, 35 * mm, 35 * mm, 35 * mm, 35 * mm])
    table.setStyle(TableStyle(shading))
    return table


def _queue_tables(loc: Locale, table: KpiTable) -> list[Table]:
    """Metrics down, queues across (a few queues per table, so any number of queues fits)."""
    out = []
    for start in range(0, len(table.rows), QUEUES_PER_TABLE):
        chunk = table.rows[start:start + QUEUES_PER_TABLE]
        data: list[list[Any]] = [["", *[str(r.get("queue") or "—") for r in chunk]]]
        for metric_id in table.metrics:
            data.append([loc.metric_title(metric_id), *[loc.metric(metric_id, r.get(metric_id))
                                                        for r in chunk]])
        out.append(_grid(data, widths=[70 * mm, *[32 * mm] * len(chunk)]))
    return out


def _definitions(loc: Locale, metrics: Sequence[str], table: KpiTable, styles: dict[str, ParagraphStyle]) -> Table:
    words = TITLES[loc.lang]
    data: list[list[Any]] = [[words[7], words[12], words[13]]]
    for metric_id in metrics:
        info = describe(REGISTRY.metrics[metric_id], table.params, loc.lang)
        params = ", ".join(f"{k} = {v}" for k, v in info["parameters"].items())
        data.append([Paragraph(f"{info['title']} ({metric_id})", styles["cell"]),
                     Paragraph(info["formula"], styles["cell"]),
                     Paragraph(f"{info['description']} {params}".strip(), styles["cell"])])
    grid = _grid(data, widths=[55 * mm, 70 * mm, 140 * mm])
    grid.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "LEFT")]))
    return grid


def overview_pdf(loc: Locale, period: Period, queues: Sequence[str], metrics: Sequence[str],
                 current: dict[str, Any], previous: dict[str, Any], by_queue: KpiTable, targets: Targets,
                 notes: Sequence[str]) -> bytes:
    styles = _styles()
    words = TITLES[loc.lang]
    queue = queues[0] if len(queues) == 1 else None
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                                 topMargin=12 * mm, bottomMargin=12 * mm, title=f"callkpi — {words[0]}",
                                 author="callkpi")
    generated = loc.datetime(datetime.now(UTC))
    story: list[Any] = [
        Paragraph(f"callkpi — {words[0]}", styles["title"]),
        Paragraph(f"{words[8]}: {loc.date(period.date_from)} – {loc.date(period.date_to)} ({loc.timezone}); "
                  f"{words[1].lower()}: {loc.date(period.previous().date_from)} – "
                  f"{loc.date(period.previous().date_to)}. {words[9]}: {', '.join(queues) or words[10]}. "
                  f"{words[11]}: {generated}.", styles["body"]),
        Spacer(1, 4 * mm),
        _cards_table(loc, metrics, current, previous, targets, queue),
    ]
    story += [Paragraph(note, styles["body"]) for note in notes]
    if by_queue.rows:
        story.append(Paragraph(words[5], styles["heading"]))
        for table in _queue_tables(loc, by_queue):
            story += [table, Spacer(1, 3 * mm)]
    story += [PageBreak(), Paragraph(words[6], styles["heading"]), _definitions(loc, metrics, by_queue, styles)]
    document.build(story)
    return buffer.getvalue()


@router.get("/export/overview.pdf")
def export_overview_pdf(request: Request, me: Principal = Depends(page_principal)) -> Response:
    """The overview of the period and queues in the query string, as the page shows them."""
    db = web_state(request).db
    params = db.params()
    pq = page_query(request, params)
    loc = locale(request, me, params)
    metrics, current, previous, _daily, by_queue = overview_results(db, me, pq.period, pq.filters)
    content = overview_pdf(
        loc, pq.period, pq.queues, metrics,
        current.rows[0] if current.rows else {}, previous.rows[0] if previous.rows else {},
        by_queue, load_targets(db.store()), current.notes,
    )
    name = f"callkpi-overview-{pq.period.date_from.isoformat()}-{pq.period.date_to.isoformat()}.pdf"
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# -- any table of the pages, as a PDF (scheduled reports) ---------------------------------------------

METRIC_COLUMNS_PER_TABLE = 8


def _cell(loc: Locale, metric_id: str | None, value: Any) -> str:
    if metric_id in REGISTRY.metrics:
        return loc.metric(metric_id, value)
    return "—" if value is None else str(value)


def table_pdf(loc: Locale, title: str, period: Period, queues: Sequence[str], rows: Sequence[dict[str, Any]],
              labels: Sequence[str], values: Sequence[str], value_metric: str | None = None) -> bytes:
    """Rows of a page's table on A4 landscape: the ``labels`` columns (agent, name...) in every
    part, the ``values`` columns a few at a time; a value column that is a metric reads in its unit
    (or, with ``value_metric``, by the metric the row's ``value_metric`` column names: a scorecard)."""
    styles = _styles()
    words = TITLES[loc.lang]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                                 topMargin=12 * mm, bottomMargin=12 * mm, title=f"callkpi — {title}",
                                 author="callkpi")
    story: list[Any] = [
        Paragraph(f"callkpi — {title}", styles["title"]),
        Paragraph(f"{words[8]}: {loc.date(period.date_from)} – {loc.date(period.date_to)} ({loc.timezone}). "
                  f"{words[9]}: {', '.join(queues) or words[10]}. {words[11]}: {loc.datetime(datetime.now(UTC))}.",
                  styles["body"]),
        Spacer(1, 4 * mm),
    ]
    for start in range(0, max(len(values), 1), METRIC_COLUMNS_PER_TABLE):
        part = list(values[start:start + METRIC_COLUMNS_PER_TABLE])
        header = [Paragraph(loc.metric_title(c) if c in REGISTRY.metrics else c, styles["cell"])
                  for c in (*labels, *part)]
        data: list[list[Any]] = [header]
        for row in rows:
            data.append([_cell(loc, None, row.get(c)) for c in labels]
                        + [_cell(loc, row.get(value_metric) if value_metric else c, row.get(c)) for c in part])
        width = 273 * mm / max(len(labels) + len(part), 1)
        story += [_grid(data, widths=[width] * (len(labels) + len(part))), Spacer(1, 4 * mm)]
    document.build(story)
    return buffer.getvalue()
