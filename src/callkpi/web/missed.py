"""The missed-call worklist as the web page, its export and ``/api/v1/missed`` show it: the rows of
:func:`callkpi.queries.missed.unreturned_worklist`, numbers masked when the user may not see them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from callkpi.config import MetricParams
from callkpi.queries._rows import iso, plain
from callkpi.queries.missed import unreturned_worklist
from callkpi.storage import Store


def missed_page(
    store: Store,
    params: MetricParams,
    scope: Mapping[str, tuple[str, ...]],
    *,
    date_from: date | None,
    date_to: date | None,
    hide_numbers: bool,
    limit: int = 100,
    offset: int = 0,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """One page of the worklist, JSON-ready: items, total, as_of, limit, offset."""
    worklist = unreturned_worklist(store, params, scope=scope, date_from=date_from, date_to=date_to,
                                   as_of=as_of, limit=limit, offset=offset)
    items = [plain(row, hide_numbers, ("number", "caller")) for row in worklist.items]
    return {"items": items, "total": worklist.total, "as_of": iso(worklist.as_of), "limit": limit, "offset": offset}
