"""``callkpi serve --watch``: the server follows growing record files and loads what is new.

DuckDB lets one process write a store file, so while the server runs `callkpi ingest` cannot load
today's calls. The watcher does it inside the server instead: a background thread looks at the
watched files every few seconds and loads each one that changed through the server's own
connection, one import transaction per file as `callkpi ingest` does (only the new lines of a file
that grew; bad lines to the quarantine). Pages keep reading the last committed data meanwhile, and
their cached results are keyed by the data version, which every load changes; a page already shown
for the previous version is handed out while its new rendering is made (web/page_cache.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import duckdb

from callkpi.ingest.base import ImportError_, ImportReport, utc_now
from callkpi.ingest.formats import FORMATS, detect, load_database, load_file
from callkpi.storage import Store
from callkpi.web.db import Database

log = logging.getLogger("callkpi.web.watch")

DEFAULT_EVERY_S = 10.0
STOP_WAIT_S = 30.0

# What a file looked like when last handled: while it stays the same there is nothing to load.
Signature = tuple[int, int, int, int]


@dataclass(frozen=True)
class WatchOptions:
    paths: tuple[Path, ...]
    every_s: float = DEFAULT_EVERY_S
    timezone: str | None = None  # zone of the files' local times; default the business time zone
    background: bool = True  # False: cycles run only when ``Watcher.run_once`` is called
    urls: tuple[str, ...] = ()  # live PBX databases (mysql://, postgresql://), polled every [sql] poll_s


@dataclass
class FileStatus:
    """One watched file as the admin pages and ``GET /api/v1/watch`` show it."""

    path: str
    format: str | None = None
    state: str = "waiting"  # waiting | loaded | appended | unchanged | empty | failed
    last_check_utc: datetime | None = None
    last_load_utc: datetime | None = None  # the last load that added lines
    loads: int = 0  # loads that added lines, since the server started
    lines_loaded: int = 0  # since the server started
    quarantined: int = 0  # since the server started
    error: str | None = None
    error_since_utc: datetime | None = None


@dataclass(frozen=True)
class WatchStatus:
    every_s: float
    running: bool
    last_cycle_utc: datetime | None
    files: list[FileStatus] = field(default_factory=list)

    @property
    def problems(self) -> list[FileStatus]:
        return [f for f in self.files if f.error]


def watched_files(path: Path) -> list[Path]:
    """A watched path's files: the file itself, or a directory's files (not its subdirectories,
    not hidden files), by name."""
    if not path.is_dir():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))


def signature(path: Path) -> Signature:
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


class Watcher:
    """Loads what is new in the watched files: every ``every_s`` seconds in a thread of its own
    (``start``/``stop``), or one cycle at a time with ``run_once``."""

    def __init__(self, db: Database, options: WatchOptions, on_load: Callable[[], None] | None = None) -> None:
        self.db = db
        self.options = options
        self._on_load = on_load  # called after a cycle that loaded lines (the alert monitor checks then)
        self._files: dict[str, FileStatus] = {}
        self._seen: dict[str, Signature] = {}
        self._last_cycle: datetime | None = None
        self._cycle_lock = threading.Lock()  # one cycle at a time
        self._status_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loading: Store | None = None
        self._polled: dict[str, float] = {}  # URL -> monotonic time of its last poll

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if not self.options.background or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="callkpi-watch", daemon=True)
        self._thread.start()

    def stop(self, wait_s: float = STOP_WAIT_S) -> None:
        """Stop after the file being loaded (a load still running after ``wait_s`` is interrupted
        and rolled back: its lines load at the next start)."""
        self._stop.set()
        thread = self._thread
        if thread is None:
            return
        thread.join(wait_s)
        loading = self._loading
        if thread.is_alive() and loading is not None:
            loading.connection.interrupt()
            thread.join(wait_s)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the next cycle tries again; the server must keep serving
                log.exception("watching the record files failed")
            self._stop.wait(self.options.every_s)

    # -- one cycle ---------------------------------------------------------------------------
    def run_once(self) -> list[ImportReport]:
        """Look at every watched file once and load what is new; the reports of the loads done."""
        with self._cycle_lock:
            reports: list[ImportReport] = []
            for path in self._current_files():
                if self._stop.is_set():
                    break
                report = self._check(path)
                if report is not None:
                    reports.append(report)
            for url in self.options.urls:
                if self._stop.is_set():
                    break
                report = self._poll(url)
                if report is not None:
                    reports.append(report)
            if any(r.lines_read for r in reports):
                # results of the old data version can never be asked for again; its pages are
                # handed out while the new ones render (web/page_cache.py: stale while revalidating)
                self.db.forget(pages=False)
                if self._on_load is not None:
                    self._on_load()
            with self._status_lock:
                self._last_cycle = utc_now()
            return reports

    def _current_files(self) -> list[Path]:
        files: list[Path] = []
        for root in self.options.paths:
            try:
                files.extend(watched_files(root))
            except OSError as exc:  # a directory that cannot be listed
                self._failed(self._status(str(root)), _describe(root, exc))
                files.append(root)
        files = list(dict.fromkeys(files))
        with self._status_lock:  # files gone from a watched directory leave the status
            known = self._files
            self._files = {key: known.get(key) or FileStatus(key) for key in (*map(str, files), *self.options.urls)}
        return files

    def _check(self, path: Path) -> ImportReport | None:
        key = str(path)
        status = self._status(key)
        with self._status_lock:
            status.last_check_utc = utc_now()
        try:
            current = signature(path)
        except OSError as exc:
            self._failed(status, _describe(path, exc))
            return None
        if self._seen.get(key) == current:
            return None
        if current[1] == 0:  # just rotated: not an error, nothing to load yet
            self._seen[key] = current
            self._succeeded(status, "empty")
            return None
        report, settled = self._load(path, status)
        if settled:
            self._seen[key] = current
        return report

    def _load(self, path: Path, status: FileStatus) -> tuple[ImportReport | None, bool]:
        """The load's report, and whether this content is settled: loaded, or failing in a way that
        only a change of the file can mend (a write conflict or an interrupted load is tried again)."""
        store = self.db.store()
        self._loading = store
        try:
            report = load_file(store, path, self.db.settings, fmt=_format(path), timezone=self._timezone())
        except (duckdb.TransactionException, duckdb.InterruptException) as exc:
            if not self._stop.is_set():
                self._failed(status, f"{path}: {exc}")
            return None, False
        except (ImportError_, OSError, ValueError) as exc:  # unknown format, unreadable, bad zone
            self._failed(status, _describe(path, exc))
            return None, True
        except Exception as exc:
            self._failed(status, _describe(path, exc), unexpected=True)
            return None, True
        finally:
            self._loading = None
        self._record(status, report)
        return report, True

    def _poll(self, url: str) -> ImportReport | None:
        """What is new in a live database, when ``[sql] poll_s`` has passed since its last poll."""
        now = time.monotonic()
        if url in self._polled and now - self._polled[url] < self.db.settings.sql.poll_s:
            return None
        self._polled[url] = now
        status = self._status(url)
        with self._status_lock:
            status.last_check_utc = utc_now()
        store = self.db.store()
        self._loading = store
        try:
            report = load_database(store, url, self.db.settings, timezone=self._timezone())
        except (ImportError_, duckdb.TransactionException, duckdb.InterruptException) as exc:
            self._failed(status, str(exc))
            return None
        except Exception as exc:
            self._failed(status, f"{url}: {exc}", unexpected=True)
            return None
        finally:
            self._loading = None
        self._record(status, report)
        return report

    def _timezone(self) -> str:
        return self.options.timezone or self.db.params().timezone

    # -- status ------------------------------------------------------------------------------
    def _status(self, key: str) -> FileStatus:
        with self._status_lock:
            return self._files.setdefault(key, FileStatus(key))

    def _record(self, status: FileStatus, report: ImportReport) -> None:
        with self._status_lock:
            status.format = report.format
            if report.lines_read:
                status.last_load_utc = utc_now()
                status.loads += 1
                status.lines_loaded += report.lines_loaded
                status.quarantined += report.quarantined
        if report.lines_read:
            log.info("%s: %d new lines loaded, %d quarantined", report.path, report.lines_loaded,
                     report.quarantined)
        self._succeeded(status, report.status)

    def _succeeded(self, status: FileStatus, state: str) -> None:
        with self._status_lock:
            recovered = status.error is not None
            status.state, status.error, status.error_since_utc = state, None, None
        if recovered:
            log.info("%s loads again", status.path)

    def _failed(self, status: FileStatus, message: str, *, unexpected: bool = False) -> None:
        """Record a file's problem; logged when it first appears, not at every cycle."""
        with self._status_lock:
            new = status.error != message
            status.state, status.error = "failed", message
            if new:
                status.error_since_utc = utc_now()
        if new:
            log.warning("watched file not loaded: %s", message, exc_info=unexpected)

    def problem_count(self) -> int:
        """How many watched files cannot be loaded now (what ``status().problems`` counts, without copying)."""
        with self._status_lock:
            return sum(1 for f in self._files.values() if f.error)

    def status(self) -> WatchStatus:
        with self._status_lock:
            files = [replace(f) for f in self._files.values()]
            return WatchStatus(self.options.every_s, self.running, self._last_cycle, files)


def _format(path: Path) -> str:
    """The file's format, or an error that does not send the reader to `ingest --format`."""
    try:
        return detect(path)
    except ImportError_:
        raise ImportError_(f"{path}: not in a format callkpi reads ({', '.join(FORMATS)})") from None


def _describe(path: Path, exc: Exception) -> str:
    """An error as one line that names the file once."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{path}: {exc.strerror.lower()}"
    text = str(exc)
    return text if str(path) in text else f"{path}: {text}"

