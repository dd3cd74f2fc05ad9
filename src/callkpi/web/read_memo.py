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

Read ahead: with many readers, a value that aged out (every :data:`MAX_AGE_S`) or whose stamp moved
(every ``--watch`` load) sends every request in flight the slow way (the router, a thread, a query)
until one of them has read it again; at 100 clients that was a third of all requests. So the
server's keeper thread (:func:`keep_fresh`) reads again, every :data:`REFRESH_EVERY_S`, the values
asked for within :data:`IN_USE_S` that are past half their age or whose stamp moved. A value is
never handed out past its age or across a write: reading ahead only makes it found more often.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from callkpi.storage import Store
from callkpi.web import auth

MAX_AGE_S = 2.0
MAX_ENTRIES = 4096
REFRESH_EVERY_S = 0.25
IN_USE_S = 30.0
MISSING = object()  # what :meth:`ReadMemo.peek` answers for a value not kept
log = logging.getLogger("callkpi.web")


@dataclass(frozen=True)
class _Item:
    stamp: tuple[int, int, int]
    made: float
    value: Any
    make: Callable[[], Any]
    keep_none: bool


class ReadMemo:
    """A thread-safe memo of small values keyed by what they are and stamped by the writes seen."""

    def __init__(self, max_age_s: float = MAX_AGE_S, max_entries: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age_s, self.max_entries = max_age_s, max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._items: dict[Hashable, _Item] = {}
        self._used: dict[Hashable, float] = {}  # key -> when it was last asked for
        self._generation = 0
        self._wake = threading.Event()  # set by bump(): the keeper thread reads ahead now
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self.keeper_running = False  # a keeper thread (keep_fresh) reads values ahead

    def stamp(self) -> tuple[int, int, int]:
        return Store.commits, auth.changes(), self._generation

    def bump(self) -> None:
        """Something was written: every value is read again. The values stay, stamped before the
        write (never handed out again), so the keeper thread knows what to read ahead at once."""
        with self._lock:
            self._generation += 1
        self._wake.set()

    def peek(self, key: Hashable) -> Any:
        """The kept value of ``key`` when it is still good, else :data:`MISSING` (never reads)."""
        stamp, now = self.stamp(), self._clock()
        with self._lock:
            item = self._items.get(key)
            if item is not None:  # only kept keys: unknown tokens asked for must not fill anything
                self._used[key] = now
        if item is not None and item.stamp == stamp and now - item.made <= self.max_age_s:
            return item.value
        return MISSING

    def get(self, key: Hashable, make: Callable[[], Any], *, keep_none: bool = True) -> Any:
        """The kept value of ``key``, or ``make()``'s (read after the stamp: a write in between only
        makes the next reader read again). ``keep_none=False``: a None answer is not kept (an
        unknown token asked for many times must not fill the memo)."""
        stamp, now = self.stamp(), self._clock()
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._used[key] = now
        if item is not None and item.stamp == stamp and now - item.made <= self.max_age_s:
            return item.value
        return self._read(key, make, keep_none)

    def _read(self, key: Hashable, make: Callable[[], Any], keep_none: bool) -> Any:
        stamp, now = self.stamp(), self._clock()
        value = make()
        with self._lock:
            if value is None and not keep_none:
                self._items.pop(key, None)
                self._used.pop(key, None)
                return value
            if len(self._items) >= self.max_entries and key not in self._items:
                self._items.clear()
                self._used.clear()
            self._items[key] = _Item(stamp, now, value, make, keep_none)
            self._used.setdefault(key, now)
        return value

    def known(self, key: Hashable) -> bool:
        """Whether ``key`` was kept, good or not (a keeper thread reads it ahead when in use)."""
        with self._lock:
            return key in self._items

    async def read_ahead(self, timeout_s: float) -> None:
        """Wait on the event loop (no thread taken) until the keeper thread has read the values in
        use again, at most ``timeout_s``: after a load, requests wait for one read instead of each
        reading by itself. Returns at once without a keeper."""
        if not self.keeper_running:
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._waiters.append((loop, future))
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(future, timeout_s)

    def _take_waiters(self) -> list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]:
        with self._lock:
            waiters, self._waiters = self._waiters, []
        return waiters

    def refresh(self, in_use_s: float = IN_USE_S) -> int:
        """Read again the values asked for within ``in_use_s`` that are past half their age or
        whose stamp moved; how many were read."""
        stamp, now = self.stamp(), self._clock()
        with self._lock:
            due = [(key, item) for key, item in self._items.items()
                   if now - self._used.get(key, item.made) <= in_use_s
                   and (item.stamp != stamp or now - item.made > self.max_age_s / 2)]
            for key in [key for key, used in self._used.items() if now - used > in_use_s]:
                del self._used[key]
        for key, item in due:
            self._read(key, item.make, item.keep_none)
        return len(due)


def keep_fresh(memo: ReadMemo, stop: threading.Event, every_s: float = REFRESH_EVERY_S) -> None:
    """The keeper thread of ``callkpi serve``: :meth:`ReadMemo.refresh` every ``every_s``, and at
    once after :meth:`ReadMemo.bump` (e.g. a ``--watch`` load), until ``stop``."""
    memo.keeper_running = True
    try:
        while not stop.is_set():
            memo._wake.wait(every_s)
            memo._wake.clear()
            if stop.is_set():
                return
            waiters = memo._take_waiters()  # those who asked before this read; later ones wait for the next
            try:
                memo.refresh()
            except Exception:  # a store closing at shutdown, a load holding it: the requests read themselves
                log.debug("reading the memo ahead failed", exc_info=True)
            for loop, future in waiters:
                with contextlib.suppress(RuntimeError):  # a loop closed meanwhile
                    loop.call_soon_threadsafe(_settle, future)
    finally:
        memo.keeper_running = False
        for loop, future in memo._take_waiters():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
