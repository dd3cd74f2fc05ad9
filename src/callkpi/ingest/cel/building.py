"""CEL events into calls and legs (one call per linkedid). Rules (docs/formats.md "Asterisk CEL"):

- Each channel of a call (its events under that linkedid, by uniqueid) is a *segment*: created
  (CHAN_START), answered (ANSWER), in bridges (BRIDGE_ENTER..BRIDGE_EXIT, per bridge_id), on hold
  (HOLD..UNHOLD), hung up (HANGUP: hangupcause, dialstatus).
- Local channels (``Local/...;1`` and ``;2``) are routing: never a call, a leg or the origin.
- Direction as for the CDR (``[cdr.direction]``): the origin (the channel whose uniqueid is the
  linkedid) on a trunk means inbound; else a trunk channel in the call means outbound; else internal.
- Inbound: every phone channel the call dialled (created under another channel's linkedid) is an
  agent leg; answered when it was bridged with another channel; talk is its time in bridges with
  another channel minus its hold; a leg that stopped ringing the moment another answered is
  ``canceled``; hangupcause 17 is ``busy``.
- Outbound: each trunk channel dialled is a leg of the calling extension.
- Hold: every HOLD..UNHOLD span (an unmatched HOLD ends with its channel) belongs to the answered
  leg of the channel it is on, else to the leg in a bridge when the hold began. CEL records hold, so
  an answered leg without HOLD events has 0 s hold (not "not recorded").
- Transfers: BLINDTRANSFER and ATTENDEDTRANSFER mark the leg of the channel that made them as
  transferred; who received the call is the next agent who then talked to the caller
  (``cel_transfers``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from callkpi.config import Settings
from callkpi.ingest import derive, queue_log_model
from callkpi.ingest.cdr.calls import PBX_ANSWERED, SAME_MOMENT_S, AgentLeg, BuiltCall, Device, Rules
from callkpi.ingest.cdr.writer import write_calls
from callkpi.ingest.cel import reconcile
from callkpi.model.working_tables import CDR_AFFECTED
from callkpi.storage import Store, first_row

SOURCE = "asterisk_cel"
TRANSFER_EVENTS = frozenset({"BLINDTRANSFER", "ATTENDEDTRANSFER"})
BUSY_CAUSE = 17
_EVENT_COLUMNS = ("line_no, eventtype, event_utc, cid_name, cid_num, cid_dnid, exten, context, channame, appname, "
                  "appdata, uniqueid, linkedid, peer, extra")


@dataclass(frozen=True)
class Event:
    line: int
    eventtype: str
    at: datetime
    cid_name: str | None
    cid_num: str | None
    cid_dnid: str | None
    exten: str | None
    context: str | None
    channame: str | None
    appname: str | None
    appdata: str | None
    uniqueid: str
    linkedid: str
    peer: str | None
    extra: str | None

    def extra_field(self, name: str) -> Any:
        try:
            data = json.loads(self.extra) if self.extra else {}
        except ValueError:
            return None
        return data.get(name) if isinstance(data, dict) else None


Span = tuple[datetime, datetime]


@dataclass
class Segment:
    """One channel's part in one call."""

    uniqueid: str
    events: list[Event]
    device: Device | None
    originated: bool  # the channel started a call of its own (not dialled by another)
    bridges: dict[str, list[Span]] = field(default_factory=dict)
    holds: list[Span] = field(default_factory=list)
    talk: list[Span] = field(default_factory=list)

    @property
    def name(self) -> str | None:
        return next((e.channame for e in self.events if e.channame), None)

    @property
    def first(self) -> datetime:
        return self.events[0].at

    @property
    def end(self) -> datetime:
        hangups = [e.at for e in self.events if e.eventtype in ("HANGUP", "CHAN_END")]
        return min(hangups) if hangups else self.events[-1].at

    def event(self, kind: str) -> Event | None:
        return next((e for e in self.events if e.eventtype == kind), None)

    @property
    def is_local(self) -> bool:
        return self.device is not None and self.device.kind == "local"

    def hangup_cause(self) -> int | None:
        hangup = self.event("HANGUP")
        value = hangup.extra_field("hangupcause") if hangup else None
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None


def _spans(events: list[Event], opening: str, closing: str, end: datetime, key: str | None = None
           ) -> dict[str, list[Span]]:
    """Paired opening..closing events per key (bridge_id); an opening never closed ends at ``end``."""
    open_at: dict[str, datetime] = {}
    spans: dict[str, list[Span]] = {}
    for event in events:
        name = str(event.extra_field(key) or "") if key else ""
        if event.eventtype == opening and name not in open_at:
            open_at[name] = event.at
        elif event.eventtype == closing and name in open_at:
            spans.setdefault(name, []).append((open_at.pop(name), event.at))
    for name, started in open_at.items():
        spans.setdefault(name, []).append((started, max(started, end)))
    return spans


def _length(spans: Iterable[Span]) -> float:
    return sum((b - a).total_seconds() for a, b in spans)


def _overlap(a: Span, spans: Iterable[Span]) -> list[Span]:
    return [(max(a[0], s[0]), min(a[1], s[1])) for s in spans if min(a[1], s[1]) > max(a[0], s[0])]


def _merge(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, stop in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


@dataclass
class Transfer:
    at: datetime
    kind: str
    from_agent: str | None
    to_agent: str | None
    target: str | None


@dataclass
class CelCall:
    built: BuiltCall
    transfers: list[Transfer]


class CelCallBuilder:
    def __init__(self, settings: Settings, *, queue_log_loaded: bool = False) -> None:
        self.rules = Rules(settings.cdr.direction)
        self.aliases = settings.agents.aliases
        self.queue_log_loaded = queue_log_loaded

    def agent_id(self, device: Device | None) -> str | None:
        if device is None or not device.peer:
            return None
        for key in (device.name, device.peer):
            if key in self.aliases:
                return self.aliases[key]
        return device.peer

    # -- segments --------------------------------------------------------------------------
    def segments(self, events: list[Event], originated: set[str]) -> list[Segment]:
        by_channel: dict[str, list[Event]] = {}
        for event in events:
            by_channel.setdefault(event.uniqueid, []).append(event)
        segments = []
        for uniqueid, own in by_channel.items():
            name = next((e.channame for e in own if e.channame), None)
            segment = Segment(uniqueid, own, self.rules.device(name), uniqueid in originated)
            segment.bridges = _spans(own, "BRIDGE_ENTER", "BRIDGE_EXIT", segment.end, "bridge_id")
            segment.holds = [s for spans in _spans(own, "HOLD", "UNHOLD", segment.end).values() for s in spans]
            segments.append(segment)
        for segment in segments:  # talk: time in a bridge together with another channel
            together: list[Span] = []
            for bridge, spans in segment.bridges.items():
                others = [s for other in segments if other is not segment for s in other.bridges.get(bridge, [])]
                for span in spans:
                    together.extend(_overlap(span, others))
            segment.talk = _merge(together)
        return sorted(segments, key=lambda s: (s.first, s.events[0].line))

    def origin(self, call_id: str, segments: list[Segment]) -> Segment:
        real = [s for s in segments if not s.is_local]
        return next((s for s in real if s.uniqueid == call_id), None) or (real or segments)[0]

    def direction(self, origin: Segment, segments: list[Segment]) -> str:
        device = origin.device
        start = origin.event("CHAN_START") or origin.events[0]
        if device is not None and device.kind == "trunk":
            return "inbound"
        if (device is None or device.kind == "local") and self.rules.is_trunk_context(start.context):
            return "inbound"
        if any(s is not origin and s.device is not None and s.device.kind == "trunk" for s in segments):
            return "outbound"
        return "outbound" if self.rules.is_external(_dialled(origin)) else "internal"  # incl. a dial with no route

    # -- legs ------------------------------------------------------------------------------
    def _leg(self, segment: Segment, agent: str | None, queue: str | None) -> AgentLeg:
        answered = bool(segment.talk)
        start = segment.event("CHAN_START")
        offer = start.at if start else segment.first
        if answered:
            outcome = "answered"
        elif segment.hangup_cause() == BUSY_CAUSE:
            outcome = "busy"
        else:
            outcome = "no_answer"
        return AgentLeg(
            agent=agent, offer=offer, end=segment.end, outcome=outcome,
            answer=segment.talk[0][0] if answered else None,
            talk_s=_length(segment.talk) if answered else None,
            hold_s=0.0 if answered else None, queue=queue, from_queue_app=queue is not None,
        )

    def legs(self, direction: str, origin: Segment, segments: list[Segment], queue: str | None
             ) -> list[tuple[Segment, AgentLeg]]:
        if direction == "inbound":
            chosen = [s for s in segments if s is not origin and not s.originated and s.device is not None
                      and s.device.kind in ("extension", "trunk")]
            # a trunk channel the call dialled (a forward to a mobile) is a leg of the number dialled
            return [(s, self._leg(s, self.agent_id(s.device) if s.device and s.device.kind == "extension"
                                  else _dialled_via(s, segments), queue)) for s in chosen]
        if direction == "outbound":
            agent = self.agent_id(origin.device) if origin.device and origin.device.kind == "extension" else None
            chosen = [s for s in segments if s is not origin and s.device is not None and s.device.kind == "trunk"]
            if not chosen:  # the dial reached no trunk (no route, voicemail): a failed attempt
                attempt = AgentLeg(agent, origin.first, origin.end, _failed_dial(origin), None, None, None, None,
                                   callee=_dialled(origin))
                return [(origin, attempt)]
            pairs = []
            for s in chosen:
                leg = self._leg(s, agent, None)
                leg.callee = _dialled(origin)
                pairs.append((s, leg))
            return pairs
        return []

    def _attribute_hold(self, pairs: list[tuple[Segment, AgentLeg]], segments: list[Segment]) -> None:
        answered = [(s, leg) for s, leg in pairs if leg.outcome == "answered"]
        for segment in segments:
            if segment.is_local:
                continue
            for hold in segment.holds:
                own = next((leg for s, leg in answered if s is segment), None)
                leg = own or next((leg for s, leg in answered
                                   if any(a <= hold[0] < b for a, b in s.talk)), None)
                if leg is None or leg.answer is None or leg.end is None:
                    continue
                clipped = (max(hold[0], leg.answer), min(hold[1], leg.end))
                if clipped[1] > clipped[0]:
                    leg.hold_s = (leg.hold_s or 0.0) + _length([clipped])
        for _s, leg in answered:
            leg.talk_s = max((leg.talk_s or 0.0) - (leg.hold_s or 0.0), 0.0)

    @staticmethod
    def _mark_cancelled(pairs: list[tuple[Segment, AgentLeg]]) -> None:
        answers = [leg.answer for _s, leg in pairs if leg.answer]
        for _s, leg in pairs:
            if leg.outcome == "no_answer" and leg.end is not None and any(
                    abs((answer - leg.end).total_seconds()) <= SAME_MOMENT_S for answer in answers):
                leg.outcome = "canceled"

    def _transfers(self, segments: list[Segment], transfer_events: list[Event],
                   pairs: list[tuple[Segment, AgentLeg]]) -> list[Transfer]:
        by_uniqueid = {s.uniqueid: s for s in segments}
        by_name = {s.name: s for s in segments if s.name}
        found = []
        for event in transfer_events:
            segment = by_uniqueid.get(event.uniqueid)
            if segment is None:
                continue
            device = segment.device or self.rules.device(event.channame)
            from_agent = self.agent_id(device) if device and device.kind == "extension" else None
            second = by_name.get(str(event.extra_field("channel2_name") or ""))
            for s, leg in pairs:
                if s is segment or (second is not None and s is second):
                    leg.transferred = True
            kind = "blind" if event.eventtype == "BLINDTRANSFER" else "attended"
            if kind == "blind":
                exten, context = event.extra_field("extension"), event.extra_field("context")
                target = f"{exten}@{context}" if exten and context else exten
            else:
                target = event.extra_field("transfer_target_channel_name") or event.extra_field("channel2_name")
            later = sorted((leg for s, leg in pairs if leg.outcome == "answered" and leg.agent != from_agent
                            and leg.answer is not None and leg.end is not None
                            and leg.end > event.at and leg.answer >= (event.at - timedelta(seconds=600))),
                           key=lambda leg: abs((leg.answer - event.at).total_seconds()) if leg.answer else 0)
            found.append(Transfer(event.at, kind, from_agent, later[0].agent if later else None,
                                  str(target) if target else None))
        return found

    # -- the call --------------------------------------------------------------------------
    def build(self, call_id: str, events: list[Event], originated: set[str],
              transfer_events: list[Event]) -> CelCall | None:
        segments = self.segments(events, originated)
        if all(s.is_local for s in segments):
            return None  # only the halves of a Local channel: routing, not a call
        origin = self.origin(call_id, segments)
        direction = self.direction(origin, segments)
        queue = _queue_of(segments)
        pairs = self.legs(direction, origin, segments, queue)
        self._mark_cancelled(pairs)
        self._attribute_hold(pairs, segments)
        transfers = self._transfers(segments, transfer_events, pairs)
        legs = sorted((leg for _s, leg in pairs), key=lambda leg: leg.offer)
        row = self._call_row(call_id, direction, origin, segments, legs, queue)
        queue_legs = self._queue_legs(row, legs, segments) if direction == "inbound" else []
        row["queue_legs"], row["agent_legs"] = len(queue_legs), len(legs)
        return CelCall(BuiltCall(row, legs, queue_legs), transfers)

    def _call_row(self, call_id: str, direction: str, origin: Segment, segments: list[Segment],
                  legs: list[AgentLeg], queue: str | None) -> dict[str, Any]:
        real = [s for s in segments if not s.is_local]
        start = min(s.first for s in real)
        end = max(s.events[-1].at for s in real)
        answered_legs = sorted((leg for leg in legs if leg.outcome == "answered"), key=lambda leg: leg.answer)
        first = origin.event("CHAN_START") or origin.events[0]
        if direction == "internal":
            answered = bool(origin.talk) or any(s.talk for s in real if s is not origin)
            answer = min((s.talk[0][0] for s in real if s.talk), default=None)
            hold = _length(origin.holds) if answered else None
            talk = max(_length(origin.talk) - (hold or 0.0), 0.0) if origin.talk else None
            agent = self.agent_id(origin.device) if origin.device and origin.device.kind == "extension" else None
        else:
            answered = bool(answered_legs)
            answer = answered_legs[0].answer if answered_legs else None
            talk = sum(leg.talk_s or 0.0 for leg in answered_legs) if answered_legs else None
            hold = sum(leg.hold_s or 0.0 for leg in answered_legs) if answered_legs else None
            if direction == "inbound":
                agent = answered_legs[0].agent if answered_legs else None
            else:
                agent = legs[0].agent if legs else None
        number = _number(first.exten) or _number(first.cid_dnid)
        return {
            "call_id": call_id,
            "source": SOURCE,
            "direction": direction,
            "start_utc": start,
            "answer_utc": answer,
            "end_utc": end,
            "caller": _number(first.cid_num),
            "callee": _dialled(origin) if direction == "outbound" else number,
            "did": number if direction == "inbound" else None,
            "trunk": self._trunk(direction, origin, segments),
            "agent": agent,
            "queue": queue,
            "campaign": None,
            "answered": answered,
            "outcome": "answered" if answered else self._unanswered(origin, legs, queue),
            "wait_s": (answer - start).total_seconds() if answer else None,
            "talk_s": talk,
            "hold_s": hold,
            "recording": None,
        }

    @staticmethod
    def _trunk(direction: str, origin: Segment, segments: list[Segment]) -> str | None:
        if direction == "inbound" and origin.device and origin.device.kind == "trunk":
            return origin.device.trunk_name
        if direction == "outbound":
            return next((s.device.trunk_name for s in segments if s is not origin and s.device
                         and s.device.kind == "trunk"), None)
        return None

    @staticmethod
    def _unanswered(origin: Segment, legs: list[AgentLeg], queue: str | None) -> str:
        if origin.event("ANSWER") is not None and queue is None:
            return PBX_ANSWERED  # an application (IVR, voicemail) answered; no person talked
        outcomes = {leg.outcome for leg in legs}
        for outcome in ("no_answer", "canceled", "busy", "failed"):
            if outcome in outcomes:
                return "no_answer" if outcome == "canceled" else outcome
        return "no_answer"

    def _queue_legs(self, call: dict[str, Any], legs: list[AgentLeg], segments: list[Segment]
                    ) -> list[dict[str, Any]]:
        if not legs or (self.queue_log_loaded and call["queue"] is None):
            return []
        answered = sorted((leg for leg in legs if leg.outcome == "answered"), key=lambda leg: leg.answer)
        voicemail = any((e.appname or "").lower() == "voicemail" for s in segments for e in s.events)
        if answered:
            outcome, exit_point = "answered", answered[0].answer
        else:
            outcome, exit_point = ("flowed_out" if voicemail else "abandoned"), call["end_utc"]
        wait = (exit_point - call["start_utc"]).total_seconds() if exit_point else None
        return [{
            "call_id": call["call_id"],
            "leg_no": 1,
            "source": SOURCE,
            "queue": call["queue"],
            "enter_utc": call["start_utc"],
            "end_utc": max((leg.end for leg in answered if leg.end), default=None) or exit_point,
            "outcome": outcome,
            "exit_event": "VOICEMAIL" if voicemail and not answered else "CEL",
            "wait_s": max(wait, 0.0) if wait is not None else None,
            "agent": answered[0].agent if answered else None,
            "talk_s": sum(leg.talk_s or 0.0 for leg in answered) if answered else None,
            "transferred": any(leg.transferred for leg in answered),
        }]


def _number(value: str | None) -> str | None:
    text = (value or "").strip()
    return text if text and text not in ("s", "h", "i", "t") else None


def _dialled(origin: Segment) -> str | None:
    start = origin.event("CHAN_START") or origin.events[0]
    return _number(start.exten) or _number(start.cid_dnid)


def _failed_dial(origin: Segment) -> str:
    hangup = origin.event("HANGUP")
    status = str(hangup.extra_field("dialstatus") or "").upper() if hangup else ""
    if origin.event("ANSWER") is None and status in ("NOANSWER", "CANCEL"):
        return "no_answer"
    return "busy" if status == "BUSY" else "failed"


def _dialled_via(trunk: Segment, segments: list[Segment]) -> str | None:
    """The number a trunk channel was dialled for: the Dial() target naming its trunk
    (``PJSIP/321@TRUNK200``, ``SIP/TRUNK200/321``), else the extension it answered on."""
    peer = trunk.device.peer if trunk.device else ""
    for segment in segments:
        for event in segment.events:
            if (event.appname or "").lower() != "dial" or not event.appdata:
                continue
            for target in event.appdata.split(",")[0].split("&"):
                tech_rest = target.split("/", 1)[1] if "/" in target else ""
                if "@" in tech_rest and tech_rest.split("@", 1)[1].split("/")[0] == peer:
                    return _user_part(tech_rest.split("@", 1)[0])
                if tech_rest.startswith(peer + "/"):
                    return _user_part(tech_rest.split("/", 2)[1])
    answer = trunk.event("ANSWER")
    return _number(answer.exten) if answer else None


def _user_part(target: str) -> str | None:
    """``sip:6871322562@192.168.1.9:5060`` (a contact URI dialled) is 6871322562."""
    return re.sub(r"^(sip:|sips:|tel:)", "", target, flags=re.IGNORECASE).split("@")[0].split(";")[0] or None


def _queue_of(segments: list[Segment]) -> str | None:
    for segment in segments:
        for event in segment.events:
            if event.eventtype == "APP_START" and (event.appname or "").lower() == "queue" and event.appdata:
                return event.appdata.split(",")[0].split("|")[0].strip() or None
    return None


# -- rebuilding the affected calls ---------------------------------------------------------------

def _events(store: Store) -> tuple[dict[str, list[Event]], set[str], dict[str, list[Event]]]:
    """Events of the calls in ``cdr_affected`` (each repeated event once), the uniqueids that
    started a call of their own, and the transfer events by uniqueid."""
    rows = store.connection.execute(
        f"""
        SELECT {_EVENT_COLUMNS} FROM cel_events
        WHERE linkedid IN (SELECT call_key FROM cdr_affected)
           OR uniqueid IN (SELECT uniqueid FROM cel_events WHERE linkedid IN (SELECT call_key FROM cdr_affected))
        QUALIFY row_number() OVER (PARTITION BY dedupe_key ORDER BY source_id, line_no) = 1
        ORDER BY linkedid, event_utc, source_id, line_no
        """,  # noqa: S608 - fixed column list
    ).fetchall()
    wanted = {r[0] for r in store.connection.execute("SELECT call_key FROM cdr_affected").fetchall()}
    by_call: dict[str, list[Event]] = {}
    originated: set[str] = set()
    transfers: dict[str, list[Event]] = {}
    for row in rows:
        event = Event(*row)
        if event.eventtype == "CHAN_START" and event.uniqueid == event.linkedid:
            originated.add(event.uniqueid)
        if event.eventtype in TRANSFER_EVENTS:
            transfers.setdefault(event.uniqueid, []).append(event)
        if event.linkedid in wanted:
            by_call.setdefault(event.linkedid, []).append(event)
    return by_call, originated, transfers


def _queue_log_loaded(store: Store) -> bool:
    row = first_row(store.connection.execute(
        "SELECT count(*) FROM (SELECT 1 FROM calls WHERE source = 'queue_log' LIMIT 1)"))
    return bool(row and row[0])


def rebuild(store: Store, settings: Settings) -> None:
    """Rebuild the CEL calls listed in ``cdr_affected``; the CDR calls they also are give way."""
    by_call, originated, transfer_events = _events(store)
    builder = CelCallBuilder(settings, queue_log_loaded=_queue_log_loaded(store))
    built: list[CelCall] = []
    for call_id, events in by_call.items():
        uniqueids = {e.uniqueid for e in events}
        own_transfers = sorted((e for u in uniqueids for e in transfer_events.get(u, [])), key=lambda e: e.at)
        call = builder.build(call_id, events, originated, own_transfers)
        if call is not None:
            built.append(call)
    write_calls(store, settings, SOURCE, [c.built for c in built])
    reconcile.replace_cdr_calls(store, [c.built for c in built])
    reconcile.fill_queue_log_hold(store, [c.built for c in built])
    _write_transfers(store, built)
    queue_log_model.rebuild_agent_time(store, SOURCE)
    derive.refresh_agents(store)
    derive.refresh_call_links(store)


def _write_transfers(store: Store, built: list[CelCall]) -> None:
    con = store.connection
    con.execute("DELETE FROM cel_transfers WHERE call_id IN (SELECT call_key FROM cdr_affected)")
    rows = [(c.built.row["call_id"], SOURCE, t.at, t.kind, t.from_agent, t.to_agent, t.target)
            for c in built for t in c.transfers]
    if rows:
        con.register("cel_transfer_rows", pa.table({
            name: pa.array([r[i] for r in rows], pa.timestamp("us") if name == "time_utc" else pa.string())
            for i, name in enumerate(("call_id", "source", "time_utc", "kind", "from_agent", "to_agent", "target"))}))
        try:
            con.execute("INSERT INTO cel_transfers SELECT * FROM cel_transfer_rows")
        finally:
            con.unregister("cel_transfer_rows")


def reconcile_with_queue_log(store: Store, settings: Settings) -> None:
    """After a queue_log load (inside its transaction): the CEL calls that are also queue_log calls
    are merged into those (only the calls it rebuilt, ``ql_new_callids``, when that table exists)."""
    con = store.connection
    if not first_row(con.execute("SELECT count(*) FROM (SELECT 1 FROM cel_events LIMIT 1)"))[0]:
        return
    scoped = first_row(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'ql_new_callids'"))[0]
    store.create_working_table(CDR_AFFECTED, empty=True)
    if scoped:
        con.execute("INSERT INTO cdr_affected SELECT DISTINCT linkedid FROM cel_events "
                    "WHERE linkedid IN (SELECT callid FROM ql_new_callids)")
    else:
        con.execute("INSERT INTO cdr_affected SELECT DISTINCT linkedid FROM cel_events "
                    "WHERE linkedid IN (SELECT call_id FROM calls WHERE source = 'queue_log')")
    # CEL calls loaded before the queue_log got a blank-queue leg: with the queue_log, it goes.
    con.execute("INSERT INTO cdr_affected SELECT DISTINCT call_id FROM queue_legs WHERE source = ? "
                "AND queue IS NULL AND call_id NOT IN (SELECT call_key FROM cdr_affected)", [SOURCE])
    if first_row(con.execute("SELECT count(*) FROM cdr_affected"))[0]:
        rebuild(store, settings)
