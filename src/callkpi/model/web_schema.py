"""Tables the web surface and the alerts own: users, API tokens, targets, marks on calls, the
server's settings, and the alert history.

They live in the same store as the canonical tables and are created with
:func:`callkpi.queries.web_tables.ensure_web_schema`; nothing in the metric engine reads them.
"""

from __future__ import annotations

from callkpi.model.schema import Table

USERS = Table(
    "web_users",
    "people who may open the dashboard or call the API",
    (
        ("username", "VARCHAR"),
        ("password_hash", "VARCHAR"),  # argon2id
        ("role", "VARCHAR"),  # admin | supervisor | agent
        ("agent", "VARCHAR"),  # the agent id an agent user is
        ("queues", "VARCHAR"),  # comma list a supervisor sees; empty: all
        ("teams", "VARCHAR"),  # comma list a supervisor sees; empty: all
        ("lang", "VARCHAR"),
        ("disabled", "BOOLEAN"),
        ("created_utc", "TIMESTAMP"),
    ),
    ("username",),
)

API_TOKENS = Table(
    "web_api_tokens",
    "bearer tokens for /api/v1; only a SHA-256 of each token is kept",
    (
        ("token_sha256", "VARCHAR"),
        ("username", "VARCHAR"),
        ("label", "VARCHAR"),
        ("created_utc", "TIMESTAMP"),
    ),
    ("token_sha256",),
)

TARGETS = Table(
    "web_targets",
    "per-queue / per-team / overall targets behind the traffic-light colours",
    (
        ("scope", "VARCHAR"),  # all | queue | team
        ("scope_value", "VARCHAR"),  # '*' for all
        ("metric", "VARCHAR"),
        ("target", "DOUBLE"),  # meets the target: green
        ("warn", "DOUBLE"),  # between target and warn: amber; beyond: red
        ("updated_by", "VARCHAR"),
        ("updated_utc", "TIMESTAMP"),
    ),
    ("scope", "scope_value", "metric"),
)

CALL_MARKS = Table(
    "web_call_marks",
    "missed calls somebody marked as handled in the worklist",
    (
        ("call_id", "VARCHAR"),
        ("handled_by", "VARCHAR"),
        ("handled_utc", "TIMESTAMP"),
        ("note", "VARCHAR"),
    ),
    ("call_id",),
)

WEB_SETTINGS = Table(
    "web_settings",
    "the web server's own settings (the cookie-signing secret)",
    (("key", "VARCHAR"), ("value", "VARCHAR")),
    ("key",),
)

ALERT_EVENTS = Table(
    "alert_events",
    "alerts that fired (a KPI beyond its target's warning level) and when they resolved",
    (
        ("alert_key", "VARCHAR"),  # scope:scope_value:metric:window
        ("metric", "VARCHAR"),
        ("scope", "VARCHAR"),  # all | queue | team
        ("scope_value", "VARCHAR"),
        ("window", "VARCHAR"),  # today | interval
        ("period", "VARCHAR"),  # the local day or interval start the alert is about
        ("fired_utc", "TIMESTAMP"),
        ("resolved_utc", "TIMESTAMP"),
        ("value", "DOUBLE"),  # when it fired
        ("last_value", "DOUBLE"),
        ("target", "DOUBLE"),
        ("warn", "DOUBLE"),
        ("calls", "BIGINT"),
    ),
    ("alert_key", "fired_utc"),
)

WEB_TABLES: tuple[Table, ...] = (USERS, API_TOKENS, TARGETS, CALL_MARKS, WEB_SETTINGS)
ALERT_TABLES: tuple[Table, ...] = (ALERT_EVENTS,)

SCHEDULES = Table(
    "report_schedules",
    "reports e-mailed on a schedule (`callkpi schedule add`, /admin/schedules)",
    (
        ("schedule_id", "BIGINT"),
        ("every", "VARCHAR"),  # "mon 09:00", "daily 07:30", "monthly 1 08:00" in the business time zone
        ("report", "VARCHAR"),  # overview | agents | sales | qa | scorecard
        ("period", "VARCHAR"),  # last-day | last-week | last-7-days | last-month | last-30-days
        ("format", "VARCHAR"),  # pdf | xlsx
        ("recipients", "VARCHAR"),  # comma list
        ("queues", "VARCHAR"),  # comma list; empty: all
        ("agent", "VARCHAR"),  # the scorecard's agent
        ("lang", "VARCHAR"),
        ("created_by", "VARCHAR"),
        ("created_utc", "TIMESTAMP"),
        ("last_slot", "VARCHAR"),  # the local date and time of the last slot that ran (ISO, no zone)
    ),
    ("schedule_id",),
)

SCHEDULE_RUNS = Table(
    "report_schedule_runs",
    "each scheduled report sent or tried: status, attempts, the last error and when to retry",
    (
        ("schedule_id", "BIGINT"),
        ("slot", "VARCHAR"),  # the schedule's local slot, or "now:<utc>" for run-now
        ("status", "VARCHAR"),  # sent | failed | gave_up
        ("attempts", "INTEGER"),
        ("error", "VARCHAR"),
        ("first_utc", "TIMESTAMP"),
        ("last_utc", "TIMESTAMP"),
        ("next_retry_utc", "TIMESTAMP"),
        ("date_from", "DATE"),
        ("date_to", "DATE"),
        ("bytes", "BIGINT"),
    ),
    ("schedule_id", "slot"),
)

SCHEDULE_TABLES: tuple[Table, ...] = (SCHEDULES, SCHEDULE_RUNS)
