"""Rendering rows for people and programs: a terminal table, JSON, CSV and XLSX.

XLSX files carry a second sheet with the definition and parameters of every metric shown, so a
number never travels without its meaning.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.registry import PERCENT_UNITS

FORMATS = ("table", "json", "csv", "xlsx")


def format_value(column: str, value: Any) -> str:
    """How a value reads in a terminal: rates as percent, seconds and per-unit counts with one decimal."""
    if value is None:
        return "—"
    metric = REGISTRY.metrics.get(column)
    if metric is None or not isinstance(value, int | float):
        return str(value)
    if metric.unit in PERCENT_UNITS:
        return f"{value * 100:.1f} %"
    if metric.unit == "count":
        return f"{int(value):,}".replace(",", " ")
    if metric.unit in ("seconds", "per_hour", "per_number", "score", "money", "nps"):
        return f"{value:,.1f}".replace(",", " ")
    return str(value)


def to_json(rows: Sequence[Mapping[str, Any]], indent: int | None = 2) -> str:
    """JSON rows (indented for people; ``indent=None`` compact, for programs and large pages)."""
    separators = None if indent is not None else (",", ":")
    return json.dumps(list(rows), ensure_ascii=False, indent=indent, default=str, separators=separators)


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})
    return buffer.getvalue()


def print_table(
    console: Console, rows: Sequence[Mapping[str, Any]], columns: Sequence[str], title: str | None = None
) -> None:
    """A table on a terminal, TSV otherwise: see :func:`callkpi.report.tables.print_table`."""
    from callkpi.report.tables import print_table as render_table

    render_table(console, rows, columns, title)


def write_xlsx(
    path: Path,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    definitions: Sequence[Mapping[str, Any]] = (),
    parameters: Mapping[str, Any] | None = None,
    sheet: str = "KPI",
) -> None:
    import xlsxwriter  # only a command that writes a workbook pays for importing it

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    try:
        _write_sheet(workbook, sheet, rows, columns)
        if definitions or parameters:
            _write_definitions(workbook, definitions, parameters or {})
    finally:
        workbook.close()


def _write_sheet(workbook: Any, name: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    sheet = workbook.add_worksheet(name[:31])
    bold = workbook.add_format({"bold": True})
    percent = workbook.add_format({"num_format": "0.0%"})
    decimal = workbook.add_format({"num_format": "0.0"})
    for col, column in enumerate(columns):
        sheet.write(0, col, column, bold)
    for r, row in enumerate(rows, start=1):
        for col, column in enumerate(columns):
            value = row.get(column)
            if value is None:
                continue
            metric = REGISTRY.metrics.get(column)
            if metric is not None and metric.unit in PERCENT_UNITS:
                sheet.write_number(r, col, value, percent)
            elif metric is not None and metric.unit == "per_number":
                sheet.write_number(r, col, value, decimal)
            else:
                sheet.write(r, col, value)


def _write_definitions(workbook: Any, definitions: Sequence[Mapping[str, Any]], parameters: Mapping[str, Any]) -> None:
    sheet = workbook.add_worksheet("definitions")
    bold = workbook.add_format({"bold": True})
    headers = ("id", "title", "unit", "formula", "description", "parameters")
    for col, header in enumerate(headers):
        sheet.write(0, col, header, bold)
    for r, item in enumerate(definitions, start=1):
        for col, header in enumerate(headers):
            sheet.write(r, col, str(item.get(header, "")))
    start = len(definitions) + 3
    sheet.write(start, 0, "parameter", bold)
    sheet.write(start, 1, "value", bold)
    for offset, (name, value) in enumerate(parameters.items(), start=1):
        sheet.write(start + offset, 0, name)
        sheet.write(start + offset, 1, ", ".join(value) if isinstance(value, list | tuple) else str(value))
