"""The answer of a page or API request from the rendered-answer cache (:mod:`callkpi.web.page_cache`):
its key (data version, reader, language, page and query, the header badges) and the lookup. Apart
from the cache itself, which the store's :class:`~callkpi.web.db.Database` holds."""

from __future__ import annotations

from collections.abc import Callable, Hashable

from fastapi import Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from callkpi.web.db import Database
from callkpi.web.page_cache import (
    _HEADERS_THAT_SELECT,
    MarkLeft,
    family_of,
    fill_marks,
    reader_key,
    scope_key,
    shared_reader,
)
from callkpi.web.read_memo import MISSING
from callkpi.web.scope import Principal
from callkpi.web.security import known_principal, memo_key, web_state
from callkpi.web.ui import _alerts_firing, _watch_problems, request_lang


def answer_key(request: Request, me: Principal, version: Hashable, extra: Hashable = (),
               reader: Hashable | None = None) -> tuple:
    return (
        version,
        reader_key(me) if reader is None else reader,
        request_lang(request, me),
        request.url.path,
        tuple(sorted(request.query_params.multi_items())),
        tuple(request.headers.get(name, "") for name in _HEADERS_THAT_SELECT),
        _watch_problems(request, me),
        _alerts_firing(request, me),
        extra,
    )


def params_json(db: Database) -> str:
    """The metric parameters as the keys hold them (kept between writes: web/read_memo.py)."""
    return db.reads.get("params_json", lambda: db.params().model_dump_json())


def cached_answer(request: Request, me: Principal, make: Callable[[], Response]) -> Response:
    """``make()``'s answer, or the same answer rendered before for this reader, page and data version."""
    db = web_state(request).db
    key = answer_key(request, me, db.data_version(), params_json(db))
    db.pages.kinds.setdefault(request.url.path, "reader")
    # keyed by the version read before rendering: a load in between gives the next reader a new key
    return db.pages.answer(key, make, family=family_of(key))


def shared_answer(request: Request, me: Principal, make: Callable[[Principal], Response]) -> Response:
    """``make(reader)``'s page, rendered once per scope, page and data version for a stand-in reader
    and handed to each session with its own user name and CSRF token (web/page_cache.py)."""
    stand_in = shared_reader(me)
    if stand_in is None:
        return cached_answer(request, me, lambda: make(me))
    db = web_state(request).db
    db.pages.kinds[request.url.path] = "shared"
    key = answer_key(request, me, db.data_version(), params_json(db), reader=scope_key(me))
    try:
        return db.pages.answer(key, lambda: make(stand_in), fill_marks(me), family_of(key))
    except MarkLeft:
        db.pages.drop(key)
        return make(me)


READ_AHEAD = object()  # FastAnswers._kept: the memo lacks a value its keeper thread reads again now
READ_AHEAD_WAIT_S = 1.0


def _missing(db: Database, *keys: Hashable) -> object | None:
    """:data:`READ_AHEAD` when these memo values were kept (so in use: read ahead) and a keeper runs."""
    return READ_AHEAD if db.reads.keeper_running and all(map(db.reads.known, keys)) else None


class FastAnswers:
    """ASGI: a GET whose answer is kept is answered here, on the event loop, before the compression
    middleware, the router, the dependencies and a trip through the thread pool (most of what a kept
    answer costs otherwise), already compressed when the client takes gzip and ``compress(scope)``
    says it may be (:class:`~callkpi.web.page_cache.Gzipped`: compressed once per answer).

    Only the paths whose answers :func:`shared_answer` or :func:`cached_answer` keep are looked at,
    with the same key; the reader, data version and parameters come from memory only
    (:class:`~callkpi.web.read_memo.ReadMemo`). While another request renders the answer of a new
    data version, the previous one is handed out here, as
    :meth:`~callkpi.web.page_cache.PageCache.answer` would hand it out. Whatever is not known there
    (a new session, a data version not read since the last write, an answer neither kept nor being
    rendered) takes the ordinary way, which renders it."""

    def __init__(self, app: ASGIApp, headers: Callable[[Request], dict[str, str]],
                 compress: Callable[[Scope], bool] = lambda scope: False) -> None:
        self.app = app
        self.headers = headers  # the security headers the ordinary way adds to every answer
        self.compress = compress  # whether this request may get a compressed answer (CompressWhenSafe)
        self._security: dict[str, list[tuple[bytes, bytes]]] = {}  # path -> its security headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "GET":
            answer = self._kept(scope)
            if answer is READ_AHEAD:  # after a load: wait for the keeper's one read, not read each
                await web_state(Request(scope)).db.reads.read_ahead(READ_AHEAD_WAIT_S)
                answer = self._kept(scope)
            if isinstance(answer, tuple):
                status, headers, body = answer
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def _kept(self, scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes] | object | None:
        state = getattr(getattr(scope.get("app"), "state", None), "web", None)
        kind = state.db.pages.kinds.get(scope.get("path", "")) if state is not None else None
        if kind is None:
            return None
        db = state.db
        version, params = db.reads.peek("data_version"), db.reads.peek("params_json")
        if version is MISSING or params is MISSING:
            return _missing(db, "data_version", "params_json")
        request = Request(scope)
        me = known_principal(request, api=kind == "reader")
        if me is None:
            key = memo_key(request, api=kind == "reader")  # a reader kept but not good now: read ahead
            return _missing(db, key) if key is not None and db.reads.peek(key) is MISSING else None
        shared = kind == "shared"
        if shared:
            if shared_reader(me) is None:
                return None
            key = answer_key(request, me, version, params, reader=scope_key(me))
        else:
            key = answer_key(request, me, version, params)
        kept = db.pages.kept_or_stale(key, family_of(key))  # stale: while a new data version renders
        if kept is None:
            return None
        name, csrf = (me.user.username.encode(), me.csrf.encode()) if shared else (b"", b"")
        gzip = (kept.gzip is not None and "gzip" in request.headers.get("accept-encoding", "")
                and self.compress(scope))
        try:
            body = kept.gzip.filled(kept.body, name, csrf) if gzip else (
                fill_marks(me)(kept.body) if shared else kept.body)
        except MarkLeft:
            return None
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in kept.headers]
        if kept.gzip is not None:  # the answer depends on Accept-Encoding (as GZipMiddleware says)
            headers.append((b"vary", b"Accept-Encoding"))
        if gzip:
            headers.append((b"content-encoding", b"gzip"))
        headers.append((b"content-length", str(len(body)).encode()))
        headers += self._security_headers(request)
        return kept.status, headers, body

    def _security_headers(self, request: Request) -> list[tuple[bytes, bytes]]:
        path = request.url.path
        found = self._security.get(path)
        if found is None:  # the same for every request of a page or API path (not /static, /docs)
            found = self._security[path] = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                                            for k, v in self.headers(request).items()]
        return found
