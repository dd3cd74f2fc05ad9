"""Negative security tests: what the app must refuse, and that nothing forbidden leaks.

Over the simulated centre of ``web_centre`` (users admin, sup = supervisor of the queue and the
team ``support``, agent_a / agent_b = one agent of each team). What each caller may see is read
from the store with plain SQL at build time (``Centre.facts``), not through the web code. Each
test asserts the status code and that the body holds none of the data the caller must not see.
SQL injection: tests/test_security_injection.py (a file of its own, so that the test workers share
out the security tests: pytest-xdist hands out whole files).
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from callkpi.config import Settings
from web_centre import PASSWORD, SUP_QUEUE, Centre, Route, build_centre, route_table, serve, sign_in

# answer without credentials: the login form, the health check, static files, the language cookie
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/health"), ("GET", "/lang/{code}")}
SQL_PAYLOADS = (
    "' OR '1'='1",
    "1' OR 1=1 --",
    "\" OR \"\"=\"",
    "x'); DROP TABLE calls; --",
    "1; SELECT * FROM web_users",
    "' UNION SELECT username, password_hash FROM web_users --",
    "%' OR agent LIKE '%",
    "\\'; --",
    "1001' /*",
)
CALL_SORTS = ("start", "wait", "talk", "duration", "agent", "queue", "outcome", "direction")


@pytest.fixture(scope="module", autouse=True)
def _quiet_server_log() -> Iterator[None]:
    """A 500 would show in the assertions; its traceback need not flood the output."""
    logger = logging.getLogger("callkpi.web")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Centre:
    return build_centre(tmp_path_factory.mktemp("security"))


@pytest.fixture(scope="module")
def anonymous(centre: Centre) -> Iterator[TestClient]:
    with serve(centre) as client:
        yield client


def _session(anonymous: TestClient, user: str) -> TestClient:
    client = TestClient(anonymous.app, raise_server_exceptions=False)
    response = sign_in(client, user)
    assert response.status_code == 303, response.text
    return client


@pytest.fixture(scope="module")
def pages(anonymous: TestClient) -> dict[str, TestClient]:
    """A signed-in browser session per user (same app, own cookies)."""
    return {user: _session(anonymous, user) for user in ("admin", "sup", "agent_a", "agent_b")}


def api(client: TestClient, centre: Centre, user: str, path: str, **kwargs: Any) -> Any:
    return client.get(path, headers=centre.bearer(user), **kwargs)


def foreign_calls(centre: Centre, user: str = "agent_a") -> set[str]:
    """Calls the agent user must not see: on the other agent's side and not on theirs."""
    mine = centre.facts.visible[centre.agent_of(user)]
    other = centre.agent_b if user == "agent_a" else centre.agent_a
    return centre.facts.visible[other] - mine


def assert_no_foreign_calls(text: str, centre: Centre, user: str = "agent_a") -> None:
    leaked = sorted(call for call in foreign_calls(centre, user) if call in text)
    assert not leaked, f"{user} sees calls of another agent: {leaked[:5]}"


def visible_ids(body: dict[str, Any]) -> set[str]:
    return {item["call_id"] for item in body["items"]}


# -- without credentials -------------------------------------------------------------------


def _sample_path(route: Route, centre: Centre) -> str:
    values = {"call_id": next(iter(centre.recordings)), "agent_id": centre.agent_a,
              "review_id": min(centre.facts.reviews[centre.agent_a]), "view": "calls", "fmt": "csv", "code": "en"}
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: quote(values.get(m.group(1), "x"), safe=""), route.path)


def _protected_routes(app: Any) -> list[tuple[str, Route]]:
    routes = [(method, route) for route in route_table(app) for method in sorted(route.methods)]
    return [(method, route) for method, route in routes if (method, route.path) not in PUBLIC and method != "HEAD"]


def test_every_route_but_login_health_and_static_needs_credentials(anonymous: TestClient, centre: Centre) -> None:
    routes = _protected_routes(anonymous.app)
    assert len(routes) > 50  # the whole route table, not a hand-picked list
    secrets_ = [*centre.recordings, *centre.facts.numbers[centre.agent_a], "password_hash"]
    for method, route in routes:
        path = _sample_path(route, centre)
        response = anonymous.request(method, path, follow_redirects=False)
        where = f"{method} {path}"
        if route.path.startswith("/api/"):
            assert response.status_code == 401, where
            assert response.headers["www-authenticate"] == "Bearer", where
        elif method == "GET":
            assert response.status_code == 303, where
            assert response.headers["location"].startswith("/login?next="), where
        else:  # a form post: to the login page, or refused for its missing CSRF token
            assert response.status_code in (303, 403), where
            if response.status_code == 303:
                assert response.headers["location"].startswith("/login"), where
        assert not [s for s in secrets_ if s in response.text], where


@pytest.mark.parametrize("header", ["Bearer ck_" + "A" * 43, "Bearer " + "x" * 300, "Basic YWRtaW46YWRtaW4=",
                                    "bearer", "Bearer  ", "Token ck_abc"])
def test_forged_tokens_are_refused(anonymous: TestClient, header: str) -> None:
    for path in ("/api/v1/calls", "/api/v1/kpi", "/api/v1/openapi.json", "/api/v1/me"):
        response = anonymous.get(path, headers={"Authorization": header})
        assert response.status_code == 401, (path, header)
        assert "items" not in response.text


def test_a_forged_session_cookie_is_refused(anonymous: TestClient) -> None:
    client = TestClient(anonymous.app, raise_server_exceptions=False)
    client.cookies.set("callkpi_session", 'eyJ1IjoiYWRtaW4iLCJmIjoiIiwiYyI6IngifQ.forged.signature')
    response = client.get("/calls", follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/api/v1/me").status_code == 401


def test_static_files_do_not_leave_their_folder(anonymous: TestClient, centre: Centre) -> None:
    for path in ("/static/../app.py", "/static/..%2Fapp.py", "/static/%2e%2e/%2e%2e/pyproject.toml",
                 f"/static/..%2F..%2F..%2F{quote(str(centre.path))}"):
        response = anonymous.get(path)
        assert response.status_code in (400, 404), path
        assert "create_app" not in response.text and "[project]" not in response.text


# -- an agent reading another agent's data --------------------------------------------------


def test_agent_api_refuses_another_agents_filters(anonymous: TestClient, centre: Centre) -> None:
    other = centre.agent_b
    for path in (f"/api/v1/kpi?agent={other}", f"/api/v1/kpi?agent={centre.agent_a},{other}&by=agent",
                 f"/api/v1/calls?agent={other}", f"/api/v1/agents/{other}/scorecard",
                 f"/api/v1/qa/reviews?agent={other}"):
        response = api(anonymous, centre, "agent_a", path)
        assert response.status_code == 403, path
        assert response.json()["error"]
        assert_no_foreign_calls(response.text, centre)


@pytest.mark.parametrize("path", ["/api/v1/missed", "/api/v1/sources", "/api/v1/watch", "/api/v1/alerts",
                                  "/api/v1/training-effect", "/api/v1/qa/queue", "/api/v1/staffing"])
def test_agent_api_refuses_what_is_not_an_agents(anonymous: TestClient, centre: Centre, path: str) -> None:
    response = api(anonymous, centre, "agent_a", path)
    assert response.status_code == 403
    assert_no_foreign_calls(response.text, centre)


def test_agent_kpis_are_their_own(anonymous: TestClient, centre: Centre) -> None:
    for query in ("by=agent", "by=agent,day&metrics=calls_handled,aht_s", "by=queue,agent&metrics=calls_handled",
                  "by=team,agent&metrics=calls_handled,answer_rate"):
        response = api(anonymous, centre, "agent_a", f"/api/v1/kpi?{query}")
        assert response.status_code == 200, query
        assert {row["agent"] for row in response.json()} <= {centre.agent_a}, query


@pytest.mark.parametrize("sort", [*CALL_SORTS, *(f"-{s}" for s in CALL_SORTS)])
def test_agent_call_log_is_their_own_in_every_sort(anonymous: TestClient, centre: Centre, sort: str) -> None:
    response = api(anonymous, centre, "agent_a", "/api/v1/calls", params={"sort": sort, "limit": 500})
    assert response.status_code == 200
    body = response.json()
    assert visible_ids(body) <= centre.facts.visible[centre.agent_a]
    assert body["total"] == len(centre.facts.visible[centre.agent_a])


def test_agent_call_log_filters_do_not_widen_the_scope(anonymous: TestClient, centre: Centre) -> None:
    foreign = sorted(foreign_calls(centre))
    numbers = sorted(centre.facts.numbers[centre.agent_b] - centre.facts.numbers[centre.agent_a])
    queries = [{"q": foreign[0]}, {"q": numbers[0]}, {"number": numbers[0]}, {"direction": "outbound"},
               {"outcome": "abandoned"}, {"queue": "sales"}, {"campaign": "spring"}, {"min_duration": "0"},
               {"total": "false", "limit": "500"}]
    for query in queries:
        response = api(anonymous, centre, "agent_a", "/api/v1/calls", params=query)
        assert response.status_code in (200, 403), query
        if response.status_code == 200:
            assert visible_ids(response.json()) <= centre.facts.visible[centre.agent_a], query
        assert_no_foreign_calls(response.text, centre)


def test_agent_cannot_open_another_agents_call(anonymous: TestClient, pages: dict[str, TestClient],
                                               centre: Centre) -> None:
    call = sorted(foreign_calls(centre))[0]
    response = api(anonymous, centre, "agent_a", f"/api/v1/calls/{quote(call)}")
    assert response.status_code == 403
    assert "caller" not in response.json()
    for path in (f"/calls/{quote(call)}", f"/qa/review/{quote(call)}"):
        page = pages["agent_a"].get(path)
        assert page.status_code == 403, path
        assert not [n for n in centre.facts.numbers[centre.agent_b] if n in page.text], path


def test_agent_recording_urls(pages: dict[str, TestClient], centre: Centre) -> None:
    mine_set = centre.facts.visible[centre.agent_a]
    mine, my_file = next((c, p) for c, p in centre.recordings.items() if c in mine_set)
    theirs = next(c for c in centre.recordings if c not in mine_set)
    own = pages["agent_a"].get(f"/calls/{quote(mine)}/recording")
    assert own.status_code == 200
    assert own.content == my_file.read_bytes()
    other = pages["agent_a"].get(f"/calls/{quote(theirs)}/recording")
    assert other.status_code == 403
    assert b"RIFF" not in other.content


def test_agent_pages_of_another_agent_are_refused(pages: dict[str, TestClient], centre: Centre) -> None:
    other = centre.agent_b
    for path in (f"/agents/{other}", f"/agents/{other}/scorecard", f"/agents/{other}/scorecard.csv",
                 f"/calls?agent={other}", f"/export/calls.csv?agent={other}", f"/export/kpi.csv?agent={other}&by=agent",
                 f"/export/agents.xlsx?agent={other}", "/missed", "/export/missed.csv", "/training",
                 "/admin/users", "/admin/sources", "/admin/targets", "/admin/schedules", "/alerts", "/staffing"):
        response = pages["agent_a"].get(path)
        assert response.status_code == 403, path
        assert_no_foreign_calls(response.text, centre)
    for path in (f"/?agent={other}", f"/agents?agent={other}", f"/queues?agent={other}"):  # no agent filter here
        response = pages["agent_a"].get(path)
        assert response.status_code == 200, path
        assert_no_foreign_calls(response.text, centre)
        assert other not in re.findall(r'/agents/(\w+)"', response.text), path


def test_agent_reviews_are_their_own(anonymous: TestClient, pages: dict[str, TestClient], centre: Centre) -> None:
    theirs = sorted(centre.facts.reviews[centre.agent_b])
    assert theirs, "the simulated centre has QA reviews of agent_b"
    listed = api(anonymous, centre, "agent_a", "/api/v1/qa/reviews", params={"limit": 1000})
    assert listed.status_code == 200
    assert {r["review_id"] for r in listed.json()["items"]} <= centre.facts.reviews[centre.agent_a]
    assert api(anonymous, centre, "agent_a", f"/api/v1/qa/reviews/{theirs[0]}").status_code == 403
    assert pages["agent_a"].get(f"/qa/reviews/{theirs[0]}").status_code == 403


def test_agent_pages_and_exports_hold_only_their_calls(pages: dict[str, TestClient], centre: Centre) -> None:
    client = pages["agent_a"]
    for path in ("/", "/agents", f"/agents/{centre.agent_a}", "/queues", "/calls", "/calls?sort=-talk",
                 "/outbound", "/wallboard", "/wallboard/tiles", "/qa", "/sales", f"/agents/{centre.agent_a}/scorecard"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_no_foreign_calls(response.text, centre)
        assert centre.agent_b not in re.findall(r'/agents/(\w+)"', response.text), path
    rows = list(csv.DictReader(io.StringIO(client.get("/export/calls.csv?from=2026-03-01&to=2026-03-31").text)))
    assert rows and {r["call_id"] for r in rows} <= centre.facts.visible[centre.agent_a]
    agents = list(csv.DictReader(io.StringIO(client.get("/export/agents.csv").text)))
    assert {r["agent"] for r in agents} <= {centre.agent_a}
    kpi = list(csv.DictReader(io.StringIO(client.get("/export/kpi.csv?by=agent").text)))
    assert {r["agent"] for r in kpi} <= {centre.agent_a}


# -- a supervisor outside their queues and teams -------------------------------------------


def test_supervisor_outside_their_scope_is_refused(anonymous: TestClient, pages: dict[str, TestClient],
                                                   centre: Centre) -> None:
    for path in ("/api/v1/kpi?queue=sales", "/api/v1/kpi?team=sales", "/api/v1/calls?queue=sales",
                 "/api/v1/calls?team=sales", "/api/v1/missed?queue=sales",
                 f"/api/v1/agents/{centre.agent_a}/scorecard"):
        response = api(anonymous, centre, "sup", path)
        assert response.status_code == 403, path
    page = pages["sup"].get("/agents?team=sales")  # the agent table takes no team filter: the scope stays
    assert page.status_code == 200
    assert centre.agent_a not in re.findall(r'/agents/(\w+)"', page.text)
    for path in ("/?queue=sales", "/calls?queue=sales", "/missed?queue=sales",
                 "/export/calls.csv?queue=sales", "/export/kpi.csv?team=sales&by=agent",
                 f"/agents/{centre.agent_a}", f"/agents/{centre.agent_a}/scorecard"):
        response = pages["sup"].get(path)
        assert response.status_code == 403, path


def test_supervisor_sees_only_their_queue_and_team(anonymous: TestClient, centre: Centre) -> None:
    calls = api(anonymous, centre, "sup", "/api/v1/calls", params={"limit": 500, "from": "2026-03-01"}).json()
    assert calls["total"] == len(centre.facts.sup_calls)
    assert visible_ids(calls) <= centre.facts.sup_calls
    rows = api(anonymous, centre, "sup", "/api/v1/kpi", params={"by": "queue,team"}).json()
    assert {(r["queue"], r["team"]) for r in rows} <= {(SUP_QUEUE, "support")}
    sales_call = sorted(centre.facts.visible[centre.agent_a] - centre.facts.sup_calls)[0]
    assert api(anonymous, centre, "sup", f"/api/v1/calls/{quote(sales_call)}").status_code == 403
    missed = api(anonymous, centre, "sup", "/api/v1/missed", params={"limit": 1000}).json()
    assert {item["queue"] for item in missed["items"]} <= {SUP_QUEUE}


def test_supervisor_cannot_mark_another_queues_call(anonymous: TestClient, centre: Centre) -> None:
    assert centre.facts.sales_missed
    response = anonymous.post(f"/api/v1/missed/{quote(centre.facts.sales_missed)}/handled",
                              headers=centre.bearer("sup"), json={"note": "x"})
    assert response.status_code == 403
    detail = api(anonymous, centre, "admin", f"/api/v1/calls/{quote(centre.facts.sales_missed)}").json()
    assert detail["handled"] is None


# -- recordings and path traversal -----------------------------------------------------------


@pytest.mark.parametrize("call_id", ["../../../../etc/passwd", "..%2F..%2F..%2Fetc%2Fpasswd",
                                     "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "....//....//etc/passwd", "/etc/passwd"])
def test_path_traversal_in_a_recording_url(pages: dict[str, TestClient], call_id: str) -> None:
    response = pages["admin"].get(f"/calls/{call_id}/recording")
    assert response.status_code in (404, 400)
    assert "root:" not in response.text


def test_recordings_outside_audio_files_are_not_served(pages: dict[str, TestClient], centre: Centre) -> None:
    """A recording value that is not an audio file, or that climbs with ``..``, is never sent."""
    for call_id, value in centre.hostile_recordings.items():
        response = pages["admin"].get(f"/calls/{quote(call_id)}/recording")
        assert response.status_code == 404, value
        assert b"RIFF" not in response.content and b"root:" not in response.content, value
        assert b"not a recording" not in response.content, value


# -- CSRF ------------------------------------------------------------------------------------


def _form_posts(app: Any) -> list[Route]:
    return [r for r in route_table(app) if "POST" in r.methods and not r.path.startswith("/api/")]


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_every_form_post_needs_its_csrf_token(pages: dict[str, TestClient], centre: Centre,
                                              token: str | None) -> None:
    routes = _form_posts(pages["admin"].app)
    assert {r.path for r in routes} >= {"/login", "/logout", "/admin/users", "/admin/targets",
                                        "/missed/{call_id}/handled"}
    users_before = pages["admin"].get("/admin/users").text.count("<tr")
    for route in routes:
        for user in ("admin", "agent_a"):
            data = {"username": "intruder", "password": PASSWORD * 2, "role": "admin", "scope": "all",
                    "scope_value": "*", "metric": "service_level", "target": "1", "warn": "1", "day": "2026-03-02"}
            if token:
                data["csrf_token"] = token
            path = _sample_path(route, centre)
            response = pages[user].post(path, data=data, follow_redirects=False)
            assert response.status_code == 403, (user, path)
    assert pages["admin"].get("/admin/users").text.count("<tr") == users_before
    assert "intruder" not in pages["admin"].get("/admin/users").text
    assert pages["admin"].get("/calls").status_code == 200  # the sessions still work: no logout happened


def test_api_writes_with_a_session_need_the_csrf_header(pages: dict[str, TestClient]) -> None:
    body = {"scope": "all", "scope_value": "*", "metric": "service_level", "target": 0.1, "warn": 0.05}
    response = pages["admin"].put("/api/v1/targets", json=body)
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]
    targets = pages["admin"].get("/api/v1/targets").json()
    assert not [t for t in targets if t["metric"] == "service_level" and t["target"] == 0.1]


# -- login rate limiting ---------------------------------------------------------------------


def test_sign_in_is_throttled_per_client_and_user_name(centre: Centre) -> None:
    """10 failed sign-ins of one user name from one client within 10 minutes: the 11th attempt is
    refused (429) even with the right password; another user name or another client still signs in."""
    with serve(centre) as client:
        for _ in range(10):
            assert sign_in(client, "agent_b", "wrong password").status_code == 401
        blocked = sign_in(client, "agent_b")
        assert blocked.status_code == 429
        assert client.get("/calls", follow_redirects=False).status_code == 303  # not signed in
        assert sign_in(client, "agent_a").status_code == 303  # another user name
        elsewhere = TestClient(client.app, client=("203.0.113.9", 4000), raise_server_exceptions=False)
        assert sign_in(elsewhere, "agent_b").status_code == 303  # another client
        assert elsewhere.get("/calls").status_code == 200


def test_unknown_users_are_throttled_too(centre: Centre) -> None:
    with serve(centre) as client:
        codes = [sign_in(client, "nobody", "guess").status_code for _ in range(11)]
        assert codes == [401] * 10 + [429]


# -- numbers masked for agents ---------------------------------------------------------------


def _full_numbers(centre: Centre) -> list[str]:
    return sorted(centre.facts.numbers[centre.agent_a])


def test_numbers_are_masked_for_agents_in_the_api(anonymous: TestClient, centre: Centre) -> None:
    numbers = _full_numbers(centre)
    listed = api(anonymous, centre, "agent_a", "/api/v1/calls", params={"limit": 500})
    assert listed.status_code == 200 and listed.json()["items"]
    assert not [n for n in numbers if n in listed.text]
    assert "****" in listed.text
    for call_id in sorted(centre.facts.visible[centre.agent_a])[:15]:
        detail = api(anonymous, centre, "agent_a", f"/api/v1/calls/{quote(call_id)}")
        assert detail.status_code == 200
        assert not [n for n in numbers if n in detail.text], call_id
    admin = api(anonymous, centre, "admin", "/api/v1/calls", params={"limit": 500}).text
    assert [n for n in numbers if n in admin]  # the same numbers are there for an admin: the check can fail


def test_numbers_are_masked_for_agents_in_pages_and_exports(pages: dict[str, TestClient], centre: Centre) -> None:
    numbers = _full_numbers(centre)
    client = pages["agent_a"]
    texts = {path: client.get(path).text for path in ("/calls", "/calls?sort=-talk", f"/agents/{centre.agent_a}")}
    for call_id in sorted(centre.facts.visible[centre.agent_a])[:10]:
        texts[f"/calls/{call_id}"] = client.get(f"/calls/{quote(call_id)}").text
    texts["/export/calls.csv"] = client.get("/export/calls.csv", params={"from": "2026-03-01"}).text
    workbook = load_workbook(io.BytesIO(client.get("/export/calls.xlsx", params={"from": "2026-03-01"}).content))
    texts["/export/calls.xlsx"] = " ".join(str(c) for ws in workbook for row in ws.iter_rows(values_only=True)
                                           for c in row if c is not None)
    for path, text in texts.items():
        assert not [n for n in numbers if n in text], path
    assert "****" in texts["/export/calls.csv"] and "****" in texts["/export/calls.xlsx"]
    admin_csv = pages["admin"].get("/export/calls.csv", params={"from": "2026-03-01"}).text
    assert [n for n in numbers if n in admin_csv]


def test_numbers_are_masked_for_everybody_when_the_settings_say_so(centre: Centre) -> None:
    settings = Settings.model_validate({"phone": {"mask_numbers": True}})
    with serve(centre, settings) as client:
        text = client.get("/api/v1/calls", headers=centre.bearer("admin"), params={"limit": 500}).text
        assert not [n for n in _full_numbers(centre) if n in text]
