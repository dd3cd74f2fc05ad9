"""One agent on one page: the KPIs of a period in sections, the team beside, tenure and trainings.

Shared by `callkpi scorecard` and the web (``/agents/{id}/scorecard`` and its API and exports), so
both show the same numbers. Every KPI is a row of :func:`callkpi.metrics.engine.compute`.

Tenure has one rule everywhere: days from the hire date to the end of the period shown (``--to``),
or to the local day of the newest call loaded when the period is open, and never past the leaving
date; only a store without calls counts to today.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from callkpi.config import MetricParams
from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.data_end import data_end_utc
from callkpi.metrics.describe import describe
from callkpi.metrics.engine import KpiQuery, compute
from callkpi.queries.currency import money_currency
from callkpi.storage import Store, first_row
from callkpi.storage.business_tables import has_business_tables

SCORECARD_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("calls", ("calls_handled", "dials", "dials_answered", "transfers", "transfer_rate")),
    ("handling", ("aht_s", "att_s", "acw_s", "avg_hold_s", "calls_per_hour", "utilization", "occupancy",
                  "fcr_rate")),
    ("missed and callbacks", ("ring_no_answer", "agent_answer_rate", "connect_rate")),
    ("sales", ("deals_won", "revenue", "conversion_rate", "lead_conversion_rate", "aov", "arpc")),
    ("money", ("cost", "cost_per_call", "profit_per_call", "cost_per_sale", "roi")),
    ("customer", ("survey_responses", "survey_response_rate", "csat", "csat_mean", "nps")),
    ("quality", ("qa_reviews", "qa_coverage", "cqr", "qa_pass_rate")),
    ("people", ("adherence", "logged_in_s", "paused_s")),
)
#: Counts and sums: the team column shows them per agent of the team (rates and means are the team's own).
PER_AGENT = {"calls_handled", "dials", "dials_answered", "transfers", "ring_no_answer", "deals_won", "revenue",
             "cost", "survey_responses", "qa_reviews", "logged_in_s", "paused_s"}
SCORECARD_COLUMNS = ("section", "metric", "title", "agent", "team")


def scorecard_metrics() -> list[tuple[str, str]]:
    """(section, metric id) of every scorecard metric the registry has (QA appears once it lands)."""
    return [(section, m) for section, ids in SCORECARD_SECTIONS for m in ids if m in REGISTRY.metrics]


def agent_profile(store: Store, agent: str, as_of: date) -> dict[str, Any]:
    """Name, team, hire and leaving dates, tenure in days up to ``as_of`` (or the leaving date), trainings."""
    row = first_row(store.fetch_all("SELECT name, team FROM agents WHERE agent = ?", [agent]))
    profile: dict[str, Any] = {"agent": agent, "name": row[0] if row else None, "team": row[1] if row else None}
    if not has_business_tables(store):
        return {**profile, "hired": None, "left": None, "tenure_days": None, "trainings": []}
    spell = first_row(store.fetch_all(
        "SELECT hired, left_on, leave_reason FROM staff WHERE agent = ? ORDER BY hired DESC NULLS LAST LIMIT 1",
        [agent]))
    hired, left = (spell[0], spell[1]) if spell else (None, None)
    end = min(as_of, left) if left else as_of
    trainings = store.fetch_all(
        "SELECT programme, module, start_date, end_date FROM training_events WHERE agent = ? ORDER BY start_date",
        [agent])
    return {
        **profile,
        "hired": hired.isoformat() if hired else None,
        "left": left.isoformat() if left else None,
        "tenure_days": (end - hired).days if hired else None,
        "trainings": [{"programme": p, "module": m, "start": s.isoformat(), "end": e.isoformat()}
                      for p, m, s, e in trainings],
    }


def tenure_end(store: Store, date_to: date | None, timezone: str) -> date:
    """The day tenure is counted to: the period's last day, else the local day of the newest call, else today."""
    if date_to is not None:
        return date_to
    newest = data_end_utc(store)
    if newest is None:
        return datetime.now(UTC).date()
    return newest.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).date()


def known_agent(store: Store, agent: str) -> bool:
    """The agent is in the agents list or was offered a call."""
    row = first_row(store.fetch_all(
        "SELECT (SELECT count(*) FROM agents WHERE agent = ?) + (SELECT count(*) FROM agent_legs WHERE agent = ?) > 0",
        [agent, agent]))
    return bool(row and row[0])


def _team_size(store: Store, team: str) -> int:
    row = first_row(store.fetch_all("SELECT count(*) FROM agents WHERE team = ?", [team]))
    return int(row[0]) if row else 0


def _first(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return rows[0] if rows else {}


def agent_scorecard(store: Store, agent: str, params: MetricParams, *, date_from: date | None = None,
                    date_to: date | None = None) -> dict[str, Any]:
    """Everything about one agent in one period, with the team's values beside."""
    wanted = scorecard_metrics()
    ids = tuple(m for _, m in wanted)
    profile = agent_profile(store, agent, tenure_end(store, date_to, params.timezone))
    query = KpiQuery(date_from=date_from, date_to=date_to, filters={"agent": (agent,)}, metrics=ids, params=params)
    mine = compute(store, query)
    team_values: dict[str, Any] = {}
    size = 0
    if profile["team"]:
        size = _team_size(store, profile["team"])
        team_query = KpiQuery(date_from=date_from, date_to=date_to, filters={"team": (profile["team"],)},
                              metrics=ids, params=params)
        team_values = _first(compute(store, team_query).rows)
    own = _first(mine.rows)
    rows = []
    for section, metric_id in wanted:
        team_value = team_values.get(metric_id)
        if metric_id in PER_AGENT and team_value is not None:
            team_value = team_value / size if size else None
        rows.append({"section": section, "metric": metric_id, "title": REGISTRY.metrics[metric_id].title["en"],
                     "agent": own.get(metric_id), "team": team_value})
    return {"profile": profile, "period": {"from": _iso(date_from), "to": _iso(date_to)}, "team_agents": size,
            "currency": money_currency(store), "rows": rows, "notes": mine.notes,
            "definitions": [describe(REGISTRY.metrics[m], params) for m in ids]}


def export_rows(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The scorecard as one sheet: the profile first (section ``agent``), then the KPI rows."""
    head = [{"section": "agent", "metric": key, "title": key, "agent": _plain(value), "team": None}
            for key, value in card["profile"].items()]
    return [*head, *card["rows"]]


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(f"{t['programme']} {t['start']}" for t in value)
    return value


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
