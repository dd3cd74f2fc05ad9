"""Who is asking: signed session cookies (pages), bearer tokens (API), CSRF tokens, login throttling."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict, defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer

from callkpi.web.auth import User, get_user, is_api_token, user_for_token_digest
from callkpi.web.db import Database
from callkpi.web.features.alert_monitor import AlertMonitor
from callkpi.web.scope import Principal
from callkpi.web.watch import Watcher

SESSION_COOKIE = "callkpi_session"
LANG_COOKIE = "callkpi_lang"
SESSION_MAX_AGE_S = 12 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
SESSIONS_KEPT = 4096  # session cookies whose signature was checked, kept in memory


class NotAuthenticated(Exception):
    """No or no valid credentials (401 for the API)."""


class LoginRequired(Exception):
    """A page was opened without a session (redirect to the login page)."""


class CsrfFailed(Exception):
    """A form or htmx request without the session's CSRF token."""


class LoginThrottle:
    """At most ``limit`` failed sign-ins per client and user name in ``window_s``."""

    def __init__(self, limit: int = 10, window_s: float = 600) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures = self._failures[key]
        cutoff = time.monotonic() - self.window_s
        while failures and failures[0] < cutoff:
            failures.popleft()
        return failures

    def blocked(self, client: str, username: str) -> bool:
        with self._lock:
            return len(self._recent((client, username))) >= self.limit

    def failed(self, client: str, username: str) -> None:
        with self._lock:
            self._recent((client, username)).append(time.monotonic())

    def succeeded(self, client: str, username: str) -> None:
        with self._lock:
            self._failures.pop((client, username), None)


@dataclass
class WebState:
    db: Database
    secret: str
    templates: Jinja2Templates
    secure_cookies: bool = False
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    watcher: Watcher | None = None  # `serve --watch`: loads what is new in the watched files
    alerts: AlertMonitor | None = None  # checks the alerts in the background

    def __post_init__(self) -> None:
        self._serializer = URLSafeTimedSerializer(self.secret, salt="callkpi-session")
        # cookie value -> (its data, when it was signed): a signature is checked once per cookie,
        # not once per request; its age is checked on every request as itsdangerous checks it
        self._sessions: OrderedDict[str, tuple[dict[str, Any], int]] = OrderedDict()
        self._sessions_lock = threading.Lock()

    def check_alerts_soon(self) -> None:
        """After a change of targets: the alerts follow without waiting for the next check."""
        if self.alerts is not None:
            self.alerts.poke()

    # -- the session cookie --------------------------------------------------------------
    def read_session(self, request: Request) -> dict[str, Any] | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        with self._sessions_lock:
            known = self._sessions.get(raw)
        if known is None:
            known = self._verify(raw)
            if known is None:
                return None
        data, signed = known
        if not 0 <= int(time.time()) - signed <= SESSION_MAX_AGE_S:
            return None
        return dict(data)

    def _verify(self, raw: str) -> tuple[dict[str, Any], int] | None:
        try:
            data, signed = self._serializer.loads(raw, max_age=SESSION_MAX_AGE_S, return_timestamp=True)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        known = (data, int(signed.timestamp()))
        with self._sessions_lock:
            self._sessions[raw] = known
            while len(self._sessions) > SESSIONS_KEPT:
                self._sessions.popitem(last=False)
        return known

    def session_cookie(self, username: str | None, fingerprint: str = "") -> tuple[str, str]:
        """A fresh session (new CSRF token): (cookie value, csrf token)."""
        csrf = secrets.token_urlsafe(24)
        return self._serializer.dumps({"u": username, "f": fingerprint, "c": csrf}), csrf

    def set_session(self, response: Any, value: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=SESSION_MAX_AGE_S,
            httponly=True,
            samesite="lax",
            secure=self.secure_cookies,
            path="/",
        )


def web_state(request: Request) -> WebState:
    return request.app.state.web


def session_principal(request: Request) -> Principal | None:
    state = web_state(request)
    data = state.read_session(request)
    if not data or not data.get("u"):
        return None
    username = str(data["u"])
    user = state.db.reads.get(("user", username), lambda: get_user(state.db.store(), username), keep_none=False)
    return _session_of(data, user)


def _session_of(data: dict[str, Any], user: User | None) -> Principal | None:
    if user is None or user.disabled or not hmac.compare_digest(user.fingerprint, str(data.get("f", ""))):
        return None
    return Principal(user, "session", data["c"])


def known_principal(request: Request, *, api: bool) -> Principal | None:
    """Who is asking, as :func:`api_principal` (``api``) or :func:`page_principal` would say, from
    what is kept in memory only (no query: the event loop may call it); None when that is not
    enough to say, or for no valid credentials: the request then takes the ordinary way."""
    state = web_state(request)
    header = request.headers.get("authorization") if api else None
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        user = state.db.reads.peek(("token", hashlib.sha256(token.strip().encode()).hexdigest()))
        return Principal(user, "token") if isinstance(user, User) else None
    data = state.read_session(request)
    if not data or not data.get("u"):
        return None
    user = state.db.reads.peek(("user", str(data["u"])))
    return _session_of(data, user) if isinstance(user, User) else None


def memo_key(request: Request, *, api: bool) -> tuple[str, str] | None:
    """The memo key :func:`known_principal` finds the reader under (a valid session's user, or a
    bearer token's digest); None for no or invalid credentials."""
    header = request.headers.get("authorization") if api else None
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return ("token", hashlib.sha256(token.strip().encode()).hexdigest())
    data = web_state(request).read_session(request)
    return ("user", str(data["u"])) if data and data.get("u") else None


def page_principal(request: Request) -> Principal:
    principal = session_principal(request)
    if principal is None:
        raise LoginRequired()
    return principal


def api_principal(request: Request) -> Principal:
    """Bearer token; a browser session works too (with the CSRF header for writes)."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("use the header Authorization: Bearer TOKEN")
        user = _token_user(web_state(request).db, token.strip())
        if user is None:
            raise NotAuthenticated("the bearer token is not valid")
        return Principal(user, "token")
    principal = session_principal(request)
    if principal is None:
        raise NotAuthenticated("missing bearer token (Authorization: Bearer TOKEN)")
    if request.method not in SAFE_METHODS:
        check_csrf(principal.csrf, request.headers.get(CSRF_HEADER))
    return principal


def _token_user(db: Database, token: str) -> User | None:
    """The token's owner (kept between writes by :class:`~callkpi.web.read_memo.ReadMemo`, under the
    token's digest, never the token itself; unknown tokens are not kept)."""
    if not is_api_token(token):
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()  # what the memo keeps, and reads again by
    return db.reads.get(("token", digest), lambda: user_for_token_digest(db.store(), digest), keep_none=False)


def check_csrf(expected: str | None, given: str | None) -> None:
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise CsrfFailed()


async def check_form_csrf(request: Request, principal: Principal) -> dict[str, Any]:
    """The posted form, after checking its CSRF token (form field or htmx header)."""
    form = await request.form()
    given = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    check_csrf(principal.csrf, given if isinstance(given, str) else None)
    return dict(form)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "?"


def safe_next(value: str | None) -> str:
    """Only local paths: no open redirects."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"
