"""Every importable format: its name, how to recognise it, how to load it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from callkpi.config import Settings
from callkpi.ingest import queue_log
from callkpi.ingest.base import ImportError_, ImportReport
from callkpi.storage import Store

Loader = Callable[..., ImportReport]


@dataclass(frozen=True)
class SourceFormat:
    name: str
    description: str
    sniff: Callable[[bytes], str | None]  # returns the format name it recognises, or None
    load: Loader


FORMATS: dict[str, SourceFormat] = {}


def register(fmt: SourceFormat) -> None:
    FORMATS[fmt.name] = fmt


register(
    SourceFormat(
        queue_log.FORMAT_PLAIN,
        "Asterisk queue_log file (epoch|callid|queue|agent|EVENT|data...)",
        queue_log.sniff,
        lambda store, path, settings, **kw: queue_log.load(store, path, settings, fmt=queue_log.FORMAT_PLAIN, **kw),
    )
)
register(
    SourceFormat(
        queue_log.FORMAT_CSV,
        "CSV export of the realtime queue_log table (time, callid, queuename, agent, event, data...)",
        queue_log.sniff,
        lambda store, path, settings, **kw: queue_log.load(store, path, settings, fmt=queue_log.FORMAT_CSV, **kw),
    )
)


def detect(path: Path) -> str:
    """The format of a file, from its first bytes."""
    with path.open("rb") as handle:
        head = handle.read(65536)
    if not head.strip():
        raise ImportError_(f"{path}: file is empty")
    for fmt in FORMATS.values():
        found = fmt.sniff(head)
        if found:
            return found
    raise ImportError_(
        f"{path}: format not recognised; name it with --format ({', '.join(FORMATS)})"
    )


def load_file(
    store: Store,
    path: Path,
    settings: Settings,
    *,
    fmt: str | None = None,
    timezone: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    if not path.is_file():
        raise ImportError_(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ImportError_(f"{path}: file is empty")
    name = fmt or detect(path)
    if name not in FORMATS:
        raise ImportError_(f"unknown format {name!r}; known: {', '.join(FORMATS)}")
    if fmt is not None:
        with path.open("rb") as handle:
            head = handle.read(65536)
        sniffed = FORMATS[name].sniff(head)
        if sniffed is None:
            raise ImportError_(
                f"{path}: does not look like {name} (first line: {_first_line(head)!r}); "
                "check --format or leave it out to detect the format"
            )
    zone = timezone or settings.params.timezone
    return FORMATS[name].load(store, path, settings, timezone=zone, progress=progress)


def _first_line(head: bytes) -> str:
    return head.splitlines()[0][:80].decode("utf-8", errors="replace") if head.strip() else ""
