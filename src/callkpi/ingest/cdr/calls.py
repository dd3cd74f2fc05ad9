"""Building calls from CDR records (pure Python, one call key at a time). Rules (docs/formats.md
explains each with an example):

- One call per ``call_key`` (Asterisk linkedid, else uniqueid; FreeSWITCH a-leg uuid; the
  export's call id).
- Direction comes from the originating leg: a trunk channel (or, when the channel is not a
  phone, a trunk context) means inbound; else a leg to a trunk, or a dialled external number,
  means outbound; else internal (settings ``[cdr.direction]``).
- Inbound: every ring of an extension is an agent leg (rows of one channel instance are one leg;
  Local channels that were expanded are routing, not legs). The call is answered when any agent
  leg was answered; the first to answer is the agent. A leg that stopped ringing the moment
  another answered is ``canceled`` (ring groups), not a no-answer. Without a queue the call gets
  one queue leg with queue NULL, so offered/ASA/service level work for direct calls.
- Outbound: each dial attempt to a trunk is an agent leg of the calling extension.
- Internal calls get no agent legs (calls_handled counts customer calls only).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from callkpi.config import DirectionRules, Settings

SAME_MOMENT_S = 1.0  # a ring that ends within this of another leg's answer was cancelled by it


@dataclass(frozen=True)
class Device:
    name: str  # the channel instance, e.g. PJSIP/1125-00000016
    peer: str  # extension, peer or user part
    kind: str  # extension | trunk | local
    local_id: str | None = None  # Local/exten@ctx-0001 without ;1/;2
    trunk_name: str | None = None  # the trunk a trunk channel belongs to (peer, or FreeSWITCH gateway)


class Rules:
    """The direction rules of the settings, compiled."""

    _LOCAL = re.compile(r"^(?P<id>(?:Local|loopback)/(?P<exten>[^@;]*)(?:@[^;]*)?)(?:;(?P<side>\d))?$", re.I)
    _SOFIA_GATEWAY = re.compile(r"^sofia/gateway/(?P<gateway>[^/]+)/(?P<user>[^@/]+)", re.I)
    _SOFIA = re.compile(r"^sofia/[^/]+/(?P<user>[^@/]+)(?:@(?P<host>[^:;/]+))?", re.I)
    # TECH/resource-counter: SIP/PJSIP and most drivers a hex counter (8 digits since Asterisk 1.8);
    # IAX2 a decimal call number of any length (IAX2/715-16 is peer 715, call 16).
    _OTHER = re.compile(r"^(?P<tech>[^/]+)/(?P<peer>[^/]+?)(?:-[0-9a-fA-F]{6,8})?(?:/.*)?$")
    _IAX2 = re.compile(r"^IAX2/(?P<peer>[^/]+?)(?:-\d+)?(?:/.*)?$", re.I)
    _AGENT = re.compile(r"^Agent/(?P<peer>[^/]+)$", re.I)
    # technologies whose every channel is a line to the public network (E1/T1/ISDN/analogue ports)
    _PSTN = re.compile(r"^(?:DAHDI|Zap|mISDN|DGV|SRX)/(?P<peer>.+?)(?:-\d+)?$", re.I)

    def __init__(self, rules: DirectionRules) -> None:
        self.extension = re.compile(rules.extension_pattern)
        self.trunk_contexts = _glob_regex(rules.trunk_contexts)
        self.trunk_channels = _glob_regex(rules.trunk_channels)
        self.external_min_digits = rules.external_min_digits
        self._devices: dict[str, Device | None] = {}

    def is_extension(self, number: str | None) -> bool:
        return bool(number) and self.extension.fullmatch(number.strip()) is not None

    def is_external(self, number: str | None) -> bool:
        if not number or number.strip().startswith(("*", "#")) or self.is_extension(number):
            return False
        return len(re.sub(r"\D", "", number)) >= self.external_min_digits

    def is_trunk_context(self, context: str | None) -> bool:
        return bool(context) and self.trunk_contexts is not None and self.trunk_contexts.fullmatch(context) is not None

    def device(self, channel: str | None) -> Device | None:
        if not channel:
            return None
        if channel not in self._devices:
            self._devices[channel] = self._parse_device(channel)
        return self._devices[channel]

    def _parse_device(self, channel: str) -> Device | None:
        local = self._LOCAL.match(channel)
        if local:
            return Device(channel, local["exten"], "local", local["id"])
        pstn = self._PSTN.match(channel)
        if pstn:
            return Device(channel, pstn["peer"], "trunk", trunk_name=channel.split("/", 1)[0])
        agent = self._AGENT.match(channel)
        if agent:
            return Device(channel, agent["peer"], "extension")
        gateway = self._SOFIA_GATEWAY.match(channel)
        sofia = gateway or self._SOFIA.match(channel)
        match = sofia or self._IAX2.match(channel) or self._OTHER.match(channel)
        if not match:
            return None
        peer = match["user"] if sofia else match["peer"]
        trunk_name = gateway["gateway"] if gateway else (sofia["host"] or peer) if sofia else peer
        if self.trunk_channels is not None and self.trunk_channels.fullmatch(channel):
            return Device(channel, peer, "trunk", trunk_name=trunk_name)
        external_profile = bool(sofia) and channel.lower().startswith("sofia/external/")  # the carrier side
        kind = "extension" if self.is_extension(peer) and not external_profile else "trunk"
        return Device(channel, peer, kind, trunk_name=trunk_name if kind == "trunk" else None)


def _glob_regex(patterns: Iterable[str]) -> re.Pattern[str] | None:
    parts = [fnmatch.translate(p) for p in patterns if p]
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE) if parts else None


@dataclass
class Rec:
    """One stored CDR row, as the builder sees it."""

    line: tuple[int, int]
    call_key: str
    leg_key: str | None
    sequence: int | None
    start: datetime
    answer: datetime | None
    end: datetime | None
    billsec: float | None
    disposition: str | None
    outcome: str
    src: str | None
    dst: str | None
    clid: str | None
    dcontext: str | None
    channel: str | None
    dstchannel: str | None
    lastapp: str | None
    lastdata: str | None
    did: str | None
    trunk: str | None
    recording: str | None
    queue: str | None
    queue_wait_s: float | None
    queue_exit: str | None
    campaign: str | None
    agent: str | None
    direction: str | None
    hold_s: float | None

    @property
    def flat(self) -> bool:
        """A row of an export that names no channels: the row itself is the leg."""
        return not self.channel and not self.dstchannel

    @property
    def answered_without_talk(self) -> bool:
        """A summary row (no channels) ANSWERED with 0 s billed: only the PBX can have taken it (an
        export that records no billsec at all says nothing of the talk)."""
        return self.flat and self.outcome == "answered" and self.billsec is not None and self.billsec <= 0

    @property
    def app(self) -> str:
        return (self.lastapp or "").lower()

    def queue_name(self) -> str | None:
        if self.queue:
            return self.queue
        if self.app == "queue" and self.lastdata:
            return re.split(r"[,|]", self.lastdata)[0].strip() or None
        return None

    @property
    def talk_s(self) -> float:
        if self.outcome != "answered":
            return 0.0
        if self.billsec is not None:
            return self.billsec
        return _seconds(self.answer, self.end) or 0.0


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return (b - a).total_seconds()


@dataclass
class AgentLeg:
    agent: str | None
    offer: datetime
    end: datetime | None
    outcome: str
    answer: datetime | None
    talk_s: float | None
    hold_s: float | None
    queue: str | None
    callee: str | None = None
    campaign: str | None = None
    from_queue_app: bool = False
    via_local: bool = False  # rang through a Local channel whose other side wrote no rows
    transferred: bool = False

    @property
    def ring_s(self) -> float | None:
        return _seconds(self.offer, self.answer if self.answer else self.end)


@dataclass
class BuiltCall:
    row: dict[str, Any]
    agent_legs: list[AgentLeg]
    queue_legs: list[dict[str, Any]]


CONFERENCE_APPS = frozenset({"confbridge", "meetme"})
PBX_ANSWERED = "answered_by_pbx"  # calls.outcome: only an application (IVR, AGI, voicemail) answered


class CallBuilder:
    """Turns the CDR rows of one call into its calls row, agent legs and queue legs.

    ``queue_log_loaded``: the store holds queue_log calls of this PBX; the queue_log is then the
    authority on queues, and a CDR call that entered no Queue() gets no blank-queue leg."""

    def __init__(self, settings: Settings, source: str, *, queue_log_loaded: bool = False,
                 unlinked_files: frozenset[int] = frozenset()) -> None:
        self.rules = Rules(settings.cdr.direction)
        self.aliases = settings.agents.aliases
        self.source = source
        self.queue_log_loaded = queue_log_loaded
        self.unlinked_files = unlinked_files

    # -- parties ---------------------------------------------------------------------------
    def agent_id(self, raw: str | None, device: Device | None = None) -> str | None:
        if not raw:
            return None
        for key in (device.name if device else None, raw):
            if key and key in self.aliases:
                return self.aliases[key]
        return re.sub(r"^(sip:|client:|tel:)", "", raw.split("@")[0], flags=re.I) or None

    def origin(self, recs: list[Rec]) -> Rec:
        own = [r for r in recs if r.leg_key == r.call_key]
        return (own or recs)[0]

    def direction(self, recs: list[Rec], origin: Rec) -> str:
        explicit = origin.direction or next((r.direction for r in recs if r.direction), None)
        if explicit:
            return explicit
        caller = self.rules.device(origin.channel)
        if caller and caller.kind == "trunk":
            return "inbound"
        if (caller is None or caller.kind == "local") and self.rules.is_trunk_context(origin.dcontext):
            return "inbound"  # an extension dialling into a trunk context is someone testing a route
        if any((d := self.rules.device(r.dstchannel)) and d.kind == "trunk" for r in recs):
            return "outbound"
        if caller is None and self.rules.is_external(origin.src):
            return "inbound"
        if origin.app in CONFERENCE_APPS:
            return "internal"  # dst is the conference room (PBXware 33181543606263), not a number dialled
        return "outbound" if self.rules.is_external(origin.dst) else "internal"  # incl. a dial that found no route

    def dialled_number(self, rec: Rec, device: Device) -> str | None:
        """The number a trunk leg dialled: the Dial() target that went to this trunk, else dst."""
        targets = [t for t in re.split(r"[&,]", (rec.lastdata or "").split(",")[0]) if "/" in t]
        numbers = []
        for target in targets:
            tech_rest = target.split("/", 1)[1]
            if "@" in tech_rest and tech_rest.split("@", 1)[1].split("/")[0] == device.peer:
                numbers.append(tech_rest.split("@", 1)[0])
            elif tech_rest.startswith(device.peer + "/"):
                numbers.append(tech_rest.split("/", 1)[1])
        return numbers[0] if len(set(numbers)) == 1 else rec.dst

    # -- legs ------------------------------------------------------------------------------
    def inbound_legs(self, recs: list[Rec]) -> list[AgentLeg]:
        if all(r.flat for r in recs):
            return self._flat_legs(recs, "inbound")
        expanded = {d.local_id for r in recs if (d := self.rules.device(r.channel)) and d.kind == "local"
                    and (r.channel or "").endswith(";2")}
        groups: dict[str, list[tuple[Rec, Device]]] = {}
        for rec in recs:
            caller_side = self.rules.device(rec.channel)
            callee = self.rules.device(rec.dstchannel)
            if callee is None or (caller_side is not None and caller_side.kind == "extension"):
                continue  # app-only rows, and rows an extension placed (pickup, consultation)
            if caller_side is not None and caller_side.kind == "local" == callee.kind:
                continue  # one Local channel dialling another: plumbing of the dialplan
            if callee.kind == "local" and (callee.local_id in expanded or not self.rules.is_extension(callee.peer)):
                continue  # routing through a Local channel whose other side has its own rows
            key = callee.local_id if callee.kind == "local" else callee.name
            groups.setdefault(key or callee.name, []).append((rec, callee))
        legs = sorted((self._grouped_leg(group, "inbound") for group in groups.values()), key=lambda leg: leg.offer)
        return _collapse_local_hops(legs)

    def outbound_legs(self, recs: list[Rec], origin: Rec) -> list[AgentLeg]:
        caller = self.rules.device(origin.channel)
        agent = origin.agent or (caller.peer if caller and caller.kind == "extension" else None)
        if agent is None and self.rules.is_extension(origin.src):
            agent = origin.src
        groups: dict[str, list[tuple[Rec, Device]]] = {}
        for rec in recs:
            callee = self.rules.device(rec.dstchannel)
            if callee is not None and callee.kind == "trunk":
                groups.setdefault(callee.name, []).append((rec, callee))
        if not groups:
            legs = self._flat_legs([origin] if not origin.flat else recs, "outbound", agent)
            if not origin.flat:
                for leg in legs:  # no trunk bridged: an application (ChanSpy, a PIN prompt) answered, no callee
                    if leg.outcome == "answered":
                        leg.outcome, leg.answer, leg.talk_s, leg.hold_s = "failed", None, None, None
            return legs
        legs = []
        for group in groups.values():
            leg = self._grouped_leg(group, "outbound")
            leg.agent = self.agent_id(agent, caller)
            leg.callee = self.dialled_number(group[0][0], group[0][1])
            legs.append(leg)
        return sorted(legs, key=lambda leg: leg.offer)

    def _flat_legs(self, recs: list[Rec], direction: str, caller_agent: str | None = None) -> list[AgentLeg]:
        b_legs = [r for r in recs if r.leg_key and r.leg_key != r.call_key]
        legs = []
        for rec in b_legs or recs:
            by_pbx = rec.answered_without_talk
            if by_pbx and direction == "inbound":
                continue  # a summary row ANSWERED with no talk shows no person the call reached
            if rec.agent:
                agent = rec.agent
            elif direction == "outbound":
                agent = caller_agent
            elif b_legs:
                agent = rec.dst if not self.rules.is_external(rec.dst) else None
            else:
                agent = rec.dst if self.rules.is_extension(rec.dst) else None
            if by_pbx:  # the agent dialled, only the PBX answered (nobody talked)
                legs.append(AgentLeg(self.agent_id(agent), rec.start, rec.end, "failed", None, None, None,
                                     rec.queue_name(), callee=rec.dst, campaign=rec.campaign))
                continue
            legs.append(AgentLeg(
                self.agent_id(agent), rec.start, rec.end, rec.outcome, rec.answer,
                rec.talk_s if rec.outcome == "answered" else None, rec.hold_s, rec.queue_name(),
                callee=rec.dst if direction == "outbound" else None, campaign=rec.campaign,
            ))
        return legs

    def _grouped_leg(self, group: list[tuple[Rec, Device]], direction: str) -> AgentLeg:
        """Rows of one channel instance (a Local hop and the direct bridge after it) are one leg."""
        recs = [rec for rec, _ in group]
        device = group[0][1]
        answered = [r for r in recs if r.outcome == "answered"]
        ends = [r.end for r in recs if r.end]
        outcome = "answered" if answered else _worst_unanswered(r.outcome for r in recs)
        agent = None if direction == "outbound" else self.agent_id(
            device.peer if device.kind != "trunk" else self.dialled_number(recs[0], device), device)
        return AgentLeg(
            agent=agent,
            offer=min(r.start for r in recs),
            end=max(ends) if ends else None,
            outcome=outcome,
            answer=min(r.answer or r.start for r in answered) if answered else None,
            talk_s=sum(r.talk_s for r in answered) if answered else None,
            hold_s=_sum_or_none(r.hold_s for r in answered),
            queue=next((q for r in recs if (q := r.queue_name())), None),
            campaign=next((r.campaign for r in recs if r.campaign), None),
            from_queue_app=any(r.app == "queue" for r in recs),
            via_local=device.kind == "local",
        )

    # -- the call --------------------------------------------------------------------------
    def build(self, recs: list[Rec]) -> BuiltCall:
        origin = self.origin(recs)
        direction = self.direction(recs, origin)
        if direction == "inbound":
            legs = self.inbound_legs(recs)
        elif direction == "outbound":
            legs = self.outbound_legs(recs, origin)
        else:
            legs = []
        _mark_cancelled_and_transferred(legs)
        answered_legs = _answered_in_order(legs)
        row = self._call_row(recs, origin, direction, legs, answered_legs)
        queue_legs = self._queue_legs(recs, row, legs) if direction == "inbound" else []
        row["queue_legs"] = len(queue_legs)
        row["agent_legs"] = len(legs)
        if queue_legs:
            row["queue"] = queue_legs[0]["queue"]
            if queue_legs[0]["wait_s"] is None:
                row["wait_s"] = None
        return BuiltCall(row, legs, queue_legs)

    def _call_row(self, recs: list[Rec], origin: Rec, direction: str, legs: list[AgentLeg],
                  answered_legs: list[AgentLeg]) -> dict[str, Any]:
        start = min(r.start for r in recs)
        ends = [r.end for r in recs if r.end]
        answered = bool(self.person_rows(recs)) if direction == "internal" else bool(answered_legs)
        first_answer = answered_legs[0].answer if answered_legs else None
        caller_device = self.rules.device(origin.channel)
        return {
            "call_id": origin.call_key,
            "source": self.source,
            "direction": direction,
            "start_utc": start,
            "answer_utc": first_answer if direction != "internal" else _first_answer(recs),
            "end_utc": max(ends) if ends else None,
            "caller": origin.src or _clid_number(origin.clid),
            "callee": None if self._placed_by_pbx(recs, direction) else self._callee(origin, direction, legs),
            "did": next((r.did for r in recs if r.did), None) or (origin.dst if direction == "inbound" else None),
            "trunk": self._trunk(recs, origin, direction, caller_device),
            "agent": self._call_agent(direction, answered_legs, legs, origin, caller_device),
            "queue": None,
            "campaign": next((r.campaign for r in recs if r.campaign), None),
            "answered": answered,
            "outcome": "answered" if answered else self._unanswered_outcome(direction, legs, recs, origin),
            "wait_s": _seconds(start, first_answer),
            "talk_s": _call_talk(direction, answered_legs, self.person_rows(recs) if direction == "internal" else []),
            "hold_s": _sum_or_none(leg.hold_s for leg in answered_legs) if legs else _sum_or_none(
                r.hold_s for r in recs if r.outcome == "answered"),
            "recording": next((r.recording for r in recs if r.recording), None),
        }

    def person_rows(self, recs: list[Rec]) -> list[Rec]:
        """Answered rows where a person talked: a phone or a trunk was bridged (dstchannel), or a
        Local channel whose other half wrote no row reaching a phone, or a Pickup. A row answered
        by an application (IVR, AGI, voicemail, no dstchannel) reached the PBX, not a person."""
        continued = {d.local_id for r in recs if (d := self.rules.device(r.channel)) and d.kind == "local"
                     and r.dstchannel}
        return [r for r in recs if r.outcome == "answered" and self._reached_person(r, continued)]

    def _reached_person(self, rec: Rec, continued: set[str | None]) -> bool:
        callee = self.rules.device(rec.dstchannel)
        caller = self.rules.device(rec.channel)
        if rec.flat:  # a summary export cannot show an IVR: answered with talk is a person, without is the PBX
            return rec.talk_s > 0
        if callee is not None and callee.kind in ("extension", "trunk"):
            return True
        if callee is None:
            return rec.app == "pickup" and caller is not None and caller.kind == "extension"
        return (callee.kind == "local" and callee.local_id not in continued and self.rules.is_extension(callee.peer)
                and (caller is None or caller.kind != "local"))

    def _placed_by_pbx(self, recs: list[Rec], direction: str) -> bool:
        """An outbound call of a file without linkedid (Asterisk < 12) whose every channel is Local was
        placed by the PBX (a ring group's forward to a mobile, its caller's row elsewhere), not dialled
        by a person: it has no callee, so it is never a callback. With linkedid such a call is an
        originate (click-to-call), a person's dial."""
        if direction != "outbound" or not self.unlinked_files:
            return False
        return all(r.line[0] in self.unlinked_files and (d := self.rules.device(r.channel)) is not None
                   and d.kind == "local" for r in recs)

    def _callee(self, origin: Rec, direction: str, legs: list[AgentLeg]) -> str | None:
        if direction == "outbound":
            return next((leg.callee for leg in legs if leg.callee), None) or origin.dst
        return origin.dst

    def _trunk(self, recs: list[Rec], origin: Rec, direction: str, caller: Device | None) -> str | None:
        named = next((r.trunk for r in recs if r.trunk), None)
        if named:
            return named
        if direction == "inbound" and caller is not None and caller.kind == "trunk":
            return caller.trunk_name
        if direction == "outbound":
            for rec in recs:
                device = self.rules.device(rec.dstchannel)
                if device is not None and device.kind == "trunk":
                    return device.trunk_name
        return None

    def _call_agent(self, direction: str, answered_legs: list[AgentLeg], legs: list[AgentLeg], origin: Rec,
                    caller: Device | None) -> str | None:
        if direction == "inbound":
            return answered_legs[0].agent if answered_legs else None
        if legs:
            return legs[0].agent
        if caller is not None and caller.kind == "extension":
            return self.agent_id(caller.peer, caller)
        return self.agent_id(origin.agent or (origin.src if self.rules.is_extension(origin.src) else None))

    def _unanswered_outcome(self, direction: str, legs: list[AgentLeg], recs: list[Rec], origin: Rec) -> str:
        if any(r.outcome == "answered" and r.app and r.app != "queue" for r in recs):
            return PBX_ANSWERED  # Queue() answers the channel itself: that is waiting, not an answer
        if any(r.answered_without_talk for r in recs) or (
                direction == "internal" and any(r.outcome == "answered" and r.flat for r in recs)):
            return PBX_ANSWERED  # a summary row ANSWERED with no talk: the PBX took it, no person is shown
        if legs:
            return _worst_unanswered(leg.outcome for leg in legs)
        # No leg rang anybody: the rows' dispositions say how the call ended (an AGI returning BUSY is busy)
        return _worst_unanswered(r.outcome for r in recs if r.outcome != "answered")

    def _queue_legs(self, recs: list[Rec], call: dict[str, Any], legs: list[AgentLeg]) -> list[dict[str, Any]]:
        names: list[str] = []
        for rec in recs:
            name = rec.queue_name()
            if name and name not in names:
                names.append(name)
        if not names:
            if not legs or self.queue_log_loaded:
                return []  # never rang a person (IVR/AGI/voicemail only), or the queue_log has the queues
            return [self._direct_leg(recs, call, legs)]  # a direct or ring-group call is offered once
        return [self._queue_leg(recs, call, legs, name, n) for n, name in enumerate(names, 1)]

    def _queue_leg(self, recs: list[Rec], call: dict[str, Any], legs: list[AgentLeg], name: str,
                   number: int) -> dict[str, Any]:
        in_queue = [r for r in recs if r.queue_name() == name]
        queue_legs = sorted((leg for leg in legs if leg.queue == name and leg.outcome == "answered"),
                            key=lambda leg: leg.answer or leg.offer)
        stated_wait = next((r.queue_wait_s for r in in_queue if r.queue_wait_s is not None), None)
        last_end = max((r.end for r in in_queue if r.end), default=None)
        if queue_legs:
            outcome, exit_point = "answered", queue_legs[0].answer
        else:
            in_queue_ids = {id(r) for r in in_queue}
            later = last_end is not None and any(r.start >= last_end for r in recs if id(r) not in in_queue_ids)
            reason = next((r.queue_exit for r in in_queue if r.queue_exit), None)
            outcome = "flowed_out" if later or _is_flow_out(reason) else "abandoned"
            exit_point = last_end
        start = min(r.start for r in in_queue)
        enter = start
        if stated_wait is not None and exit_point is not None:
            enter = max(start, exit_point - timedelta(seconds=stated_wait))  # never before the call (item 11)
        wait = stated_wait if stated_wait is not None else _seconds(enter, exit_point)
        if stated_wait is None and queue_legs and any(r.app == "queue" and r.answer == r.start for r in in_queue):
            wait = None  # Queue() answered the channel itself: when the agent was bridged, the CDR does not say
        return self._queue_leg_row(call, number, name, enter, exit_point, outcome, queue_legs, wait,
                                   exit_event="CDR" if not in_queue[0].queue_exit else in_queue[0].queue_exit)

    def _direct_leg(self, recs: list[Rec], call: dict[str, Any], legs: list[AgentLeg]) -> dict[str, Any]:
        answered = sorted((leg for leg in legs if leg.outcome == "answered"), key=lambda leg: leg.answer or leg.offer)
        voicemail = any(r.app in ("voicemail", "vm") for r in recs)
        if answered:
            outcome, exit_point = "answered", answered[0].answer
        else:
            outcome, exit_point = ("flowed_out" if voicemail else "abandoned"), call["end_utc"]
        event = "VOICEMAIL" if voicemail and not answered else "CDR"
        return self._queue_leg_row(call, 1, None, call["start_utc"], exit_point, outcome, answered,
                                   _seconds(call["start_utc"], exit_point), exit_event=event)

    def _queue_leg_row(self, call: dict[str, Any], number: int, queue: str | None, enter: datetime,
                       exit_point: datetime | None, outcome: str, answered: list[AgentLeg], wait: float | None,
                       *, exit_event: str) -> dict[str, Any]:
        return {
            "call_id": call["call_id"],
            "leg_no": number,
            "source": self.source,
            "queue": queue,
            "enter_utc": enter,
            "end_utc": max((leg.end for leg in answered if leg.end), default=None) or exit_point,
            "outcome": outcome,
            "exit_event": exit_event,
            "wait_s": max(wait, 0.0) if wait is not None else None,
            "agent": answered[0].agent if answered else None,
            "talk_s": sum(leg.talk_s or 0.0 for leg in answered) if answered else None,
            "transferred": any(leg.transferred for leg in answered),
        }


def _collapse_local_hops(legs: list[AgentLeg]) -> list[AgentLeg]:
    """A Local channel 'answers' when the queue or ring group hands the call on; the talk is on the
    leg that starts the moment it ends. The same agent's hop and talk are one leg; a hop followed
    by another agent's talk (call pickup) was a ring the other agent took: cancelled."""
    kept: list[AgentLeg] = []
    for hop in legs:
        follower = next((leg for leg in legs if leg is not hop and hop.via_local and hop.outcome == "answered"
                         and leg.outcome == "answered" and hop.end is not None and leg.offer >= hop.offer
                         and abs((leg.offer - hop.end).total_seconds()) <= SAME_MOMENT_S), None)
        if follower is None:
            kept.append(hop)
        elif follower.agent == hop.agent:
            follower.offer = hop.offer
            follower.queue = follower.queue or hop.queue
            follower.from_queue_app = follower.from_queue_app or hop.from_queue_app
        else:
            hop.outcome, hop.answer, hop.talk_s, hop.hold_s = "canceled", None, None, None
            kept.append(hop)
    return kept


def _worst_unanswered(outcomes: Iterable[str]) -> str:
    found = set(outcomes)
    for outcome in ("no_answer", "canceled", "busy", "failed"):
        if outcome in found:
            return "no_answer" if outcome == "canceled" else outcome
    return "no_answer"


def _mark_cancelled_and_transferred(legs: list[AgentLeg]) -> None:
    answers = [(leg.answer, leg.agent) for leg in legs if leg.outcome == "answered" and leg.answer]
    for leg in legs:
        if leg.outcome == "no_answer" and leg.end is not None and any(
            abs((answer - leg.end).total_seconds()) <= SAME_MOMENT_S for answer, _ in answers
        ):
            leg.outcome = "canceled"
        if leg.outcome == "answered" and leg.answer is not None:
            leg.transferred = any(answer > leg.answer and agent != leg.agent for answer, agent in answers)


def _answered_in_order(legs: list[AgentLeg]) -> list[AgentLeg]:
    return sorted((leg for leg in legs if leg.outcome == "answered"), key=lambda leg: leg.answer or leg.offer)


def _first_answer(recs: list[Rec]) -> datetime | None:
    answers = [r.answer for r in recs if r.outcome == "answered" and r.answer]
    return min(answers) if answers else None


def _call_talk(direction: str, answered_legs: list[AgentLeg], person_rows: list[Rec]) -> float | None:
    if direction != "internal":
        return sum(leg.talk_s or 0.0 for leg in answered_legs) if answered_legs else None
    # Rows a phone bridged one after another (468 dials 466, then 464) each add their talk; the halves
    # of a Local channel repeat nothing here (person_rows keeps only the half that reached the phone).
    return sum(r.talk_s for r in person_rows) if person_rows else None


def _sum_or_none(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _clid_number(clid: str | None) -> str | None:
    match = re.search(r"<([^>]*)>", clid or "")
    return (match[1].strip() or None) if match else None


def _is_flow_out(reason: str | None) -> bool:
    return (reason or "").upper() in ("TIMEOUT", "NO_AGENT_TIMEOUT", "BREAK_OUT", "EXITWITHTIMEOUT", "EXITEMPTY")
