"""CRM deals and leads (default layout in :mod:`callkpi.ingest.business.layouts`, mappings in
:mod:`callkpi.ingest.business.mappings`).

A deal is one row per CRM id; a newer file replaces the rows an older one gave for the same ids
(exports are snapshots: the newest status wins). Phone numbers are normalised with the ``[phone]``
settings; the owner is resolved to an agent id by :func:`callkpi.ingest.business.attribution.refresh`, which
also attributes each deal to a call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from callkpi import phone
from callkpi.ingest.base import ImportReport
from callkpi.ingest.business.rows import ParseContext, Row, RowError, delete_source_rows
from callkpi.ingest.business.values import (
    currency_of,
    normalise_currency,
    parse_amount,
    parse_datetime,
    slice_of,
    split_phones,
)
from callkpi.model.business_schema import DEALS, arrow_records
from callkpi.storage import Store, first_row

CLOSED = ("won", "lost")


def parse_row(row: Row, ctx: ParseContext) -> dict[str, Any]:
    deal_id = row.text("deal_id")
    if not deal_id:
        raise RowError("empty deal id")
    status = row.choice("status")
    if status is None:
        raise RowError("empty status")
    created = parse_datetime(row.get("created"), ctx.zone, ctx.mapping, "created time")
    closed = parse_datetime(row.get("closed"), ctx.zone, ctx.mapping, "closing time")
    if created is None and closed is None:
        raise RowError("neither a created nor a closing time")
    if created is not None and closed is not None and closed < created:
        raise RowError(f"closed {closed:%Y-%m-%d %H:%M} UTC is before created {created:%Y-%m-%d %H:%M} UTC")
    amount_cell = row.get("amount")
    amount = parse_amount(amount_cell, ctx.mapping.decimal)
    if amount is not None and amount < 0:
        raise RowError(f"negative amount {amount_cell!r}")
    numbers, problems = split_phones(row.every("phone"))
    for problem in problems:
        ctx.findings.append((row.line_no, f"deal {deal_id}: {problem}; not used for attribution"))
    event = _event_time(status, created, closed)
    if status == "won" and closed is None:
        ctx.findings.append((row.line_no, f"deal {deal_id} is won without a closing time; its creation time "
                                          "is used as the time it was won"))
    normalised = [phone.normalise(n, ctx.settings.phone) for n in numbers]
    return {
        "crm": ctx.mapping.name,
        "deal_id": deal_id,
        "title": row.text("title"),
        "status": status,
        "status_raw": row.text("status"),
        "amount": amount,
        "currency": (normalise_currency(row.text("currency")) or currency_of(amount_cell)
                     or ctx.settings.money.currency or None),
        "created_utc": created,
        "closed_utc": closed,
        "event_utc": event,
        "event_slice": slice_of(event),
        "created_slice": slice_of(created or event),
        "phones_raw": "; ".join(numbers) or None,
        "phones_norm": list(dict.fromkeys(n for n in normalised if n)) or None,
        "owner_raw": row.text("owner"),
        "owner": None,
        "call_id": row.text("call_id"),
        "product": row.text("product"),
        "campaign": row.text("campaign"),
        "pipeline": row.text("pipeline"),
    }


def _event_time(status: str, created: Any, closed: Any) -> Any:
    if status in CLOSED:
        return closed or created
    return created or closed


def duplicate_key(record: dict[str, Any]) -> object:
    return record["deal_id"]


def describe_key(key: object) -> str:
    return f"deal id {key}"


def forget_source(store: Store, kind: str, source_id: int) -> None:
    delete_source_rows(store, "deals", source_id)


def store_records(store: Store, kind: str, source_id: int, records: Sequence[dict[str, Any]],
                  report: ImportReport) -> None:
    """Insert the deals; rows of older files with the same deal ids are replaced."""
    con = store.connection
    store.append_arrow("deals", arrow_records(DEALS, records))
    row = first_row(con.execute(
        "SELECT count(*) FROM deals d WHERE d.source_id <> ? AND d.deal_id IN "
        "(SELECT deal_id FROM deals WHERE source_id = ?)", [source_id, source_id]))
    replaced = int(row[0]) if row else 0
    if replaced:
        con.execute(
            "DELETE FROM deals WHERE source_id <> ? AND deal_id IN (SELECT deal_id FROM deals WHERE source_id = ?)",
            [source_id, source_id],
        )
        report.messages.append(f"{replaced} deal(s) replaced rows loaded from earlier files (newest file wins)")
    if records:
        times = [r["event_utc"] for r in records if r["event_utc"] is not None]
        report.first_utc, report.last_utc = min(times), max(times)
