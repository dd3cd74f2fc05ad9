"""Links between calls that every importer refreshes after loading: repeat calls from the same
number (first-call resolution) and callbacks of missed calls. Stored as gaps in seconds so the
windows (``fcr_window_h``, ``callback_window_h``) stay report-time parameters.
"""

from __future__ import annotations

from callkpi.config import PhoneSettings
from callkpi.metrics import rollup
from callkpi.model.working_tables import CALL_LINK_NOTED_CALLS, CALL_LINK_NOTED_NUMBERS
from callkpi.storage import Store, first_row

_NOTED_CALLS = CALL_LINK_NOTED_CALLS.name
_NOTED_NUMBERS = CALL_LINK_NOTED_NUMBERS.name


def note_calls(store: Store, call_ids_sql: str) -> None:
    """Remember calls about to be replaced or updated (``call_ids_sql`` selects their ids; a fixed
    query of the caller): :func:`refresh_call_links` then recomputes the links of the numbers these
    calls have now or have after the change, and leaves every other number's links alone."""
    con = store.connection
    store.create_working_table(CALL_LINK_NOTED_CALLS)
    store.create_working_table(CALL_LINK_NOTED_NUMBERS)
    con.execute(f"INSERT INTO {_NOTED_CALLS} {call_ids_sql}")
    con.execute(_NUMBERS_OF_NOTED_CALLS)


_NUMBERS_OF_NOTED_CALLS = f"""
    INSERT INTO {_NOTED_NUMBERS}
    SELECT DISTINCT number FROM (
        SELECT unnest([caller_norm, callee_norm]) AS number
        FROM calls c SEMI JOIN {_NOTED_CALLS} n ON c.call_id = n.call_id
    ) WHERE number IS NOT NULL
"""  # noqa: S608 - names of this module


def refresh_call_links(store: Store) -> None:
    """Recompute the gaps (of the numbers of the calls noted with :func:`note_calls`; of every
    number when none were); the calls whose gaps changed are marked for the KPI rollups."""
    con = store.connection
    scoped = _scope_to_noted_numbers(store)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE call_link_changes AS
        SELECT call_id, gap FROM (
            SELECT call_id, next_inbound_gap_s AS stored,
                epoch(lead(start_utc) OVER (PARTITION BY caller_norm ORDER BY start_utc, call_id))
                    - epoch(start_utc) AS gap
            FROM calls {_in_scope("caller_norm", scoped)}
            WHERE direction = 'inbound' AND caller_norm IS NOT NULL
        ) WHERE stored IS DISTINCT FROM gap
        """  # noqa: S608 - fixed expressions of this module
    )
    con.execute(
        "UPDATE calls SET next_inbound_gap_s = g.gap FROM call_link_changes g WHERE calls.call_id = g.call_id"
    )
    rollup.mark_updated_calls(store, "SELECT call_id FROM call_link_changes")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE call_link_changes AS
        WITH missed AS (
            SELECT call_id, caller_norm AS number, start_utc,
                callback_attempt_gap_s AS stored_attempt, callback_contact_gap_s AS stored_contact
            FROM calls {_in_scope("caller_norm", scoped)}
            WHERE direction = 'inbound' AND NOT answered AND caller_norm IS NOT NULL
        ), attempts AS (
            SELECT callee_norm AS number, start_utc FROM calls {_in_scope("callee_norm", scoped)}
            WHERE direction = 'outbound' AND callee_norm IS NOT NULL
        ), contacts AS (
            SELECT callee_norm AS number, start_utc FROM calls {_in_scope("callee_norm", scoped)}
            WHERE direction = 'outbound' AND answered AND callee_norm IS NOT NULL
            UNION ALL
            SELECT caller_norm, start_utc FROM calls {_in_scope("caller_norm", scoped)}
            WHERE direction = 'inbound' AND answered AND caller_norm IS NOT NULL
        ), with_attempt AS (
            SELECT m.*, epoch(a.start_utc) - epoch(m.start_utc) AS attempt_gap
            FROM missed m ASOF LEFT JOIN attempts a
                ON m.number = a.number AND m.start_utc < a.start_utc
        ), gaps AS (
            SELECT w.*, epoch(c.start_utc) - epoch(w.start_utc) AS contact_gap
            FROM with_attempt w ASOF LEFT JOIN contacts c
                ON w.number = c.number AND w.start_utc < c.start_utc
        )
        SELECT call_id, attempt_gap, contact_gap FROM gaps
        WHERE stored_attempt IS DISTINCT FROM attempt_gap OR stored_contact IS DISTINCT FROM contact_gap
        """  # noqa: S608 - fixed expressions of this module
    )
    con.execute(
        "UPDATE calls SET callback_attempt_gap_s = g.attempt_gap, callback_contact_gap_s = g.contact_gap "
        "FROM call_link_changes g WHERE calls.call_id = g.call_id"
    )
    rollup.mark_updated_calls(store, "SELECT call_id FROM call_link_changes")
    con.execute("DROP TABLE call_link_changes")
    if store.has_table(_NOTED_CALLS):
        con.execute(f"DELETE FROM {_NOTED_CALLS}")  # noqa: S608 - names of this module
        con.execute(f"DELETE FROM {_NOTED_NUMBERS}")  # noqa: S608 - names of this module


def _scope_to_noted_numbers(store: Store) -> bool:
    """Add the numbers the noted calls have now. False (every number) when no calls were noted,
    or when they are most calls (a first load): then narrowing down costs more than it saves."""
    if not store.has_table(_NOTED_CALLS):
        return False
    con = store.connection
    noted = first_row(con.execute(f"SELECT count(DISTINCT call_id) FROM {_NOTED_CALLS}"))  # noqa: S608
    calls = first_row(con.execute("SELECT count(*) FROM calls"))
    if noted and calls and 2 * noted[0] >= calls[0]:
        return False
    con.execute(_NUMBERS_OF_NOTED_CALLS)
    return True


def _in_scope(column: str, scoped: bool) -> str:
    """A join keeping the calls whose ``column`` is a noted number (nothing when not scoped)."""
    return f"c SEMI JOIN {_NOTED_NUMBERS} n ON c.{column} = n.number" if scoped else ""


def refresh_agents(store: Store) -> None:
    """Every agent id seen in any source gets a row (names and teams come from staff lists); the
    ids that are not agents are reported (:func:`find_agents_that_are_not_agents`)."""
    find_agents_that_are_not_agents(store)
    store.connection.execute(
        """
        INSERT INTO agents (agent)
        SELECT DISTINCT agent FROM (
            SELECT agent FROM agent_legs UNION ALL SELECT agent FROM agent_states
            UNION ALL SELECT agent FROM calls
        ) WHERE agent IS NOT NULL AND agent NOT IN (SELECT agent FROM agents)
        """
    )


DIAL_PREFIX_MIN_NUMBERS = 3


def suggest_dial_prefixes(store: Store, phone: PhoneSettings) -> None:
    """Finding ``dial_prefix_suggested``: a prefix P such that at least
    :data:`DIAL_PREFIX_MIN_NUMBERS` dialled numbers are P followed by the number of a caller who
    called in. Callbacks dialled that way are not matched with the missed calls they return until
    P is in ``[phone] dial_prefixes``. Recomputed over the whole store (one join of numbers)."""
    con = store.connection
    con.execute("DELETE FROM data_quality WHERE kind = 'dial_prefix_suggested'")
    con.execute(
        """
        INSERT INTO data_quality
        WITH callers AS (
            SELECT DISTINCT right(caller_norm, $nl) AS national, caller_norm FROM calls
            WHERE direction = 'inbound' AND length(caller_norm) >= $nl
        ), dialled AS (
            SELECT callee_norm AS number, min(start_utc) AS first_utc FROM calls
            WHERE direction = 'outbound' AND length(callee_norm) > $nl GROUP BY callee_norm
        ), pairs AS (
            SELECT DISTINCT d.number, d.first_utc, left(d.number, length(d.number) - $nl) AS prefix
            FROM dialled d JOIN callers c ON right(d.number, $nl) = c.national AND d.number <> c.caller_norm
        )
        SELECT 'calls', 'dial_prefix_suggested', NULL, NULL, min(first_utc),
            count(*) || ' dialled numbers are ' || prefix || ' followed by the number of a caller who called in: '
            || 'callbacks dialled through it are not matched with the missed calls they return (callback_rate, '
            || 'callback_success_rate and missed_unreturned miss them); if ' || prefix || ' is a dial prefix, '
            || 'add it to [phone] dial_prefixes (if it is the country code, set [phone] '
            || 'country_code instead), then forget the call sources (callkpi sources forget ID) and load '
            || 'them again'
        FROM pairs
        WHERE prefix NOT IN ($cc, $np) AND NOT list_contains($dp::VARCHAR[], prefix)
        GROUP BY prefix HAVING count(*) >= $min_numbers
        """,
        {"nl": phone.national_length, "cc": phone.country_code, "np": phone.national_prefix,
         "dp": list(phone.dial_prefixes), "min_numbers": DIAL_PREFIX_MIN_NUMBERS},
    )


# An agent id that is a phone number (7+ digits): the far end of a trunk forward or a SIP peer
# named by its number, not a person of the team.
_EXTERNAL_NUMBER = r"^\+?\d{7,}$"


def find_agents_that_are_not_agents(store: Store) -> None:
    """Finding ``agent_not_an_agent``: handled (answered) legs credited to a blank agent or to an
    external number, per source and agent id. Recomputed over the whole store."""
    con = store.connection
    con.execute("DELETE FROM data_quality WHERE kind = 'agent_not_an_agent'")
    con.execute(
        """
        INSERT INTO data_quality
        SELECT source, 'agent_not_an_agent', NULL, agent, min(answer_utc),
            count(*) || ' handled leg(s) (' || round(coalesce(sum(talk_s), 0) / 3600, 1) || ' h talk) are credited to '
            || CASE WHEN agent IS NULL OR trim(agent) = ''
                    THEN 'no agent (blank): the by-agent figures show them as a row without agent and no person '
                         || 'gets them; fix: the source does not name who answered (a device or channel that is not '
                         || 'an agent); name it in [agents.aliases] if it is one person'
                    ELSE 'agent ' || agent || ', an external number: the by-agent figures (calls_handled, talk, AHT, '
                         || 'agent_answer_rate) show it as an agent and the team totals include it; fix: if it is a '
                         || 'forward to a mobile or another PBX, treat the channel as a trunk; if it is a person, map '
                         || 'it in [agents.aliases]' END
        FROM agent_legs
        WHERE outcome = 'answered' AND (agent IS NULL OR trim(agent) = '' OR regexp_matches(agent, $external))
        GROUP BY source, agent
        """,
        {"external": _EXTERNAL_NUMBER},
    )
