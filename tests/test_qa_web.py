"""Call quality over HTTP: the /api/v1/qa endpoints, the pages and who may do what.

Users of ``build_web_store``: ``admin``; ``sup``, supervisor of queue ``support`` (agent 1003);
``agent1`` (agent 1001) and ``agent3`` (agent 1003). Sales calls are answered by 1001 and 1002.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from callkpi.config import Settings
from callkpi.storage import Store
from callkpi.web.app import create_app
from test_web_api import Web, build_web_store, login

SCORES = {"greeting": "1", "problem identification": "0.5", "needs questions": None, "product presentation": 1,
          "next step agreed": 0, "personal data consent": "1"}
EXPECTED_CQR = 100 * (1 + 1.5 + 2 + 0 + 1) / 9
PERIOD = {"from": "2026-03-02", "to": "2026-03-03"}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    data = build_web_store(tmp_path_factory.mktemp("qa-web"))
    app = create_app(data.path, Settings(), warm=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Web(client, app.state.web.db.store(), data)


def calls_of(store: Store, agent: str) -> list[str]:
    rows = store.connection.execute(
        "SELECT DISTINCT call_id FROM agent_legs WHERE agent = ? AND outcome = 'answered' ORDER BY call_id",
        [agent]).fetchall()
    return [r[0] for r in rows]


def score(web: Web, call_id: str, user: str = "admin", **extra: Any) -> Any:
    body = {"call_id": call_id, "call_type": "qualification", "scores": SCORES, **extra}
    return web.post("/api/v1/qa/reviews", user, json=body)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


# -- API --------------------------------------------------------------------------------------------


def test_scoring_a_call_returns_the_server_cqr(web: Web) -> None:
    response = score(web, calls_of(web.store, "1001")[0], comments={"next step agreed": "no next step"},
                     comment="friendly")
    assert response.status_code == 201, response.text
    review = response.json()
    assert review["cqr"] == pytest.approx(EXPECTED_CQR)
    assert review["reviewer"] == "admin" and review["agent"] == "1001" and review["comment"] == "friendly"
    assert {s["criterion"]: s["score"] for s in review["scores"]}["needs questions"] is None
    again = web.api(f"/api/v1/qa/reviews/{review['review_id']}").json()
    assert again["cqr"] == review["cqr"] and again["version"] == 1


def test_bad_reviews_are_400_with_the_reason(web: Web) -> None:
    call = calls_of(web.store, "1001")[0]
    response = score(web, call, scores={**SCORES, "greeting": 2})
    assert response.status_code == 400 and "greeting" in response.json()["error"]
    assert score(web, call, call_type="nope").status_code == 400
    assert score(web, "no-such-call").status_code == 404


def test_a_correction_adds_a_version_and_the_kpi_follows(web: Web) -> None:
    call = calls_of(web.store, "1002")[0]
    first = score(web, call).json()
    fixed = web.post(f"/api/v1/qa/reviews/{first['review_id']}/corrections", json={
        "reason": "next step was agreed", "scores": {**SCORES, "next step agreed": 1}})
    assert fixed.status_code == 201, fixed.text
    assert fixed.json()["version"] == 2 and fixed.json()["cqr"] == pytest.approx(100 * 7.5 / 9)
    listed = web.api("/api/v1/qa/reviews", params={"call_id": call}).json()["items"]
    assert [(r["version"], r["cqr"]) for r in listed] == [(2, pytest.approx(100 * 7.5 / 9))]
    kpi = web.api("/api/v1/kpi", params={"by": "agent", "metrics": "cqr,qa_reviews", **PERIOD}).json()
    assert next(r for r in kpi if r["agent"] == "1002")["cqr"] == pytest.approx(100 * 7.5 / 9)


def test_scorecards_are_listed_and_only_admins_change_them(web: Web) -> None:
    cards = {c["call_type"]: c for c in web.api("/api/v1/qa/scorecards").json()}
    assert cards["objection"]["version"] >= 1
    new = {"scorecards": [{"call_type": "retention", "title": "Retention",
                           "criteria": [{"name": "save offer", "weight": 3}, {"name": "tone", "weight": 1}]}]}
    assert web.client.put("/api/v1/qa/scorecards", json=new, headers={
        "Authorization": f"Bearer {web.data.tokens['sup']}"}).status_code == 403
    response = web.client.put("/api/v1/qa/scorecards", json=new, headers={
        "Authorization": f"Bearer {web.data.tokens['admin']}"})
    assert response.status_code == 200 and response.json() == {"retention": 1}
    bad = web.client.put("/api/v1/qa/scorecards", json={"scorecards": [{"call_type": "x", "criteria": []}]},
                         headers={"Authorization": f"Bearer {web.data.tokens['admin']}"})
    assert bad.status_code == 400


def test_the_sample_endpoint_fills_the_queue(web: Web) -> None:
    response = web.post("/api/v1/qa/sample", json={"day": "2026-03-03", "seed": "t"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["handled"] == 6 and body["sampled"] == 3  # round(2 x 0.3) = 1 call per agent
    queue = web.api("/api/v1/qa/queue").json()["items"]
    assert {q["agent"] for q in queue if str(q["day"]) == "2026-03-03"} == {"1001", "1002", "1003"}
    sup_queue = web.api("/api/v1/qa/queue", "sup").json()["items"]
    assert sup_queue and {q["queue"] for q in sup_queue} == {"support"}
    assert web.post("/api/v1/qa/sample", "sup", json={"day": "2026-03-03", "rules": ["nope"]}).status_code == 400


# -- permissions ----------------------------------------------------------------------------------


def test_an_agent_cannot_score(web: Web) -> None:
    assert score(web, calls_of(web.store, "1001")[1], "agent1").status_code == 403
    assert web.api("/api/v1/qa/queue", "agent1").status_code == 403


def test_an_agent_sees_only_their_own_reviews(web: Web) -> None:
    mine = score(web, calls_of(web.store, "1001")[1]).json()
    theirs = score(web, calls_of(web.store, "1003")[0]).json()
    listed = web.api("/api/v1/qa/reviews", "agent1").json()["items"]
    assert listed and {r["agent"] for r in listed} == {"1001"}
    assert web.api(f"/api/v1/qa/reviews/{mine['review_id']}", "agent1").status_code == 200
    assert web.api(f"/api/v1/qa/reviews/{theirs['review_id']}", "agent1").status_code == 403
    assert web.api("/api/v1/qa/reviews", "agent1", params={"agent": "1003"}).status_code == 403


def test_a_supervisor_scores_only_calls_of_their_queues(web: Web) -> None:
    assert score(web, calls_of(web.store, "1002")[1], "sup").status_code == 403
    own = score(web, calls_of(web.store, "1003")[1], "sup")
    assert own.status_code == 201
    listed = web.api("/api/v1/qa/reviews", "sup").json()["items"]
    assert listed and {r["queue"] for r in listed} == {"support"}


def test_the_agent_acknowledges_or_disputes_their_review(web: Web) -> None:
    review = score(web, calls_of(web.store, "1003")[0]).json()
    path = f"/api/v1/qa/reviews/{review['review_id']}/response"
    assert web.post(path, "agent1", json={"response": "acknowledged"}).status_code == 403
    assert web.post(path, "admin", json={"response": "acknowledged"}).status_code == 403
    assert web.post(path, "agent3", json={"response": "disputed", "comment": ""}).status_code == 400
    answered = web.post(path, "agent3", json={"response": "disputed", "comment": "the client hung up"})
    assert answered.status_code == 200
    assert answered.json()["response"]["response"] == "disputed"
    listed = web.api("/api/v1/qa/reviews", "agent3").json()["items"]
    assert next(r for r in listed if r["review_id"] == review["review_id"])["response"] == "disputed"


# -- pages ----------------------------------------------------------------------------------------


@pytest.fixture
def browser_client(web: Web) -> Iterator[TestClient]:
    yield TestClient(web.client.app, raise_server_exceptions=False)


def test_the_review_form_saves_a_review_with_the_server_cqr(web: Web, browser_client: TestClient) -> None:
    login(browser_client)
    call = calls_of(web.store, "1001")[0]
    page = browser_client.get(f"/qa/review/{call}", params={"call_type": "qualification"})
    assert page.status_code == 200 and 'id="qa-live-cqr"' in page.text and "/static/qa.js" in page.text
    version = re.search(r'name="scorecard_version" value="(\d+)"', page.text).group(1)
    form = {"csrf_token": csrf_of(page.text), "call_type": "qualification", "scorecard_version": version,
            "agent": "1001", "score_0": "1", "score_1": "0.5", "score_2": "na", "score_3": "1", "score_4": "0",
            "score_5": "1", "comment_4": "no next step", "comment": "ok"}
    assert browser_client.post(f"/qa/review/{call}", data={k: v for k, v in form.items() if k != "csrf_token"},
                               follow_redirects=False).status_code == 403
    saved = browser_client.post(f"/qa/review/{call}", data=form, follow_redirects=False)
    assert saved.status_code == 303
    review_id = saved.headers["location"].rsplit("/", 1)[1]
    review = web.api(f"/api/v1/qa/reviews/{review_id}").json()
    assert review["cqr"] == pytest.approx(EXPECTED_CQR)
    assert {s["criterion"]: s["comment"] for s in review["scores"]}["next step agreed"] == "no next step"
    listing = browser_client.get("/qa", params=PERIOD).text
    assert f'data-review="{review_id}"' in listing


def test_agents_get_no_review_form_and_no_scorecard_editing(web: Web, browser_client: TestClient) -> None:
    login(browser_client, "agent1")
    call = calls_of(web.store, "1001")[0]
    assert browser_client.get(f"/qa/review/{call}").status_code == 403
    page = browser_client.get("/qa/scorecards")
    assert page.status_code == 200 and 'name="yaml"' not in page.text
    assert browser_client.post("/qa/scorecards", data={"csrf_token": csrf_of(page.text),
                                                       "yaml": "scorecards: []"}).status_code == 403


def test_an_admin_edits_a_scorecard_as_yaml(web: Web, browser_client: TestClient) -> None:
    login(browser_client)
    page = browser_client.get("/qa/scorecards")
    assert page.status_code == 200 and 'name="yaml"' in page.text
    text = "scorecards:\n- call_type: spam\n  title: Spam\n  criteria:\n  - {name: greeting, weight: 1}\n"
    saved = browser_client.post("/qa/scorecards", data={"csrf_token": csrf_of(page.text), "yaml": text},
                                follow_redirects=False)
    assert saved.status_code == 303
    spam = next(c for c in web.api("/api/v1/qa/scorecards").json() if c["call_type"] == "spam")
    assert spam["version"] == 2 and [c["name"] for c in spam["criteria"]] == ["greeting"]
    broken = browser_client.post("/qa/scorecards", data={"csrf_token": csrf_of(page.text), "yaml": "a: [b"})
    assert broken.status_code == 400 and 'id="qa-scorecard-error"' in broken.text
    exported = browser_client.get("/qa/scorecards.yaml")
    assert exported.status_code == 200 and "call_type: spam" in exported.text


@pytest.mark.parametrize("lang,word", [("en", "Call quality"), ("ru", "Качество звонков")])
def test_the_qa_page_speaks_both_languages(web: Web, browser_client: TestClient, lang: str, word: str) -> None:
    login(browser_client)
    browser_client.get(f"/lang/{lang}", params={"next": "/"})
    page = browser_client.get("/qa", params=PERIOD)
    assert page.status_code == 200 and word in page.text


def overview_cqr(client: TestClient) -> float:
    page = client.get("/", params=PERIOD)
    assert page.status_code == 200
    found = re.search(r'data-metric="cqr" data-value="([^"]*)"', page.text)
    assert found, "no CQR on the overview"
    return float(found.group(1))


def test_the_overview_shows_the_current_cqr(web: Web, browser_client: TestClient) -> None:
    login(browser_client)
    score(web, calls_of(web.store, "1002")[1])
    before = overview_cqr(browser_client)
    score(web, calls_of(web.store, "1002")[1], scores={**SCORES, "personal data consent": 0})  # a fatal error: 0
    kpi = web.api("/api/v1/kpi", params={"metrics": "cqr", **PERIOD}).json()[0]["cqr"]
    assert overview_cqr(browser_client) == pytest.approx(kpi) and kpi < before


def test_the_agent_answers_on_the_review_page(web: Web, browser_client: TestClient) -> None:
    review = score(web, calls_of(web.store, "1001")[2]).json()
    login(browser_client, "agent1")
    page = browser_client.get(f"/qa/reviews/{review['review_id']}")
    assert page.status_code == 200
    assert 'id="qa-respond-form"' in page.text and 'id="qa-correct-form"' not in page.text
    answered = browser_client.post(f"/qa/reviews/{review['review_id']}/respond", follow_redirects=False,
                                   data={"csrf_token": csrf_of(page.text), "response": "acknowledged"})
    assert answered.status_code == 303
    assert "acknowledged" in browser_client.get(f"/qa/reviews/{review['review_id']}").text
    listing = browser_client.get("/qa", params=PERIOD).text
    assert 'id="qa-queue"' not in listing and 'data-agent="1001"' in listing and 'data-agent="1003"' not in listing


def test_a_supervisor_corrects_on_the_review_page(web: Web, browser_client: TestClient) -> None:
    review = score(web, calls_of(web.store, "1003")[2]).json()
    login(browser_client, "sup")
    page = browser_client.get(f"/qa/reviews/{review['review_id']}")
    assert page.status_code == 200 and 'id="qa-correct-form"' in page.text
    form = {"csrf_token": csrf_of(page.text), "reason": "the next step was agreed at the end", "score_0": "1",
            "score_1": "0.5", "score_2": "na", "score_3": "1", "score_4": "1", "score_5": "1"}
    fixed = browser_client.post(f"/qa/reviews/{review['review_id']}/correct", data=form, follow_redirects=False)
    assert fixed.status_code == 303
    latest = web.api(f"/api/v1/qa/reviews/{review['review_id']}").json()
    assert latest["version"] == 2 and latest["reviewer"] == "sup" and latest["cqr"] == pytest.approx(100 * 7.5 / 9)
    first = web.api(f"/api/v1/qa/reviews/{review['review_id']}", params={"version": 1}).json()
    assert first["cqr"] == pytest.approx(EXPECTED_CQR)


def test_the_agent_disputes_on_the_page_with_a_comment_the_reviewers_see(web: Web, browser_client: TestClient) -> None:
    review = score(web, calls_of(web.store, "1003")[1]).json()
    path = f"/qa/reviews/{review['review_id']}"
    login(browser_client, "agent3")
    page = browser_client.get(path).text
    dispute_form = page[page.index('id="qa-dispute-form"'):]
    dispute_form = dispute_form[:dispute_form.index("</form>")]
    assert 'name="response" value="disputed"' in dispute_form
    assert re.search(r'<textarea id="qa-dispute-comment" name="comment"[^>]* required', dispute_form)
    empty = browser_client.post(f"{path}/respond", follow_redirects=False,
                                data={"csrf_token": csrf_of(page), "response": "disputed", "comment": " "})
    assert empty.status_code == 400  # the server refuses a dispute without a comment too
    sent = browser_client.post(f"{path}/respond", follow_redirects=False, data={
        "csrf_token": csrf_of(page), "response": "disputed", "comment": "the client asked to call back"})
    assert sent.status_code == 303
    stored = web.store.connection.execute(
        "SELECT response, comment FROM qa_responses WHERE review_id = ?", [review["review_id"]]).fetchall()
    assert stored == [("disputed", "the client asked to call back")]
    login(browser_client, "sup")  # the supervisor of support reviews 1003's calls
    seen = browser_client.get(path).text
    assert '<blockquote id="qa-response-comment">the client asked to call back</blockquote>' in seen
    listing = browser_client.get("/qa", params=PERIOD).text
    row = listing[listing.index(f'data-review="{review["review_id"]}"'):]
    assert '<q class="qa-dispute-comment">the client asked to call back</q>' in row[:row.index("</tr>")]


def test_the_review_queue_is_paged_on_the_server(tmp_path_factory: pytest.TempPathFactory) -> None:
    from callkpi.web.features.qa import QUEUE_PER_PAGE

    data = build_web_store(tmp_path_factory.mktemp("qa-queue"))
    total = 2 * QUEUE_PER_PAGE + 7  # three pages: 50, 50, 7
    with Store(data.path) as store:
        store.connection.executemany(
            "INSERT INTO qa_sample VALUES (?, '1001', DATE '2026-03-02', 'qualification', 'manual', 'admin', "
            "TIMESTAMP '2026-03-04 09:00:00', NULL)", [[f"Q-{i:04d}"] for i in range(total)])
    app = create_app(data.path, Settings(), warm=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        login(client, "admin")

        def queued(page: int | None) -> tuple[list[str], str]:
            html = client.get("/qa", params={**PERIOD, **({"queue_page": page} if page else {})}).text
            section = html[html.index('id="qa-queue-section"'):html.index("</section>", html.index('id="qa-queue"'))]
            return re.findall(r'<tr data-call="(Q-\d+)">', section), section

        first, section = queued(None)
        assert first == [f"Q-{i:04d}" for i in range(50)]  # oldest day first, then call id
        assert f'data-queue-total="{total}"' in section and "1–50 / 107" in section
        assert 'data-page="next"' in section and 'data-page="prev"' not in section
        last, section = queued(3)
        assert last == [f"Q-{i:04d}" for i in range(100, 107)]
        assert "101–107 / 107" in section and 'data-page="next"' not in section
        assert queued(99)[0] == last  # past the end: the last page
        assert client.get("/qa", params={"queue_page": "x"}).status_code == 400


def test_the_review_page_names_the_agent_through_the_agent_reference(web: Web) -> None:
    login(web.client, "admin")
    call = calls_of(web.store, "1001")[0]
    page = web.client.get(f"/qa/review/{call}").text
    # no name in this store's agents list: the id, as a link to the agent's page with the id on hover
    assert '<dd id="call-agent"><a href="/agents/1001" title="1001" data-agent="1001">1001</a></dd>' in page
