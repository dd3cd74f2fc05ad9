"""The simulated day as numpy tables: inbound calls, their queue legs and rings, outbound dials,
agent sessions and pauses. Engine fills them, records and business turn them into files."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from callkpi.simulate.scenario import Scenario
from callkpi.simulate.staff import Agent

DISPOSITION_ANSWERED, DISPOSITION_ABANDONED, DISPOSITION_VOICEMAIL = 0, 1, 2
TRANSFER_NONE, TRANSFER_BLIND, TRANSFER_ATTENDED = 0, 1, 2


@dataclass
class Calls:
    """Inbound calls of one day, in queue-entry order."""

    seq: np.ndarray  # global call number, orders lines within one second
    arrival: np.ndarray  # caller channel created (epoch)
    first_queue: np.ndarray
    number: np.ndarray  # normalised 7XXXXXXXXXX
    shape: np.ndarray  # how the trunk writes the caller id
    answer_leg: np.ndarray  # -1 when no agent answered
    last_leg: np.ndarray
    agent: np.ndarray  # -1 when no agent answered
    connect: np.ndarray
    talk: np.ndarray
    queue_end: np.ndarray  # the agent part ends: COMPLETE* or *TRANSFER
    end: np.ndarray  # the caller hangs up
    acw: np.ndarray
    by_caller: np.ndarray  # COMPLETECALLER rather than COMPLETEAGENT
    transfer: np.ndarray
    transfer_target: np.ndarray  # index into agent_behaviour.transfer_targets
    transfer_answer: np.ndarray
    disposition: np.ndarray
    uid: np.ndarray  # channel counter of the caller channel (callid = arrival.uid)
    channel_suffix: np.ndarray  # PJSIP/trunk-<suffix>
    transfer_channel_suffix: np.ndarray

    def __len__(self) -> int:
        return len(self.seq)

    @property
    def answered(self) -> np.ndarray:
        return self.answer_leg >= 0


@dataclass
class Legs:
    call: np.ndarray
    queue: np.ndarray
    no: np.ndarray
    enter: np.ndarray
    leave: np.ndarray
    outcome: np.ndarray
    agent: np.ndarray
    talk: np.ndarray
    ring_s: np.ndarray
    missed_rings: np.ndarray
    position_in: np.ndarray
    position_out: np.ndarray

    def __len__(self) -> int:
        return len(self.call)


@dataclass
class Rings:
    leg: np.ndarray
    call: np.ndarray
    agent: np.ndarray
    start: np.ndarray
    ms: np.ndarray
    kind: np.ndarray
    uid: np.ndarray  # Local;1 channel counter; Local;2 is uid + 1
    local_suffix: np.ndarray
    channel_suffix: np.ndarray  # PJSIP/<ext>-<suffix> of the member's phone

    def __len__(self) -> int:
        return len(self.leg)


@dataclass
class Dials:
    agent: np.ndarray
    start: np.ndarray
    answer: np.ndarray
    end: np.ndarray
    outcome: np.ndarray
    number: np.ndarray
    callback_of: np.ndarray  # global seq of the missed call, -1 for campaign dials
    dialled_shape: np.ndarray
    uid: np.ndarray
    channel_suffix: np.ndarray  # agent channel; the trunk channel is suffix + 1

    def __len__(self) -> int:
        return len(self.start)


@dataclass
class AgentTime:
    """Sessions and pauses of queue members that became final during the day."""

    login_agent: np.ndarray
    login_epoch: np.ndarray
    session_agent: np.ndarray
    session_start: np.ndarray
    session_end: np.ndarray
    pause_agent: np.ndarray
    pause_start: np.ndarray
    pause_end: np.ndarray
    pause_reason: list[str]


@dataclass
class Day:
    index: int
    start_epoch: int
    end_epoch: int
    calls: Calls
    legs: Legs
    rings: Rings
    dials: Dials
    agent_time: AgentTime
    callback_ids: dict[int, str]  # missed call seq -> call id, for the day's callbacks


@dataclass(frozen=True)
class Directory:
    """Names of things, for formatting."""

    queue_names: tuple[str, ...]
    queue_extensions: tuple[str, ...]
    queue_dids: tuple[str, ...]
    queue_lastdata: tuple[str, ...]
    extensions: tuple[str, ...]
    interfaces: tuple[str, ...]
    latin_names: tuple[str, ...]
    member_queues: tuple[tuple[int, ...], ...]
    transfer_targets: tuple[str, ...]
    trunk: str
    campaign: str

    @classmethod
    def build(cls, scenario: Scenario, agents: list[Agent]) -> Directory:
        return cls(
            queue_names=tuple(q.name for q in scenario.queues),
            queue_extensions=tuple(q.extension for q in scenario.queues),
            queue_dids=tuple(q.did for q in scenario.queues),
            queue_lastdata=tuple(f"{q.name},t,,,{q.timeout_s}" if q.timeout_s else f"{q.name},t"
                                 for q in scenario.queues),
            extensions=tuple(a.extension for a in agents),
            interfaces=tuple(a.interface for a in agents),
            latin_names=tuple(a.name_latin for a in agents),
            member_queues=tuple(a.queue_ids for a in agents),
            transfer_targets=scenario.agent_behaviour.transfer_targets or ("2001",),
            trunk=scenario.trunk,
            campaign=scenario.outbound.campaign,
        )

    def expand_to_queues(self, agents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row index, queue) for every queue each agent is a member of: one queue_log line per
        queue for member events such as PAUSE."""
        counts = np.array([len(q) for q in self.member_queues], dtype=np.int64)
        flat = np.array([q for queues in self.member_queues for q in queues], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        per_row = counts[agents]
        rows = np.repeat(np.arange(len(agents)), per_row)
        within = np.arange(len(rows)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
        return rows, flat[starts[agents][rows] + within]
