"""Small values every request reads, kept in memory between requests until something may change them.

Each page or API request needs the data version, the metric parameters and the signed-in user (or
the owner of an API token). Read from DuckDB that is four to six small queries per request (each
one to several milliseconds on a busy 2-core machine), more than handing out a cached page costs.
They change only when something is written, so they are kept with a *stamp* and read again when
the stamp moves:

- ``Store.commits``: every import (``serve --watch``) and every other write transaction of this process;
- :func:`callkpi.web.auth.changes`: every change of a user or an API token in this process;
- :meth:`ReadMemo.bump`: every request that is not a GET or HEAD (a changed user, token, target ...)
  and :meth:`callkpi.web.db.Database.forget`;
- and at the latest after :data:`MAX_AGE_S` (writes outside a transaction and outside a request,
  e.g. a script holding the server's store).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from callkpi.storage import Store
from callkpi.web import auth

MAX_AGE_S = 2.0
MAX_ENTRIES = 4096
MISSING = object()  # what :meth:`ReadMemo.peek` answers for a value not kept


class ReadMemo:
    """A thread-safe memo of small values keyed by what they are and stamped by the writes seen."""

    def __init__(self, max_age_s: float = MAX_AGE_S, max_entries: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age_s, self.max_entries = max_age_s, max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._items: dict[Hashable, tuple[tuple[int, int, int], float, Any]] = {}
        self._generation = 0

    def stamp(self) -> tuple[int, int, int]:
        return Store.commits, auth.changes(), self._generation

    def bump(self) -> None:
        """Something was written: every value is read again."""
        with self._lock:
            self._generation += 1
            self._items.clear()

    def peek(self, key: Hashable) -> Any:
        """The kept value of ``key`` when it is still good, else :data:`MISSING` (never reads)."""
        stamp, now = self.stamp(), self._clock()
        with self._lock:
            item = self._items.get(key)
        if item is not None and item[0] == stamp and now - item[1] <= self.max_age_s:
            return item[2]
        return MISSING

    def get(self, key: Hashable, make: Callable[[], Any], *, keep_none: bool = True) -> Any:
        """The kept value of ``key``, or ``make()``'s (read after the stamp: a write in between only
        makes the next reader read again). ``keep_none=False``: a None answer is not kept (an
        unknown token asked for many times must not fill the memo)."""
        stamp, now = self.stamp(), self._clock()
        with self._lock:
            item = self._items.get(key)
        if item is not None and item[0] == stamp and now - item[1] <= self.max_age_s:
            return item[2]
        value = make()
        if value is None and not keep_none:
            return value
        with self._lock:
            if len(self._items) >= self.max_entries:
                self._items.clear()
            self._items[key] = (stamp, now, value)
        return value
