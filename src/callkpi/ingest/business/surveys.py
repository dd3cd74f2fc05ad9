"""Survey answers: CSAT 1-5 (the IVR "press 1 to 5 after the call" case first), NPS 0-10, CES 1-7.

An answer names its call (call id) or the customer's number and the answer time; the match to a
call is made by :func:`callkpi.ingest.business.attribution.refresh` (so answers loaded before their calls
find them later). The same answer in two files counts once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from callkpi import phone
from callkpi.ingest.base import ImportReport
from callkpi.ingest.business.rows import ParseContext, Row, RowError, delete_source_rows
from callkpi.ingest.business.values import parse_amount, parse_datetime, slice_of, split_phones
from callkpi.model.business_schema import SURVEYS, arrow_records
from callkpi.storage import Store, first_row

SCALES = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}


def parse_row(row: Row, ctx: ParseContext) -> dict[str, Any]:
    survey_type = row.choice("survey_type")
    if survey_type is None:
        raise RowError("no survey type (a survey_type column, or a default in a mapping)")
    score = _score(row, survey_type)
    call_id = row.text("call_id")
    answered = parse_datetime(row.get("time"), ctx.zone, ctx.mapping, "answer time")
    numbers, problems = split_phones(row.every("phone"))
    number = phone.normalise(numbers[0], ctx.settings.phone) if numbers else None
    if call_id is None and (number is None or answered is None):
        reasons = "; ".join(problems) or "no call id, and no phone number with an answer time"
        raise RowError(f"cannot find the surveyed call: {reasons}")
    return {
        "survey_id": row.text("survey_id"),
        "survey_type": survey_type,
        "score": score,
        "comment": row.text("comment"),
        "call_id_given": call_id,
        "phone_raw": numbers[0] if numbers else None,
        "phone_norm": number,
        "answered_utc": answered,
        "agent_given": row.text("agent"),
        "slice_id": slice_of(answered),
    }


def _score(row: Row, survey_type: str) -> float:
    cell = row.get("score")
    value = parse_amount(cell)
    if value is None:
        raise RowError("empty score")
    low, high = SCALES[survey_type]
    if not value.is_integer() or not low <= value <= high:
        raise RowError(f"{survey_type} score {cell!r} is not a whole number from {low} to {high}")
    return value


def duplicate_key(record: dict[str, Any]) -> object:
    if record["survey_id"]:
        return ("id", record["survey_id"])
    return (record["survey_type"], record["call_id_given"] or record["phone_norm"], record["answered_utc"])


def describe_key(key: object) -> str:
    assert isinstance(key, tuple)
    if key[0] == "id":
        return f"survey id {key[1]}"
    return f"{key[0]} answer for {key[1]} at {key[2] or 'no time'}"


def forget_source(store: Store, kind: str, source_id: int) -> None:
    delete_source_rows(store, "surveys", source_id)


_SAME_ANSWER = """
    s.source_id = ? AND EXISTS (
        SELECT 1 FROM surveys o WHERE o.source_id <> s.source_id AND (
            (s.survey_id IS NOT NULL AND o.survey_id = s.survey_id)
            OR (s.survey_id IS NULL AND o.survey_type = s.survey_type
                AND coalesce(o.call_id_given, o.phone_norm) = coalesce(s.call_id_given, s.phone_norm)
                AND o.answered_utc IS NOT DISTINCT FROM s.answered_utc)))
"""


def store_records(store: Store, kind: str, source_id: int, records: Sequence[dict[str, Any]],
                  report: ImportReport) -> None:
    """Insert the answers; those already loaded from another file are dropped."""
    con = store.connection
    store.append_arrow("surveys", arrow_records(SURVEYS, records))
    row = first_row(con.execute(f"SELECT count(*) FROM surveys s WHERE {_SAME_ANSWER}", [source_id]))  # noqa: S608
    again = int(row[0]) if row else 0
    if again:
        con.execute(f"DELETE FROM surveys s WHERE {_SAME_ANSWER}", [source_id])  # noqa: S608 - fixed SQL
        report.messages.append(f"{again} answer(s) were already loaded from another file; counted once")
    times = [r["answered_utc"] for r in records if r["answered_utc"] is not None]
    if times:
        report.first_utc, report.last_utc = min(times), max(times)
