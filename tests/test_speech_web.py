"""The transcript on the call page and in the API (issue 20): utterances with speaker and times, the
script stages the agent did highlighted with their names in both languages, forbidden phrases marked,
and the call's adherence figures, all worked out by hand below.

The transcript (qualification script, shipped defaults) is hand-written for one of agent 1001's calls:

====  ========  ===========  ================================================  ==================
#     speaker   time, s      text                                              stage / forbidden
====  ========  ===========  ================================================  ==================
0     agent     0.0 - 4.0    Добрый день, компания Окна Плюс, меня зовут Анна.  greeting
1     customer  4.5 - 5.5    Здравствуйте, я насчёт окон.
2     agent     6.0 - 9.0    Не знаю, перезвоните потом.                        "не знаю", "перезвоните потом"
3     agent     9.5 - 11.5   Спасибо за звонок, всего доброго!                  farewell
====  ========  ===========  ================================================  ==================

Required stages of the script: greeting, needs, presentation, close, farewell: 2 of 5 done = 0.4.
Agent speech 4 + 3 + 2 = 9 s, customer 1 s: agent talk share 0.9. Silence: span 11.5 s, speech
10 s, 1.5 / 11.5.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.storage import Store
from callkpi.web.app import create_app
from test_qa_web import calls_of
from test_web_api import TZ, Web, WebStore, build_web_store, login

UTTERANCES = [
    {"speaker": "agent", "start": 0.0, "end": 4.0, "text": "Добрый день, компания Окна Плюс, меня зовут Анна."},
    {"speaker": "customer", "start": 4.5, "end": 5.5, "text": "Здравствуйте, я насчёт окон."},
    {"speaker": "agent", "start": 6.0, "end": 9.0, "text": "Не знаю, перезвоните потом."},
    {"speaker": "agent", "start": 9.5, "end": 11.5, "text": "Спасибо за звонок, всего доброго!"},
]


def add_transcript(data: WebStore, directory: Path) -> str:
    """Load the transcript above for agent 1001's first answered call; that call's id."""
    with Store(data.path) as store:
        call_id = calls_of(store, "1001")[0]
        path = directory / "transcript.json"
        path.write_text(json.dumps({"call_id": call_id, "call_type": "qualification", "lang": "ru",
                                    "utterances": UTTERANCES}, ensure_ascii=False), encoding="utf-8")
        report = load_file(store, path, Settings(), timezone=TZ)
        assert (report.format, report.lines_loaded, report.quarantined) == ("transcripts", 1, 0)
    return call_id


@pytest.fixture(scope="module")
def speech_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Web, str]]:
    directory = tmp_path_factory.mktemp("speech-web")
    data = build_web_store(directory)
    call_id = add_transcript(data, directory)
    app = create_app(data.path, Settings(), warm=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Web(client, app.state.web.db.store(), data), call_id


def test_the_api_gives_the_transcript_with_stages_forbidden_phrases_and_figures(speech_web: tuple[Web, str]) -> None:
    web, call_id = speech_web
    response = web.api(f"/api/v1/calls/{call_id}/transcript")
    assert response.status_code == 200, response.text
    found = response.json()
    said = found["utterances"]
    assert [u["speaker"] for u in said] == ["agent", "customer", "agent", "agent"]
    assert [(u["start_s"], u["end_s"]) for u in said] == [(0.0, 4.0), (4.5, 5.5), (6.0, 9.0), (9.5, 11.5)]
    assert [[s["id"] for s in u["stages"]] for u in said] == [["greeting"], [], [], ["farewell"]]
    assert said[0]["stages"][0]["title"] == {"en": "Greeting with the company name",
                                             "ru": "Приветствие с названием компании"}
    assert [sorted(u["forbidden"]) for u in said] == [[], [], ["не знаю", "перезвоните потом"], []]
    figures = found["figures"]
    assert (figures["required_done"], figures["required_stages"]) == (2, 5)
    assert figures["script_adherence"] == pytest.approx(0.4)
    assert figures["forbidden_said"] == 2
    assert figures["agent_talk_share"] == pytest.approx(0.9)
    assert figures["silence_share"] == pytest.approx(1.5 / 11.5)
    done = {s["stage"]: s["done"] for s in found["stages"]}
    assert done == {"greeting": True, "needs": False, "presentation": False, "objections": False, "close": False,
                    "farewell": True}


def test_the_transcript_stays_in_scope(speech_web: tuple[Web, str]) -> None:
    web, call_id = speech_web
    assert web.api(f"/api/v1/calls/{call_id}/transcript", "agent3").status_code in (403, 404)
    assert web.api(f"/api/v1/calls/{call_id}/transcript", "agent1").status_code == 200
    other = calls_of(web.store, "1002")[0]
    assert web.api(f"/api/v1/calls/{other}/transcript").status_code == 404  # a call without a transcript


@pytest.mark.parametrize("lang,greeting,farewell,adherence", [
    ("en", "Greeting with the company name", "Farewell", "Script adherence"),
    ("ru", "Приветствие с названием компании", "Прощание", "Соблюдение скрипта"),
])
def test_the_call_page_highlights_the_stages_in_both_languages(
        speech_web: tuple[Web, str], lang: str, greeting: str, farewell: str, adherence: str) -> None:
    web, call_id = speech_web
    client = TestClient(web.client.app, raise_server_exceptions=False)
    login(client)
    client.get(f"/lang/{lang}", params={"next": "/"})
    page = client.get(f"/calls/{call_id}")
    assert page.status_code == 200
    html = page.text
    assert f'<span class="stage-tag" data-stage="greeting">{greeting}</span>' in html
    assert f'<span class="stage-tag" data-stage="farewell">{farewell}</span>' in html
    assert '<mark class="stage-mark">Добрый день, компания Окна Плюс, меня зовут Анна.</mark>' in html
    assert html.count('class="forbidden-mark"') == 2 and "⚠ не знаю" in html
    assert adherence in html and 'id="script-adherence" data-value="0.4"' in html
    other = client.get(f"/calls/{calls_of(web.store, '1002')[0]}")
    assert other.status_code == 200 and 'id="transcript"' not in other.text


def _checked(html: str) -> dict[str, str | None]:
    """Criterion -> the score whose radio is pre-selected on the review form."""
    rows = re.findall(r'<tr class="qa-criterion" data-criterion="([^"]+)".*?</tr>', html, re.S)
    found = {}
    for name in rows:
        row = re.search(rf'data-criterion="{re.escape(name)}".*?</tr>', html, re.S).group(0)
        chosen = re.search(r'value="([^"]+)" required checked', row)
        found[name] = chosen.group(1) if chosen else None
    return found


def test_the_review_form_suggests_the_stage_criteria_and_saves_nothing(speech_web: tuple[Web, str]) -> None:
    web, call_id = speech_web
    client = TestClient(web.client.app, raise_server_exceptions=False)
    login(client)
    client.get("/lang/en", params={"next": "/"})
    page = client.get(f"/qa/review/{call_id}", params={"call_type": "qualification"})
    assert page.status_code == 200
    # the shipped qualification scorecard maps greeting, needs questions, product presentation and next step
    # agreed to the stages greeting, needs, presentation and close; the transcript did only the greeting
    assert _checked(page.text) == {"greeting": "1", "problem identification": None, "needs questions": "0",
                                   "product presentation": "0", "next step agreed": "0",
                                   "personal data consent": None}
    assert page.text.count('class="qa-suggested muted"') == 4 and 'id="qa-suggestion-note"' in page.text
    reviews = web.api("/api/v1/qa/reviews", params={"call_id": call_id}).json()
    assert reviews["total"] == 0 and reviews["items"] == []
    # a call without a transcript gets no suggestion
    other = client.get(f"/qa/review/{calls_of(web.store, '1002')[0]}", params={"call_type": "qualification"})
    assert set(_checked(other.text).values()) == {None} and "qa-suggested" not in other.text


def test_the_sample_targets_calls_with_low_adherence(speech_web: tuple[Web, str]) -> None:
    from zoneinfo import ZoneInfo

    from callkpi.config import MetricParams
    from callkpi.qa.sample import pick_by_rule

    web, call_id = speech_web
    start = web.store.connection.execute("SELECT start_utc FROM calls WHERE call_id = ?", [call_id]).fetchone()[0]
    day = start.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(TZ)).date()
    params = MetricParams(timezone=TZ)
    # the call's adherence is 2 / 5 = 0.4; it is the only call with a transcript
    assert pick_by_rule(web.store, day, params, "low_adherence", adherence_below=0.4) == 0  # 0.4 is not below 0.4
    assert pick_by_rule(web.store, day, params, "low_adherence", adherence_below=0.5) == 1
    picked = web.store.connection.execute("SELECT call_id, agent, reason FROM qa_sample WHERE reason = 'low_adherence'"
                                          ).fetchall()
    assert picked == [(call_id, "1001", "low_adherence")]
    bad = web.post("/api/v1/qa/sample", json={"day": day.isoformat(), "rules": ["low_adherence"],
                                              "adherence_below": 1.5})
    assert bad.status_code in (400, 422)
    good = web.post("/api/v1/qa/sample", json={"day": day.isoformat(), "rules": ["low_adherence"],
                                               "adherence_below": 0.5})
    assert good.status_code == 200 and good.json()["rules"] == {"low_adherence": 0}  # already in the queue


def test_the_cli_sample_takes_adherence_below(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from callkpi.cli import _register_commands
    from callkpi.cli.app import app

    data = build_web_store(tmp_path)
    call_id = add_transcript(data, tmp_path)
    _register_commands()
    env = {"CALLKPI_CONFIG": str(tmp_path / "none.toml"), "COLUMNS": "400"}
    with Store(data.path, read_only=True) as store:
        start = store.connection.execute("SELECT start_utc FROM calls WHERE call_id = ?", [call_id]).fetchone()[0]
    day = start.date().isoformat()
    result = CliRunner().invoke(app, ["qa", "sample", "--db", str(data.path), "--day", day, "--tz", "UTC",
                                      "--rule", "low_adherence", "--adherence-below", "0.5"], env=env)
    assert result.exit_code == 0, result.output
    assert "rule_low_adherence" in result.output
    with Store(data.path, read_only=True) as store:
        reasons = dict(store.connection.execute("SELECT call_id, reason FROM qa_sample").fetchall())
    assert reasons.get(call_id) in ("sample", "low_adherence")  # the random sample may have taken it first
