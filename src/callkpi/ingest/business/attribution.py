"""Deal -> call attribution, survey -> call matching, and the refresh of everything derived from
business data and calls.

Attribution (metrics.md): a deal names its call, or else it goes to the last handled call with
one of the deal's customer numbers within ``attribution_window_d`` before the deal was won; the
deal's agent is that call's agent unless the deal names an owner.

What is stored (``deal_attribution``): one candidate call per deal, the named call when it is in
the loaded calls (by call id, or by a CDR leg's uniqueid), else the *last* handled call with one of
its numbers before the deal's time, with the gap in seconds. Because no handled call with those
numbers lies between that call and the deal, "is there one within the window?" is "gap <= window",
so ``attribution_window_d`` stays a report-time parameter (:mod:`callkpi.metrics.catalogue.business`
applies it). A handled call is an answered inbound or outbound call with an agent; the customer
number is the caller of inbound calls and the callee of outbound ones. The deal's time is its
closing time when won or lost (its creation time when the CRM gave no closing time), else its
creation time.

Surveys: an answer that names a known call is matched to it; otherwise to the last answered call
with the answer's number that started before the answer, at most ``SURVEY_MATCH_WINDOW_H`` hours
earlier. The survey's agent is the call's agent (else the agent the survey file names).

:func:`refresh` runs at the end of every business import (inside its transaction) and should run
after every call import too (see docs/business.md); ``callkpi relink`` runs it by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa

from callkpi.config import Settings, effective_params
from callkpi.ingest.business import costs, schedules, staff
from callkpi.ingest.business.agents import refresh_agent_lookup, resolved_agent_sql
from callkpi.metrics.calendar import local_midnight_slice
from callkpi.model.working_tables import BUSINESS_DAYS
from callkpi.storage import Store, first_row
from callkpi.storage.business_tables import ensure_business_schema, has_business_tables

SURVEY_MATCH_WINDOW_H = 168
MAX_DAYS = 3660  # the day calendar of headcount and cost allocation covers at most about ten years


def refresh(store: Store, settings: Settings | None = None) -> None:
    """Rebuild every table derived from business data (call it inside the import's transaction)."""
    if not has_business_tables(store):
        if store.read_only:
            return
        ensure_business_schema(store)
    staff.update_agents(store)
    refresh_agent_lookup(store, settings)
    _resolve_agents(store)
    _build_days(store, business_timezone(store, settings))
    staff.rebuild_staff_days(store)
    attribute_deals(store)
    match_surveys(store)
    schedules.rebuild_adherence(store)
    costs.allocate(store)


def has_business_data(store: Store) -> bool:
    """Any business file loaded (the call importers refresh only then, to stay fast without one)."""
    if not has_business_tables(store):
        return False
    return any(store.has_rows(name) for name in ("deals", "surveys", "cost_items", "staff", "training_events",
                                                 "schedules"))


def business_timezone(store: Store, settings: Settings | None) -> str:
    """The zone days and months are cut in: the settings' when set, else the store's, else UTC."""
    return effective_params(settings or Settings(), store.get_meta("timezone")).timezone


def _resolve_agents(store: Store) -> None:
    con = store.connection
    con.execute(f"UPDATE deals SET owner = {resolved_agent_sql('owner_raw')}")  # noqa: S608 - fixed SQL
    for table in ("training_events", "schedules", "cost_items"):
        con.execute(f'UPDATE "{table}" SET agent = {resolved_agent_sql("agent_raw")}')  # noqa: S608


# -- the local day calendar of the data ---------------------------------------------------------


def _bounds(store: Store, sql: str) -> tuple[date, date] | None:
    row = first_row(store.connection.execute(sql))
    if not row or row[0] is None or row[1] is None:
        return None
    return row[0], row[1]


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.replace(tzinfo=UTC).astimezone(zone).date()


def _build_days(store: Store, timezone: str) -> None:
    """TEMP ``biz_days``: every local day of the whole months the call data spans (the staff dates when
    no calls are loaded; at most ``MAX_DAYS``), its slices, its month and whether call data covers it."""
    zone = ZoneInfo(timezone)
    data = _bounds(store, """
        SELECT min(lo), max(hi) FROM (
            SELECT min(start_utc) AS lo, max(coalesce(end_utc, start_utc)) AS hi FROM calls
            UNION ALL SELECT min(start_utc), max(end_utc) FROM agent_states
            UNION ALL SELECT min(start_utc), max(end_utc) FROM schedules)
    """)
    data_days = (_local_day(data[0], zone), _local_day(data[1], zone)) if data else None
    span = data_days or _bounds(store, "SELECT min(least(hired, left_on)), max(greatest(hired, left_on)) FROM staff")
    days: list[date] = []
    if span:
        first, last = span[0].replace(day=1), span[1]
        last = last.replace(day=_month_days(last))
        first = max(first, (last - timedelta(days=MAX_DAYS)).replace(day=1))
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    covered = [data_days is not None and data_days[0] <= d <= data_days[1] for d in days]
    table = pa.table({
        "day": pa.array(days, pa.date32()),
        "first_slice": pa.array([local_midnight_slice(d, timezone) for d in days], pa.int64()),
        "end_slice": pa.array([local_midnight_slice(d + timedelta(days=1), timezone) for d in days], pa.int64()),
        "month": pa.array([f"{d.year:04d}-{d.month:02d}" for d in days], pa.string()),
        "month_days": pa.array([_month_days(d) for d in days], pa.int64()),
        "in_data": pa.array(covered, pa.bool_()),
    })
    store.create_working_table(BUSINESS_DAYS, empty=True)
    store.append_arrow("biz_days", table)


def _month_days(day: date) -> int:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (following - day.replace(day=1)).days


# -- deals ------------------------------------------------------------------------------------

# A call id a deal or survey names: a call's id, or the uniqueid of one of its CDR legs.
_NAMED_CALL = """
    SELECT DISTINCT n.key, coalesce(c.call_id, r.call_key) AS call_id
    FROM ({keys}) n
    LEFT JOIN (SELECT DISTINCT call_id FROM calls) c ON c.call_id = n.key
    LEFT JOIN (SELECT DISTINCT leg_key, call_key FROM cdr_records WHERE leg_key IS NOT NULL) r ON r.leg_key = n.key
    WHERE coalesce(c.call_id, r.call_key) IS NOT NULL
"""

_HANDLED_CALLS = """
    SELECT call_id, start_utc, start_slice, agent, campaign, queue,
        CASE WHEN direction = 'outbound' THEN callee_norm ELSE caller_norm END AS number
    FROM calls
    WHERE answered AND agent IS NOT NULL AND direction IN ('inbound', 'outbound')
"""


def attribute_deals(store: Store) -> None:
    """Rebuild ``deal_attribution`` (see the module docstring) and ``deal_calls`` (each deal's call slice)."""
    con = store.connection
    con.execute("DELETE FROM deal_attribution")
    named = _NAMED_CALL.format(keys="SELECT DISTINCT call_id AS key FROM deals WHERE call_id IS NOT NULL")
    con.execute(
        f"""
        INSERT INTO deal_attribution
        SELECT d.deal_id, c.call_id, 'call_id', epoch(d.event_utc) - epoch(c.start_utc),
               c.agent, c.campaign, c.queue, c.start_utc
        FROM deals d JOIN ({named}) n ON n.key = d.call_id JOIN calls c ON c.call_id = n.call_id
        QUALIFY row_number() OVER (PARTITION BY d.deal_id ORDER BY c.answered DESC, c.source) = 1
        """  # noqa: S608 - fixed SQL of this module
    )
    con.execute(
        f"""
        INSERT INTO deal_attribution
        WITH wanted AS (
            SELECT deal_id, event_utc, unnest(phones_norm) AS number FROM deals
            WHERE phones_norm IS NOT NULL AND event_utc IS NOT NULL
              AND deal_id NOT IN (SELECT deal_id FROM deal_attribution)
        ), handled AS ({_HANDLED_CALLS})
        SELECT w.deal_id, h.call_id, 'number', epoch(w.event_utc) - epoch(h.start_utc),
               h.agent, h.campaign, h.queue, h.start_utc
        FROM wanted w ASOF JOIN handled h ON w.number = h.number AND w.event_utc >= h.start_utc
        QUALIFY row_number() OVER (PARTITION BY w.deal_id ORDER BY h.start_utc DESC, h.call_id) = 1
        """  # noqa: S608 - fixed SQL of this module
    )
    con.execute("DELETE FROM deal_calls")
    con.execute("INSERT INTO deal_calls SELECT deal_id, call_id, CAST(floor(epoch(call_start_utc) / 900) AS BIGINT) "
                "FROM deal_attribution WHERE call_start_utc IS NOT NULL")


# -- surveys ----------------------------------------------------------------------------------


def match_surveys(store: Store) -> None:
    """Fill the matched call, agent, queue, campaign and slice of every survey answer."""
    con = store.connection
    named = _NAMED_CALL.format(keys="SELECT DISTINCT call_id_given AS key FROM surveys WHERE call_id_given IS NOT NULL")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE biz_survey_match AS
        WITH by_id AS (
            SELECT s.source_id, s.line_no, n.call_id, 'call_id' AS matched_by
            FROM surveys s JOIN ({named}) n ON n.key = s.call_id_given
        ), wanted AS (
            SELECT source_id, line_no, phone_norm AS number, answered_utc FROM surveys s
            WHERE phone_norm IS NOT NULL AND answered_utc IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM by_id b WHERE b.source_id = s.source_id AND b.line_no = s.line_no)
        ), answered AS (
            SELECT call_id, start_utc,
                CASE WHEN direction = 'outbound' THEN callee_norm ELSE caller_norm END AS number
            FROM calls WHERE answered AND direction IN ('inbound', 'outbound')
        ), by_number AS (
            SELECT w.source_id, w.line_no, a.call_id, 'number_time' AS matched_by
            FROM wanted w ASOF JOIN answered a ON w.number = a.number AND w.answered_utc >= a.start_utc
            WHERE epoch(w.answered_utc) - epoch(a.start_utc) <= {SURVEY_MATCH_WINDOW_H * 3600}
        ), matched AS (SELECT * FROM by_id UNION ALL SELECT * FROM by_number)
        SELECT m.*, c.agent, c.queue, c.campaign, c.start_slice
        FROM matched m JOIN calls c ON c.call_id = m.call_id
        QUALIFY row_number() OVER (PARTITION BY m.source_id, m.line_no ORDER BY c.answered DESC, c.source) = 1
        """  # noqa: S608 - fixed SQL of this module
    )
    con.execute(
        f"""
        UPDATE surveys SET call_id = m.call_id, matched_by = m.matched_by, queue = m.queue,
            campaign = m.campaign, slice_id = m.start_slice,
            agent = coalesce(m.agent, {resolved_agent_sql('surveys.agent_given')})
        FROM biz_survey_match m WHERE surveys.source_id = m.source_id AND surveys.line_no = m.line_no
        """  # noqa: S608 - fixed SQL of this module
    )
    con.execute(
        f"""
        UPDATE surveys SET call_id = NULL, matched_by = NULL, queue = NULL, campaign = NULL,
            slice_id = CAST(floor(epoch(answered_utc) / 900) AS BIGINT),
            agent = {resolved_agent_sql('surveys.agent_given')}
        WHERE NOT EXISTS (SELECT 1 FROM biz_survey_match m
                          WHERE m.source_id = surveys.source_id AND m.line_no = surveys.line_no)
        """  # noqa: S608 - fixed SQL of this module
    )
