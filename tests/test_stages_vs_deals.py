"""Stage completion on calls that led to a won deal against the other calls (issue 20), worked out by
hand: first on rows given directly, then end to end on two transcripts and a CRM deal naming one call.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from callkpi.analyses.stages_vs_deals import ALL_AGENTS, StageCall, stage_rates, stages_vs_deals
from callkpi.config import MetricParams, Settings
from callkpi.ingest.formats import load_file
from callkpi.storage import Store
from callkpi.web.app import create_app
from test_qa_web import calls_of
from test_speech_web import UTTERANCES
from test_web_api import TZ, Web, WebStore, build_web_store, login


def test_stage_rates_worked_out_by_hand() -> None:
    # agent 1: calls a, b won; c, d, e not. Greeting done on a, b, c; close done on a only.
    # agent 2: call f won (greeting not done), no other call.
    rows = [StageCall("1", "q", "greeting", c, c in "abc") for c in "abcde"]
    rows += [StageCall("1", "q", "close", c, c == "a") for c in "abcde"]
    rows += [StageCall("2", "q", "greeting", "f", False)]
    got = {(r["agent"], r["stage"]): r for r in stage_rates(rows, converted={"a", "b", "f"})}
    greeting = got[("1", "greeting")]
    assert (greeting["won_calls"], greeting["other_calls"]) == (2, 3)
    assert greeting["won_completion"] == 1.0 and greeting["other_completion"] == pytest.approx(1 / 3)
    assert greeting["difference"] == pytest.approx(2 / 3)
    close = got[("1", "close")]
    assert (close["won_completion"], close["other_completion"]) == (0.5, 0.0)
    lonely = got[("2", "greeting")]
    assert lonely["won_completion"] == 0.0 and lonely["other_completion"] is None and lonely["difference"] is None
    overall = got[(ALL_AGENTS, "greeting")]  # a b c f won-side: a, b done, f not -> 2/3; other: c done of c d e
    assert (overall["won_calls"], overall["won_completion"]) == (3, pytest.approx(2 / 3))
    assert (overall["other_calls"], overall["other_completion"]) == (3, pytest.approx(1 / 3))


@pytest.fixture(scope="module")
def deals_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[WebStore, Path]:
    """Agent 1001's first two calls with transcripts: the first does greeting, close and farewell and
    leads to won deal D1 (named by the deal); the second does greeting and farewell, no deal."""
    directory = tmp_path_factory.mktemp("stage-deals")
    data = build_web_store(directory)
    with Store(data.path) as store:
        first, second = calls_of(store, "1001")[:2]
        full = [*UTTERANCES[:2], {"speaker": "agent", "start": 6.0, "end": 9.0, "text": "Тогда оформим заказ."},
                UTTERANCES[3]]
        path = directory / "transcripts.json"
        path.write_text(json.dumps({"transcripts": [
            {"call_id": first, "call_type": "qualification", "utterances": full},
            {"call_id": second, "call_type": "qualification", "utterances": UTTERANCES},
        ]}, ensure_ascii=False), encoding="utf-8")
        assert load_file(store, path, Settings(), timezone=TZ).lines_loaded == 2
        start = store.connection.execute("SELECT start_utc FROM calls WHERE call_id = ?", [first]).fetchone()[0]
        deals = directory / "deals.csv"
        deals.write_text("deal_id,created_at,closed_at,status,amount,call_id\n"
                         f"D1,{start:%Y-%m-%d %H:%M},{start:%Y-%m-%d} 23:00,won,1000,{first}\n", encoding="utf-8")
        assert load_file(store, deals, Settings(), timezone="UTC").lines_loaded == 1
    return data, directory


def _check(rows: list[dict[str, Any]]) -> None:
    by = {(r["agent"], r["stage"]): r for r in rows}
    close = by[("1001", "close")]
    assert (close["won_calls"], close["won_completion"], close["other_calls"], close["other_completion"]) == (
        1, 1.0, 1, 0.0)
    greeting = by[("1001", "greeting")]
    assert (greeting["won_completion"], greeting["other_completion"], greeting["difference"]) == (1.0, 1.0, 0.0)
    assert by[(ALL_AGENTS, "needs")]["won_completion"] == 0.0


def test_stages_vs_deals_on_the_store(deals_store: tuple[WebStore, Path]) -> None:
    with Store(deals_store[0].path, read_only=True) as store:
        _check(stages_vs_deals(store, MetricParams(timezone=TZ)))
        assert {r["agent"] for r in stages_vs_deals(store, MetricParams(timezone=TZ), agents=("1003",))} == set()


def test_stages_vs_deals_in_the_api_the_sales_page_and_the_cli(deals_store: tuple[WebStore, Path]) -> None:
    data, directory = deals_store
    app = create_app(data.path, Settings(), warm=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        web = Web(client, app.state.web.db.store(), data)
        response = web.api("/api/v1/speech/stages-vs-deals")
        assert response.status_code == 200, response.text
        _check(response.json())
        assert web.api("/api/v1/speech/stages-vs-deals", "agent3").json() == []  # agent 1003's calls: none
        login(client)
        client.get("/lang/ru", params={"next": "/"})
        page = client.get("/sales")
        assert page.status_code == 200
        assert 'id="stage-deals"' in page.text and "Этапы скрипта в звонках, приведших к сделке" in page.text
        assert re.search(r'data-agent="1001" data-stage="close">.*?data-value="1.0".*?data-value="0.0"', page.text,
                         re.S)
    from typer.testing import CliRunner

    from callkpi.cli import _register_commands
    from callkpi.cli.app import app as cli_app

    _register_commands()
    result = CliRunner().invoke(cli_app, ["scripts", "stages-vs-deals", "--db", str(data.path), "--json"],
                                env={"CALLKPI_CONFIG": str(directory / "none.toml")})
    assert result.exit_code == 0, result.output
    _check(json.loads(result.stdout))
