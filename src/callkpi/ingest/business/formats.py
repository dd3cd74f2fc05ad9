"""The business formats: XLSX of any kind (recognised by its header row) first, then one per kind."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from callkpi.config import Settings
from callkpi.ingest.base import ImportError_, ImportReport
from callkpi.ingest.business.layouts import KIND_ORDER, KINDS, MAPPING_ENV, XLSX_FORMAT
from callkpi.ingest.business.loader import Progress, load_business
from callkpi.ingest.business.mappings import candidate_mappings, fits, header_key
from callkpi.ingest.business.reader import header_of, is_xlsx, read_table
from callkpi.ingest.source_format import SourceFormat
from callkpi.storage import Store


def sniff_kind(kind: str) -> Callable[[bytes], str | None]:
    """A sniffer: the kind's name when the CSV header fits one of its mappings, or has a column only
    this kind has (loading then says which columns are missing). Any XLSX is accepted so that
    ``--format KIND`` works; auto-detection gives XLSX files to business-xlsx first."""

    def sniff(head: bytes) -> str | None:
        if is_xlsx(head):
            return kind
        header = header_of(head)
        if not header:
            return None
        keys = [header_key(h) for h in header]
        try:
            mappings = candidate_mappings(kind)
        except ImportError_:
            return None
        if any(fits(m, keys) for m in mappings):
            return kind
        return kind if {header_key(m) for m in KINDS[kind].markers} & set(keys) else None

    return sniff


def detect_kind(header: Sequence[str]) -> str | None:
    keys = [header_key(h) for h in header]
    for kind in KIND_ORDER:
        if any(fits(m, keys) for m in candidate_mappings(kind)):
            return kind
    return None


def sniff_xlsx(head: bytes) -> str | None:
    return XLSX_FORMAT if is_xlsx(head) and (b"xl/" in head or b"[Content_Types].xml" in head) else None


def load_xlsx_any(store: Store, path: Path, settings: Settings, *, timezone: str,
                  progress: Progress | None = None) -> ImportReport:
    """An XLSX workbook of any business kind: the kind is read from its header row."""
    table = read_table(path)
    kind = detect_kind(table.header)
    if kind is None:
        raise ImportError_(f"{path}: the header ({', '.join(table.header) or 'empty'}) fits no business layout "
                           f"({', '.join(KIND_ORDER)}); name the columns in a mapping (${MAPPING_ENV})")
    return load_business(kind, store, path, settings, timezone=timezone, progress=progress)


def kind_loader(kind: str) -> Callable[..., ImportReport]:
    def load(store: Store, path: Path, settings: Settings, *, timezone: str,
             progress: Progress | None = None) -> ImportReport:
        return load_business(kind, store, path, settings, timezone=timezone, progress=progress)

    return load


#: XLSX by header first, then one per kind in detection order.
SOURCE_FORMATS: tuple[SourceFormat, ...] = (
    SourceFormat(XLSX_FORMAT, "XLSX workbook of any business kind, recognised by its header row",
                 sniff_xlsx, load_xlsx_any),
    *(SourceFormat(kind, f"{KINDS[kind].description} (CSV or XLSX; see docs/business.md)",
                   sniff_kind(kind), kind_loader(kind)) for kind in KIND_ORDER),
)
