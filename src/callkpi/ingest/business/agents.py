"""Agents named by id, name or alias in business files, resolved to agent ids."""

from __future__ import annotations

import pyarrow as pa

from callkpi.config import Settings
from callkpi.model.working_tables import BUSINESS_ALIAS_SETTINGS
from callkpi.storage import Store


def refresh_agent_lookup(store: Store, settings: Settings | None) -> None:
    """TEMP table ``biz_agent_lookup(key, agent)``: lower-case agent ids, staff names, staff and
    agents aliases, and the settings' aliases and CRM users (``[agents.crm_users]``: the responsible user
    of a CRM deal by name), each to its agent id (ambiguous names are left out)."""
    con = store.connection
    store.create_working_table(BUSINESS_ALIAS_SETTINGS, empty=True)
    aliases = {**settings.agents.aliases, **settings.agents.crm_users} if settings else {}
    if aliases:
        store.append_arrow("biz_alias_settings", pa.table({"raw": list(aliases), "agent": list(aliases.values())}))
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE biz_agent_lookup AS
        WITH keys AS (
            SELECT lower(trim(agent)) AS key, agent, 0 AS rank FROM agents
            UNION ALL SELECT lower(trim(agent)), agent, 0 FROM staff
            UNION ALL SELECT lower(trim(raw)), agent, 1 FROM biz_alias_settings
            UNION ALL SELECT lower(trim(name)), agent, 2 FROM staff WHERE name IS NOT NULL
            UNION ALL SELECT lower(trim(name)), agent, 2 FROM agents WHERE name IS NOT NULL
            UNION ALL SELECT lower(trim(a.alias)), agent, 3
                FROM (SELECT agent, unnest(string_split_regex(aliases, '[;|]')) AS alias FROM staff
                      WHERE aliases IS NOT NULL) a
            UNION ALL SELECT lower(trim(a.alias)), agent, 3
                FROM (SELECT agent, unnest(string_split_regex(aliases, '[;|]')) AS alias FROM agents
                      WHERE aliases IS NOT NULL) a
        ), best AS (
            SELECT key, min(rank) AS rank FROM keys WHERE key <> '' GROUP BY key
        )
        SELECT k.key, min(k.agent) AS agent FROM keys k JOIN best b USING (key, rank)
        GROUP BY k.key HAVING count(DISTINCT k.agent) = 1
        """
    )


def resolved_agent_sql(column: str) -> str:
    """SQL for the agent id a raw name resolves to (the raw text when nothing matches)."""
    lookup = f"SELECT l.agent FROM biz_agent_lookup l WHERE l.key = lower(trim({column}))"  # noqa: S608 - a column
    return f"coalesce(({lookup}), nullif(trim({column}), ''))"
