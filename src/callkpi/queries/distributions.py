"""Distributions behind the charts: how many legs fall in each band of a duration."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis

from callkpi.config import MetricParams
from callkpi.model.schema import AGENT_LEGS
from callkpi.queries._rows import period_filter, rows
from callkpi.storage import Store


def talk_distribution(
    store: Store,
    params: MetricParams,
    agent: str,
    date_from: date | None,
    date_to: date | None,
    bin_s: int,
    last_bin: int,
) -> list[dict[str, Any]]:
    """How many of the agent's answered legs fall in each ``bin_s``-second band of talk time
    (the last band holds everything longer): rows of ``band`` and ``legs``."""
    legs = store.table(AGENT_LEGS.name)
    legs = period_filter(legs, "offer_slice", date_from, date_to, params.timezone)
    legs = legs.filter((legs.agent == agent) & (legs.outcome == "answered") & legs.talk_s.notnull())
    band = ibis.least((legs.talk_s / bin_s).floor().cast("int64"), last_bin)
    banded = legs.mutate(band=band)
    counted = banded.group_by("band").aggregate(legs=banded.count()).order_by("band")
    return rows(store, counted)
