"""`callkpi metrics`: every metric with its definition, unit and parameters, in English and Russian."""

from __future__ import annotations

import typer

from callkpi.cli.app import app
from callkpi.cli.common import console, fail
from callkpi.cli.tables import TABLE_FORMATS, print_table
from callkpi.cli.words import t
from callkpi.metrics.describe import describe_all, markdown_catalogue
from callkpi.report.language import russian
from callkpi.report.render import to_json


@app.command("metrics")
def list_metrics(
    fmt: str = typer.Option("auto", "--format", help="auto (a table on a terminal, TSV when piped), table, tsv, "
                            "json or markdown"),
    lang: str | None = typer.Option(None, "--lang", help="descriptions in en, ru or both (default: both, or ru "
                                    "when the output is Russian)"),
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
        fail(t("cli.bad_format", formats=", ".join((*TABLE_FORMATS, "json", "markdown"))))
    if lang not in (None, "en", "ru", "both"):
        fail(t("cli.bad_lang"))
    lang = lang or ("ru" if russian() else "both")
    rows = []
    for item in items:
        texts = []
        if lang in ("en", "both"):
            texts.append(f"{item['title_en']}. {item['description_en']}")
        if lang in ("ru", "both"):
            texts.append(f"{item['title_ru']}. {item['description_ru']}")
        params = ", ".join(f"{k}={v}" for k, v in item["parameters"].items())
        rows.append({"id": item["id"], "unit": _unit(item["unit"]), "formula": _formula(item["formula"]),
                     "parameters": params, "description": " / ".join(texts)})
    print_table(console, rows, ["id", "unit", "formula", "parameters", "description"], fmt=fmt)


def _unit(unit: str) -> str:
    """The unit in the output's language (``seconds`` / ``секунды``)."""
    if not russian():
        return unit
    from callkpi.web.i18n import Locale

    return Locale("ru").unit(unit)


def _formula(formula: str) -> str:
    if not russian():
        return formula
    from callkpi.i18n.formulas import russian_formula

    return russian_formula(formula)
