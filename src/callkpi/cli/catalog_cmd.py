"""`callkpi metrics`: every metric with its definition, unit and parameters, in English and Russian."""

from __future__ import annotations

import typer
from rich.table import Table

from callkpi.cli.app import app
from callkpi.cli.common import console
from callkpi.metrics.describe import describe_all, markdown_catalogue
from callkpi.report.render import to_json


@app.command("metrics")
def list_metrics(
    fmt: str = typer.Option("table", "--format", help="table, json or markdown"),
    lang: str = typer.Option("both", "--lang", help="en, ru or both"),
) -> None:
    """List every metric: id, unit, formula, parameters, description (EN/RU)."""
    if fmt == "markdown":
        print(markdown_catalogue(), end="")
        return
    items = describe_all()
    if fmt == "json":
        print(to_json(items))
        return
    table = Table(show_lines=True, header_style="bold")
    for column in ("id", "unit", "formula", "parameters", "description"):
        table.add_column(column)
    for item in items:
        texts = []
        if lang in ("en", "both"):
            texts.append(f"{item['title_en']}. {item['description_en']}")
        if lang in ("ru", "both"):
            texts.append(f"{item['title_ru']}. {item['description_ru']}")
        params = ", ".join(f"{k}={v}" for k, v in item["parameters"].items())
        table.add_row(item["id"], item["unit"], item["formula"], params, "\n".join(texts))
    console.print(table)
