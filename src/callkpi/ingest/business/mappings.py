"""Mappings: how one file layout is read (which column is which field, how values are written).
``src/callkpi/mappings/business/<kind>-<name>.toml`` ship (amoCRM and Bitrix24 deal exports with their
Russian column names, the generic deal layout); ``$CALLKPI_BUSINESS_MAPPING`` names more
(comma-separated files or shipped names). The first mapping whose required columns are all in the
file's header is used, the default layout last.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callkpi.ingest.base import ImportError_
from callkpi.ingest.business.currencies import currency_of
from callkpi.ingest.business.layouts import KINDS, MAPPING_ENV

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
            return with_header_currency(mapping, header)
    lacking = missing_columns(candidates[-1], keys)
    tried = ", ".join(m.name for m in candidates[:-1])
    raise ImportError_(
        f"not a {kind} file the default layout can read: missing column(s) {'; '.join(lacking)}; "
        f"found {', '.join(str(h) for h in header) or 'no header'}"
        + (f"; mappings tried: {tried}" if tried else "")
        + f" (a mapping file named in ${MAPPING_ENV} can name the columns)"
    )


def with_header_currency(mapping: BusinessMapping, header: Sequence[str]) -> BusinessMapping:
    """The mapping, with the currency its amount column's header names (``Бюджет, ₽``, ``Amount (USD)``)
    as the default currency of its rows, unless the mapping sets one (a currency cell still wins)."""
    if "currency" not in KINDS[mapping.kind].field_names or "currency" in mapping.defaults:
        return mapping
    amount_keys = {header_key(name) for name in mapping.columns.get("amount", ())}
    named = next((currency_of(h) for h in header if header_key(h) in amount_keys and currency_of(h)), None)
    if named is None:
        return mapping
    return mapping.model_copy(update={"defaults": {**mapping.defaults, "currency": named}})
