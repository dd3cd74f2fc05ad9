"""The answer of a page or API request from the rendered-answer cache (:mod:`callkpi.web.page_cache`):
its key (data version, reader, language, page and query, the header badges) and the lookup. Apart
from the cache itself, which the store's :class:`~callkpi.web.db.Database` holds."""

from __future__ import annotations

from collections.abc import Callable, Hashable

from fastapi import Request
from fastapi.responses import Response

from callkpi.web.page_cache import (
    _HEADERS_THAT_SELECT,
    MarkLeft,
    fill_marks,
    reader_key,
    scope_key,
    shared_reader,
)
from callkpi.web.scope import Principal
from callkpi.web.security import web_state
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


def cached_answer(request: Request, me: Principal, make: Callable[[], Response]) -> Response:
    """``make()``'s answer, or the same answer rendered before for this reader, page and data version."""
    db = web_state(request).db
    key = answer_key(request, me, db.data_version(), db.params().model_dump_json())
    # keyed by the version read before rendering: a load in between gives the next reader a new key
    return db.pages.answer(key, make)


def shared_answer(request: Request, me: Principal, make: Callable[[Principal], Response]) -> Response:
    """``make(reader)``'s page, rendered once per scope, page and data version for a stand-in reader
    and handed to each session with its own user name and CSRF token (web/page_cache.py)."""
    stand_in = shared_reader(me)
    if stand_in is None:
        return cached_answer(request, me, lambda: make(me))
    db = web_state(request).db
    key = answer_key(request, me, db.data_version(), db.params().model_dump_json(), reader=scope_key(me))
    try:
        return db.pages.answer(key, lambda: make(stand_in), fill_marks(me))
    except MarkLeft:
        db.pages.drop(key)
        return make(me)
