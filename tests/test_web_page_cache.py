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


def _page_token(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def test_sessions_of_one_scope_share_a_rendering_each_with_its_own_token(client: TestClient) -> None:
    from callkpi.web.auth import create_user, get_user
    from callkpi.web.page_cache import NAME_MARK
    from web_centre import PASSWORD, SUP_QUEUE, SUP_TEAM

    store = client.app.state.web.db.store()
    if get_user(store, "sup2") is None:  # a second supervisor of the very same queue and team
        create_user(store, "sup2", PASSWORD, "supervisor", queues=(SUP_QUEUE,), teams=(SUP_TEAM,))
    first, second, other = _session(client, "sup"), _session(client, "sup"), _session(client, "sup2")
    pages = _pages(client)
    pages.clear()
    misses = pages.misses
    answers = [browser.get("/agents") for browser in (first, second, other)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert pages.misses == misses + 1  # rendered once for the three sessions
    tokens = [_page_token(a.text) for a in answers]
    assert len(set(tokens)) == 3  # ... and each got its own token, in the forms and the htmx header
    for answer, token in zip(answers, tokens, strict=True):
        assert f'"X-CSRF-Token": "{token}"' in answer.text
        assert NAME_MARK not in answer.text and "ckmark" not in answer.text
    assert ">sup</span>" in answers[0].text and ">sup2</span>" in answers[2].text
    assert ">sup2</span>" not in answers[0].text
    # the token in the shared page is the session's own: a form posted with it is taken
    assert second.post("/logout", data={"csrf_token": tokens[1]}, follow_redirects=False).status_code == 303
    assert other.post("/logout", data={"csrf_token": tokens[0]}, follow_redirects=False).status_code == 403


def test_readers_of_different_scopes_never_share_a_rendering(client: TestClient, centre: Centre) -> None:
    pages = _pages(client)
    pages.clear()
    readers = [_session(client, user) for user in ("admin", "sup", "agent_a", "agent_b")]
    misses = pages.misses
    texts = [browser.get("/calls").text for browser in readers]
    assert pages.misses == misses + 4
    agent_a, agent_b = texts[2], texts[3]
    only_b = centre.facts.visible[centre.agent_b] - centre.facts.visible[centre.agent_a]
    assert not [call for call in only_b if call in agent_a]
    assert any(call in agent_b for call in only_b)


def test_a_mark_the_template_changed_is_never_handed_out() -> None:
    from callkpi.web.auth import User
    from callkpi.web.page_cache import CSRF_MARK, NAME_MARK, MarkLeft, fill_marks, shared_reader
    from callkpi.web.scope import Principal

    me = Principal(User("ann", "supervisor", queues=("q",)), "session", "tok-en_1")
    stand_in = shared_reader(me)
    assert stand_in is not None and stand_in.user.username == NAME_MARK and stand_in.csrf == CSRF_MARK
    assert stand_in.user.queues == ("q",) and stand_in.user.role == "supervisor"
    fill = fill_marks(me)
    assert fill(f"<b>{NAME_MARK}</b> {CSRF_MARK}".encode()) == b"<b>ann</b> tok-en_1"
    with pytest.raises(MarkLeft):
        fill((NAME_MARK[:-1] + "x").encode())
    odd = Principal(User("a<b", "admin"), "session", "t")
    assert shared_reader(odd) is None  # rendered for that reader alone


def test_a_kept_page_is_not_handed_to_a_session_that_ended(client: TestClient, centre: Centre) -> None:
    from callkpi.web.auth import revoke_tokens, set_password
    from web_centre import PASSWORD

    browser = _session(client, "agent_a")
    for _ in range(3):  # kept, and the reader known in memory: answered before the router
        assert browser.get("/agents").status_code == 200
    store = client.app.state.web.db.store()
    set_password(store, "agent_a", PASSWORD + "!")
    try:
        assert browser.get("/agents", follow_redirects=False).status_code == 303
    finally:
        set_password(store, "agent_a", PASSWORD)
    for _ in range(3):
        assert client.get(KPI, headers=centre.bearer("sup")).status_code == 200
    revoke_tokens(store, "sup")
    assert client.get(KPI, headers=centre.bearer("sup")).status_code == 401


def test_readers_get_the_previous_answer_while_the_new_one_renders() -> None:
    import threading

    from fastapi.responses import Response

    cache = PageCache()
    family = ("reader", "/")
    cache.answer(("v1", *family), lambda: Response(b"old"), family=family)
    started, release = threading.Event(), threading.Event()

    def slow() -> Response:
        started.set()
        release.wait(10)
        return Response(b"new")

    first: list[bytes] = []
    renderer = threading.Thread(target=lambda: first.append(cache.answer(("v2", *family), slow, family=family).body))
    renderer.start()
    assert started.wait(10)
    # the render of v2 is running: another reader does not wait for it
    assert cache.answer(("v2", *family), lambda: Response(b"twice"), family=family).body == b"old"
    release.set()
    renderer.join(10)
    assert first == [b"new"]  # the reader who rendered it gets the new answer
    assert cache.answer(("v2", *family), lambda: Response(b"twice"), family=family).body == b"new"
    cache.clear()  # a write: no older answer is handed out any more
    assert cache.answer(("v3", *family), lambda: Response(b"v3"), family=family).body == b"v3"


BROWSER = {"Sec-Fetch-Site": "same-origin", "Accept-Encoding": "gzip"}
CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Accept-Encoding": "gzip"}
_VARYING = {"content-length", "date"}


def _answered_early(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths FastAnswers answered before the router (the kept-answer way)."""
    from callkpi.web.page_answers import FastAnswers

    seen: list[str] = []
    original = FastAnswers._kept

    def spy(self: FastAnswers, scope: dict) -> object:
        answer = original(self, scope)
        if answer is not None:
            seen.append(scope["path"])
        return answer

    monkeypatch.setattr(FastAnswers, "_kept", spy)
    return seen


def test_kept_pages_go_out_compressed_once_with_each_sessions_own_token(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    early = _answered_early(monkeypatch)
    first, second = _session(client, "sup"), _session(client, "sup")
    _pages(client).clear()
    rendered = first.get("/agents", headers=BROWSER)  # rendered, compressed by the middleware
    assert early == [] and rendered.headers["content-encoding"] == "gzip"
    for browser in (first, second):
        kept = browser.get("/agents", headers=BROWSER)  # the kept answer, compressed once in pieces
        plain = browser.get("/agents", headers=CROSS_SITE)  # the same, never compressed cross-site
        assert kept.status_code == plain.status_code == 200
        assert kept.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
        assert kept.text == plain.text  # httpx took the gzip apart: the same page
        token = _page_token(kept.text)
        assert f'"X-CSRF-Token": "{token}"' in kept.text
        assert "ckmark" not in kept.text
        if browser is first:
            assert kept.text == rendered.text
            same = {k: v for k, v in rendered.headers.items() if k not in _VARYING}
            assert {k: v for k, v in kept.headers.items() if k not in _VARYING} == same
    assert early == ["/agents"] * 4
    assert _page_token(first.get("/agents", headers=BROWSER).text) != _page_token(
        second.get("/agents", headers=BROWSER).text)


def test_a_gzipped_answer_is_the_gzip_of_the_filled_body() -> None:
    import gzip
    import secrets

    from callkpi.web.page_cache import CSRF_MARK, NAME_MARK, gzipped

    text = secrets.token_hex(3000).encode()  # hardly compressible; a repeated part that is
    body = b"<p>" + NAME_MARK.encode() + text + b"<i>x</i>" * 500 + CSRF_MARK.encode() + b"." + CSRF_MARK.encode()
    packed = gzipped(body)
    assert packed is not None and packed.marks == (0, 1, 1)
    for name, csrf in ((b"ann", b"tok-1_2"), (b"", b""), (b"b" * 100, b"c" * 64)):
        expected = body.replace(NAME_MARK.encode(), name).replace(CSRF_MARK.encode(), csrf)
        assert gzip.decompress(packed.filled(body, name, csrf)) == expected
    assert len(packed.filled(body, b"ann", b"t")) < len(body) // 1.5
    plain = b"no marks here " * 100
    whole = gzipped(plain)
    assert whole is not None and gzip.decompress(whole.filled(plain)) == plain
    assert gzipped(b"<b>" + (NAME_MARK[:-1] + "x").encode() + b"</b>") is None  # a changed mark: never sent


def test_a_session_checked_once_still_ends_at_its_age(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from callkpi.web.security import SESSION_MAX_AGE_S

    browser = _session(client, "admin")
    for _ in range(2):  # its signature checked once, then known in memory
        assert browser.get("/agents", follow_redirects=False).status_code == 200
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + SESSION_MAX_AGE_S + 5)
    assert browser.get("/agents", follow_redirects=False).status_code == 303
    assert browser.get(TOTAL, follow_redirects=False).status_code == 401


def test_while_a_new_version_renders_the_previous_answer_is_handed_out_early() -> None:
    import threading

    from fastapi.responses import Response

    cache = PageCache()
    family = ("reader", "/")
    cache.answer(("v1", *family), lambda: Response(b"old"), family=family)
    assert cache.kept_or_stale(("v2", *family), family) is None  # nobody renders v2: this request must
    started, release = threading.Event(), threading.Event()

    def slow() -> Response:
        started.set()
        release.wait(10)
        return Response(b"new")

    renderer = threading.Thread(target=lambda: cache.answer(("v2", *family), slow, family=family))
    renderer.start()
    assert started.wait(10)
    stale = cache.kept_or_stale(("v2", *family), family)
    assert stale is not None and stale.body == b"old"
    assert cache.kept_or_stale(("v2", "reader", "/other"), ("reader", "/other")) is None  # another page: never
    release.set()
    renderer.join(10)
    fresh = cache.kept_or_stale(("v2", *family), family)
    assert fresh is not None and fresh.body == b"new"
