"""The agent table's rows written in Python (web/table_html.py) are the kpi_table macro's markup:
the same cells, raw values, links, target classes and escaping, in both languages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader, select_autoescape

from callkpi.web.i18n import Locale
from callkpi.web.table_html import kpi_rows

TEMPLATES = Path(__file__).parents[1] / "src" / "callkpi" / "web" / "templates"
MACRO = "{% from '_macros.html' import kpi_table %}{{ kpi_table(loc, table, targets, id='t', link=link, body=body) }}"


@dataclass
class Table:
    rows: list[dict[str, Any]]
    dimensions: tuple[str, ...] = ("agent",)
    labels: tuple[str, ...] = ("name", "team")
    metrics: tuple[str, ...] = ("calls_handled", "answer_rate", "aht_s")
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.dimensions, *self.labels, *self.metrics)


class Targets:
    def status(self, metric: str, value: Any, queue: str | None = None, team: str | None = None) -> str:
        if value is None:
            return ""
        return "bad" if metric == "aht_s" and value > 200 else "good" if metric == "answer_rate" else ""


def _normal(html: str) -> str:
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def _both(loc: Locale, table: Table, targets: Any, link: str | None = "agent") -> tuple[str, str]:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.globals["static_url"] = lambda name: f"/static/{name}"
    template = env.from_string(MACRO)
    by_macro = template.render(loc=loc, table=table, targets=targets, link=link, body=None)
    in_python = template.render(loc=loc, table=table, targets=targets, link=link,
                                body=kpi_rows(loc, table, targets, link=link))
    return _normal(by_macro), _normal(in_python)


ROWS = [
    {"agent": "1001", "name": "Ann <b>&\"x'", "team": "sales", "calls_handled": 120, "answer_rate": 0.8512345,
     "aht_s": 250.25},
    {"agent": "a/b c", "name": None, "team": None, "calls_handled": 0, "answer_rate": None, "aht_s": None},
    {"agent": None, "name": "", "team": "t", "calls_handled": 3, "answer_rate": 1.0, "aht_s": 12.0},
]


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("targets", [Targets(), None])
def test_the_rows_are_the_macros(lang: str, targets: Any) -> None:
    by_macro, in_python = _both(Locale(lang, "Europe/Moscow"), Table(ROWS), targets)
    assert in_python == by_macro
    assert "Ann &lt;b&gt;&amp;" in in_python and 'href="/agents/a/b%20c"' in in_python
    if targets:
        assert 'class="kpi v-bad"' in in_python and 'class="kpi v-good"' in in_python


def test_an_empty_table_and_other_dimensions() -> None:
    loc = Locale("en")
    by_macro, in_python = _both(loc, Table([]), Targets())
    assert in_python == by_macro and "empty" in in_python
    days = Table([{"day": "2026-03-02", "hour": 7, "calls_handled": 4, "answer_rate": 0.5, "aht_s": 90.0}],
                 dimensions=("day", "hour"), labels=())
    by_macro, in_python = _both(loc, days, None, link=None)
    assert in_python == by_macro and "07:00" in in_python
