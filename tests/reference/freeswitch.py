"""FreeSWITCH mod_cdr_csv ("example" template) and mod_json_cdr -> calls (docs/sources.md#other-formats)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path

from .channels import is_trunk, parse_channel

# docs/sources.md#other-formats: mod_cdr_csv default template "example".
EXAMPLE = ("caller_id_name", "caller_id_number", "destination_number", "context", "start_stamp", "answer_stamp",
           "end_stamp", "duration", "billsec", "hangup_cause", "uuid", "bleg_uuid", "accountcode", "read_codec",
           "write_codec")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def legs_of(path: Path) -> list[dict[str, str]]:
    if path.suffix == ".json":
        document = json.loads(path.read_bytes().decode("utf-8", errors="replace"))
        return [{**document["variables"], "_profile": document.get("callflow", [{}])}]
    text = path.read_bytes().decode("utf-8", errors="replace")
    return [dict(zip(EXAMPLE, r, strict=False)) for r in csv.reader(io.StringIO(text)) if r]


def summarise(path: Path) -> dict:
    """One call per a-leg: a leg named by another leg's ``bleg_uuid`` is that leg's b-leg, and a
    uuid seen twice is one leg (its first row; docs/sources.md#other-formats: one document per leg). The call is
    answered by a person when its b-leg (the bridged party) was answered, or, without a b-leg, when
    the leg has billsec > 0 and reached a phone or the outside (a sofia internal/external channel,
    or in the CSV template, which has no channel, a bridge-less leg with talk). A leg answered only
    by an application (context ``*ivr*`` and no b-leg) is the PBX. Direction from the numbers: a
    7+-digit caller is inbound, a 7+-digit destination outbound, else internal; a JSON leg from a
    sofia internal phone to a sofia internal phone is internal. Talk = billsec of the answered b-leg,
    else of the leg."""
    legs: dict[str, dict[str, str]] = {}
    for leg in legs_of(path):
        legs.setdefault(leg["uuid"], leg)
    b_legs = {leg["bleg_uuid"]: uuid for uuid, leg in legs.items() if leg.get("bleg_uuid")}
    calls = Counter()
    talk = 0
    for uuid, leg in legs.items():
        if uuid in b_legs:
            continue
        b = legs.get(leg.get("bleg_uuid", ""))
        chan = parse_channel(leg.get("channel_name", ""))
        bridged = parse_channel(leg.get("bridge_channel", ""))
        if chan is not None:
            direction = "inbound" if is_trunk(chan) else "outbound" if is_trunk(bridged) else "internal"
        elif len(_digits(leg["caller_id_number"])) >= 7:
            direction = "inbound"
        else:
            direction = "outbound" if len(_digits(leg["destination_number"])) >= 7 else "internal"
        billsec = int(float(leg.get("billsec") or 0))
        if b is not None:
            answered = int(float(b.get("billsec") or 0)) > 0
            outcome, seconds = ("agent", int(float(b["billsec"]))) if answered else ("no_answer", 0)
        elif billsec > 0 and "ivr" in leg.get("context", "").lower():
            outcome, seconds = "pbx", 0
        elif billsec > 0:
            outcome, seconds = "agent", billsec
        else:
            outcome, seconds = "no_answer", 0
        calls[direction, outcome] += 1
        talk += seconds
    by_outcome = {f"{d}/{o}": n for (d, o), n in sorted(calls.items())}
    return {"calls": sum(calls.values()), "by_direction_outcome": by_outcome, "talk_s": talk}
