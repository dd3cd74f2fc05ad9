"""Customers: Russian phone numbers in the shapes different systems write them, callers who call
again (the same day after a missed call, or days later), and the worklist of callbacks."""

from __future__ import annotations

import heapq
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from callkpi.simulate.scenario import Scenario

COUNTRY = 70_000_000_000  # 7 followed by ten digits
_MOBILE_CODES = np.array([903, 905, 906, 909, 910, 915, 916, 917, 925, 926, 929, 963, 965, 977, 985, 999])
_LANDLINE_CODES = np.array([495, 499])
SHAPE_PLUS7, SHAPE_EIGHT, SHAPE_SEVEN = 0, 1, 2
_SHAPE_NAMES = ("plus7", "eight", "seven")


def new_numbers(rng: np.random.Generator, count: int) -> np.ndarray:
    """Eleven-digit numbers 7XXXXXXXXXX: 70 % mobile, the rest Moscow landlines."""
    mobile = rng.random(count) < 0.7
    codes = np.where(mobile, rng.choice(_MOBILE_CODES, count), rng.choice(_LANDLINE_CODES, count))
    return COUNTRY + codes * 10_000_000 + rng.integers(0, 10_000_000, count)


def draw_shapes(rng: np.random.Generator, count: int, weights: dict[str, float]) -> np.ndarray:
    p = np.array([weights.get(name, 0.0) for name in _SHAPE_NAMES], dtype=float)
    return rng.choice(3, size=count, p=p / p.sum()).astype(np.int8)


def _ten_digits(numbers: np.ndarray) -> pa.StringArray:
    return pc.cast(pa.array(numbers - COUNTRY), pa.string())


def caller_id_text(numbers: np.ndarray, shapes: np.ndarray) -> pa.StringArray:
    """Caller id as a trunk delivers it: ``+74951234567``, ``84951234567`` or ``74951234567``."""
    digits = _ten_digits(numbers)
    prefixes = pa.array(["+7", "8", "7"]).take(pa.array(shapes))
    return pc.binary_join_element_wise(prefixes, digits, "")


def crm_phone_text(numbers: np.ndarray, rng: np.random.Generator) -> pa.StringArray:
    """A phone as people type it into a CRM: ``+7 (495) 123-45-67``, ``8 495 123-45-67``, ..."""
    digits = _ten_digits(numbers)
    code, first, second, third = (pc.utf8_slice_codeunits(digits, a, b) for a, b in ((0, 3), (3, 6), (6, 8), (8, 10)))
    shapes = [
        pc.binary_join_element_wise("+7 (", code, ") ", first, "-", second, "-", third, ""),
        pc.binary_join_element_wise("8 ", code, " ", first, "-", second, "-", third, ""),
        pc.binary_join_element_wise("+7", digits, ""),
        pc.binary_join_element_wise("8(", code, ")", first, second, third, ""),
        pc.binary_join_element_wise("7", digits, ""),
    ]
    choice = rng.choice(len(shapes), size=len(numbers), p=[0.35, 0.25, 0.2, 0.1, 0.1])
    return pc.choose(pa.array(choice.astype(np.int8)), *shapes)


class CustomerBook:
    """Who calls: new customers, and customers calling again on later days."""

    def __init__(self, scenario: Scenario) -> None:
        self.callers = scenario.callers
        self.days = scenario.days
        self._repeats: dict[int, list[np.ndarray]] = defaultdict(list)

    def numbers_for_day(self, day: int, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Numbers of the day's arrivals and a mask of those that are new customers."""
        numbers = new_numbers(rng, count)
        fresh = np.ones(count, dtype=bool)
        due = self._repeats.pop(day, [])
        if due and count:
            repeats = np.concatenate(due)[:count]
            slots = rng.choice(count, size=len(repeats), replace=False)
            numbers[slots] = repeats
            fresh[slots] = False
        return numbers, fresh

    def add_same_day_redials(
        self,
        numbers: np.ndarray,
        fresh: np.ndarray,
        arrival: np.ndarray,
        end: np.ndarray,
        missed: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        """Some missed callers dial again minutes later: a later new-customer arrival takes their
        number. Repeated, so a redial that is missed again can be redialled too."""
        sources = np.flatnonzero(missed & (rng.random(len(missed)) < self.callers.redial_after_missed_share))
        order = np.argsort(arrival, kind="stable")
        for _ in range(3):
            if not len(sources):
                break
            free = order[fresh[order]]
            targets_time = end[sources] + rng.exponential(self.callers.redial_delay_mean_s, len(sources)).astype(
                np.int64) + 30
            position = np.searchsorted(arrival[free], targets_time)
            keep = position < len(free)
            sources, position = sources[keep], position[keep]
            position, first = np.unique(position, return_index=True)
            sources = sources[first]
            targets = free[position]
            numbers[targets] = numbers[sources]
            fresh[targets] = False
            sources = targets[missed[targets] & (rng.random(len(targets)) < self.callers.redial_after_missed_share)]

    def schedule_repeats(self, day: int, numbers: np.ndarray, missed: np.ndarray, rng: np.random.Generator) -> None:
        """Callers who will call again on a later day (FCR failures, missed calls)."""
        share = np.where(missed, self.callers.repeat_after_missed_share, self.callers.repeat_after_answered_share)
        again = rng.random(len(numbers)) < share
        delays = 1 + np.floor(rng.exponential(self.callers.repeat_delay_mean_days, len(numbers))).astype(int)
        days = day + delays
        keep = again & (days < self.days)
        for target_day in np.unique(days[keep]).tolist():
            self._repeats[target_day].append(numbers[keep & (days == target_day)])


class CallbackWorklist:
    """Missed calls waiting for an outbound callback, by the time the callback is due."""

    def __init__(self, scenario: Scenario) -> None:
        self.rules = scenario.callbacks
        self._heap: list[tuple[int, int, int]] = []  # (due epoch, missed call seq, number)

    def __len__(self) -> int:
        return len(self._heap)

    def add_missed(
        self, seqs: np.ndarray, numbers: np.ndarray, ends: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Plan callbacks for missed calls; returns the seqs of those that will get one."""
        rules = self.rules
        u = rng.random(len(seqs))
        soon = u < rules.within_24h_share
        later = ~soon & (u < rules.within_24h_share + rules.later_share)
        delay = np.where(soon, rng.integers(600, 20 * 3600, len(seqs)), rng.integers(26 * 3600, 96 * 3600, len(seqs)))
        chosen = soon | later
        for item in zip((ends + delay)[chosen].tolist(), seqs[chosen].tolist(), numbers[chosen].tolist(), strict=True):
            heapq.heappush(self._heap, item)
        return seqs[chosen]

    def take_due(self, now: int) -> tuple[int, int] | None:
        """The oldest due callback (missed call seq, number), or None."""
        if self._heap and self._heap[0][0] <= now:
            _, seq, number = heapq.heappop(self._heap)
            return seq, number
        return None

    def trim(self) -> list[int]:
        """Keep the worklist bounded; the dropped missed calls are never called back."""
        if len(self._heap) <= self.rules.max_pending:
            return []
        self._heap.sort()
        dropped = [seq for _, seq, _ in self._heap[self.rules.max_pending:]]
        del self._heap[self.rules.max_pending:]
        return dropped
