"""Survey targets: the customers an auto-dial survey campaign should call."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from callkpi.config import MetricParams, PhoneSettings
from callkpi.metrics.calendar import slice_range
from callkpi.storage import Store
from callkpi.storage.business_tables import has_business_tables


def survey_candidates(store: Store, params: MetricParams, phone_settings: PhoneSettings, *, since: date,
                      until: date | None = None, not_surveyed_days: int = 90, as_of: datetime | None = None,
                      queues: tuple[str, ...] = (), limit: int | None = None) -> list[dict[str, Any]]:
    """Customers to call for a survey: every customer number with an answered call in the period (its
    last such call), less the numbers that answered a survey in the last ``not_surveyed_days``."""
    first, end = slice_range(since, until, params.timezone)
    now = as_of or datetime.now(UTC).replace(tzinfo=None)
    surveyed = ("SELECT phone_norm AS number, answered_utc AS t FROM surveys WHERE phone_norm IS NOT NULL "
                "UNION ALL SELECT CASE WHEN c.direction = 'outbound' THEN c.callee_norm ELSE c.caller_norm END, "
                "coalesce(s.answered_utc, c.start_utc) FROM surveys s JOIN calls c ON c.call_id = s.call_id"
                if has_business_tables(store) else "SELECT NULL::VARCHAR AS number, NULL::TIMESTAMP AS t")
    rows = store.connection.execute(
        f"""
        WITH answered AS (
            SELECT call_id, start_utc, agent, queue,
                CASE WHEN direction = 'outbound' THEN callee_norm ELSE caller_norm END AS number
            FROM calls
            WHERE answered AND agent IS NOT NULL AND direction IN ('inbound', 'outbound')
              AND start_slice >= $first AND ($end IS NULL OR start_slice < $end)
              AND (len($queues) = 0 OR list_contains($queues, queue))
        ), last_call AS (
            SELECT * FROM answered WHERE number IS NOT NULL AND length(number) >= 7
            QUALIFY row_number() OVER (PARTITION BY number ORDER BY start_utc DESC, call_id) = 1
        ), surveyed AS ({surveyed})
        SELECT number, call_id, agent, queue, start_utc FROM last_call l
        WHERE NOT EXISTS (SELECT 1 FROM surveyed s WHERE s.number = l.number
                          AND s.t >= $now - to_days($days) AND s.t <= $now)
        ORDER BY start_utc, number
        LIMIT $limit
        """,  # noqa: S608 - fixed SQL of this module, values bound
        {"first": first, "end": end, "queues": list(queues), "now": now, "days": not_surveyed_days,
         "limit": limit if limit else 2**62},
    ).fetchall()
    zone = ZoneInfo(params.timezone)
    return [{
        "phone_number": _dialable(number, phone_settings),
        "call_id": call_id, "agent": agent, "queue": queue,
        "last_call": start.replace(tzinfo=UTC).astimezone(zone).isoformat(timespec="seconds"),
    } for number, call_id, agent, queue, start in rows]


def _dialable(number: str, settings: PhoneSettings) -> str:
    """+E.164 when the number carries the country code the settings name; as stored otherwise."""
    if settings.country_code and number.startswith(settings.country_code) and \
            len(number) == len(settings.country_code) + settings.national_length:
        return "+" + number
    return number
