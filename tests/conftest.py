"""Shared fixtures: an in-memory store, loading queue_log texts, KPI rows, the CLI.

Scenario files live in ``tests/scenarios/`` (plain queue_log, epoch seconds in UTC); the test
that uses each one explains it line by line in its docstring, because queue_log has no comments.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

# Password hashes at argon2id's smallest cost in this process and the CLI and servers it starts
# (callkpi.web.auth; tests/test_web_auth_cost.py checks the product's own cost): set before any
# callkpi import.
os.environ.setdefault("CALLKPI_TEST_CHEAP_PASSWORD_HASHES", "1")

from callkpi.config import MetricParams, Settings
from callkpi.ingest.base import ImportReport
from callkpi.ingest.formats import load_file
from callkpi.metrics.engine import KpiQuery, KpiResult, compute
from callkpi.storage import Store

# Property tests replay the same inputs on every run (CI included), so a change passes or fails on the
# code and not on the draw; HYPOTHESIS_PROFILE=explore draws new inputs (./dev fuzz does so too).
hypothesis_settings.register_profile("replay", derandomize=True, database=None)
hypothesis_settings.register_profile("explore")
# Compiled queries are kept as the product keeps them (callkpi.metrics.templates), in a folder of
# this run only (nothing of an earlier run or of the developer's cache is read), shared by the xdist
# workers: made before they start, they inherit it. A query shape compiled for one copy of a test
# store then serves every copy (a copy has another path, the same data version). Tests that count
# compiles switch keeping off for themselves (tests/test_engine_templates.py).
_RUN_CACHE_ENV = "CALLKPI_TEST_RUN_CACHE"
if not os.environ.get(_RUN_CACHE_ENV):
    os.environ[_RUN_CACHE_ENV] = tempfile.mkdtemp(prefix="callkpi-test-cache-")
    atexit.register(shutil.rmtree, os.environ[_RUN_CACHE_ENV], ignore_errors=True)
os.environ["CALLKPI_CACHE_DIR"] = os.environ[_RUN_CACHE_ENV]
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "replay"))

TESTS = Path(__file__).resolve().parent
SCENARIOS = TESTS / "scenarios"
SHARED = Path(__file__).resolve().parents[2] / "shared"
REAL_PBXWARE = SHARED / "data" / "real" / "pbxware-us-2018"

# 2026-03-02 09:00:00 UTC, a Monday: the start of most scenarios.
T0 = 1772442000


def ql_line(epoch: int | float, callid: str, queue: str, agent: str, event: str, *data: object) -> str:
    """One queue_log line: ``epoch|callid|queue|agent|EVENT|data1|...``."""
    return "|".join([str(int(epoch)), callid, queue, agent, event, *[str(d) for d in data]])


def scenario_text(name: str) -> str:
    return (SCENARIOS / name).read_text(encoding="utf-8")


def write_log(directory: Path, text: str | bytes, name: str = "queue_log") -> Path:
    """Write a queue_log text (or raw bytes) into ``directory`` and return its path."""
    path = directory / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def load_text(
    store: Store,
    directory: Path,
    text: str | bytes,
    *,
    name: str = "queue_log",
    settings: Settings | None = None,
    tz: str = "UTC",
    fmt: str | None = None,
) -> ImportReport:
    """Write ``text`` into ``directory`` and load it into ``store``."""
    path = write_log(directory, text, name)
    return load_file(store, path, settings or Settings(), fmt=fmt, timezone=tz)


def load_scenario(
    store: Store, directory: Path, name: str, *, settings: Settings | None = None, tz: str = "UTC"
) -> ImportReport:
    """Copy ``tests/scenarios/<name>`` into ``directory`` and load it."""
    return load_text(store, directory, scenario_text(name), name=name, settings=settings, tz=tz)


def kpi_result(
    store: Store,
    by: Sequence[str] = (),
    *,
    metrics: Sequence[str] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    filters: dict[str, tuple[str, ...]] | None = None,
    **params: Any,
) -> KpiResult:
    """The engine's answer; ``params`` are MetricParams fields (timezone, sl_threshold_s, ...)."""
    query = KpiQuery(
        by=tuple(by),
        date_from=date_from,
        date_to=date_to,
        filters=filters or {},
        metrics=tuple(metrics) if metrics else None,
        params=MetricParams(**params),
    )
    return compute(store, query)


def kpis(store: Store, by: Sequence[str] = (), **kwargs: Any) -> list[dict[str, Any]]:
    """KPI rows (one dict per group) for ``by``; see :func:`kpi_result` for the arguments."""
    return kpi_result(store, by, **kwargs).rows


def total(store: Store, **kwargs: Any) -> dict[str, Any]:
    """The one ungrouped KPI row."""
    rows = kpis(store, (), **kwargs)
    assert len(rows) == 1, rows
    return rows[0]


def by_key(rows: list[dict[str, Any]], *dims: str) -> dict[Any, dict[str, Any]]:
    """Rows indexed by their dimension value (a tuple when several dimensions are given)."""
    indexed: dict[Any, dict[str, Any]] = {}
    for row in rows:
        key = row[dims[0]] if len(dims) == 1 else tuple(row[d] for d in dims)
        assert key not in indexed, f"two rows for {key!r}"
        indexed[key] = row
    return indexed


def query_rows(store: Store, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    cursor = store.connection.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture
def store() -> Iterator[Store]:
    s = Store(":memory:")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def load(store: Store, tmp_path: Path) -> Callable[..., ImportReport]:
    """``load(text_or_scenario_name, **kw)``: a name ending in ``.queue_log`` is a scenario file."""

    def _load(text: str | bytes, **kwargs: Any) -> ImportReport:
        if isinstance(text, str) and text.endswith(".queue_log") and "\n" not in text:
            return load_scenario(store, tmp_path, text, **kwargs)
        return load_text(store, tmp_path, text, **kwargs)

    return _load


# -- the command line ------------------------------------------------------------------------


class Cli:
    """Runs ``callkpi`` in-process with a wide terminal and no settings file from the cwd."""

    def __init__(self, config: Path) -> None:
        from typer.testing import CliRunner

        from callkpi.cli import _register_commands

        _register_commands()
        self.runner = CliRunner()
        # CALLKPI_LANG: English whatever the machine's locale (tests of Russian pass --lang ru or their own env)
        self.env = {"COLUMNS": "400", "CALLKPI_CONFIG": str(config), "NO_COLOR": "1", "CALLKPI_LANG": "en"}

    def __call__(self, *args: object) -> Any:
        from callkpi.cli import common
        from callkpi.cli.app import app

        # rich fixes its width when first imported (pytest-xdist workers export COLUMNS=80) and
        # would wrap long file paths in messages: widen the CLI's consoles for this call only.
        consoles = [c for c in (getattr(common, "console", None), getattr(common, "err_console", None)) if c]
        saved = [c._width for c in consoles]
        for c in consoles:
            c.width = 400
        try:
            return self.runner.invoke(app, [str(a) for a in args], env=self.env, catch_exceptions=False)
        finally:
            for c, width in zip(consoles, saved, strict=True):
                c._width = width


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "no-such-callkpi.toml")


def real_pbxware() -> Path:
    """The real PBXware queue_log directory, or skip when ../shared is absent."""
    if not (REAL_PBXWARE / "queue_log").is_file():
        pytest.skip(f"real data not found at {REAL_PBXWARE}")
    return REAL_PBXWARE


@pytest.fixture(autouse=True)
def _no_callkpi_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read the developer's database or settings."""
    for name in ("CALLKPI_DB", "CALLKPI_CONFIG", "CALLKPI_MAPPING"):
        if name in os.environ:
            monkeypatch.delenv(name)


@dataclass(frozen=True)
class Webhook:
    """A local HTTP endpoint that keeps the JSON bodies posted to it."""

    url: str
    received: list[dict[str, Any]]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    received: list[dict[str, Any]] = []

    class Catcher(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Catcher)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Webhook(f"http://127.0.0.1:{server.server_port}/hook", received)
    finally:
        server.shutdown()
        server.server_close()
