"""Asterisk CEL -> calls and per-agent figures, from the CEL specification only (no callkpi code).

Reads the ``INSERT INTO `cel` VALUES (...)`` lines of a mysqldump / Navicat export itself (one
row per line; the column names come from the file's ``CREATE TABLE `cel``` block), and the
``cdr`` rows the same way for the consistency check.

Rules (CEL-Spec = the Asterisk 12+ "CEL Specification", docs.asterisk.org; formats = docs/formats.md):

- A call is all rows of one ``linkedid`` (CEL-Spec "Linked ID"); a linkedid whose every channel
  is a Local channel (``Local/...;1``/``;2``) is routing, not a call (formats, "Local channels").
- A channel is ``TECH/peer-counter`` (channels.py); a phone has an extension-shaped peer (2-5
  digits), any other SIP/PJSIP/IAX2 peer is a trunk (formats "trunk or phone").
- The origin is the channel whose uniqueid is the linkedid. Inbound: the origin is a trunk;
  outbound: otherwise a trunk channel takes part, or the origin dialled a number of 7+ digits
  (formats "direction"); else internal.
- Inbound: each phone channel that was created for the call (its CHAN_START row has a linkedid
  other than its uniqueid) is an offer to that agent, and each trunk channel so created an offer
  to the number it dialled (a forward); it was answered when, in a bridge
  (BRIDGE_ENTER/BRIDGE_EXIT with the same ``bridge_id``), another channel was in the bridge with
  it. Its talk is that time, computed by walking the bridge's enter and exit rows in time
  order, less its hold (HOLD..UNHOLD rows of the channel, or of a channel bridged with it at the
  HOLD). Outbound: each trunk channel is an offer by the calling phone's agent, with its talk.
- A transfer is a BLINDTRANSFER or ATTENDEDTRANSFER row whose channel is an agent's phone.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .channels import EXTENSION, parse_channel

Row = dict[str, str]
_VALUE = re.compile(r"'((?:[^'\\]|\\.)*)'|(-?\d+(?:\.\d+)?)|(NULL)")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "0": "\0"}


def dump_rows(path: Path, table: str) -> list[Row]:
    """The rows of ``table`` in a SQL dump written one INSERT per row."""
    columns: list[str] = []
    rows: list[Row] = []
    inside_create = False
    prefix = f"INSERT INTO `{table}` VALUES ("  # noqa: S608 - a text prefix, not SQL run
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(f"CREATE TABLE `{table}`"):
                inside_create = True
                continue
            if inside_create:
                name = re.match(r"\s+`([^`]+)`\s+\w", line)
                if name:
                    columns.append(name[1])
                elif line.startswith(")"):
                    inside_create = False
                continue
            if line.startswith(prefix):
                body = line[len(prefix):].rstrip().removesuffix(";").removesuffix(")")
                values = [_unescape(m[1]) if m[1] is not None else (m[2] or "") for m in _VALUE.finditer(body)]
                rows.append(dict(zip(columns, values, strict=True)))
    return rows


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[1]), text)


def _time(text: str) -> datetime:
    return datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S")


def _kind(name: str) -> str:
    channel = parse_channel(name)
    if channel is None:
        return "none"
    if channel.tech == "LOCAL":
        return "local"
    return "phone" if EXTENSION.fullmatch(channel.peer) else "trunk"


def _peer(name: str) -> str:
    channel = parse_channel(name)
    return channel.peer if channel else ""


def _number_dialled(rows: list[Row], trunk_channel: str) -> str:
    """A trunk channel an inbound call dialled (a forward): the number in the Dial() argument that
    names its trunk, ``TECH/number@trunk`` or ``TECH/trunk/number`` (formats, "outbound number")."""
    trunk = _peer(trunk_channel)
    for row in rows:
        if row["appname"] != "Dial":
            continue
        for target in row["appdata"].split(",")[0].split("&"):
            at = re.fullmatch(r"[^/]+/([^@/]+)@([^/]+).*", target)
            if at and at[2] == trunk:
                return at[1]
            slash = re.fullmatch(r"[^/]+/([^/]+)/(?:sips?:|tel:)?([^@;/]+).*", target)
            if slash and slash[1] == trunk:
                return slash[2]
    answer = next((r for r in rows if r["channame"] == trunk_channel and r["eventtype"] == "ANSWER"), None)
    return answer["exten"] if answer and answer["exten"] not in ("", "s") else ""


def _origin_dialled(rows: list[Row], linkedid: str) -> str:
    start = next((r for r in rows if r["uniqueid"] == linkedid and r["eventtype"] == "CHAN_START"), None)
    return start["exten"] if start else ""


def _external(number: str) -> bool:
    """formats, "direction": a number of 7+ digits that is not an extension is external."""
    return not EXTENSION.fullmatch(number) and len(re.sub(r"\D", "", number)) >= 7


def _extra(row: Row) -> dict:
    try:
        value = json.loads(row.get("extra") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass
class AgentFigures:
    handled: int = 0
    talk_s: float = 0.0
    hold_s: float = 0.0
    transfers: int = 0


@dataclass
class CelSummary:
    calls: int = 0
    inbound: int = 0
    outbound: int = 0
    internal: int = 0
    answered: int = 0  # inbound and outbound calls an agent talked on
    agents: dict[str, AgentFigures] = field(default_factory=lambda: defaultdict(AgentFigures))
    call_talk: dict[str, float] = field(default_factory=dict)  # per answered call: talk + hold of its agents
    call_answered: dict[str, bool] = field(default_factory=dict)


def _together(rows: list[Row]) -> dict[str, float]:
    """Per uniqueid: seconds spent in a bridge while at least one other channel was in it.
    Walks each bridge's BRIDGE_ENTER/BRIDGE_EXIT rows in time order, counting who is inside; a
    channel that entered and never exited leaves at its HANGUP."""
    hangups = {r["uniqueid"]: _time(r["eventtime"]) for r in rows if r["eventtype"] == "HANGUP"}
    by_bridge: dict[str, list[tuple[datetime, int, str]]] = defaultdict(list)
    balance: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        if row["eventtype"] in ("BRIDGE_ENTER", "BRIDGE_EXIT"):
            bridge = str(_extra(row).get("bridge_id", ""))
            step = 1 if row["eventtype"] == "BRIDGE_ENTER" else -1
            by_bridge[bridge].append((_time(row["eventtime"]), step, row["uniqueid"]))
            balance[(bridge, row["uniqueid"])] += step
    for (bridge, uid), open_entries in balance.items():
        if open_entries > 0 and uid in hangups:
            by_bridge[bridge].append((hangups[uid], -1, uid))
    seconds: dict[str, float] = defaultdict(float)
    for events in by_bridge.values():
        inside: set[str] = set()
        last: datetime | None = None
        for now, step, uid in sorted(events, key=lambda e: (e[0], e[1])):  # exits before enters at one instant
            if last is not None and len(inside) >= 2:
                for member in inside:
                    seconds[member] += (now - last).total_seconds()
            last = now
            if step > 0:
                inside.add(uid)
            else:
                inside.discard(uid)
    return seconds


def _holds(rows: list[Row]) -> dict[str, float]:
    """Per uniqueid: seconds between each HOLD and the UNHOLD (or hangup) after it."""
    held: dict[str, datetime] = {}
    seconds: dict[str, float] = defaultdict(float)
    for row in rows:
        uid, now = row["uniqueid"], _time(row["eventtime"])
        if row["eventtype"] == "HOLD":
            held.setdefault(uid, now)
        elif row["eventtype"] in ("UNHOLD", "HANGUP") and uid in held:
            seconds[uid] += (now - held.pop(uid)).total_seconds()
    return seconds


def summarise(cel_rows: list[Row]) -> CelSummary:
    summary = CelSummary()
    own_call = {r["uniqueid"] for r in cel_rows if r["eventtype"] == "CHAN_START" and r["uniqueid"] == r["linkedid"]}
    by_call: dict[str, list[Row]] = defaultdict(list)
    for row in cel_rows:
        by_call[row["linkedid"]].append(row)
    for linkedid, rows in by_call.items():
        rows.sort(key=lambda r: (_time(r["eventtime"]), int(r.get("id") or 0)))
        names = {r["uniqueid"]: r["channame"] for r in rows if r["channame"]}
        kinds = {uid: _kind(name) for uid, name in names.items()}
        if all(kind == "local" for kind in kinds.values()):
            continue
        summary.calls += 1
        origin_kind = kinds.get(linkedid)
        if origin_kind == "trunk":
            direction = "inbound"
        elif any(kind == "trunk" for uid, kind in kinds.items() if uid != linkedid):
            direction = "outbound"
        elif _external(_origin_dialled(rows, linkedid)):
            direction = "outbound"  # dialled a number of 7+ digits that reached no trunk
        else:
            direction = "internal"
        setattr(summary, direction, getattr(summary, direction) + 1)
        if direction == "internal":
            continue
        together, holds = _together(rows), _holds(rows)
        if direction == "inbound":
            offers = {uid: _peer(names[uid]) if kind == "phone" else _number_dialled(rows, names[uid])
                      for uid, kind in kinds.items()
                      if kind in ("phone", "trunk") and uid != linkedid and uid not in own_call}
        else:
            caller = _peer(names.get(linkedid, "")) if origin_kind == "phone" else ""
            offers = {uid: caller for uid, kind in kinds.items() if kind == "trunk" and uid != linkedid}
        answered = False
        call_time = 0.0
        for uid, agent in offers.items():
            if together.get(uid, 0.0) <= 0 or not agent:
                continue
            answered = True
            hold = holds.get(uid, 0.0) + (holds.get(linkedid, 0.0) if direction == "outbound" else 0.0)
            figures = summary.agents[agent]
            figures.handled += 1
            figures.hold_s += hold
            figures.talk_s += max(together[uid] - hold, 0.0)
            call_time += together[uid]
        for row in rows:
            if row["eventtype"] in ("BLINDTRANSFER", "ATTENDEDTRANSFER") and kinds.get(row["uniqueid"]) == "phone":
                summary.agents[_peer(row["channame"])].transfers += 1
        summary.answered += answered
        summary.call_answered[linkedid] = answered
        if answered:
            summary.call_talk[linkedid] = call_time
    return summary


def cdr_calls(cdr_rows: list[Row]) -> dict[str, tuple[bool, float]]:
    """Per linkedid of the CDR rows with a real date: (a phone or trunk was bridged with ANSWERED,
    billed seconds of those rows). CDR-Spec: billsec is the time from answer to hangup."""
    calls: dict[str, tuple[bool, float]] = {}
    for row in cdr_rows:
        if row["calldate"].startswith(("0000", "1000")):
            continue
        bridged = row["disposition"] == "ANSWERED" and _kind(row["dstchannel"]) in ("phone", "trunk")
        answered, billed = calls.get(row["linkedid"], (False, 0.0))
        calls[row["linkedid"]] = (answered or bridged, billed + (float(row["billsec"]) if bridged else 0.0))
    return calls
