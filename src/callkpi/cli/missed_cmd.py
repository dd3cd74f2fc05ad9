"""`callkpi missed`: the worklist of missed calls nobody has returned yet.

One row per caller number: missed inbound calls from it that were followed by no outbound
attempt to it and no answered call with it (either way), how many, the first and the last, which
queue or DID they came to, and how long ago. ``overdue`` marks numbers waiting longer than
``callback_window_h``, the window the callback KPIs use. This is a list, not a KPI: the KPI is
``missed_unreturned`` (`callkpi kpi --metrics missed_unreturned`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import typer

from callkpi import phone
from callkpi.cli.app import app
from callkpi.cli.common import (
    ConfigOption,
    DbOption,
    TzOption,
    command_params,
    console,
    existing_db,
    fail,
    parse_date,
    parse_utc,
    settings_for,
)
from callkpi.config import MetricParams
from callkpi.metrics.calendar import slice_range
from callkpi.report.render import print_table, to_csv, to_json
from callkpi.storage import Store

COLUMNS = ("number", "missed_calls", "first_missed", "last_missed", "queue", "did", "age_h", "overdue")


def missed_worklist(
    store: Store,
    params: MetricParams,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    as_of: datetime | None = None,
    mask: bool = False,
) -> list[dict[str, Any]]:
    """Unreturned missed calls grouped by number, oldest wait first (times in the business zone)."""
    calls = store.table("calls")
    waiting = calls.filter(
        (calls.direction == "inbound")
        & ~calls.answered
        & calls.caller_norm.notnull()
        & calls.callback_attempt_gap_s.isnull()
        & calls.callback_contact_gap_s.isnull()
    )
    first, end = slice_range(date_from, date_to, params.timezone)
    if first is not None:
        waiting = waiting.filter(waiting.start_slice >= first)
    if end is not None:
        waiting = waiting.filter(waiting.start_slice < end)
    grouped = waiting.group_by(waiting.caller_norm).aggregate(
        missed_calls=waiting.count(),
        first_missed=waiting.start_utc.min(),
        last_missed=waiting.start_utc.max(),
        queue=waiting.queue.arbitrary(where=waiting.queue.notnull()),
        did=waiting.did.arbitrary(where=waiting.did.notnull()),
    ).order_by([ibis.asc("last_missed"), ibis.asc("caller_norm")])
    now = as_of or datetime.now(UTC).replace(tzinfo=None)
    zone = ZoneInfo(params.timezone)
    rows = []
    for row in store.fetch_arrow(grouped).to_pylist():
        age_h = (now - row["last_missed"]).total_seconds() / 3600
        rows.append({
            "number": phone.mask(row["caller_norm"]) if mask else row["caller_norm"],
            "missed_calls": row["missed_calls"],
            "first_missed": _local(row["first_missed"], zone),
            "last_missed": _local(row["last_missed"], zone),
            "queue": row["queue"],
            "did": row["did"],
            "age_h": round(age_h, 1),
            "overdue": age_h > params.callback_window_h,
        })
    return rows


def _local(utc: datetime, zone: ZoneInfo) -> str:
    return utc.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")






@app.command()
def missed(
    db: Path | None = DbOption,
    date_from: str | None = typer.Option(None, "--from", help="first local date of the missed calls"),
    date_to: str | None = typer.Option(None, "--to", help="last local date (inclusive)"),
    fmt: str = typer.Option("table", "--format", help="table, json or csv"),
    as_of: str | None = typer.Option(None, "--as-of", help="count ages up to this UTC time (default: now)"),
    tz: str | None = TzOption,
    config: Path | None = ConfigOption,
) -> None:
    """Missed calls not yet returned: number, how many times, first/last, queue or DID, age."""
    if fmt not in ("table", "json", "csv"):
        fail("--format must be table, json or csv")
    settings = settings_for(config)
    db_path = existing_db(db)
    with Store(db_path, read_only=True) as store:
        params = command_params(settings, store.get_meta("timezone"), tz=tz)
        rows = missed_worklist(
            store, params, date_from=parse_date(date_from, "--from"), date_to=parse_date(date_to, "--to"),
            as_of=parse_utc(as_of), mask=settings.phone.mask_numbers,
        )
    if fmt == "json":
        print(to_json(rows))
    elif fmt == "csv":
        print(to_csv(rows, COLUMNS), end="")
    elif not rows:
        console.print("no missed calls waiting for a callback")
    else:
        title = f"Missed calls not returned ({params.timezone}; overdue after {params.callback_window_h:g} h)"
        print_table(console, rows, COLUMNS, title=title)
