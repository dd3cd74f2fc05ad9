"""What each kind of source records, and so which KPIs are "not recorded" by it (issue 12).

A KPI is *not recorded* by a source when a component it needs (presence, pauses, the queue wait,
hold) is not in that source's rows: the engine then shows null with that reason, never 0. This
module says it per source for the loaded data (``callkpi kpi --explain``, the web's definitions)
and per source kind in general (docs/metrics.md), both from the registry's ``recorded`` measures,
so the three stay in step with the figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from callkpi.config import MetricParams
from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.registry import Context, Metric, Registry
from callkpi.storage import Store

# Measures that count, per scope, the rows showing a component is recorded (0 or null: not recorded),
# and how a person names that component.
COMPONENTS: Mapping[str, Mapping[str, str]] = {
    "at_presence_rows": {"en": "presence (logged-in sessions)", "ru": "присутствие (сессии входа)"},
    "at_pause_rows": {"en": "pauses (after-call work)", "ru": "паузы (постобработка)"},
    "ql_wait_recorded": {"en": "queue wait", "ru": "ожидание в очереди"},
    "al_hold_s": {"en": "hold time", "ru": "время удержания"},
}

# The values of the facts' ``source`` column and what each source kind records. ``yes``: always;
# ``no``: never; anything else says when it does.
SOURCE_KINDS: Mapping[str, tuple[str, Mapping[str, str]]] = {
    "queue_log": ("Asterisk queue_log", {
        "at_presence_rows": "yes", "at_pause_rows": "only with PAUSE events", "ql_wait_recorded": "yes",
        "al_hold_s": "no"}),
    "asterisk_cdr": ("Asterisk CDR", {
        "at_presence_rows": "no", "at_pause_rows": "no",
        "ql_wait_recorded": "no for Queue() legs (Dial() legs: the ring time)", "al_hold_s": "no"}),
    "freeswitch_cdr": ("FreeSWITCH CDR", {
        "at_presence_rows": "no", "at_pause_rows": "no",
        "ql_wait_recorded": "yes", "al_hold_s": "yes"}),  # cc_queue_* epochs, else the ring; hold_accum_seconds
    "export": ("cloud-PBX export (mapping)", {
        "at_presence_rows": "no", "at_pause_rows": "no",
        "ql_wait_recorded": "yes", "al_hold_s": "with a hold column"}),  # the stated wait, else duration - talk
}


LABEL = {"en": "Not recorded by the loaded data", "ru": "Не записано в загруженных данных"}


@dataclass(frozen=True)
class NotRecorded:
    """A metric that is null for one loaded source because these components are not in its rows."""

    source: str
    metric: str
    components: tuple[str, ...]

    def reason(self, lang: str = "en") -> str:
        return ", ".join(COMPONENTS[c][lang] for c in self.components)


def components_of(metric: Metric, registry: Registry = REGISTRY) -> tuple[str, ...]:
    """The recording measures a metric needs: its ``recorded`` ones, and a measure of its own formula
    that is null where the source lacks it (hold in avg_hold_s)."""
    own = [m for m in metric.measures if m in COMPONENTS and registry.measures[m].empty == "null"
           and metric.missing_note]
    return tuple(dict.fromkeys((*metric.recorded, *own)))


def not_recorded(store: Store, params: MetricParams | None = None, metrics: Iterable[str] | None = None,
                 registry: Registry = REGISTRY) -> list[NotRecorded]:
    """For every loaded source (the facts' ``source`` column), the metrics it does not record."""
    params = params or MetricParams()
    chosen = [registry.metrics[m] for m in metrics] if metrics is not None else list(registry.metrics.values())
    needed = {m.id: components_of(m, registry) for m in chosen}
    recorded = _recorded_by_source(store, params, {c for cs in needed.values() for c in cs}, registry)
    found = []
    for source in _sources(store, registry):
        for metric_id, components in needed.items():
            lacking = tuple(c for c in components if source not in recorded.get(c, set()))
            if lacking:
                found.append(NotRecorded(source, metric_id, lacking))
    return found


def by_metric(found: Iterable[NotRecorded], lang: str = "en") -> dict[str, str]:
    """metric id -> "source: components; ..." (what the definitions page shows beside a metric)."""
    parts: dict[str, list[str]] = {}
    for item in found:
        parts.setdefault(item.metric, []).append(f"{item.source}: {item.reason(lang)}")
    return {metric: "; ".join(texts) for metric, texts in parts.items()}


def by_source(found: Iterable[NotRecorded]) -> dict[str, dict[str, str]]:
    """source -> metric id -> components (``kpi --explain --format json``)."""
    result: dict[str, dict[str, str]] = {}
    for item in found:
        result.setdefault(item.source, {})[item.metric] = item.reason()
    return result


def _sources(store: Store, registry: Registry) -> list[str]:
    """The sources with rows in the facts that name their source (calls, legs, agent time)."""
    found: set[str] = set()
    for fact in registry.facts.values():
        if "source" not in fact.dimensions or not (store.has_table(fact.table) and store.has_rows(fact.table)):
            continue
        column = fact.base(store.ibis)[fact.dimensions["source"]]
        found.update(v for v in store.fetch_arrow(column.name("source").as_table().distinct())["source"]
                     .to_pylist() if v)
    return sorted(found)


def _recorded_by_source(store: Store, params: MetricParams, components: set[str],
                        registry: Registry) -> dict[str, set[str]]:
    """component measure -> the sources where it is above 0 (recorded)."""
    result: dict[str, set[str]] = {}
    for measure_id in sorted(components):
        measure = registry.measures[measure_id]
        fact = registry.facts[measure.fact]
        if not (store.has_table(fact.table) and store.has_rows(fact.table)):
            result[measure_id] = set()
            continue
        table = fact.base(store.ibis)
        source = table[fact.dimensions["source"]]
        value = measure.aggregate(table, params, Context())
        grouped = table.group_by(source.name("source")).aggregate(value=value)
        rows = store.fetch_arrow(grouped.filter(grouped.value.notnull() & (grouped.value > 0)))
        result[measure_id] = {s for s in rows["source"].to_pylist() if s}
    return result


def markdown_by_source_kind(registry: Registry = REGISTRY) -> list[str]:
    """The docs/metrics.md section: per source kind, what it records and the KPIs it leaves null."""
    lines = ["", "## Not recorded, by source kind", "",
             "A KPI that needs a component the loaded source does not record is null with the reason "
             "(\"not recorded\"), never 0; `callkpi kpi --explain` and the web's definitions list them for the "
             "loaded data. Where a component is recorded only in some cases, the KPIs are null where it is not.",
             "", "| source kind | component | recorded | KPIs null where it is not |", "|---|---|---|---|"]
    users: dict[str, list[str]] = {}
    for metric in registry.metrics.values():
        for component in components_of(metric, registry):
            users.setdefault(component, []).append(metric.id)
    for _kind, (title, recorded) in SOURCE_KINDS.items():
        for component, when in recorded.items():
            if when == "yes":
                continue
            metrics = ", ".join(f"`{m}`" for m in users.get(component, []))
            lines.append(f"| {title} | {COMPONENTS[component]['en']} | {when} | {metrics} |")
    return lines
