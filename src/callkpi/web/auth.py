"""Users, roles, passwords (argon2id) and API tokens.

Roles:
- ``admin``: everything, plus users, settings and targets;
- ``supervisor``: the queues and teams named on the user (all when none are named);
- ``agent``: only their own agent id; caller numbers are masked.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from callkpi.queries import users as user_rows
from callkpi.storage import Store

Role = Literal["admin", "supervisor", "agent"]
ROLES: tuple[Role, ...] = ("admin", "supervisor", "agent")
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 8
TOKEN_PREFIX = "ck_"
WALLBOARD_PREFIX = "ckw_"  # a wallboard token: only the wallboard pages take it, never the API

_changes = [0]  # writes of users and tokens in this process (web/read_memo.py reads them again after one)
# Tests only: a test suite creates and signs in hundreds of users, each hash costs the full argon2id
# price below. With this variable set to 1 hashes are made at argon2id's smallest cost: weak, never
# for a real store (a store's weak hashes are made again at the full cost at the next sign-in of a
# process without the variable, as for any hash of older parameters).
TEST_CHEAP_HASHES_ENV = "CALLKPI_TEST_CHEAP_PASSWORD_HASHES"


def _password_hasher() -> PasswordHasher:
    if os.environ.get(TEST_CHEAP_HASHES_ENV) == "1":
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()  # argon2id, 64 MiB, 3 passes: memory-hard


_hasher = _password_hasher()
_DUMMY_HASH = _hasher.hash("not a password of anybody")


def changes() -> int:
    """How many times this process changed a user or a token."""
    return _changes[0]


def _changed() -> None:
    _changes[0] += 1


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


def get_user(store: Store, username: str) -> User | None:
    row = user_rows.user_row(store, username)
    return _user_from_row(row) if row else None


def list_users(store: Store) -> list[User]:
    return [_user_from_row(row) for row in user_rows.user_rows(store)]


def count_users(store: Store) -> int:
    return user_rows.user_count(store)


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
    user_rows.insert_user(store, username, _hasher.hash(password), role, agent or None, ",".join(queues),
                          ",".join(teams), lang, _now())
    _changed()
    user = get_user(store, username)
    assert user is not None
    return user


def set_password(store: Store, username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"passwords have at least {MIN_PASSWORD} characters")
    user_rows.update_password_hash(store, username, _hasher.hash(password))
    _changed()


def set_lang(store: Store, username: str, lang: str) -> None:
    user_rows.update_lang(store, username, lang)
    _changed()


def delete_user(store: Store, username: str) -> None:
    user_rows.delete_user(store, username)
    _changed()


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


def create_token(store: Store, username: str, label: str = "", *, wallboard: bool = False) -> str:
    """A new bearer token for the user; only its digest is stored, so show it now or never.
    ``wallboard``: a read-only token for a TV that opens only the wallboard (``?key=``), in the user's scope."""
    if get_user(store, username) is None:
        raise AuthError(f"no user {username!r}")
    token = (WALLBOARD_PREFIX if wallboard else TOKEN_PREFIX) + secrets.token_urlsafe(32)
    user_rows.insert_token(store, _digest(token), username, label, _now())
    _changed()
    return token


def user_for_token(store: Store, token: str) -> User | None:
    if not is_api_token(token):
        return None
    return user_for_token_digest(store, _digest(token))


def is_api_token(token: str) -> bool:
    """Whether ``token`` looks like an API token at all (no lookup)."""
    return token.startswith(TOKEN_PREFIX) and len(token) <= 200


def user_for_token_digest(store: Store, digest: str) -> User | None:
    """The enabled owner of the API token whose SHA-256 is ``digest`` (what the store keeps)."""
    owner = user_rows.token_owner(store, digest)
    if owner is None:
        return None
    user = get_user(store, owner)
    return None if user is None or user.disabled else user


def user_for_wallboard_token(store: Store, token: str) -> User | None:
    if not token.startswith(WALLBOARD_PREFIX) or len(token) > 200:
        return None
    owner = user_rows.token_owner(store, _digest(token))
    user = get_user(store, owner) if owner is not None else None
    return None if user is None or user.disabled else user


def revoke_tokens(store: Store, username: str) -> int:
    revoked = user_rows.delete_tokens(store, username)
    _changed()
    return revoked


# -- the cookie-signing secret ---------------------------------------------------------------


def signing_secret(store: Store) -> str:
    stored = user_rows.setting(store, "secret")
    if stored is not None:
        return stored
    secret = secrets.token_urlsafe(48)
    user_rows.add_setting(store, "secret", secret)
    return user_rows.setting(store, "secret") or secret
