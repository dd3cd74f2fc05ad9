"""Asterisk and FreeSWITCH channel names, parsed by technology.

CDR-Spec ("Local Channels", and the examples ``SIP/alice-00000000``, ``IAX2/bob-00000000``,
``Local/dial_alice@default-00000001;1``): a channel name is ``TECH/resource-unique``; the
resource is the peer/endpoint, the part after the last ``-`` is a per-channel counter, and a
Local channel is a pair of halves ``;1`` and ``;2`` with the same name prefix. The counter is
8 hex digits for SIP/PJSIP in Asterisk >= 1.8 (``SIP/468-0000006d``), 4 hex digits for Local in
Asterisk 1.8 (``Local/460@from-queue-67f1;2``) and a *decimal call number* for IAX2
(``IAX2/715-5236``: peer 715, call number 5236), which the 4+-hex-digit rule misreads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Technologies whose every channel is a line to the public network (formats.md, docs/formats.md).
TRUNK_TECHS = frozenset({"DAHDI", "ZAP", "MISDN", "DGV", "SRX"})
EXTENSION = re.compile(r"\d{2,5}")


@dataclass(frozen=True)
class Channel:
    tech: str  # upper case: SIP, PJSIP, IAX2, DAHDI, LOCAL, AGENT, SOFIA, ...
    peer: str  # SIP/PJSIP/IAX2 peer, DAHDI span/channel, Local exten@context, Agent id, sofia user
    local_base: str = ""  # Local channels: the name without ";1"/";2" (identifies the pair)
    local_half: int = 0  # 1 or 2 for Local channels
    profile: str = ""  # FreeSWITCH sofia profile (internal, external) or "gateway"


def parse_channel(name: str) -> Channel | None:
    """Split a channel name into technology and peer; ``None`` for an empty/NULL name.

    Rules (CDR-Spec examples and the channel drivers' naming):

    - ``SIP/peer-XXXXXXXX`` and ``PJSIP/endpoint-XXXXXXXX``: the peer is everything before the
      last ``-`` followed by hex digits (peer names may contain ``-``, e.g. ``SIP/my-trunk-0000001c``).
      A ``SIP/peer/number`` dial string (lastdata form) keeps the peer.
    - ``IAX2/peer-callno``: the suffix is a decimal call number of any length (``IAX2/715-16``).
    - ``DAHDI/i1/5551234-1``, ``DAHDI/1-1``, ``Zap/...``: a PSTN line; the peer is the span/channel.
    - ``Local/exten@context-XXXX;N``: a Local pair; ``local_base`` (the name without ``;N``) is
      shared by both halves (CDR-Spec, "Local Channels": "two channels with the same name prefix").
    - ``Agent/1001``: chan_agent, no counter; the peer is the agent id.
    - ``sofia/profile/user@host`` (FreeSWITCH): profile ``internal`` is a registered phone,
      ``external`` and ``sofia/gateway/NAME/...`` are trunks; the peer is the user part.
    """
    name = (name or "").strip()
    if not name or name.upper() == "NULL" or "/" not in name:
        return None
    tech, _, rest = name.partition("/")
    upper = tech.upper()
    if upper == "LOCAL":
        half = 0
        base = name
        match = re.search(r";([12])$", name)
        if match:
            half, base = int(match.group(1)), name[: match.start()]
        peer = re.sub(r"-[0-9a-fA-F]{4,8}$", "", base.partition("/")[2])
        return Channel("LOCAL", peer, base, half)
    if upper == "SOFIA":
        profile, _, user = rest.partition("/")
        if profile == "gateway":
            gateway, _, user = user.partition("/")
            return Channel("SOFIA", gateway, profile="gateway")
        return Channel("SOFIA", user.split("@")[0], profile=profile)
    if upper == "AGENT":
        return Channel("AGENT", rest)
    if upper == "IAX2":
        return Channel("IAX2", re.sub(r"-\d+$", "", rest.split("/")[0]))
    if upper in TRUNK_TECHS or upper == "ZAP":
        return Channel(upper, re.sub(r"-\d+$", "", rest))
    peer = rest.split("/")[0]
    return Channel(upper, re.sub(r"-[0-9a-fA-F]{6,8}$", "", peer))


def is_trunk(channel: Channel | None, extension: re.Pattern[str] = EXTENSION) -> bool:
    """A line to the outside: a PSTN technology, a sofia external/gateway profile, or a
    SIP/PJSIP/IAX2 peer whose name is not extension-shaped (docs/formats.md "trunk or phone";
    ``SIP/mambo``, ``PJSIP/VIOrig``, ``SIP/211474`` (6 digits) are trunks, ``SIP/468``,
    ``IAX2/715`` phones). Local and Agent channels are never trunks."""
    if channel is None or channel.tech in {"LOCAL", "AGENT"}:
        return False
    if channel.tech in TRUNK_TECHS:
        return True
    if channel.tech == "SOFIA":
        return channel.profile in {"external", "gateway"}
    return not extension.fullmatch(channel.peer)


def is_phone(channel: Channel | None, extension: re.Pattern[str] = EXTENSION) -> bool:
    """A person's endpoint: an extension-shaped SIP/PJSIP/IAX2 peer, an Agent, a sofia internal user."""
    if channel is None or channel.tech == "LOCAL":
        return False
    if channel.tech == "AGENT":
        return True
    return not is_trunk(channel, extension) and bool(extension.fullmatch(channel.peer))
