"""The live state of the contact centre, folded from queue_log events as the PBX writes them.

Who is doing what now (per agent: logged out, idle, ringing, on a call, after-call work, paused,
and since when), who is waiting now (per call: queue, caller, since when) and the legs that
ended in the last hour (for the service level of the last 15/30/60 minutes). Pure functions over
:class:`Event` values: :func:`fold` applies them in order, :func:`snapshot` shows the state at a
moment. The same rules as :mod:`callkpi.ingest.queue_log_model`:

- A session is open while one of its scopes is (``AGENTLOGIN`` for the agent, ``ADDMEMBER`` per
  queue); the last logout of the session closes it, and with it a pause.
- ``PAUSE``/``PAUSEALL`` pause the agent with the reason in data1; a reason among
  ``acw_pause_reasons`` is after-call work. ``UNPAUSE``/``UNPAUSEALL`` end it.
- ``ENTERQUEUE`` puts a caller in the waiting list; ``CONNECT`` (holdtime in data1) takes them to
  an agent; ``COMPLETE*``/``*TRANSFER`` end the agent's call; ``ABANDON``, ``EXITWITH*``,
  ``EXITEMPTY`` (wait in data3; ``EXITWITHKEY`` in data4) take them off the list unanswered.
- ``QUEUESTART`` (Asterisk restarted) ends everything: legs still open end with outcome
  ``unknown`` (as the canonical queue legs do), every session closes; ``CONFIGRELOAD`` closes
  the sessions too when ``[ingest] close_sessions_on_reload`` says so.
- queue_log has no event for the start of a ring (RINGNOANSWER is written when it ends): an agent
  is ``ringing`` only while dialling out (PBXware ``OUTDIAL`` until its ending event).

The rolling service level is not computed here: :func:`window_legs` gives the legs of each window
and :mod:`callkpi.analyses.live_service_level` has the metric engine compute it.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from callkpi.config import Settings

SESSION_START = ("ADDMEMBER", "AGENTLOGIN", "AGENTCALLBACKLOGIN")
SESSION_END = ("REMOVEMEMBER", "AGENTLOGOFF", "AGENTCALLBACKLOGOFF")
PAUSE_START = ("PAUSE", "PAUSEALL")
PAUSE_END = ("UNPAUSE", "UNPAUSEALL")
CALL_END = ("COMPLETEAGENT", "COMPLETECALLER", "TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER", "AGENTDUMP")
UNANSWERED_END = {"ABANDON": "abandoned", "EXITWITHTIMEOUT": "flowed_out", "EXITWITHKEY": "flowed_out",
                  "EXITEMPTY": "flowed_out", "SYSCOMPAT": "flowed_out"}
OUT_DIAL = "OUTDIAL"
OUT_ENDS = ("OUTANSWER", "OUTTRANSFER", "OUTCANCEL", "OUTCHANUNAVAIL", "OUTCONGESTION")
RESTART, RELOAD = "QUEUESTART", "CONFIGRELOAD"
NOT_A_CALL = ("NONE", "MANAGER", "REALTIME", "")

STATES = ("on_call", "ringing", "after_call_work", "paused", "idle", "logged_out")
WINDOWS_MIN = (15, 30, 60)
KEEP_CLOSED_S = max(WINDOWS_MIN) * 60

_TECH_PREFIX = re.compile(r"^(Local|SIP|PJSIP|IAX2|Agent|DAHDI|Custom|SCCP|Skinny|MGCP|H323|Motif|WebRTC)/")
_AT = re.compile(r"@.*$")
_CHANNEL_SUFFIX = re.compile(r"-[0-9a-fA-F]{4,}(;[0-9]+)?$")


@dataclass(frozen=True)
class Event:
    """One queue_log line: ``agent`` is the agent id (channel normalised, alias applied)."""

    epoch: float
    callid: str
    queue: str | None
    agent: str | None
    event: str
    data: tuple[str | None, ...] = ()

    def field(self, n: int) -> str | None:
        """data<n> (1-based), stripped; None when absent or empty."""
        value = self.data[n - 1] if len(self.data) >= n else None
        value = value.strip() if value is not None else None
        return value or None

    def number(self, n: int) -> float | None:
        try:
            return float(self.field(n) or "")
        except ValueError:
            return None


def agent_id(raw: str | None, settings: Settings) -> str | None:
    """The agent id of a queue_log agent field, as :func:`callkpi.ingest.queue_log_model.agent_expression`
    and the alias table make it at ingest."""
    if raw is None or raw.strip().upper() in ("NONE", ""):
        return None
    raw = raw.strip()
    agent = raw
    if settings.agents.normalise_channels and _TECH_PREFIX.match(raw):
        agent = _CHANNEL_SUFFIX.sub("", _AT.sub("", _TECH_PREFIX.sub("", raw)))
    aliases = settings.agents.aliases
    return aliases.get(raw, aliases.get(agent, agent))


def parse_line(line: str, settings: Settings) -> Event | None:
    """An event of a plain queue_log line (``epoch|callid|queue|agent|EVENT|data1|...``), or None for
    a line the ingest would quarantine for its form (too few fields, no time, no callid)."""
    parts = line.rstrip("\r\n").split("|")
    if len(parts) < 5 or not parts[1].strip():
        return None
    try:
        epoch = float(parts[0].strip())
    except ValueError:
        return None
    queue = parts[2].strip() or None
    data = tuple(p if p != "" else None for p in (*parts[5:9], "|".join(parts[9:]) if len(parts) > 9 else None))
    return Event(epoch, parts[1].strip(), queue, agent_id(parts[3], settings), parts[4].strip().upper(), data)


@dataclass(frozen=True)
class Call:
    """A call an agent is on (or dialling out): the call id, its queue, the other party, since when."""

    callid: str
    queue: str | None
    party: str | None
    since: float
    direction: str = "inbound"


@dataclass
class Agent:
    agent: str
    scopes: set[str] = field(default_factory=set)
    queues: set[str] = field(default_factory=set)  # member of (ADDMEMBER) or answered for
    pause_reason: str | None = None
    paused: bool = False
    call: Call | None = None
    dialling: Call | None = None
    presence_seen: bool = False  # False: no login, logout or pause seen (a static queue member)
    state: str = "logged_out"
    since: float | None = None  # when the present state began (None: before the data)
    key: tuple[object, ...] = ()  # what the tile shows; a change of it restarts the time in state

    @property
    def logged_in(self) -> bool:
        return bool(self.scopes)


@dataclass(frozen=True)
class Waiting:
    callid: str
    queue: str | None
    caller: str | None
    position: int | None
    since: float


@dataclass(frozen=True)
class ClosedLeg:
    """A queue leg that ended (answered at CONNECT, or left unanswered): what the service level needs."""

    callid: str
    queue: str | None
    enter: float
    end: float
    outcome: str  # answered | abandoned | flowed_out | unknown
    wait_s: float | None


@dataclass
class LiveState:
    acw_reasons: frozenset[str] = frozenset()
    close_on_reload: bool = False
    agents: dict[str, Agent] = field(default_factory=dict)
    waiting: dict[str, Waiting] = field(default_factory=dict)
    closed: deque[ClosedLeg] = field(default_factory=deque)
    callers: dict[str, str | None] = field(default_factory=dict)  # callid -> caller, while the call lasts
    last_epoch: float | None = None
    restarted_at: float | None = None
    events: int = 0
    closed_total: int = 0  # legs ever closed (the window figures change only when it does)

    @classmethod
    def for_settings(cls, settings: Settings, acw_reasons: Iterable[str]) -> LiveState:
        return cls(frozenset(r.casefold() for r in acw_reasons), settings.ingest.close_sessions_on_reload)


def fold(state: LiveState, events: Iterable[Event]) -> LiveState:
    """Apply events in the order the PBX wrote them (the state changes in place; returned for chaining)."""
    for event in events:
        apply(state, event)
    return state


def apply(state: LiveState, ev: Event) -> None:
    state.events += 1
    state.last_epoch = ev.epoch if state.last_epoch is None else max(state.last_epoch, ev.epoch)
    if ev.event == RESTART or (ev.event == RELOAD and state.close_on_reload):
        _restart(state, ev)
        return
    if ev.callid not in NOT_A_CALL or ev.event in (OUT_DIAL, *OUT_ENDS):
        _call_event(state, ev)
    agent = _agent(state, ev.agent) if ev.agent else None
    if agent is not None:
        _presence_event(agent, ev)
        _settle(state, agent, ev.epoch)
    _forget_old(state, ev.epoch)


def _agent(state: LiveState, agent_id_: str) -> Agent:
    return state.agents.setdefault(agent_id_, Agent(agent_id_))


def _restart(state: LiveState, ev: Event) -> None:
    if ev.event == RESTART:
        state.restarted_at = ev.epoch
        for waiting in state.waiting.values():
            _closed(state, ClosedLeg(waiting.callid, waiting.queue, waiting.since, ev.epoch, "unknown", None))
        state.waiting.clear()
        state.callers.clear()
    for agent in state.agents.values():
        if ev.event == RESTART:
            agent.call = agent.dialling = None
        agent.scopes.clear()
        agent.paused, agent.pause_reason = False, None
        _settle(state, agent, ev.epoch)


def _presence_event(agent: Agent, ev: Event) -> None:
    scope = "agent" if ev.event.startswith("AGENT") else f"queue:{ev.queue}"
    if ev.event in (*SESSION_START, *SESSION_END, *PAUSE_START, *PAUSE_END):
        agent.presence_seen = True
    if ev.event in SESSION_START:
        agent.scopes.add(scope)
        if scope.startswith("queue:") and ev.queue:
            agent.queues.add(ev.queue)
    elif ev.event in SESSION_END:
        agent.scopes.discard(scope)
        if not agent.scopes:
            agent.paused, agent.pause_reason = False, None
    elif ev.event in PAUSE_START:
        agent.paused, agent.pause_reason = True, ev.field(1)
    elif ev.event in PAUSE_END:
        agent.paused, agent.pause_reason = False, None


def _call_event(state: LiveState, ev: Event) -> None:
    if ev.event == "ENTERQUEUE":
        state.callers[ev.callid] = ev.field(2)
        state.waiting[ev.callid] = Waiting(ev.callid, ev.queue, ev.field(2), _int(ev.field(3)), ev.epoch)
    elif ev.event == "CONNECT":
        _close_leg(state, ev, "answered", ev.number(1))
        if ev.agent:
            agent = _agent(state, ev.agent)
            if ev.queue:
                agent.queues.add(ev.queue)
            agent.call = Call(ev.callid, ev.queue, state.callers.get(ev.callid), ev.epoch)
    elif ev.event in CALL_END:
        wait = ev.number(3) if "TRANSFER" in ev.event else ev.number(1)
        _close_leg(state, ev, "answered", wait)  # answered without a CONNECT line
        for agent in state.agents.values():
            if agent.call is not None and agent.call.callid == ev.callid:
                agent.call = None
                _settle(state, agent, ev.epoch)
        state.callers.pop(ev.callid, None)
    elif ev.event in UNANSWERED_END:
        _close_leg(state, ev, UNANSWERED_END[ev.event], ev.number(4 if ev.event == "EXITWITHKEY" else 3))
        if ev.event != "SYSCOMPAT":
            state.callers.pop(ev.callid, None)
    elif ev.event == OUT_DIAL and ev.agent:
        _agent(state, ev.agent).dialling = Call(ev.callid, ev.queue, ev.field(1), ev.epoch, "outbound")
    elif ev.event in OUT_ENDS and ev.agent:
        _agent(state, ev.agent).dialling = None


def _close_leg(state: LiveState, ev: Event, outcome: str, wait_s: float | None) -> None:
    waiting = state.waiting.pop(ev.callid, None)
    if waiting is None:
        return
    if wait_s is None and outcome == "answered":
        wait_s = ev.epoch - waiting.since
    _closed(state, ClosedLeg(ev.callid, waiting.queue, waiting.since, ev.epoch, outcome, wait_s))


def _closed(state: LiveState, leg: ClosedLeg) -> None:
    state.closed.append(leg)
    state.closed_total += 1


def _settle(state: LiveState, agent: Agent, epoch: float) -> None:
    """Work out the agent's state after an event; a new state (or a new call or reason) starts the clock."""
    name, detail = _state_of(agent, state.acw_reasons)
    key = (name, detail)
    if key != agent.key:
        agent.state, agent.key = name, key
        agent.since = epoch


def _state_of(agent: Agent, acw_reasons: frozenset[str]) -> tuple[str, object]:
    if agent.call is not None:
        return "on_call", agent.call.callid
    if agent.dialling is not None:
        return "ringing", agent.dialling.callid
    if not agent.logged_in:
        return ("logged_out", None) if agent.presence_seen else ("idle", None)
    if agent.paused:
        acw = (agent.pause_reason or "").casefold() in acw_reasons
        return ("after_call_work" if acw else "paused"), agent.pause_reason
    return "idle", None


def _forget_old(state: LiveState, now: float) -> None:
    while state.closed and state.closed[0].end < now - KEEP_CLOSED_S:
        state.closed.popleft()


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


# -- what the wallboard shows ----------------------------------------------------------------


@dataclass(frozen=True)
class AgentView:
    agent: str
    state: str
    since: float | None
    seconds: float | None  # in the present state (None: it began before the data)
    reason: str | None
    queue: str | None
    callid: str | None
    party: str | None
    direction: str | None
    queues: tuple[str, ...]


@dataclass(frozen=True)
class WaitingView:
    callid: str
    queue: str | None
    caller: str | None
    position: int | None
    since: float
    wait_s: float


@dataclass(frozen=True)
class QueueView:
    queue: str
    waiting: int
    longest_wait_s: float | None  # None: nobody waits
    available: int
    busy: int
    paused: int
    logged_in: int


@dataclass(frozen=True)
class Snapshot:
    at: float
    agents: tuple[AgentView, ...]
    queues: tuple[QueueView, ...]
    waiting: tuple[WaitingView, ...]
    restarted_at: float | None
    events: int


BUSY = ("on_call", "ringing", "after_call_work")


def snapshot(state: LiveState, now: float, known_queues: Iterable[str] = ()) -> Snapshot:
    """The state at ``now`` (epoch seconds): agents by state order, the queues by name, the calls
    waiting longest first."""
    agents = tuple(sorted((_agent_view(a, now) for a in state.agents.values()),
                          key=lambda a: (STATES.index(a.state), a.agent)))
    waiting = tuple(sorted((WaitingView(w.callid, w.queue, w.caller, w.position, w.since, max(0.0, now - w.since))
                            for w in state.waiting.values()), key=lambda w: (w.since, w.callid)))
    names = {*known_queues, *(w.queue for w in waiting if w.queue), *(q for a in agents for q in a.queues)}
    queues = tuple(_queue_view(name, agents, waiting) for name in sorted(names))
    return Snapshot(now, agents, queues, waiting, state.restarted_at, state.events)


def _agent_view(agent: Agent, now: float) -> AgentView:
    call = agent.call or agent.dialling
    return AgentView(
        agent.agent, agent.state, agent.since, None if agent.since is None else max(0.0, now - agent.since),
        agent.pause_reason if agent.state in ("paused", "after_call_work") else None,
        call.queue if call else None, call.callid if call else None, call.party if call else None,
        call.direction if call else None, tuple(sorted(agent.queues)),
    )


def _queue_view(name: str, agents: Sequence[AgentView], waiting: Sequence[WaitingView]) -> QueueView:
    members = [a for a in agents if name in a.queues and a.state != "logged_out"]
    waits = [w.wait_s for w in waiting if w.queue == name]
    return QueueView(
        name, len(waits), max(waits) if waits else None,
        available=sum(a.state == "idle" for a in members),
        busy=sum(a.state in BUSY for a in members),
        paused=sum(a.state == "paused" for a in members),
        logged_in=len(members),
    )


def window_legs(state: LiveState, now: float, windows_min: Sequence[int] = WINDOWS_MIN) -> dict[int, list[ClosedLeg]]:
    """The legs that ended in each of the last ``windows_min`` minutes up to ``now``."""
    return {w: [leg for leg in state.closed if now - w * 60 < leg.end <= now] for w in windows_min}


def visible(snap: Snapshot, *, queues: Iterable[str] | None = None, agents: Iterable[str] | None = None,
            teams: Mapping[str, str | None] | None = None, allowed_teams: Iterable[str] | None = None) -> Snapshot:
    """The part of a snapshot someone may see: only these queues (None: all), these agents, the
    agents of these teams (``teams``: agent -> team)."""
    queue_set = set(queues) if queues is not None else None
    agent_set = set(agents) if agents is not None else None
    team_set = set(allowed_teams) if allowed_teams is not None else None

    def agent_ok(a: AgentView) -> bool:
        if agent_set is not None and a.agent not in agent_set:
            return False
        if team_set is not None and (teams or {}).get(a.agent) not in team_set:
            return False
        return queue_set is None or bool(queue_set & set(a.queues)) or agent_set is not None

    return Snapshot(
        snap.at,
        tuple(a for a in snap.agents if agent_ok(a)),
        tuple(q for q in snap.queues if queue_set is None or q.queue in queue_set),
        tuple(w for w in snap.waiting if queue_set is None or w.queue in queue_set),
        snap.restarted_at, snap.events,
    )
