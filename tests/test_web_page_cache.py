"""The rendered-answer cache (web/page_cache.py): never across readers, new data renders afresh,
one answer per language, and a repeated request is served from the cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.web.page_cache import PageCache
from callkpi.web.security import LANG_COOKIE
from conftest import T0, ql_line
from web_centre import CSRF_INPUT, TZ, Centre, build_centre, serve, sign_in

KPI = "/api/v1/kpi?by=agent&metrics=calls_handled"
TOTAL = "/api/v1/kpi?metrics=calls_offered"


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Centre:
    return build_centre(tmp_path_factory.mktemp("page-cache"))


@pytest.fixture
def client(centre: Centre) -> Iterator[TestClient]:
    with serve(centre) as served:
        yield served


def _session(client: TestClient, user: str) -> TestClient:
    browser = TestClient(client.app, raise_server_exceptions=False)
    assert sign_in(browser, user).status_code == 303
    return browser


def _pages(client: TestClient) -> PageCache:
    return client.app.state.web.db.pages


def test_a_repeated_request_is_answered_from_the_cache(client: TestClient, centre: Centre) -> None:
    first = client.get(KPI, headers=centre.bearer("admin"))
    hits = _pages(client).hits
    second = client.get(KPI, headers=centre.bearer("admin"))
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second.headers["x-total-count"] == first.headers["x-total-count"]
    assert _pages(client).hits == hits + 1


def test_an_agent_never_gets_an_answer_cached_for_another_reader(client: TestClient, centre: Centre) -> None:
    for user in ("admin", "sup"):  # cached first, for the very same URL
        assert client.get(KPI, headers=centre.bearer(user)).status_code == 200
    agents = {row["agent"] for row in client.get(KPI, headers=centre.bearer("agent_a")).json()}
    assert agents == {centre.agent_a}
    admin_agents = {row["agent"] for row in client.get(KPI, headers=centre.bearer("admin")).json()}
    assert centre.agent_b in admin_agents


def test_an_agent_never_gets_a_supervisors_cached_page(client: TestClient, centre: Centre) -> None:
    supervisor, agent = _session(client, "sup"), _session(client, "agent_b")
    seen_by_supervisor = supervisor.get("/calls")
    assert seen_by_supervisor.status_code == 200
    seen_by_agent = agent.get("/calls")
    assert seen_by_agent.status_code == 200
    assert seen_by_agent.text != seen_by_supervisor.text
    foreign = centre.facts.sup_calls - centre.facts.visible[centre.agent_b]
    assert any(call in seen_by_supervisor.text for call in foreign)  # the supervisor's page shows them
    assert not [call for call in foreign if call in seen_by_agent.text]
    # and each session keeps its own CSRF token in the forms
    assert supervisor.cookies != agent.cookies


def test_each_language_has_its_own_answer(client: TestClient) -> None:
    browser = _session(client, "admin")
    browser.cookies.set(LANG_COOKIE, "en")
    english = browser.get("/")
    browser.cookies.set(LANG_COOKIE, "ru")
    russian = browser.get("/")
    browser.cookies.set(LANG_COOKIE, "en")
    again = browser.get("/")
    assert english.status_code == russian.status_code == 200
    assert 'lang="ru"' in russian.text and 'lang="en"' in english.text
    assert again.text == english.text


def test_new_data_is_rendered_afresh(client: TestClient, centre: Centre, tmp_path: Path) -> None:
    before = client.get(TOTAL, headers=centre.bearer("admin")).json()[0]["calls_offered"]
    assert client.get(TOTAL, headers=centre.bearer("admin")).json()[0]["calls_offered"] == before  # cached
    extra = tmp_path / "queue_log"
    start = T0 + 86400 + 3 * 3600
    extra.write_text("\n".join([
        ql_line(start, "cache-test-1", "support", "NONE", "ENTERQUEUE", "", "79001234567", "1"),
        ql_line(start + 20, "cache-test-1", "support", "NONE", "ABANDON", "1", "1", "20"),
    ]) + "\n", encoding="utf-8")
    load_file(client.app.state.web.db.store(), extra, Settings(), timezone=TZ)
    after = client.get(TOTAL, headers=centre.bearer("admin")).json()[0]["calls_offered"]
    assert after == before + 1


def test_the_cache_is_bounded_and_ages() -> None:
    from fastapi.responses import Response

    now = [0.0]
    cache = PageCache(max_entries=2, max_bytes=1000, max_age_s=10, clock=lambda: now[0])
    for key in ("a", "b", "c"):
        cache.put(key, Response(b"x" * 10))
    assert cache.get("a") is None and cache.get("c") is not None and len(cache) == 2
    cache.put("big", Response(b"x" * 600))  # over a quarter of the byte budget: not kept
    assert cache.get("big") is None
    now[0] = 11
    assert cache.get("c") is None
    cache.put("cookie", Response(b"x", headers={"set-cookie": "a=b"}))
    assert cache.get("cookie") is None


def test_readers_of_a_missing_answer_wait_for_one_rendering() -> None:
    import threading

    from fastapi.responses import Response

    cache, renders, started = PageCache(), [], threading.Event()

    def make() -> Response:
        renders.append(1)
        started.set()
        threading.Event().wait(0.2)
        return Response(b"page")

    answers: list[bytes] = []
    first = threading.Thread(target=lambda: answers.append(bytes(cache.answer("k", make).body)))
    first.start()
    started.wait(5)
    others = [threading.Thread(target=lambda: answers.append(bytes(cache.answer("k", make).body))) for _ in range(5)]
    for thread in (*others,):
        thread.start()
    for thread in (first, *others):
        thread.join(10)
    assert answers == [b"page"] * 6
    assert len(renders) == 1


def test_a_saved_target_drops_the_rendered_pages(client: TestClient) -> None:
    browser = _session(client, "admin")
    assert browser.get("/agents").status_code == 200
    assert len(_pages(client)) > 0
    form = browser.get("/admin/targets")
    csrf = CSRF_INPUT.search(form.text)
    assert csrf
    saved = browser.post("/admin/targets", data={"csrf_token": csrf.group(1), "metric": "aht_s", "scope": "all",
                                                 "scope_value": "*", "target": "123", "warn": "150"},
                         follow_redirects=False)
    assert saved.status_code == 303
    assert len(_pages(client)) == 0
