"""The scripts page (issue 20, item 2: scripts edited in the web by admins): every user reads the
scripts in force; an admin saves YAML, the changed script gets a new version and every transcript is
checked again; others are refused, and so is a form without its CSRF token.

Hand-computed: the transcript of tests/test_speech_web.py does the stages greeting and farewell of
the shipped qualification script (5 required stages): adherence 2 / 5 = 0.4. Saved with only
greeting, needs and farewell required (presentation and close optional), it is 2 / 3.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from fastapi.testclient import TestClient

from callkpi.config import Settings
from callkpi.web.app import create_app
from test_qa_web import csrf_of
from test_speech_web import add_transcript
from test_web_api import Web, build_web_store, login


@pytest.fixture(scope="module")
def scripts_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Web, str]]:
    directory = tmp_path_factory.mktemp("scripts-web")
    data = build_web_store(directory)
    call_id = add_transcript(data, directory)
    app = create_app(data.path, Settings(), warm=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Web(client, app.state.web.db.store(), data), call_id


def _adherence_of_agent(web: Web, agent: str) -> float | None:
    response = web.api("/api/v1/kpi", params={"by": "agent", "metrics": "script_adherence"})
    assert response.status_code == 200, response.text
    rows = response.json()
    rows = rows["rows"] if isinstance(rows, dict) else rows
    values = [row["script_adherence"] for row in rows if row.get("agent") == agent]
    assert len(values) == 1, rows
    return values[0]


def _qualification_with_optional(web: Web, client: TestClient, optional: set[str]) -> str:
    exported = client.get("/scripts.yaml")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/yaml")
    document = yaml.safe_load(exported.text)
    script = next(s for s in document["scripts"] if s["call_type"] == "qualification")
    for stage in script["stages"]:
        if stage["id"] in optional:
            stage["required"] = False
    return yaml.safe_dump({"scripts": [script]}, allow_unicode=True, sort_keys=False)


@pytest.mark.parametrize("lang,title,forbidden", [("en", "Call scripts", "Forbidden phrases"),
                                                   ("ru", "Скрипты звонков", "Запрещённые фразы")])
def test_every_user_reads_the_scripts_in_both_languages(scripts_web: tuple[Web, str], lang: str, title: str,
                                                        forbidden: str) -> None:
    web, _ = scripts_web
    client = TestClient(web.client.app, raise_server_exceptions=False)
    login(client, "agent1")
    client.get(f"/lang/{lang}", params={"next": "/"})
    page = client.get("/scripts")
    assert page.status_code == 200
    assert title in page.text and forbidden in page.text
    assert 'data-call-type="qualification"' in page.text and 'data-stage="greeting"' in page.text
    assert 'action="/scripts"' not in page.text  # no edit form for an agent


def test_an_admin_saves_a_script_and_every_transcript_is_checked_again(scripts_web: tuple[Web, str]) -> None:
    web, call_id = scripts_web
    assert _adherence_of_agent(web, "1001") == pytest.approx(2 / 5)
    client = TestClient(web.client.app, raise_server_exceptions=False)
    login(client)
    page = client.get("/scripts")
    text = _qualification_with_optional(web, client, {"presentation", "close"})
    saved = client.post("/scripts", data={"csrf_token": csrf_of(page.text), "yaml": text}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/scripts?saved=1"
    assert 'id="scripts-saved"' in client.get("/scripts?saved=1").text
    assert _adherence_of_agent(web, "1001") == pytest.approx(2 / 3)
    figures = web.api(f"/api/v1/calls/{call_id}/transcript").json()["figures"]
    assert (figures["required_done"], figures["required_stages"]) == (2, 3)


def test_bad_yaml_is_refused_with_its_reason_and_kept_in_the_form(scripts_web: tuple[Web, str]) -> None:
    web, _ = scripts_web
    client = TestClient(web.client.app, raise_server_exceptions=False)
    login(client)
    page = client.get("/scripts")
    bad = "scripts:\n  - call_type: broken\n    stages: []\n"
    response = client.post("/scripts", data={"csrf_token": csrf_of(page.text), "yaml": bad})
    assert response.status_code == 400
    assert 'id="scripts-error"' in response.text and "call_type: broken" in response.text


def test_only_admins_save_and_only_with_the_csrf_token(scripts_web: tuple[Web, str]) -> None:
    web, _ = scripts_web
    supervisor = TestClient(web.client.app, raise_server_exceptions=False)
    login(supervisor, "sup")
    page = supervisor.get("/scripts")
    assert supervisor.post("/scripts", data={"csrf_token": csrf_of(page.text),
                                             "yaml": "scripts: []"}).status_code == 403
    admin = TestClient(web.client.app, raise_server_exceptions=False)
    login(admin)
    assert admin.post("/scripts", data={"yaml": "scripts: []"}).status_code == 403
    anonymous = TestClient(web.client.app, raise_server_exceptions=False)
    assert anonymous.get("/scripts", follow_redirects=False).status_code in (302, 303, 401)
