"""The web's users, API tokens and settings (tables ``web_users``, ``web_api_tokens``,
``web_settings``). Only rows in and out: hashing, checks and roles live in :mod:`callkpi.web.auth`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callkpi.storage import Store, first_row

_USER_COLUMNS = "username, password_hash, role, agent, queues, teams, lang, disabled"


def user_row(store: Store, username: str) -> tuple[Any, ...] | None:
    """(username, password_hash, role, agent, queues, teams, lang, disabled) or None."""
    return first_row(
        store.connection.execute(f"SELECT {_USER_COLUMNS} FROM web_users WHERE username = ?", [username])  # noqa: S608
    )


def user_rows(store: Store) -> list[tuple[Any, ...]]:
    return store.connection.execute(f"SELECT {_USER_COLUMNS} FROM web_users ORDER BY username").fetchall()  # noqa: S608


def user_count(store: Store) -> int:
    row = first_row(store.connection.execute("SELECT count(*) FROM web_users"))
    return int(row[0]) if row else 0


def insert_user(store: Store, username: str, password_hash: str, role: str, agent: str | None, queues: str,
                teams: str, lang: str, created_utc: datetime) -> None:
    store.connection.execute(
        "INSERT INTO web_users VALUES (?, ?, ?, ?, ?, ?, ?, false, ?)",
        [username, password_hash, role, agent, queues, teams, lang, created_utc],
    )


def update_password_hash(store: Store, username: str, password_hash: str) -> None:
    store.connection.execute("UPDATE web_users SET password_hash = ? WHERE username = ?", [password_hash, username])


def update_lang(store: Store, username: str, lang: str) -> None:
    store.connection.execute("UPDATE web_users SET lang = ? WHERE username = ?", [lang, username])


def delete_user(store: Store, username: str) -> None:
    """The user and their tokens."""
    store.connection.execute("DELETE FROM web_api_tokens WHERE username = ?", [username])
    store.connection.execute("DELETE FROM web_users WHERE username = ?", [username])


def insert_token(store: Store, token_sha256: str, username: str, label: str, created_utc: datetime) -> None:
    store.connection.execute("INSERT INTO web_api_tokens VALUES (?, ?, ?, ?)",
                             [token_sha256, username, label, created_utc])


def token_owner(store: Store, token_sha256: str) -> str | None:
    row = first_row(
        store.connection.execute("SELECT username FROM web_api_tokens WHERE token_sha256 = ?", [token_sha256])
    )
    return str(row[0]) if row else None


def delete_tokens(store: Store, username: str) -> int:
    """Delete the user's tokens; how many there were."""
    row = first_row(store.connection.execute("SELECT count(*) FROM web_api_tokens WHERE username = ?", [username]))
    store.connection.execute("DELETE FROM web_api_tokens WHERE username = ?", [username])
    return int(row[0]) if row else 0


def setting(store: Store, key: str) -> str | None:
    row = first_row(store.connection.execute("SELECT value FROM web_settings WHERE key = ?", [key]))
    return str(row[0]) if row else None


def add_setting(store: Store, key: str, value: str) -> None:
    """Store the value unless the key has one already."""
    store.connection.execute("INSERT OR IGNORE INTO web_settings VALUES (?, ?)", [key, value])
