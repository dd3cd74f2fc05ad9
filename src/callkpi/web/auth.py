"""Users, roles, passwords (argon2id) and API tokens.

Roles:
- ``admin``: everything, plus users, settings and targets;
- ``supervisor``: the queues and teams named on the user (all when none are named);
- ``agent``: only their own agent id; caller numbers are masked.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from callkpi.storage import Store, first_row

Role = Literal["admin", "supervisor", "agent"]
ROLES: tuple[Role, ...] = ("admin", "supervisor", "agent")
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 8
TOKEN_PREFIX = "ck_"

_hasher = PasswordHasher()  # argon2id, 64 MiB, 3 passes: memory-hard
_DUMMY_HASH = _hasher.hash("not a password of anybody")


class AuthError(ValueError):
    """A user or token request that cannot be done (bad name, unknown user...)."""


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    agent: str | None = None
    queues: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    lang: str = "en"
    disabled: bool = False
    password_hash: str = ""

    @property
    def fingerprint(self) -> str:
        """Changes when the password changes, so old sessions end."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def _user_from_row(row: tuple) -> User:
    username, password_hash, role, agent, queues, teams, lang, disabled = row
    return User(
        username=username,
        role=role,
        agent=agent or None,
        queues=_split(queues),
        teams=_split(teams),
        lang=lang or "en",
        disabled=bool(disabled),
        password_hash=password_hash,
    )


_USER_COLUMNS = "username, password_hash, role, agent, queues, teams, lang, disabled"


def get_user(store: Store, username: str) -> User | None:
    row = first_row(
        store.connection.execute(f"SELECT {_USER_COLUMNS} FROM web_users WHERE username = ?", [username])  # noqa: S608
    )
    return _user_from_row(row) if row else None


def list_users(store: Store) -> list[User]:
    rows = store.connection.execute(f"SELECT {_USER_COLUMNS} FROM web_users ORDER BY username").fetchall()  # noqa: S608
    return [_user_from_row(row) for row in rows]


def count_users(store: Store) -> int:
    row = first_row(store.connection.execute("SELECT count(*) FROM web_users"))
    return int(row[0]) if row else 0


def validate_user(username: str, role: str, agent: str | None) -> None:
    if not USERNAME.match(username):
        raise AuthError("user names are 1-64 letters, digits and _ . @ -")
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}")
    if role == "agent" and not agent:
        raise AuthError("an agent user needs --agent ID (the agent id in the phone records)")


def create_user(
    store: Store,
    username: str,
    password: str,
    role: str,
    *,
    agent: str | None = None,
    queues: tuple[str, ...] = (),
    teams: tuple[str, ...] = (),
    lang: str = "en",
) -> User:
    validate_user(username, role, agent)
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"passwords have at least {MIN_PASSWORD} characters")
    if get_user(store, username) is not None:
        raise AuthError(f"user {username!r} exists")
    store.connection.execute(
        "INSERT INTO web_users VALUES (?, ?, ?, ?, ?, ?, ?, false, ?)",
        [username, _hasher.hash(password), role, agent or None, ",".join(queues), ",".join(teams), lang, _now()],
    )
    user = get_user(store, username)
    assert user is not None
    return user


def set_password(store: Store, username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"passwords have at least {MIN_PASSWORD} characters")
    store.connection.execute(
        "UPDATE web_users SET password_hash = ? WHERE username = ?", [_hasher.hash(password), username]
    )


def set_lang(store: Store, username: str, lang: str) -> None:
    store.connection.execute("UPDATE web_users SET lang = ? WHERE username = ?", [lang, username])


def delete_user(store: Store, username: str) -> None:
    store.connection.execute("DELETE FROM web_api_tokens WHERE username = ?", [username])
    store.connection.execute("DELETE FROM web_users WHERE username = ?", [username])


def authenticate(store: Store, username: str, password: str) -> User | None:
    """The user when the password matches; None otherwise (in about the same time either way)."""
    user = get_user(store, username) if USERNAME.match(username or "") else None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        set_password(store, username, password)
        user = get_user(store, username)
    return user


def random_password() -> str:
    return secrets.token_urlsafe(12)


def ensure_admin(store: Store) -> str | None:
    """On a store without users create ``admin``; returns its password (to print once) or None."""
    if count_users(store) > 0:
        return None
    password = random_password()
    create_user(store, "admin", password, "admin")
    return password


# -- API tokens ------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(store: Store, username: str, label: str = "") -> str:
    """A new bearer token for the user; only its digest is stored, so show it now or never."""
    if get_user(store, username) is None:
        raise AuthError(f"no user {username!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    store.connection.execute(
        "INSERT INTO web_api_tokens VALUES (?, ?, ?, ?)", [_digest(token), username, label, _now()]
    )
    return token


def user_for_token(store: Store, token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = first_row(
        store.connection.execute("SELECT username FROM web_api_tokens WHERE token_sha256 = ?", [_digest(token)])
    )
    if row is None:
        return None
    user = get_user(store, row[0])
    return None if user is None or user.disabled else user


def revoke_tokens(store: Store, username: str) -> int:
    row = first_row(store.connection.execute("SELECT count(*) FROM web_api_tokens WHERE username = ?", [username]))
    store.connection.execute("DELETE FROM web_api_tokens WHERE username = ?", [username])
    return int(row[0]) if row else 0


# -- the cookie-signing secret ---------------------------------------------------------------


def signing_secret(store: Store) -> str:
    row = first_row(store.connection.execute("SELECT value FROM web_settings WHERE key = 'secret'"))
    if row:
        return str(row[0])
    secret = secrets.token_urlsafe(48)
    store.connection.execute("INSERT OR IGNORE INTO web_settings VALUES ('secret', ?)", [secret])
    row = first_row(store.connection.execute("SELECT value FROM web_settings WHERE key = 'secret'"))
    return str(row[0]) if row else secret
