"""Turn a simulated day into queue_log lines, Master.csv rows and ground-truth rows.

Lines carry a 64-bit sort key: seconds since the period start, then a rank (system, member
added, unpause, call events, pause, member removed), then the call number (or agent), then the
event's place within the call, so the file reads the way Asterisk would have written it even
when several things happen in one second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from callkpi.simulate.clock import LocalClock
from callkpi.simulate.customers import caller_id_text
from callkpi.simulate.model import (
    DISPOSITION_VOICEMAIL,
    TRANSFER_ATTENDED,
    TRANSFER_BLIND,
    TRANSFER_NONE,
    AgentTime,
    Calls,
    Day,
    Directory,
)
from callkpi.simulate.queues import ABANDONED, ANSWERED, RING_ANSWERED, RING_MISSED
from callkpi.simulate.scenario import Scenario
from callkpi.simulate.staff import ACW
from callkpi.simulate.text import LineBatch, hex8, ints, join, lookup, pick
from callkpi.simulate.writers import OutputSet

RANK_SYSTEM, RANK_ADDMEMBER, RANK_UNPAUSE, RANK_CALL, RANK_PAUSE, RANK_REMOVEMEMBER = range(6)
PHASE_ENTER, PHASE_RING, PHASE_CONNECT, PHASE_EXIT, PHASE_END = range(5)
_EPOCH_SHIFT, _RANK_SHIFT, _SEQ_SHIFT = 37, 34, 5
_SEQ_MASK = (1 << 29) - 1
_CDR_SEQ_MASK = (1 << _EPOCH_SHIFT) - 1
_RENDER_ROWS = 200_000
LEG_OUTCOMES = ("answered", "abandoned", "flowed_out")
CALL_DISPOSITIONS = ("answered", "abandoned", "voicemail")
DIAL_DISPOSITIONS_TRUTH = ("answered", "no_answer", "busy")
CDR_DISPOSITIONS = ("ANSWERED", "NO ANSWER", "BUSY")


def line_key(epoch: np.ndarray, rank: int, seq: np.ndarray, phase: np.ndarray | int, base: int) -> np.ndarray:
    return (((np.asarray(epoch, dtype=np.int64) - base) << _EPOCH_SHIFT) | (rank << _RANK_SHIFT)
            | ((np.asarray(seq, dtype=np.int64) & _SEQ_MASK) << _SEQ_SHIFT) | np.asarray(phase, dtype=np.int64))


def line_key_floor(epoch: int, base: int) -> int:
    """The smallest key of a line at `epoch`."""
    return (epoch - base) << _EPOCH_SHIFT


def call_ids(arrival: np.ndarray, uid: np.ndarray) -> pa.StringArray:
    """Asterisk uniqueid of the caller's channel: ``<creation epoch>.<channel counter>``."""
    return join(ints(arrival), ".", ints(uid))


def _take(values: pa.Array, index: np.ndarray) -> pa.Array:
    return values.take(pa.array(np.asarray(index, dtype=np.int64)))


def _queue_log(epoch: np.ndarray, callid: pa.Array | str, queue: pa.Array | str, agent: pa.Array | str,
               event: pa.Array | str, *data: pa.Array | str) -> pa.StringArray:
    return join(join(ints(epoch), callid, queue, agent, event, *data, sep="|"), "\n")


class RecordWriter:
    def __init__(self, scenario: Scenario, directory: Directory, clock: LocalClock, out: OutputSet) -> None:
        self.scenario = scenario
        self.names = directory
        self.clock = clock
        self.out = out
        self.base = scenario.start_epoch
        self._cdr_sequence = 0
        self._queue_names = pa.array(directory.queue_names)
        self._interfaces = pa.array(directory.interfaces)
        self._extensions = pa.array(directory.extensions)

    # ---- entry points ----------------------------------------------------------------------
    def write_queue_start(self) -> None:
        epoch = np.array([self.base])
        self.out.queue_log.add(line_key(epoch, RANK_SYSTEM, np.zeros(1), 0, self.base),
                               _queue_log(epoch, "NONE", "NONE", "NONE", "QUEUESTART", ""))

    def write_day(self, day: Day) -> None:
        ids = call_ids(day.calls.arrival, day.calls.uid)
        cid = caller_id_text(day.calls.number, day.calls.shape)
        batch = LineBatch()
        self._call_events(day, ids, cid, batch)
        self._acw_pauses(day.calls, batch)
        self.out.queue_log.add(*batch.sorted())
        self._cdr(day, ids, cid)
        self._truth_legs(day, ids)
        self._truth_calls(day, ids)
        self._truth_rings(day, ids)
        self.write_agent_time(day.agent_time)

    def write_agent_time(self, states: AgentTime) -> None:
        batch = LineBatch()
        self._member_lines(batch, states.login_agent, states.login_epoch, RANK_ADDMEMBER, "ADDMEMBER", "")
        self._member_lines(batch, states.session_agent, states.session_end, RANK_REMOVEMEMBER, "REMOVEMEMBER", "")
        reasons = pa.array(states.pause_reason, pa.string())
        self._member_lines(batch, states.pause_agent, states.pause_start, RANK_PAUSE, "PAUSE", reasons)
        self._member_lines(batch, states.pause_agent, states.pause_end, RANK_UNPAUSE, "UNPAUSE", reasons)
        self.out.queue_log.add(*batch.sorted())
        extensions = self._extensions
        sessions = len(states.session_agent)
        self.out.csv["truth_agent_states.csv.gz"].write_columns([
            _take(extensions, states.session_agent), _repeat("logged_in", sessions), _repeat("", sessions),
            ints(states.session_start), ints(states.session_end)])
        self.out.csv["truth_agent_states.csv.gz"].write_columns([
            _take(extensions, states.pause_agent), _repeat("paused", len(states.pause_agent)), reasons,
            ints(states.pause_start), ints(states.pause_end)])

    # ---- queue_log ---------------------------------------------------------------------------
    def _member_lines(self, batch: LineBatch, agents: np.ndarray, epochs: np.ndarray, rank: int, event: str,
                      data: pa.Array | str) -> None:
        rows, queues = self.names.expand_to_queues(agents)
        if not len(rows):
            return
        detail = _take(data, rows) if isinstance(data, pa.Array) else data
        batch.add(line_key(epochs[rows], rank, agents[rows], queues, self.base),
                  _queue_log(epochs[rows], "NONE", _take(self._queue_names, queues),
                             _take(self._interfaces, agents[rows]), event, detail))

    def _call_events(self, day: Day, ids: pa.Array, cid: pa.Array, batch: LineBatch) -> None:
        calls, legs = day.calls, day.legs
        queue_names = self._queue_names
        seq = calls.seq[legs.call]
        phase = legs.no * 8
        batch.add(line_key(legs.enter, RANK_CALL, seq, phase + PHASE_ENTER, self.base),
                  _queue_log(legs.enter, _take(ids, legs.call), _take(queue_names, legs.queue), "NONE", "ENTERQUEUE",
                             "", _take(cid, legs.call), ints(legs.position_in)))
        self._ring_events(day, ids, batch)
        self._connects(day, ids, batch)
        self._call_ends(day, ids, batch)
        unanswered = np.flatnonzero(legs.outcome != ANSWERED)
        event = pick(legs.outcome[unanswered] == ABANDONED, "ABANDON", "EXITWITHTIMEOUT")
        leave = legs.leave[unanswered]
        batch.add(line_key(leave, RANK_CALL, seq[unanswered], phase[unanswered] + PHASE_EXIT, self.base),
                  _queue_log(leave, _take(ids, legs.call[unanswered]), _take(queue_names, legs.queue[unanswered]),
                             "NONE", event, ints(legs.position_out[unanswered]), ints(legs.position_in[unanswered]),
                             ints(leave - legs.enter[unanswered])))

    def _ring_events(self, day: Day, ids: pa.Array, batch: LineBatch) -> None:
        rings, legs = day.rings, day.legs
        chosen = np.flatnonzero(rings.kind != RING_ANSWERED)
        leg = rings.leg[chosen]
        epoch = rings.start[chosen] + rings.ms[chosen] // 1000
        event = pick(rings.kind[chosen] == RING_MISSED, "RINGNOANSWER", "RINGCANCELED")
        batch.add(line_key(epoch, RANK_CALL, day.calls.seq[rings.call[chosen]], legs.no[leg] * 8 + PHASE_RING,
                           self.base),
                  _queue_log(epoch, _take(ids, rings.call[chosen]), _take(self._queue_names, legs.queue[leg]),
                             _take(self._interfaces, rings.agent[chosen]), event, ints(rings.ms[chosen])))

    def _connects(self, day: Day, ids: pa.Array, batch: LineBatch) -> None:
        rings, legs = day.rings, day.legs
        answered = np.flatnonzero(rings.kind == RING_ANSWERED)
        leg = rings.leg[answered]
        connect = legs.leave[leg]
        member_uid = join(ints(rings.start[answered]), ".", ints(rings.uid[answered]))
        batch.add(line_key(connect, RANK_CALL, day.calls.seq[legs.call[leg]], legs.no[leg] * 8 + PHASE_CONNECT,
                           self.base),
                  _queue_log(connect, _take(ids, legs.call[leg]), _take(self._queue_names, legs.queue[leg]),
                             _take(self._interfaces, legs.agent[leg]), "CONNECT", ints(connect - legs.enter[leg]),
                             member_uid, ints(legs.ring_s[leg])))

    def _call_ends(self, day: Day, ids: pa.Array, batch: LineBatch) -> None:
        calls, legs = day.calls, day.legs
        call = np.flatnonzero(calls.answered)
        leg = calls.answer_leg[call]
        transfer = calls.transfer[call]
        targets = lookup(self.names.transfer_targets, calls.transfer_target[call])
        complete = pick(calls.by_caller[call], "COMPLETECALLER", "COMPLETEAGENT")
        blind = join("BLINDTRANSFER", targets, "from-internal", sep="|")
        attended = join("ATTENDEDTRANSFER|BRIDGE", _bridge_ids(calls.seq[call]), sep="|")
        event = pick(transfer == TRANSFER_BLIND, blind, pick(transfer == TRANSFER_ATTENDED, attended, complete))
        epoch = calls.queue_end[call]
        batch.add(line_key(epoch, RANK_CALL, calls.seq[call], legs.no[leg] * 8 + PHASE_END, self.base),
                  _queue_log(epoch, _take(ids, call), _take(self._queue_names, legs.queue[leg]),
                             _take(self._interfaces, calls.agent[call]), event,
                             ints(legs.leave[leg] - legs.enter[leg]), ints(calls.talk[call]),
                             ints(legs.position_in[leg])))

    def _acw_pauses(self, calls: Calls, batch: LineBatch) -> None:
        chosen = np.flatnonzero(calls.answered & (calls.acw > 0))
        agents = calls.agent[chosen]
        start = calls.queue_end[chosen]
        end = start + calls.acw[chosen]
        self._member_lines(batch, agents, start, RANK_PAUSE, "PAUSE", ACW)
        self._member_lines(batch, agents, end, RANK_UNPAUSE, "UNPAUSE", ACW)
        self.out.csv["truth_agent_states.csv.gz"].write_columns([
            _take(self._extensions, agents), _repeat("paused", len(agents)), _repeat(ACW, len(agents)), ints(start),
            ints(end)])

    # ---- Master.csv --------------------------------------------------------------------------
    def _cdr(self, day: Day, ids: pa.Array, cid: pa.Array) -> None:
        rows = _CdrRows()
        caller = _Caller(ids, cid, _clid(cid, cid), _trunk_channels(self.names.trunk, day.calls.channel_suffix))
        self._cdr_member_rings(day, caller, rows)
        self._cdr_unanswered(day, caller, rows)
        self._cdr_transfers(day, caller, rows)
        self._cdr_dials(day, rows)
        if not rows.count:
            return
        keys, lines = rows.render(self.clock, self._cdr_sequence, self.base)
        self._cdr_sequence += len(keys)
        self.out.cdr.add(keys, lines)

    def _cdr_member_rings(self, day: Day, caller: _Caller, rows: _CdrRows) -> None:
        """The caller's row per member rung, and the member side of the answered ring."""
        calls, legs, rings = day.calls, day.legs, day.rings
        call = rings.call
        queue = legs.queue[rings.leg]
        first = np.zeros(len(call), dtype=bool)
        first[np.unique(call, return_index=True)[1]] = True
        answered = rings.kind == RING_ANSWERED
        ring_end = rings.start + rings.ms // 1000
        ext = _take(self._extensions, rings.agent)
        local = join("Local/", ext, "@from-queue-", hex8(rings.local_suffix))
        ids, cid, clid = _take(caller.ids, call), _take(caller.cid, call), _take(caller.clid, call)
        queue_ext = lookup(self.names.queue_extensions, queue)
        rows.add(
            src=cid, dst=queue_ext, dcontext="ext-queues", clid=clid, channel=_take(caller.channel, call),
            dstchannel=join(local, ";1"), lastapp="Queue", lastdata=lookup(self.names.queue_lastdata, queue),
            start=np.where(first, calls.arrival[call], rings.start), answer=np.where(answered, ring_end, -1),
            end=np.where(answered, calls.queue_end[call], ring_end),
            disposition=pick(answered, "ANSWERED", "NO ANSWER"), uniqueid=ids, linkedid=ids,
            dispatch=calls.end[call], seq=calls.seq[call],
        )
        chosen = np.flatnonzero(answered)
        call_a = call[chosen]
        ext_a = _take(ext, chosen)
        rows.add(
            src=_take(cid, chosen), dst=ext_a, dcontext="from-queue", clid=_take(clid, chosen),
            channel=join(_take(local, chosen), ";2"),
            dstchannel=join("PJSIP/", ext_a, "-", hex8(rings.channel_suffix[chosen])), lastapp="Dial",
            lastdata=join("PJSIP/", ext_a, ",,Ttr"), start=rings.start[chosen], answer=ring_end[chosen],
            end=calls.queue_end[call_a], disposition="ANSWERED",
            uniqueid=join(ints(rings.start[chosen]), ".", ints(rings.uid[chosen] + 1)), linkedid=_take(ids, chosen),
            dispatch=calls.end[call_a], seq=calls.seq[call_a],
        )

    def _cdr_unanswered(self, day: Day, caller: _Caller, rows: _CdrRows) -> None:
        """No agent answered: the caller's own row, answered by the IVR, ending in the queue or
        in voicemail."""
        calls, legs, rings = day.calls, day.legs, day.rings
        last_ring_end = np.full(len(calls), -1, dtype=np.int64)
        np.maximum.at(last_ring_end, rings.call, rings.start + rings.ms // 1000)
        call = np.flatnonzero(~calls.answered)
        queue = legs.queue[calls.last_leg[call]]
        rang = last_ring_end[call] >= 0
        start = np.where(rang, last_ring_end[call], calls.arrival[call])
        end = calls.end[call]
        voicemail = calls.disposition[call] == DISPOSITION_VOICEMAIL
        queue_ext = lookup(self.names.queue_extensions, queue)
        ids = _take(caller.ids, call)
        rows.add(
            src=_take(caller.cid, call), dst=queue_ext, dcontext="ext-queues", clid=_take(caller.clid, call),
            channel=_take(caller.channel, call), dstchannel="",
            lastapp=pick(voicemail, "VoiceMail", "Queue"),
            lastdata=pick(voicemail, join(queue_ext, "@default,u"), lookup(self.names.queue_lastdata, queue)),
            start=start, answer=np.where(rang, start, np.minimum(calls.arrival[call] + 1, end)), end=end,
            disposition="ANSWERED", uniqueid=ids, linkedid=ids, dispatch=end, seq=calls.seq[call],
        )

    def _cdr_transfers(self, day: Day, caller: _Caller, rows: _CdrRows) -> None:
        calls = day.calls
        call = np.flatnonzero(calls.transfer != TRANSFER_NONE)
        target = lookup(self.names.transfer_targets, calls.transfer_target[call])
        ids = _take(caller.ids, call)
        rows.add(
            src=_take(caller.cid, call), dst=target, dcontext="from-internal-xfer", clid=_take(caller.clid, call),
            channel=_take(caller.channel, call),
            dstchannel=join("PJSIP/", target, "-", hex8(calls.transfer_channel_suffix[call])), lastapp="Dial",
            lastdata=join("PJSIP/", target, ",,Tt"), start=calls.queue_end[call],
            answer=calls.transfer_answer[call], end=calls.end[call], disposition="ANSWERED",
            uniqueid=ids, linkedid=ids, dispatch=calls.end[call], seq=calls.seq[call],
        )

    def _cdr_dials(self, day: Day, rows: _CdrRows) -> None:
        dials = day.dials
        ext = _take(self._extensions, dials.agent)
        dialled = caller_id_text(dials.number, dials.dialled_shape)
        uid = join(ints(dials.start), ".", ints(dials.uid))
        trunk = self.names.trunk
        rows.add(
            src=ext, dst=dialled, dcontext="from-internal",
            clid=_clid(lookup(self.names.latin_names, dials.agent), ext),
            channel=join("PJSIP/", ext, "-", hex8(dials.channel_suffix)),
            dstchannel=join(f"PJSIP/{trunk}-", hex8(dials.channel_suffix + 1)), lastapp="Dial",
            lastdata=join("PJSIP/", dialled, f"@{trunk},60,T"), start=dials.start, answer=dials.answer,
            end=dials.end, disposition=lookup(CDR_DISPOSITIONS, dials.outcome), uniqueid=uid, linkedid=uid,
            dispatch=dials.end, seq=np.full(len(dials), _SEQ_MASK),
        )

    # ---- ground truth ------------------------------------------------------------------------
    def _truth_legs(self, day: Day, ids: pa.Array) -> None:
        calls, legs = day.calls, day.legs
        answered = legs.outcome == ANSWERED
        transferred = answered & (calls.transfer[legs.call] != TRANSFER_NONE)
        self.out.csv["truth_queue_legs.csv.gz"].write_columns([
            _take(ids, legs.call), ints(legs.no), _take(self._queue_names, legs.queue), ints(legs.enter),
            lookup(LEG_OUTCOMES, legs.outcome), ints(legs.leave - legs.enter),
            pick(answered, _take(self._extensions, np.maximum(legs.agent, 0)), ""), ints(legs.missed_rings),
            pick(answered, ints(legs.talk), ""), ints(transferred.astype(np.int64)), ints(calls.number[legs.call]),
        ])

    def _truth_calls(self, day: Day, ids: pa.Array) -> None:
        calls, dials = day.calls, day.dials
        answered = calls.answered
        names = self.names
        n = len(calls)
        self.out.csv["truth_calls.csv.gz"].write_columns([
            ids, _repeat("inbound", n), ints(calls.arrival), pick(answered, ints(calls.connect), ""), ints(calls.end),
            ints(calls.number), lookup(names.queue_dids, calls.first_queue),
            pick(answered, _take(self._extensions, np.maximum(calls.agent, 0)), ""),
            lookup(names.queue_names, calls.first_queue), _repeat("", n), ints(answered.astype(np.int64)),
            pick(answered, ints(calls.talk), ""), lookup(CALL_DISPOSITIONS, calls.disposition), _repeat("", n),
        ])
        answered = dials.answer >= 0
        is_callback = dials.callback_of >= 0
        callbacks = np.flatnonzero(is_callback)
        labels = ["", *(day.callback_ids[seq] for seq in dials.callback_of[callbacks].tolist())]
        label_index = np.zeros(len(dials), dtype=np.int64)
        label_index[callbacks] = 1 + np.arange(len(callbacks))
        callback_of = lookup(labels, label_index)
        ext = _take(self._extensions, dials.agent)
        self.out.csv["truth_calls.csv.gz"].write_columns([
            join(ints(dials.start), ".", ints(dials.uid)), _repeat("outbound", len(dials)), ints(dials.start),
            pick(answered, ints(dials.answer), ""), ints(dials.end), ext, ints(dials.number), ext,
            _repeat("", len(dials)), pick(is_callback, "", names.campaign), ints(answered.astype(np.int64)),
            pick(answered, ints(dials.end - dials.answer), ""), lookup(DIAL_DISPOSITIONS_TRUTH, dials.outcome),
            callback_of,
        ])

    def _truth_rings(self, day: Day, ids: pa.Array) -> None:
        rings = day.rings
        self.out.csv["truth_ring_attempts.csv.gz"].write_columns([
            _take(ids, rings.call), _take(self._extensions, rings.agent), ints(rings.start), ints(rings.ms),
            ints((rings.kind == RING_ANSWERED).astype(np.int64)),
        ])


def _slices(count: int, size: int) -> list[slice]:
    return [slice(first, min(first + size, count)) for first in range(0, count, size)]


@dataclass(frozen=True)
class _Caller:
    """Per-call text every inbound CDR row of the call repeats."""

    ids: pa.StringArray
    cid: pa.StringArray
    clid: pa.StringArray
    channel: pa.StringArray


def _repeat(value: str, count: int) -> pa.StringArray:
    return pa.array([value], pa.string()).take(pa.array(np.zeros(count, dtype=np.int64)))


def _trunk_channels(trunk: str, suffix: np.ndarray) -> pa.StringArray:
    return join(f"PJSIP/{trunk}-", hex8(suffix))


def _clid(name: pa.Array, number: pa.Array) -> pa.StringArray:
    """``"name" <number>`` with the quotes already doubled for cdr-csv."""
    return join('""', name, '"" <', number, ">")


def _bridge_ids(seq: np.ndarray) -> pa.StringArray:
    """A bridge uniqueid (UUID-shaped), stable for a given call."""
    mixed = [(seq * multiplier + offset) & 0xFFFFFFFF for multiplier, offset in
             ((2654435761, 17), (2246822519, 3), (3266489917, 11), (668265263, 5))]
    a, b, c, d = (hex8(m) for m in mixed)

    def part(text: pa.StringArray, start: int, stop: int) -> pa.StringArray:
        return pc.utf8_slice_codeunits(text, start, stop)

    return join(a, part(b, 0, 4), part(b, 4, 8), part(c, 0, 4), join(part(c, 4, 8), d), sep="-")


class _CdrRows:
    """Columns of Master.csv rows from several row families, rendered at once."""

    _TEXT = ("src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata", "disposition",
             "uniqueid", "linkedid")
    _EPOCHS = ("start", "answer", "end", "dispatch", "seq")

    def __init__(self) -> None:
        self.columns: dict[str, list[pa.Array | str]] = {name: [] for name in self._TEXT}  # str: same in all rows
        self.epochs: dict[str, list[np.ndarray]] = {name: [] for name in self._EPOCHS}
        self.count = 0

    def add(self, **values: object) -> None:
        count = len(values["start"])  # type: ignore[arg-type]
        if not count:
            return
        for name in self._TEXT:
            value = values[name]
            self.columns[name].append(value if isinstance(value, pa.Array) else str(value))
        for name in self._EPOCHS:
            self.epochs[name].append(np.asarray(values[name], dtype=np.int64))
        self.count += count

    def render(self, clock: LocalClock, sequence_base: int, base: int) -> tuple[np.ndarray, pa.StringArray]:
        epoch = {name: np.concatenate(parts) for name, parts in self.epochs.items()}
        start = epoch["start"]
        # sequence: order of creation (start), calls kept together
        creation = np.lexsort((np.arange(len(start)), epoch["seq"], start))
        sequence = np.empty(len(start), dtype=np.int64)
        sequence[creation] = sequence_base + np.arange(len(start))
        bounds = np.cumsum([0, *(len(part) for part in self.epochs["start"])])
        lines = pa.concat_arrays([  # a slice of one family at a time keeps the intermediate text small
            self._render_rows(family, rows, clock, sequence[bounds[family]:bounds[family + 1]][rows])
            for family in range(len(bounds) - 1)
            for rows in _slices(bounds[family + 1] - bounds[family], _RENDER_ROWS)
        ])
        keys = ((epoch["dispatch"] - base) << _EPOCH_SHIFT) | (sequence & _CDR_SEQ_MASK)
        return keys, lines

    def _render_rows(self, family: int, rows: slice, clock: LocalClock, sequence: np.ndarray) -> pa.StringArray:
        count = rows.stop - rows.start
        text = {name: part.slice(rows.start, count) if isinstance(part := parts[family], pa.Array) else part
                for name, parts in self.columns.items()}
        start, answer, end = (self.epochs[name][family][rows] for name in ("start", "answer", "end"))
        answered = answer >= 0
        answer_text = pick(~answered, "", join('"', clock.cdr_text(np.where(answered, answer, start)), '"'))
        head = join(text["src"], text["dst"], text["dcontext"], text["clid"], text["channel"], text["dstchannel"],
                    text["lastapp"], text["lastdata"], clock.cdr_text(start), sep='","')
        tail = join(text["disposition"], "DOCUMENTATION", text["uniqueid"], "", "", text["linkedid"], sep='","')
        return join('"",', '"', head, '",', answer_text, ',"', clock.cdr_text(end), '",', ints(end - start), ",",
                    ints(np.where(answered, end - answer, 0)), ',"', tail, '",', ints(sequence), "\n")
