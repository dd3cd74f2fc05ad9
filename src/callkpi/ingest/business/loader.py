"""Loading one business file: every row is checked; a bad row goes to the quarantine with file, line
and reason while the rest loads. A file is known by its content: loading it again adds nothing; a
changed file replaces what it gave before; a newer export replaces the rows of an older one for the
same deal, agent or team. Each file loads in one transaction, which ends by refreshing what is
derived from business data and calls (:func:`callkpi.ingest.business.attribution.refresh`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from callkpi.config import Settings
from callkpi.ingest.base import ImportReport, LineIssue, quarantine_rows, record_source, start_import
from callkpi.ingest.business import attribution, costs, deals, schedules, staff, surveys, training_events
from callkpi.ingest.business.agents import refresh_agent_lookup
from callkpi.ingest.business.layouts import KINDS
from callkpi.ingest.business.mappings import choose_mapping, header_key
from callkpi.ingest.business.reader import RawTable, read_table
from callkpi.ingest.business.rows import ParseContext, Row, RowError
from callkpi.storage import Store, first_row
from callkpi.storage.business_tables import ensure_business_schema

Progress = Callable[[int], None]

# The module that parses and stores the rows of each kind (named by the kind's layout).
_KIND_MODULES: dict[str, Any] = {
    "deals": deals,
    "surveys": surveys,
    "costs": costs,
    "staff": staff,
    "training_events": training_events,
    "schedules": schedules,
}


def load_business(
    kind: str,
    store: Store,
    path: Path,
    settings: Settings,
    *,
    timezone: str,
    progress: Progress | None = None,
) -> ImportReport:
    """Load one business file of ``kind`` in one transaction (see the module docstring)."""
    report = ImportReport(path=str(path), format=kind)
    ensure_business_schema(store)
    start = start_import(store, path, report)
    if start is None:
        return report
    known, size = start.known, path.stat().st_size
    table = read_table(path)
    mapping = choose_mapping(kind, table.header)
    if mapping.encoding != "auto" or mapping.delimiter != "auto" or mapping.sheet:
        table = read_table(path, mapping)
    zone = ZoneInfo(mapping.timezone or timezone)
    source_id = start.source_id
    ctx = ParseContext(kind, mapping, zone, settings, path, source_id)
    module = _KIND_MODULES[KINDS[kind].module]
    records, issues = _parse_rows(module, table, ctx)
    if known is not None:
        report.status = "appended"
        report.messages.append("the file changed since the last load; its rows are replaced")
    with store.transaction():
        module.forget_source(store, kind, source_id)
        store.connection.execute("DELETE FROM quarantine WHERE source_id = ?", [source_id])
        store.connection.execute("DELETE FROM data_quality WHERE source = ?", [f"{kind}#{source_id}"])
        refresh_agent_lookup(store, settings)
        module.store_records(store, kind, source_id, records, report)
        quarantine_rows(store, source_id, path, issues)
        _store_findings(store, ctx)
        attribution.refresh(store, settings)
        report.calls = _calls_in_store(store)
        report.lines_read = len(table.rows)
        report.quarantined = len(issues)
        report.lines_loaded = len(records)
        report.issues = issues
        report.messages.insert(0, f"read with the {mapping.name} layout ({mapping.kind})")
        record_source(store, path=path, fmt=kind, source_id=source_id, known=known, bytes_loaded=size,
                      lines_read=table.last_line, lines_loaded=len(records), report=report, timezone=timezone)
    if progress:
        progress(size)
    return report


def forget_business(store: Store, settings: Settings, kind: str, source_id: int) -> int:
    """Remove the rows business file ``source_id`` gave (inside the caller's transaction) and refresh
    what is derived from them; returns how many rows the file had loaded."""
    row = first_row(store.connection.execute("SELECT lines_loaded FROM sources WHERE source_id = ?", [source_id]))
    _KIND_MODULES[KINDS[kind].module].forget_source(store, kind, source_id)
    store.connection.execute("DELETE FROM data_quality WHERE source = ?", [f"{kind}#{source_id}"])
    refresh_agent_lookup(store, settings)
    attribution.refresh(store, settings)
    return int(row[0] or 0) if row else 0


def _calls_in_store(store: Store) -> int:
    row = first_row(store.connection.execute("SELECT count(*) FROM calls"))
    return int(row[0]) if row else 0


def _parse_rows(module: Any, table: RawTable, ctx: ParseContext) -> tuple[list[dict[str, Any]], list[LineIssue]]:
    keys = [header_key(h) for h in table.header]
    records: list[dict[str, Any]] = []
    issues: list[LineIssue] = []
    first_line_of: dict[object, int] = {}
    for raw in table.rows:
        if raw.error is not None:
            issues.append(LineIssue(raw.line_no, raw.raw, raw.error))
            continue
        if "\x00" in raw.raw:  # as the call importers do: a value with a NUL is not text
            issues.append(LineIssue(raw.line_no, raw.raw, "not text: binary data"))
            continue
        if len(raw.cells) > len(keys) and any(str(c).strip() for c in raw.cells[len(keys):]):
            issues.append(LineIssue(raw.line_no, raw.raw, f"{len(raw.cells)} cells but the header has "
                                    f"{len(keys)} columns (an unquoted separator inside a value?)"))
            continue
        row = Row(raw.line_no, raw.raw, dict(zip(keys, raw.cells, strict=False)), ctx.mapping)
        try:
            record = module.parse_row(row, ctx)
        except RowError as exc:
            issues.append(LineIssue(raw.line_no, raw.raw, str(exc)))
            continue
        key = module.duplicate_key(record)
        if key is not None and key in first_line_of:
            issues.append(LineIssue(raw.line_no, raw.raw, f"repeats line {first_line_of[key]} "
                                    f"({module.describe_key(key)})"))
            continue
        if key is not None:
            first_line_of[key] = raw.line_no
        record.update(source_id=ctx.source_id, line_no=raw.line_no)
        records.append(record)
    return records, issues


def _store_findings(store: Store, ctx: ParseContext) -> None:
    if not ctx.findings:
        return
    store.append_arrow(
        "data_quality",
        pa.table({
            "source": pa.array([f"{ctx.kind}#{ctx.source_id}"] * len(ctx.findings)),
            "kind": pa.array([f"{ctx.kind}_value"] * len(ctx.findings)),
            "call_id": pa.array([None] * len(ctx.findings), pa.string()),
            "agent": pa.array([None] * len(ctx.findings), pa.string()),
            "time_utc": pa.array([None] * len(ctx.findings), pa.timestamp("us")),
            "detail": pa.array([f"{ctx.path}:{line}: {detail}" for line, detail in ctx.findings]),
        }),
    )
