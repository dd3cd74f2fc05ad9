"""Business data joined to calls: how many rows the linking steps hold."""

from __future__ import annotations

from callkpi.model.business_schema import ADHERENCE_TIME, COST_ALLOCATION, DEAL_ATTRIBUTION, STAFF_DAYS, SURVEYS
from callkpi.storage import Store

RELINKED_TABLES = (DEAL_ATTRIBUTION, SURVEYS, COST_ALLOCATION, ADHERENCE_TIME, STAFF_DAYS)


def relink_counts(store: Store) -> dict[str, int]:
    """Rows of every table `callkpi relink` rebuilds, by table name."""
    return {table.name: store.row_count(table.name) for table in RELINKED_TABLES}
