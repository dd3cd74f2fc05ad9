"""The real PBXware log (a US site, America/New_York, 2018-11-30..12-04).

Expected values are derived in this test from the vendor's own table dump, queue_log_table.csv,
read with the csv module: its `htime`/`ttime` columns hold each event's wait and talk seconds and
its rows are the events of the plain queue_log (plus vendor-only OUT* dialler rows, left out).
Nothing here is copied from callkpi's output.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callkpi.config import Settings
from callkpi.ingest.base import ImportReport
from callkpi.ingest.formats import load_file
from callkpi.storage import Store
from conftest import by_key, kpis, query_rows, real_pbxware, total

pytestmark = pytest.mark.real

ZONE = "America/New_York"
COMPLETE = ("COMPLETEAGENT", "COMPLETECALLER")
TRANSFER = ("TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER")
FLOW_OUT = ("EXITWITHTIMEOUT", "EXITWITHKEY", "EXITEMPTY")
NOT_CALLS = ("NONE", "MANAGER")


class Dump:
    """The vendor table dump, read independently of callkpi."""

    def __init__(self, path: Path) -> None:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [r for r in csv.DictReader(handle) if not r["event"].startswith("OUT")]
        self.rows = sorted(rows, key=lambda r: (int(r["date_time"]), int(r["uid"])))
        self.events = Counter(r["event"] for r in self.rows)
        self.legs = self._legs()

    def of(self, *events: str) -> list[dict]:
        return [r for r in self.rows if r["event"] in events]

    def _legs(self) -> list[dict]:
        """Split each callid's events at every ENTERQUEUE; classify each stay in a queue."""
        calls: dict[str, list[dict]] = defaultdict(list)
        for row in self.rows:
            if row["callid"] not in NOT_CALLS:
                calls[row["callid"]].append(row)
        legs = []
        for callid, rows in calls.items():
            current = None
            for row in rows:
                if row["event"] == "ENTERQUEUE":
                    current = {"callid": callid, "enter": int(row["date_time"]), "events": []}
                    legs.append(current)
                elif current is not None:
                    current["events"].append(row)
        for leg in legs:
            names = [r["event"] for r in leg["events"]]
            end = next((r for r in leg["events"] if r["event"] in (*COMPLETE, *TRANSFER, "ABANDON", *FLOW_OUT)), None)
            leg["connect"] = next((r for r in leg["events"] if r["event"] == "CONNECT"), None)
            leg["end"] = end
            if leg["connect"] is not None or (end is not None and end["event"] in (*COMPLETE, *TRANSFER)):
                leg["outcome"] = "answered"
            elif end is not None and end["event"] == "ABANDON":
                leg["outcome"] = "abandoned"
            elif end is not None:
                leg["outcome"] = "flowed_out"
            else:
                leg["outcome"] = "unknown"
            leg["names"] = names
        return legs


@pytest.fixture(scope="module")
def real() -> Iterator[tuple[Store, Dump, ImportReport]]:
    folder = real_pbxware()
    store = Store(":memory:")
    report = load_file(store, folder / "queue_log", Settings(), timezone=ZONE)
    yield store, Dump(folder / "queue_log_table.csv"), report
    store.close()


def test_loads_with_zero_quarantined_lines(real) -> None:
    store, dump, report = real
    assert report.quarantined == 0, report.issues[:5]
    assert store.row_count("quarantine") == 0
    assert report.lines_loaded == len(dump.rows)  # every event of the dump, OUT* rows aside
    raw = (real_pbxware() / "queue_log").read_text(encoding="utf-8").splitlines()
    assert Counter(line.split("|")[4] for line in raw) == dump.events  # the same events as the dump


def test_counts_per_event_match_the_dump(real) -> None:
    store, dump, _ = real
    row = total(store, timezone=ZONE)
    outcomes = Counter(leg["outcome"] for leg in dump.legs)
    abandons = [int(r["htime"]) for r in dump.of("ABANDON")]
    assert row["calls_offered"] == dump.events["ENTERQUEUE"] == len(dump.legs)
    assert row["calls_answered"] == outcomes["answered"]
    assert row["calls_abandoned"] == sum(1 for w in abandons if w >= 5)
    assert row["calls_short_abandoned"] == sum(1 for w in abandons if w < 5)
    assert row["calls_flowed_out"] == outcomes["flowed_out"] == sum(dump.events[e] for e in FLOW_OUT)
    assert row["calls_unknown_outcome"] == outcomes["unknown"]
    assert row["ring_no_answer"] == dump.events["RINGNOANSWER"]
    assert row["calls_handled"] == dump.events["CONNECT"]
    assert row["transfers"] == sum(dump.events[e] for e in TRANSFER)
    assert row["agent_answer_rate"] == pytest.approx(
        dump.events["CONNECT"] / (dump.events["CONNECT"] + dump.events["RINGNOANSWER"])
    )
    callids = {leg["callid"] for leg in dump.legs}
    answered_callids = {leg["callid"] for leg in dump.legs if leg["outcome"] == "answered"}
    assert row["calls_inbound"] == len(callids)
    assert row["calls_missed"] == len(callids - answered_callids)
    open_legs = [leg for leg in dump.legs if leg["end"] is None]
    findings = query_rows(store, "SELECT call_id FROM data_quality WHERE kind = 'leg_without_end'")
    assert sorted(f["call_id"] for f in findings) == sorted(leg["callid"] for leg in open_legs)


def test_wait_and_talk_totals_match_the_dump(real) -> None:
    store, dump, _ = real
    row = total(store, timezone=ZONE)
    answered = [leg for leg in dump.legs if leg["outcome"] == "answered"]
    assert all(leg["connect"] is not None for leg in answered)  # so ASA can be checked on CONNECT
    connect_waits = sum(int(r["htime"]) for r in dump.of("CONNECT"))
    assert row["asa_s"] * row["calls_answered"] == pytest.approx(connect_waits)
    talk_rows = dump.of(*COMPLETE, *TRANSFER)
    talk = sum(int(r["ttime"]) for r in talk_rows)
    assert row["att_s"] * len(talk_rows) == pytest.approx(talk)  # handled legs whose talk is known
    assert row["handle_s"] == pytest.approx(talk)  # no ACW pauses in this log: handle = talk
    waits = [int(r["htime"]) for r in dump.of("CONNECT", "ABANDON", *FLOW_OUT)]
    assert row["max_wait_s"] == pytest.approx(max(waits))
    long_abandons = [int(r["htime"]) for r in dump.of("ABANDON") if int(r["htime"]) >= 5]
    assert row["avg_abandon_wait_s"] == pytest.approx(sum(long_abandons) / len(long_abandons))
    assert row["avg_hold_s"] is None
    within = sum(1 for r in dump.of("CONNECT") if int(r["htime"]) <= 20)
    shorts = sum(1 for r in dump.of("ABANDON") if int(r["htime"]) < 5)
    assert row["service_level"] == pytest.approx(within / (len(dump.legs) - shorts))


def test_per_day_and_per_agent_match_the_dump(real) -> None:
    store, dump, _ = real
    zone = ZoneInfo(ZONE)
    by_day = Counter(
        datetime.fromtimestamp(leg["enter"], UTC).astimezone(zone).date().isoformat() for leg in dump.legs
    )
    days = by_key(kpis(store, ("day",), metrics=("calls_offered",), timezone=ZONE), "day")
    assert {d: r["calls_offered"] for d, r in days.items() if r["calls_offered"]} == dict(by_day)
    connects = Counter(r["type"].split("/", 1)[1] for r in dump.of("CONNECT"))
    rings = Counter(r["type"].split("/", 1)[1] for r in dump.of("RINGNOANSWER"))
    agents = by_key(kpis(store, ("agent",), metrics=("calls_handled", "ring_no_answer"), timezone=ZONE), "agent")
    assert {a: r["calls_handled"] for a, r in agents.items() if r["calls_handled"]} == dict(connects)
    assert {a: r["ring_no_answer"] for a, r in agents.items() if r["ring_no_answer"]} == dict(rings)
    whole = total(store, metrics=("logged_in_s", "handle_s"), timezone=ZONE)
    per_day = kpis(store, ("day",), metrics=("logged_in_s", "handle_s"), timezone=ZONE)
    assert sum(r["logged_in_s"] for r in per_day) == pytest.approx(whole["logged_in_s"])
    assert sum(r["handle_s"] for r in per_day) == pytest.approx(whole["handle_s"])


def test_loading_the_real_log_again_adds_nothing(real) -> None:
    store, _, _ = real
    before = store.row_count("queue_log_events")
    again = load_file(store, real_pbxware() / "queue_log", Settings(), timezone=ZONE)
    assert again.status == "unchanged"
    assert store.row_count("queue_log_events") == before
