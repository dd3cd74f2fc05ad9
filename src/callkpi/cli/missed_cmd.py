"""`callkpi missed`: the worklist of missed calls nobody has returned yet.

One row per caller number: missed inbound calls from it (answered false or unknown) that were
followed by no outbound attempt to it and no answered call with it (either way) and that nobody
marked handled in the web, how many, the first and the last, the queue and DID of the latest, and
how long ago. ``overdue`` marks numbers waiting longer than ``callback_window_h``, the window the
callback KPIs use. The rule is :func:`callkpi.queries.missed.unreturned_worklist`, the same as the
web's missed page and ``/api/v1/missed``. This is a list, not a KPI: the KPI is
``missed_unreturned`` (`callkpi kpi --metrics missed_unreturned`), which counts missed calls with
no callback *within* the window (see that module for how the two relate).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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
from callkpi.cli.tables import TABLE_FORMATS, print_table, resolve_format
from callkpi.cli.words import t
from callkpi.config import MetricParams
from callkpi.queries.missed import unreturned_worklist
from callkpi.report.render import to_csv, to_json
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
    """:func:`callkpi.queries.missed.unreturned_worklist` as the CLI shows it (times in the business zone)."""
    worklist = unreturned_worklist(store, params, date_from=date_from, date_to=date_to, as_of=as_of)
    zone = ZoneInfo(params.timezone)
    return [{
        "number": phone.mask(row["number"]) if mask else row["number"],
        "missed_calls": row["times_called"],
        "first_missed": _local(row["first_utc"], zone),
        "last_missed": _local(row["last_utc"], zone),
        "queue": row["queue"],
        "did": row["did"],
        "age_h": round(row["age_s"] / 3600, 1),
        "overdue": row["overdue"],
    } for row in worklist.items]


def _local(utc: datetime, zone: ZoneInfo) -> str:
    return utc.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")


@app.command()
def missed(
    db: Path | None = DbOption,
    date_from: str | None = typer.Option(None, "--from", help="first local date of the missed calls"),
    date_to: str | None = typer.Option(None, "--to", help="last local date (inclusive)"),
    fmt: str = typer.Option("auto", "--format", help="auto (a table on a terminal, TSV when piped), table, tsv, "
                            "json or csv"),
    as_of: str | None = typer.Option(None, "--as-of", help="count ages up to this UTC time (default: now)"),
    tz: str | None = TzOption,
    config: Path | None = ConfigOption,
) -> None:
    """Missed calls not yet returned: number, how many times, first/last, queue or DID, age."""
    if fmt not in (*TABLE_FORMATS, "json", "csv"):
        fail(t("cli.bad_format", formats=", ".join((*TABLE_FORMATS, "json", "csv"))))
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
    elif not rows and resolve_format(console, fmt) == "table":
        console.print(t("cli.no_missed"))
    else:
        from callkpi.report.language import number

        hours = number(params.callback_window_h, 0 if float(params.callback_window_h).is_integer() else 1)
        title = t("cli.missed_title", tz=params.timezone, hours=hours)
        print_table(console, _readable(rows) if resolve_format(console, fmt) == "table" else rows, COLUMNS,
                    title=title, fmt=fmt)


def _readable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table's local times as the language writes dates (``31.03.2026 14:30`` in Russian)."""
    from callkpi.report.language import day, russian

    if not russian():
        return rows

    def local(text: str | None) -> str | None:
        return f"{day(date.fromisoformat(text[:10]))} {text[11:]}" if text else text

    return [{**row, "first_missed": local(row["first_missed"]), "last_missed": local(row["last_missed"])}
            for row in rows]
