"""Canonical tables of the business side: CRM deals, surveys, costs, staff, teams, training and
schedules, plus the tables derived from them and the calls (attribution, cost allocation,
adherence, daily headcount).

Loaded tables keep ``source_id`` and ``line_no`` of the row they came from. Derived tables are
rebuilt by :func:`callkpi.ingest.business.attribution.refresh` after every load (of business files and,
once the lead wires it, of call records), so they always agree with what is loaded. Times are
UTC ``TIMESTAMP``; facts carry a 15-minute UTC slice number like the call tables do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from callkpi.model.schema import Table

if TYPE_CHECKING:  # pyarrow is imported when a schema is first made: opening a store needs none
    import pyarrow as pa

DEALS = Table(
    "deals",
    "CRM deals and leads, one row per deal id (a newer file replaces the rows of an older one)",
    (
        ("source_id", "BIGINT"),
        ("line_no", "BIGINT"),
        ("crm", "VARCHAR"),  # the mapping the file was read with: generic, amocrm, bitrix24, ...
        ("deal_id", "VARCHAR"),
        ("title", "VARCHAR"),
        ("status", "VARCHAR"),  # won | lost | open
        ("status_raw", "VARCHAR"),  # as written in the file
        ("amount", "DOUBLE"),
        ("currency", "VARCHAR"),
        ("created_utc", "TIMESTAMP"),
        ("closed_utc", "TIMESTAMP"),
        ("event_utc", "TIMESTAMP"),  # won/lost: the closing time (else creation); open: creation
        ("event_slice", "BIGINT"),
        ("created_slice", "BIGINT"),
        ("phones_raw", "VARCHAR"),
        ("phones_norm", "VARCHAR[]"),
        ("owner_raw", "VARCHAR"),
        ("owner", "VARCHAR"),  # the owner as an agent id (resolved through ids, names and aliases)
        ("call_id", "VARCHAR"),  # the call the CRM recorded for the deal, if any
        ("product", "VARCHAR"),
        ("campaign", "VARCHAR"),
        ("pipeline", "VARCHAR"),
    ),
)

DEAL_ATTRIBUTION = Table(
    "deal_attribution",
    "the call each deal is attributed to: its named call, else the last handled call with one of its "
    "numbers before the deal's time; the gap is kept so attribution_window_d stays a report-time parameter",
    (
        ("deal_id", "VARCHAR"),
        ("call_id", "VARCHAR"),
        ("matched_by", "VARCHAR"),  # call_id | number
        ("gap_s", "DOUBLE"),  # deal time - call start (number matches), seconds
        ("call_agent", "VARCHAR"),
        ("call_campaign", "VARCHAR"),
        ("call_queue", "VARCHAR"),
        ("call_start_utc", "TIMESTAMP"),
    ),
)

DEAL_CALLS = Table(
    "deal_calls",
    "each attributed deal with the 15-minute slice its call started in: the call's cohort (conversion and the "
    "deals by call date are timed there)",
    (
        ("deal_id", "VARCHAR"),
        ("call_id", "VARCHAR"),
        ("call_slice", "BIGINT"),
    ),
)

SURVEYS = Table(
    "surveys",
    "survey answers (IVR after the call, auto-dial campaigns, e-mail), matched to their calls",
    (
        ("source_id", "BIGINT"),
        ("line_no", "BIGINT"),
        ("survey_id", "VARCHAR"),
        ("survey_type", "VARCHAR"),  # csat (1-5) | nps (0-10) | ces (1-7)
        ("score", "DOUBLE"),
        ("comment", "VARCHAR"),
        ("call_id_given", "VARCHAR"),
        ("phone_raw", "VARCHAR"),
        ("phone_norm", "VARCHAR"),
        ("answered_utc", "TIMESTAMP"),
        ("agent_given", "VARCHAR"),
        ("call_id", "VARCHAR"),  # the matched call
        ("matched_by", "VARCHAR"),  # call_id | number_time | NULL (no call found)
        ("agent", "VARCHAR"),
        ("queue", "VARCHAR"),
        ("campaign", "VARCHAR"),
        ("slice_id", "BIGINT"),  # the matched call's start slice, else the answer's
    ),
)

COST_ITEMS = Table(
    "cost_items",
    "cost lines as loaded: agent rates and salaries, telecom tariffs, fixed monthly costs",
    (
        ("source_id", "BIGINT"),
        ("line_no", "BIGINT"),
        ("cost_type", "VARCHAR"),  # agent_hourly | agent_paid_hourly | agent_monthly | telecom_per_minute |
        # telecom_per_call | fixed_monthly | fixed_once
        ("agent_raw", "VARCHAR"),
        ("agent", "VARCHAR"),
        ("team", "VARCHAR"),
        ("direction", "VARCHAR"),  # telecom: inbound | outbound | NULL (both)
        ("amount", "DOUBLE"),
        ("currency", "VARCHAR"),
        ("description", "VARCHAR"),
        ("valid_from", "DATE"),
        ("valid_to", "DATE"),
    ),
)

COST_ALLOCATION = Table(
    "cost_allocation",
    "every cost spread onto agents and 15-minute slices: agent time x rate, salaries by day, telecom by "
    "call, fixed costs by handled call",
    (
        ("cost_type", "VARCHAR"),
        ("description", "VARCHAR"),
        ("agent", "VARCHAR"),
        ("campaign", "VARCHAR"),
        ("slice_id", "BIGINT"),
        ("amount", "DOUBLE"),
        ("currency", "VARCHAR"),  # the cost line's (null: the [money] currency, or none named)
    ),
)

LABOUR_TIME = Table(
    "labour_time",
    "the working time an agent's hourly rate is paid for, per agent, local day and 15-minute slice: presence "
    "(logged in) on days the agent has presence, else the schedule's shifts (work and breaks), else the span "
    "from the agent's first call of the local day to the end of the last one",
    (
        ("agent", "VARCHAR"),
        ("day", "DATE"),
        ("slice_id", "BIGINT"),
        ("basis", "VARCHAR"),  # presence | schedule | calls
        ("seconds", "DOUBLE"),
    ),
)

LABOUR_GAPS = Table(
    "labour_gaps",
    "agent-days with calls but no labour cost at all (no rate in the cost lines, or a rate and no working time "
    "it applies to): the cost of their scope is incomplete",
    (
        ("agent", "VARCHAR"),
        ("day", "DATE"),
        ("day_slice", "BIGINT"),
        ("reason", "VARCHAR"),  # no_rate | no_working_time
        ("calls", "BIGINT"),  # the agent's call legs that day
    ),
)

STAFF = Table(
    "staff",
    "employment records: agent id, name, team, hired, left and why",
    (
        ("source_id", "BIGINT"),
        ("line_no", "BIGINT"),
        ("agent", "VARCHAR"),
        ("name", "VARCHAR"),
        ("team", "VARCHAR"),
        ("hired", "DATE"),
        ("left_on", "DATE"),  # the separation date: not employed from this day on
        ("leave_reason", "VARCHAR"),
        ("aliases", "VARCHAR"),  # other names the agent has in other systems (CRM user name, ...)
        ("left_slice", "BIGINT"),
    ),
)

TEAMS = Table(
    "teams",
    "teams and their leads",
    (
        ("source_id", "BIGINT"),
        ("team", "VARCHAR"),
        ("lead", "VARCHAR"),
        ("description", "VARCHAR"),
    ),
)

STAFF_DAYS = Table(
    "staff_days",
    "one row per agent and local day of the data's range: employed that day or not (headcount)",
    (
        ("agent", "VARCHAR"),
        ("day", "DATE"),
        ("day_slice", "BIGINT"),
        ("employed", "INTEGER"),
    ),
)

TRAINING_EVENTS = Table(
    "training_events",
    "who took which training programme (module) when",
    (
        ("source_id", "BIGINT"),
        ("line_no", "BIGINT"),
        ("agent_raw", "VARCHAR"),
        ("agent", "VARCHAR"),
        ("programme", "VARCHAR"),
        ("module", "VARCHAR"),
        ("start_date", "DATE"),
        ("end_date", "DATE"),
    ),
)

SCHEDULES = Table(
    "schedules",
    "planned time: shifts (work) and the breaks and activities inside them",
    (
        ("source_id", "BIGINT"),
        ("line_no", "BIGINT"),
        ("agent_raw", "VARCHAR"),
        ("agent", "VARCHAR"),
        ("activity", "VARCHAR"),  # work | break | lunch | training | meeting | ... (all but work are off-queue)
        ("start_utc", "TIMESTAMP"),
        ("end_utc", "TIMESTAMP"),
    ),
)

ADHERENCE_TIME = Table(
    "adherence_time",
    "scheduled time against presence, per agent and 15-minute slice: planned work and off-queue seconds, "
    "and how much of each the agent was logged in and paused (by reason)",
    (
        ("agent", "VARCHAR"),
        ("slice_id", "BIGINT"),
        ("kind", "VARCHAR"),  # scheduled_work|scheduled_off, then work|off _logged_in|_paused (overlaps)
        ("reason", "VARCHAR"),
        ("seconds", "DOUBLE"),
    ),
)

BUSINESS_TABLES: tuple[Table, ...] = (
    DEALS,
    DEAL_ATTRIBUTION,
    DEAL_CALLS,
    SURVEYS,
    COST_ITEMS,
    COST_ALLOCATION,
    LABOUR_TIME,
    LABOUR_GAPS,
    STAFF,
    TEAMS,
    STAFF_DAYS,
    TRAINING_EVENTS,
    SCHEDULES,
    ADHERENCE_TIME,
)


@cache
def _arrow_types() -> dict[str, pa.DataType]:
    import pyarrow as pa

    return {
        "BIGINT": pa.int64(), "INTEGER": pa.int32(), "VARCHAR": pa.string(), "DOUBLE": pa.float64(),
        "TIMESTAMP": pa.timestamp("us"), "DATE": pa.date32(), "BOOLEAN": pa.bool_(),
        "VARCHAR[]": pa.list_(pa.string()),
    }


def arrow_schema(table: Table) -> pa.Schema:
    import pyarrow as pa

    types = _arrow_types()
    return pa.schema([(name, types[sql_type]) for name, sql_type in table.columns])


def arrow_records(table: Table, records: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Records (dicts named like the table's columns; others ignored) as an Arrow table of its types."""
    import pyarrow as pa

    schema = arrow_schema(table)
    return pa.table({f.name: pa.array([r.get(f.name) for r in records], f.type) for f in schema}, schema=schema)
