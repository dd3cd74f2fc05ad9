"""One missed-call worklist: `callkpi missed --format json`, ``/api/v1/missed`` and the web's missed
page give the same rows on the same data, and those rows are the ones worked out by hand here.

The scenario (Asterisk Master.csv, times after T0 = 2026-03-02 09:00 UTC, business zone UTC):

- A 79161112233 missed at T0+2 h, called back (answered) at T0+3 h: returned, on no list;
- B 74952223344 missed at T0+4 h and T0+5 h, never returned: on the list, 2 calls;
- C 79990001122 missed at T0+6 h, never returned, marked handled in the web: on no list;
- D 79035556677 missed at T0+7 h; its source cannot say whether it was answered (answered NULL):
  a call nobody can show was answered waits for a callback, so it is on the list.

Ages count to T0+10 h: B waited 5 h (since T0+5 h), D 3 h; neither beyond the 24 h window.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from callkpi.config import Settings
from callkpi.queries.web_tables import ensure_web_schema
from callkpi.storage import Store
from callkpi.web.app import create_app
from callkpi.web.auth import create_token, create_user
from test_cdr_asterisk import T0, cdr, master_csv

HOUR = 3600
PASSWORD = "a-long-password"
AS_OF = T0 + timedelta(hours=10)
TRUNK = "SIP/trunk1-000000{:02d}"


def scenario() -> str:
    def missed(number: str, at_h: float, n: int) -> list[str]:
        return cdr(number, "4951112233", TRUNK.format(n), f"SIP/101-0000{n:04d}", at_h * HOUR, None,
                   at_h * HOUR + 20, "NO ANSWER", linkedid=f"{n}.1")

    return master_csv([
        missed("79161112233", 2, 1),
        cdr("101", "79161112233", "SIP/101-00000090", TRUNK.format(91), 3 * HOUR, 3 * HOUR + 5, 3 * HOUR + 65,
            "ANSWERED", linkedid="2.1", dcontext="from-internal", lastdata="SIP/trunk1/79161112233,60"),
        missed("74952223344", 4, 3),
        missed("74952223344", 5, 4),
        missed("79990001122", 6, 5),
        missed("79035556677", 7, 6),
    ])


def expected_rows() -> list[tuple[str, int, str, str, float]]:
    """(number, calls, first missed, last missed, age in hours), the longest waiting first."""
    return [
        ("74952223344", 2, "2026-03-02 13:00", "2026-03-02 14:00", 5.0),  # T0+4 h, T0+5 h; 10 - 5
        ("79035556677", 1, "2026-03-02 16:00", "2026-03-02 16:00", 3.0),  # T0+7 h; 10 - 7
    ]


def test_cli_and_web_give_the_same_worklist(tmp_path: Path, cli) -> None:
    db = tmp_path / "missed.duckdb"
    (tmp_path / "Master.csv").write_text(scenario(), encoding="utf-8")
    assert cli("ingest", "--db", db, "--tz", "UTC", tmp_path / "Master.csv").exit_code == 0
    with Store(db) as store:
        store.connection.execute("UPDATE calls SET answered = NULL WHERE caller_norm = '79035556677'")
        ensure_web_schema(store)
        create_user(store, "admin", PASSWORD, "admin")
        token = create_token(store, "admin")
    headers = {"Authorization": f"Bearer {token}"}

    app = create_app(db, Settings())
    with TestClient(app, raise_server_exceptions=False) as client:
        everything = client.get("/api/v1/missed", headers=headers, params={"as_of": AS_OF.isoformat()}).json()
        c_call = next(i["call_id"] for i in everything["items"] if i["number"] == "79990001122")
        assert client.post(f"/api/v1/missed/{c_call}/handled", headers=headers).status_code == 200
        api = client.get("/api/v1/missed", headers=headers, params={"as_of": AS_OF.isoformat()}).json()
        form = client.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf, "next": "/"},
                    follow_redirects=False)
        page = client.get("/missed", params={"from": "2026-03-02", "to": "2026-03-02"}).text
        sources = client.get("/admin/sources").text

    result = cli("missed", "--db", db, "--format", "json", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)

    assert [(r["number"], r["missed_calls"], r["first_missed"], r["last_missed"], r["age_h"]) for r in shown] \
        == expected_rows()
    assert [(i["number"], i["times_called"], i["first_utc"][:16].replace("T", " "), i["last_utc"][:16].replace(
        "T", " "), i["age_s"] / HOUR) for i in api["items"]] == expected_rows()
    assert api["total"] == 2
    assert [r["overdue"] for r in shown] == [i["overdue"] for i in api["items"]] == [False, False]
    assert [r["did"] for r in shown] == [i["did"] for i in api["items"]] == ["4951112233", "4951112233"]
    listed = re.findall(r"\b7\d{10}\b", page)
    assert set(listed) == {"74952223344", "79035556677"}  # the page: the same two numbers, C and A on none
    # The admin's sources page counts the calls of each file as `callkpi sources` does: 6 calls
    # (A's missed call and its callback, B twice, C, D), each its own linkedid.
    row = re.search(r'<td class="mono">[^<]*Master.csv</td>(.*?)</tr>', sources, re.S).group(1)
    assert re.findall(r'<td class="num">([^<]*)</td>', row)[2] == "6"
    listing = json.loads(cli("sources", "--db", db, "--format", "json").output)
    assert [r["calls"] for r in listing] == [6]
