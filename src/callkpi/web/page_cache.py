"""Rendered answers cached per data version and per what the reader may see.

Twenty people looking at the same overview ask the same question: the answer (the HTML page or
the JSON body) is kept once it is rendered and handed out again until new data arrives. The key
holds everything an answer depends on besides the data:

- the data version and the metric parameters (a new import, a changed setting: a new key);
- the reader's scope: role, forced agent/queues/teams, language, session or token, so an answer
  never crosses from one scope to another;
- for answers kept per reader (the API's JSON): the user name and the session's CSRF token too;
- the page and its query string, and the htmx headers that choose a fragment over a page;
- the header badges (watched files in trouble, alerts firing), which change without new data.

Pages are rendered once per scope, not once per session (:func:`shared_reader`): they are rendered
for a stand-in reader whose user name and CSRF token are random marks, and each answer handed out
gets the asking session's own name and token put in place of the marks (:func:`fill_marks`), so
100 supervisors of the same queues share one rendering and each still gets their own token.

A bounded LRU (entries and bytes) with a time limit, so a page that shows the clock (e.g. "loaded
2 min ago") is never older than :data:`MAX_AGE_S`. Only complete 200 answers without cookies are kept.

Compressed once: a kept answer is also kept gzip-compressed (:class:`Gzipped`), so handing it out
compressed costs no compression. A shared rendering is compressed in pieces, cut at the marks: each
piece on its own (the compressor's dictionary reset between pieces) and the name and CSRF token of
the reader put between them uncompressed (deflate *stored* blocks), so one compression serves
every session, and the token never goes through the compressor (nothing of it shows in sizes).
"""

from __future__ import annotations

import re
import secrets
import struct
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace

from fastapi.responses import Response

from callkpi.web.scope import Principal

MAX_ENTRIES = 128
MAX_BYTES = 64 * 1024 * 1024
MAX_AGE_S = 30.0
WAIT_S = 60.0  # how long a reader waits for another one rendering the same answer
STALE_S = 60.0  # an older answer of the same page and reader handed out while the new one renders
_HEADERS_THAT_SELECT = ("hx-request", "hx-history-restore-request", "hx-target", "accept")
# Stand-ins for the user name and the CSRF token in a shared rendering: random per process (no data
# can hold them), letters and digits only (HTML and JSON escaping leave them as they are).
_MARK = "ckmark" + secrets.token_hex(8)
NAME_MARK, CSRF_MARK = _MARK + "n", _MARK + "c"
# What may be put in place of a mark unescaped: user names (auth.USERNAME) and CSRF tokens
# (token_urlsafe) are made of these; anything else is rendered for its reader alone.
_PLAIN = re.compile(r"[A-Za-z0-9_.@-]{1,100}")
Fill = Callable[[bytes], bytes]
GZIP_MIN_BYTES = 512  # smaller answers are sent as they are (as CompressWhenSafe does)
GZIP_LEVEL = 6
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no time, OS unknown
_MARKS = re.compile(re.escape(NAME_MARK.encode()) + b"|" + re.escape(CSRF_MARK.encode()))


@dataclass(frozen=True)
class Gzipped:
    """A body gzip-compressed once, in pieces cut at the name and CSRF marks (see the module's text):
    :meth:`filled` gives the gzip of the body with a reader's name and token in place of the marks."""

    pieces: tuple[bytes, ...]  # each constant piece of the body, compressed, ending byte-aligned
    spans: tuple[tuple[int, int], ...]  # where each piece is in the body (for the checksum)
    marks: tuple[int, ...]  # between piece i and i + 1: 0 the name, 1 the CSRF token
    tail: bytes  # the final empty block

    @property
    def size(self) -> int:
        return sum(map(len, self.pieces))

    def filled(self, body: bytes, name: bytes = b"", csrf: bytes = b"") -> bytes:
        out, crc, length = [_GZIP_HEADER], 0, 0
        view = memoryview(body)
        for index, (start, end) in enumerate(self.spans):
            out.append(self.pieces[index])
            crc = zlib.crc32(view[start:end], crc)
            length += end - start
            if index < len(self.marks):
                value = csrf if self.marks[index] else name
                out.append(_stored_block(value))
                crc = zlib.crc32(value, crc)
                length += len(value)
        out.append(self.tail)
        out.append(struct.pack("<II", crc & 0xFFFFFFFF, length & 0xFFFFFFFF))
        return b"".join(out)


def _stored_block(value: bytes) -> bytes:
    """A deflate stored block (not the last) holding ``value`` as it is; starts byte-aligned."""
    return b"\x00" + struct.pack("<HH", len(value), len(value) ^ 0xFFFF) + value


def gzipped(body: bytes, level: int = GZIP_LEVEL) -> Gzipped | None:
    """``body`` compressed in pieces cut at the marks; None when it holds a mark changed by the
    template (:class:`MarkLeft`) or a value too long for a stored block could stand in a mark."""
    spans: list[tuple[int, int]] = []
    marks: list[int] = []
    start = 0
    for found in _MARKS.finditer(body):
        spans.append((start, found.start()))
        marks.append(0 if found.group() == NAME_MARK.encode() else 1)
        start = found.end()
    spans.append((start, len(body)))
    if any(_MARK.encode() in body[a:b] for a, b in spans):
        return None
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    pieces = tuple(compressor.compress(body[a:b]) + compressor.flush(zlib.Z_FULL_FLUSH) for a, b in spans)
    return Gzipped(pieces, tuple(spans), tuple(marks), compressor.flush(zlib.Z_FINISH))


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]
    media_type: str | None
    made: float
    gzip: Gzipped | None = None  # None: too small to compress, or a mark left (never handed out compressed)

    @property
    def size(self) -> int:
        return len(self.body) + (self.gzip.size if self.gzip else 0)


class PageCache:
    """A thread-safe LRU of rendered answers; :meth:`clear` when data changes without a new version.

    Stale while revalidating: an answer missing for a new data version (or aged out) is asked for by
    everybody at once after a ``serve --watch`` load. The first reader renders it; when the same
    page of the same reader (its *family*: the key without the data version) was answered within
    :data:`STALE_S`, the others get that answer meanwhile instead of waiting for the render."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES, max_age_s: float = MAX_AGE_S,
                 clock: Callable[[], float] = time.monotonic, stale_s: float = STALE_S) -> None:
        self.max_entries, self.max_bytes, self.max_age_s, self.stale_s = max_entries, max_bytes, max_age_s, stale_s
        self._clock = clock
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, _Answer] = OrderedDict()
        self._latest: OrderedDict[Hashable, _Answer] = OrderedDict()  # family -> its newest answer
        self._bytes = 0
        self._making: dict[Hashable, threading.Event] = {}
        self.kinds: dict[str, str] = {}  # path -> "shared" | "reader": how its answers are keyed (FastAnswers)
        self.hits = self.misses = self.stale = 0

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        """Forget every answer, stale ones too (a write changed what pages show)."""
        with self._lock:
            self._items.clear()
            self._latest.clear()
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

    def kept(self, key: Hashable) -> _Answer | None:
        """The fresh answer of ``key`` if there is one (counted as a hit), without rendering or waiting."""
        with self._lock:
            answer = self._items.get(key)
            if answer is None or self._clock() - answer.made > self.max_age_s:
                return None
            self.hits += 1
            return answer

    def kept_or_stale(self, key: Hashable, family: Hashable | None) -> _Answer | None:
        """:meth:`kept`, or while another reader renders ``key``, the answer :meth:`answer` would hand
        out meanwhile (the family's within :data:`STALE_S`); None when the request must render it."""
        with self._lock:
            answer = self._items.get(key)
            if answer is not None and self._clock() - answer.made <= self.max_age_s:
                self.hits += 1
                return answer
            return self._stale(family) if key in self._making else None

    def answer(self, key: Hashable, make: Callable[[], Response], fill: Fill | None = None,
               family: Hashable | None = None) -> Response:
        """The kept answer, or ``make()``'s. One reader renders a missing answer while the others
        asking for the same key wait for it: after new data, 100 readers do not render it 100 times;
        with a ``family`` answered within :data:`STALE_S` the others do not wait: they get that
        answer until the new one is made. ``fill``: turns the kept body into this reader's
        (:func:`fill_marks`)."""
        kept = self.get(key)
        if kept is None:
            with self._lock:
                making = self._making.get(key)
                mine = making is None
                if making is None:
                    making = self._making[key] = threading.Event()
                stale = None if mine else self._stale(family)
            if stale is not None:
                return _respond(stale, fill)
            if mine:
                try:
                    response = make()
                    self.put(key, response, family)
                    return _filled(response, fill)
                finally:
                    with self._lock:
                        self._making.pop(key, None)
                    making.set()
            making.wait(timeout=WAIT_S)
            kept = self._peek(key)
            if kept is None:  # not kept (an error page, too large) or too slow: render it here
                return _filled(make(), fill)
        return _respond(kept, fill)

    def _stale(self, family: Hashable | None) -> _Answer | None:
        if family is None:
            return None
        answer = self._latest.get(family)
        if answer is None or self._clock() - answer.made > self.stale_s:
            return None
        self.stale += 1
        return answer

    def _peek(self, key: Hashable) -> _Answer | None:
        with self._lock:
            answer = self._items.get(key)
            return answer if answer is not None and self._clock() - answer.made <= self.max_age_s else None

    def put(self, key: Hashable, response: Response, family: Hashable | None = None) -> None:
        body = getattr(response, "body", None)
        if response.status_code != 200 or not isinstance(body, bytes) or len(body) > self.max_bytes // 4:
            return
        if any(name.lower() == "set-cookie" for name in response.headers):
            return
        headers = tuple((k, v) for k, v in response.headers.items() if k.lower() != "content-length")
        packed = gzipped(body) if len(body) >= GZIP_MIN_BYTES else None
        answer = _Answer(response.status_code, body, headers, response.media_type, self._clock(), packed)
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = answer
            self._bytes += answer.size
            if family is not None:
                self._latest[family] = answer
                self._latest.move_to_end(family)
            while self._items and (len(self._items) > self.max_entries or self._bytes > self.max_bytes):
                self._drop(next(iter(self._items)))
            while len(self._latest) > self.max_entries:
                self._latest.popitem(last=False)

    def drop(self, key: Hashable) -> None:
        with self._lock:
            if key in self._items:
                self._drop(key)

    def _drop(self, key: Hashable) -> None:
        answer = self._items.pop(key)
        self._bytes -= answer.size


def _respond(answer: _Answer, fill: Fill | None) -> Response:
    body = fill(answer.body) if fill else answer.body
    return Response(body, status_code=answer.status, headers=dict(answer.headers), media_type=answer.media_type)


def reader_key(me: Principal) -> tuple:
    """Everything about the reader an answer may depend on (scope, masking, language, forms' CSRF)."""
    user = me.user
    return (user.username, user.role, user.agent, tuple(user.queues), tuple(user.teams), user.lang, me.via, me.csrf)


def shared_reader(me: Principal) -> Principal | None:
    """The stand-in reader of ``me``'s scope a shared rendering is made for: ``me`` with the user name
    and CSRF token replaced by marks; None when ``me``'s name or token cannot be put in plainly."""
    if not _PLAIN.fullmatch(me.user.username) or (me.csrf and not _PLAIN.fullmatch(me.csrf)):
        return None
    return Principal(replace(me.user, username=NAME_MARK, password_hash=""), me.via, CSRF_MARK if me.csrf else "")


def scope_key(me: Principal) -> tuple:
    """What a shared rendering depends on about its readers: everything but the name and the token."""
    user = me.user
    return ("scope", user.role, user.agent, tuple(user.queues), tuple(user.teams), user.lang, me.via, bool(me.csrf))


def fill_marks(me: Principal) -> Fill:
    """A shared body with ``me``'s user name and CSRF token in place of the marks."""
    name, csrf = me.user.username.encode(), me.csrf.encode()

    def fill(body: bytes) -> bytes:
        if _MARK.encode() not in body:
            return body
        body = body.replace(NAME_MARK.encode(), name).replace(CSRF_MARK.encode(), csrf)
        if _MARK.encode() in body:  # a mark changed by the template (a filter): never hand it out
            raise MarkLeft()
        return body

    return fill


class MarkLeft(Exception):
    """A shared rendering holds a mark that :func:`fill_marks` could not put back."""


def _filled(response: Response, fill: Fill | None) -> Response:
    body = getattr(response, "body", None)
    if fill is None or not isinstance(body, bytes):
        return response
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return Response(fill(body), status_code=response.status_code, headers=headers, media_type=response.media_type)


def family_of(key: tuple) -> tuple:
    """A key without its data version (the first item): the same page of the same reader."""
    return key[1:]
