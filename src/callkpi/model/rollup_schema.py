"""The KPI rollup tables: one per rolled-up fact and time grain (see :mod:`callkpi.metrics.rollup`).

A rollup table is named ``rollup_<fact>_<grain>`` and has the columns ``slice_id`` (BIGINT: the
15-minute slice, or the first slice of the local day), the grain's dimensions (typed as in the
fact's table) and one DOUBLE per rolled-up measure. Its columns follow the metric registry, so the
table is created from the registry's own aggregate query with :meth:`callkpi.storage.Store.replace_table_as`.
"""

from __future__ import annotations

ROLLUP_TABLE_PREFIX = "rollup_"
BUCKET_COLUMN = "slice_id"


def rollup_table_name(fact: str, grain: str) -> str:
    return f"{ROLLUP_TABLE_PREFIX}{fact}_{grain}"
