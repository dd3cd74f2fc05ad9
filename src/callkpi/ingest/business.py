"""Business files: CRM deals, surveys, costs, staff, teams, training and schedules (CSV or XLSX).

Each kind has a documented default layout (the column names below, compared without case, spaces
or punctuation) and can be read through a mapping file (TOML) that names the file's columns and
value spellings: ``src/callkpi/mappings/business/<kind>-<name>.toml`` ship (amoCRM and Bitrix24 deal exports
with their Russian column names, the generic deal layout); ``$CALLKPI_BUSINESS_MAPPING`` names
more (comma-separated files or shipped names). The first mapping whose required columns are all in
the file's header is used, the default layout last.

Every row is checked; a bad row goes to the quarantine with file, line and reason while the rest
loads. A file is known by its content: loading it again adds nothing; a changed file replaces what
it gave before; a newer export replaces the rows of an older one for the same deal, agent or team.
Each file loads in one transaction, which ends by refreshing what is derived from business data
and calls (:func:`callkpi.ingest.attribution.refresh`). docs/business.md describes every layout.
"""

from __future__ import annotations

import csv
import importlib
import io
import os
import re
import tomllib
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callkpi.config import Settings
from callkpi.ingest.base import (
    ImportError_,
    ImportReport,
    LineIssue,
    quarantine_rows,
    record_source,
    start_import,
)
from callkpi.model.business_schema import ensure_business_schema
from callkpi.model.schema import SLICE_SECONDS
from callkpi.storage import Store, first_row

MAPPING_ENV = "CALLKPI_BUSINESS_MAPPING"
XLSX_FORMAT = "business-xlsx"
DELIMITERS = (",", ";", "\t", "|")
Progress = Callable[[int], None]


class RowError(ValueError):
    """This row cannot be loaded; the message is the quarantine reason."""


# -- the kinds and their default layouts ------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    name: str
    names: tuple[str, ...]  # header names of the default layout (alternatives, first found wins)
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class KindSpec:
    name: str
    description: str
    fields: tuple[FieldSpec, ...]
    any_of: tuple[tuple[str, ...], ...] = ()  # at least one field of each group must be mapped and present
    values: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)  # canonical -> spellings
    module: str = ""  # callkpi.ingest.<module> parses rows and stores them
    markers: tuple[str, ...] = ()  # columns only this kind has: a file with one is taken (and told what it lacks)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


_STATUS = {
    "won": ("won", "win", "success", "successful", "closed won", "closed - won", "выиграна", "выиграно",
            "успешно", "успешно реализовано", "сделка успешна", "продажа", "оплачено", "deal won"),
    "lost": ("lost", "lose", "fail", "failed", "closed lost", "closed - lost", "проиграна", "проиграно",
             "потеряна", "отказ", "закрыто и не реализовано", "не реализовано", "сделка провалена", "deal lost"),
    "open": ("open", "new", "in progress", "active", "открыта", "новая", "в работе"),
}

KINDS: dict[str, KindSpec] = {
    spec.name: spec
    for spec in (
        KindSpec(
            "deals",
            "CRM deals or leads: id, status, amount, times, customer phones, owner, call id",
            (
                FieldSpec("deal_id", ("deal_id", "id", "lead_id"), True, "the CRM's id of the deal or lead"),
                FieldSpec("status", ("status", "stage", "state"), True, "won / lost / open (value map below)"),
                FieldSpec("created", ("created_at", "created", "date_created"), False, "creation time"),
                FieldSpec("closed", ("closed_at", "closed", "won_at", "date_closed"), False,
                          "closing time; for won deals the time the deal was won"),
                FieldSpec("amount", ("amount", "price", "value", "revenue", "sum"), False, "deal amount"),
                FieldSpec("currency", ("currency",), False, "ISO code; default: none"),
                FieldSpec("phone", ("customer_phone", "phone", "phones", "customer_number"), False,
                          "customer phone number(s); every listed column is read, a cell may hold several"),
                FieldSpec("owner", ("owner_agent", "owner", "agent", "responsible", "manager"), False,
                          "the agent who owns the deal: agent id, staff name or alias"),
                FieldSpec("call_id", ("call_id", "callid", "uniqueid", "linkedid"), False,
                          "the call the CRM recorded (queue_log callid / CDR linkedid)"),
                FieldSpec("title", ("title", "name", "deal_name"), False, ""),
                FieldSpec("product", ("product",), False, ""),
                FieldSpec("campaign", ("campaign", "source", "utm_campaign"), False, "source or campaign"),
                FieldSpec("pipeline", ("pipeline", "funnel"), False, ""),
            ),
            any_of=(("created", "closed"),),
            values={"status": _STATUS},
            module="deals",
            markers=("deal_id", "lead_id", "owner_agent"),
        ),
        KindSpec(
            "surveys",
            "survey answers: call id or number + time, type (csat 1-5, nps 0-10, ces 1-7), score, comment",
            (
                FieldSpec("score", ("score", "rating", "answer", "value"), True, "the answer"),
                FieldSpec("survey_type", ("survey_type", "type", "survey"), False,
                          "csat / nps / ces; a mapping may give a default"),
                FieldSpec("call_id", ("call_id", "callid", "uniqueid", "linkedid"), False, "the surveyed call"),
                FieldSpec("phone", ("phone", "customer_phone", "number", "caller"), False, "customer number"),
                FieldSpec("time", ("answered_at", "time", "datetime", "date", "created_at"), False,
                          "when the answer was given"),
                FieldSpec("comment", ("comment", "text", "feedback"), False, ""),
                FieldSpec("agent", ("agent",), False, "agent, when the survey system records it"),
                FieldSpec("survey_id", ("survey_id", "response_id"), False, ""),
            ),
            any_of=(("call_id", "phone"),),
            values={"survey_type": {"csat": ("csat", "satisfaction", "удовлетворенность"),
                                    "nps": ("nps", "recommend", "рекомендация"),
                                    "ces": ("ces", "effort", "усилия")}},
            module="surveys",
            markers=("survey_type", "score"),
        ),
        KindSpec(
            "costs",
            "costs: agent rates and salaries, telecom tariffs, fixed monthly costs",
            (
                FieldSpec("cost_type", ("cost_type", "type", "kind"), True, "see the value map"),
                FieldSpec("amount", ("amount", "rate", "cost", "sum"), True, "money per unit of the cost type"),
                FieldSpec("agent", ("agent",), False, "agent_* rows: the agent"),
                FieldSpec("team", ("team",), False, "agent_* rows without agent: every member; fixed_*: "
                          "allocated over that team's calls only"),
                FieldSpec("direction", ("direction",), False, "telecom_* rows: inbound / outbound; empty: both"),
                FieldSpec("currency", ("currency",), False, ""),
                FieldSpec("description", ("description", "item", "name", "comment"), False, ""),
                FieldSpec("valid_from", ("valid_from", "from", "month", "date"), False,
                          "first day (or month YYYY-MM) the line applies; empty: from the start"),
                FieldSpec("valid_to", ("valid_to", "to", "until"), False, "last day (or month); empty: no end"),
            ),
            values={"cost_type": {
                "agent_hourly": ("agent_hourly", "hourly", "hourly_rate", "ставка в час", "почасовая"),
                "agent_paid_hourly": ("agent_paid_hourly", "paid_hourly", "оплачиваемый час"),
                "agent_monthly": ("agent_monthly", "salary", "monthly_salary", "оклад", "зарплата"),
                "telecom_per_minute": ("telecom_per_minute", "telecom_minute", "связь за минуту"),
                "telecom_per_call": ("telecom_per_call", "telecom_call", "связь за звонок"),
                "fixed_monthly": ("fixed_monthly", "fixed", "monthly", "постоянные", "ежемесячно"),
                "fixed_once": ("fixed_once", "once", "разово"),
            }},
            module="costs",
            markers=("cost_type",),
        ),
        KindSpec(
            "staff",
            "employment: agent id, name, team, hired, left, leave reason",
            (
                FieldSpec("agent", ("agent", "agent_id", "extension", "login"), True, "the agent id the PBX uses"),
                FieldSpec("name", ("name", "full_name", "fio"), False, ""),
                FieldSpec("team", ("team", "group", "department"), False, ""),
                FieldSpec("hired", ("hired", "hired_on", "hire_date", "start_date"), False, "date"),
                FieldSpec("left", ("left", "left_on", "leave_date", "end_date", "fired"), False,
                          "separation date (not employed from this day); empty while employed"),
                FieldSpec("leave_reason", ("leave_reason", "reason"), False, ""),
                FieldSpec("team_lead", ("team_lead", "lead"), False, "the lead of the agent's team"),
                FieldSpec("aliases", ("aliases", "crm_name", "other_names"), False,
                          "other names (CRM user, e-mail), separated by ; or |"),
            ),
            any_of=(("name", "team", "hired", "left"),),
            module="staff",
            markers=("hired", "leave_reason"),
        ),
        KindSpec(
            "teams",
            "teams and their leads",
            (
                FieldSpec("team", ("team", "group", "department"), True, ""),
                FieldSpec("lead", ("lead", "team_lead", "supervisor"), True, ""),
                FieldSpec("description", ("description", "name"), False, ""),
            ),
            module="staff",
        ),
        KindSpec(
            "training",
            "training events: agent, programme, module, date(s)",
            (
                FieldSpec("agent", ("agent", "agent_id", "extension"), True, "agent id, name or alias"),
                FieldSpec("programme", ("programme", "program", "course", "training"), True, ""),
                FieldSpec("start", ("date", "start", "start_date", "started"), True, "date (first day)"),
                FieldSpec("end", ("end", "end_date", "finished"), False, "last day; empty: same day"),
                FieldSpec("module", ("module",), False, ""),
            ),
            module="training",
            markers=("programme", "program", "course"),
        ),
        KindSpec(
            "schedules",
            "planned time: agent, shift start and end (or date + times), activity",
            (
                FieldSpec("agent", ("agent", "agent_id", "extension"), True, "agent id, name or alias"),
                FieldSpec("start", ("start", "shift_start", "start_time", "from"), True,
                          "date-time, or a time with the date column"),
                FieldSpec("end", ("end", "shift_end", "end_time", "to"), True,
                          "date-time, or a time with the date column (before the start: next day)"),
                FieldSpec("date", ("date", "day"), False, "the day of start/end given as times"),
                FieldSpec("activity", ("activity", "state", "type"), False,
                          "work (default) or an off-queue activity: break, lunch, training, meeting, ..."),
            ),
            module="schedules",
            markers=("shift_start", "shift_end"),
        ),
    )
}

#: Detection order: a file is taken by the first kind whose required columns it has.
KIND_ORDER = ("deals", "surveys", "costs", "staff", "teams", "training", "schedules")


# -- mappings ---------------------------------------------------------------------------------


Names = tuple[str, ...]


class BusinessMapping(BaseModel):
    """How one file layout is read: which column is which field, how values are written."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: Literal["deals", "surveys", "costs", "staff", "teams", "training", "schedules"]
    description: str = ""
    checked_against: Literal["real file", "documentation", "simulator"] = "documentation"
    reference: str = ""
    delimiter: str = "auto"
    encoding: Literal["utf-8", "cp1251", "auto"] = "auto"
    sheet: str = Field("", description="XLSX sheet name (default: the first sheet)")
    dayfirst: bool = Field(True, description="01/02/2026 is 1 February")
    time_formats: Names = Field((), description="strptime formats tried before the built-in ones")
    decimal: Literal["auto", ",", "."] = Field(
        "auto", description="decimal separator; auto: a single comma is decimal (1 234,56), both: the last one"
    )
    timezone: str = Field("", description="zone of times without offset (default: --tz / settings)")
    columns: dict[str, Names]
    signature: Names = Field((), description="chosen automatically only when one of these columns is present")
    values: dict[str, dict[str, Names]] = Field(default_factory=dict, description="field -> value -> spellings "
                                                "(re:PATTERN matches a regular expression)")
    other_values: dict[str, str] = Field(default_factory=dict, description="field -> value for unlisted values")
    defaults: dict[str, str] = Field(default_factory=dict, description="field -> value when the cell is empty")

    @field_validator("columns", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: (v,) if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("values", mode="before")
    @classmethod
    def _value_lists(cls, value: object) -> object:
        if isinstance(value, dict):
            return {f: {k: (v,) if isinstance(v, str) else v for k, v in m.items()} for f, m in value.items()}
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _known_fields(self) -> BusinessMapping:
        spec = KINDS[self.kind]
        known = set(spec.field_names)
        for where, names in (("columns", self.columns), ("values", self.values),
                             ("other_values", self.other_values), ("defaults", self.defaults)):
            unknown = set(names) - known
            if unknown:
                raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))} of {self.kind}; "
                                 f"known: {', '.join(spec.field_names)}")
        for field_name, canon in (*((f, v) for f, m in self.values.items() for v in m),
                                  *self.other_values.items()):
            allowed = spec.values.get(field_name)
            if allowed is not None and canon not in allowed:
                raise ValueError(f"{field_name}: {canon!r} is not one of {', '.join(allowed)}")
        return self


def default_mapping(kind: str) -> BusinessMapping:
    spec = KINDS[kind]
    return BusinessMapping(name="default", kind=kind, columns={f.name: f.names for f in spec.fields})  # type: ignore[arg-type]


def shipped_mapping_files() -> dict[str, Path]:
    """Business mappings that ship with callkpi (``mappings/business/<kind>-<name>.toml``), by file stem
    (a folder of their own: the call-export mappings of ``mappings/`` are another kind of file)."""
    folder = resources.files("callkpi") / "mappings" / "business"
    prefixes = tuple(f"{kind}-" for kind in KINDS)
    return {
        Path(str(item)).stem: Path(str(item))
        for item in folder.iterdir()
        if str(item).endswith(".toml") and Path(str(item)).name.startswith(prefixes)
    }


@lru_cache(maxsize=64)
def _mapping_from_file(path: str, mtime: float) -> BusinessMapping:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        return BusinessMapping.model_validate(data)
    except (tomllib.TOMLDecodeError, ValidationError, UnicodeDecodeError, OSError) as exc:
        raise ImportError_(f"mapping {path}: {exc}") from exc


def load_mapping(reference: str) -> BusinessMapping:
    """A business mapping from a file path or a shipped name (``deals-amocrm``)."""
    path = Path(reference)
    if not path.is_file():
        shipped = shipped_mapping_files()
        if reference not in shipped:
            raise ImportError_(f"mapping {reference!r}: no such file and no shipped business mapping of that "
                               f"name ({', '.join(sorted(shipped))})")
        path = shipped[reference]
    return _mapping_from_file(str(path), path.stat().st_mtime)


def candidate_mappings(kind: str) -> list[BusinessMapping]:
    """Mappings to try for a file of this kind: those named in $CALLKPI_BUSINESS_MAPPING, the shipped
    ones, the default layout last."""
    named = [load_mapping(ref.strip()) for ref in os.environ.get(MAPPING_ENV, "").split(",") if ref.strip()]
    shipped = [load_mapping(stem) for stem in sorted(shipped_mapping_files())]
    found = [m for m in (*named, *shipped) if m.kind == kind]
    return [*found, default_mapping(kind)]


def header_key(name: object) -> str:
    """Column names compared without case, spaces or punctuation: ``Created At`` = ``created_at``."""
    return re.sub(r"[^0-9a-zа-я]", "", str(name or "").strip().lower().replace("ё", "е"))


def missing_columns(mapping: BusinessMapping, header_keys: Sequence[str]) -> list[str]:
    """What the header lacks to be read with this mapping (empty when it fits)."""
    present = set(header_keys)
    spec = KINDS[mapping.kind]

    def has(field_name: str) -> bool:
        return any(header_key(n) in present for n in mapping.columns.get(field_name, ()))

    missing = []
    for spec_field in spec.fields:
        if spec_field.required and not has(spec_field.name) and spec_field.name not in mapping.defaults:
            missing.append(" or ".join(mapping.columns.get(spec_field.name, ())) or spec_field.name)
    for group in spec.any_of:
        if not any(has(name) for name in group):
            names = [n for g in group for n in mapping.columns.get(g, ())]
            missing.append("one of " + ", ".join(names))
    return missing


def fits(mapping: BusinessMapping, header_keys: Sequence[str]) -> bool:
    """The header has the mapping's required columns and, if it names any, one of its signature columns."""
    if missing_columns(mapping, header_keys):
        return False
    return not mapping.signature or any(header_key(n) in set(header_keys) for n in mapping.signature)


def choose_mapping(kind: str, header: Sequence[str]) -> BusinessMapping:
    keys = [header_key(h) for h in header]
    candidates = candidate_mappings(kind)
    for mapping in candidates:
        if fits(mapping, keys):
            return mapping
    lacking = missing_columns(candidates[-1], keys)
    tried = ", ".join(m.name for m in candidates[:-1])
    raise ImportError_(
        f"not a {kind} file the default layout can read: missing column(s) {'; '.join(lacking)}; "
        f"found {', '.join(str(h) for h in header) or 'no header'}"
        + (f"; mappings tried: {tried}" if tried else "")
        + f" (a mapping file named in ${MAPPING_ENV} can name the columns)"
    )


# -- reading CSV and XLSX ---------------------------------------------------------------------


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


# -- rows and values --------------------------------------------------------------------------


def _norm_value(value: str) -> str:
    return " ".join(value.strip().casefold().replace("ё", "е").replace("–", "-").split())


def _spelled(spelling: str, value: str, normalised: str) -> bool:
    if spelling.startswith("re:"):
        return re.fullmatch(spelling[3:], value.strip()) is not None
    return _norm_value(spelling) == normalised


@dataclass
class Row:
    """One data row seen through a mapping: fields by name, values cleaned."""

    line_no: int
    raw: str
    cells: dict[str, object]  # header key -> cell
    mapping: BusinessMapping

    def _columns(self, field_name: str) -> tuple[str, ...]:
        return tuple(header_key(n) for n in self.mapping.columns.get(field_name, ()))

    def get(self, field_name: str) -> object | None:
        """The first non-empty cell of the field's columns, else the mapping's default, else None."""
        for key in self._columns(field_name):
            value = self.cells.get(key)
            if value is not None and str(value).strip() != "":
                return value.strip() if isinstance(value, str) else value
        return self.mapping.defaults.get(field_name)

    def text(self, field_name: str) -> str | None:
        value = self.get(field_name)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # an id or extension a spreadsheet stored as a number
        return str(value).strip() or None

    def every(self, field_name: str) -> list[object]:
        """Every non-empty cell of the field's columns (phone numbers spread over several columns)."""
        values = [self.cells.get(key) for key in self._columns(field_name)]
        return [v for v in values if v is not None and str(v).strip() != ""]

    def choice(self, field_name: str) -> str | None:
        """The canonical value of a value-mapped field, or RowError for a value nobody mapped."""
        value = self.text(field_name)
        if value is None:
            return None
        spec_values = KINDS[self.mapping.kind].values.get(field_name, {})
        wanted = _norm_value(value)
        for source in (self.mapping.values.get(field_name, {}), spec_values):
            for canonical, spellings in source.items():
                if wanted == _norm_value(canonical) or any(_spelled(s, value, wanted) for s in spellings):
                    return canonical
        if field_name in self.mapping.other_values:
            return self.mapping.other_values[field_name]
        known = ", ".join(spec_values)
        raise RowError(f"unknown {field_name} {value!r}; known: {known} (map it under [values.{field_name}] "
                       "of a mapping file)")


_CURRENCY_MARKS = {"₽": "RUB", "руб": "RUB", "р.": "RUB", "rub": "RUB", "$": "USD", "usd": "USD",
                   "€": "EUR", "eur": "EUR", "£": "GBP", "gbp": "GBP", "₸": "KZT", "kzt": "KZT"}
_CURRENCY_TEXT = re.compile(r"(₽|руб\.?|р\.|rub|usd|eur|gbp|kzt|\$|€|£|₸)", re.IGNORECASE)


def parse_amount(value: object, decimal: str = "auto") -> float | None:
    """``1 234,56`` / ``1,234.56`` / ``12 500 ₽`` / ``1.234.567`` -> a float; RowError when not a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if not text:
        return None
    cleaned = _CURRENCY_TEXT.sub("", re.sub(r"[\s\u00a0\u202f']", "", text))
    if not re.fullmatch(r"[-+]?(\d[\d.,]*)", cleaned):
        raise RowError(f"amount {text!r} is not a number")
    return float(_decimal_point(cleaned, decimal))


def _decimal_point(number: str, decimal: str) -> str:
    commas, dots = number.count(","), number.count(".")
    if decimal == ",":
        return number.replace(".", "").replace(",", ".")
    if decimal == ".":
        return number.replace(",", "")
    if commas and dots:  # the last separator is the decimal one
        if number.rfind(",") > number.rfind("."):
            return number.replace(".", "").replace(",", ".")
        return number.replace(",", "")
    if commas == 1:
        return number.replace(",", ".")
    if commas > 1:
        return number.replace(",", "")
    if dots > 1:
        return number.replace(".", "")
    return number


def currency_of(value: object) -> str | None:
    """The currency written into an amount cell (``12 500 ₽`` -> RUB), if any."""
    if not isinstance(value, str):
        return None
    match = _CURRENCY_TEXT.search(value)
    return _CURRENCY_MARKS.get(match.group(1).lower()) if match else None


_BUILTIN_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d",
    "{d}.{m}.%Y %H:%M:%S", "{d}.{m}.%Y %H:%M", "{d}.{m}.%Y",
    "{d}/{m}/%Y %H:%M:%S", "{d}/{m}/%Y %H:%M", "{d}/{m}/%Y",
    "{d}.{m}.%y %H:%M", "{d}.{m}.%y",
)


def _time_formats(mapping: BusinessMapping) -> tuple[str, ...]:
    d, m = ("%d", "%m") if mapping.dayfirst else ("%m", "%d")
    return (*mapping.time_formats, *(f.format(d=d, m=m) for f in _BUILTIN_TIME_FORMATS))


def parse_datetime(value: object, zone: ZoneInfo, mapping: BusinessMapping, what: str = "time") -> datetime | None:
    """A UTC (naive) time from ISO text with or without offset, local day-first text, epoch seconds,
    or a spreadsheet date-time; local times are read in ``zone``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return _to_utc(value, zone)
    if isinstance(value, date):
        return _to_utc(datetime.combine(value, time(0)), zone)
    text = str(value).strip()
    if re.fullmatch(r"\d{9,10}(\.\d+)?", text):
        return datetime.fromtimestamp(float(text), UTC).replace(tzinfo=None)
    try:
        return _to_utc(datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text), zone)
    except ValueError:
        pass
    for fmt in _time_formats(mapping):
        try:
            return _to_utc(datetime.strptime(text, fmt), zone)
        except ValueError:
            continue
    raise RowError(f"{what} {text!r} is not a date-time (expected e.g. 2026-03-02 14:05:00, "
                   "2026-03-02T14:05:00+03:00 or 02.03.2026 14:05)")


def _to_utc(moment: datetime, zone: ZoneInfo) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC).replace(tzinfo=None)


def parse_day(value: object, mapping: BusinessMapping, what: str = "date") -> date | None:
    """A calendar date (hire, leave, training day); a date-time gives its date as written."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}", text):  # a month: its first day
        return date.fromisoformat(text + "-01")
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    for fmt in _time_formats(mapping):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise RowError(f"{what} {text!r} is not a date (expected e.g. 2026-03-02 or 02.03.2026)")


def slice_of(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return int(moment.replace(tzinfo=UTC).timestamp()) // SLICE_SECONDS


_PHONE_SPLIT = re.compile(r"[,;/\n]|\s+или\s+|\s+or\s+", re.IGNORECASE)
_EXTENSION = re.compile(r"(?i)\s*(доб|ext|вн|x)\.?\s*\d{1,6}\s*$")
_SCIENTIFIC = re.compile(r"^\d[.,]\d+e\+?\d+$", re.IGNORECASE)


def split_phones(values: Sequence[object]) -> tuple[list[str], list[str]]:
    """Phone numbers in cells (several per cell allowed) -> (numbers, problems). Extensions
    (``доб. 123``) and ``tel:`` prefixes are dropped; a spreadsheet number like 74951234567.0 is read."""
    numbers: list[str] = []
    problems: list[str] = []
    for value in values:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if _SCIENTIFIC.match(str(value).strip().replace(" ", "")):
            problems.append(f"phone {str(value).strip()!r} was rounded by a spreadsheet (scientific notation)")
            continue
        for part in _PHONE_SPLIT.split(str(value)):
            text = _EXTENSION.sub("", part.strip().removeprefix("tel:").strip())
            if not text:
                continue
            if len(re.sub(r"\D", "", text)) < 5:
                problems.append(f"phone {text!r} has too few digits for a customer number")
            else:
                numbers.append(text)
    return numbers, problems


# -- agents named by id, name or alias -------------------------------------------------------


def refresh_agent_lookup(store: Store, settings: Settings | None) -> None:
    """TEMP table ``biz_agent_lookup(key, agent)``: lower-case agent ids, staff names, staff and
    agents aliases, and the settings' aliases, each to its agent id (ambiguous names are left out)."""
    con = store.connection
    con.execute("CREATE OR REPLACE TEMP TABLE biz_alias_settings (raw VARCHAR, agent VARCHAR)")
    aliases = settings.agents.aliases if settings else {}
    if aliases:
        store.append_arrow("biz_alias_settings", pa.table({"raw": list(aliases), "agent": list(aliases.values())}))
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE biz_agent_lookup AS
        WITH keys AS (
            SELECT lower(trim(agent)) AS key, agent, 0 AS rank FROM agents
            UNION ALL SELECT lower(trim(agent)), agent, 0 FROM staff
            UNION ALL SELECT lower(trim(raw)), agent, 1 FROM biz_alias_settings
            UNION ALL SELECT lower(trim(name)), agent, 2 FROM staff WHERE name IS NOT NULL
            UNION ALL SELECT lower(trim(name)), agent, 2 FROM agents WHERE name IS NOT NULL
            UNION ALL SELECT lower(trim(a.alias)), agent, 3
                FROM (SELECT agent, unnest(string_split_regex(aliases, '[;|]')) AS alias FROM staff
                      WHERE aliases IS NOT NULL) a
            UNION ALL SELECT lower(trim(a.alias)), agent, 3
                FROM (SELECT agent, unnest(string_split_regex(aliases, '[;|]')) AS alias FROM agents
                      WHERE aliases IS NOT NULL) a
        ), best AS (
            SELECT key, min(rank) AS rank FROM keys WHERE key <> '' GROUP BY key
        )
        SELECT k.key, min(k.agent) AS agent FROM keys k JOIN best b USING (key, rank)
        GROUP BY k.key HAVING count(DISTINCT k.agent) = 1
        """
    )


def resolved_agent_sql(column: str) -> str:
    """SQL for the agent id a raw name resolves to (the raw text when nothing matches)."""
    lookup = f"SELECT l.agent FROM biz_agent_lookup l WHERE l.key = lower(trim({column}))"  # noqa: S608 - a column
    return f"coalesce(({lookup}), nullif(trim({column}), ''))"


# -- loading ------------------------------------------------------------------------------------


@dataclass
class ParseContext:
    kind: str
    mapping: BusinessMapping
    zone: ZoneInfo
    settings: Settings
    path: Path
    source_id: int
    findings: list[tuple[int, str]] = field(default_factory=list)  # (line, detail) loaded with a caveat


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
    module = importlib.import_module(f"callkpi.ingest.{KINDS[kind].module}")
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
        from callkpi.ingest import attribution

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


def delete_source_rows(store: Store, table: str, source_id: int) -> None:
    store.connection.execute(f'DELETE FROM "{table}" WHERE source_id = ?', [source_id])  # noqa: S608 - our table


# -- format registration -----------------------------------------------------------------------


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


def register_formats() -> None:
    """Register the business formats (XLSX by header first, then one per kind)."""
    from callkpi.ingest.formats import SourceFormat, register

    register(SourceFormat(XLSX_FORMAT, "XLSX workbook of any business kind, recognised by its header row",
                          sniff_xlsx, load_xlsx_any))
    for kind in KIND_ORDER:
        register(SourceFormat(kind, f"{KINDS[kind].description} (CSV or XLSX; see docs/business.md)",
                              sniff_kind(kind), kind_loader(kind)))


def iter_kinds() -> Iterator[KindSpec]:
    return (KINDS[k] for k in KIND_ORDER)


register_formats()
