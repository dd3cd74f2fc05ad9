"""Rendered answers cached per data version and per what the reader may see.

Twenty people looking at the same overview ask the same question: the answer (the HTML page or
the JSON body) is kept once it is rendered and handed out again until new data arrives. The key
holds everything an answer depends on besides the data:

- the data version and the metric parameters (a new import, a changed setting: a new key);
- the reader: user name, role, forced agent/queues/teams, language, the session's CSRF token
  (pages carry it in forms), so an answer never crosses from one user or session to another;
- the page and its query string, and the htmx headers that choose a fragment over a page;
- the header badges (watched files in trouble, alerts firing), which change without new data.

A bounded LRU (entries and bytes) with a time limit, so a page that shows the clock (e.g. "loaded
2 min ago") is never older than :data:`MAX_AGE_S`. Only complete 200 answers without cookies are kept.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from fastapi.responses import Response

from callkpi.web.scope import Principal

MAX_ENTRIES = 128
MAX_BYTES = 64 * 1024 * 1024
MAX_AGE_S = 30.0
WAIT_S = 60.0  # how long a reader waits for another one rendering the same answer
_HEADERS_THAT_SELECT = ("hx-request", "hx-history-restore-request", "hx-target", "accept")


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]
    media_type: str | None
    made: float


class PageCache:
    """A thread-safe LRU of rendered answers; :meth:`clear` when data changes without a new version."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES, max_age_s: float = MAX_AGE_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries, self.max_bytes, self.max_age_s = max_entries, max_bytes, max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, _Answer] = OrderedDict()
        self._bytes = 0
        self._making: dict[Hashable, threading.Event] = {}
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def get(self, key: Hashable) -> _Answer | None:
        with self._lock:
            answer = self._items.get(key)
            if answer is not None and self._clock() - answer.made > self.max_age_s:
                self._drop(key)
                answer = None
            if answer is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return answer

    def answer(self, key: Hashable, make: Callable[[], Response]) -> Response:
        """The kept answer, or ``make()``'s. One reader renders a missing answer while the others
        asking for the same key wait for it: after new data, 100 readers do not render it 100 times."""
        kept = self.get(key)
        if kept is None:
            with self._lock:
                making = self._making.get(key)
                mine = making is None
                if making is None:
                    making = self._making[key] = threading.Event()
            if mine:
                try:
                    response = make()
                    self.put(key, response)
                    return response
                finally:
                    with self._lock:
                        self._making.pop(key, None)
                    making.set()
            making.wait(timeout=WAIT_S)
            kept = self._peek(key)
            if kept is None:  # not kept (an error page, too large) or too slow: render it here
                return make()
        return Response(kept.body, status_code=kept.status, headers=dict(kept.headers), media_type=kept.media_type)

    def _peek(self, key: Hashable) -> _Answer | None:
        with self._lock:
            answer = self._items.get(key)
            return answer if answer is not None and self._clock() - answer.made <= self.max_age_s else None

    def put(self, key: Hashable, response: Response) -> None:
        body = getattr(response, "body", None)
        if response.status_code != 200 or not isinstance(body, bytes) or len(body) > self.max_bytes // 4:
            return
        if any(name.lower() == "set-cookie" for name in response.headers):
            return
        headers = tuple((k, v) for k, v in response.headers.items() if k.lower() != "content-length")
        answer = _Answer(response.status_code, body, headers, response.media_type, self._clock())
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = answer
            self._bytes += len(body)
            while self._items and (len(self._items) > self.max_entries or self._bytes > self.max_bytes):
                self._drop(next(iter(self._items)))

    def _drop(self, key: Hashable) -> None:
        answer = self._items.pop(key)
        self._bytes -= len(answer.body)


def reader_key(me: Principal) -> tuple:
    """Everything about the reader an answer may depend on (scope, masking, language, forms' CSRF)."""
    user = me.user
    return (user.username, user.role, user.agent, tuple(user.queues), tuple(user.teams), user.lang, me.via, me.csrf)
