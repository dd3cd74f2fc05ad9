"""Parsing the values of business files: amounts and currencies, times and days in the file's zone,
phone numbers (several to a cell). Currencies: :mod:`callkpi.ingest.business.currencies` (re-exported)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from callkpi.ingest.business.currencies import CURRENCY_TEXT, currency_of, normalise_currency
from callkpi.ingest.business.mappings import BusinessMapping
from callkpi.ingest.business.rows import RowError
from callkpi.model.schema import SLICE_SECONDS

__all__ = ["currency_of", "normalise_currency", "parse_amount", "parse_datetime", "parse_day", "slice_of",
           "split_phones"]


def parse_amount(value: object, decimal: str = "auto") -> float | None:
    """``1 234,56`` / ``1,234.56`` / ``12 500 ₽`` / ``1.234.567`` -> a float; RowError when not a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if not text:
        return None
    cleaned = CURRENCY_TEXT.sub("", re.sub(r"[\s\u00a0\u202f']", "", text))
    if not re.fullmatch(r"[-+]?(\d[\d.,]*)", cleaned):
        raise RowError(f"amount {text!r} is not a number")
    try:
        return float(_decimal_point(cleaned, decimal))
    except ValueError:  # separators that fit no grouping, such as 1234.56234.56 with a "." decimal
        raise RowError(f"amount {text!r} is not a number") from None


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
