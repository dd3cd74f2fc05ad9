"""The PBXware queue_log -> queue legs and queue KPIs, by the queue_log documentation only.

QL-Spec event parameters: ENTERQUEUE(url|callerid|origposition), CONNECT(holdtime|
bridgedchanneluniqueid|ringtime), COMPLETEAGENT/COMPLETECALLER(holdtime|calltime|origposition),
ABANDON(position|origposition|waittime), EXITWITHTIMEOUT/EXITEMPTY(position|origposition|waittime),
EXITWITHKEY(key|position|origposition|waittime), TRANSFER(extension|context|holdtime|calltime|
origposition), ATTENDEDTRANSFER/BLINDTRANSFER (... holdtime|calltime|origposition).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SL_THRESHOLD_S = 20  # docs/metrics.md: sl_threshold_s default
SHORT_ABANDON_S = 5  # docs/metrics.md: short_abandon_s default
FLOW_OUT = {"EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY"}
TRANSFERS = {"TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"}
ACW_EVENTS = {"PAUSE", "PAUSEALL"}  # the only way a plain queue_log shows after-call work (docs/metrics.md acw_s)


@dataclass
class QueueLeg:
    callid: str
    queue: str
    entered: int
    outcome: str = "open"  # answered | abandoned | flowed_out | open
    wait_s: float | None = None
    talk_s: float = 0.0
    agent: str = ""


def read_events(path: Path) -> list[list[str]]:
    return [line.split("|") for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line]


def queue_legs(events: Sequence[list[str]]) -> list[QueueLeg]:
    """One leg per ENTERQUEUE (a stay in a queue; docs/metrics.md: a queue leg is one stay in one queue),
    closed by the first CONNECT / ABANDON / EXIT* of the same callid and queue; the talk is the
    calltime of COMPLETE* or of a transfer event (data2 resp. data4)."""
    legs: dict[tuple[str, str], QueueLeg] = {}
    ordered = []
    for fields in events:
        fields = fields + [""] * (10 - len(fields))
        epoch, callid, queue, agent, event, d1, d2, d3, d4 = fields[:9]
        key = (callid, queue)
        if event == "ENTERQUEUE":
            legs[key] = QueueLeg(callid, queue, int(epoch))
            ordered.append(legs[key])
            continue
        leg = legs.get(key)
        if leg is None:
            continue
        if event == "CONNECT" and leg.outcome == "open":
            leg.outcome, leg.wait_s, leg.agent = "answered", float(d1), agent
        elif event == "ABANDON" and leg.outcome == "open":
            leg.outcome, leg.wait_s = "abandoned", float(d3)
        elif event in FLOW_OUT and leg.outcome == "open":
            leg.outcome, leg.wait_s = "flowed_out", float(d4 if event == "EXITWITHKEY" else d3)
        elif event in {"COMPLETEAGENT", "COMPLETECALLER"}:
            leg.talk_s = float(d2)
        elif event in TRANSFERS:
            leg.talk_s = float(d4)
    return ordered


def queue_kpis(legs: Sequence[QueueLeg]) -> dict:
    """docs/metrics.md: service_level (variant offered) = answered with wait <= T / (offered - short
    abandons); abandon_rate = abandoned (wait >= short_abandon_s) / (offered - short abandons);
    asa_s = mean wait of answered legs; att_s = talk / answered."""
    offered = len(legs)
    answered = [leg for leg in legs if leg.outcome == "answered"]
    short = [leg for leg in legs if leg.outcome == "abandoned" and (leg.wait_s or 0) < SHORT_ABANDON_S]
    abandoned = [leg for leg in legs if leg.outcome == "abandoned" and leg not in short]
    base = offered - len(short)
    within = sum(1 for leg in answered if (leg.wait_s or 0) <= SL_THRESHOLD_S)
    talk = sum(leg.talk_s for leg in answered)
    return {
        "calls_offered": offered,
        "calls_answered": len(answered),
        "calls_abandoned": len(abandoned),
        "calls_short_abandoned": len(short),
        "calls_flowed_out": sum(1 for leg in legs if leg.outcome == "flowed_out"),
        "service_level": round(within / base, 4) if base else None,
        "abandon_rate": round(len(abandoned) / base, 4) if base else None,
        "asa_s": round(sum(leg.wait_s or 0 for leg in answered) / len(answered), 3) if answered else None,
        "queue_talk_s": talk,
        "by_queue": dict(Counter(leg.queue for leg in legs)),
    }


def summarise(path: Path) -> dict:
    """Queue KPIs of the file, and which components it records: after-call work only through
    PAUSE events (none in this log: ``acw_recorded`` False, so ACW must be null, not 0, issue 12
    item 1); presence through AGENTLOGIN/AGENTCALLBACKLOGIN/ADDMEMBER."""
    events = read_events(path)
    names = {f[4] for f in events if len(f) > 4}
    summary = queue_kpis(queue_legs(events))
    summary["acw_recorded"] = bool(names & ACW_EVENTS)
    summary["presence_recorded"] = bool(names & {"AGENTLOGIN", "AGENTCALLBACKLOGIN", "ADDMEMBER"})
    summary["calls"] = len({f[1] for f in events if len(f) > 4 and f[4] == "ENTERQUEUE"})
    return summary


def summarise_with_cdr(path: Path, cdr_calls: Sequence) -> dict:
    """queue_log and CDR of one PBX (issue 12 item 2): the queue_log callid is the CDR linkedid of
    the caller's channel (docs/formats.md "The same site's queue_log and CDR"). Every queue KPI is
    the queue_log's (a CDR call that never entered a queue is not a queue leg: docs/metrics.md
    calls_offered counts "queue legs that entered a queue"); the calls are the union, and the CDR-only
    inbound calls keep their own outcome (agent, PBX/IVR, not answered)."""
    summary = summarise(path)
    queue_calls = {f[1] for f in read_events(path) if len(f) > 4 and f[4] == "ENTERQUEUE"}
    keyed = {c.rows[0].get("linkedid") or c.rows[0].get("uniqueid"): c for c in cdr_calls}
    only_cdr = [c for key, c in keyed.items() if key not in queue_calls]
    summary["calls"] = len(queue_calls | set(keyed))
    summary["cdr_only_calls"] = len(only_cdr)
    summary["cdr_only_inbound"] = dict(Counter(c.outcome for c in only_cdr if c.direction == "inbound"))
    return summary
