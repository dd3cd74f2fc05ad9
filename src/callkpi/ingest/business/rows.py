"""A data row of a business file seen through its mapping, the context the kind modules parse it in,
and the error that sends a row to the quarantine."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from callkpi.config import Settings
from callkpi.ingest.business.layouts import KINDS
from callkpi.ingest.business.mappings import BusinessMapping, header_key
from callkpi.storage import Store


class RowError(ValueError):
    """This row cannot be loaded; the message is the quarantine reason."""


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


@dataclass
class ParseContext:
    kind: str
    mapping: BusinessMapping
    zone: ZoneInfo
    settings: Settings
    path: Path
    source_id: int
    findings: list[tuple[int, str]] = field(default_factory=list)  # (line, detail) loaded with a caveat


def delete_source_rows(store: Store, table: str, source_id: int) -> None:
    store.connection.execute(f'DELETE FROM "{table}" WHERE source_id = ?', [source_id])  # noqa: S608 - our table
