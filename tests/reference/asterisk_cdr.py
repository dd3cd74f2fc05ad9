"""Asterisk CDR files -> calls, by the CDR specification only (no callkpi code).

Rows are plain dicts with the CDR-Spec column names (``start`` for ``calldate``); times are
naive local datetimes as the file writes them (only differences are used here).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

from .channels import EXTENSION, Channel, is_phone, is_trunk, parse_channel

Row = dict[str, str]

CDR_CSV_21 = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
              "start", "answer", "end", "duration", "billsec", "disposition", "amaflags", "uniqueid", "userfield",
              "peeraccount", "linkedid", "sequence")
# FreePBX 13 headerless dump (docs/formats.md "25 columns"): the first 16 are cdr_mysql's order.
FREEPBX_25 = ("start", "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata",
              "duration", "billsec", "disposition", "amaflags", "accountcode", "uniqueid", "userfield")
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%d/%m/%y %H:%M", "%Y/%m/%d %H:%M")
CALLBACK_WINDOW = timedelta(hours=24)  # docs/metrics.md: callback_window_h = 24


def read_rows(path: Path, columns: Sequence[str] | None = None) -> list[Row]:
    """Rows of a CSV CDR file, named by its header (lower case) or by ``columns``.

    CR-only line ends (old-Mac exports, freepbx-pt ``cdr_new.csv``) and a BOM are accepted;
    ``NULL`` / ``\\N`` are empty (PBXware and phpMyAdmin dumps); ``calldate`` is renamed ``start``.
    """
    text = path.read_bytes().decode("utf-8", errors="replace").lstrip("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    records = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if columns is None:
        columns, records = [h.strip().lower() for h in records[0]], records[1:]
    rows = []
    for record in records:
        row = {name: ("" if value.strip() in {"NULL", "\\N"} else value.strip())
               for name, value in zip(columns, record, strict=False)}
        if "calldate" in row:
            row["start"] = row.pop("calldate")
        rows.append(row)
    return rows


def parse_time(text: str) -> datetime | None:
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def unique_rows(rows: Iterable[Row]) -> list[Row]:
    """Rows that repeat another row exactly (all fields but the auto-increment ``acctid``)
    count once: a dump or two overlapping exports repeat rows, the PBX wrote each once."""
    seen: set[tuple] = set()
    kept = []
    for row in rows:
        key = tuple(sorted((k, v) for k, v in row.items() if k != "acctid"))
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def channel(row: Row, name: str = "channel") -> Channel | None:
    return parse_channel(row.get(name, ""))


def digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


@dataclass
class Call:
    rows: list[Row]
    direction: str = ""
    outcome: str = ""  # agent | pbx | no_answer | busy | failed
    talk_s: int = 0
    caller: str = ""  # normalised customer number of an inbound call
    callee: str = ""  # normalised dialled number of an outbound call
    start: datetime | None = None
    agents: list[str] = field(default_factory=list)

    @property
    def answered_by_person(self) -> bool:
        return self.outcome == "agent"


def group_calls(rows: Sequence[Row], *, attach_ring_members: bool = True) -> list[list[Row]]:
    """Rows -> calls.

    1. One call per ``linkedid``, else per ``uniqueid`` (CDR-Spec "LinkedID Propagation":
       dialled channels receive the caller's linkedid; docs/sources.md#asterisk-cdr: group by linkedid, or
       uniqueid on old versions). A row with neither is a call of its own.
    2. The two halves of a Local channel are one path (CDR-Spec "Local Channels": "a Local
       channel always consists of two channels with the same name prefix ... ;1 ... ;2"). In
       Asterisk < 12 there is no linkedid and the ``;2`` half writes its rows under its own
       uniqueid, so every row naming a Local channel (as channel or dstchannel) is joined, by the
       name without ``;N`` and while that channel existed (``_local_pairs``), to the rows naming
       the other half (union-find, so chains
       ``Queue -> Local;1 | Local;2 -> Local;1 | Local;2 -> SIP/460`` become one call). With a
       linkedid the halves already share it (CDR-Spec: "CDRs with a permanent Local channel pair
       will share the same linkedid"), and a Local channel of another linkedid (a conference
       invitation) is another call: no joining then.
    3. (``attach_ring_members``, only without linkedid) a ring group that dials several Local
       channels names only one of them as ``dstchannel`` of the caller's row; the other members'
       ``;2`` rows are then a group whose every channel is Local. CDR-Spec ("SIP attended
       transfer"): records that linkedid cannot correlate "have to be correlated using other
       properties". Such a group whose caller number (``src``, 7+ digits) is that of a call
       not made of Local channels only, and which starts while that call is up, is a leg of it.
    """
    rows = unique_rows(rows)
    parent: dict[int, int] = {}

    def find(i: int) -> int:
        while parent.setdefault(i, i) != i:
            parent[i] = parent.get(parent[i], parent[i])
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        parent[find(a)] = find(b)

    first_by_key: dict[str, int] = {}
    has_linkedid = any(r.get("linkedid") for r in rows)
    for i, row in enumerate(rows):
        find(i)
        key = row.get("linkedid") or row.get("uniqueid")
        if key:
            union(i, first_by_key.setdefault(key, i))
    if not has_linkedid:
        for a, b in _local_pairs(rows):
            union(a, b)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(rows)):
        groups[find(i)].append(i)
    if attach_ring_members and not has_linkedid:
        _attach_ring_members(rows, groups, union)
        groups = defaultdict(list)
        for i in range(len(rows)):
            groups[find(i)].append(i)
    return [[rows[i] for i in members] for members in groups.values()]


def _local_pairs(rows: list[Row]) -> list[tuple[int, int]]:
    """Rows naming the same Local channel (either half, as channel or dstchannel) while it
    existed. The counter in a Local name restarts with the PBX (PBXware reuses
    ``Local/1141@stasis-dial-00000002`` a day later), so a row joins the previous one of that name
    only if it starts before that one ended (+5 s of rounding)."""
    by_base: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        for name in ("channel", "dstchannel"):
            chan = channel(row, name)
            if chan and chan.tech == "LOCAL" and i not in by_base[chan.local_base]:
                by_base[chan.local_base].append(i)
    pairs = []
    for members in by_base.values():
        members.sort(key=lambda i: rows[i]["start"])
        ends: datetime | None = None
        for previous, current in pairwise(members):
            start_prev = parse_time(rows[previous]["start"])
            end_prev = start_prev + timedelta(seconds=int(rows[previous].get("duration") or 0))
            ends = max(ends or end_prev, end_prev)
            if parse_time(rows[current]["start"]) <= ends + timedelta(seconds=5):
                pairs.append((previous, current))
            else:
                ends = None
    return pairs


def _attach_ring_members(rows: list[Row], groups: dict[int, list[int]], union) -> None:
    def span(members: list[int]) -> tuple[datetime, datetime]:
        starts = [parse_time(rows[i]["start"]) for i in members]
        ends = [s + timedelta(seconds=int(rows[i].get("duration") or 0)) for s, i in zip(starts, members, strict=True)]
        return min(starts), max(ends)

    roots = []
    for root, members in groups.items():
        if any(rows[i].get("channel") and not rows[i]["channel"].startswith("Local/") for i in members):
            roots.append((root, *span(members), {rows[i].get("src") for i in members}))
    for root, members in groups.items():
        if not all(rows[i].get("channel", "").startswith("Local/") for i in members):
            continue
        first = min(members, key=lambda i: rows[i]["start"])
        caller = rows[first].get("src", "")
        if len(digits(caller)) < 7:
            continue
        start = parse_time(rows[first]["start"])
        hosts = [r for r in roots if caller in r[3] and r[1] <= start <= r[2]]
        if hosts:
            union(root, hosts[0][0])


def originating_row(rows: list[Row]) -> Row:
    """The caller's row: the earliest row whose channel is not a Local half (CDR-Spec "Party A":
    the caller of a dial is Party A; Local halves are created by the PBX, not by a party)."""
    real = [r for r in rows if r.get("channel") and not r["channel"].startswith("Local/")] or rows
    return min(real, key=lambda r: (r.get("start", ""), _sequence(r.get("uniqueid", ""))))


def _sequence(uniqueid: str) -> float:
    try:
        return float(uniqueid.rsplit("-", 1)[-1])
    except ValueError:
        return 0.0


TRUNK_CONTEXT = re.compile(r"(from-trunk.*|from-pstn.*|from-did.*|ext-did.*|from-external.*|.*pstn.*|public|"
                           r"incoming.*|inbound.*)", re.I)


def direction(rows: list[Row], first: Row) -> str:
    """inbound / outbound / internal.

    - inbound: the caller's channel is a trunk (channels.is_trunk), or a row without any channel
      (flat export) comes from a 7+-digit number or a trunk context (docs/formats.md "direction").
    - outbound: otherwise, a row dialled a trunk (its dstchannel is a trunk) or the caller's row
      dialled a 7+-digit number (not a ``*``/``#`` feature code): docs/metrics.md ``dials`` counts
      "every attempt", and a dial that found no route (``Congestion``) was an attempt.
    - internal: everything else (phone to phone, feature codes, voicemail access).
    """
    chan = channel(first)
    if chan is None:
        if len(digits(first.get("src", ""))) >= 7 or TRUNK_CONTEXT.fullmatch(first.get("dcontext", "")):
            return "inbound"
        return "outbound" if len(digits(first.get("dst", ""))) >= 7 else "internal"
    if is_trunk(chan):
        return "inbound"
    if any(is_trunk(channel(r, "dstchannel")) for r in rows):
        return "outbound"
    dialled = first.get("dst", "")
    if len(digits(dialled)) >= 7 and not dialled.startswith(("*", "#")):
        return "outbound"  # an attempt to an outside number that found no route (Congestion) is still a dial
    return "internal"


def person_legs(rows: list[Row], call_direction: str) -> list[tuple[Row, str]]:
    """Answered rows where a person talked, with who: ``(row, agent or dialled number)``.

    A row reached a person when it is ANSWERED and its ``dstchannel`` is a phone or a trunk
    (a forward to a mobile, or the callee of an outbound call). A row whose dstchannel is a
    Local half is not counted: its talk is the talk of the ``;2`` half's own row (CDR-Spec
    "Local Channels": the pair is an implicit bridge, each half has its CDR). A row that the
    ``Queue()``/``Dial()`` application answered towards an app only (IVR, voicemail, AGI,
    ConfBridge, Hangup: no dstchannel) reached the PBX, not a person. ``Pickup`` rows (a phone
    picking up another's ring) are the picker's answer. For an outbound call only the trunk legs
    count (the callee answered; a Local leg of an outbound call is a conference invitation or a
    forward, not the callee), for internal calls only phones.
    """
    legs = []
    for row in rows:
        if row.get("disposition") != "ANSWERED":
            continue
        dst = channel(row, "dstchannel")
        if dst is None and row.get("lastapp") == "Pickup" and is_phone(channel(row)):
            legs.append((row, channel(row).peer))
            continue
        if dst is None:
            continue
        if dst.tech == "LOCAL":
            if call_direction == "outbound" or _phone_side_of_a_bridge(row, rows) or _taken_by_a_phone(row, rows):
                continue
            if _local_reaches_agent(row, dst, rows):
                legs.append((row, dst.peer.split("@")[0]))
            continue
        trunk = is_trunk(dst)
        if call_direction == "outbound" and not trunk:
            continue
        if call_direction == "internal" and trunk:
            continue
        if trunk or is_phone(dst):
            legs.append((row, dial_target(row) if trunk else dst.peer))
    return legs


def _phone_side_of_a_bridge(row: Row, rows: list[Row]) -> bool:
    """A row placed by a phone towards a Local half (PBXware's ``Pickup`` of a queue ring,
    ``AppDial (Outgoing Line)``) while another answered row of the call bridges to that same phone:
    one bridge seen from both of its channels. CDR-Spec "Bridge": a CDR is "the view of the call
    from the perspective of Party A" (here the caller's row, whose Party B is the phone); the
    phone's row towards the Local channel repeats that bridge's time (same answer and end; the
    queue_log's CONNECT..COMPLETEAGENT shows one talk, e.g. call 1543606501.364: 99 s, not 2 x 98)."""
    name = row.get("channel")
    return bool(name) and any(other is not row and other.get("dstchannel") == name
                              and other.get("disposition") == "ANSWERED" for other in rows)


def _taken_by_a_phone(row: Row, rows: list[Row]) -> bool:
    """The caller's leg to a Local half that a phone then took (its own row names that same Local
    channel as dstchannel: ``Pickup``, ``AppDial``): the Local leg's billsec is the phone ringing
    (queue_log RINGNOANSWER/CONNECT holdtime), the talk is the caller's row bridged to that phone."""
    name = row.get("dstchannel")
    return any(other is not row and other.get("dstchannel") == name and is_phone(channel(other))
               for other in rows)


def _local_reaches_agent(row: Row, dst: Channel, rows: list[Row]) -> bool:
    """A Local leg ``Local/1127@callback-agent-...;1`` is the agent 1127's answer when the call
    has no row continuing that Local pair to a real channel (PBXware dials the phone through
    Stasis/ARI, outside the CDR) and the leg is not Local-to-Local plumbing (PBXware's
    ``AppDial`` rows join two Local channels and repeat the bridge's billsec)."""
    if (row.get("channel") or "").startswith("Local/") or not EXTENSION.fullmatch(dst.peer.split("@")[0]):
        return False
    for other in rows:
        chan = channel(other)
        if chan and chan.tech == "LOCAL" and chan.local_base == dst.local_base and channel(other, "dstchannel"):
            target = channel(other, "dstchannel")
            if target.tech != "LOCAL":
                return False
    return True


def drop_hops(legs: list[tuple[Row, str]]) -> list[tuple[Row, str]]:
    """docs/formats.md "Local hops": a leg that hands the call on to a leg of the same agent
    within 1 s of its end (PBXware's callback-agent -> stasis-dial) is one leg with it: the
    first leg's billsec is setup, not talk (the queue_log's CONNECT...COMPLETE calltime covers
    only the second)."""
    kept = []
    for row, who in legs:
        start = parse_time(row["start"])
        end = start + timedelta(seconds=int(row.get("duration") or 0))
        followed = any(other is not row and who2 == who and timedelta(0) <= parse_time(other["start"]) - end
                       <= timedelta(seconds=1) for other, who2 in legs)
        if not followed:
            kept.append((row, who))
    return kept


def dial_target(row: Row) -> str:
    """The number sent to the trunk: ``SIP/Nextor/525514540020`` or ``PJSIP/1248...@VIOrig`` in
    ``lastdata`` (what the provider dialled), else ``dst`` (which may still carry the route prefix)."""
    data = row.get("lastdata", "").split(",")[0].split("&")[0]
    parts = data.split("/")
    if len(parts) >= 3 and digits(parts[2]):
        return digits(parts[2])
    if len(parts) == 2 and "@" in parts[1]:
        return digits(parts[1].split("@")[0])
    return digits(row.get("dst", ""))


def outcome(rows: list[Row], call_direction: str) -> tuple[str, int, list[str]]:
    """``(outcome, talk seconds, agents)``: ``agent`` when a person answered (person_legs, hops
    dropped), else ``pbx`` when a row was ANSWERED by an application other than ``Queue()`` (IVR,
    AGI, voicemail, announcement, Hangup; a row answered by an application has no dstchannel).
    ``Queue()`` answers the channel itself (issue 12 item 3), so a call whose only answer is the
    queue's waited there and nobody took it: not answered. Else ``no_answer``/``busy``/``failed``
    (the first present, in this order, among the rows' dispositions; CONGESTION is failed).
    Talk = billsec of the person legs."""
    legs = drop_hops(person_legs(rows, call_direction))
    if legs:
        return "agent", sum(int(r.get("billsec") or 0) for r, _ in legs), [who for _, who in legs]
    if any(r.get("disposition") == "ANSWERED" and r.get("lastapp") != "Queue" for r in rows):
        return "pbx", 0, []
    found = {r.get("disposition") for r in rows if r.get("disposition") != "ANSWERED"}
    for name, label in (("NO ANSWER", "no_answer"), ("BUSY", "busy"), ("FAILED", "failed"),
                        ("CONGESTION", "failed")):
        if name in found:
            return label, 0, []
    return "no_answer", 0, []


def flat_outcome(row: Row) -> tuple[str, int, list[str]]:
    """A 6-column summary export row (no channels): the row is the call; ANSWERED with billsec
    is a person (the summary has no way to show an IVR), other dispositions as written."""
    disposition = row.get("disposition", "")
    if disposition == "ANSWERED":
        billsec = int(row.get("billsec") or 0)
        return ("agent", billsec, []) if billsec > 0 else ("pbx", 0, [])
    return {"NO ANSWER": "no_answer", "BUSY": "busy"}.get(disposition, "failed"), 0, []


def build_calls(rows: Sequence[Row], normalise, *, attach_ring_members: bool = True) -> list[Call]:
    calls = []
    for group in group_calls(rows, attach_ring_members=attach_ring_members):
        first = originating_row(group)
        call = Call(group, direction=direction(group, first), start=parse_time(first.get("start", "")))
        flat = all(not r.get("channel") and not r.get("dstchannel") for r in group)
        call.outcome, call.talk_s, call.agents = flat_outcome(first) if flat else outcome(group, call.direction)
        if call.direction == "inbound":
            call.caller = normalise(first.get("src", ""))
        elif call.direction == "outbound" and (first.get("linkedid") or not _is_local(first.get("channel", ""))):
            # without linkedid (Asterisk < 12) a call whose every channel is Local was placed by the
            # PBX (a ring-group forward whose caller row is not in the file), not by a person: no
            # callback. With linkedid it is an originate (PBXware click-to-call): a person's dial.
            trunk_rows = [r for r in group if is_trunk(channel(r, "dstchannel"))]
            call.callee = normalise(dial_target(trunk_rows[0]) if trunk_rows else first.get("dst", ""))
        calls.append(call)
    return calls


def _is_local(name: str) -> bool:
    return name.startswith("Local/")


def callbacks(calls: Sequence[Call]) -> dict[str, int]:
    """docs/metrics.md: a missed call (inbound, no person answered: ``calls_missed`` counts calls "that
    no one answered"; a PBX/IVR answer is no one) is *called back* when an outbound call to the
    same normalised number starts within callback_window_h (24 h) after it, and *successfully*
    when within the window an outbound call to it or an inbound call from it was answered by a
    person. Calls are compared by their start."""
    missed = [c for c in calls if c.direction == "inbound" and c.outcome != "agent" and c.caller]
    out_by_number: dict[str, list[Call]] = defaultdict(list)
    in_by_number: dict[str, list[Call]] = defaultdict(list)
    for c in calls:
        if c.direction == "outbound" and c.callee:
            out_by_number[c.callee].append(c)
        if c.direction == "inbound" and c.outcome == "agent" and c.caller:
            in_by_number[c.caller].append(c)
    attempted = succeeded = 0
    for m in missed:
        def within(c: Call, m: Call = m) -> bool:
            return c.start is not None and m.start is not None and m.start < c.start <= m.start + CALLBACK_WINDOW
        outs = [c for c in out_by_number[m.caller] if within(c)]
        attempted += bool(outs)
        succeeded += any(c.outcome == "agent" for c in outs) or any(within(c) for c in in_by_number[m.caller])
    return {"missed_with_number": len(missed), "called_back": attempted, "callback_success": succeeded}


def summarise(calls: Sequence[Call]) -> dict:
    """The figures the tests compare: counts by direction and outcome, talk, missed, callbacks."""
    by = Counter((c.direction, c.outcome) for c in calls)
    summary: dict = {
        "calls": len(calls),
        "by_direction": dict(Counter(c.direction for c in calls)),
        "by_direction_outcome": {f"{d}/{o}": n for (d, o), n in sorted(by.items())},
        "talk_s": sum(c.talk_s for c in calls),
        "talk_s_by_direction": {d: sum(c.talk_s for c in calls if c.direction == d)
                                for d in ("inbound", "outbound", "internal")},
        "inbound_answered_by_agent": by["inbound", "agent"],
        "inbound_answered_by_pbx": by["inbound", "pbx"],
        "inbound_not_answered": sum(n for (d, o), n in by.items() if d == "inbound" and o not in {"agent", "pbx"}),
        "calls_missed": sum(n for (d, o), n in by.items() if d == "inbound" and o != "agent"),
    }
    summary.update(callbacks(calls))
    return summary
