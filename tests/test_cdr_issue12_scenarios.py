"""Hand-made scenarios for the rules behind issue 12 (items 1-6, 8, 11, 12).

Each scenario file in ``tests/scenarios/`` is a few CDR rows (T0 = 2026-03-02 09:00:00 UTC, a
Monday); the docstring of its test says what each row is and every expected value is worked out
by hand next to the assertion. A rule callkpi breaks today is ``xfail(strict=True)`` with the
issue item, so the lead sees it turn into a pass (and unmarks it) when the fix lands.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.metrics.catalogue import REGISTRY
from callkpi.storage import Store
from conftest import SCENARIOS, by_key, kpis, query_rows, total


def load(store: Store, tmp_path: Path, *names: str, settings: Settings | None = None, tz: str = "UTC") -> None:
    for name in names:
        path = tmp_path / name
        shutil.copy(SCENARIOS / name, path)
        load_file(store, path, settings or Settings(), timezone=tz)


def calls(store: Store) -> list[dict]:
    return query_rows(store, "SELECT call_id, direction, answered, agent, talk_s, trunk FROM calls ORDER BY start_utc")


# -- item 4: the two halves of a Local channel (Asterisk < 12, no linkedid) --------------------

LOCAL_HALVES = "local_halves.cdr.csv"


def test_local_halves_are_one_call(store: Store, tmp_path: Path) -> None:
    """Rows 1-2: the trunk SIP/provider brings 5551234567 to ring group 600, which dials
    Local/5559876543@from-internal-0a1b;1 (a forward to a mobile); its ;2 half writes its own row
    (uniqueid .3) dialling the mobile through the trunk, answered 5 s later, 60 s of talk.
    Rows 3-4: phone 201 calls queue 1000, whose member is Local/202@from-queue-0c0d;1; the ;2 half
    rings SIP/202, answered, 30 s. Asterisk CDR specification, "Local Channels"
    (docs/sources.md#asterisk-cdr): both halves are one path."""
    load(store, tmp_path, LOCAL_HALVES)
    assert total(store, metrics=["calls_inbound", "calls_outbound", "calls_internal", "calls_missed"]) == {
        "calls_inbound": 1,  # the customer's call (rows 1-2)
        "calls_outbound": 0,  # the forward to the mobile is not a call of its own
        "calls_internal": 1,  # 201 -> queue 1000 -> 202 (rows 3-4)
        "calls_missed": 0,  # the forwarded mobile answered
    }
    assert [(c["direction"], c["answered"], c["talk_s"]) for c in calls(store)] == [
        ("inbound", True, 60.0),  # billsec of the ;2 row; the ;1 row repeats the same 60 s
        ("internal", True, 30.0),
    ]


def test_local_halves_keep_every_row(store: Store, tmp_path: Path) -> None:
    """Whatever the grouping, the four rows are stored (nothing lost)."""
    load(store, tmp_path, LOCAL_HALVES)
    assert query_rows(store, "SELECT count(*) AS n FROM cdr_records") == [{"n": 4}]


def test_ring_group_members_join_the_callers_call(store: Store, tmp_path: Path) -> None:
    """Asterisk < 12, no linkedid. 09:00 the trunk brings 5551234567 to ring group 600, which dials
    Local/201 and Local/202; the caller's row names only Local/201;1. 201's ;2 half answers (60 s);
    202's ;2 half (uniqueid .4) rings 10 s unanswered and no row names it: it starts while the
    caller's call is up and comes from the same 7+-digit number, so it is a ring of that call, not
    an internal call of its own. 11:00 a Local-only row from extension 201 (no 7+-digit caller) stays
    a call of its own: 201 -> 203, internal, 30 s."""
    load(store, tmp_path, "ring_members.cdr.csv")
    assert [(c["direction"], c["answered"], c["talk_s"]) for c in calls(store)] == [
        ("inbound", True, 60.0),  # rows 1-3: one call, the talk of 201's ;2 row
        ("internal", True, 30.0),  # row 4
    ]
    assert query_rows(store, "SELECT count(DISTINCT call_key) AS n FROM cdr_records WHERE start_utc < "
                             "TIMESTAMP '2026-03-02 10:00:00'") == [{"n": 1}]


def test_a_dial_no_trunk_answered_is_no_talk_and_phones_in_turn_add_up(store: Store, tmp_path: Path) -> None:
    """Row 1: 468 dials the feature code 7784660 (ChanSpy), answered by the application, 53 s, no
    dstchannel: an outbound attempt (7 digits) that no callee answered (answered by the PBX, no talk).
    Rows 2-3 (one uniqueid): 468 talks to 466 for 16 s, then its channel dials 464, 44 s: one internal
    call whose talk is 16 + 44 = 60 s."""
    load(store, tmp_path, "pbx_answered_dials.cdr.csv")
    assert [(c["direction"], c["answered"], c["talk_s"]) for c in calls(store)] == [
        ("outbound", False, None), ("internal", True, 60.0)]
    assert query_rows(store, "SELECT outcome FROM calls ORDER BY start_utc") == [
        {"outcome": "answered_by_pbx"}, {"outcome": "answered"}]
    assert query_rows(store, "SELECT outcome, talk_s FROM agent_legs") == [{"outcome": "failed", "talk_s": None}]


# -- item 5: channel names -------------------------------------------------------------------


def test_a_conference_room_is_not_a_dialled_number(store: Store, tmp_path: Path) -> None:
    """PBXware ConfBridge dial-out (linkedid .350): the conference invites 3323 through
    Local/3323@local-call;1, whose row runs ConfBridge with dst = the room 33181543606263 (14 digits);
    the ;2 half dials PJSIP/3323, answered after 9 s, 18 s. No trunk: an internal call answered by
    3323, 18 s of talk, not an outbound call to a 14-digit customer."""
    load(store, tmp_path, "confbridge_dialout.cdr.csv")
    assert [(c["direction"], c["answered"], c["talk_s"], c["trunk"]) for c in calls(store)] == [
        ("internal", True, 18.0, None)]


def test_iax2_channel_is_peer_and_call_number(store: Store, tmp_path: Path) -> None:
    """Row 1: IAX2/715-16 (peer 715, call number 16) calls SIP/468; row 2: SIP/468 calls
    IAX2/715-17. 715 is extension-shaped: both calls are internal, no trunk."""
    load(store, tmp_path, "iax2_peer.cdr.csv")
    assert [(c["direction"], c["trunk"]) for c in calls(store)] == [("internal", None), ("internal", None)]


# -- item 3: wait that a CDR cannot know -----------------------------------------------------


def test_queue_app_wait_is_not_recorded(store: Store, tmp_path: Path) -> None:
    """One row: the trunk enters Queue(sales); Queue() answers at once (answer = start, billsec =
    duration = 120 s) and SIP/101 is bridged at a moment the CDR does not record. The queue wait
    is unknown: ASA, SL and average wait are null (not 0 s / 100 %); the call still counts."""
    load(store, tmp_path, "queue_app_wait.cdr.csv")
    row = total(store, metrics=["calls_offered", "calls_answered", "asa_s", "service_level", "avg_wait_s"])
    assert row == {"calls_offered": 1, "calls_answered": 1, "asa_s": None, "service_level": None, "avg_wait_s": None}


def test_queue_app_wait_is_stored_null(store: Store, tmp_path: Path) -> None:
    """The same row: the queue leg is answered by 101 with wait NULL (not 0 s: answer = start is
    Queue()'s own answer), entered at the row's start 09:00:00; the call's wait is NULL too and
    its talk is the row's billsec, 120 s."""
    load(store, tmp_path, "queue_app_wait.cdr.csv")
    assert query_rows(store, "SELECT queue, outcome, agent, wait_s, strftime(enter_utc, '%H:%M:%S') AS enter "
                             "FROM queue_legs") == [
        {"queue": "sales", "outcome": "answered", "agent": "101", "wait_s": None, "enter": "09:00:00"}]
    assert query_rows(store, "SELECT answered, wait_s, talk_s FROM calls") == [
        {"answered": True, "wait_s": None, "talk_s": 120.0}]


def test_dial_wait_is_the_ring_time(store: Store, tmp_path: Path) -> None:
    """Dial() (no queue) does not answer the caller: agent_answer_rate.cdr.csv row 1 rings SIP/101
    from the trunk at 09:00:00, answered 09:00:10: the blank-queue leg's wait is that ring, 10 s."""
    load(store, tmp_path, AGENT_DAY)
    assert query_rows(store, "SELECT queue, wait_s FROM queue_legs") == [{"queue": None, "wait_s": 10.0}]


# -- item 2: the CDR beside the queue_log ----------------------------------------------------


@pytest.mark.parametrize("order", [("mixed.queue_log", "mixed.cdr.csv"), ("mixed.cdr.csv", "mixed.queue_log")],
                         ids=["queue_log-first", "cdr-first"])
def test_cdr_beside_queue_log_leaves_queue_kpis(store: Store, tmp_path: Path, order: tuple[str, str]) -> None:
    """queue_log: call .1 enters queue sales at T0, CONNECT to SIP/101 after 10 s, 60 s talk.
    CDR: the same call (linkedid .1), and call .5 at T0+1 h that only reached an AGI IVR (answered
    by the PBX, 80 s, no agent). The queue KPIs are the queue_log's alone; the IVR call is an
    inbound call, not a queue leg."""
    load(store, tmp_path, *order)
    row = total(store, metrics=["calls_offered", "calls_answered", "calls_abandoned", "service_level", "asa_s",
                                "calls_inbound"])
    assert row == {
        "calls_offered": 1,  # only call .1 entered a queue
        "calls_answered": 1,
        "calls_abandoned": 0,  # the IVR call is not abandoned from a queue
        "service_level": 1.0,  # 10 s <= 20 s, 1 of 1
        "asa_s": 10.0,  # the queue_log's holdtime
        "calls_inbound": 2,
    }


# -- items 6 and 1: ratio bases and components the CDR does not record ------------------------

AGENT_DAY = "agent_answer_rate.cdr.csv"


def test_agent_answer_rate_counts_only_offers(store: Store, tmp_path: Path) -> None:
    """Agent 101: one inbound call rings and is answered (row 1); then 101 dials three customers
    (rows 2-4, answered) and phones 102 (row 5). Offers rung to 101: 1, answered: 1."""
    load(store, tmp_path, AGENT_DAY)
    agent = by_key(kpis(store, ["agent"], metrics=["agent_answer_rate"]), "agent")["101"]
    assert agent["agent_answer_rate"] == 1.0  # 1 / 1, not 4 / 1


def test_components_a_cdr_does_not_record_are_null(store: Store, tmp_path: Path) -> None:
    """The same CDR has no after-call work and no logged-in sessions: acw_s and occupancy are
    null ("not recorded"), not 0 s and 100 %."""
    load(store, tmp_path, AGENT_DAY)
    row = total(store, metrics=["acw_s", "occupancy", "utilization"])
    assert row == {"acw_s": None, "occupancy": None, "utilization": None}


def test_direction_counts_of_the_agent_day(store: Store, tmp_path: Path) -> None:
    """Row 1 inbound, rows 2-4 outbound (dialled the trunk), row 5 internal (101 -> 102)."""
    load(store, tmp_path, AGENT_DAY)
    assert total(store, metrics=["calls_inbound", "calls_outbound", "calls_internal", "dials"]) == {
        "calls_inbound": 1, "calls_outbound": 3, "calls_internal": 1, "dials": 3}


# -- item 12: a count per number is not a percentage ----------------------------------------


def test_attempts_per_number_is_a_count_per_number(store: Store, tmp_path: Path) -> None:
    """Rows 2-4 dial 79030000001 once and 79030000002 twice: 3 dials / 2 numbers = 1.5 per number."""
    load(store, tmp_path, AGENT_DAY)
    assert total(store, metrics=["attempts_per_number"]) == {"attempts_per_number": 1.5}
    assert REGISTRY.metrics["attempts_per_number"].unit != "ratio"


# -- item 8: callbacks through a dial prefix -------------------------------------------------

CALLBACK = "dial_prefix_callback.cdr.csv"
MX_PHONE = {"country_code": "52", "national_length": 10}


def test_missed_call_before_the_callback(store: Store, tmp_path: Path) -> None:
    """Row 1: 5540554516 rings SIP/468 via the trunk SIP/mambo at T0, no answer: one missed call.
    Row 2: at T0+2 h, 468 dials 911911 044 5540554516 (the site's callback prefix), answered."""
    load(store, tmp_path, CALLBACK, settings=Settings.model_validate({"phone": MX_PHONE}))
    assert total(store, metrics=["calls_missed", "dials"]) == {"calls_missed": 1, "dials": 1}


def test_callback_through_a_dial_prefix(store: Store, tmp_path: Path) -> None:
    """With the prefix 911911044 in the phone settings the dial of row 2 is 5540554516: the
    missed call was called back (and reached) within 24 h."""
    settings = Settings.model_validate({"phone": {**MX_PHONE, "dial_prefixes": ["911911044"]}})
    load(store, tmp_path, CALLBACK, settings=settings)
    assert total(store, metrics=["callback_rate", "callback_success_rate", "missed_unreturned"]) == {
        "callback_rate": 1.0, "callback_success_rate": 1.0, "missed_unreturned": 0}


def test_one_dialled_number_does_not_suggest_a_dial_prefix(store: Store, tmp_path: Path) -> None:
    """The suggestion needs at least 3 dialled numbers that are the prefix + a caller's number
    (one could be chance); tests/test_dial_prefixes.py loads three and finds 911911044."""
    load(store, tmp_path, CALLBACK, settings=Settings.model_validate({"phone": MX_PHONE}))
    kinds = [r["kind"] for r in query_rows(store, "SELECT kind FROM data_quality")]
    assert "dial_prefix_suggested" not in kinds


# -- item 11: a call just after midnight without an answer time ------------------------------


def test_queue_entry_is_never_before_the_call(store: Store, tmp_path: Path, monkeypatch) -> None:
    """One export row (mapping with wait but no answer column): start 00:00:05 UTC, duration 100,
    talk 90, wait 30. Answer derived as start + 100 - 90 = 00:00:15; entry = answer - wait would be
    23:59:45 of the day before. Entry must be >= start: the leg is offered on 2026-03-02."""
    mapping = tmp_path / "midnight_no_answer.toml"
    shutil.copy(SCENARIOS / "midnight_no_answer.toml", mapping)
    monkeypatch.setenv("CALLKPI_MAPPING", str(mapping))
    path = tmp_path / "midnight_no_answer.csv"
    shutil.copy(SCENARIOS / "midnight_no_answer.csv", path)
    load_file(store, path, Settings.model_validate({"cdr": {"mapping": str(mapping)}}), fmt="generic", timezone="UTC")
    legs = query_rows(store, "SELECT q.enter_utc >= c.start_utc AS after_start FROM queue_legs q JOIN calls c "
                             "USING (call_id)")
    assert legs == [{"after_start": True}]
    days = {str(r["day"]): r["calls_offered"] for r in kpis(store, ["day"], metrics=["calls_offered"])}
    assert days == {"2026-03-02": 1}


PBX_FORWARD = "pbx_forward_not_callback.cdr.csv"


def test_a_ring_group_forward_placed_by_the_pbx_is_no_callback(store: Store, tmp_path: Path) -> None:
    """Row 1: 5540554516 rings SIP/468 at T0, no answer: one missed call. Row 2: at T0+1 h the PBX
    forwards a ring-group call to the same mobile through Local/...;2 -> SIP/Nextor (no linkedid,
    every channel Local, the caller's row not in the file): nobody dialled the customer, so the
    missed call stays unreturned (callback rate 0/1), though the forward is an outbound call."""
    load(store, tmp_path, PBX_FORWARD, settings=Settings.model_validate({"phone": MX_PHONE}))
    assert total(store, metrics=["calls_missed", "calls_outbound", "callback_rate", "missed_unreturned"]) == {
        "calls_missed": 1, "calls_outbound": 1, "callback_rate": 0.0, "missed_unreturned": 1}


SUMMARY_ROWS = "summary_rows.cdr.csv"


def test_summary_rows_answered_with_no_talk_are_answered_by_the_pbx(store: Store, tmp_path: Path) -> None:
    """A 6-column "CDR report" (calldate, src, dst, duration, billsec, disposition; CR LF lines), one row
    per call, no channels:

        09:00 114 -> 113        ANSWERED 6 s billsec      internal, a person talked 6 s
        09:10 114 -> 110        ANSWERED 0 s              internal, answered by the PBX (no talk)
        09:20 114 -> 109        NO ANSWER                 internal, not answered
        09:30 912345678 -> 113  ANSWERED 60 s             inbound, 113 talked 60 s
        09:40 912345679 -> 113  NO ANSWER                 inbound, missed
        09:50 912345670 -> 600  ANSWERED 0 s              inbound, answered by the PBX: missed, no talk
        10:00 114 -> 912345671  ANSWERED 0 s              outbound, only the PBX answered: 114's dial failed
    """
    load(store, tmp_path, SUMMARY_ROWS)
    outcomes = [(r["direction"], r["outcome"], r["talk_s"]) for r in query_rows(
        store, "SELECT direction, outcome, talk_s FROM calls ORDER BY start_utc")]
    assert outcomes == [("internal", "answered", 6.0), ("internal", "answered_by_pbx", None),
                        ("internal", "no_answer", None), ("inbound", "answered", 60.0),
                        ("inbound", "no_answer", None), ("inbound", "answered_by_pbx", None),
                        ("outbound", "answered_by_pbx", None)]
    assert total(store, metrics=["calls_inbound", "calls_internal", "calls_missed", "calls_outbound"]) == {
        "calls_inbound": 3, "calls_internal": 3, "calls_missed": 2, "calls_outbound": 1}
    legs = query_rows(store, "SELECT agent, outcome, talk_s FROM agent_legs ORDER BY offer_utc")
    assert legs == [{"agent": "113", "outcome": "answered", "talk_s": 60.0},
                    {"agent": "113", "outcome": "no_answer", "talk_s": None},
                    {"agent": "114", "outcome": "failed", "talk_s": None}]
    talk = query_rows(store, "SELECT sum(talk_s) AS talk FROM calls WHERE answered")[0]["talk"]
    assert talk == 66.0  # 6 + 60: the two PBX answers add no talk
