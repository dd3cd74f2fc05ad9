"""The agent scorecard (:func:`callkpi.analyses.agent_scorecard.agent_scorecard`) as a terminal shows it:
durations as people read them, rates as percent, money with its currency. JSON, CSV and XLSX keep the
raw values (seconds, fractions)."""

from __future__ import annotations

from typing import Any

from callkpi.metrics.catalogue import REGISTRY
from callkpi.queries.currency import with_currency
from callkpi.report import language
from callkpi.report.render import format_value

# The units of a readable duration (``12 min 05 s`` / ``12 мин 05 с``) and the scorecard's sections.
SCORECARD_STRINGS: dict[str, tuple[str, str]] = {
    "cli.unit.s": ("s", "с"),
    "cli.unit.min": ("min", "мин"),
    "cli.unit.h": ("h", "ч"),
    "cli.section.calls": ("calls", "вызовы"),
    "cli.section.handling": ("handling", "обработка"),
    "cli.section.missed and callbacks": ("missed and callbacks", "пропущенные и перезвоны"),
    "cli.section.sales": ("sales", "продажи"),
    "cli.section.money": ("money", "деньги"),
    "cli.section.customer": ("customer", "клиенты"),
    "cli.section.quality": ("quality", "качество"),
    "cli.section.people": ("people", "персонал"),
    "cli.section.agent": ("agent", "оператор"),
}


def _unit(name: str) -> str:
    return language.say(SCORECARD_STRINGS, f"cli.unit.{name}")


def readable_duration(seconds: float) -> str:
    """Seconds as people read them: ``42.5 s``, ``12 min 05 s``, ``198 h 21 min`` (the raw seconds stay in JSON/CSV)."""
    if abs(seconds) < 60:
        return f"{language.number(seconds, 1)} {_unit('s')}"
    sign = "-" if seconds < 0 else ""
    whole = round(abs(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{language.number(hours)} {_unit('h')} {minutes:02d} {_unit('min')}"
    return f"{sign}{minutes} {_unit('min')} {secs:02d} {_unit('s')}"


def display_value(metric_id: str, value: Any, currency: str | None = None) -> str:
    """A scorecard value for a terminal: durations readable, rates as percent, counts grouped, money
    with its currency."""
    metric = REGISTRY.metrics.get(metric_id)
    if value is not None and metric is not None and metric.unit == "seconds" and isinstance(value, int | float):
        return readable_duration(float(value))
    if metric is not None and metric.unit == "count" and isinstance(value, float) and not value.is_integer():
        return language.number(value, 1)  # a team's count per agent: 1.5, not 1
    text = format_value(metric_id, value)
    return with_currency(text, currency) if metric is not None and metric.unit == "money" else text


def display_rows(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The scorecard's KPI rows with the agent's and the team's values as :func:`display_value` writes them."""
    currency = card.get("currency")
    lang = language.language()
    return [{**row, "section": _section(row["section"]), "title": _title(row["metric"], row["title"], lang),
             "agent": display_value(row["metric"], row["agent"], currency),
             "team": display_value(row["metric"], row["team"], currency)} for row in card["rows"]]


def _title(metric_id: str, title: str, lang: str) -> str:
    metric = REGISTRY.metrics.get(metric_id)
    return str(metric.title[lang]) if metric is not None else title


def _section(section: str) -> str:
    key = f"cli.section.{section}"
    return language.say(SCORECARD_STRINGS, key) if key in SCORECARD_STRINGS else section
