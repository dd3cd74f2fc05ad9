"""Links between calls that every importer refreshes after loading: repeat calls from the same
number (first-call resolution) and callbacks of missed calls. Stored as gaps in seconds so the
windows (``fcr_window_h``, ``callback_window_h``) stay report-time parameters.
"""

from __future__ import annotations

from callkpi.metrics import rollup
from callkpi.storage import Store


def refresh_call_links(store: Store) -> None:
    """Recompute the gaps; the calls whose gaps changed are marked for the KPI rollups."""
    con = store.connection
    changed = con.sql(
        """
        UPDATE calls SET next_inbound_gap_s = g.gap
        FROM (
            SELECT call_id,
                epoch(lead(start_utc) OVER (PARTITION BY caller_norm ORDER BY start_utc, call_id))
                    - epoch(start_utc) AS gap
            FROM calls WHERE direction = 'inbound' AND caller_norm IS NOT NULL
        ) g
        WHERE calls.call_id = g.call_id AND calls.next_inbound_gap_s IS DISTINCT FROM g.gap
        RETURNING calls.call_id
        """
    ).to_arrow_table()
    rollup.mark_call_ids(store, changed)
    changed = con.sql(
        """
        UPDATE calls SET callback_attempt_gap_s = g.attempt_gap, callback_contact_gap_s = g.contact_gap
        FROM (
            WITH missed AS (
                SELECT call_id, caller_norm AS number, start_utc FROM calls
                WHERE direction = 'inbound' AND NOT answered AND caller_norm IS NOT NULL
            ), attempts AS (
                SELECT callee_norm AS number, start_utc FROM calls
                WHERE direction = 'outbound' AND callee_norm IS NOT NULL
            ), contacts AS (
                SELECT callee_norm AS number, start_utc FROM calls
                WHERE direction = 'outbound' AND answered AND callee_norm IS NOT NULL
                UNION ALL
                SELECT caller_norm, start_utc FROM calls
                WHERE direction = 'inbound' AND answered AND caller_norm IS NOT NULL
            ), with_attempt AS (
                SELECT m.call_id, m.number, m.start_utc,
                    epoch(a.start_utc) - epoch(m.start_utc) AS attempt_gap
                FROM missed m ASOF LEFT JOIN attempts a
                    ON m.number = a.number AND m.start_utc < a.start_utc
            )
            SELECT w.call_id, w.attempt_gap, epoch(c.start_utc) - epoch(w.start_utc) AS contact_gap
            FROM with_attempt w ASOF LEFT JOIN contacts c
                ON w.number = c.number AND w.start_utc < c.start_utc
        ) g
        WHERE calls.call_id = g.call_id
          AND (calls.callback_attempt_gap_s IS DISTINCT FROM g.attempt_gap
               OR calls.callback_contact_gap_s IS DISTINCT FROM g.contact_gap)
        RETURNING calls.call_id
        """
    ).to_arrow_table()
    rollup.mark_call_ids(store, changed)


def refresh_agents(store: Store) -> None:
    """Every agent id seen in any source gets a row (names and teams come from staff lists)."""
    store.connection.execute(
        """
        INSERT INTO agents (agent)
        SELECT DISTINCT agent FROM (
            SELECT agent FROM agent_legs UNION ALL SELECT agent FROM agent_states
            UNION ALL SELECT agent FROM calls
        ) WHERE agent IS NOT NULL AND agent NOT IN (SELECT agent FROM agents)
        """
    )
