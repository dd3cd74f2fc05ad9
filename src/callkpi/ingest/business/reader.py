"""Reading a business file, CSV (any encoding and delimiter) or XLSX, into a header and raw rows."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from callkpi.ingest.base import ImportError_
from callkpi.ingest.business.mappings import BusinessMapping

DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class RawRow:
    line_no: int  # CSV: the line the record starts on; XLSX: the sheet row
    cells: list[object]
    raw: str
    error: str | None = None  # why the record could not even be split into cells


@dataclass
class RawTable:
    header: list[str]
    rows: list[RawRow]
    last_line: int


def is_xlsx(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04")


def read_table(path: Path, mapping_hint: BusinessMapping | None = None) -> RawTable:
    with path.open("rb") as handle:
        head = handle.read(8)
    if is_xlsx(head):
        return _read_xlsx(path, mapping_hint.sheet if mapping_hint else "")
    return _read_csv(path.read_bytes(), mapping_hint)


def decode_text(data: bytes, encoding: str = "auto") -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if encoding == "cp1251":
        return data.decode("cp1251", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        if encoding == "utf-8":
            raise ImportError_("the file is not UTF-8 (set encoding = \"cp1251\" in a mapping)") from None
        return data.decode("cp1251", errors="replace")


def _delimiter(line: str, configured: str = "auto") -> str:
    if configured != "auto":
        return "\t" if configured in ("\\t", "tab") else configured
    return max(DELIMITERS, key=line.count)


def _read_csv(data: bytes, mapping: BusinessMapping | None) -> RawTable:
    text = decode_text(data, mapping.encoding if mapping else "auto")
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    delimiter = _delimiter(first, mapping.delimiter if mapping else "auto")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[RawRow] = []
    previous_end = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a field over the csv module's limit: this record only
            start, previous_end = previous_end + 1, max(reader.line_num, previous_end + 1)
            rows.append(RawRow(start, [], "\n".join(lines[start - 1:previous_end]), f"not valid CSV: {exc}"))
            continue
        start, previous_end = previous_end + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip() for cell in cells]
            continue
        rows.append(RawRow(start, list(cells), "\n".join(lines[start - 1:previous_end])))
    return RawTable(header or [], rows, previous_end)


def _read_xlsx(path: Path, sheet_name: str) -> RawTable:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportError_(f"{path}: not a readable XLSX workbook ({exc})") from exc
    try:
        if sheet_name and sheet_name not in book.sheetnames:
            raise ImportError_(f"{path}: no sheet {sheet_name!r} (sheets: {', '.join(book.sheetnames)})")
        sheet = book[sheet_name] if sheet_name else book.worksheets[0]
        header: list[str] | None = None
        rows: list[RawRow] = []
        last = 0
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            last = number
            cells = ["" if v is None else v for v in values]
            if not any(str(c).strip() for c in cells):
                continue
            if header is None:
                header = [str(c).strip() for c in cells]
                continue
            rows.append(RawRow(number, cells, ";".join(_cell_text(c) for c in cells)))
        return RawTable(header or [], rows, last)
    finally:
        book.close()


def _cell_text(value: object) -> str:
    return value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)


def header_of(head: bytes) -> list[str] | None:
    """The header row of a CSV from its first bytes (None for XLSX or no text)."""
    if is_xlsx(head):
        return None
    text = decode_text(head)
    line = next((line for line in text.splitlines() if line.strip()), "")
    if not line or "\x00" in line:  # binary; a NUL in a later row is that row's problem
        return None
    return next(csv.reader([line], delimiter=_delimiter(line)), [])
