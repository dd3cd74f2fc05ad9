"""The outbound team: agents dial the campaign list and call back missed inbound callers.

Each agent works through their shift dial after dial (ring, maybe talk, then a gap); agents are
advanced in time order so the oldest due callback goes to whoever is free first. These calls
exist only in the CDR, as they do on a PBX without a dialer writing queue_log.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from callkpi.simulate.clock import LocalClock
from callkpi.simulate.customers import CallbackWorklist, new_numbers
from callkpi.simulate.scenario import Scenario
from callkpi.simulate.staff import Shift

DIAL_ANSWERED, DIAL_NO_ANSWER, DIAL_BUSY = 0, 1, 2


@dataclass
class DialLog:
    agent: list[int] = field(default_factory=list)
    start: list[int] = field(default_factory=list)
    answer: list[int] = field(default_factory=list)  # -1 when not answered
    end: list[int] = field(default_factory=list)
    outcome: list[int] = field(default_factory=list)
    number: list[int] = field(default_factory=list)
    callback_of: list[int] = field(default_factory=list)  # missed call seq, -1 for campaign dials

    def __len__(self) -> int:
        return len(self.start)


class Dialer:
    def __init__(self, scenario: Scenario, clock: LocalClock) -> None:
        self.rules = scenario.outbound
        self.clock = clock
        self.connect_by_hour = list(scenario.outbound.connect_by_hour)
        self.callback_connect = scenario.callbacks.connect_share
        self.talk_sigma = math.sqrt(math.log1p(scenario.outbound.talk_cv**2))
        self._redials: deque[tuple[int, int, int]] = deque()  # (ready epoch, number, attempts so far)
        self._fresh: list[int] = []

    def run(self, shifts: list[Shift], worklist: CallbackWorklist, rng: np.random.Generator) -> DialLog:
        """Dial through the shifts; one flat loop, as this runs once per outbound call."""
        dials = DialLog()
        rules, clock = self.rules, self.clock
        draws = _DrawPool(rng)
        uniform, lognormal = draws.uniform, draws.lognormal_factor
        take_due, redials, fresh = worklist.take_due, self._redials, self._fresh
        agenda = [(shift.login, n) for n, shift in enumerate(shifts)]
        heapq.heapify(agenda)
        breaks = [sorted(shift.breaks, reverse=True) for shift in shifts]
        agent_of = [shift.agent for shift in shifts]
        last_dial = [shift.logout - rules.no_answer_ring_s for shift in shifts]
        gap_min, gap_span = rules.gap_min_s, rules.gap_max_s - rules.gap_min_s + 1
        no_answer_s, busy_share, redial_share = rules.no_answer_ring_s, rules.busy_share, rules.redial_share
        redial_after, max_attempts = rules.redial_after_s, rules.max_attempts
        talk_mean, sigma = rules.talk_mean_s, self.talk_sigma
        connect_by_hour, callback_connect = self.connect_by_hour, self.callback_connect
        offsets, base_hour = clock.hour_offsets, clock.base_hour
        pop, push = heapq.heappop, heapq.heappush
        while agenda:
            now, n = pop(agenda)
            planned = breaks[n]
            if planned and planned[-1][0] <= now:
                start, seconds, _ = planned.pop()
                push(agenda, (max(now, start) + seconds, n))
                continue
            if now >= last_dial[n]:
                continue
            attempts = 0
            callback = take_due(now)
            if callback is not None:
                missed_seq, number = callback
                p_answer = callback_connect
            else:
                missed_seq = -1
                if redials and redials[0][0] <= now and uniform() < redial_share:
                    _, number, attempts = redials.popleft()
                else:
                    if not fresh:
                        fresh.extend(new_numbers(rng, 4096).tolist())
                    number = fresh.pop()
                p_answer = connect_by_hour[(now + offsets[now // 3600 - base_hour]) // 3600 % 24]
            if uniform() < p_answer:
                answer = now + 5 + int(uniform() * 16)
                end = answer + max(1, int(talk_mean * lognormal(sigma)))
                outcome = DIAL_ANSWERED
            else:
                answer = -1
                if uniform() < busy_share:
                    end, outcome = now + 1 + int(uniform() * 4), DIAL_BUSY
                else:
                    end, outcome = now + no_answer_s, DIAL_NO_ANSWER
                if missed_seq < 0 and attempts + 1 < max_attempts:
                    redials.append((now + redial_after, number, attempts + 1))
            dials.agent.append(agent_of[n])
            dials.start.append(now)
            dials.answer.append(answer)
            dials.end.append(end)
            dials.outcome.append(outcome)
            dials.number.append(number)
            dials.callback_of.append(missed_seq)
            push(agenda, (end + gap_min + int(uniform() * gap_span), n))
        return dials


class _DrawPool:
    """Random draws in blocks, so the per-dial code stays plain Python."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self._uniforms: list[float] = []
        self._normals: list[float] = []

    def uniform(self) -> float:
        if not self._uniforms:
            self._uniforms = self.rng.random(4096).tolist()
        return self._uniforms.pop()

    def lognormal_factor(self, sigma: float) -> float:
        """exp(N(0, sigma) - sigma^2 / 2): mean 1."""
        if not self._normals:
            self._normals = self.rng.standard_normal(4096).tolist()
        return math.exp(sigma * self._normals.pop() - sigma * sigma / 2)
