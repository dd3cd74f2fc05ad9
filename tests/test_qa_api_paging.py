"""Issue 13 item 7 (QA): the review queue and the reviews of ``/api/v1/qa`` are paged (``limit``,
``offset``, ``total``, ``has_more``, ``next``), so a client walking every page gets each queued call and
each review exactly once, and an agent only their own. The expected sets come from the raw agent legs
of the fixture (who answered which call), not from callkpi's lists.

Users of ``build_web_store``: ``admin``; ``sup``, supervisor of queue ``support`` (agent 1003);
``agent1`` (agent 1001) and ``agent3`` (agent 1003)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from callkpi.config import Settings
from callkpi.qa.sample import pick_call
from callkpi.web.app import create_app
from test_qa_web import SCORES
from test_web_api import TZ, Web, build_web_store


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    data = build_web_store(tmp_path_factory.mktemp("qa-paging"))
    app = create_app(data.path, Settings(), warm=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Web(client, app.state.web.db.store(), data)


def answered(web: Web) -> dict[str, str]:
    """call -> its first answering agent, read from the raw agent legs."""
    rows = web.store.connection.execute(
        "SELECT call_id, arg_min(agent, answer_utc) FROM agent_legs WHERE outcome = 'answered' "
        "AND agent IS NOT NULL GROUP BY call_id").fetchall()
    return dict(rows)


def queue_of(web: Web) -> dict[str, str]:
    rows = web.store.connection.execute("SELECT call_id, queue FROM calls").fetchall()
    return dict(rows)


def walk(web: Web, path: str, user: str, limit: int, **params: Any) -> tuple[list[dict[str, Any]], list[int]]:
    """Every page from the first, following ``next``; the rows and each page's ``total``."""
    items: list[dict[str, Any]] = []
    totals: list[int] = []
    response = web.api(path, user, params={"limit": limit, **params})
    for _ in range(1000):
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["limit"] == limit and len(page["items"]) <= limit
        items += page["items"]
        totals.append(page["total"])
        if not page["has_more"]:
            assert page["next"] is None
            break
        assert len(page["items"]) == limit and page["next"].startswith(path + "?")
        response = web.api(page["next"], user)
    return items, totals


def test_the_review_queue_pages_each_call_once(web: Web) -> None:
    calls = answered(web)
    assert len(calls) >= 5, "the fixture answers enough calls to need several pages"
    for call_id in calls:
        pick_call(web.store, call_id, user="test", timezone=TZ)
    items, totals = walk(web, "/api/v1/qa/queue", "admin", 2)
    keys = [(q["call_id"], q["agent"]) for q in items]
    assert len(keys) == len(set(keys)), "a queued call came twice"
    assert set(keys) == set(calls.items())
    assert set(totals) == {len(calls)}
    support = {(c, a) for c, a in calls.items() if queue_of(web)[c] == "support"}
    sup_items, sup_totals = walk(web, "/api/v1/qa/queue", "sup", 1)
    assert [(q["call_id"], q["agent"]) for q in sup_items] and set(sup_totals) == {len(support)}
    assert {(q["call_id"], q["agent"]) for q in sup_items} == support
    assert web.api("/api/v1/qa/queue", "agent1").status_code == 403


def test_walking_the_reviews_gets_each_review_once_and_agents_their_own(web: Web) -> None:
    calls = answered(web)
    made: dict[str, str] = {}  # review id -> agent
    for call_id, agent in calls.items():
        response = web.post("/api/v1/qa/reviews", json={"call_id": call_id, "call_type": "qualification",
                                                         "scores": SCORES})
        assert response.status_code == 201, response.text
        made[response.json()["review_id"]] = agent
    for limit in (1, 3, 1000):
        items, totals = walk(web, "/api/v1/qa/reviews", "admin", limit)
        ids = [r["review_id"] for r in items]
        assert len(ids) == len(set(ids)), f"a review came twice with limit {limit}"
        assert set(ids) == set(made) and set(totals) == {len(made)}
    for user, agent in (("agent1", "1001"), ("agent3", "1003")):
        own = {r for r, a in made.items() if a == agent}
        assert own, agent
        items, totals = walk(web, "/api/v1/qa/reviews", user, 2)
        assert [r["review_id"] for r in items] and len(items) == len(own)
        assert {r["review_id"] for r in items} == own and set(totals) == {len(own)}
        assert {r["agent"] for r in items} == {agent}
    # the reviewed calls left the queue
    assert web.api("/api/v1/qa/queue").json() | {"items": None} == {
        "items": None, "total": 0, "limit": 100, "offset": 0, "has_more": False, "next": None}


def test_a_filter_is_kept_on_the_next_link(web: Web) -> None:
    first = web.api("/api/v1/qa/reviews", params={"agent": "1001", "limit": 1}).json()
    assert first["total"] >= 2 and "agent=1001" in first["next"] and "offset=1" in first["next"]
    second = web.api(first["next"]).json()
    assert second["offset"] == 1 and second["items"][0]["agent"] == "1001"
    assert second["items"][0]["review_id"] != first["items"][0]["review_id"]


def test_paging_is_in_the_openapi_schema(web: Web) -> None:
    schema = web.api("/api/v1/openapi.json").json()
    for path in ("/api/v1/qa/reviews", "/api/v1/qa/queue"):
        operation = schema["paths"][path]["get"]
        assert {"limit", "offset"} <= {p["name"] for p in operation["parameters"]}, path
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert {"items", "total", "limit", "offset", "has_more", "next"} <= set(page["properties"]), path
    assert web.api("/api/v1/qa/reviews", params={"limit": 1001}).status_code in (400, 422)
