"""Per-dataset settings and ``summary(name)``: the reference figures of each real file.

Numbers are compared by their last national digits after stripping the site's outbound dial
prefixes, so ``+52 55 1454 0020``, ``525514540020`` (what the Elastix route sends to the trunk)
and ``911911 044 5515023672`` (the Elastix callback prefix 911911 + the Mexican mobile prefix
044/045, issue 12 item 8) are one customer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import asterisk_cdr, freeswitch, queue_log

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"


@dataclass(frozen=True)
class Site:
    national_length: int  # digits of a national number: MX 10, RU 10, PT 9, US 10
    dial_prefixes: tuple[str, ...] = ()  # stripped in order from dialled numbers, longest first

    def normaliser(self) -> Callable[[str], str]:
        def normalise(number: str) -> str:
            text = re.sub(r"\D", "", number or "")
            for prefix in self.dial_prefixes:
                if text.startswith(prefix) and len(text) - len(prefix) >= self.national_length:
                    text = text[len(prefix):]
            return text[-self.national_length:] if len(text) >= self.national_length else text
        return normalise


# elastix-mx: the ring group forwards to mobiles and agents call back through 911911/912912
# followed by 044 (local mobile) or 045 (national mobile); the outbound route also sends 52 + number.
ELASTIX = Site(10, ("911911", "912912", "044", "045"))
SITES = {
    "elastix-mx-2013": ELASTIX,
    "asterisk-ru-2024": Site(10),
    "freepbx-pt-2017": Site(9),
    "pbxware-us-2018": Site(10),
    "freeswitch": Site(8),
}

# (dataset, relative path, column names of a headerless file)
CDR_FILES: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "elastix-mx": ("elastix-mx-2013/cdr.csv", None),
    "asterisk-ru": ("asterisk-ru-2024/Master.csv", asterisk_cdr.CDR_CSV_21),
    "freepbx-pt": ("freepbx-pt-2017/cdr.csv", asterisk_cdr.FREEPBX_25),
    "freepbx-pt-export-1504525205": ("freepbx-pt-2017/cdr__1504525205ucoip.g9telecom.pt.csv", None),
    "freepbx-pt-export-1504541678": ("freepbx-pt-2017/cdr__1504541678ucoip.g9telecom.pt.csv", None),
    "freepbx-pt-export-1504542198": ("freepbx-pt-2017/cdr__1504542198ucoip.g9telecom.pt.csv", None),
    "freepbx-pt-cdr-new": ("freepbx-pt-2017/cdr_new.csv", None),
    "freepbx-pt-g9telecom": ("freepbx-pt-2017/g9telecom.csv", None),
    "pbxware-cdr": ("pbxware-us-2018/cdr.csv", None),
}
FREESWITCH_FILES = {
    "freeswitch-csv-callcenter": "freeswitch/raspberry-pi-maker-cdr_callcenter/Master.csv",
    "freeswitch-csv-spreadsheet": "freeswitch/Kxingyunliushui-freeswitch_tools/Master.csv",
    "freeswitch-json-1": "freeswitch/cgrates-json-cdr/fscdr_test_cdr1.json",
    "freeswitch-json-2": "freeswitch/cgrates-json-cdr/fsevent_test_cdr1.json",
}
TIMEZONES = {"elastix-mx": "America/Mexico_City", "asterisk-ru": "UTC", "freepbx-pt": "Europe/Lisbon",
             "pbxware": "America/New_York", "freeswitch": "UTC"}


def path_of(name: str) -> Path:
    if name in CDR_FILES:
        return REAL / CDR_FILES[name][0]
    if name in FREESWITCH_FILES:
        return REAL / FREESWITCH_FILES[name]
    return REAL / "pbxware-us-2018" / "queue_log"


def timezone_of(name: str) -> str:
    return next(tz for prefix, tz in TIMEZONES.items() if name.startswith(prefix))


def site_of(relative: str) -> Site:
    return SITES[relative.split("/")[0]]


def cdr_calls(name: str, *, attach_ring_members: bool = True) -> list[asterisk_cdr.Call]:
    relative, columns = CDR_FILES[name]
    rows = asterisk_cdr.read_rows(REAL / relative, columns)
    return asterisk_cdr.build_calls(rows, site_of(relative).normaliser(), attach_ring_members=attach_ring_members)


def summary(name: str) -> dict:
    """Reference figures of one dataset (names: the keys of CDR_FILES and FREESWITCH_FILES,
    ``pbxware-queue-log`` and ``pbxware-both``)."""
    if name in CDR_FILES:
        return asterisk_cdr.summarise(cdr_calls(name))
    if name in FREESWITCH_FILES:
        return freeswitch.summarise(REAL / FREESWITCH_FILES[name])
    log = REAL / "pbxware-us-2018" / "queue_log"
    if name == "pbxware-queue-log":
        return queue_log.summarise(log)
    if name == "pbxware-both":
        return queue_log.summarise_with_cdr(log, cdr_calls("pbxware-cdr"))
    raise KeyError(name)


ALL = [*CDR_FILES, *FREESWITCH_FILES, "pbxware-queue-log", "pbxware-both"]
