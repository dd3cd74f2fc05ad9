"""Issue 12 item 9: data-quality findings for sessions longer than a shift, queue_log lines out of
time order and handled legs credited to something that is not an agent; each says what it affects
and how to fix it."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import SHARED, load_text, ql_line, query_rows

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.storage import Store

T0 = 1772442000  # 2026-03-02 09:00:00 UTC
REAL = SHARED / "data" / "real"


def _findings(store: Store, kind: str) -> list[dict]:
    return query_rows(store, "SELECT agent, time_utc, detail FROM data_quality WHERE kind = ? ORDER BY agent",
                      [kind])


def _sessions_log() -> str:
    """Agent 101 logged in 15 h (09:00 to 00:00), agent 102 8 h."""
    return "\n".join([
        ql_line(T0, "NONE", "NONE", "Agent/101", "AGENTLOGIN", "SIP/101"),
        ql_line(T0 + 60, "NONE", "NONE", "Agent/102", "AGENTLOGIN", "SIP/102"),
        ql_line(T0 + 60 + 8 * 3600, "NONE", "NONE", "Agent/102", "AGENTLOGOFF", "SIP/102", 8 * 3600),
        ql_line(T0 + 15 * 3600, "NONE", "NONE", "Agent/101", "AGENTLOGOFF", "SIP/101", 15 * 3600),
    ]) + "\n"


def test_a_session_longer_than_a_shift_is_a_finding(store: Store, tmp_path: Path) -> None:
    load_text(store, tmp_path, _sessions_log())
    found = _findings(store, "session_too_long")
    assert [f["agent"] for f in found] == ["101"]
    assert found[0]["detail"].startswith("logged in for 15.0 h from 2026-03-02 09:00:00 UTC")
    assert "logged_in_s" in found[0]["detail"] and "max_shift_h" in found[0]["detail"]


def test_the_shift_length_is_a_setting(store: Store, tmp_path: Path) -> None:
    load_text(store, tmp_path, _sessions_log(), settings=Settings.model_validate({"ingest": {"max_shift_h": 16}}))
    assert _findings(store, "session_too_long") == []


def test_lines_out_of_time_order_are_a_finding(store: Store, tmp_path: Path) -> None:
    text = "\n".join([
        ql_line(T0, "c1", "sales", "NONE", "ENTERQUEUE", "", "5551234567", 1),
        ql_line(T0 + 100, "c1", "sales", "NONE", "ABANDON", 1, 1, 100),
        ql_line(T0 + 40, "c2", "sales", "NONE", "ENTERQUEUE", "", "5557654321", 1),  # 60 s behind line 2
        ql_line(T0 + 200, "c2", "sales", "NONE", "ABANDON", 1, 1, 160),
    ]) + "\n"
    load_text(store, tmp_path, text)
    found = _findings(store, "lines_out_of_order")
    assert len(found) == 1
    assert "1 line(s) are earlier than a line before them (first: line 3, up to 60 s back)" in found[0]["detail"]


def test_in_order_lines_give_no_finding(store: Store, tmp_path: Path) -> None:
    load_text(store, tmp_path, _sessions_log())
    assert _findings(store, "lines_out_of_order") == []


def test_a_handled_leg_on_an_external_number_is_a_finding(store: Store, tmp_path: Path) -> None:
    text = "\n".join([
        ql_line(T0, "c1", "sales", "NONE", "ENTERQUEUE", "", "5551234567", 1),
        ql_line(T0 + 10, "c1", "sales", "Local/5215512345678@from-trunk", "CONNECT", 10, "c1b", 5),
        ql_line(T0 + 70, "c1", "sales", "Local/5215512345678@from-trunk", "COMPLETECALLER", 10, 60, 1),
        ql_line(T0 + 100, "c2", "sales", "NONE", "ENTERQUEUE", "", "5557654321", 1),
        ql_line(T0 + 110, "c2", "sales", "SIP/101", "CONNECT", 10, "c2b", 5),
        ql_line(T0 + 170, "c2", "sales", "SIP/101", "COMPLETECALLER", 10, 60, 1),
    ]) + "\n"
    load_text(store, tmp_path, text)
    found = _findings(store, "agent_not_an_agent")
    assert len(found) == 1
    assert found[0]["detail"].startswith("1 handled leg(s) (0.0 h talk) are credited to agent ")
    assert "an external number" in found[0]["detail"] and "[agents.aliases]" in found[0]["detail"]


@pytest.mark.skipif(not (REAL / "pbxware-us-2018" / "queue_log").is_file(), reason="real data not found")
def test_real_pbxware_agent_1109_has_a_session_too_long() -> None:
    with Store(":memory:") as store:
        load_file(store, REAL / "pbxware-us-2018" / "queue_log", Settings(), timezone="UTC")
        agents = {f["agent"] for f in _findings(store, "session_too_long")}
        assert "1109" in agents


@pytest.mark.skipif(not (REAL / "elastix-mx-2013" / "cdr.csv").is_file(), reason="real data not found")
def test_real_elastix_external_number_and_blank_agent_are_findings() -> None:
    with Store(":memory:") as store:
        load_file(store, REAL / "elastix-mx-2013" / "cdr.csv", Settings(), timezone="America/Mexico_City")
        agents = [f["agent"] for f in _findings(store, "agent_not_an_agent")]
        # the trunk forward's number and the blank agent; with Local halves joined (item 4), calls
        # answered on a forwarded mobile (dialled as 911911044 + number) are flagged as well
        assert {"528000220276", None} <= set(agents)
        assert all(a is None or (a.isdigit() and len(a) >= 7) for a in agents)
        assert all(a is None or a == "528000220276" or a.startswith("911911") for a in agents)


# -- a transfer the queue_log did not record ---------------------------------------------------

_TRANSFER_CDR = "\n".join([
    # 09:00:00 the trunk enters Queue(sales), bridged to 101 (the queue_log's CONNECT at 09:00:10)
    '"","79161234567","1000","from-trunk","""79161234567"" <79161234567>","SIP/trunk1-00000001",'
    '"SIP/101-00000002","Queue","sales,t,,,300","2026-03-02 09:00:00","2026-03-02 09:00:00",'
    '"2026-03-02 09:01:10",70,70,"ANSWERED","DOCUMENTATION","1772442000.1","","","1772442000.1",1',
    # 09:01:10 101 transfers on the phone: the caller's channel dials 102, answered 09:01:12, 58 s
    '"","79161234567","102","from-internal","""79161234567"" <79161234567>","SIP/trunk1-00000001",'
    '"SIP/102-00000004","Dial","SIP/102,30","2026-03-02 09:01:10","2026-03-02 09:01:12",'
    '"2026-03-02 09:02:10",60,58,"ANSWERED","DOCUMENTATION","1772442000.1","","","1772442000.1",2',
]) + "\n"


def _transfer_log(closing: str) -> str:
    return "\n".join([
        ql_line(T0, "1772442000.1", "sales", "NONE", "ENTERQUEUE", "", "79161234567", 1),
        ql_line(T0 + 10, "1772442000.1", "sales", "SIP/101", "CONNECT", 10, "1772442010.2", 10),
        closing,
    ]) + "\n"


def _load_transfer(store: Store, tmp_path: Path, closing: str) -> None:
    (tmp_path / "cdr.csv").write_text(_TRANSFER_CDR, encoding="utf-8")
    load_text(store, tmp_path, _transfer_log(closing))
    load_file(store, tmp_path / "cdr.csv", Settings(), timezone="UTC")


def test_cdr_talk_on_another_agent_after_connect_is_an_unlogged_transfer(store: Store, tmp_path: Path) -> None:
    """The queue_log connects 101 at 09:00:10 and closes with COMPLETEAGENT after 120 s of talk
    (it never saw the transfer); the CDR shows 102 answering at 09:01:12, 62 s after CONNECT."""
    _load_transfer(store, tmp_path, ql_line(T0 + 130, "1772442000.1", "sales", "SIP/101", "COMPLETEAGENT",
                                            10, 120, 1))
    found = _findings(store, "transfer_not_in_queue_log")
    assert [(f["agent"], str(f["time_utc"])) for f in found] == [("102", "2026-03-02 09:01:12")]
    detail = found[0]["detail"]
    assert "102 talking (58 s)" in detail and "CONNECT to 101" in detail  # the CDR's billsec of 102's row
    assert "transfer_rate" in detail and "(120 s)" in detail  # what it affects: 101's transfers, 120 s of talk
    assert "Fix:" in detail and "BLINDTRANSFER" in detail


def test_a_transfer_the_queue_log_records_is_no_finding(store: Store, tmp_path: Path) -> None:
    """The same call, closed by BLINDTRANSFER (to 102, hold 10, talk 60): the queue_log knows."""
    _load_transfer(store, tmp_path, ql_line(T0 + 70, "1772442000.1", "sales", "SIP/101", "BLINDTRANSFER",
                                            "102", "from-internal", 10, 60, 1))
    assert _findings(store, "transfer_not_in_queue_log") == []
