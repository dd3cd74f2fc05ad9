"""Asterisk CDR: cdr-csv ``Master.csv`` (no header; the default 16-, 17-, 18- and 21-column orders)
and CSV exports of the ``cdr`` table (FreePBX "CDR Reports", Elastix, PBXware, phpMyAdmin...:
header with any column order; columns this loader does not use are kept in ``extra``).

A headerless table export (calldate first) is read with the FreePBX/cdr_mysql orders of 16, 23,
25 or 26 columns; any other order is named in ``[cdr] asterisk_columns``. The order is decided
once per file, from its first line; a row with another number of fields is quarantined.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from callkpi.config import Settings
from callkpi.ingest.base import FileChunk, ImportReport, first_csv_cells
from callkpi.ingest.cdr.driver import Progress, chunk_batches, csv_error, csv_records, first_record, load_records
from callkpi.ingest.cdr.staging import Batch, StagedRows
from callkpi.ingest.source_format import SourceFormat
from callkpi.storage import Store

FORMAT = "asterisk-cdr"
SOURCE = "asterisk_cdr"

_CDR_CSV_16 = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
    "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
)
_TABLE_16 = (
    "calldate", "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata",
    "duration", "billsec", "disposition", "amaflags", "accountcode", "uniqueid", "userfield",
)
_FREEPBX_23 = (*_TABLE_16, "did", "recordingfile", "cnum", "cnam", "outbound_cnum", "outbound_cnam", "dst_cnam")
LAYOUTS: dict[str, tuple[str, ...]] = {
    "cdr-csv-16": _CDR_CSV_16,
    "cdr-csv-17": (*_CDR_CSV_16, "uniqueid"),
    "cdr-csv-18": (*_CDR_CSV_16, "uniqueid", "userfield"),
    "cdr-csv-21": (*_CDR_CSV_16, "uniqueid", "userfield", "peeraccount", "linkedid", "sequence"),
    "table-16": _TABLE_16,
    "freepbx-23": _FREEPBX_23,
    # Seen in a FreePBX 13 export (freepbx-pt-2017): recording file in column 17, cnum/cnam in
    # 19/20; the empty columns whose meaning the file does not show are kept as column_NN.
    "freepbx-25": (*_TABLE_16, "recordingfile", "column_18", "cnum", "cnam", "column_21", "column_22",
                   "column_23", "column_24", "column_25"),
    "freepbx-26": (*_FREEPBX_23, "linkedid", "peeraccount", "sequence"),
}

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "start": ("start", "calldate", "call_date", "starttime", "start_time", "date"),
    "answer": ("answer", "answertime", "answer_time"),
    "end": ("end", "endtime", "end_time"),
    "src": ("src", "source"),
    "dst": ("dst", "destination"),
    "clid": ("clid", "callerid", "caller_id"),
    "dcontext": ("dcontext", "context"),
    "channel": ("channel",),
    "dstchannel": ("dstchannel", "dst_channel"),
    "lastapp": ("lastapp", "last_app"),
    "lastdata": ("lastdata", "last_data"),
    "duration": ("duration",),
    "billsec": ("billsec", "bill_sec"),
    "disposition": ("disposition", "status"),
    "uniqueid": ("uniqueid", "unique_id"),
    "linkedid": ("linkedid", "linked_id"),
    "sequence": ("sequence",),
    "did": ("did",),
    "recording": ("recordingfile", "recording", "recording_file"),
    "trunk": ("trunk",),
}
DISPOSITIONS = {
    "ANSWERED": "answered", "ANSWER": "answered",
    "NO ANSWER": "no_answer", "NOANSWER": "no_answer", "CANCEL": "no_answer",
    "BUSY": "busy",
    "FAILED": "failed", "CONGESTION": "failed", "CHANUNAVAIL": "failed",
}
_DATE = re.compile(r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})[ T]\d{1,2}:\d{2}")


def sniff(head: bytes) -> str | None:
    cells = first_csv_cells(head)
    if cells is None:
        return None
    if _is_header(cells) or detect_layout(cells) is not None:
        return FORMAT
    # any other headerless order ([cdr] asterisk_columns): a date and a disposition somewhere
    values = [cell.strip() for cell in cells]
    if any(_DATE.match(v) for v in values) and any(v.upper() in DISPOSITIONS for v in values):
        return FORMAT
    return None


def _is_header(cells: list[str]) -> bool:
    names = {cell.strip().strip('"').lower() for cell in cells}
    return "disposition" in names and bool(names & {"calldate", "start", "call_date"}) and bool(
        names & {"src", "dst", "source", "destination"})


def detect_layout(cells: list[str]) -> str | None:
    """The default column order a headerless first row fits: right count, a date where the
    order has its start time, a disposition where it has the disposition."""
    for name, columns in LAYOUTS.items():
        if len(columns) != len(cells):
            continue
        row = dict(zip(columns, cells, strict=True))
        start = row.get("start") or row.get("calldate") or ""
        if _DATE.match(start) and row["disposition"].strip().upper() in DISPOSITIONS:
            return name
    return None


def load(
    store: Store, path: Path, settings: Settings, *, timezone: str, progress: Progress | None = None
) -> ImportReport:
    """Load one Asterisk CDR file into the canonical model."""
    def read(start_offset: int, first_line: int) -> Iterator[Batch]:
        columns, has_header = _columns(path, settings)
        return chunk_batches(
            path, start_offset, first_line,
            lambda chunk: _stage_chunk(chunk, columns, has_header=has_header, settings=settings),
        )

    return load_records(store, path, settings, fmt=FORMAT, source=SOURCE, timezone=timezone,
                        read_batches=read, progress=progress)


def _columns(path: Path, settings: Settings) -> tuple[tuple[str, ...] | None, bool]:
    """The file's column names and whether its first record is a header."""
    cells = first_record(path) or []
    if _is_header(cells):
        return tuple(cell.strip().strip('"').lower() for cell in cells), True
    if settings.cdr.asterisk_columns:
        return tuple(c.lower() for c in settings.cdr.asterisk_columns), False
    layout = detect_layout(cells)
    return (LAYOUTS[layout] if layout else None), False


def _stage_chunk(chunk: FileChunk, columns: tuple[str, ...] | None, *, has_header: bool,
                 settings: Settings) -> StagedRows:
    rows = StagedRows()
    good_lines: list[int] = []
    good_raw: list[str] = []
    good_cells: list[list[str]] = []
    for line_no, raw, cells in csv_records(chunk):
        if has_header and line_no == 1:
            continue
        issue = csv_error(cells)
        if issue is None and columns is None:
            issue = (f"{len(cells)} fields match no Asterisk CDR column order (16, 17, 18, 21; table exports "
                     "16, 23, 25, 26): name the order in [cdr] asterisk_columns")
        elif issue is None and len(cells) != len(columns or ()):
            where = "header" if has_header else "first line"
            issue = f"{len(cells)} fields; this file's {where} has {len(columns or ())}"
        if issue:
            rows.add(line_no, raw, None, issue)
        else:
            good_lines.append(line_no)
            good_raw.append(raw)
            good_cells.append(cells)
    if good_cells and columns:
        rows.add_columns(good_lines, good_raw, _staged_columns(columns, good_cells, settings))
    return rows


def _staged_columns(names: tuple[str, ...], cells: list[list[str]], settings: Settings) -> dict[str, list]:
    """The staged fields of many rows at once, column by column (big files load fast)."""
    by_name = dict(zip(names, (list(column) for column in zip(*cells, strict=True)), strict=True))
    values: dict[str, list] = {}
    used: set[str] = set()
    for field_name, aliases in HEADER_ALIASES.items():
        name = next((a for a in aliases if a in by_name), None)
        if name is not None:
            values[field_name] = by_name[name]
            used.add(name)
    values["leg_key"] = values.pop("uniqueid", None)
    values["call_key"] = values.pop("linkedid", None)
    values["outcome"] = [DISPOSITIONS.get(d.strip().upper()) for d in values.get("disposition") or ["" for _ in cells]]
    campaign_field = settings.cdr.campaign_field.lower()
    if campaign_field in by_name:
        values["campaign"] = by_name[campaign_field]
    extra_names = [n for n in names if n not in used]
    if extra_names:
        values["extra"] = [_json(extra_names, row) for row in zip(*(by_name[n] for n in extra_names), strict=True)]
    return values


def _json(names: list[str], row: tuple[str, ...]) -> str | None:
    kept = {name: cell for name, cell in zip(names, row, strict=True) if cell.strip() and cell.strip() != "NULL"}
    return json.dumps(kept, ensure_ascii=False) if kept else None


SOURCE_FORMATS: tuple[SourceFormat, ...] = (
    SourceFormat(
        FORMAT,
        "Asterisk CDR: cdr-csv Master.csv (no header) or a CSV export of the cdr table (FreePBX, Elastix, PBXware)",
        sniff,
        load,
    ),
)
