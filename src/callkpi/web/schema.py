"""Tables the web surface owns: users, API tokens, targets, marks on calls, its own settings.

They live in the same store as the canonical tables and are created with ``Store.ensure_schema``;
nothing in the metric engine reads them.
"""

from __future__ import annotations

from callkpi.model.schema import Table
from callkpi.storage import Store

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

WEB_TABLES: tuple[Table, ...] = (USERS, API_TOKENS, TARGETS, CALL_MARKS, WEB_SETTINGS)


def ensure_web_schema(store: Store) -> None:
    store.ensure_schema(WEB_TABLES)
