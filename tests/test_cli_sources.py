"""`callkpi ingest --mapping` and `callkpi sources` for call exports and CDR files."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli

TWILIO = (
    "sid,start_time,end_time,duration,status,direction,from,to\n"
    "CA01,2026-03-02 09:00:00 UTC,2026-03-02 09:01:10 UTC,60,completed,inbound,+79161234567,+74951112233\n"
    "CA02,2026-03-02 09:10:00 UTC,2026-03-02 09:10:30 UTC,0,no-answer,inbound,+79031112233,+74951112233\n"
    "CA03,2026-03-02 09:20:00 UTC,2026-03-02 09:21:00 UTC,50,completed,outbound-api,+74951112233,89031112233\n"
)
CDR = (
    '"","79161234567","100","from-trunk","""Ivan"" <79161234567>","SIP/trunk-00000001","SIP/100-00000002",'
    '"Dial","SIP/100","2026-03-02 12:00:00","2026-03-02 12:00:05","2026-03-02 12:01:05",65,60,"ANSWERED",'
    '"DOCUMENTATION","1772442000.1","","","1772442000.1",1\n'
)


def _json(cli: Cli, *args: object) -> list[dict]:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_mapping_option_loads_a_cloud_export_and_sources_count_its_calls(cli: Cli, tmp_path: Path) -> None:
    export = tmp_path / "calls.csv"
    export.write_text(TWILIO, encoding="utf-8")
    master = tmp_path / "Master.csv"
    master.write_text(CDR, encoding="utf-8")
    db = tmp_path / "k.duckdb"
    refused = cli("ingest", "--db", db, "--format", "generic", export)
    assert refused.exit_code == 2 and "mapping" in refused.output
    loaded = cli("ingest", "--db", db, "--mapping", "twilio", "--tz", "Europe/Moscow", export, master)
    assert loaded.exit_code == 0, loaded.output
    rows = {Path(r["file"]).name: r for r in _json(cli, "sources", "--db", db, "--format", "json")}
    assert rows["calls.csv"]["format"] == "generic" and rows["calls.csv"]["calls"] == 3
    assert rows["Master.csv"]["format"] == "asterisk-cdr" and rows["Master.csv"]["calls"] == 1
    total = _json(cli, "kpi", "--db", db, "--format", "json", "--metrics", "calls_inbound,calls_missed,dials")[0]
    assert total == {"calls_inbound": 3, "calls_missed": 1, "dials": 1}
