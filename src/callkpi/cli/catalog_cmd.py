"""`callkpi metrics`: every metric with its definition, unit and parameters, in English and Russian."""

from __future__ import annotations

import typer

from callkpi.cli.app import app
from callkpi.cli.common import console, fail
from callkpi.cli.tables import TABLE_FORMATS, print_table
from callkpi.metrics.describe import describe_all, markdown_catalogue
from callkpi.report.render import to_json


@app.command("metrics")
def list_metrics(
    fmt: str = typer.Option("auto", "--format", help="auto (a table on a terminal, TSV when piped), table, tsv, "
                            "json or markdown"),
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
    if fmt not in TABLE_FORMATS:
        fail(f"--format must be one of {', '.join((*TABLE_FORMATS, 'json', 'markdown'))}")
    rows = []
    for item in items:
        texts = []
        if lang in ("en", "both"):
            texts.append(f"{item['title_en']}. {item['description_en']}")
        if lang in ("ru", "both"):
            texts.append(f"{item['title_ru']}. {item['description_ru']}")
        params = ", ".join(f"{k}={v}" for k, v in item["parameters"].items())
        rows.append({"id": item["id"], "unit": item["unit"], "formula": item["formula"], "parameters": params,
                     "description": " / ".join(texts)})
    print_table(console, rows, ["id", "unit", "formula", "parameters", "description"], fmt=fmt)
