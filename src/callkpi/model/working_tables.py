"""Working tables: per-connection TEMP tables in which an import notes what it changed, so that
the links between calls and the KPI rollups are recomputed only where something changed.

They hold no data of their own: each import fills them inside its transaction and empties them
when it has refreshed what depends on them.
"""

from __future__ import annotations

from callkpi.model.schema import Table

CALL_LINK_NOTED_CALLS = Table(
    "call_link_noted_calls",
    "calls about to be replaced or updated: their numbers' repeat-call and callback gaps are recomputed",
    (("call_id", "VARCHAR"),),
    temporary=True,
)

CALL_LINK_NOTED_NUMBERS = Table(
    "call_link_noted_numbers",
    "the numbers of the noted calls, before and after the change",
    (("number", "VARCHAR"),),
    temporary=True,
)

ROLLUP_DIRTY = Table(
    "rollup_dirty",
    "slices of a rolled-up table whose rows changed: their rollup buckets are recomputed",
    (("tbl", "VARCHAR"), ("slice", "BIGINT")),
    temporary=True,
)

ROLLUP_TOUCHED_CALLS = Table(
    "rollup_touched_calls",
    "calls replaced or updated by this import: the buckets of their rows are recomputed",
    (("call_id", "VARCHAR"),),
    temporary=True,
)

ROLLUP_MAP = Table(
    "rollup_map",
    "the slices being recomputed, each with the rollup bucket it falls in (itself, or its local day's first slice)",
    (("map_slice", "BIGINT"), ("bucket", "BIGINT")),
    temporary=True,
)

QUEUE_LOG_NEW_CALLIDS = Table(
    "ql_new_callids",
    "queue_log call ids this import added lines to: their calls are rebuilt",
    (("callid", "VARCHAR"),),
    temporary=True,
)

QUEUE_LOG_DUPLICATE_TIMES = Table(
    "ql_duplicate_times",
    "queue_log lines of this import that repeat another file's events, with their times",
    (("line_no", "BIGINT"), ("epoch", "BIGINT")),
    temporary=True,
)

AGENT_ALIASES = Table(
    "agent_aliases",
    "the settings' agent aliases ([agents] aliases: raw name -> agent id) for the queue_log import",
    (("raw", "VARCHAR"), ("agent", "VARCHAR")),
    temporary=True,
)

CDR_AFFECTED = Table(
    "cdr_affected",
    "CDR call keys whose rows this import changed: their calls are rebuilt",
    (("call_key", "VARCHAR"),),
    temporary=True,
)

BUSINESS_ALIAS_SETTINGS = Table(
    "biz_alias_settings",
    "the settings' agent aliases, for resolving the agent names of business files",
    (("raw", "VARCHAR"), ("agent", "VARCHAR")),
    temporary=True,
)

BUSINESS_DAYS = Table(
    "biz_days",
    "the local days of the data's range: their slices, month and whether calls cover them (cost allocation)",
    (
        ("day", "DATE"),
        ("first_slice", "BIGINT"),
        ("end_slice", "BIGINT"),
        ("month", "VARCHAR"),
        ("month_days", "BIGINT"),
        ("in_data", "BOOLEAN"),
    ),
    temporary=True,
)

WORKING_TABLES: tuple[Table, ...] = (
    CALL_LINK_NOTED_CALLS,
    CALL_LINK_NOTED_NUMBERS,
    ROLLUP_DIRTY,
    ROLLUP_TOUCHED_CALLS,
    ROLLUP_MAP,
    QUEUE_LOG_NEW_CALLIDS,
    QUEUE_LOG_DUPLICATE_TIMES,
    AGENT_ALIASES,
    CDR_AFFECTED,
    BUSINESS_ALIAS_SETTINGS,
    BUSINESS_DAYS,
)
