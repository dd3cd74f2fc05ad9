"""The rows of a large KPI table as HTML, written in Python.

The agent table holds a couple of thousand cells; through the ``kpi`` macro of ``_macros.html``
(one macro call per cell) it took most of a second to render. :func:`kpi_rows` writes the same
markup as the ``kpi_table`` macro's body (each cell's raw value in ``data-value``, the shown value
linking to its definition, the target status as a ``v-`` class), and the template puts it in as
it is (``kpi_table(..., body=rows)``).
"""

from __future__ import annotations

from typing import Any

from jinja2.filters import do_urlencode
from markupsafe import Markup, escape

from callkpi.web.i18n import Locale


def _raw(value: Any) -> str:
    return "" if value is None else str(escape(value))


def dim_value(loc: Locale, dim: str, value: Any) -> str:
    """As the ``dim_value`` macro: a dimension's value as shown."""
    if value is None:
        return "—"
    if dim in ("day", "week"):
        return str(escape(loc.date(value)))
    if dim == "interval":
        return str(escape(loc.interval_label(value)))
    if dim == "hour":
        return f"{value:02d}:00"
    if dim == "direction":
        return str(escape(loc.direction(value)))
    return str(escape(value))


def kpi_rows(loc: Locale, table: Any, targets: Any, link: str | None = None, link_prefix: str = "/agents/") -> Markup:
    """The ``<tr>`` rows of ``table`` as the ``kpi_table`` macro writes them."""
    dims, labels, metrics = table.dimensions, table.labels, table.metrics
    heads = {m: (f' href="/metrics#m-{escape(m)}" data-metric="{escape(m)}"') for m in metrics}
    parts: list[str] = []
    for row in table.rows:
        parts.append("<tr>")
        for d in dims:
            value = row[d]
            parts.append(f'<td data-value="{_raw(value)}">')
            if link and d == link and value is not None:
                parts.append(f'<a href="{link_prefix}{escape(do_urlencode(str(value)))}">{escape(value)}</a>')
            else:
                parts.append(dim_value(loc, d, value))
            parts.append("</td>")
        for label in labels:
            text = _raw(row[label] or "")
            parts.append(f'<td data-value="{text}">{text}</td>')
        for m in metrics:
            value = row[m]
            status = targets.status(m, value, queue=row.get("queue"), team=row.get("team")) if targets else ""
            raw = _raw(value)
            css = f"kpi v-{status}" if status else "kpi"
            parts.append(f'<td class="num" data-value="{raw}"><a class="{css}"{heads[m]} data-value="{raw}">'
                         f"{escape(loc.metric(m, value))}</a></td>")
        parts.append("</tr>\n")
    if not table.rows:
        parts.append(f'<tr><td colspan="{len(table.columns)}" class="empty">{escape(loc.t("no_data"))}</td></tr>')
    return Markup("".join(parts))
