"""Costs: agent rates and salaries, telecom tariffs, fixed costs; and how they are allocated.

Cost types (column ``cost_type``; Russian spellings in :mod:`callkpi.ingest.business.layouts`):

* ``agent_hourly`` — money per hour of the agent's known working time (``labour_time``), per agent and
  local day from the first source that has it: presence (logged in, from queue_log or the PBX's agent
  states) on days the agent has presence; else the schedule's shifts (work and breaks inside them); else
  the agent's call activity: from the first call offered to or dialled by the agent that local day to the
  end of the last one (outbound teams seen only in the CDR);
* ``agent_paid_hourly`` — money per scheduled (paid) hour from the schedules;
* ``agent_monthly`` — a monthly salary, spread over the calendar days the agent is employed;
* ``telecom_per_minute`` — per billed minute: inbound calls from start to end (the trunk is held from
  the IVR's answer), outbound calls from answer to end;
* ``telecom_per_call`` — per answered external call;
* ``fixed_monthly`` — rent, licences, management: each month's amount (pro rata to the days of
  that month the data covers) shared equally by the month's handled calls;
* ``fixed_once`` — the same for one amount in the month of ``valid_from``.

``agent``, ``team`` and ``direction`` narrow a line (an agent's own rate wins over the team's,
which wins over a line for everyone); ``valid_from``/``valid_to`` bound it in time (days in the
business time zone). :func:`allocate` spreads everything onto agents and 15-minute slices
(``cost_allocation``); the ``cost`` KPI sums that table.

An agent-day with calls but no labour cost at all (no rate line applies to the agent, or only a rate
whose time is unknown, such as a paid-hours rate without a schedule) is kept in ``labour_gaps``: the
``agents_uncosted`` KPI counts those agents, so a cost that leaves people out says so instead of
looking cheaper.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from callkpi.ingest.base import ImportReport
from callkpi.ingest.business.currencies import currency_of, normalise_currency
from callkpi.ingest.business.rows import ParseContext, Row, RowError, delete_source_rows
from callkpi.ingest.business.values import parse_amount, parse_day
from callkpi.model.business_schema import COST_ITEMS, arrow_records
from callkpi.storage import Store, first_row

DIRECTIONS = {"inbound": "inbound", "in": "inbound", "входящий": "inbound", "входящие": "inbound",
              "outbound": "outbound", "out": "outbound", "исходящий": "outbound", "исходящие": "outbound"}


def parse_row(row: Row, ctx: ParseContext) -> dict[str, Any]:
    cost_type = row.choice("cost_type")
    if cost_type is None:
        raise RowError("empty cost_type")
    amount_cell = row.get("amount")
    amount = parse_amount(amount_cell, ctx.mapping.decimal)
    if amount is None:
        raise RowError("empty amount")
    if amount < 0:
        raise RowError(f"negative amount {amount_cell!r}")
    valid_from = parse_day(row.get("valid_from"), ctx.mapping, "valid_from")
    valid_to = _last_day(row.get("valid_to"), parse_day(row.get("valid_to"), ctx.mapping, "valid_to"))
    if valid_from and valid_to and valid_to < valid_from:
        raise RowError(f"valid_to {valid_to} is before valid_from {valid_from}")
    return {
        "cost_type": cost_type,
        "agent_raw": row.text("agent"),
        "agent": None,
        "team": row.text("team"),
        "direction": _direction(row.text("direction")),
        "amount": amount,
        "currency": (normalise_currency(row.text("currency")) or currency_of(amount_cell)
                     or ctx.settings.money.currency or None),
        "description": row.text("description"),
        "valid_from": valid_from,
        "valid_to": valid_to,
    }


def _last_day(cell: object, day: date | None) -> date | None:
    """``2026-03`` as an end means the month's last day."""
    if day is not None and isinstance(cell, str) and re.fullmatch(r"\s*\d{4}-\d{2}\s*", cell):
        return day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return day


def _direction(value: str | None) -> str | None:
    if value is None or value.strip().lower() in ("", "both", "all", "any", "все"):
        return None
    try:
        return DIRECTIONS[value.strip().lower()]
    except KeyError:
        raise RowError(f"direction {value!r} is not inbound or outbound") from None


def duplicate_key(record: dict[str, Any]) -> object:
    return tuple(record[k] for k in ("cost_type", "agent_raw", "team", "direction", "amount", "currency",
                                     "description", "valid_from", "valid_to"))


def describe_key(key: object) -> str:
    assert isinstance(key, tuple)
    return f"the same {key[0]} line"


def forget_source(store: Store, kind: str, source_id: int) -> None:
    delete_source_rows(store, "cost_items", source_id)


_SAME_LINE = """
    c.source_id = ? AND EXISTS (SELECT 1 FROM cost_items o WHERE o.source_id <> c.source_id
        AND o.cost_type = c.cost_type AND o.amount = c.amount
        AND o.agent_raw IS NOT DISTINCT FROM c.agent_raw AND o.team IS NOT DISTINCT FROM c.team
        AND o.direction IS NOT DISTINCT FROM c.direction AND o.currency IS NOT DISTINCT FROM c.currency
        AND o.description IS NOT DISTINCT FROM c.description
        AND o.valid_from IS NOT DISTINCT FROM c.valid_from AND o.valid_to IS NOT DISTINCT FROM c.valid_to)
"""


def store_records(store: Store, kind: str, source_id: int, records: Sequence[dict[str, Any]],
                  report: ImportReport) -> None:
    store.append_arrow("cost_items", arrow_records(COST_ITEMS, records))
    row = first_row(store.connection.execute(f"SELECT count(*) FROM cost_items c WHERE {_SAME_LINE}", [source_id]))  # noqa: S608
    if row and row[0]:
        store.connection.execute(f"DELETE FROM cost_items c WHERE {_SAME_LINE}", [source_id])  # noqa: S608
        report.messages.append(f"{row[0]} cost line(s) were already loaded from another file; counted once")
    currencies = {r["currency"] for r in records if r["currency"]}
    if len(currencies) > 1:
        report.messages.append(f"several currencies ({', '.join(sorted(currencies))}): amounts in different "
                               "currencies are never added (cost figures over them are null: mixed currencies)")


# -- allocation ------------------------------------------------------------------------------

# Scope of a cost line for an agent `a` (agents a joined as `ag`): its own line, its team's, everyone's.
_SCOPE = "(c.agent = {a} OR (c.agent IS NULL AND (c.team IS NULL OR c.team = ag.team)))"
_SPECIFIC = ("CASE WHEN c.agent IS NOT NULL THEN 0 WHEN c.team IS NOT NULL THEN 1 ELSE 2 END, "
             "c.valid_from DESC NULLS LAST")
_VALID = "(c.valid_from IS NULL OR {day} >= c.valid_from) AND (c.valid_to IS NULL OR {day} <= c.valid_to)"


def allocate(store: Store) -> None:
    """Rebuild ``cost_allocation`` from ``cost_items`` and what is loaded (needs the TEMP table
    ``biz_days(day, first_slice, end_slice, month, month_days, in_data)`` of
    :mod:`callkpi.ingest.business.attribution`: only days the call data covers carry costs)."""
    con = store.connection
    for table in ("cost_allocation", "labour_time", "labour_gaps"):
        con.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
    if not store.has_rows("cost_items"):
        return
    _labour_time(store)
    _agent_time_costs(store, "agent_hourly", "SELECT agent, slice_id, seconds FROM labour_time")
    _agent_time_costs(store, "agent_paid_hourly",
                      "SELECT agent, slice_id, seconds FROM adherence_time "
                      "WHERE kind IN ('scheduled_work', 'scheduled_off')")
    _salaries(store)
    _telecom(store)
    _fixed(store)
    _labour_gaps(store)


LABOUR_TYPES = ("agent_hourly", "agent_paid_hourly", "agent_monthly")

# Every agent leg (offered, answered or dialled) as an activity span: from the offer to the end of the
# talk (answered) or of the ringing (not answered); epoch seconds.
_LEG_SPANS = """
    SELECT agent, epoch(offer_utc) AS s,
        CASE WHEN answer_utc IS NOT NULL THEN epoch(answer_utc) + coalesce(talk_s, 0)
             ELSE epoch(offer_utc) + coalesce(ring_s, 0) END AS e
    FROM agent_legs WHERE agent IS NOT NULL AND offer_utc IS NOT NULL
"""
_IN_DAY = "{slice} >= d.first_slice AND {slice} < d.end_slice"


def _labour_time(store: Store) -> None:
    """Rebuild ``labour_time``: per agent and local day, presence, else the schedule, else call activity."""
    con = store.connection
    in_day = _IN_DAY.format(slice="t.slice_id")
    con.execute(
        f"""
        INSERT INTO labour_time
        WITH presence AS (
            SELECT t.agent, d.day, t.slice_id, sum(t.seconds) AS seconds
            FROM agent_time t JOIN biz_days d ON {in_day}
            WHERE t.state = 'logged_in' AND t.agent IS NOT NULL GROUP BY ALL
        ), planned AS (
            SELECT t.agent, d.day, t.slice_id, sum(t.seconds) AS seconds
            FROM adherence_time t JOIN biz_days d ON {in_day}
            WHERE t.kind IN ('scheduled_work', 'scheduled_off') GROUP BY ALL
        ), spans AS (
            SELECT l.agent, d.day, min(l.s) AS s, max(greatest(l.e, l.s)) AS e
            FROM ({_LEG_SPANS}) l JOIN biz_days d ON {_IN_DAY.format(slice="floor(l.s / 900)")}
            GROUP BY ALL
        ), activity AS (
            SELECT agent, day, sl AS slice_id, least(e, (sl + 1) * 900) - greatest(s, sl * 900) AS seconds
            FROM (SELECT *, unnest(generate_series(floor(s / 900)::BIGINT, ceil(e / 900)::BIGINT - 1)) AS sl
                  FROM spans WHERE e > s)
        ), presence_days AS (SELECT DISTINCT agent, day FROM presence),
        planned_days AS (SELECT DISTINCT agent, day FROM planned)
        SELECT agent, day, slice_id, 'presence', seconds FROM presence
        UNION ALL
        SELECT p.agent, p.day, p.slice_id, 'schedule', p.seconds FROM planned p
        ANTI JOIN presence_days x ON x.agent = p.agent AND x.day = p.day
        UNION ALL
        SELECT a.agent, a.day, a.slice_id, 'calls', a.seconds FROM activity a
        ANTI JOIN presence_days x ON x.agent = a.agent AND x.day = a.day
        ANTI JOIN planned_days y ON y.agent = a.agent AND y.day = a.day
        WHERE a.seconds > 0
        """  # noqa: S608 - fixed SQL of this module
    )


def _labour_gaps(store: Store) -> None:
    """Rebuild ``labour_gaps``: agent-days with call legs and no labour cost allocated."""
    con = store.connection
    scope = _SCOPE.format(a="a.agent")
    valid = _VALID.format(day="a.day")
    types = ", ".join(f"'{t}'" for t in LABOUR_TYPES)
    con.execute(
        f"""
        INSERT INTO labour_gaps
        WITH active AS (
            SELECT l.agent, d.day, d.first_slice, count(*) AS legs
            FROM agent_legs l JOIN biz_days d ON {_IN_DAY.format(slice="l.offer_slice")}
            WHERE l.agent IS NOT NULL GROUP BY ALL
        ), costed AS (
            SELECT DISTINCT c.agent, d.day
            FROM cost_allocation c JOIN biz_days d ON {_IN_DAY.format(slice="c.slice_id")}
            WHERE c.cost_type IN ({types}) AND c.agent IS NOT NULL
        )
        SELECT a.agent, a.day, a.first_slice,
            CASE WHEN EXISTS (SELECT 1 FROM cost_items c WHERE c.cost_type IN ({types}) AND {scope} AND {valid})
                 THEN 'no_working_time' ELSE 'no_rate' END,
            a.legs
        FROM active a LEFT JOIN agents ag ON ag.agent = a.agent
        ANTI JOIN costed k ON k.agent = a.agent AND k.day = a.day
        """  # noqa: S608 - fixed SQL of this module
    )


def _agent_time_costs(store: Store, cost_type: str, seconds_sql: str) -> None:
    scope = _SCOPE.format(a="t.agent")
    valid = _VALID.format(day="t.day")
    store.connection.execute(
        f"""
        INSERT INTO cost_allocation
        WITH t AS (SELECT agent, slice_id, sum(seconds) AS seconds FROM ({seconds_sql}) GROUP BY ALL),
        td AS (SELECT t.*, d.day FROM t JOIN biz_days d ON t.slice_id >= d.first_slice AND t.slice_id < d.end_slice)
        SELECT c.cost_type, c.description, t.agent, NULL, t.slice_id, t.seconds / 3600.0 * c.amount, c.currency
        FROM td t LEFT JOIN agents ag ON ag.agent = t.agent
        JOIN cost_items c ON c.cost_type = ? AND {scope} AND {valid}
        QUALIFY row_number() OVER (PARTITION BY t.agent, t.slice_id ORDER BY {_SPECIFIC}) = 1
        """,  # noqa: S608 - fixed SQL of this module
        [cost_type],
    )


def _salaries(store: Store) -> None:
    """A monthly salary per calendar day employed (all days of the data when no staff list names the agent)."""
    scope = _SCOPE.format(a="p.agent")
    valid = _VALID.format(day="p.day")
    store.connection.execute(
        f"""
        INSERT INTO cost_allocation
        WITH people AS (
            SELECT agent FROM agents
            UNION SELECT agent FROM cost_items WHERE cost_type = 'agent_monthly' AND agent IS NOT NULL
        ), person_days AS (
            SELECT p.agent, d.day, d.first_slice, d.month_days FROM people p CROSS JOIN biz_days d
            WHERE d.in_data AND NOT EXISTS (SELECT 1 FROM staff_days s WHERE s.agent = p.agent)
            UNION ALL
            SELECT s.agent, d.day, d.first_slice, d.month_days FROM staff_days s JOIN biz_days d USING (day)
            WHERE d.in_data AND s.employed = 1
        )
        SELECT c.cost_type, c.description, p.agent, NULL, p.first_slice, c.amount / p.month_days, c.currency
        FROM person_days p LEFT JOIN agents ag ON ag.agent = p.agent
        JOIN cost_items c ON c.cost_type = 'agent_monthly' AND {scope} AND {valid}
        QUALIFY row_number() OVER (PARTITION BY p.agent, p.day ORDER BY {_SPECIFIC}) = 1
        """  # noqa: S608 - fixed SQL of this module
    )


def _telecom(store: Store) -> None:
    scope = "(c.agent IS NULL OR c.agent = k.agent) AND (c.team IS NULL OR c.team = ag.team)"
    valid = _VALID.format(day="d.day")
    store.connection.execute(
        f"""
        INSERT INTO cost_allocation
        WITH k AS (
            SELECT call_id, agent, campaign, direction, start_slice, answered,
                CASE WHEN direction = 'inbound' THEN epoch(end_utc) - epoch(start_utc)
                     WHEN answered AND answer_utc IS NOT NULL THEN epoch(end_utc) - epoch(answer_utc)
                     ELSE 0 END AS billed_s
            FROM calls WHERE direction IN ('inbound', 'outbound') AND end_utc IS NOT NULL
        )
        SELECT c.cost_type, c.description, k.agent, k.campaign, k.start_slice,
            CASE WHEN c.cost_type = 'telecom_per_minute' THEN greatest(k.billed_s, 0) / 60.0 * c.amount
                 ELSE c.amount END,
            c.currency
        FROM k JOIN biz_days d ON k.start_slice >= d.first_slice AND k.start_slice < d.end_slice
        LEFT JOIN agents ag ON ag.agent = k.agent
        JOIN cost_items c ON c.cost_type IN ('telecom_per_minute', 'telecom_per_call')
            AND (c.direction IS NULL OR c.direction = k.direction) AND {scope} AND {valid}
            AND (c.cost_type = 'telecom_per_minute' OR k.answered)
        """  # noqa: S608 - fixed SQL of this module
    )


def _fixed(store: Store) -> None:
    """Each month's fixed amount shared equally by the handled calls of the line's scope in that month."""
    store.connection.execute(
        """
        INSERT INTO cost_allocation
        WITH months AS (
            SELECT month, min(day) AS first_day, max(day) AS last_day, min(first_slice) AS first_slice,
                   any_value(month_days) AS month_days, count(*) AS covered_days
            FROM biz_days WHERE in_data GROUP BY month
        ), lines AS (
            SELECT row_number() OVER () AS line, * FROM cost_items WHERE cost_type IN ('fixed_monthly', 'fixed_once')
        ), line_months AS (
            SELECT l.*, m.month, m.first_slice,
                CASE WHEN l.cost_type = 'fixed_once' THEN l.amount
                     ELSE l.amount * m.covered_days / m.month_days END AS month_amount
            FROM lines l JOIN months m
              ON (l.cost_type = 'fixed_monthly' AND (l.valid_from IS NULL OR m.last_day >= l.valid_from)
                                                AND (l.valid_to IS NULL OR m.first_day <= l.valid_to))
              OR (l.cost_type = 'fixed_once' AND m.month = coalesce(strftime(l.valid_from, '%Y-%m'),
                                                                     (SELECT min(month) FROM months)))
        ), legs AS (
            SELECT g.agent, g.campaign, g.offer_slice, d.month, ag.team
            FROM agent_legs g JOIN biz_days d ON g.offer_slice >= d.first_slice AND g.offer_slice < d.end_slice
            LEFT JOIN agents ag ON ag.agent = g.agent
            WHERE g.outcome = 'answered' AND g.agent IS NOT NULL
        ), shares AS (
            SELECT lm.line, lm.cost_type, lm.description, lm.month_amount, lm.currency, lm.first_slice,
                   g.agent, g.campaign, g.offer_slice,
                   count(g.agent) OVER (PARTITION BY lm.line, lm.month) AS legs_in_scope
            FROM line_months lm LEFT JOIN legs g ON g.month = lm.month
                AND (lm.agent IS NULL OR g.agent = lm.agent) AND (lm.team IS NULL OR g.team = lm.team)
        )
        SELECT cost_type, description, agent, campaign,
            CASE WHEN legs_in_scope > 0 THEN offer_slice ELSE first_slice END,
            CASE WHEN legs_in_scope > 0 THEN month_amount / legs_in_scope ELSE month_amount END,
            currency
        FROM shares
        """
    )


def unallocated_fixed(store: Store) -> float:
    """Fixed costs of months without a handled call in their scope (kept, with no agent)."""
    row = first_row(store.connection.execute(
        "SELECT coalesce(sum(amount), 0) FROM cost_allocation WHERE cost_type LIKE 'fixed%' AND agent IS NULL"))
    return float(row[0]) if row else 0.0
