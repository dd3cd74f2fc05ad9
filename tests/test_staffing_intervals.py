"""Issue 13 item 5: needed, scheduled and logged-in agents side by side per interval, in the CLI, the web
page /staffing and /api/v1/staffing. Logged-in and scheduled agents are computed here by hand from the
sessions and shifts written into the fixture (interval overlap / interval length), not through callkpi.

Two queues: agents 1001 and 1002 answer sales, 1003 support. Presence names no queue, so for the sales
queue only the agents offered sales calls (1001, 1002) count."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from callkpi.cli import _register_commands, app
from callkpi.config import PhoneSettings, Settings
from callkpi.ingest.formats import load_file
from callkpi.queries.web_tables import ensure_web_schema
from callkpi.storage import Store
from callkpi.web.app import create_app
from callkpi.web.auth import create_token, create_user

RU = Settings(phone=PhoneSettings(country_code="7", national_prefix="8", national_length=10))
T0 = 1772442000  # 2026-03-02 09:00 UTC
MIN = 60
SESSIONS = {  # agent: (queue, login, logout) in seconds from T0
    "1001": ("sales", -10 * MIN, 70 * MIN),
    "1002": ("sales", 20 * MIN, 50 * MIN),
    "1003": ("support", 0, 90 * MIN),
}
CALLS = [  # (queue, agent, start, talk) in seconds from T0
    ("sales", "1001", 60, 300), ("sales", "1001", 600, 240), ("sales", "1002", 1300, 200),
    ("sales", "1001", 1500, 180), ("sales", "1002", 2000, 400), ("sales", "1001", 3000, 120),
    ("support", "1003", 1900, 500), ("support", "1003", 2600, 300), ("support", "1003", 4000, 200),
]
SCHEDULES = [  # (agent, activity, start, end) in seconds from T0
    ("1001", "work", 0, 60 * MIN), ("1002", "work", 0, 60 * MIN), ("1002", "break", 30 * MIN, 45 * MIN),
    ("1003", "work", 0, 120 * MIN),
]
PASSWORD = "correct horse battery"


def _stamp(offset: int) -> str:
    return (datetime.fromtimestamp(T0 + offset, UTC)).strftime("%Y-%m-%d %H:%M")


def write_files(directory: Path) -> list[Path]:
    lines = []
    for agent, (queue, login, logout) in SESSIONS.items():
        lines += [f"{T0 + login}|MANAGER|{queue}|SIP/{agent}|ADDMEMBER|",
                  f"{T0 + logout}|MANAGER|{queue}|SIP/{agent}|REMOVEMEMBER|"]
    for n, (queue, agent, start, talk) in enumerate(CALLS):
        call = f"{T0 + start}.{n}"
        lines += [f"{T0 + start}|{call}|{queue}|NONE|ENTERQUEUE||749510000{n:02d}|1",
                  f"{T0 + start + 5}|{call}|{queue}|SIP/{agent}|CONNECT|5|{call}1|2",
                  f"{T0 + start + 5 + talk}|{call}|{queue}|SIP/{agent}|COMPLETECALLER|5|{talk}|1"]
    lines.sort(key=lambda line: int(line.split("|", 1)[0]))
    log = directory / "queue_log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    schedules = directory / "schedules.csv"
    schedules.write_text("agent,start,end,activity\n" + "".join(
        f"{a},{_stamp(s)},{_stamp(e)},{act}\n" for a, act, s, e in SCHEDULES), encoding="utf-8")
    return [log, schedules]


# -- the hand computation -------------------------------------------------------------------------------


def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def intervals(minutes: int) -> list[tuple[str, tuple[int, int]]]:
    """Every interval from 08:30 to 11:00 UTC as (local ISO label, seconds from T0)."""
    step = minutes * MIN
    first = -30 * MIN
    return [((datetime.fromtimestamp(T0 + s, UTC)).isoformat(), (s, s + step)) for s in range(first, 120 * MIN, step)]


def logged_in_by_hand(agents: set[str], minutes: int) -> dict[str, float]:
    return {label: round(sum(overlap((login, logout), span) for agent, (_, login, logout) in SESSIONS.items()
                             if agent in agents) / (minutes * MIN), 2)
            for label, span in intervals(minutes)}


def scheduled_by_hand(agents: set[str], minutes: int) -> dict[str, float]:
    def planned(span: tuple[int, int]) -> int:
        work = sum(overlap((s, e), span) for a, act, s, e in SCHEDULES if act == "work" and a in agents)
        off = sum(overlap((s, e), span) for a, act, s, e in SCHEDULES if act != "work" and a in agents)
        return work - off

    return {label: round(planned(span) / (minutes * MIN), 2) for label, span in intervals(minutes)}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("staffing")
    path = directory / "staffing.duckdb"
    with Store(path) as store:
        for file in write_files(directory):
            assert load_file(store, file, RU, timezone="UTC").quarantined == 0, file.name
        store.set_meta("timezone", "UTC")
        ensure_web_schema(store)
        create_user(store, "admin", PASSWORD, "admin")
        create_user(store, "support", PASSWORD, "supervisor", queues=("support",))
        create_user(store, "agent1", PASSWORD, "agent", agent="1001")
        for name in ("admin", "support", "agent1"):
            (directory / f"{name}.token").write_text(create_token(store, name), encoding="utf-8")
    return path


def cli_rows(db: Path, *args: str) -> list[dict]:
    _register_commands()
    result = CliRunner().invoke(app, ["staffing", "--db", str(db), "--tz", "UTC", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(("queue", "agents"), [(None, {"1001", "1002", "1003"}), ("sales", {"1001", "1002"})])
def test_logged_in_and_scheduled_agents_per_interval_by_hand(db: Path, queue: str | None, agents: set[str]) -> None:
    rows = cli_rows(db, *(["--queue", queue] if queue else []))
    by_interval = {r["interval"]: r for r in rows}
    logged, scheduled = logged_in_by_hand(agents, 30), scheduled_by_hand(agents, 30)
    for label, expected in logged.items():
        if expected or label in by_interval:
            assert by_interval[label]["agents_logged_in"] == pytest.approx(expected), label
    for label, expected in scheduled.items():
        if expected or label in by_interval:
            assert by_interval[label]["agents_scheduled"] == pytest.approx(expected), label
    # every interval with calls needs agents; the sales queue alone offers only its own calls
    offered = sum(r["offered"] for r in rows)
    assert offered == sum(1 for c in CALLS if queue is None or c[0] == queue)
    assert all(r["agents_needed"] >= 1 for r in rows if r["offered"])


def test_fifteen_minute_intervals(db: Path) -> None:
    rows = {r["interval"]: r for r in cli_rows(db, "--interval-minutes", "15", "--queue", "sales")}
    for label, expected in logged_in_by_hand({"1001", "1002"}, 15).items():
        if expected:
            assert rows[label]["agents_logged_in"] == pytest.approx(expected), label


# -- exports: the same table as CSV and XLSX (CLI, page, API) ------------------------------------------


def csv_rows(text: str) -> dict[str, dict[str, str]]:
    return {r["interval"]: r for r in csv.DictReader(io.StringIO(text))}


def xlsx_rows(content: bytes) -> tuple[dict[str, dict[str, object]], list[str]]:
    """The staffing sheet's rows by interval, and the definitions sheet's first column."""
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    values = list(book["staffing"].iter_rows(values_only=True))
    header = [str(v) for v in values[0]]
    rows = {str(r[0]): dict(zip(header, r, strict=True)) for r in values[1:]}
    definitions = [str(r[0]) for r in book["definitions"].iter_rows(values_only=True) if r[0]]
    return rows, definitions


def assert_side_by_side(rows: dict[str, dict[str, object]], agents: set[str]) -> None:
    """Needed, scheduled and logged in on every interval, the last two equal to the hand computation."""
    logged, scheduled = logged_in_by_hand(agents, 30), scheduled_by_hand(agents, 30)
    assert rows, "no rows"
    for label, row in rows.items():
        assert float(row["agents_logged_in"] or 0) == pytest.approx(logged.get(label, 0.0)), label
        assert float(row["agents_scheduled"] or 0) == pytest.approx(scheduled.get(label, 0.0)), label
        assert row["agents_needed"] not in (None, "")
    for label, expected in logged.items():
        if expected:
            assert label in rows, label
    sales_offered = sum(1 for c in CALLS if c[0] == "sales")
    assert sum(float(r["offered"]) for r in rows.values()) == sales_offered


def test_cli_csv_and_xlsx_carry_needed_scheduled_and_logged_in(db: Path, tmp_path: Path) -> None:
    _register_commands()
    runner = CliRunner()
    base = ["staffing", "--db", str(db), "--tz", "UTC", "--queue", "sales"]
    result = runner.invoke(app, [*base, "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert_side_by_side(csv_rows(result.stdout), {"1001", "1002"})
    assert runner.invoke(app, [*base, "--format", "xlsx"]).exit_code != 0  # xlsx needs --output
    book = tmp_path / "staffing.xlsx"
    result = runner.invoke(app, [*base, "--format", "xlsx", "--output", str(book)])
    assert result.exit_code == 0, result.output
    rows, definitions = xlsx_rows(book.read_bytes())
    assert_side_by_side(rows, {"1001", "1002"})
    assert {"agents_needed", "agents_scheduled", "agents_logged_in", "shrinkage"} <= set(definitions)
    json_file = tmp_path / "staffing.json"
    assert runner.invoke(app, [*base, "--format", "json", "--output", str(json_file)]).exit_code == 0
    assert_side_by_side({r["interval"]: r for r in json.loads(json_file.read_text(encoding="utf-8"))},
                        {"1001", "1002"})


# -- web and API ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(db: Path) -> Iterator[TestClient]:
    web_app = create_app(db, RU, warm=False)
    with TestClient(web_app, raise_server_exceptions=False) as test_client:
        yield test_client


def login(client: TestClient, username: str) -> TestClient:
    session = TestClient(client.app, raise_server_exceptions=False)
    form = session.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = session.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf,
                                             "next": "/"}, follow_redirects=False)
    assert response.status_code == 303
    return session


def token(db: Path, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {(db.parent / f'{name}.token').read_text(encoding='utf-8')}"}


DAY = {"from": "2026-03-02", "to": "2026-03-02"}


def test_the_page_shows_needed_scheduled_and_logged_in_side_by_side(client: TestClient, db: Path) -> None:
    session = login(client, "admin")
    session.get("/lang/en", params={"next": "/"})
    page = session.get("/staffing", params={**DAY, "queue": "sales"})
    assert page.status_code == 200, page.text[:300]
    assert 'data-nav="staffing"' in page.text
    for column in ("needed", "scheduled", "logged_in"):
        assert f'data-col="{column}"' in page.text
    logged, scheduled = logged_in_by_hand({"1001", "1002"}, 30), scheduled_by_hand({"1001", "1002"}, 30)
    label = (datetime.fromtimestamp(T0, UTC)).isoformat()  # 09:00
    row = re.search(rf'<tr data-interval="{re.escape(label)}">(.*?)</tr>', page.text, re.S).group(1)
    assert float(re.search(r'class="num logged-in" data-value="([^"]*)"', row).group(1)) == logged[label]
    assert float(re.search(r'class="num scheduled" data-value="([^"]*)"', row).group(1)) == scheduled[label]
    assert int(re.search(r'class="num needed" data-value="([^"]*)"', row).group(1)) >= 1
    session.get("/lang/ru", params={"next": "/"})
    russian = session.get("/staffing", params=DAY).text
    assert "По графику" in russian and "В системе" in russian and "Нужно" in russian


def test_the_page_and_api_are_role_scoped(client: TestClient, db: Path) -> None:
    assert login(client, "agent1").get("/staffing", params=DAY).status_code == 403
    assert client.get("/api/v1/staffing", params=DAY).status_code == 401
    supervisor = client.get("/api/v1/staffing", params=DAY, headers=token(db, "support"))
    assert supervisor.status_code == 200
    body = supervisor.json()
    assert sum(r["offered"] for r in body["rows"]) == sum(1 for c in CALLS if c[0] == "support")
    outside = client.get("/api/v1/staffing", params={**DAY, "queue": "sales"}, headers=token(db, "support"))
    assert outside.status_code == 403


def test_the_api_gives_the_same_rows(client: TestClient, db: Path) -> None:
    body = client.get("/api/v1/staffing", params={**DAY, "queue": "sales"}, headers=token(db, "admin")).json()
    assert body["columns"][:1] == ["interval"] and "agents_logged_in" in body["columns"]
    logged = logged_in_by_hand({"1001", "1002"}, 30)
    assert {r["interval"]: r["agents_logged_in"] for r in body["rows"]} == {k: v for k, v in logged.items() if v}
    assert any("presence and schedules name no queue" in n for n in body["notes"])


def test_unknown_presence_is_null_not_zero(tmp_path: Path) -> None:
    """Calls without any presence record (a CDR alone would do the same): logged in is unknown."""
    path = tmp_path / "s.duckdb"
    log = tmp_path / "queue_log"
    start = T0
    log.write_text(f"{start}|c1|sales|NONE|ENTERQUEUE||74951000001|1\n{start + 5}|c1|sales|SIP/1001|CONNECT|5|x|2\n"
                   f"{start + 200}|c1|sales|SIP/1001|COMPLETECALLER|5|195|1\n", encoding="utf-8")
    with Store(path) as store:
        load_file(store, log, RU, timezone="UTC")
    _register_commands()
    result = CliRunner().invoke(app, ["staffing", "--db", str(path), "--tz", "UTC", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all(r["agents_scheduled"] is None for r in rows)


def test_the_page_downloads_the_table(client: TestClient, db: Path) -> None:
    session = login(client, "admin")
    page = session.get("/staffing", params={**DAY, "queue": "sales"}).text
    link = re.search(r'href="(/export/staffing\.csv[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "queue=sales" in link
    response = session.get(link)
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert_side_by_side(csv_rows(response.text), {"1001", "1002"})
    book = session.get("/export/staffing.xlsx", params={**DAY, "queue": "sales"})
    assert book.status_code == 200
    assert_side_by_side(xlsx_rows(book.content)[0], {"1001", "1002"})
    assert login(client, "agent1").get("/export/staffing.csv", params=DAY).status_code == 403
    assert login(client, "support").get("/export/staffing.csv", params={**DAY, "queue": "sales"}).status_code == 403


def test_the_api_downloads_the_table(client: TestClient, db: Path) -> None:
    admin = token(db, "admin")
    response = client.get("/api/v1/staffing", params={**DAY, "queue": "sales", "format": "csv"}, headers=admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert_side_by_side(csv_rows(response.text), {"1001", "1002"})
    book = client.get("/api/v1/staffing", params={**DAY, "queue": "sales", "format": "xlsx"}, headers=admin)
    assert book.status_code == 200
    assert_side_by_side(xlsx_rows(book.content)[0], {"1001", "1002"})
    assert client.get("/api/v1/staffing", params={**DAY, "format": "pdf"}, headers=admin).status_code in (400, 422)
    schema = client.get("/api/v1/openapi.json", headers=admin).json()["paths"]["/api/v1/staffing"]["get"]
    assert "text/csv" in schema["responses"]["200"]["content"]
    assert any(p["name"] == "format" for p in schema["parameters"])
