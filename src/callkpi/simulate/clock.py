"""Local wall-clock time of epoch seconds, in bulk, for the scenario's time zone (DST-safe).

UTC offsets are looked up per UTC hour (zone transitions fall on whole hours in every zone a
contact centre is likely to use) and text is assembled from lookup tables, so formatting a
million timestamps costs a few array operations.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SECONDS_PER_DAY = 86_400
_HMS = pa.array([f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(SECONDS_PER_DAY)])


class LocalClock:
    def __init__(self, zone: ZoneInfo, first_epoch: int, last_epoch: int) -> None:
        # a margin on both sides: calls run past the last midnight, deals close days later
        self.base_hour = first_epoch // 3600 - 48
        hours = (last_epoch - first_epoch) // 3600 + 24 * 40
        self.offsets = np.array(
            [_utc_offset(zone, (self.base_hour + h) * 3600) for h in range(hours)], dtype=np.int64
        )
        self.base_day = (first_epoch + int(self.offsets.min())) // SECONDS_PER_DAY - 2
        days = hours // 24 + 4
        self._dates = pa.array(
            [(datetime(1970, 1, 1) + timedelta(days=self.base_day + d)).date().isoformat() for d in range(days)]
        )
        self.hour_offsets: list[int] = self.offsets.tolist()  # per UTC hour from base_hour, for plain-int code
        self._offset_texts = {int(o): _offset_text(int(o)) for o in np.unique(self.offsets)}

    def offset(self, epochs: np.ndarray) -> np.ndarray:
        hours = np.clip(epochs // 3600 - self.base_hour, 0, len(self.offsets) - 1)
        return self.offsets[hours]

    def local(self, epochs: np.ndarray) -> np.ndarray:
        """Local wall-clock seconds since 1970-01-01 00:00 local."""
        return epochs + self.offset(epochs)

    def local_hour(self, epochs: np.ndarray) -> np.ndarray:
        return self.local(epochs) // 3600 % 24


    def cdr_text(self, epochs: np.ndarray) -> pa.StringArray:
        """``YYYY-MM-DD HH:MM:SS`` local, as cdr-csv writes it."""
        local = self.local(np.asarray(epochs, dtype=np.int64))
        return pc.binary_join_element_wise(self._date(local), _HMS.take(pa.array(local % SECONDS_PER_DAY)), " ")

    def iso_text(self, epochs: np.ndarray) -> pa.StringArray:
        """ISO 8601 local time with its UTC offset, ``2026-03-02T09:15:00+03:00``."""
        epochs = np.asarray(epochs, dtype=np.int64)
        offsets = self.offset(epochs)
        local = epochs + offsets
        unique, inverse = np.unique(offsets, return_inverse=True)
        offset_texts = pa.array([self._offset_texts[int(o)] for o in unique]).take(pa.array(inverse.ravel()))
        return pc.binary_join_element_wise(
            self._date(local), "T", _HMS.take(pa.array(local % SECONDS_PER_DAY)), offset_texts, ""
        )

    def _date(self, local: np.ndarray) -> pa.StringArray:
        return self._dates.take(pa.array(local // SECONDS_PER_DAY - self.base_day))


def _utc_offset(zone: ZoneInfo, epoch: int) -> int:
    moment = datetime.fromtimestamp(epoch, tz=UTC).astimezone(zone)
    offset = moment.utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _offset_text(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
