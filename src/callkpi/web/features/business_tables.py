"""What the business pages show, arranged from :mod:`callkpi.analyses.training_effect`,
:mod:`callkpi.analyses.agent_scorecard` and
engine results: who may see which agent, cached results, training rows in words, scorecard sections.
Nothing here computes a KPI or a statistic."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from callkpi.analyses.agent_scorecard import agent_scorecard, known_agent
from callkpi.analyses.training_effect import OUTCOMES, Effect, programmes, training_effect
from callkpi.config import MetricParams
from callkpi.queries.agents import agent_names, serves_queues
from callkpi.queries.business import COHORT_METRICS, Maturity, cohort_rows, deal_maturity, period_maturity
from callkpi.stats.significance import MIN_AGENTS_PER_GROUP, MIN_OBSERVATIONS_PER_CELL
from callkpi.web import kpi
from callkpi.web.db import Database
from callkpi.web.features import analysis_strings  # noqa: F401  (the training chart's strings)
from callkpi.web.features.sales_strings import SALES_STRINGS
from callkpi.web.i18n import STRINGS, Locale
from callkpi.web.kpi import BadRequest, Period
from callkpi.web.scope import Forbidden, NotFound, Principal
from callkpi.web.tables import KpiTable, by_table
from callkpi.web.ui import chart, unit_of

STRINGS.update(SALES_STRINGS)

SALES_METRICS = (
    "deals_won",
    "revenue",
    "conversion_rate",
    "lead_conversion_rate",
    "aov",
    "arpc",
    "deals_unattributed",
    "cost",
    "cost_per_call",
    "profit_per_call",
    "cost_per_sale",
    "roi",
    "agents_uncosted",
    "open_deal_share",
    "csat",
    "nps",
    "turnover_rate",
    "adherence",
)
SALES_BY = ("agent", "team", "campaign", "queue", "day", "week", "month")
MAX_WINDOW_DAYS = 366
TRAINING_COLUMNS = (
    "programme", "metric", "unit", "window_days", "cohorts", "trained_agents", "control_agents",
    "trained_before", "trained_after", "untrained_before", "untrained_after",
    "trained_mean_before", "trained_mean_after", "trained_change_p_value",
    "untrained_mean_before", "untrained_mean_after", "untrained_change_p_value",
    "effect", "ci_low", "ci_high", "p_value", "verdict", "verdict_text", "notes",
)


# -- who may see an agent ------------------------------------------------------------------------


def check_agent_visible(db: Database, me: Principal, agent: str) -> None:
    """Agents see only themselves; supervisors the agents of their teams and of their queues (both
    when both are named); admins everyone. An agent nobody knows is a 404 for those who may look."""
    user = me.user
    store = db.store()
    if user.role == "agent" and agent != user.agent:
        raise Forbidden("an agent may see only their own scorecard")
    if user.role == "supervisor":
        if user.teams and _team_of(db, agent) not in user.teams:
            raise Forbidden(f"agent {agent} is not in the teams of this user")
        if user.queues and not _serves_queues(db, agent, user.queues):
            raise Forbidden(f"agent {agent} took no call of the queues of this user")
    if not known_agent(store, agent):
        raise NotFound(agent)


def _team_of(db: Database, agent: str) -> str | None:
    names = db.cached(("agent_names",), lambda: agent_names(db.store()))
    return names.get(agent, {}).get("team")


def _serves_queues(db: Database, agent: str, queues: Sequence[str]) -> bool:
    return serves_queues(db.store(), agent, queues)


# -- cached results ------------------------------------------------------------------------------


def scorecard(db: Database, agent: str, params: MetricParams, date_from: date | None,
              date_to: date | None) -> dict[str, Any]:
    key = ("scorecard", agent, date_from, date_to, params.model_dump_json())
    return db.cached(key, lambda: agent_scorecard(db.store(), agent, params, date_from=date_from, date_to=date_to))


def programme_names(db: Database) -> list[str]:
    return db.cached(("programmes",), lambda: programmes(db.store()))


def effects(db: Database, params: MetricParams, programme: str | None, window_days: int,
            metrics: Sequence[str]) -> list[Effect]:
    """:func:`~callkpi.analyses.training_effect.training_effect`, with the request's values checked (400 otherwise)."""
    if programme is not None and programme not in programme_names(db):
        raise BadRequest(f"programme: no training programme {programme!r} is loaded")
    if not 1 <= window_days <= MAX_WINDOW_DAYS:
        raise BadRequest(f"window_days must be between 1 and {MAX_WINDOW_DAYS}")
    unknown = [m for m in metrics if m not in OUTCOMES]
    if unknown:
        raise BadRequest(f"metrics: unknown {', '.join(unknown)}; known: {', '.join(OUTCOMES)}")
    key = ("training", programme, window_days, tuple(metrics), params.model_dump_json())
    return db.cached(key, lambda: training_effect(db.store(), params, programme=programme, window_days=window_days,
                                                  metrics=metrics))


def training_export_rows(found: Sequence[Effect]) -> list[dict[str, Any]]:
    return [{
        **{k: getattr(e, k) for k in ("programme", "metric", "unit", "window_days", "cohorts", "trained_agents",
                                      "control_agents", "effect", "ci_low", "ci_high", "p_value", "verdict",
                                      "verdict_text")},
        **e.cells,
        "trained_mean_before": e.trained.mean_before, "trained_mean_after": e.trained.mean_after,
        "trained_change_p_value": e.trained.p_value,
        "untrained_mean_before": e.control.mean_before, "untrained_mean_after": e.control.mean_after,
        "untrained_change_p_value": e.control.p_value,
        "notes": "; ".join(e.notes),
    } for e in found]


# -- training effect in words --------------------------------------------------------------------


def amount(loc: Locale, unit: str, value: float | None, *, signed: bool = False, mean: bool = False) -> str:
    """A training effect (rates in percentage points) or a group's mean (rates in percent) in its unit."""
    if value is None:
        return "—"
    sign = "+" if signed and value > 0 else ""
    if unit == "pp":
        return f"{sign}{loc.number(value * 100, 1)}\u00a0{'%' if mean else loc.t('pp')}"
    if unit == "s":
        return f"{sign}{loc.number(value, 1)}\u00a0{loc.t('seconds_short')}"
    if unit == "money":
        return f"{sign}{loc.number(value, 0)}"
    return f"{sign}{loc.number(value, 1)}"


def verdict_text(loc: Locale, e: Effect) -> str:
    """The plain-language verdict: training.py's own words in English, the same sentence in Russian."""
    if loc.lang == "en":
        return e.verdict_text
    if e.verdict == "not_enough_data" or e.effect is None:
        c = e.cells
        return (f"недостаточно данных: нужно не менее {MIN_OBSERVATIONS_PER_CELL} наблюдений в каждой группе и "
                f"{MIN_AGENTS_PER_GROUP} операторов с каждой стороны (обученные до {c['trained_before']}, после "
                f"{c['trained_after']}; необученные до {c['untrained_before']}, после {c['untrained_after']}; "
                f"обученных операторов {e.trained_agents}, необученных {e.control_agents})")
    p_value = f"= {loc.number(e.p_value, 3)}" if e.p_value is not None and e.p_value >= 0.001 else "< 0,001"
    low, high = amount(loc, e.unit, e.ci_low, signed=True), amount(loc, e.unit, e.ci_high, signed=True)
    interval = f"95 % ДИ {low} … {high}, p {p_value}"
    title = loc.metric_title(e.metric)
    if e.verdict == "no_significant_change":
        return (f"значимых изменений нет: показатель «{title}» обученных операторов изменился на "
                f"{amount(loc, e.unit, e.effect, signed=True)} относительно необученных ({interval})")
    word = "улучшение" if e.verdict == "improved" else "ухудшение"
    moved = "вырос" if e.effect > 0 else "снизился"
    return (f"{word}: показатель «{title}» {moved} на {amount(loc, e.unit, abs(e.effect))} больше, чем у "
            f"необученных ({interval})")


_OPEN_DEALS_NOTE = re.compile(
    r"^(?P<n>\d+) calls? had a deal still open at the end of the data; each counts as the share of its group's "
    r"closed deals that were won \((?P<shares>[^)]*) for trained before/after, untrained before/after\)$"
)


def training_note(loc: Locale, note: str) -> str:
    """A note of the training analysis (written in English by analyses/training_effect.py) in this language."""
    found = _OPEN_DEALS_NOTE.match(note)
    if loc.lang == "en" or found is None:
        return note
    shares = found["shares"].replace("%", "\u00a0%")
    return (f"{loc.plural('n_calls', int(found['n']))} со сделкой, открытой на конец данных: каждый считается "
            f"долей выигранных среди закрытых сделок своей группы ({shares} — обученные до/после, "
            "необученные до/после)")


def training_view(loc: Locale, found: Sequence[Effect]) -> list[dict[str, Any]]:
    """Effects grouped by programme, each with its words and its before/after chart."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for e in found:
        row = {"e": e, "text": verdict_text(loc, e), "notes": [training_note(loc, n) for n in e.notes],
               "chart": training_chart(loc, e)}
        groups.setdefault(e.programme, []).append(row)
    return [{"programme": name, "rows": rows, "cohorts": max(r["e"].cohorts for r in rows)}
            for name, rows in groups.items()]


def training_maturing(db: Database, me: Principal, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each programme's "maturing" marker: its after-training windows (the day after each cohort's training
    to ``window_days`` later) still hold calls whose deals may be won, so conversion and revenue may rise."""
    for group in groups:
        effects = [r["e"] for r in group["rows"]]
        windows = [(date.fromisoformat(c["end"]) + timedelta(days=1), date.fromisoformat(c["end"])
                    + timedelta(days=e.window_days)) for e in effects for c in e.cohort_details if c.get("end")]
        shown = [e.metric for e in effects]
        group["maturing"] = (maturing_marker(db, me, Period(min(w[0] for w in windows), max(w[1] for w in windows)),
                                             {}, shown) if windows else None)
    return groups


_CHART_UNITS = {"pp": "ratio", "s": "seconds"}


def training_chart(loc: Locale, e: Effect) -> str | None:
    """Each group's mean before and after with its 95 % interval (static/app.js ``intervals``); None
    when no cell has a mean."""
    if not any(cell.get("mean") is not None for cell in e.means.values()):
        return None
    series = []
    for group in ("trained", "untrained"):
        cells = [e.means.get(f"{group}_{period}", {}) for period in ("before", "after")]
        series.append({"name": loc.t(group), "mean": [c.get("mean") for c in cells],
                       "low": [c.get("ci_low") for c in cells], "high": [c.get("ci_high") for c in cells]})
    return chart("intervals", unit=_CHART_UNITS.get(e.unit, ""),
                 labels=[loc.t("training_before"), loc.t("training_after")], series=series)


# -- scorecard and sales tables ------------------------------------------------------------------


def scorecard_sections(card: dict[str, Any]) -> list[dict[str, Any]]:
    sections: dict[str, list[dict[str, Any]]] = {}
    for row in card["rows"]:
        sections.setdefault(row["section"], []).append(row)
    return [{"id": name, "rows": rows} for name, rows in sections.items()]


def sales_table(db: Database, me: Principal, period: Period, by: str,
                filters: dict[str, tuple[str, ...]]) -> KpiTable | None:
    """The sales and money KPIs by one dimension; None when no business data is loaded."""
    if by not in SALES_BY:
        raise BadRequest(f"by must be one of {', '.join(SALES_BY)}, got {by!r}")
    if not sales_metrics(db):
        return None
    table = by_table(db, me, f"sales-{by}", period, (by,), SALES_METRICS, filters)
    if by == "agent":
        names = db.cached(("agent_names",), lambda: agent_names(db.store()))
        for row in table.rows:
            known = names.get(row["agent"], {})
            row["name"], row["team"] = known.get("name"), known.get("team")
        table.labels = ("name", "team")
    return table


def sales_metrics(db: Database) -> tuple[str, ...]:
    return kpi.present(db, SALES_METRICS)


# -- open deals, labour completeness, charts -----------------------------------------------------

TREND_METRICS = ("revenue", "conversion_rate", "deals_won", "calls_handled")
FUNNEL_METRICS = ("calls_inbound", "calls_outbound", "calls_handled", "deals_won")


def maturity(db: Database, params: MetricParams) -> Maturity:
    return db.cached(("deal_maturity", params.attribution_window_d, params.timezone),
                     lambda: deal_maturity(db.store(), params))


def maturing_marker(db: Database, me: Principal, period: Period, filters: dict[str, tuple[str, ...]],
                    shown: Sequence[str]) -> dict[str, Any] | None:
    """The "maturing" marker of the period (None when its deals have matured or nothing shown depends on
    them), with the share of its attributed deals still open."""
    marker = period_maturity(maturity(db, db.params()), period.date_to, shown)
    if marker is None:
        return None
    share = kpi.present(db, ("open_deal_share",))
    row = kpi.run_period(db, me, period, filters=filters, metrics=share).rows if share else []
    return {**marker, "open_deal_share": row[0].get("open_deal_share") if row else None}


def labour_completeness(db: Database, me: Principal, period: Period,
                        filters: dict[str, tuple[str, ...]]) -> dict[str, Any] | None:
    """Which agents with calls have no labour cost in the period (engine, by agent); None without costs."""
    metrics = kpi.present(db, ("cost", "agents_uncosted"))
    if "cost" not in metrics:
        return None
    # agents_uncosted has no data when the costs were derived and left no agent-day uncosted
    result = kpi.run_period(db, me, period, by=("agent",), filters=filters, metrics=metrics)
    if not any(r.get("cost") is not None for r in result.rows):
        return None
    agents = sorted(str(r["agent"]) for r in result.rows if r.get("agents_uncosted") and r.get("agent"))
    return {"uncosted": len(agents), "agents": agents}


def cohort_view(db: Database, me: Principal, period: Period,
                filters: dict[str, tuple[str, ...]]) -> list[dict[str, Any]]:
    """The deals of each day's calls (every day of the period), each day marked maturing or matured."""
    table = by_table(db, me, "cohorts", period, ("day",), COHORT_METRICS, filters)
    return cohort_rows(table.rows, maturity(db, db.params()), period.date_from, period.date_to, table.metrics)


def sales_charts(db: Database, me: Principal, loc: Locale, period: Period,
                 filters: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """The revenue-and-conversion trend (every day of the period: no call, no revenue; conversion has no
    value on such a day) and the calls -> handled -> deals won funnel, as chart specs for static/app.js."""
    table = by_table(db, me, "sales-trend", period, ("day",), TREND_METRICS, filters)
    days = cohort_rows(table.rows, maturity(db, db.params()), period.date_from, period.date_to, table.metrics)
    trend = chart("line", labels=[loc.date(d["day"]) for d in days], series=[
        {"name": loc.metric_title(m), "data": [d.get(m) for d in days], "unit": unit_of(m), "axis": i,
         "type": "bar" if m == "revenue" else "line"}
        for i, m in enumerate(("revenue", "conversion_rate")) if m in table.metrics])
    result = kpi.run_period(db, me, period, filters=filters, metrics=kpi.present(db, FUNNEL_METRICS))
    total = result.rows[0] if result.rows else {}
    calls = sum(total.get(m) or 0 for m in FUNNEL_METRICS[:2])
    steps = [(loc.t("funnel_calls"), calls), (loc.metric_title("calls_handled"), total.get("calls_handled")),
             (loc.metric_title("deals_won"), total.get("deals_won"))]
    funnel = chart("line", labels=[name for name, _ in steps],
                   series=[{"name": loc.t("sales_funnel"), "data": [v or 0 for _, v in steps], "unit": "count",
                            "type": "bar"}])
    return {"trend": trend, "funnel": funnel}
