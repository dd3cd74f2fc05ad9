"""Which engine runs what: the support table, as data (docs/engines.md is generated from it and
tests/test_engine_conformance.py holds the engines to it).

Every metric of the registry runs on DuckDB. On ClickHouse a metric is supported unless it is
listed in :data:`CLICKHOUSE_UNSUPPORTED` with the reason; the conformance suite fails both when a
supported metric differs between the engines and when a metric listed as unsupported agrees
(then it is to be taken off the list). Commands are listed the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.registry import Registry

Engine = Literal["duckdb", "clickhouse"]
ENGINES: tuple[Engine, ...] = ("duckdb", "clickhouse")

# metric id -> why it does not run on ClickHouse yet (none today: the conformance suite finds every
# metric equal on both engines).
CLICKHOUSE_UNSUPPORTED: dict[str, str] = {}

# command -> (on DuckDB, on ClickHouse, note)
COMMANDS: dict[str, tuple[bool, bool, str]] = {
    "kpi": (True, True, "every metric, dimension, filter and parameter (the metric table below)"),
    "copy": (True, True, "DuckDB <-> ClickHouse, either way, in Arrow batches; into ClickHouse the rollups are "
             "then built by ClickHouse"),
    "metrics": (True, True, "reads no store"),
    "ingest": (True, True, "staged in DuckDB by the same importers, the changed tables swapped in, the rollups "
               "of the changed facts rebuilt by ClickHouse"),
    "serve": (True, True, "the dashboard, the API, exports and the wallboard, the same numbers (tests/"
              "test_clickhouse_serve.py) but for the analyses below; no --watch (load with ingest)"),
    "alerts": (True, True, "check and history; the server's alert monitor as well"),
    "sources, quarantine, findings, missed, staffing, sales, scorecard, training-effect, survey-list, relink, "
    "qa, user, token": (True, False, "run on DuckDB"),
}


# analysis (a page or API endpoint beyond the registry's KPIs) -> why it does not run on ClickHouse yet.
# On a ClickHouse store such a page says so with the reason (the API answers 501), never a number
# computed differently; everything else of `callkpi serve` runs there (tests/test_clickhouse_serve.py).
# None today: staffing, the training effect, the QA review workflow and the per-source listing run on
# ClickHouse with DuckDB's results (tests/test_clickhouse_analyses.py).
CLICKHOUSE_UNSUPPORTED_ANALYSES: dict[str, str] = {}


class NotOnThisEngine(Exception):
    """An analysis the store's engine does not run yet (:data:`CLICKHOUSE_UNSUPPORTED_ANALYSES`)."""

    def __init__(self, analysis: str, engine: str, reason: str) -> None:
        super().__init__(f"{analysis.replace('_', ' ')} does not run on {engine} yet: {reason}")
        self.analysis = analysis
        self.engine = engine
        self.reason = reason


def require_engine(store: object, analysis: str) -> None:
    """Raise :class:`NotOnThisEngine` when the store's engine does not run ``analysis``."""
    if getattr(store, "dialect", "duckdb") == "clickhouse" and analysis in CLICKHOUSE_UNSUPPORTED_ANALYSES:
        raise NotOnThisEngine(analysis, "ClickHouse", CLICKHOUSE_UNSUPPORTED_ANALYSES[analysis])


@dataclass(frozen=True)
class Support:
    metric: str
    duckdb: bool
    clickhouse: bool
    reason: str


def supported(metric_id: str, engine: Engine) -> bool:
    return engine == "duckdb" or metric_id not in CLICKHOUSE_UNSUPPORTED


def support_table(registry: Registry = REGISTRY) -> list[Support]:
    """One row per metric of the registry, in catalogue order."""
    return [Support(m, True, supported(m, "clickhouse"), CLICKHOUSE_UNSUPPORTED.get(m, ""))
            for m in registry.metrics]


def engines_markdown(registry: Registry = REGISTRY) -> str:
    """The generated part of docs/engines.md: the commands and the metrics each engine runs."""
    yes = {True: "yes", False: "no"}
    lines = ["| command | DuckDB | ClickHouse | note |", "|---|---|---|---|"]
    lines += [f"| {name} | {yes[duck]} | {yes[ch]} | {note} |" for name, (duck, ch, note) in COMMANDS.items()]
    rows = support_table(registry)
    count = sum(r.clickhouse for r in rows)
    lines += ["", f"{count} of {len(rows)} metrics run on ClickHouse with the results DuckDB gives "
              "(tests/test_engine_conformance.py).", "",
              "| metric | DuckDB | ClickHouse | reason |", "|---|---|---|---|"]
    lines += [f"| {r.metric} | {yes[r.duckdb]} | {yes[r.clickhouse]} | {r.reason} |" for r in rows]
    if not CLICKHOUSE_UNSUPPORTED_ANALYSES:
        lines += ["", "Every page and API endpoint of `callkpi serve` runs on ClickHouse (the analyses beyond the "
                  "registry's KPIs as well: tests/test_clickhouse_analyses.py)."]
        return "\n".join(lines) + "\n"
    lines += ["", "Pages and API endpoints of `callkpi serve` that do not run on ClickHouse yet (the page says so "
              "with the reason, the API answers 501):", "", "| analysis | DuckDB | ClickHouse | reason |",
              "|---|---|---|---|"]
    lines += [f"| {name} | yes | no | {why} |" for name, why in CLICKHOUSE_UNSUPPORTED_ANALYSES.items()]
    return "\n".join(lines) + "\n"
