"""The REST API and the server-side pages, on a small store built from queue_log text.

The store (``build_web_store``) holds two days (Mon 2 and Tue 3 March 2026, Europe/Moscow) of
two queues: ``sales`` (agents 1001, 1002) and ``support`` (agent 1003). Per day: six answered
calls, two abandons from 74951110006, one short abandon from 74951110007, one ring-no-answer
of 1001, an ACW pause; plus outbound attempts of campaign ``spring`` written straight into
``calls``. Users: admin, a supervisor of ``support``, agents 1001 and 1003, each with a token.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from callkpi.config import MetricParams, Settings
from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.engine import KpiQuery, compute
from callkpi.model.schema import SLICE_SECONDS
from callkpi.queries.web_tables import ensure_web_schema
from callkpi.storage import Store
from callkpi.web.app import create_app
from callkpi.web.auth import create_token, create_user
from conftest import T0, load_text, ql_line
from store_copies import copied

TZ = "Europe/Moscow"
DAY1, DAY2 = date(2026, 3, 2), date(2026, 3, 3)
PASSWORD = "correct horse battery"
MISSED_TWICE = "74951110006"
SHORT_ABANDON = "74951110007"

# (offset s, queue, caller, agent or None for an abandon, wait s, talk s)
CALLS = (
    (0, "sales", "74951110001", "1001", 5, 120),
    (600, "sales", "74951110002", "1002", 25, 300),
    (1200, "sales", "74951110003", "1001", 12, 45),
    (1800, "support", "74951110004", "1003", 8, 600),
    (2400, "support", "74951110005", "1003", 40, 90),
    (3000, "sales", MISSED_TWICE, None, 30, None),
    (3600, "sales", MISSED_TWICE, None, 50, None),
    (4200, "support", SHORT_ABANDON, None, 2, None),
    (4800, "sales", "74951110008", "1002", 18, 1300),
)
MEMBERS = (("1001", "sales"), ("1002", "sales"), ("1003", "support"))


def queue_log_text() -> str:
    lines: list[tuple[int, str]] = []
    for day in (0, 1):
        base = T0 + day * 86400
        for agent, queue in MEMBERS:
            lines.append((base - 60, ql_line(base - 60, "NONE", queue, f"SIP/{agent}", "ADDMEMBER", "")))
            lines.append((base + 8 * 3600, ql_line(base + 8 * 3600, "NONE", queue, f"SIP/{agent}", "REMOVEMEMBER", "")))
        lines.append((base + 200, ql_line(base + 200, "NONE", "sales", "SIP/1001", "PAUSE", "ACW")))
        lines.append((base + 260, ql_line(base + 260, "NONE", "sales", "SIP/1001", "UNPAUSE", "")))
        for i, (offset, queue, caller, agent, wait, talk) in enumerate(CALLS):
            start = base + offset
            call_id = f"{start}.{day * 100 + i}"
            lines.append((start, ql_line(start, call_id, queue, "NONE", "ENTERQUEUE", "", caller, 1)))
            if agent is None:
                lines.append((start + wait, ql_line(start + wait, call_id, queue, "NONE", "ABANDON", 1, 1, wait)))
                continue
            if i == 1:  # 1001 does not pick up before 1002 answers
                lines.append((start + 4, ql_line(start + 4, call_id, queue, "SIP/1001", "RINGNOANSWER", 4000)))
            answer = start + wait
            lines.append((answer, ql_line(answer, call_id, queue, f"SIP/{agent}", "CONNECT", wait, f"{answer}.9", 3)))
            end = answer + talk
            lines.append((end, ql_line(end, call_id, queue, f"SIP/{agent}", "COMPLETECALLER", wait, talk, 1)))
    return "\n".join(line for _, line in sorted(lines, key=lambda item: item[0])) + "\n"


def add_outbound(store: Store) -> None:
    """Outbound attempts of campaign ``spring`` (queue_log has none)."""
    rows: dict[str, list[Any]] = {name: [] for name in ("call_id", "source", "direction", "start_utc", "answer_utc",
                                                         "end_utc", "start_slice", "callee", "callee_norm", "agent",
                                                         "campaign", "answered", "outcome", "talk_s")}
    def moment(epoch: int) -> datetime:
        return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)

    attempts = [("79161230001", True, 95), ("79161230001", False, None), ("79161230002", True, 5),
                ("79161230003", False, None), ("79161230004", True, 240)]
    for day in (0, 1):
        for i, (number, answered, talk) in enumerate(attempts):
            start = T0 + day * 86400 + 5400 + i * 900
            rows["call_id"].append(f"out-{day}-{i}")
            rows["source"].append("test")
            rows["direction"].append("outbound")
            rows["start_utc"].append(moment(start))
            rows["answer_utc"].append(moment(start + 10) if answered else None)
            rows["end_utc"].append(moment(start + 10 + (talk or 20)))
            rows["start_slice"].append(start // SLICE_SECONDS)
            rows["callee"].append(number)
            rows["callee_norm"].append(number)
            rows["agent"].append("1001")
            rows["campaign"].append("spring")
            rows["answered"].append(answered)
            rows["outcome"].append("answered" if answered else "no_answer")
            rows["talk_s"].append(float(talk) if talk is not None else None)
    store.append_arrow("calls", pa.table(rows))


@dataclass
class WebStore:
    path: Path
    tokens: dict[str, str]
    cli_json: str  # `callkpi kpi --format json --by agent,day` on the same store


def build_web_store(directory: Path) -> WebStore:
    """The store described above, in ``directory`` (``web.duckdb`` beside the ``queue_log`` it was
    loaded from). A dozen modules want it, several afresh per test: it is built once per process and
    copied (tests/store_copies.py)."""
    built = copied("web-store", directory, _build_web_store)
    return WebStore(directory / built.path.name, built.tokens, built.cli_json)


def _build_web_store(directory: Path) -> WebStore:
    path = directory / "web.duckdb"
    with Store(path) as store:
        load_text(store, directory, queue_log_text(), tz=TZ)
        store.set_meta("timezone", TZ)
        add_outbound(store)
        ensure_web_schema(store)
        create_user(store, "admin", PASSWORD, "admin")
        create_user(store, "sup", PASSWORD, "supervisor", queues=("support",))
        create_user(store, "agent1", PASSWORD, "agent", agent="1001")
        create_user(store, "agent3", PASSWORD, "agent", agent="1003")
        tokens = {name: create_token(store, name) for name in ("admin", "sup", "agent1", "agent3")}
    from typer.testing import CliRunner

    from callkpi.cli import _register_commands
    from callkpi.cli.app import app

    _register_commands()
    result = CliRunner().invoke(
        app, ["kpi", "--db", str(path), "--format", "json", "--by", "agent,day"],
        env={"CALLKPI_CONFIG": str(directory / "none.toml"), "COLUMNS": "400"},
    )
    assert result.exit_code == 0, result.output
    return WebStore(path, tokens, result.stdout)


@dataclass
class Web:
    client: TestClient
    store: Store
    data: WebStore

    def api(self, path: str, user: str = "admin", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.data.tokens[user]}"}
        return self.client.get(path, headers=headers, **kwargs)

    def post(self, path: str, user: str = "admin", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.data.tokens[user]}"}
        return self.client.post(path, headers=headers, **kwargs)

    def engine(self, **kwargs: Any) -> Any:
        params = MetricParams(timezone=TZ).with_overrides(kwargs.pop("overrides", {}))
        return compute(self.store, KpiQuery(params=params, **kwargs))


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    data = build_web_store(tmp_path_factory.mktemp("web"))
    app = create_app(data.path, Settings())
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Web(client, app.state.web.db.store(), data)


def as_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from callkpi.report.render import to_json

    return json.loads(to_json(rows))


# -- authentication --------------------------------------------------------------------------

API_GETS = ["/api/v1/kpi", "/api/v1/calls", "/api/v1/calls/x", "/api/v1/missed", "/api/v1/metrics",
            "/api/v1/sources", "/api/v1/me", "/api/v1/targets", "/api/v1/openapi.json"]


def test_health_needs_no_login(web: Web) -> None:
    assert web.client.get("/health").json() == {"status": "ok"}


@pytest.mark.parametrize("path", API_GETS)
def test_api_without_token_is_401(web: Web, path: str) -> None:
    response = web.client.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "token" in response.json()["error"]


@pytest.mark.parametrize("header", ["Bearer ck_not-a-token", "Basic YWRtaW46eA==", "Bearer", "ck_x"])
def test_api_with_bad_credentials_is_401(web: Web, header: str) -> None:
    response = web.client.get("/api/v1/kpi", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"]


def test_api_posts_without_token_are_401(web: Web) -> None:
    assert web.client.post("/api/v1/missed/x/handled").status_code == 401
    assert web.client.put("/api/v1/targets", json={}).status_code == 401


@pytest.mark.parametrize(
    "path", ["/", "/agents", "/agents/1001", "/queues", "/calls", "/calls/x", "/missed", "/outbound", "/metrics",
             "/wallboard", "/wallboard/tiles", "/admin/targets", "/admin/users", "/export/kpi.csv", "/docs"]
)
def test_pages_redirect_to_login(web: Web, path: str) -> None:
    response = web.client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_me(web: Web) -> None:
    assert web.api("/api/v1/me", "agent1").json() == {
        "username": "agent1", "role": "agent", "agent": "1001", "queues": [], "teams": []}
    assert web.api("/api/v1/me", "sup").json()["queues"] == ["support"]


# -- KPIs ------------------------------------------------------------------------------------


def test_kpi_body_is_the_cli_json(web: Web) -> None:
    response = web.api("/api/v1/kpi", params={"by": "agent,day"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == json.loads(web.data.cli_json)


@pytest.mark.parametrize(
    ("query", "kwargs"),
    [
        ({}, {}),
        ({"by": "agent,day"}, {"by": ("agent", "day")}),
        ({"by": "queue", "from": "2026-03-03", "to": "2026-03-03"},
         {"by": ("queue",), "date_from": DAY2, "date_to": DAY2}),
        ({"by": "agent", "queue": "sales", "metrics": "calls_handled,aht_s,service_level"},
         {"by": ("agent",), "filters": {"queue": ("sales",)}, "metrics": ("calls_handled", "aht_s", "service_level")}),
        ({"by": "queue", "param": "sl_threshold_s=30", "metrics": "service_level"},
         {"by": ("queue",), "metrics": ("service_level",), "overrides": {"sl_threshold_s": 30}}),
        ({"by": "interval", "interval_minutes": "60", "metrics": "calls_offered", "from": "2026-03-02",
          "to": "2026-03-02"},
         {"by": ("interval",), "metrics": ("calls_offered",), "overrides": {"interval_minutes": 60},
          "date_from": DAY1, "date_to": DAY1}),
        ({"by": "hour", "tz": "UTC", "metrics": "calls_offered"},
         {"by": ("hour",), "metrics": ("calls_offered",), "overrides": {"timezone": "UTC"}}),
        ({"by": "campaign", "metrics": "dials,connect_rate,attempts_per_number"},
         {"by": ("campaign",), "metrics": ("dials", "connect_rate", "attempts_per_number")}),
        ({"agent": ["1001", "1002"], "by": "agent"}, {"by": ("agent",), "filters": {"agent": ("1001", "1002")}}),
    ],
)
def test_kpi_equals_the_engine(web: Web, query: dict[str, Any], kwargs: dict[str, Any]) -> None:
    response = web.api("/api/v1/kpi", params=query)
    assert response.status_code == 200, response.text
    expected = web.engine(**kwargs)
    assert response.json() == as_json(expected.rows)
    assert json.loads(response.headers["x-kpi-notes"]) == expected.notes


def test_kpi_values_are_fractions_seconds_and_nulls(web: Web) -> None:
    row = web.api("/api/v1/kpi", params={"metrics": "answer_rate,asa_s,fcr_rate,calls_offered"}).json()[0]
    assert 0 < row["answer_rate"] < 1
    assert row["asa_s"] > 1
    assert row["calls_offered"] == 18
    assert "fcr_rate" in row


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ({"by": "colour"}, "unknown dimension"),
        ({"by": "agent,agent"}, "repeated"),
        ({"from": "2026-02-30"}, "not a calendar date"),
        ({"from": "20260301"}, "expects a date"),
        ({"from": "2026-03-03", "to": "2026-03-01"}, "after"),
        ({"metrics": "happiness"}, "unknown metric"),
        ({"param": "sl_threshold_s"}, "NAME=VALUE"),
        ({"param": "colour=blue"}, "unknown parameter"),
        ({"param": "sl_threshold_s=soon"}, "sl_threshold_s"),
        ({"param": "sl_threshold_s=-5"}, "sl_threshold_s"),
        ({"tz": "Mars/Olympus"}, "time zone"),
        ({"interval_minutes": "7"}, "interval_minutes"),
        ({"queue": "x' OR 1=1 --", "metrics": "calls_offered"}, None),
    ],
)
def test_kpi_malformed_parameters_are_clear_4xx(web: Web, query: dict[str, Any], needle: str | None) -> None:
    response = web.api("/api/v1/kpi", params=query)
    if needle is None:  # a hostile value is just a value: no rows, no error
        assert response.status_code == 200
        assert response.json() == [{"calls_offered": 0}]
        return
    assert 400 <= response.status_code < 500, response.text
    assert needle in response.json()["error"]


def test_kpi_wrong_types_are_422(web: Web) -> None:
    response = web.api("/api/v1/kpi", params={"interval_minutes": "half"})
    assert response.status_code == 422
    assert "interval_minutes" in response.json()["error"]


# -- scopes ----------------------------------------------------------------------------------


def test_agent_sees_only_their_kpis(web: Web) -> None:
    response = web.api("/api/v1/kpi", "agent1", params={"by": "agent", "metrics": "calls_handled,aht_s"})
    assert response.status_code == 200
    expected = web.engine(by=("agent",), metrics=("calls_handled", "aht_s"), filters={"agent": ("1001",)})
    assert response.json() == as_json(expected.rows)
    assert [row["agent"] for row in response.json()] == ["1001"]


def test_kpi_pages_walk_every_row_once(web: Web) -> None:
    whole = as_json(web.engine(by=("agent", "day")).rows)
    assert len(whole) >= 5
    pages, params = [], {"by": "agent,day", "limit": "2"}
    while True:
        response = web.api("/api/v1/kpi", params=params)
        assert response.status_code == 200, response.text
        assert response.headers["x-total-count"] == str(len(whole))
        pages.append(response.json())
        if "x-next-page-token" not in response.headers:
            assert "link" not in response.headers
            break
        assert response.headers["link"].endswith('>; rel="next"')
        params = {**params, "page_token": response.headers["x-next-page-token"]}
    assert [len(p) for p in pages] == [2] * (len(whole) // 2) + ([len(whole) % 2] if len(whole) % 2 else [])
    assert [row for page in pages for row in page] == whole


def test_kpi_page_tokens_of_other_data_or_made_up_are_refused(web: Web) -> None:
    from callkpi.report.bulk import page_token

    stale = page_token(2, ("another", "data", "version"))
    response = web.api("/api/v1/kpi", params={"by": "agent,day", "limit": "2", "page_token": stale})
    assert response.status_code == 409 and "data changed" in response.json()["error"]
    response = web.api("/api/v1/kpi", params={"by": "agent,day", "page_token": "not-a-token"})
    assert response.status_code == 400 and "page_token" in response.json()["error"]


def _read_bulk(fmt: str, body: bytes) -> pa.Table:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if fmt == "csv":
        return pacsv.read_csv(io.BytesIO(body))
    if fmt == "parquet":
        return pq.read_table(io.BytesIO(body))
    return pa.ipc.open_stream(body).read_all()


@pytest.mark.parametrize("fmt", ["csv", "parquet", "arrow"])
def test_kpi_bulk_files_hold_the_same_rows(web: Web, fmt: str) -> None:
    metrics = "calls_handled,aht_s,service_level"
    response = web.api("/api/v1/kpi", params={"by": "agent,day", "metrics": metrics, "format": fmt})
    assert response.status_code == 200, response.text
    assert 'filename="kpi.' in response.headers["content-disposition"]
    table = _read_bulk(fmt, response.content)
    expected = web.engine(by=("agent", "day"), metrics=tuple(metrics.split(",")))
    assert table.num_rows == len(expected.rows) == int(response.headers["x-total-count"])
    got = [(str(r["agent"]), str(r["day"])[:10], r["calls_handled"], r["aht_s"]) for r in table.to_pylist()]
    assert got == [(str(r["agent"]), str(r["day"])[:10], r["calls_handled"], r["aht_s"]) for r in expected.rows]
    own = _read_bulk(fmt, web.api("/api/v1/kpi", "agent1", params={"by": "agent", "format": fmt}).content)
    assert {str(a) for a in own.column("agent").to_pylist()} == {"1001"}  # an agent's file holds only their rows


def test_agent_asking_for_another_agent_is_403(web: Web) -> None:
    for path, params in (("/api/v1/kpi", {"agent": "1003"}), ("/api/v1/kpi", {"agent": "1001,1003"}),
                         ("/api/v1/calls", {"agent": "1003"})):
        response = web.api(path, "agent1", params=params)
        assert response.status_code == 403, (path, params)
        assert "1003" in response.json()["error"]


def test_agent_token_cannot_read_another_agents_call(web: Web) -> None:
    other = web.api("/api/v1/calls", params={"agent": "1003", "limit": 1}).json()["items"][0]["call_id"]
    own = web.api("/api/v1/calls", params={"agent": "1001", "limit": 1}).json()["items"][0]["call_id"]
    assert web.api(f"/api/v1/calls/{other}", "agent1").status_code == 403
    assert web.api(f"/api/v1/calls/{own}", "agent1").status_code == 200
    assert web.api(f"/api/v1/calls/{own}", "agent3").status_code == 403


def test_agent_call_log_is_their_calls_with_masked_numbers(web: Web) -> None:
    page = web.api("/api/v1/calls", "agent1", params={"limit": 500}).json()
    assert page["total"] == len(page["items"]) > 0
    assert {item["agent"] for item in page["items"]} == {"1001"}
    for item in page["items"]:
        for column in ("caller", "callee", "caller_norm", "callee_norm"):
            assert item[column] is None or "*" in item[column], item
    detail = web.api(f"/api/v1/calls/{page['items'][0]['call_id']}", "agent1").json()
    assert all("*" in (e["data2"] or "*") for e in detail["events"] if e["event"] == "ENTERQUEUE")


def test_agent_cannot_use_missed_or_sources(web: Web) -> None:
    assert web.api("/api/v1/missed", "agent1").status_code == 403
    assert web.api("/api/v1/sources", "agent1").status_code == 403
    assert web.post("/api/v1/missed/x/handled", "agent1").status_code == 403


def test_supervisor_sees_their_queues_only(web: Web) -> None:
    response = web.api("/api/v1/kpi", "sup", params={"by": "queue", "metrics": "calls_offered"})
    assert response.json() == [{"queue": "support", "calls_offered": 6}]
    assert web.api("/api/v1/kpi", "sup", params={"queue": "sales"}).status_code == 403
    calls = web.api("/api/v1/calls", "sup", params={"limit": 500}).json()
    assert {item["queue"] for item in calls["items"]} == {"support"}
    assert "*" not in calls["items"][0]["caller"]  # supervisors see numbers
    missed = web.api("/api/v1/missed", "sup").json()
    assert {item["queue"] for item in missed["items"]} == {"support"}


# -- the call log ----------------------------------------------------------------------------


def test_calls_total_and_keyset_paging_cover_every_call(web: Web) -> None:
    count = web.store.connection.execute("SELECT count(*) FROM calls").fetchall()[0][0]
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        params: dict[str, Any] = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        page = web.api("/api/v1/calls", params=params).json()
        assert page["total"] == count
        seen += [item["call_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == count
    starts = [item["start_utc"] for item in web.api("/api/v1/calls", params={"limit": 500}).json()["items"]]
    assert starts == sorted(starts, reverse=True)


def test_calls_offset_paging_and_sorting(web: Web) -> None:
    first = web.api("/api/v1/calls", params={"sort": "-talk", "limit": 5}).json()
    second = web.api("/api/v1/calls", params={"sort": "-talk", "limit": 5, "offset": 5}).json()
    talks = [i["talk_s"] for i in first["items"] + second["items"]]
    assert talks == sorted(talks, reverse=True)
    assert first["next_cursor"] is None and first["has_more"]
    ascending = web.api("/api/v1/calls", params={"sort": "wait", "limit": 500, "direction": "inbound"}).json()
    waits = [i["wait_s"] for i in ascending["items"] if i["wait_s"] is not None]
    assert waits == sorted(waits)


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"queue": "support"}, lambda i: i["queue"] == "support"),
        ({"outcome": "abandoned"}, lambda i: i["outcome"] == "abandoned"),
        ({"direction": "outbound"}, lambda i: i["direction"] == "outbound" and i["campaign"] == "spring"),
        ({"number": "7495 111-00-06"}, lambda i: i["caller"] == MISSED_TWICE),
        ({"q": "111 0004"}, lambda i: i["caller"] == "74951110004"),
        ({"min_duration": 500}, lambda i: i["duration_s"] >= 500),
        ({"max_duration": 30}, lambda i: i["duration_s"] <= 30),
        ({"from": "2026-03-03", "to": "2026-03-03"}, lambda i: i["start_utc"].startswith("2026-03-03")),
        ({"agent": "1002"}, lambda i: i["agent"] == "1002"),
    ],
)
def test_calls_filters(web: Web, params: dict[str, Any], check: Any) -> None:
    page = web.api("/api/v1/calls", params={**params, "limit": 500}).json()
    assert page["items"], params
    assert all(check(item) for item in page["items"]), params
    assert page["total"] == len(page["items"])


def test_calls_search_by_call_id(web: Web) -> None:
    call_id = web.api("/api/v1/calls", params={"limit": 1}).json()["items"][0]["call_id"]
    page = web.api("/api/v1/calls", params={"q": call_id}).json()
    assert [i["call_id"] for i in page["items"]] == [call_id]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"sort": "colour"}, 400),
        ({"direction": "sideways"}, 400),
        ({"outcome": "lost"}, 400),
        ({"cursor": "garbage!"}, 400),
        ({"cursor": "WyJ4Il0"}, 400),
        ({"sort": "talk", "cursor": "WyIyMDI2LTAzLTAyVDA5OjAwOjAwIiwgIngiXQ"}, 400),
        ({"from": "yesterday"}, 400),
        ({"number": "no digits"}, 400),
        ({"limit": 0}, 422),
        ({"limit": 100000}, 422),
        ({"offset": -1}, 422),
        ({"min_duration": "long"}, 422),
        ({"total": "maybe"}, 422),
    ],
)
def test_calls_malformed_parameters(web: Web, params: dict[str, Any], status: int) -> None:
    response = web.api("/api/v1/calls", params=params)
    assert response.status_code == status, response.text
    assert response.json()["error"]


def test_call_detail_has_legs_and_events(web: Web) -> None:
    item = web.api("/api/v1/calls", params={"agent": "1002", "limit": 500, "sort": "start"}).json()["items"][0]
    detail = web.api(f"/api/v1/calls/{item['call_id']}").json()
    assert detail["call"]["call_id"] == item["call_id"]
    assert [leg["queue"] for leg in detail["queue_legs"]] == ["sales"]
    assert {leg["agent"] for leg in detail["agent_legs"]} == {"1001", "1002"}  # 1001 rang, 1002 answered
    assert [e["event"] for e in detail["events"]] == ["ENTERQUEUE", "RINGNOANSWER", "CONNECT", "COMPLETECALLER"]
    assert detail["events"][0]["data2"] == "74951110002"


def test_call_detail_unknown_is_404(web: Web) -> None:
    response = web.api("/api/v1/calls/1.2.3-no-such")
    assert response.status_code == 404
    assert "not found" in response.json()["error"]


# -- missed calls ----------------------------------------------------------------------------


def test_missed_worklist_groups_by_number(web: Web) -> None:
    page = web.api("/api/v1/missed").json()
    by_number = {item["number"]: item for item in page["items"]}
    assert by_number[MISSED_TWICE]["times_called"] == 4
    assert by_number[MISSED_TWICE]["queue"] == "sales"
    assert by_number[MISSED_TWICE]["first_utc"] < by_number[MISSED_TWICE]["last_utc"]
    assert by_number[MISSED_TWICE]["age_s"] > 0 and by_number[MISSED_TWICE]["overdue"]
    soon = web.api("/api/v1/missed", params={"as_of": "2026-03-03T14:00:00+03:00"}).json()
    fresh = {i["number"]: i for i in soon["items"]}[MISSED_TWICE]
    assert fresh["age_s"] == 3600  # last call 13:00 Moscow and not fresh["overdue"]
    one_day = web.api("/api/v1/missed", params={"from": "2026-03-03", "to": "2026-03-03"}).json()
    assert {i["number"]: i["times_called"] for i in one_day["items"]}[MISSED_TWICE] == 2


def test_missed_worklist_counts_what_the_metric_counts(web: Web) -> None:
    """No call of the store was ever returned, so the worklist holds every unreturned missed call."""
    unreturned = web.engine(metrics=("missed_unreturned",)).rows[0]["missed_unreturned"]
    page = web.api("/api/v1/missed").json()
    marked = web.store.connection.execute("SELECT count(*) FROM web_call_marks").fetchall()[0][0]
    assert sum(item["times_called"] for item in page["items"]) + marked == unreturned


def test_mark_handled_removes_the_number(web: Web) -> None:
    page = web.api("/api/v1/missed").json()
    row = next(item for item in page["items"] if item["number"] == SHORT_ABANDON)
    response = web.post(f"/api/v1/missed/{row['call_id']}/handled", json={"note": "called back from mobile"})
    assert response.status_code == 200, response.text
    assert len(response.json()["marked"]) == 2  # both days' missed calls from that number
    after = web.api("/api/v1/missed").json()
    assert SHORT_ABANDON not in {item["number"] for item in after["items"]}
    detail = web.api(f"/api/v1/calls/{row['call_id']}").json()
    assert detail["handled"]["handled_by"] == "admin"


def test_mark_handled_errors(web: Web) -> None:
    answered = web.api("/api/v1/calls", params={"outcome": "answered", "limit": 1}).json()["items"][0]["call_id"]
    assert web.post(f"/api/v1/missed/{answered}/handled").status_code == 400
    assert web.post("/api/v1/missed/no-such-call/handled").status_code == 404
    sales_missed = next(i for i in web.api("/api/v1/missed").json()["items"] if i["queue"] == "sales")
    assert web.post(f"/api/v1/missed/{sales_missed['call_id']}/handled", "sup").status_code == 403
    assert web.post(f"/api/v1/missed/{answered}/handled", json={"note": "x" * 600}).status_code == 422


# -- definitions, sources, targets, schema ---------------------------------------------------


def test_metrics_definitions(web: Web) -> None:
    items = web.api("/api/v1/metrics").json()
    assert [i["id"] for i in items] == list(REGISTRY.metrics)
    sl = next(i for i in items if i["id"] == "service_level")
    assert sl["parameters"]["sl_threshold_s"] == 20
    russian = web.api("/api/v1/metrics", params={"lang": "ru"}).json()
    assert next(i for i in russian if i["id"] == "service_level")["title"] == "Уровень сервиса"
    assert web.api("/api/v1/metrics", params={"lang": "xx"}).status_code == 422


def test_sources(web: Web) -> None:
    rows = web.api("/api/v1/sources").json()
    assert len(rows) == 1
    assert rows[0]["format"] == "asterisk-queue-log"
    assert rows[0]["timezone"] == TZ


def test_targets_defaults_and_admin_edit(web: Web) -> None:
    targets = {t["metric"]: t for t in web.api("/api/v1/targets").json() if t["scope"] == "all"}
    assert (targets["service_level"]["target"], targets["abandon_rate"]["target"], targets["asa_s"]["target"]) == (
        0.8, 0.05, 15.0)
    body = {"scope": "queue", "scope_value": "support", "metric": "asa_s", "target": 10, "warn": 20}
    assert web.client.put("/api/v1/targets", json=body,
                          headers={"Authorization": f"Bearer {web.data.tokens['sup']}"}).status_code == 403
    admin = {"Authorization": f"Bearer {web.data.tokens['admin']}"}
    assert web.client.put("/api/v1/targets", json=body, headers=admin).status_code == 200
    assert any(t["scope_value"] == "support" for t in web.api("/api/v1/targets").json())
    bad = web.client.put("/api/v1/targets", json={**body, "metric": "happiness"}, headers=admin)
    assert bad.status_code == 400 and "unknown metric" in bad.json()["error"]
    assert web.client.put("/api/v1/targets", json={**body, "scope": "planet"}, headers=admin).status_code == 422


def test_openapi_schema_lists_every_endpoint(web: Web) -> None:
    schema = web.api("/api/v1/openapi.json").json()
    for path in ("/api/v1/kpi", "/api/v1/calls", "/api/v1/calls/{call_id}", "/api/v1/missed",
                 "/api/v1/missed/{call_id}/handled", "/api/v1/metrics", "/api/v1/sources"):
        assert path in schema["paths"], path
    assert not any(p.startswith("/admin") or p == "/" for p in schema["paths"])


# -- pages (server side) ---------------------------------------------------------------------


def login(client: TestClient, username: str = "admin", password: str = PASSWORD) -> Any:
    form = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf, "next": "/"},
                       follow_redirects=False)


@pytest.fixture
def browser_client(web: Web) -> Iterator[TestClient]:
    """A separate client (own cookies) on the same app (no ``with``: the app's lifespan stays open)."""
    yield TestClient(web.client.app, raise_server_exceptions=False)


def test_login_needs_csrf_and_the_right_password(browser_client: TestClient) -> None:
    assert browser_client.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 403
    assert login(browser_client, password="wrong password").status_code == 401
    response = login(browser_client)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.cookies.get("callkpi_session") or browser_client.cookies.get("callkpi_session")
    assert cookie
    page = browser_client.get("/")
    assert page.status_code == 200 and "callkpi" in page.text


def test_login_is_throttled(web: Web) -> None:
    client = TestClient(web.client.app, raise_server_exceptions=False)
    # A user no other test logs in as: the lock-out lasts minutes and the app outlives this test.
    codes = [login(client, "ghost", "nope nope").status_code for _ in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429


def _data_value(html: str, metric: str) -> float | None:
    match = re.search(rf'data-metric="{metric}" data-value="([^"]*)"', html)
    assert match, metric
    return float(match.group(1)) if match.group(1) else None


def test_overview_numbers_are_the_apis(web: Web, browser_client: TestClient) -> None:
    login(browser_client)
    html = browser_client.get("/", params={"from": "2026-03-02", "to": "2026-03-03"}).text
    api = web.api("/api/v1/kpi", params={"from": "2026-03-02", "to": "2026-03-03"}).json()[0]
    for metric in ("answer_rate", "service_level", "asa_s", "abandon_rate", "aht_s", "calls_inbound"):
        assert _data_value(html, metric) == pytest.approx(api[metric]), metric
    assert "v-bad" in html or "v-good" in html or "v-warn" in html


@pytest.mark.parametrize(
    "path",
    ["/", "/?preset=7", "/?queue=sales", "/agents", "/agents/1001", "/queues", "/queues?interval=15", "/calls",
     "/calls?sort=-talk&q=7495", "/calls?direction=outbound", "/missed", "/outbound", "/metrics", "/wallboard",
     "/wallboard/tiles", "/alerts", "/admin/targets", "/admin/users", "/docs", "/lang/ru?next=/metrics"],
)
def test_every_page_renders_for_admin(web: Web, browser_client: TestClient, path: str) -> None:
    login(browser_client)
    response = browser_client.get(path)
    assert response.status_code == 200, response.text[:500]


def test_call_page_and_its_timeline(web: Web, browser_client: TestClient) -> None:
    login(browser_client)
    call_id = web.api("/api/v1/calls", params={"agent": "1002", "limit": 1}).json()["items"][0]["call_id"]
    html = browser_client.get(f"/calls/{call_id}").text
    assert "COMPLETECALLER" in html and "ENTERQUEUE" in html
    assert browser_client.get("/calls/nope").status_code == 404


def test_pages_refuse_what_a_role_may_not_see(web: Web, browser_client: TestClient) -> None:
    login(browser_client, "agent1")
    assert browser_client.get("/agents/1003").status_code == 403
    assert browser_client.get("/missed").status_code == 403
    assert browser_client.get("/admin/targets").status_code == 403
    assert browser_client.get("/calls?agent=1003").status_code == 403
    other = web.api("/api/v1/calls", params={"agent": "1003", "limit": 1}).json()["items"][0]["call_id"]
    assert browser_client.get(f"/calls/{other}").status_code == 403
    agents = browser_client.get("/agents").text
    assert "/agents/1001" in agents and "/agents/1003" not in agents


def test_a_long_agent_table_is_paged_and_sorted_on_the_server(web: Web, browser_client: TestClient,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from callkpi.web import tables as views

    login(browser_client)
    period = {"from": "2026-03-02", "to": "2026-03-03"}
    engine = web.engine(by=("agent",), metrics=("calls_handled",), date_from=DAY1, date_to=DAY2).rows
    handled = {r["agent"]: r["calls_handled"] for r in engine}
    assert len(handled) >= 3
    assert "data-paging" not in browser_client.get("/agents", params=period).text  # short: one sortable table
    monkeypatch.setattr(views, "AGENTS_PER_PAGE", 2)

    def shown(**query: str) -> list[str]:
        html = browser_client.get("/agents", params={**period, **query}).text
        assert "data-paging" in html and 'class="data"' in html  # the browser no longer sorts a part
        return re.findall(r'<td data-value="([^"]+)"><a href="/agents/', html)

    ordered = sorted(handled, key=lambda a: (handled[a] is None, -(handled[a] or 0)))
    pages = [shown(sort="calls_handled", dir="desc", page=str(n)) for n in range(1, len(handled) // 2 + 2)]
    assert [a for page in pages for a in page] == ordered[: sum(len(p) for p in pages)]
    assert [handled[a] for a in pages[0]] == sorted((handled[a] for a in pages[0]), reverse=True)
    assert shown(sort="agent", dir="asc") == sorted(handled)[:2]
    assert shown(sort="no_such_column", page="999")  # unknown values fall back, never fail


def test_forms_need_the_csrf_token(web: Web, browser_client: TestClient) -> None:
    login(browser_client)
    row = web.api("/api/v1/missed").json()["items"][0]
    assert browser_client.post(f"/missed/{row['call_id']}/handled").status_code == 403
    assert browser_client.post("/admin/targets", data={"metric": "asa_s"}).status_code == 403
    assert browser_client.post("/logout").status_code == 403
    # the API accepts a session only with the CSRF header for writes
    assert browser_client.post(f"/api/v1/missed/{row['call_id']}/handled").status_code == 403


def test_admin_sets_a_target_in_percent(web: Web, browser_client: TestClient) -> None:
    login(browser_client)
    page = browser_client.get("/admin/targets").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = browser_client.post("/admin/targets", data={"csrf_token": csrf, "scope": "queue", "scope_value": "sales",
                                                           "metric": "service_level", "target": "90", "warn": "75",
                                                           "action": "save"}, follow_redirects=False)
    assert response.status_code == 303
    saved = [t for t in web.api("/api/v1/targets").json() if t["scope_value"] == "sales"]
    assert saved[0]["target"] == pytest.approx(0.9) and saved[0]["warn"] == pytest.approx(0.75)


def test_logout_ends_the_session(browser_client: TestClient) -> None:
    login(browser_client)
    page = browser_client.get("/metrics").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert browser_client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert browser_client.get("/", follow_redirects=False).status_code == 303


def test_language_switch_changes_words_and_number_format(web: Web, browser_client: TestClient) -> None:
    login(browser_client)
    browser_client.get("/lang/ru", params={"next": "/"})
    html = browser_client.get("/", params={"from": "2026-03-02", "to": "2026-03-03"}).text
    assert "Обзор" in html and "Уровень сервиса" in html
    assert re.search(r'data-metric="answer_rate" data-value="[^"]+">\d+,\d\u00a0%', html)
    assert browser_client.get("/lang/xx").status_code == 400


def test_open_redirects_are_refused(browser_client: TestClient) -> None:
    response = browser_client.get("/lang/en", params={"next": "//evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/"
    form = browser_client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = browser_client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf,
                                                   "next": "https://evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_a_password_change_ends_sessions(web: Web) -> None:
    from callkpi.web.auth import set_password

    client = TestClient(web.client.app, raise_server_exceptions=False)
    login(client, "agent3")
    assert client.get("/metrics", follow_redirects=False).status_code == 200
    set_password(web.store, "agent3", PASSWORD + "!")
    assert client.get("/metrics", follow_redirects=False).status_code == 303
    set_password(web.store, "agent3", PASSWORD)


def test_recording_url_gets_a_player(web: Web, browser_client: TestClient) -> None:
    call_id = web.api("/api/v1/calls", params={"agent": "1003", "limit": 1}).json()["items"][0]["call_id"]
    web.store.connection.execute("UPDATE calls SET recording = ? WHERE call_id = ?",
                                 ["https://records.example/a.mp3", call_id])
    login(browser_client)
    html = browser_client.get(f"/calls/{call_id}").text
    assert '<audio controls preload="none" src="https://records.example/a.mp3">' in html
    assert browser_client.get(f"/calls/{call_id}/recording").status_code == 404  # a URL, not a file


# -- exports ---------------------------------------------------------------------------------


def test_csv_export_is_the_engine_rows(web: Web, browser_client: TestClient) -> None:
    login(browser_client)
    response = browser_client.get("/export/kpi.csv", params={"by": "queue", "metrics": "calls_offered,answer_rate",
                                                             "from": "2026-03-02", "to": "2026-03-03"})
    assert response.status_code == 200
    lines = response.text.strip().splitlines()
    assert lines[0] == "queue,calls_offered,answer_rate"
    expected = web.engine(by=("queue",), metrics=("calls_offered", "answer_rate"), date_from=DAY1, date_to=DAY2)
    assert len(lines) == 1 + len(expected.rows)
    assert lines[1].split(",")[1] == str(expected.rows[0]["calls_offered"])


def test_overview_pdf_shows_the_engine_numbers_in_either_language(web: Web, browser_client: TestClient) -> None:
    from pypdf import PdfReader

    from callkpi.web.i18n import Locale

    period = {"from": "2026-03-02", "to": "2026-03-03"}
    assert browser_client.get("/export/overview.pdf", params=period, follow_redirects=False).status_code in (302, 303)
    login(browser_client)
    expected = web.engine(metrics=("calls_inbound", "service_level"), date_from=DAY1, date_to=DAY2).rows[0]
    for lang, title in (("en", "Service level"), ("ru", "Уровень сервиса")):
        browser_client.get(f"/lang/{lang}", params={"next": "/"})
        response = browser_client.get("/export/overview.pdf", params=period)
        assert response.status_code == 200, response.text[:300]
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
        text = " ".join(text.split())  # a cell per line, no-break spaces as spaces

        def shown(metric: str, loc: Locale = Locale(lang, TZ)) -> str:
            return " ".join(f"{loc.metric_title(metric)} {loc.metric(metric, expected[metric])}".split())

        assert title in text, text[:1500]
        assert shown("service_level") in text and shown("calls_inbound") in text, text[:1500]
        assert "sl_threshold_s = 20" in text  # the definitions page carries the parameters


def test_xlsx_exports_have_definitions(web: Web, browser_client: TestClient) -> None:
    from openpyxl import load_workbook

    login(browser_client)
    for view, query in (("agents", {}), ("kpi", {"by": "day"}), ("calls", {}), ("missed", {}), ("metrics", {})):
        response = browser_client.get(f"/export/{view}.xlsx", params={"from": "2026-03-02", "to": "2026-03-03",
                                                                       **query})
        assert response.status_code == 200, (view, response.text[:300])
        book = load_workbook(io.BytesIO(response.content), read_only=True)
        assert book.sheetnames[0], view
        if view in ("agents", "kpi", "calls", "missed"):
            assert "definitions" in book.sheetnames, view
    book = load_workbook(io.BytesIO(browser_client.get("/export/agents.xlsx", params={
        "from": "2026-03-02", "to": "2026-03-03"}).content))
    rows = list(book.worksheets[0].values)
    header = list(rows[0])
    api = {r["agent"]: r for r in web.api("/api/v1/kpi", params={"by": "agent", "from": "2026-03-02",
                                                                   "to": "2026-03-03"}).json()}
    for row in rows[1:]:
        record = dict(zip(header, row, strict=True))
        assert record["calls_handled"] == api[record["agent"]]["calls_handled"]
    assert browser_client.get("/export/kpi.pdf").status_code == 400
    assert browser_client.get("/export/nothing.csv").status_code == 404


# -- command line ----------------------------------------------------------------------------


def test_cli_user_add_and_token_create(tmp_path: Path, cli: Any) -> None:
    import callkpi.cli.serve_cmd  # noqa: F401  (registers the commands even before COMMAND_MODULES lists it)

    db = tmp_path / "users.duckdb"
    result = cli("user", "add", "lead", "--role", "supervisor", "--queues", "sales,support", "--generate", "--db", db)
    assert result.exit_code == 0, result.output
    assert "created supervisor" in result.output
    assert cli("user", "add", "lead", "--role", "supervisor", "--password", "long enough", "--db", db).exit_code == 2
    assert cli("user", "add", "bob", "--role", "agent", "--password", "long enough", "--db", db).exit_code == 2
    assert cli("user", "add", "bob", "--role", "king", "--password", "long enough", "--db", db).exit_code == 2
    token = cli("token", "create", "lead", "--db", db)
    assert token.exit_code == 0 and token.stdout.strip().startswith("ck_")
    assert cli("token", "create", "nobody", "--db", db).exit_code == 2
    listing = cli("user", "list", "--db", db)
    assert re.search(r"lead\s+supervisor\s+sales, support", listing.output)
    app = create_app(db, Settings())
    with TestClient(app) as client:
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.stdout.strip()}"})
        assert me.json()["queues"] == ["sales", "support"]


def test_first_run_creates_admin_once(tmp_path: Path) -> None:
    from callkpi.web.auth import authenticate, ensure_admin

    with Store(tmp_path / "first.duckdb") as store:
        ensure_web_schema(store)
        password = ensure_admin(store)
        assert password and len(password) >= 12
        assert ensure_admin(store) is None
        user = authenticate(store, "admin", password)
        assert user is not None and user.role == "admin"
        assert user.password_hash.startswith("$argon2id$")
