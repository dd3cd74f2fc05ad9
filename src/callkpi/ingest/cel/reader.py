"""Reading Asterisk CEL files into rows of named fields.

Two shapes: a CSV of the ``cel`` table with a header naming its columns (any subset, any order,
``id`` allowed: what a database export or callkpi's own database readers write), and the
``Master.csv`` of the cel_custom / cel-csv module (no header; the column order of the
``cel_custom.conf`` sample mapping, 20, 19 or 17 fields, decided from the file's first line).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from callkpi.ingest.base import FileChunk, first_csv_cells
from callkpi.ingest.cdr.driver import csv_error, csv_records

FORMAT_TABLE = "asterisk-cel-table"
FORMAT_CSV = "asterisk-cel-csv"

FIELDS = (
    "eventtype", "eventtime", "cid_name", "cid_num", "cid_ani", "cid_rdnis", "cid_dnid", "exten", "context",
    "channame", "appname", "appdata", "amaflags", "accountcode", "peeraccount", "uniqueid", "linkedid",
    "userfield", "userdeftype", "peer", "extra",
)
HEADER_ALIASES = {"eventextra": "extra", "event_extra": "extra", "bridgepeer": "peer", "userdeftype": "userdeftype",
                  "channel": "channame", "channel_name": "channame", "event_type": "eventtype",
                  "event_time": "eventtime", "unique_id": "uniqueid", "linked_id": "linkedid"}
REQUIRED = ("eventtype", "eventtime", "uniqueid")

_SAMPLE_HEAD = ("eventtype", "eventtime", "cid_name", "cid_num", "cid_ani", "cid_rdnis", "cid_dnid", "exten",
                "context", "channame", "appname", "appdata")
# cel_custom.conf: the sample mapping (20 fields), the same without userfield (19), and the short
# mapping some guides give (17: extra after appdata, account code last).
LAYOUTS: dict[int, tuple[str, ...]] = {
    20: (*_SAMPLE_HEAD, "amaflags", "accountcode", "uniqueid", "linkedid", "peer", "userfield", "userdeftype",
         "extra"),
    19: (*_SAMPLE_HEAD, "amaflags", "accountcode", "uniqueid", "linkedid", "peer", "userdeftype", "extra"),
    17: (*_SAMPLE_HEAD, "extra", "uniqueid", "linkedid", "peer", "accountcode"),
}

# Every event type of Asterisk 12+ (CEL-Specification "Record Types") and the ones it removed.
EVENT_TYPES = frozenset({
    "CHAN_START", "CHAN_END", "ANSWER", "HANGUP", "APP_START", "APP_END", "PARK_START", "PARK_END",
    "USER_DEFINED", "BRIDGE_ENTER", "BRIDGE_EXIT", "BLINDTRANSFER", "ATTENDEDTRANSFER", "PICKUP", "FORWARD",
    "LINKEDID_END", "LOCAL_OPTIMIZE", "LOCAL_OPTIMIZE_BEGIN", "HOLD", "UNHOLD", "STREAM_BEGIN", "STREAM_END",
    "DTMF",
    "BRIDGE_START", "BRIDGE_END", "BRIDGE_UPDATE", "CONF_START", "CONF_END", "CONF_ENTER", "CONF_EXIT",
    "HOOKFLASH", "3WAY_START", "3WAY_END", "TRANSFER",
})
_TIME = re.compile(r"^\s*(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?|\d{9,11}(\.\d+)?)\s*$")


def header_columns(cells: list[str]) -> tuple[str, ...] | None:
    """The field names of a header row of the cel table; None when the row is not one."""
    names = tuple(HEADER_ALIASES.get(n, n) for n in (c.strip().strip('"').lower() for c in cells))
    if not {"eventtype", "eventtime"} <= set(names) or not {"uniqueid", "linkedid"} & set(names):
        return None
    return names


def sniff_table(head: bytes) -> str | None:
    cells = first_csv_cells(head)
    return FORMAT_TABLE if cells is not None and header_columns(cells) is not None else None


def sniff_csv(head: bytes) -> str | None:
    cells = first_csv_cells(head)
    if cells is None or len(cells) not in LAYOUTS:
        return None
    return FORMAT_CSV if cells[0].strip().upper() in EVENT_TYPES and _TIME.match(cells[1]) else None


def layout_of(cells: list[str]) -> tuple[str, ...] | None:
    return LAYOUTS.get(len(cells))


def rows_of_chunk(chunk: FileChunk, columns: tuple[str, ...] | None, *, has_header: bool
                  ) -> Iterator[tuple[int, str, dict[str, str] | None, str | None]]:
    """(line, raw text, fields or None, reason when the record cannot be read) of each record."""
    for line_no, raw, cells in csv_records(chunk):
        if has_header and line_no == 1:
            continue
        issue = csv_error(cells)
        if issue is None and columns is None:
            issue = f"{len(cells)} fields match no cel_custom column order (20, 19 or 17 fields)"
        elif issue is None and len(cells) != len(columns or ()):
            where = "header" if has_header else "first line"
            issue = f"{len(cells)} fields; this file's {where} has {len(columns or ())}"
        if "\ufffd" in raw and issue is None:
            issue = "not valid text: bytes that are neither UTF-8 nor Windows-1251"
        if issue:
            yield line_no, raw, None, issue
            continue
        yield line_no, raw, dict(zip(columns or (), cells, strict=True)), None
