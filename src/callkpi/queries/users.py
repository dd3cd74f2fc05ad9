"""The web's users, API tokens and settings (tables ``web_users``, ``web_api_tokens``,
``web_settings``). Only rows in and out: hashing, checks and roles live in :mod:`callkpi.web.auth`.
Portable SQL through the store's ``fetch_all``/``execute``: the same on DuckDB and ClickHouse."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callkpi.storage import Store

_USER_COLUMNS = "username, password_hash, role, agent, queues, teams, lang, disabled"


def user_row(store: Store, username: str) -> tuple[Any, ...] | None:
    """(username, password_hash, role, agent, queues, teams, lang, disabled) or None."""
    found = store.fetch_all(f"SELECT {_USER_COLUMNS} FROM web_users WHERE username = ?", [username])  # noqa: S608
    return found[0] if found else None


def user_rows(store: Store) -> list[tuple[Any, ...]]:
    return store.fetch_all(f"SELECT {_USER_COLUMNS} FROM web_users ORDER BY username")  # noqa: S608


def user_count(store: Store) -> int:
    return int(store.fetch_all("SELECT count(*) FROM web_users")[0][0])


def insert_user(store: Store, username: str, password_hash: str, role: str, agent: str | None, queues: str,
                teams: str, lang: str, created_utc: datetime) -> None:
    store.execute(
        "INSERT INTO web_users VALUES (?, ?, ?, ?, ?, ?, ?, false, ?)",
        [username, password_hash, role, agent, queues, teams, lang, created_utc],
    )


def update_password_hash(store: Store, username: str, password_hash: str) -> None:
    store.execute("UPDATE web_users SET password_hash = ? WHERE username = ?", [password_hash, username])


def update_lang(store: Store, username: str, lang: str) -> None:
    store.execute("UPDATE web_users SET lang = ? WHERE username = ?", [lang, username])


def delete_user(store: Store, username: str) -> None:
    """The user and their tokens."""
    store.execute("DELETE FROM web_api_tokens WHERE username = ?", [username])
    store.execute("DELETE FROM web_users WHERE username = ?", [username])


def insert_token(store: Store, token_sha256: str, username: str, label: str, created_utc: datetime) -> None:
    store.execute("INSERT INTO web_api_tokens VALUES (?, ?, ?, ?)",
                             [token_sha256, username, label, created_utc])


def token_owner(store: Store, token_sha256: str) -> str | None:
    found = store.fetch_all("SELECT username FROM web_api_tokens WHERE token_sha256 = ?", [token_sha256])
    return str(found[0][0]) if found else None


def delete_tokens(store: Store, username: str) -> int:
    """Delete the user's tokens; how many there were."""
    count = int(store.fetch_all("SELECT count(*) FROM web_api_tokens WHERE username = ?", [username])[0][0])
    store.execute("DELETE FROM web_api_tokens WHERE username = ?", [username])
    return count


def setting(store: Store, key: str) -> str | None:
    found = store.fetch_all("SELECT value FROM web_settings WHERE key = ?", [key])
    return str(found[0][0]) if found else None


def add_setting(store: Store, key: str, value: str) -> None:
    """Store the value unless the key has one already."""
    if setting(store, key) is None:
        store.execute("INSERT INTO web_settings VALUES (?, ?)", [key, value])
