"""The live wallboard's feed: follows the watched queue_log files line by line, keeps the live state.

``serve --watch`` loads new lines into the store every few seconds (:mod:`callkpi.web.watch`);
this hub reads the same files itself, every ``poll_s`` (a fifth of a second), and folds each new
complete line into :class:`callkpi.analyses.live_state.LiveState`, so a tile changes as soon as
the PBX writes the line, whatever the import costs. At start (the first wallboard request) it is
rebuilt from what the store holds since the start of the business day (minus ``LOOKBACK_H``, for
the sessions opened before midnight) plus the lines of each file the store does not hold yet.
Only plain queue_log files are followed line by line; other watched files reach the live state
through the store at the next start only.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from callkpi.analyses.live_service_level import WindowServiceLevel
from callkpi.analyses.live_state import Event, LiveState, Snapshot, apply, parse_line, snapshot, window_legs
from callkpi.ingest.queue_log import FORMAT_PLAIN, sniff
from callkpi.queries.live import live_seed
from callkpi.web.db import Database
from callkpi.web.watch import watched_files

log = logging.getLogger("callkpi.web.live")

POLL_S = 0.2
LOOKBACK_H = 12
WINDOW_EVERY_S = 5.0  # the rolling service level is recomputed at most this often (or when legs end)
MAX_READ = 8 << 20  # bytes read from one file per poll
IDLE_STOP_S = 120.0  # the thread stops when no page has asked for the state for this long (the next one starts it)


@dataclass
class _Tail:
    path: Path
    offset: int
    inode: int | None
    plain: bool | None = None  # None: not sniffed yet


class LiveHub:
    """The live state of one server: ``poll_once`` reads what is new; ``version`` counts changes."""

    def __init__(self, db: Database, paths: Sequence[Path], *, poll_s: float = POLL_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.paths = tuple(paths)
        self.poll_s = poll_s
        self.clock = clock
        self.version = 0
        self._lock = threading.Lock()
        self._tails: dict[str, _Tail] = {}
        self._since = 0.0
        self._state = LiveState()
        self._windows = WindowServiceLevel()
        self._window_cache: tuple[tuple[int, int], dict] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._asked = time.monotonic()
        self._seed()

    # -- start ----------------------------------------------------------------------------------
    def _seed(self) -> None:
        params = self.db.params()
        zone = ZoneInfo(params.timezone)
        today = datetime.fromtimestamp(self.clock(), zone).date()
        self._since = datetime.combine(today, dtime(0), zone).timestamp() - LOOKBACK_H * 3600
        files = self._files()
        seed = live_seed(self.db.store(), self._since, files)
        state = LiveState.for_settings(self.db.settings, params.acw_pause_reasons)
        for epoch, callid, queue, agent, event, data in seed.events:
            apply(state, Event(epoch, callid, queue, agent, event, data))
        self._state = state
        for path in files:
            self._tails[str(path)] = _Tail(path, seed.offsets.get(str(path), 0), _inode(path))
        self.poll_once()

    def start(self) -> None:
        """Follow the files in a thread of its own (again, if it stopped for want of viewers)."""
        self.touch()
        with self._lock:
            if self._stop.is_set() or (self._thread is not None and self._thread.is_alive()):
                return
            self._thread = threading.Thread(target=self._loop, name="callkpi-live", daemon=True)
            self._thread.start()

    def touch(self) -> None:
        """Someone looks at the wallboard: keep following."""
        self._asked = time.monotonic()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self._windows.close()

    def _loop(self) -> None:
        while not self._stop.is_set() and time.monotonic() - self._asked < IDLE_STOP_S:
            try:
                self.poll_once()
            except Exception:  # the wallboard must keep going
                log.exception("following the queue_log for the wallboard failed")
            self._stop.wait(self.poll_s)

    # -- following the files --------------------------------------------------------------------
    def _files(self) -> list[Path]:
        files: list[Path] = []
        for root in self.paths:
            try:
                files.extend(watched_files(root))
            except OSError:
                continue
        return list(dict.fromkeys(files))

    def poll_once(self) -> int:
        """Read the new complete lines of every followed file; how many events were applied."""
        applied = 0
        with self._lock:
            for path in self._files():
                tail = self._tails.setdefault(str(path), _Tail(path, 0, _inode(path)))
                applied += self._read(tail)
            if applied:
                self.version += 1
        return applied

    def _read(self, tail: _Tail) -> int:
        try:
            stat = tail.path.stat()
        except OSError:
            return 0
        if stat.st_ino != tail.inode or stat.st_size < tail.offset:  # rotated or truncated: a new file
            tail.inode, tail.offset, tail.plain = stat.st_ino, 0, None
        if stat.st_size == tail.offset:
            return 0
        if tail.plain is None:
            tail.plain = _is_plain_queue_log(tail.path)
        if not tail.plain:
            tail.offset = stat.st_size
            return 0
        with tail.path.open("rb") as handle:
            handle.seek(tail.offset)
            chunk = handle.read(min(stat.st_size - tail.offset, MAX_READ))
        end = chunk.rfind(b"\n")
        if end < 0:
            return 0  # a line still being written
        tail.offset += end + 1
        applied = 0
        for line in chunk[:end].decode("utf-8", errors="replace").splitlines():
            event = parse_line(line, self.db.settings)
            if event is not None and event.epoch >= self._since:
                apply(self._state, event)
                applied += 1
        return applied

    # -- what the wallboard shows ---------------------------------------------------------------
    def snapshot(self, known_queues: Sequence[str] = ()) -> Snapshot:
        with self._lock:
            return snapshot(self._state, self.clock(), known_queues)

    def window_service_level(self) -> dict[str, dict[int, dict[str, float | None]]]:
        """queue ("" for all) -> window minutes -> service level and counts of the legs ended in it."""
        now = self.clock()
        with self._lock:
            key = (self._state.closed_total, int(now // WINDOW_EVERY_S))
            if self._window_cache is not None and self._window_cache[0] == key:
                return self._window_cache[1]
            windows = window_legs(self._state, now)
        figures = self._windows.compute(windows, self.db.params())
        self._window_cache = (key, figures)
        return figures


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _is_plain_queue_log(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return sniff(handle.read(4096)) == FORMAT_PLAIN
    except OSError:
        return False


_HUB_LOCK = threading.Lock()


def hub_of(state: object, db: Database, paths: Sequence[Path]) -> LiveHub:
    """The app's hub (``state``: the app's ``state``), made and started on first use."""
    with _HUB_LOCK:
        hub = getattr(state, "live_hub", None)
        if hub is None:
            hub = LiveHub(db, paths)
            state.live_hub = hub  # type: ignore[attr-defined]
        hub.start()
        return hub

