"""Call exports of any cloud PBX, read through a mapping file (TOML or YAML).

A mapping names the file's columns for the canonical fields, how values are written (direction
and disposition value maps, time formats, units) and how the file is laid out (delimiter,
encoding, header or column order, time zone). Ready mappings ship in ``callkpi/mappings``
(``twilio``, ``bitrix24``, ``mango``, ``zadarma``, ``yeastar``, ``elastix-callcenter``); name
one, or a file of your own, with ``[cdr] mapping`` or ``$CALLKPI_MAPPING``. docs/formats.md
describes every key.
"""

from __future__ import annotations

import csv
import os
import re
import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from callkpi.config import Settings, load_settings
from callkpi.ingest.base import FileChunk, ImportError_, ImportReport
from callkpi.ingest.cdr.driver import Progress, chunk_batches, csv_error, csv_records, first_record, load_records
from callkpi.ingest.cdr.staging import OUTCOMES, Batch, StagedRows, clean, json_extra
from callkpi.ingest.source_format import SourceFormat
from callkpi.storage import Store

FORMAT = "generic"
MAPPING_ENV = "CALLKPI_MAPPING"
DELIMITERS = (",", ";", "\t", "|")

Names = tuple[str, ...]


class ColumnMap(BaseModel):
    """Canonical field -> the file's column; a list names alternatives (the first column that is
    in the file and not empty in the row is used)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    call_id: Names = ()
    parent_call_id: Names = ()
    leg_id: Names = ()
    start: Names = ()
    date: Names = ()
    time: Names = ()
    answer: Names = ()
    end: Names = ()
    duration: Names = ()
    talk: Names = ()
    wait: Names = ()
    direction: Names = ()
    from_: Names = Field((), alias="from")
    to: Names = ()
    customer: Names = ()
    line: Names = ()
    agent: Names = ()
    caller_extension: Names = ()
    callee_extension: Names = ()
    disposition: Names = ()
    queue: Names = ()
    campaign: Names = ()
    recording: Names = ()
    did: Names = ()
    trunk: Names = ()

    @field_validator("*", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    source: str = Field("generic", pattern=r"^[a-z][a-z0-9_]*$", description="calls.source of the loaded calls")
    description: str = ""
    checked_against: Literal["real file", "documentation"] = "documentation"
    reference: str = ""
    delimiter: str = "auto"
    encoding: Literal["utf-8", "cp1251", "auto"] = "auto"
    header: bool = True
    column_order: Names = ()
    timezone: str = ""
    dayfirst: bool | None = None
    time_formats: Names = ()
    duration_unit: Literal["s", "ms"] = "s"
    wait_unit: Literal["s", "ms"] = "s"
    columns: ColumnMap
    direction_values: dict[str, Names] = Field(default_factory=dict)
    direction_default: Literal["inbound", "outbound", "internal"] | None = None
    disposition_values: dict[str, Names] = Field(default_factory=dict)

    @field_validator("disposition_values")
    @classmethod
    def _known_outcomes(cls, value: dict[str, Names]) -> dict[str, Names]:
        unknown = set(value) - set(OUTCOMES)
        if unknown:
            raise ValueError(f"disposition_values keys must be {', '.join(OUTCOMES)}; got {', '.join(unknown)}")
        return {k: (v,) if isinstance(v, str) else v for k, v in value.items()}

    @field_validator("direction_values")
    @classmethod
    def _known_directions(cls, value: dict[str, Names]) -> dict[str, Names]:
        unknown = set(value) - {"inbound", "outbound", "internal"}
        if unknown:
            raise ValueError(f"direction_values keys must be inbound, outbound, internal; got {', '.join(unknown)}")
        return {k: (v,) if isinstance(v, str) else v for k, v in value.items()}


# -- finding and reading a mapping -----------------------------------------------------------


def shipped_mappings() -> dict[str, Path]:
    """The ready mappings that ship with callkpi, by name."""
    folder = resources.files("callkpi") / "mappings"
    return {Path(str(item)).stem: Path(str(item)) for item in folder.iterdir() if str(item).endswith(".toml")}


def mapping_reference(settings: Settings | None) -> str:
    """The mapping asked for: ``$CALLKPI_MAPPING``, else ``[cdr] mapping``."""
    return os.environ.get(MAPPING_ENV, "") or (settings.cdr.mapping if settings else "")


def load_mapping(reference: str) -> Mapping:
    """A mapping from a file path or a shipped name."""
    if not reference:
        raise ImportError_(
            "the generic format needs a mapping: set [cdr] mapping in callkpi.toml or $CALLKPI_MAPPING to a "
            f"mapping file or one of {', '.join(sorted(shipped_mappings()))}"
        )
    path = Path(reference)
    if not path.is_file():
        shipped = shipped_mappings()
        if reference not in shipped:
            raise ImportError_(f"mapping {reference!r}: no such file and no shipped mapping of that name "
                               f"({', '.join(sorted(shipped))})")
        path = shipped[reference]
    try:
        data = _read_mapping_file(path)
        return Mapping.model_validate(data)
    except (tomllib.TOMLDecodeError, yaml.YAMLError, ValidationError, UnicodeDecodeError) as exc:
        raise ImportError_(f"mapping {path}: {exc}") from exc


def _read_mapping_file(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else tomllib.loads(text)
    if isinstance(data, dict) and "columns" not in data and isinstance(data.get("mapping"), dict):
        data = data["mapping"]  # everything under one [mapping] table is fine too
    if not isinstance(data, dict):
        raise ImportError_(f"mapping {path}: not a table of keys")
    return data


# -- detection -------------------------------------------------------------------------------


def sniff(head: bytes) -> str | None:
    """Recognised only when a mapping is named (``$CALLKPI_MAPPING``, else ``[cdr] mapping`` of the
    default settings file) and the file fits it: the header has the columns the mapping needs, or,
    for a headerless mapping, the first line has as many fields as its column_order."""
    reference = os.environ.get(MAPPING_ENV, "") or _mapping_in_default_settings()
    if not reference:
        return None
    try:
        mapping = load_mapping(reference)
    except ImportError_:
        return None
    text = head.decode(mapping.encoding if mapping.encoding != "auto" else "utf-8", errors="replace")
    line = next((line for line in text.lstrip("\ufeff").splitlines() if line.strip()), "")
    cells = next(csv.reader([line], delimiter=_delimiter(mapping, line)), [])
    if not mapping.header:
        return FORMAT if len(cells) == len(mapping.column_order) else None
    return FORMAT if not missing_columns(mapping, [_key(h) for h in cells]) else None


def _mapping_in_default_settings() -> str:
    try:
        return load_settings().cdr.mapping
    except (ValueError, OSError, tomllib.TOMLDecodeError):
        return ""


def missing_columns(mapping: Mapping, header_keys: list[str]) -> list[str]:
    """What the file lacks to be read with this mapping: a start time, and every single-name column."""
    present = set(header_keys)
    cols = mapping.columns
    missing = []
    if not any(_key(n) in present for n in (*cols.start, *cols.date)):
        missing.append(" or ".join((*cols.start, *cols.date)) or "a start column")
    for name in ("call_id", "disposition", "direction"):
        names = getattr(cols, name)
        if names and not any(_key(n) in present for n in names):
            missing.append(" or ".join(names))
    return missing


def _key(name: str) -> str:
    """Column names compared without case, spaces or punctuation: ``Start Time`` = ``start_time``."""
    return re.sub(r"[^0-9a-zа-яё]", "", name.strip().strip('"').lower())


def _delimiter(mapping: Mapping, header_line: str) -> str:
    if mapping.delimiter != "auto":
        return "\t" if mapping.delimiter in ("\\t", "tab") else mapping.delimiter
    return max(DELIMITERS, key=header_line.count)


# -- loading ---------------------------------------------------------------------------------


def load(
    store: Store,
    path: Path,
    settings: Settings,
    *,
    timezone: str,
    progress: Progress | None = None,
    mapping: Mapping | None = None,
) -> ImportReport:
    """Load one export with its mapping (given, or named in the settings / environment)."""
    mapping = mapping or load_mapping(mapping_reference(settings))
    layout = _layout(path, mapping)

    def read(start_offset: int, first_line: int) -> Iterator[Batch]:
        return chunk_batches(path, start_offset, first_line, lambda chunk: _stage_chunk(chunk, mapping, layout))

    return load_records(
        store, path, settings, fmt=FORMAT, source=mapping.source, timezone=mapping.timezone or timezone,
        read_batches=read, progress=progress, dayfirst=mapping.dayfirst, extra_formats=mapping.time_formats,
    )


class _Layout(BaseModel):
    delimiter: str
    columns: Names  # the file's column keys, in order
    skip_first: bool


def _layout(path: Path, mapping: Mapping) -> _Layout:
    with path.open("rb") as handle:
        head = handle.read(65536)
    line = next((line for line in head.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()
                 if line.strip()), "")
    delimiter = _delimiter(mapping, line)
    if not mapping.header:
        if not mapping.column_order:
            raise ImportError_(f"mapping {mapping.name}: header = false needs column_order")
        return _Layout(delimiter=delimiter, columns=tuple(_key(c) for c in mapping.column_order), skip_first=False)
    header = [_key(cell) for cell in first_record(path, delimiter) or []]
    missing = missing_columns(mapping, header)
    if missing:
        raise ImportError_(f"{path}: the mapping {mapping.name} needs column(s) {'; '.join(missing)}; "
                           f"the header has {', '.join(header[:30])}")
    return _Layout(delimiter=delimiter, columns=tuple(header), skip_first=True)


def _stage_chunk(chunk: FileChunk, mapping: Mapping, layout: _Layout) -> StagedRows:
    if mapping.encoding != "auto":
        chunk = FileChunk([raw.decode(mapping.encoding, errors="replace") for raw in chunk.raw_lines],
                          chunk.raw_lines, chunk.first_line_no, chunk.end_offset)
    rows = StagedRows()
    for line_no, raw, cells in csv_records(chunk, layout.delimiter):
        if layout.skip_first and line_no == 1:
            continue
        issue = csv_error(cells)
        if issue is None and len(cells) != len(layout.columns):
            issue = f"{len(cells)} fields; the {'header' if layout.skip_first else 'column_order'} has " \
                    f"{len(layout.columns)}"
        if issue:
            rows.add(line_no, raw, None, issue)
            continue
        record, issue = _record(mapping, dict(zip(layout.columns, cells, strict=True)))
        rows.add(line_no, raw, record, issue)
    return rows


def _record(mapping: Mapping, row: dict[str, str]) -> tuple[dict[str, Any], str | None]:
    cols = mapping.columns
    used: set[str] = set()

    def pick(names: Names) -> str | None:
        for name in names:
            key = _key(name)
            if key in row:
                used.add(key)
                value = clean(row[key])
                if value is not None:
                    return value
        return None

    direction, direction_issue = _direction(mapping, pick(cols.direction), pick(cols.caller_extension),
                                            pick(cols.callee_extension))
    disposition = pick(cols.disposition)
    start = pick(cols.start) or _join(pick(cols.date), pick(cols.time))
    talk, duration = _seconds(pick(cols.talk), mapping.duration_unit), _seconds(pick(cols.duration),
                                                                               mapping.duration_unit)
    answer = pick(cols.answer)
    outcome, outcome_issue = _outcome(mapping, disposition, answer, talk)
    call_id = pick(cols.call_id)
    caller, callee = _parties(direction, pick(cols.from_), pick(cols.to), pick(cols.customer), pick(cols.line))
    agent = pick(cols.agent) or _extension_agent(direction, pick(cols.caller_extension), pick(cols.callee_extension))
    record = {
        "call_key": pick(cols.parent_call_id) or call_id,
        "leg_key": pick(cols.leg_id) or call_id,
        "start": start, "answer": answer, "end": pick(cols.end), "duration": duration, "billsec": talk,
        "disposition": disposition, "outcome": outcome, "direction": direction,
        "src": caller, "dst": callee, "agent": agent,
        "queue": pick(cols.queue), "queue_wait": _seconds(pick(cols.wait), mapping.wait_unit),
        "campaign": pick(cols.campaign), "recording": pick(cols.recording), "did": pick(cols.did) or
        (pick(cols.line) if direction == "inbound" else None), "trunk": pick(cols.trunk),
    }
    record["extra"] = json_extra({k: v for k, v in row.items() if k not in used})
    return record, direction_issue or outcome_issue


def _join(date: str | None, time: str | None) -> str | None:
    if date and time:
        return f"{date} {time}"
    return date


def _seconds(value: str | None, unit: str) -> str | None:
    if value is None or unit == "s":
        return value
    try:
        return str(float(value.replace(",", ".")) / 1000)
    except ValueError:
        return value  # quarantined as not a number


def _direction(mapping: Mapping, value: str | None, caller_ext: str | None,
               callee_ext: str | None) -> tuple[str | None, str | None]:
    if mapping.columns.direction:
        if value is None:
            return mapping.direction_default, None
        for direction, values in mapping.direction_values.items():
            if value.lower() in (v.lower() for v in values):
                return direction, None
        if value.lower() in ("inbound", "outbound", "internal"):
            return value.lower(), None
        return None, f"direction {value!r} is not in the mapping's direction_values"
    if mapping.columns.caller_extension or mapping.columns.callee_extension:
        if caller_ext and callee_ext:
            return "internal", None
        if caller_ext:
            return "outbound", None
        if callee_ext:
            return "inbound", None
    return mapping.direction_default, None


def _outcome(mapping: Mapping, disposition: str | None, answer: str | None,
             talk: str | None) -> tuple[str | None, str | None]:
    if mapping.disposition_values and disposition is not None:
        for outcome, values in mapping.disposition_values.items():
            if disposition.lower() in (v.lower() for v in values):
                return outcome, None
        return None, f"disposition {disposition!r} is not in the mapping's disposition_values"
    answered = (answer is not None and answer.strip() not in ("0", "0.0")) or _positive(talk)
    return ("answered" if answered else "no_answer"), None


def _positive(value: str | None) -> bool:
    try:
        return float((value or "0").replace(",", ".")) > 0
    except ValueError:
        return False


def _parties(direction: str | None, caller: str | None, callee: str | None, customer: str | None,
             line: str | None) -> tuple[str | None, str | None]:
    """Caller and callee; an export that names only 'the customer's number' and 'our line' puts
    them on the side the direction says."""
    if customer is None:
        return caller, callee
    if direction == "outbound":
        return caller or line, customer
    return customer, callee or line


def _extension_agent(direction: str | None, caller_ext: str | None, callee_ext: str | None) -> str | None:
    if direction == "outbound":
        return caller_ext
    if direction == "inbound":
        return callee_ext
    return caller_ext or callee_ext


SOURCE_FORMATS: tuple[SourceFormat, ...] = (
    SourceFormat(
        FORMAT,
        "call export of any cloud PBX read through a mapping ([cdr] mapping or $CALLKPI_MAPPING: a "
        "TOML/YAML file or twilio, bitrix24, mango, zadarma, yeastar, elastix-callcenter)",
        sniff,
        load,
    ),
)
