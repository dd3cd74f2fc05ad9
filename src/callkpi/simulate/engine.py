"""The simulation, day by day: draw the day's calls, run the ACD and the outbound team, number the
channels as Asterisk would, and hand the day to the writers. Only the current day is in memory.

Randomness comes from one numpy generator per (seed, stream, day), so a seed gives the same
bytes, and changing e.g. the survey share does not move a single call.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np

from callkpi.simulate.clock import LocalClock
from callkpi.simulate.customers import CallbackWorklist, CustomerBook, draw_shapes
from callkpi.simulate.model import (
    DISPOSITION_ABANDONED,
    DISPOSITION_ANSWERED,
    DISPOSITION_VOICEMAIL,
    TRANSFER_ATTENDED,
    TRANSFER_BLIND,
    TRANSFER_NONE,
    AgentTime,
    Calls,
    Day,
    Dials,
    Directory,
    Legs,
    Rings,
)
from callkpi.simulate.outbound import Dialer
from callkpi.simulate.pipeline import PROCESS_THRESHOLD_CALLS, WriterPipeline
from callkpi.simulate.queues import (
    ABANDONED,
    ANSWERED,
    FLOWED_OUT,
    NEVER,
    RING_MISSED,
    CallInputs,
    QueueDay,
    QueueEngine,
)
from callkpi.simulate.records import call_ids
from callkpi.simulate.scenario import Scenario, local_midnight_epoch
from callkpi.simulate.speech import FILE_PREFIX as TRANSCRIPT_PREFIX
from callkpi.simulate.speech import TRUTH_FILE as TRUTH_TRANSCRIPTS
from callkpi.simulate.staff import StaffPlan, build_staff_plan
from callkpi.simulate.writers import OutputSet

# random streams; 7 (pipeline.STREAM_BUSINESS) is the business side
STREAM_PLAN, STREAM_ARRIVALS, STREAM_CALLS, STREAM_ACD, STREAM_CUSTOMERS, STREAM_OUTBOUND, STREAM_AFTERMATH = range(7)
FIRST_CHANNEL_ID = 100  # Asterisk's counters do not start at 0 after the boot-time channels


@dataclass
class Totals:
    calls: int = 0
    queue_legs: int = 0
    answered_legs: int = 0
    abandoned_legs: int = 0
    flowed_out_legs: int = 0
    ring_no_answers: int = 0
    outbound_dials: int = 0
    outbound_answered: int = 0
    callbacks: int = 0
    queue_log_lines: int = 0
    cdr_rows: int = 0
    business: dict[str, int] = field(default_factory=dict)

    def add(self, day: Day) -> None:
        outcome = day.legs.outcome
        self.calls += len(day.calls)
        self.queue_legs += len(day.legs)
        self.answered_legs += int(np.count_nonzero(outcome == ANSWERED))
        self.abandoned_legs += int(np.count_nonzero(outcome == ABANDONED))
        self.flowed_out_legs += int(np.count_nonzero(outcome == FLOWED_OUT))
        self.ring_no_answers += int(np.count_nonzero(day.rings.kind == RING_MISSED))
        self.outbound_dials += len(day.dials)
        self.outbound_answered += int(np.count_nonzero(day.dials.answer >= 0))
        self.callbacks += int(np.count_nonzero(day.dials.callback_of >= 0))


@dataclass
class SimulationResult:
    totals: Totals
    seconds: float
    files: list[Path]

    @property
    def calls_per_second(self) -> float:
        return self.totals.calls / self.seconds if self.seconds > 0 else 0.0


class _ChannelCounters:
    """Asterisk's channel numbering: one global counter for uniqueids (``epoch.N``), one for the
    ``-0000001a`` suffix of PJSIP channel names, one for Local channels."""

    def __init__(self) -> None:
        self.uid = FIRST_CHANNEL_ID
        self.pjsip = 1
        self.local = 0

    def assign(self, epochs: list[np.ndarray], uid_width: list[int], pjsip_width: list[int],
               local_width: list[int]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Number channel groups created at `epochs` (one array per kind) in creation order."""
        sizes = [len(e) for e in epochs]
        kinds = np.repeat(np.arange(len(epochs)), sizes)
        all_epochs = np.concatenate(epochs) if epochs else np.empty(0, dtype=np.int64)
        order = np.lexsort((kinds, all_epochs))
        numbered = {}
        for name, widths in (("uid", uid_width), ("pjsip", pjsip_width), ("local", local_width)):
            width = np.asarray(widths, dtype=np.int64)[kinds][order]
            base = getattr(self, name)
            ends = np.cumsum(width)
            ids = np.empty(len(width), dtype=np.int64)
            ids[order] = base + ends - width
            setattr(self, name, base + (int(ends[-1]) if len(ends) else 0))
            numbered[name] = np.split(ids, np.cumsum(sizes)[:-1])
        return [(numbered["uid"][k], numbered["pjsip"][k], numbered["local"][k]) for k in range(len(epochs))]


class Simulation:
    def __init__(self, scenario: Scenario, out_dir: Path, on_day: Callable[[int, Totals], None] | None = None,
                 parallel: bool | None = None) -> None:
        """`parallel`: write in a worker process (True), a thread (False), or decide by the
        expected volume (None)."""
        self.scenario = scenario
        self.out_dir = out_dir
        self.on_day = on_day
        expected_calls = scenario.arrivals.calls_per_day * scenario.days
        self.use_process = expected_calls >= PROCESS_THRESHOLD_CALLS if parallel is None else parallel
        self.clock = LocalClock(scenario.zone, scenario.start_epoch, scenario.end_epoch)
        self.plan: StaffPlan = build_staff_plan(scenario, self._rng(STREAM_PLAN, 0))
        self.directory = Directory.build(scenario, self.plan.agents)
        self.acd = QueueEngine(scenario, self.plan.agents)
        self.dialer = Dialer(scenario, self.clock)
        self.customers = CustomerBook(scenario)
        self.worklist = CallbackWorklist(scenario)
        self.channels = _ChannelCounters()
        self.totals = Totals()
        self._next_call_seq = 1
        self._missed_call_ids: dict[int, str] = {}
        self._day_starts = [
            local_midnight_epoch(scenario.start + timedelta(days=d), scenario.zone) for d in range(scenario.days + 1)
        ]

    def _rng(self, stream: int, day: int) -> np.random.Generator:
        return np.random.default_rng([self.scenario.seed, stream, day])

    # ---- the run ---------------------------------------------------------------------------
    def run(self) -> SimulationResult:
        """Simulate day after day while a worker writes the previous day (see pipeline)."""
        started = time.perf_counter()
        pipeline = WriterPipeline(self.scenario, self.plan, self.out_dir, self.use_process)
        try:
            for d in range(self.scenario.days):
                day = self._simulate_day(d)
                pipeline.submit(day)
                self.totals.add(day)
                if self.on_day is not None:
                    self.on_day(d, self.totals)
            self.acd.settle(NEVER)
            report = pipeline.finish(self._agent_time())
        except BaseException:
            pipeline.abort()
            raise
        self.totals.queue_log_lines = report.queue_log_lines
        self.totals.cdr_rows = report.cdr_rows
        self.totals.business = report.business
        self._write_summary(report.truth)
        files = sorted(path for path in self.out_dir.iterdir() if path.name in OutputSet.names()
                       or path.name == TRUTH_TRANSCRIPTS or path.name.startswith(TRANSCRIPT_PREFIX))
        return SimulationResult(self.totals, time.perf_counter() - started, files)

    def _simulate_day(self, d: int) -> Day:
        day_start, day_end = self._day_starts[d], self._day_starts[d + 1]
        arrival, first_queue = self._arrivals(d, day_start, day_end)
        inputs, arrival, first_queue = self._draw_calls(d, arrival, first_queue)
        self.acd.start_shifts([s for s in self.plan.shifts_by_day[d] if not self.plan.agents[s.agent].outbound])
        queue_day = self.acd.run(inputs, self._rng(STREAM_ACD, d))
        self.acd.settle(day_end)
        legs = _legs(queue_day)
        calls = self._calls(d, arrival, first_queue, inputs, legs)
        self._customers(d, calls)
        scheduled = self.worklist.add_missed(calls.seq[~calls.answered], calls.number[~calls.answered],
                                             calls.end[~calls.answered], self._rng(STREAM_AFTERMATH, d))
        dropped = self.worklist.trim()
        dials = self._dials(d)
        rings = _rings(queue_day, legs)
        self._number_channels(calls, rings, dials)
        callback_ids = self._callback_ids(calls, scheduled, dropped, dials)
        return Day(d, day_start, day_end, calls, legs, rings, dials, self._agent_time(), callback_ids)

    # ---- arrivals and per-call draws ---------------------------------------------------------
    def _arrivals(self, d: int, day_start: int, day_end: int) -> tuple[np.ndarray, np.ndarray]:
        """Non-homogeneous Poisson arrivals: a Poisson count per (hour, queue), uniform within."""
        rules = self.scenario.arrivals
        rng = self._rng(STREAM_ARRIVALS, d)
        weekday = (self.scenario.start + timedelta(days=d)).weekday()
        factor = rules.weekday_factors[weekday] / (sum(rules.weekday_factors) / 7)
        if rules.daily_noise_cv > 0:
            shape = 1 / rules.daily_noise_cv**2
            factor *= rng.gamma(shape, 1 / shape)
        hour_starts = np.arange(day_start, day_end, 3600, dtype=np.int64)
        profile = np.asarray(rules.hourly_profile, dtype=float)
        weights = profile[self.clock.local_hour(hour_starts)] / profile.sum()
        shares = np.array([q.share for q in self.scenario.queues], dtype=float)
        rates = rules.calls_per_day * factor * np.outer(weights, shares / shares.sum())
        counts = rng.poisson(rates).ravel()
        cell_hour = np.repeat(np.arange(len(hour_starts)), len(shares))
        cell_queue = np.tile(np.arange(len(shares)), len(hour_starts))
        spans = np.minimum(3600, day_end - hour_starts)
        hours = np.repeat(cell_hour, counts)
        arrival = hour_starts[hours] + (rng.random(len(hours)) * spans[hours]).astype(np.int64)
        queue = np.repeat(cell_queue, counts)
        order = np.argsort(arrival, kind="stable")
        return arrival[order], queue[order]

    def _draw_calls(self, d: int, arrival: np.ndarray, first_queue: np.ndarray
                    ) -> tuple[CallInputs, np.ndarray, np.ndarray]:
        scenario = self.scenario
        callers, behaviour = scenario.callers, scenario.agent_behaviour
        rng = self._rng(STREAM_CALLS, d)
        n = len(arrival)
        entry = arrival + rng.integers(callers.ivr_min_s, callers.ivr_max_s + 1, n)
        order = np.argsort(entry, kind="stable")
        arrival, first_queue, entry = arrival[order], first_queue[order], entry[order]
        if callers.patience_mean_s > 0:
            patience = np.maximum(1, np.ceil(rng.exponential(callers.patience_mean_s, n))).astype(np.int64)
            deadline = entry + patience
        else:
            deadline = np.full(n, NEVER, dtype=np.int64)
        inputs = CallInputs(
            entry=entry.tolist(),
            queue=first_queue.tolist(),
            deadline=deadline.tolist(),
            talk_base=self._talk_times(first_queue, rng).tolist(),
            ring_answer_s=rng.integers(behaviour.ring_answer_min_s, behaviour.ring_answer_max_s + 1, n).tolist(),
            acw_s=rng.integers(behaviour.acw_min_s, behaviour.acw_max_s + 1, n).tolist(),
            uniforms=rng.random(2 * n + 64).tolist(),
        )
        return inputs, arrival, first_queue

    def _talk_times(self, queue: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        queues = self.scenario.queues
        mean = np.array([q.talk_mean_s for q in queues])[queue]
        sigma2 = np.log1p(np.array([q.talk_cv for q in queues]) ** 2)[queue]
        lognormal = np.array([q.talk_distribution == "lognormal" for q in queues])[queue]
        z = rng.standard_normal(len(queue))
        e = rng.exponential(1.0, len(queue))
        return np.where(lognormal, mean * np.exp(np.sqrt(sigma2) * z - sigma2 / 2), mean * e)

    # ---- after the ACD -----------------------------------------------------------------------
    def _calls(self, d: int, arrival: np.ndarray, first_queue: np.ndarray, inputs: CallInputs, legs: Legs) -> Calls:
        scenario = self.scenario
        behaviour = scenario.agent_behaviour
        rng = self._rng(STREAM_AFTERMATH, 10_000 + d)
        n = len(arrival)
        answer_leg = np.full(n, -1, dtype=np.int64)
        answered_legs = np.flatnonzero(legs.outcome == ANSWERED)
        answer_leg[legs.call[answered_legs]] = answered_legs
        last_leg = np.full(n, -1, dtype=np.int64)
        for number in np.unique(legs.no).tolist():  # legs of a call are in leg order
            chosen = np.flatnonzero(legs.no == number)
            last_leg[legs.call[chosen]] = chosen
        answered = answer_leg >= 0
        leg = np.where(answered, answer_leg, 0)
        agent = np.where(answered, legs.agent[leg], -1)
        connect = np.where(answered, legs.leave[leg], 0)
        talk = np.where(answered, legs.talk[leg], 0)
        queue_end = connect + talk
        queue = legs.queue[leg]
        transfer_share = np.array([q.transfer_share for q in scenario.queues])[queue]
        attended_share = np.array([q.attended_transfer_share for q in scenario.queues])[queue]
        transferred = answered & (rng.random(n) < transfer_share)
        transfer = np.where(transferred, np.where(rng.random(n) < attended_share, TRANSFER_ATTENDED, TRANSFER_BLIND),
                            TRANSFER_NONE)
        transfer_answer = queue_end + rng.integers(2, 7, n)
        after_talk = np.maximum(1, rng.exponential(behaviour.after_transfer_talk_mean_s, n)).astype(np.int64)
        last_leave = legs.leave[last_leg]
        voicemail = ~answered & (legs.outcome[last_leg] == FLOWED_OUT)
        end = np.where(answered, np.where(transferred, transfer_answer + after_talk, queue_end),
                       np.where(voicemail, last_leave + rng.integers(8, 41, n), last_leave))
        seq = self._next_call_seq + np.arange(n, dtype=np.int64)
        self._next_call_seq += n
        empty = np.zeros(n, dtype=np.int64)
        return Calls(
            seq=seq, arrival=arrival, first_queue=first_queue, number=empty.copy(), shape=empty.astype(np.int8),
            answer_leg=answer_leg, last_leg=last_leg, agent=agent, connect=connect, talk=talk,
            queue_end=queue_end, end=end, acw=np.asarray(inputs.acw_s, dtype=np.int64),
            by_caller=rng.random(n) < behaviour.complete_by_caller_share, transfer=transfer,
            transfer_target=rng.integers(0, len(self.directory.transfer_targets), n), transfer_answer=transfer_answer,
            disposition=np.where(answered, DISPOSITION_ANSWERED,
                                 np.where(voicemail, DISPOSITION_VOICEMAIL, DISPOSITION_ABANDONED)),
            uid=empty.copy(), channel_suffix=empty.copy(), transfer_channel_suffix=empty.copy(),
        )

    def _customers(self, d: int, calls: Calls) -> None:
        rng = self._rng(STREAM_CUSTOMERS, d)
        numbers, fresh = self.customers.numbers_for_day(d, len(calls), rng)
        missed = ~calls.answered
        self.customers.add_same_day_redials(numbers, fresh, calls.arrival, calls.end, missed, rng)
        self.customers.schedule_repeats(d, numbers, missed, rng)
        calls.number = numbers
        calls.shape = draw_shapes(rng, len(calls), self.scenario.callers.number_shapes)

    def _dials(self, d: int) -> Dials:
        shifts = [s for s in self.plan.shifts_by_day[d] if self.plan.agents[s.agent].outbound]
        rng = self._rng(STREAM_OUTBOUND, d)
        raw = self.dialer.run(shifts, self.worklist, rng)
        count = len(raw)
        column = _int_array
        return Dials(
            agent=column(raw.agent), start=column(raw.start), answer=column(raw.answer), end=column(raw.end),
            outcome=column(raw.outcome), number=column(raw.number), callback_of=column(raw.callback_of),
            dialled_shape=rng.choice(3, size=count, p=[0.15, 0.7, 0.15]).astype(np.int8),
            uid=np.zeros(count, dtype=np.int64), channel_suffix=np.zeros(count, dtype=np.int64),
        )

    def _number_channels(self, calls: Calls, rings: Rings, dials: Dials) -> None:
        transferred = np.flatnonzero(calls.transfer != TRANSFER_NONE)
        (call_ids, rings_ids, transfer_ids, dial_ids) = self.channels.assign(
            [calls.arrival, rings.start, calls.queue_end[transferred], dials.start],
            uid_width=[1, 3, 1, 2], pjsip_width=[1, 1, 1, 2], local_width=[0, 1, 0, 0],
        )
        calls.uid, calls.channel_suffix, _ = call_ids
        rings.uid, rings.channel_suffix, rings.local_suffix = rings_ids
        calls.transfer_channel_suffix[transferred] = transfer_ids[1]
        dials.uid, dials.channel_suffix, _ = dial_ids

    def _callback_ids(self, calls: Calls, scheduled: np.ndarray, dropped: list[int], dials: Dials) -> dict[int, str]:
        if len(scheduled):
            position = np.searchsorted(calls.seq, scheduled)
            ids = call_ids(calls.arrival[position], calls.uid[position]).to_pylist()
            self._missed_call_ids.update(zip(scheduled.tolist(), ids, strict=True))
        for seq in dropped:
            self._missed_call_ids.pop(seq, None)
        wanted = dials.callback_of[dials.callback_of >= 0].tolist()
        return {seq: self._missed_call_ids.pop(seq) for seq in wanted}

    def _agent_time(self) -> AgentTime:
        log = self.acd.log.take()
        ints = _int_array
        return AgentTime(
            login_agent=ints([a for a, _ in log.logins]), login_epoch=ints([t for _, t in log.logins]),
            session_agent=ints(log.session_agent), session_start=ints(log.session_login),
            session_end=ints(log.session_logout), pause_agent=ints(log.break_agent),
            pause_start=ints(log.break_start), pause_end=ints(log.break_end), pause_reason=log.break_reason,
        )

    def _write_summary(self, business_truth: dict[str, object]) -> None:
        summary = {
            "scenario": self.scenario.model_dump(mode="json"),
            "seed": self.scenario.seed,
            "period": {"start_epoch": self.scenario.start_epoch, "end_epoch": self.scenario.end_epoch,
                       "timezone": self.scenario.timezone},
            "agents": len(self.plan.agents),
            "totals": asdict(self.totals),
            **business_truth,
        }
        (self.out_dir / "truth_summary.json").write_text(
            json.dumps(summary, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )


def _int_array(values: list[int]) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def _legs(day: QueueDay) -> Legs:
    ints = _int_array
    queue, enter, leave = ints(day.leg_queue), ints(day.leg_enter), ints(day.leg_leave)
    position_in, position_out = queue_positions(queue, enter, leave)
    return Legs(
        call=ints(day.leg_call), queue=queue, no=ints(day.leg_no), enter=enter, leave=leave,
        outcome=ints(day.leg_outcome), agent=ints(day.leg_agent), talk=ints(day.leg_talk),
        ring_s=ints(day.leg_ring_s), missed_rings=ints(day.leg_missed_rings),
        position_in=position_in, position_out=position_out,
    )


def _rings(day: QueueDay, legs: Legs) -> Rings:
    ints = _int_array
    leg = ints(day.ring_leg)
    zeros = np.zeros(len(leg), dtype=np.int64)
    return Rings(leg=leg, call=legs.call[leg], agent=ints(day.ring_agent), start=ints(day.ring_start),
                 ms=ints(day.ring_ms), kind=ints(day.ring_kind), uid=zeros, local_suffix=zeros.copy(),
                 channel_suffix=zeros.copy())


def queue_positions(queue: np.ndarray, enter: np.ndarray, leave: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each leg in its queue when it entered and when it left. Legs are in entry
    order; a caller is in the queue from entry until connected, hung up or timed out."""
    position_in = np.ones(len(queue), dtype=np.int64)
    position_out = np.ones(len(queue), dtype=np.int64)
    for q in np.unique(queue).tolist():
        idx = np.flatnonzero(queue == q)
        left_by_entry = np.searchsorted(np.sort(leave[idx]), enter[idx], side="right")
        position_in[idx] = np.maximum(1, np.arange(len(idx)) - left_by_entry + 1)
        position_out[idx] = 1 + count_earlier_greater(leave[idx])
    return position_in, position_out


def count_earlier_greater(values: np.ndarray) -> np.ndarray:
    """For each i, how many j < i have values[j] > values[i] (callers ahead still waiting).

    Binary decomposition of the prefix [0, i): at block size 2^k, an element in an odd block
    counts the larger values of the even block just before it; over all k those blocks tile
    [0, i) exactly. Each level is one sort and two searchsorted calls: O(n log^2 n) in numpy."""
    n = len(values)
    result = np.zeros(n, dtype=np.int64)
    if n < 2:
        return result
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(values, kind="stable")] = np.arange(n)  # ties: the earlier element ranks lower
    index = np.arange(n, dtype=np.int64)
    size = 1
    while size < n:
        block = index // size
        keys = np.sort(block * n + rank)
        odd = np.flatnonzero(block & 1)
        left = block[odd] - 1
        block_end = np.searchsorted(keys, (left + 1) * n, side="left")
        not_greater = np.searchsorted(keys, left * n + rank[odd], side="right")
        result[odd] += block_end - not_greater
        size *= 2
    return result
