"""The QA page's trends (issue 15): CQR per agent and the mean score per criterion, a point for every
day of the period with a review and none (null) for a day without one."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from callkpi.config import Settings
from callkpi.web.app import create_app
from test_web_api import TZ, Web, build_web_store, login

PERIOD = {"from": "2026-03-02", "to": "2026-03-03"}
SCORES = {"greeting": "1", "problem identification": "0.5", "needs questions": None, "product presentation": 1,
          "next step agreed": 0, "personal data consent": "1"}
# the qualification scorecard's weights: greeting 1, problem identification 3, product presentation 2,
# next step agreed 2, personal data consent 1 (needs questions is N/A: left out)
HAND_CQR = 100 * (1 * 1 + 3 * 0.5 + 2 * 1 + 2 * 0 + 1 * 1) / (1 + 3 + 2 + 2 + 1)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    data = build_web_store(tmp_path_factory.mktemp("qa-charts"))
    app = create_app(data.path, Settings(), warm=False, alerts=False)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield Web(client, app.state.web.db.store(), data)


def spec(html: str, element_id: str) -> dict:
    found = re.search(rf'id="{element_id}" data-chart="([^"]*)"', html)
    assert found, element_id
    return json.loads(found.group(1).replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&")
                      .replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">"))


def test_qa_trends_per_agent_and_per_criterion(web: Web) -> None:
    call_id, start = web.store.connection.execute(
        "SELECT c.call_id, c.start_utc FROM calls c JOIN agent_legs l ON l.call_id = c.call_id "
        "WHERE l.agent = '1001' AND l.outcome = 'answered' ORDER BY c.call_id LIMIT 1").fetchone()
    review = web.post("/api/v1/qa/reviews", json={"call_id": call_id, "call_type": "qualification",
                                                  "scores": SCORES})
    assert review.status_code in (200, 201), review.text
    session = TestClient(web.client.app)
    login(session, "admin")
    html = session.get("/qa", params=PERIOD).text
    day = start.replace(tzinfo=UTC).astimezone(ZoneInfo(TZ)).date()
    index = (day - date(2026, 3, 2)).days
    cqr = spec(html, "qa-cqr-trend")
    assert len(cqr["labels"]) == 2
    (line,) = cqr["series"]
    assert line["data"][index] == pytest.approx(HAND_CQR)
    assert line["data"][1 - index] is None  # no review that day: no point, not 0
    criteria = {s["name"]: s["data"] for s in spec(html, "qa-criterion-trend")["series"]}
    assert criteria["greeting"][index] == 1 and criteria["problem identification"][index] == 0.5
    assert criteria["next step agreed"][index] == 0
    assert "needs questions" not in criteria  # N/A scores are left out
    assert all(values[1 - index] is None for values in criteria.values())
