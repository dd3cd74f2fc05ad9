"""The server's one database: a long-lived read-write store, a cursor per worker thread.

DuckDB lets one process hold a file read-write; every request thread reads and writes through
its own cursor of that connection (cursors are safe to use in parallel). A ClickHouse store
(``chdb:///dir``, ``clickhouse://...``) is one session every thread shares (chDB runs one session
per process; the store serialises its queries). KPI results are cached per *data version* (what
was loaded), so a page opened twice does not recompute.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import Any

import duckdb

from callkpi.config import MetricParams, Settings, effective_params
from callkpi.metrics import engine
from callkpi.queries.session import utc_session
from callkpi.queries.sources import data_version
from callkpi.queries.web_tables import ensure_web_schema
from callkpi.storage import Store, open_store
from callkpi.web.page_cache import PageCache
from callkpi.web.read_memo import ReadMemo

CACHE_SIZE = 256
# One reading request (GET/HEAD) sees one data version: it is read once per request, not once per
# cached result (a page asks for dozens, e.g. an agent name per table row), and so are the metric
# parameters; see Database.reading.
_REQUEST_VERSION: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "callkpi_request_version", default=None)


class CursorStore(Store):
    """A Store over a cursor of the server's connection (no schema work, no own file handle)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, path: str) -> None:
        self.path = path
        self.read_only = False
        self._con = connection
        utc_session(self._con)
        self._ibis = None


class Database:
    def __init__(self, path: Path | str, settings: Settings) -> None:
        self.path = str(path)
        self.settings = settings
        self._keeper = open_store(self.path)
        self.engine = "duckdb" if self._keeper.dialect == "duckdb" else "clickhouse"
        ensure_web_schema(self._keeper)
        engine.prepare(self._keeper)
        self._local = threading.local()
        self._cursors: list[CursorStore] = []
        self._lock = threading.Lock()
        self._cache: OrderedDict[Hashable, Any] = OrderedDict()
        self.pages = PageCache()  # rendered answers (web/page_cache.py)
        self.reads = ReadMemo()  # the data version, parameters, users between writes (web/read_memo.py)

    def close(self) -> None:
        with self._lock:
            for store in self._cursors:
                with contextlib.suppress(duckdb.Error):
                    store.close()
            self._cursors.clear()
        self._keeper.close()

    def store(self) -> Store:
        """This thread's store (created on first use; the one ClickHouse session for every thread)."""
        if self.engine != "duckdb":
            return self._keeper
        store = getattr(self._local, "store", None)
        if store is None:
            with self._lock:
                store = CursorStore(self._keeper.connection.cursor(), self.path)
                self._cursors.append(store)
            self._local.store = store
        return store

    # -- things every page needs -------------------------------------------------------------
    def params(self) -> MetricParams:
        memo = _REQUEST_VERSION.get()
        if memo is None:
            return self._params()
        if "p" not in memo:
            memo["p"] = self._params()
        return memo["p"]

    def _params(self) -> MetricParams:
        return self.reads.get("params", lambda: effective_params(self.settings, self.store().get_meta("timezone")))

    def data_version(self) -> tuple:
        memo = _REQUEST_VERSION.get()
        if memo is None:
            return self._data_version()
        if "v" not in memo:
            memo["v"] = self._data_version()
        return memo["v"]

    def _data_version(self) -> tuple:
        return self.reads.get("data_version", lambda: data_version(self.store()))

    @staticmethod
    @contextlib.contextmanager
    def reading() -> Iterator[None]:
        """Within: the data version is read once (for a reading request, which writes nothing)."""
        reset = _REQUEST_VERSION.set({})
        try:
            yield
        finally:
            _REQUEST_VERSION.reset(reset)

    def forget(self, *, pages: bool = True) -> None:
        """Drop every cached result: for writes that change KPIs without an import (a saved review).
        ``pages=False`` (after an import: a new data version) keeps the rendered pages, handed out
        while the new ones render (web/page_cache.py)."""
        with self._lock:
            self._cache.clear()
        self.reads.bump()
        if pages:
            self.pages.clear()

    def cached(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """``make()`` once per key and data version."""
        full_key = (self.data_version(), key)
        with self._lock:
            if full_key in self._cache:
                self._cache.move_to_end(full_key)
                return self._cache[full_key]
        value = make()
        with self._lock:
            self._cache[full_key] = value
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return value
