"""The service level of the last 15/30/60 minutes, computed by the metric engine.

The legs that ended in each window (:func:`callkpi.analyses.live_state.window_legs`) go into a
small in-memory store as queue legs, one copy per window (its ``source`` names the window), and
the registry's ``service_level`` (with the settings' threshold, variant and short abandons) is
asked for by queue and window. Nothing here knows how the service level is defined.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import pyarrow as pa

from callkpi.analyses.live_state import ClosedLeg
from callkpi.config import MetricParams
from callkpi.metrics.engine import KpiQuery, compute
from callkpi.model.schema import QUEUE_LEGS
from callkpi.storage import Store

METRICS = ("service_level", "calls_offered", "calls_answered")
ALL = ""  # the queue key of the figures over every queue


class WindowServiceLevel:
    """Computes the window figures; one store for the life of the server (thread-safe)."""

    def __init__(self) -> None:
        self._store = Store(":memory:")
        self._store.ensure_schema((QUEUE_LEGS,))
        self._lock = threading.Lock()

    def compute(self, windows: Mapping[int, Sequence[ClosedLeg]], params: MetricParams,
                ) -> dict[str, dict[int, dict[str, float | None]]]:
        """queue -> window minutes -> {service_level, calls_offered, calls_answered}; the key ``""``
        holds every queue together. A window without legs is absent."""
        with self._lock:
            self._fill(windows)
            base = {"metrics": METRICS, "params": params}
            per_queue = compute(self._store, KpiQuery(by=("queue", "source"), **base), rollups=False).rows
            total = compute(self._store, KpiQuery(by=("source",), **base), rollups=False).rows
        result: dict[str, dict[int, dict[str, float | None]]] = {}
        for row in (*per_queue, *({**r, "queue": ALL} for r in total)):
            window = int(str(row["source"]).removeprefix("w"))
            result.setdefault(row["queue"] or ALL, {})[window] = {m: row.get(m) for m in METRICS}
        return result

    def _fill(self, windows: Mapping[int, Sequence[ClosedLeg]]) -> None:
        legs = [(w, leg) for w, found in windows.items() for leg in found]
        table = pa.table({
            "call_id": [leg.callid for _w, leg in legs],
            "leg_no": pa.array([1] * len(legs), pa.int32()),
            "source": [f"w{w}" for w, _leg in legs],
            "queue": pa.array([leg.queue for _w, leg in legs], pa.string()),
            "enter_utc": pa.array([_utc(leg.enter) for _w, leg in legs], pa.timestamp("us")),
            "enter_slice": pa.array([int(leg.enter // 900) for _w, leg in legs], pa.int64()),
            "end_utc": pa.array([_utc(leg.end) for _w, leg in legs], pa.timestamp("us")),
            "outcome": pa.array([leg.outcome for _w, leg in legs], pa.string()),
            "wait_s": pa.array([leg.wait_s for _w, leg in legs], pa.float64()),
        })
        con = self._store.connection
        con.execute("DELETE FROM queue_legs")
        con.register("live_legs", table)
        try:
            columns = ", ".join(table.column_names)
            con.execute(f"INSERT INTO queue_legs ({columns}) SELECT {columns} FROM live_legs")  # noqa: S608 - fixed names
        finally:
            con.unregister("live_legs")

    def close(self) -> None:
        self._store.close()


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)
