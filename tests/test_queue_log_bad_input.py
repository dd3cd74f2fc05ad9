"""Bad input: every bad line is named by file and line, the good lines still load, and the exit
status of `callkpi ingest` says what happened (0 all loaded, 1 some lines quarantined, 2 a file
could not be loaded). Also the CSV export of the realtime queue_log table gives the KPIs of the
plain file holding the same events.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.storage import Store
from conftest import T0, kpis, ql_line, query_rows, write_log

approx = pytest.approx

GOOD = "\n".join([
    ql_line(T0, "1772442000.1", "sales", "NONE", "ENTERQUEUE", "", "74951234567", 1),
    ql_line(T0 + 12, "1772442000.1", "sales", "SIP/1001", "CONNECT", 12, "1772442005.2", 7),
    ql_line(T0 + 72, "1772442000.1", "sales", "SIP/1001", "COMPLETEAGENT", 12, 60, 1),
]) + "\n"


def _kpi_json(cli, db: Path, *args: str) -> list[dict]:
    result = cli("kpi", "--db", db, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _quarantine(cli, db: Path) -> list[dict]:
    result = cli("quarantine", "--db", db, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_clean_file_exits_0(cli, tmp_path) -> None:
    path = write_log(tmp_path, GOOD)
    result = cli("ingest", "--db", tmp_path / "k.duckdb", path)
    assert result.exit_code == 0, result.output
    assert _quarantine(cli, tmp_path / "k.duckdb") == []


def test_bad_lines_are_named_and_the_good_lines_load(cli, tmp_path) -> None:
    """Lines 2-4 and 7 are bad; the rest describes two calls:
    1 09:00:00 .1 ENTERQUEUE             5 09:00:12 .1 CONNECT holdtime 12
    2 truncated after the queue          6 09:01:12 .1 COMPLETEAGENT 12|60
    3 time 'abc'                         7 ABANDON of .2 without its waittime
    4 binary garbage (NUL bytes)         8 09:10:00 .3 ENTERQUEUE, 9 09:10:30 .3 ABANDON waittime 30
    """
    lines = [
        ql_line(T0, "1772442000.1", "sales", "NONE", "ENTERQUEUE", "", "74951234567", 1).encode(),
        b"1772442005|1772442000.1|sales",
        b"abc|1772442000.1|sales|SIP/1002|RINGNOANSWER|5000",
        b"\x00\x01\x02\xff\xfe|\x00garbage|\x80\x81|x|y",
        ql_line(T0 + 12, "1772442000.1", "sales", "SIP/1001", "CONNECT", 12, "1772442005.2", 7).encode(),
        ql_line(T0 + 72, "1772442000.1", "sales", "SIP/1001", "COMPLETEAGENT", 12, 60, 1).encode(),
        ql_line(T0 + 400, "1772442400.2", "sales", "NONE", "ABANDON", 1, 1).encode() + b"|",
        ql_line(T0 + 600, "1772442600.3", "sales", "NONE", "ENTERQUEUE", "", "74951234568", 1).encode(),
        ql_line(T0 + 630, "1772442600.3", "sales", "NONE", "ABANDON", 1, 1, 30).encode(),
    ]
    path = write_log(tmp_path, b"\n".join(lines) + b"\n", "bad.queue_log")
    db = tmp_path / "k.duckdb"
    result = cli("ingest", "--db", db, "--tz", "UTC", path)
    assert result.exit_code == 1, result.output  # some lines quarantined
    for line_no in (2, 3, 4, 7):
        assert f"{path}:{line_no}" in result.stderr, result.stderr
    rows = _quarantine(cli, db)
    assert [r["line"] for r in rows] == [2, 3, 4, 7]
    assert {r["file"] for r in rows} == {str(path)}
    reasons = {r["line"]: r["reason"].lower() for r in rows}
    assert "truncated" in reasons[2]
    assert "abc" in reasons[3] and "time" in reasons[3]
    assert "binary" in reasons[4] or "not text" in reasons[4]
    assert "abandon" in reasons[7] and "waittime" in reasons[7]
    row = _kpi_json(cli, db, "--metrics", "calls_offered,calls_answered,calls_abandoned,att_s")[0]
    assert row == {"calls_offered": 2, "calls_answered": 1, "calls_abandoned": 1, "att_s": 60.0}


def test_whole_file_of_binary_garbage_exits_2(cli, tmp_path) -> None:
    path = write_log(tmp_path, bytes(range(256)) * 8, "garbage.bin")
    good = write_log(tmp_path, GOOD, "good.queue_log")
    db = tmp_path / "k.duckdb"
    result = cli("ingest", "--db", db, path, good)
    assert result.exit_code == 2, result.output  # a file could not be loaded
    assert str(path) in result.stderr
    assert _kpi_json(cli, db, "--metrics", "calls_offered")[0]["calls_offered"] == 1  # the good file loaded


def test_empty_file_exits_2_and_other_files_still_load(cli, tmp_path) -> None:
    empty = write_log(tmp_path, "", "empty.queue_log")
    good = write_log(tmp_path, GOOD, "good.queue_log")
    db = tmp_path / "k.duckdb"
    result = cli("ingest", "--db", db, empty, good)
    assert result.exit_code == 2, result.output
    assert str(empty) in result.stderr
    assert "empty" in result.stderr.lower()
    assert _kpi_json(cli, db, "--metrics", "calls_offered")[0]["calls_offered"] == 1


def test_unknown_format_name_exits_2(cli, tmp_path) -> None:
    path = write_log(tmp_path, GOOD)
    result = cli("ingest", "--db", tmp_path / "k.duckdb", "--format", "nonsense", path)
    assert result.exit_code == 2, result.output
    assert "nonsense" in result.stderr
    assert "asterisk-queue-log" in result.stderr  # the known formats are listed


def _csv_text(rows: list[list[object]], header: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def test_csv_export_given_the_plain_format_exits_2(cli, tmp_path) -> None:
    """A table export named `--format asterisk-queue-log`: the file cannot be read that way; say
    so once for the file (exit 2), do not quarantine each of its lines as broken queue_log lines."""
    header = ["time", "callid", "queuename", "agent", "event", "data1", "data2", "data3", "data4", "data5"]
    path = write_log(tmp_path, _csv_text([[T0, "c1", "sales", "NONE", "ENTERQUEUE", "", "7495", 1, "", ""]], header),
                     "export.csv")
    db = tmp_path / "k.duckdb"
    result = cli("ingest", "--db", db, "--format", "asterisk-queue-log", path)
    assert result.exit_code == 2, result.output
    assert str(path) in result.stderr
    assert "asterisk-queue-log" in result.stderr
    assert _quarantine(cli, db) == []


def test_plain_log_given_the_csv_format_exits_2(cli, tmp_path) -> None:
    """A plain queue_log named `--format asterisk-queue-log-csv`: a clear message and exit 2, not a
    traceback."""
    path = write_log(tmp_path, GOOD)
    db = tmp_path / "k.duckdb"
    result = cli("ingest", "--db", db, "--format", "asterisk-queue-log-csv", path)
    assert result.exit_code == 2, result.output
    assert str(path) in result.stderr
    assert _quarantine(cli, db) == []


def test_a_queue_table_of_another_layout_is_read_as_its_own_not_half_loaded(cli, tmp_path) -> None:
    """PBXware keeps its own queue table (agent in `type`, parameters in param1..3, times
    precomputed): detected, it is read as that layout (every line loads); forced to be read as the
    Asterisk export it is refused with a clear message instead of being half loaded."""
    header = ["uid", "date_time", "callid", "queue_name", "type", "event", "param1", "param2", "param3",
              "entpos", "expos", "htime", "ttime", "time"]
    rows = [[1, T0, "c1", "sales", "NONE", "ENTERQUEUE", "", "7495", 1, 1, 0, 0, 0, "2026-03-02 09:00:00"],
            [2, T0 + 9, "c1", "sales", "Agent/1001", "RINGNOANSWER", "7495", "", "", 1, 1, 9000, 0,
             "2026-03-02 09:00:09"]]
    path = write_log(tmp_path, _csv_text(rows, header), "queue_table.csv")
    db = tmp_path / "k.duckdb"
    forced = cli("ingest", "--db", db, "--format", "asterisk-queue-log-csv", path)
    assert forced.exit_code == 2, forced.output
    assert str(path) in forced.stderr
    detected = cli("ingest", "--db", db, path)
    assert detected.exit_code == 0, detected.output
    assert "pbxware-queue-log-table" in detected.output
    assert "2 lines read, 2 loaded, 0 quarantined" in detected.output
    assert _quarantine(cli, db) == []


# -- the CSV export of the realtime queue_log table ---------------------------------------------

CSV_HEADER = ["time", "callid", "queuename", "agent", "event", "data1", "data2", "data3", "data4", "data5"]


def _events_march() -> list[tuple]:
    """Events of 2026-03-02 (America/New_York is EST, UTC-5: no ambiguity):
    14:00Z ADDMEMBER 1001 ... 16:00Z REMOVEMEMBER; PAUSE lunch 14:30Z-14:40Z;
    .1 14:05Z in, CONNECT 1001 holdtime 15, COMPLETEAGENT 15|120
    .2 14:20Z in (queue support), EXITWITHTIMEOUT waittime 30, then in sales, CONNECT 1002 holdtime 5,
       ATTENDEDTRANSFER BRIDGE|x|5|200 (5 data fields)
    .3 15:10Z in, RINGNOANSWER 1001 10000 ms, ABANDON waittime 40
    """
    b = 1772460000  # 2026-03-02 14:00:00 UTC = 09:00 EST
    return [
        (b, "NONE", "sales", "SIP/1001", "ADDMEMBER"),
        (b + 300, "1772460300.1", "sales", "NONE", "ENTERQUEUE", "", "74951110001", "1"),
        (b + 315, "1772460300.1", "sales", "SIP/1001", "CONNECT", "15", "1772460310.2", "5"),
        (b + 435, "1772460300.1", "sales", "SIP/1001", "COMPLETEAGENT", "15", "120", "1"),
        (b + 1200, "1772461200.3", "support", "NONE", "ENTERQUEUE", "", "74951110002", "1"),
        (b + 1230, "1772461200.3", "support", "NONE", "EXITWITHTIMEOUT", "1", "1", "30"),
        (b + 1230, "1772461200.3", "sales", "NONE", "ENTERQUEUE", "", "74951110002", "1"),
        (b + 1235, "1772461200.3", "sales", "SIP/1002", "CONNECT", "5", "1772461232.4", "3"),
        (b + 1435, "1772461200.3", "sales", "SIP/1002", "ATTENDEDTRANSFER", "BRIDGE", "1772461300.5", "5", "200",
         "1"),
        (b + 1800, "NONE", "sales", "SIP/1001", "PAUSE", "lunch"),
        (b + 2400, "NONE", "sales", "SIP/1001", "UNPAUSE"),
        (b + 4200, "1772464200.6", "sales", "NONE", "ENTERQUEUE", "", "74951110003", "1"),
        (b + 4210, "1772464200.6", "sales", "SIP/1001", "RINGNOANSWER", "10000"),
        (b + 4240, "1772464200.6", "sales", "NONE", "ABANDON", "1", "1", "40"),
        (b + 7200, "NONE", "sales", "SIP/1001", "REMOVEMEMBER"),
    ]


def _events_fall_back() -> list[tuple]:
    """America/New_York, 2026-11-01 (01:00-01:59 happens twice: EDT, then EST):
    04:30Z (00:30 EDT) ADDMEMBER 3001 ... 07:30Z (02:30 EST) REMOVEMEMBER
    .1 05:10:00Z = 01:10:00 EDT in; CONNECT 3001 holdtime 15; COMPLETEAGENT 15|120
    .2 05:59:50Z = 01:59:50 EDT in; 06:00:05Z = 01:00:05 EST CONNECT holdtime 15; COMPLETECALLER 15|60
    .3 06:20:00Z = 01:20:00 EST in; ABANDON waittime 30
    """
    return [
        (1793507400, "NONE", "helpdesk", "SIP/3001", "ADDMEMBER"),
        (1793509800, "1793509800.1", "helpdesk", "NONE", "ENTERQUEUE", "", "12125550101", "1"),
        (1793509815, "1793509800.1", "helpdesk", "SIP/3001", "CONNECT", "15", "1793509810.2", "5"),
        (1793509935, "1793509800.1", "helpdesk", "SIP/3001", "COMPLETEAGENT", "15", "120", "1"),
        (1793512790, "1793512790.3", "helpdesk", "NONE", "ENTERQUEUE", "", "12125550102", "1"),
        (1793512805, "1793512790.3", "helpdesk", "SIP/3001", "CONNECT", "15", "1793512800.4", "5"),
        (1793512865, "1793512790.3", "helpdesk", "SIP/3001", "COMPLETECALLER", "15", "60", "1"),
        (1793514000, "1793514000.5", "helpdesk", "NONE", "ENTERQUEUE", "", "12125550103", "1"),
        (1793514030, "1793514000.5", "helpdesk", "NONE", "ABANDON", "1", "1", "30"),
        (1793518200, "NONE", "helpdesk", "SIP/3001", "REMOVEMEMBER"),
    ]


def _plain(events: list[tuple]) -> str:
    return "\n".join("|".join(str(f) for f in e) for e in events) + "\n"


def _local_text(epoch: int, zone: str) -> str:
    return datetime.fromtimestamp(epoch, UTC).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


def _csv_export(events: list[tuple], *, zone: str | None, one_data_field: bool) -> str:
    """The table export: time as local text in `zone` (epoch when None), data1..data5 or `data`."""
    rows = []
    for epoch, callid, queue, agent, event, *data in events:
        when = str(epoch) if zone is None else _local_text(epoch, zone)
        if one_data_field:
            rows.append([when, callid, queue, agent, event, "|".join(data)])
        else:
            rows.append([when, callid, queue, agent, event, *(list(data) + [""] * 5)[:5]])
    header = [*CSV_HEADER[:5], "data"] if one_data_field else CSV_HEADER
    return _csv_text(rows, header)


COMPARED = (
    "calls_offered", "calls_answered", "calls_abandoned", "calls_flowed_out", "calls_unknown_outcome",
    "service_level", "asa_s", "avg_wait_s", "max_wait_s", "ring_no_answer", "agent_answer_rate", "calls_handled",
    "att_s", "transfers", "logged_in_s", "paused_s", "handle_s", "idle_s", "calls_inbound", "calls_missed",
)


def _views(store: Store, zone: str) -> dict[str, list[dict]]:
    return {
        by: kpis(store, tuple(by.split(",")) if by else (), metrics=COMPARED, timezone=zone, interval_minutes=30)
        for by in ("", "agent", "interval")
    }


def _load_both(tmp_path: Path, plain: str, export: str, zone: str) -> tuple[dict, dict, Store, Store]:
    plain_store, csv_store = Store(":memory:"), Store(":memory:")
    plain_report = load_file(plain_store, write_log(tmp_path, plain, "queue_log"), Settings(), timezone=zone)
    csv_report = load_file(csv_store, write_log(tmp_path, export, "queue_log.csv"), Settings(), timezone=zone)
    assert plain_report.quarantined == 0, plain_report.issues
    assert csv_report.format == "asterisk-queue-log-csv"
    assert csv_report.quarantined == 0, csv_report.issues
    return _views(plain_store, zone), _views(csv_store, zone), plain_store, csv_store


@pytest.mark.parametrize(
    ("time_as", "one_data_field"),
    [("local_text", False), ("epoch", True)],
    ids=["local-time-data1-data5", "epoch-one-data-field"],
)
def test_csv_export_gives_the_kpis_of_the_plain_file(tmp_path, time_as, one_data_field) -> None:
    zone = "America/New_York"
    events = _events_march()
    export = _csv_export(events, zone=zone if time_as == "local_text" else None, one_data_field=one_data_field)
    from_plain, from_csv, *stores = _load_both(tmp_path, _plain(events), export, zone)
    assert from_csv == from_plain
    # and the numbers are the hand-computed ones, so both are not equally wrong
    row = from_plain[""][0]
    assert row["calls_offered"] == 4  # .1, .2 twice (support then sales), .3
    assert row["calls_answered"] == 2
    assert row["calls_flowed_out"] == 1
    assert row["calls_abandoned"] == 1
    assert row["att_s"] == approx(160.0)  # (120 + 200) / 2
    assert row["transfers"] == 1
    assert row["logged_in_s"] == approx(7200.0)  # 1001 09:00-11:00 EST
    assert row["paused_s"] == approx(600.0)
    assert row["calls_inbound"] == 3
    assert row["calls_missed"] == 1  # .3
    for store in stores:
        store.close()


def test_csv_export_with_local_time_in_the_dst_fall_back_hour(tmp_path) -> None:
    """Local text 01:xx on 2026-11-01 in New York is ambiguous. The rows come in time order (as
    Asterisk writes them): 01:10 EDT, 01:59:50 EDT, then 01:00:05 EST ... so the export's times
    can be placed; the KPIs must be those of the plain file with UTC epochs."""
    zone = "America/New_York"
    events = _events_fall_back()
    export = _csv_export(events, zone=zone, one_data_field=False)
    assert "2026-11-01 01:59:50" in export and "2026-11-01 01:00:05" in export
    from_plain, from_csv, *stores = _load_both(tmp_path, _plain(events), export, zone)
    row = from_plain[""][0]
    assert row["calls_offered"] == 3
    assert row["calls_answered"] == 2
    assert row["asa_s"] == approx(15.0)  # (15 + 15) / 2
    assert row["att_s"] == approx(90.0)  # (120 + 60) / 2
    assert row["calls_abandoned"] == 1
    assert row["logged_in_s"] == approx(10800.0)  # 04:30Z-07:30Z
    assert from_csv[""] == from_plain[""]
    assert from_csv["interval"] == from_plain["interval"]
    for store in stores:
        store.close()


def test_same_events_from_file_and_table_export_count_once(store, tmp_path) -> None:
    """docs/queue_log.md: the same lines loaded from the log and from a table export count once."""
    zone = "America/New_York"
    events = _events_march()
    load_file(store, write_log(tmp_path, _plain(events), "queue_log"), Settings(), timezone=zone)
    before = kpis(store, (), metrics=COMPARED, timezone=zone)
    export = _csv_export(events, zone=None, one_data_field=False)
    load_file(store, write_log(tmp_path, export, "queue_log.csv"), Settings(), timezone=zone)
    assert kpis(store, (), metrics=COMPARED, timezone=zone) == before


def test_csv_export_bad_time_is_quarantined_with_its_line(store, tmp_path) -> None:
    """Row 3 of the export (file line 4, after the header) has the time 'yesterday'."""
    events = _events_march()
    export = _csv_export(events, zone="America/New_York", one_data_field=False).splitlines()
    cells = export[3].split(",")
    export[3] = ",".join(["yesterday", *cells[1:]])
    path = write_log(tmp_path, "\n".join(export) + "\n", "export.csv")
    report = load_file(store, path, Settings(), timezone="America/New_York")
    assert [i.line_no for i in report.issues] == [4]
    assert "yesterday" in report.issues[0].reason
    rows = query_rows(store, "SELECT path, line_no FROM quarantine")
    assert rows == [{"path": str(path), "line_no": 4}]
    assert report.lines_loaded == len(events) - 1
