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
        if sniffed != name:
            raise ImportError_(
                f"{path}: does not look like {name} (first line: {_first_line(head)!r}); "
                "check --format or leave it out to detect the format"
            )
    zone = timezone or settings.params.timezone
    return FORMATS[name].load(store, path, settings, timezone=zone, progress=progress)


def _first_line(head: bytes) -> str:
    return head.splitlines()[0][:80].decode("utf-8", errors="replace") if head.strip() else ""


# -- CDR-type sources (issue 3): registered after queue_log, the generic mapping first so that a
# mapping named in $CALLKPI_MAPPING wins over the Asterisk header it may resemble.
from callkpi.ingest import cdr_asterisk, cdr_freeswitch, cdr_generic  # noqa: E402

register(
    SourceFormat(
        cdr_generic.FORMAT,
        "call export of any cloud PBX read through a mapping ([cdr] mapping or $CALLKPI_MAPPING: a "
        "TOML/YAML file or twilio, bitrix24, mango, zadarma, yeastar, elastix-callcenter)",
        cdr_generic.sniff,
        cdr_generic.load,
    )
)
register(
    SourceFormat(
        cdr_asterisk.FORMAT,
        "Asterisk CDR: cdr-csv Master.csv (no header) or a CSV export of the cdr table (FreePBX, Elastix, PBXware)",
        cdr_asterisk.sniff,
        cdr_asterisk.load,
    )
)
register(
    SourceFormat(
        cdr_freeswitch.FORMAT_CSV,
        "FreeSWITCH mod_cdr_csv file ([cdr] freeswitch_template or freeswitch_columns name its columns)",
        cdr_freeswitch.sniff_csv,
        cdr_freeswitch.load_csv,
    )
)
register(
    SourceFormat(
        cdr_freeswitch.FORMAT_JSON,
        "FreeSWITCH mod_json_cdr documents (a file per leg, a JSON array, or one document per line)",
        cdr_freeswitch.sniff_json,
        cdr_freeswitch.load_json,
    )
)

# CRM deals, surveys, costs, staff, training and schedules register their layouts here too, and QA
# reviews done elsewhere (ahead of surveys, whose score column they share).
from callkpi.ingest import business, qa_reviews  # noqa: E402,F401
