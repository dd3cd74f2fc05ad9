"""The ACD: who answers which queued call when.

Calls are taken in order of queue entry (first come, first served per queue). Each queue keeps a
min-heap of its members keyed by the time they become free, so the member rung is the one idle
longest (Asterisk ``leastrecent``) and a call starts at max(entry, that time): the
Kiefer-Wolfowitz recursion of a multi-server FCFS queue, with abandonment (a caller whose
deadline passes first leaves), ring-no-answer (the member is skipped for ``retry_s``), overflow
on timeout, members of several queues (one heap entry per queue, stale ones skipped) and
scheduled breaks. An agent's timeline only moves forward, so no agent ever has two calls at once.

Everything here is plain Python ints on purpose: this loop is the only per-call code.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from callkpi.simulate.scenario import Scenario
from callkpi.simulate.staff import Agent, Shift

ANSWERED, ABANDONED, FLOWED_OUT = 0, 1, 2
RING_MISSED, RING_ANSWERED, RING_CANCELED = 0, 1, 2
AGENT_BITS = 14  # heap keys are free_time << AGENT_BITS | agent
NEVER = 1 << 40
NO_AGENT_WAIT_S = 3600  # a caller with infinite patience facing a queue nobody serves gives up after this


@dataclass
class CallInputs:
    """Per-call draws the ACD needs, in queue-entry order (plain lists for speed)."""

    entry: list[int]
    queue: list[int]
    deadline: list[int]  # absolute epoch the caller hangs up (NEVER = infinite patience)
    talk_base: list[float]
    ring_answer_s: list[int]
    acw_s: list[int]
    uniforms: list[float]


@dataclass
class QueueDay:
    """What happened to the day's calls: one row per queue leg, per ring, per break."""

    leg_call: list[int] = field(default_factory=list)
    leg_queue: list[int] = field(default_factory=list)
    leg_no: list[int] = field(default_factory=list)
    leg_enter: list[int] = field(default_factory=list)
    leg_leave: list[int] = field(default_factory=list)  # connect time when answered
    leg_outcome: list[int] = field(default_factory=list)
    leg_agent: list[int] = field(default_factory=list)
    leg_talk: list[int] = field(default_factory=list)
    leg_ring_s: list[int] = field(default_factory=list)
    leg_missed_rings: list[int] = field(default_factory=list)
    ring_leg: list[int] = field(default_factory=list)
    ring_agent: list[int] = field(default_factory=list)
    ring_start: list[int] = field(default_factory=list)
    ring_ms: list[int] = field(default_factory=list)
    ring_kind: list[int] = field(default_factory=list)


@dataclass
class AgentLog:
    """Sessions and breaks of queue members, collected until the writer takes them."""

    session_agent: list[int] = field(default_factory=list)
    session_login: list[int] = field(default_factory=list)
    session_logout: list[int] = field(default_factory=list)
    break_agent: list[int] = field(default_factory=list)
    break_start: list[int] = field(default_factory=list)
    break_end: list[int] = field(default_factory=list)
    break_reason: list[str] = field(default_factory=list)
    logins: list[tuple[int, int]] = field(default_factory=list)  # (agent, login) opened

    def take(self) -> AgentLog:
        taken = AgentLog(**{name: list(value) for name, value in vars(self).items()})
        for value in vars(self).values():
            value.clear()
        return taken


class QueueEngine:
    def __init__(self, scenario: Scenario, agents: list[Agent]) -> None:
        if len(agents) >= 1 << AGENT_BITS:
            raise ValueError(f"at most {(1 << AGENT_BITS) - 1} agents")
        behaviour = scenario.agent_behaviour
        self.ring_timeout = behaviour.ring_timeout_s
        self.retry = behaviour.ring_timeout_s + behaviour.retry_s
        names = [queue.name for queue in scenario.queues]
        self.queue_timeout = [queue.timeout_s for queue in scenario.queues]
        self.queue_overflow = [names.index(q.overflow_to) if q.overflow_to else -1 for q in scenario.queues]
        self.heaps: list[list[int]] = [[] for _ in scenario.queues]
        self.agent_heaps = [[self.heaps[q] for q in agent.queue_ids] for agent in agents]
        self.members = [agent.index for agent in agents if agent.queue_ids]
        count = len(agents)
        self.talk_factor = [agent.talk_factor for agent in agents]
        self.rna_share = [agent.ring_no_answer_share for agent in agents]
        self.free = [0] * count
        self.logout = [0] * count
        self.login = [0] * count
        self.accepting = [False] * count
        self.in_session = [False] * count
        self.next_break = [NEVER] * count
        self.breaks: list[list[tuple[int, int, str]]] = [[] for _ in range(count)]
        self.log = AgentLog()

    # ---- sessions and breaks -----------------------------------------------------------------
    def start_shifts(self, shifts: list[Shift]) -> None:
        for shift in shifts:
            a = shift.agent
            if not self.agent_heaps[a]:
                continue
            if self.in_session[a]:
                self._close_session(a)
            self.login[a] = shift.login
            self.logout[a] = shift.logout
            self.free[a] = max(self.free[a], shift.login)
            self.accepting[a] = True
            self.in_session[a] = True
            self.breaks[a] = sorted(shift.breaks, reverse=True)
            self.next_break[a] = self.breaks[a][-1][0] if self.breaks[a] else NEVER
            self.log.logins.append((a, shift.login))
            self._push(a)

    def settle(self, until: int) -> None:
        """Take the breaks due before `until` and close the sessions that ended by then, so no
        later event can fall before `until`."""
        for a in self.members:
            if not self.in_session[a]:
                continue
            while self.next_break[a] < until and self.next_break[a] < self.logout[a]:
                self._take_break(a)
            if self.logout[a] <= until:
                self._close_session(a)

    def _close_session(self, a: int) -> None:
        while self.next_break[a] < self.logout[a]:
            self._take_break(a)
        log = self.log
        log.session_agent.append(a)
        log.session_login.append(self.login[a])
        log.session_logout.append(max(self.logout[a], self.free[a]))
        self.in_session[a] = False
        self.accepting[a] = False
        self.breaks[a] = []
        self.next_break[a] = NEVER

    def _take_break(self, a: int) -> None:
        """Start the agent's next break once they are free; re-queue them for when it ends."""
        planned, seconds, reason = self.breaks[a].pop()
        self.next_break[a] = self.breaks[a][-1][0] if self.breaks[a] else NEVER
        start = max(planned, self.free[a])
        end = min(start + seconds, self.logout[a])
        if start >= end:
            self._push(a)  # the caller may have popped this agent; put them back unchanged
            return
        log = self.log
        log.break_agent.append(a)
        log.break_start.append(start)
        log.break_end.append(end)
        log.break_reason.append(reason)
        self.free[a] = end
        self._push(a)

    def _push(self, a: int) -> None:
        key = self.free[a] << AGENT_BITS | a
        for heap in self.agent_heaps[a]:
            heapq.heappush(heap, key)

    # ---- the calls -----------------------------------------------------------------------------
    def run(self, calls: CallInputs, rng: np.random.Generator) -> QueueDay:
        day = QueueDay()
        leg_call, leg_queue, leg_no, leg_enter = day.leg_call, day.leg_queue, day.leg_no, day.leg_enter
        leg_leave, leg_outcome, leg_agent = day.leg_leave, day.leg_outcome, day.leg_agent
        leg_talk, leg_ring_s, leg_missed = day.leg_talk, day.leg_ring_s, day.leg_missed_rings
        ring_leg, ring_agent, ring_start, ring_ms, ring_kind = (
            day.ring_leg, day.ring_agent, day.ring_start, day.ring_ms, day.ring_kind)
        pop, push = heapq.heappop, heapq.heappush
        heaps, agent_heaps, free, logout = self.heaps, self.agent_heaps, self.free, self.logout
        accepting, next_break = self.accepting, self.next_break
        talk_factor, rna_share = self.talk_factor, self.rna_share
        queue_timeout, queue_overflow = self.queue_timeout, self.queue_overflow
        ring_timeout, retry, ring_timeout_ms = self.ring_timeout, self.retry, self.ring_timeout * 1000
        entry, first_queue, deadline = calls.entry, calls.queue, calls.deadline
        talk_base, ring_answer, acw = calls.talk_base, calls.ring_answer_s, calls.acw_s
        uniforms = calls.uniforms
        k, n_uniforms = 0, len(uniforms)
        mask = (1 << AGENT_BITS) - 1
        overflow: list[tuple[int, int, int, int]] = []  # (entry, call, queue, leg no)
        i, n = 0, len(entry)
        while i < n or overflow:
            if overflow and (i >= n or overflow[0][0] < entry[i]):
                t, ci, q, no = pop(overflow)
            else:
                t, ci, q, no = entry[i], i, first_queue[i], 0
                i += 1
            hang_up = deadline[ci]
            timeout = t + queue_timeout[q] if queue_timeout[q] else NEVER
            leave_by = hang_up if hang_up < timeout else timeout
            heap = heaps[q]
            now = t
            missed = 0
            leg = len(leg_call)
            while True:
                a = -1
                s = now
                while heap:
                    key = pop(heap)
                    f = key >> AGENT_BITS
                    a = key & mask
                    if f != free[a] or not accepting[a]:
                        a = -1
                        continue
                    s = now if now > f else f
                    if s >= logout[a]:
                        accepting[a] = False
                        a = -1
                        continue
                    if next_break[a] <= s:
                        self._take_break(a)
                        a = -1
                        continue
                    break
                if a < 0 or s >= leave_by:
                    if a >= 0:
                        push(heap, key)
                    if leave_by == NEVER:
                        leave, outcome = now + NO_AGENT_WAIT_S, ABANDONED
                    else:
                        leave = leave_by if leave_by > now else now
                        outcome = ABANDONED if hang_up <= timeout else FLOWED_OUT
                    _leg(day, ci, q, no, t, leave, outcome, -1, 0, 0, missed)
                    if outcome == FLOWED_OUT and queue_overflow[q] >= 0:
                        push(overflow, (leave, ci, queue_overflow[q], no + 1))
                    break
                if k == n_uniforms:
                    uniforms.extend(rng.random(n_uniforms + 1024).tolist())
                    n_uniforms = len(uniforms)
                u = uniforms[k]
                k += 1
                if u < rna_share[a]:
                    ring_end = s + ring_timeout
                    if hang_up < ring_end:
                        self._caller_hung_up_ringing(day, leg, a, s, hang_up)
                        _leg(day, ci, q, no, t, hang_up, ABANDONED, -1, 0, 0, missed)
                        break
                    ring_leg.append(leg)
                    ring_agent.append(a)
                    ring_start.append(s)
                    ring_ms.append(ring_timeout_ms)
                    ring_kind.append(RING_MISSED)
                    missed += 1
                    f = s + retry
                    free[a] = f
                    key = f << AGENT_BITS | a
                    for h in agent_heaps[a]:
                        push(h, key)
                    now = ring_end
                    continue
                connect = s + ring_answer[ci]
                if hang_up < connect:
                    self._caller_hung_up_ringing(day, leg, a, s, hang_up)
                    _leg(day, ci, q, no, t, hang_up, ABANDONED, -1, 0, 0, missed)
                    break
                talk = int(talk_base[ci] * talk_factor[a] + 0.5) or 1
                f = connect + talk + acw[ci]
                free[a] = f
                key = f << AGENT_BITS | a
                for h in agent_heaps[a]:
                    push(h, key)
                ring_leg.append(leg)
                ring_agent.append(a)
                ring_start.append(s)
                ring_ms.append((connect - s) * 1000)
                ring_kind.append(RING_ANSWERED)
                leg_call.append(ci)
                leg_queue.append(q)
                leg_no.append(no)
                leg_enter.append(t)
                leg_leave.append(connect)
                leg_outcome.append(ANSWERED)
                leg_agent.append(a)
                leg_talk.append(talk)
                leg_ring_s.append(connect - s)
                leg_missed.append(missed)
                break
        return day

    def _caller_hung_up_ringing(self, day: QueueDay, leg: int, a: int, start: int, hang_up: int) -> None:
        """RINGCANCELED: the caller hung up while this member's phone rang."""
        day.ring_leg.append(leg)
        day.ring_agent.append(a)
        day.ring_start.append(start)
        day.ring_ms.append((hang_up - start) * 1000)
        day.ring_kind.append(RING_CANCELED)
        self.free[a] = hang_up
        self._push(a)


def _leg(
    day: QueueDay, ci: int, q: int, no: int, enter: int, leave: int, outcome: int, agent: int, talk: int,
    ring_s: int, missed: int,
) -> None:
    day.leg_call.append(ci)
    day.leg_queue.append(q)
    day.leg_no.append(no)
    day.leg_enter.append(enter)
    day.leg_leave.append(leave)
    day.leg_outcome.append(outcome)
    day.leg_agent.append(agent)
    day.leg_talk.append(talk)
    day.leg_ring_s.append(ring_s)
    day.leg_missed_rings.append(missed)
