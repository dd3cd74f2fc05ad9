"""Checking CEL rows and keeping the good ones in ``cel_events``: times read in the file's zone,
bad rows (no event type, time or uniqueid; an unknown event type; a zero or implausible date)
quarantined with their reason; a row another file (or an earlier line) already loaded is counted
as a duplicate, not loaded twice."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa

from callkpi.ingest.base import DUPLICATE_PREFIX, LineIssue, Plausible, quarantine_rows
from callkpi.ingest.cel.reader import EVENT_TYPES, FIELDS, REQUIRED
from callkpi.model.schema import CEL_EVENTS
from callkpi.storage import Store

_STORED = tuple(name for name in FIELDS if name != "eventtime")
# The fields that make two rows the same event (the table's own ``id`` is not one: the same event
# exported from the table and written by cel_custom is one event).
_IDENTITY = ("eventtype", "eventtime", "uniqueid", "linkedid", "channame", "appname", "appdata", "exten",
             "context", "peer", "extra", "userdeftype")
ZERO_DATES = ("0000-00-00", "1000-01-01")


class BadTime(ValueError):
    pass


@dataclass
class Staged:
    lines: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)
    values: dict[str, list[str | None]] = field(default_factory=lambda: {name: [] for name in _STORED})
    issues: list[LineIssue] = field(default_factory=list)
    raws: dict[int, str] = field(default_factory=dict)


class Clock:
    """Event times as naive UTC: epoch seconds (the cel_custom default) are UTC, date-time text
    is in the file's zone."""

    def __init__(self, timezone: str, bounds: Plausible) -> None:
        self.zone = ZoneInfo(timezone)
        self.bounds = bounds

    def utc(self, text: str) -> datetime:
        value = text.strip()
        if not value:
            raise BadTime("no eventtime")
        if value[:10] in ZERO_DATES or value.startswith("0000"):
            raise BadTime(f"eventtime {value!r} is a zero date (the database's placeholder, not a time)")
        try:
            if value.replace(".", "", 1).isdigit():
                moment = datetime.fromtimestamp(float(value), UTC)
            else:
                parsed = datetime.fromisoformat(value.replace("/", "-"))
                moment = (parsed if parsed.tzinfo else parsed.replace(tzinfo=self.zone)).astimezone(UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise BadTime(f"eventtime {value!r} is not a time") from exc
        epoch = moment.timestamp()
        if not self.bounds.earliest_epoch <= epoch <= self.bounds.latest_epoch:
            raise BadTime(f"eventtime {value!r} lies outside the plausible window {self.bounds.window_text()}")
        return moment.replace(tzinfo=None)


def event_key(fields: dict[str, str]) -> str:
    text = "\x1f".join(fields.get(name, "").strip() for name in _IDENTITY)
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def check_row(fields: dict[str, str], clock: Clock) -> tuple[datetime | None, str | None]:
    """The event's UTC time, or the reason the row cannot be loaded."""
    for name in REQUIRED:
        if not (fields.get(name) or "").strip():
            return None, f"no {name}"
    event = fields["eventtype"].strip().upper()
    if event not in EVENT_TYPES:
        return None, f"unknown CEL event type {fields['eventtype'].strip()[:40]!r}"
    if "\x00" in "".join(fields.values()):
        return None, "a field holds a NUL byte"
    try:
        return clock.utc(fields["eventtime"]), None
    except BadTime as exc:
        return None, str(exc)


def add_row(staged: Staged, line_no: int, raw: str, fields: dict[str, str], when: datetime) -> None:
    staged.lines.append(line_no)
    staged.keys.append(event_key(fields))
    staged.times.append(when)
    staged.raws[line_no] = raw
    for name in _STORED:
        value = (fields.get(name) or "").strip()
        if name == "eventtype":
            value = value.upper()
        if name == "linkedid" and not value:
            value = (fields.get("uniqueid") or "").strip()  # before Asterisk 1.8 every channel was its own call
        staged.values[name].append(value if value and value != "NULL" else None)


def store_staged(store: Store, staged: Staged, *, source_id: int, path: Path) -> None:
    """Insert the staged rows; rows whose event is already in the store become duplicates."""
    quarantine_rows(store, source_id, path, staged.issues)
    if not staged.lines:
        return
    con = store.connection
    table = pa.table({
        "line_no": pa.array(staged.lines, pa.int64()),
        "dedupe_key": pa.array(staged.keys, pa.string()),
        "event_utc": pa.array(staged.times, pa.timestamp("us")),
        **{name: pa.array(values, pa.string()) for name, values in staged.values.items()},
    })
    con.register("cel_stage", table)
    try:
        duplicates = con.execute(
            """
            SELECT s.line_no, coalesce(any_value(src.path), 'this file'), min(e.line_no)
            FROM cel_stage s JOIN cel_events e ON e.dedupe_key = s.dedupe_key
            LEFT JOIN sources src ON src.source_id = e.source_id
            GROUP BY s.line_no
            UNION ALL
            SELECT line_no, 'this file', first_line FROM (
                SELECT line_no, min(line_no) OVER (PARTITION BY dedupe_key) AS first_line FROM cel_stage)
            WHERE line_no > first_line AND line_no NOT IN (SELECT s.line_no FROM cel_stage s
                                                           JOIN cel_events e USING (dedupe_key))
            """).fetchall()
        repeated = {int(line): f"{DUPLICATE_PREFIX}{where} line {first}" for line, where, first in duplicates}
        columns = ", ".join(f'"{name}"' for name in CEL_EVENTS.column_names if name != "source_id")
        con.execute(
            f"INSERT INTO cel_events SELECT ? AS source_id, {columns} FROM cel_stage "  # noqa: S608 - our columns
            "WHERE NOT list_contains(?, line_no)", [source_id, list(repeated)])
    finally:
        con.unregister("cel_stage")
    quarantine_rows(store, source_id, path,
                    [LineIssue(line, staged.raws.get(line, ""), reason) for line, reason in sorted(repeated.items())])
