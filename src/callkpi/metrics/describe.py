"""Plain descriptions of metrics for people: used by `callkpi metrics`, `--explain`, exports and
the web's definitions page."""

from __future__ import annotations

from typing import Any

from callkpi.config import MetricParams
from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.registry import Metric


def describe(metric: Metric, params: MetricParams | None = None, lang: str = "en") -> dict[str, Any]:
    values = (params or MetricParams()).model_dump()
    return {
        "id": metric.id,
        "section": metric.section,
        "title": metric.title[lang],
        "unit": metric.unit,
        "direction": metric.direction,
        "formula": metric.formula,
        "description": metric.description[lang],
        "title_en": metric.title["en"],
        "title_ru": metric.title["ru"],
        "description_en": metric.description["en"],
        "description_ru": metric.description["ru"],
        "parameters": {name: _plain(values[name]) for name in metric.params},
    }


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def describe_all(params: MetricParams | None = None, lang: str = "en") -> list[dict[str, Any]]:
    return [describe(m, params, lang) for m in REGISTRY.metrics.values()]
