"""`callkpi qa ...` on the web tests' store (2 and 3 March 2026, agents 1001-1003, three answered
queue calls per agent and day): every command takes ``--config`` like the others, and the share of
reviews that need work prints as people read it (30.0 %, not 0.30000000000000004)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callkpi.qa.review import create_review
from callkpi.qa.scorecards import ensure_default_scorecards
from callkpi.storage import Store
from test_web_api import build_web_store

GOOD = {"greeting": "1", "problem identification": "1", "needs questions": "1", "product presentation": "1",
        "next step agreed": "1", "personal data consent": "1"}
FATAL = {**GOOD, "personal data consent": "0"}


@pytest.fixture
def reviewed(tmp_path: Path) -> Path:
    """10 reviews: 7 with every criterion met (CQR 100), 3 failing the fatal consent criterion (CQR 0)."""
    data = build_web_store(tmp_path)
    with Store(data.path) as store:
        ensure_default_scorecards(store)
        calls = [r[0] for r in store.connection.execute(
            "SELECT DISTINCT call_id FROM agent_legs WHERE outcome = 'answered' "
            "ORDER BY call_id").fetchall()]
        assert len(calls) >= 10
        for index, call in enumerate(calls[:10]):
            create_review(store, call_id=call, call_type="qualification", reviewer="qa",
                          scores=FATAL if index < 3 else GOOD)
    return data.path


def test_qa_scorecards_and_queue_take_config_like_every_command(cli, reviewed: Path, tmp_path: Path) -> None:
    config = tmp_path / "callkpi.toml"
    config.write_text('[params]\ntimezone = "Europe/Moscow"\n', encoding="utf-8")
    exported = cli("qa", "scorecards", "--db", reviewed, "--config", config)
    assert exported.exit_code == 0, exported.output
    assert "qualification" in exported.stdout
    queue = cli("qa", "queue", "--db", reviewed, "--config", config, "--format", "json")
    assert queue.exit_code == 0, queue.output
    assert json.loads(queue.stdout) == []  # nothing was sampled
    broken = tmp_path / "broken.toml"
    broken.write_text("[params]\nno_such_setting = 1\n", encoding="utf-8")
    for command in (("qa", "scorecards"), ("qa", "queue")):
        result = cli(*command, "--db", reviewed, "--config", broken)
        assert result.exit_code != 0 and "settings:" in result.output, command


def test_every_qa_command_takes_config(cli, reviewed: Path, tmp_path: Path) -> None:
    """qa reviews and qa import-scorecards too (item 7: one rule for every command); a broken file is an error."""
    config = tmp_path / "callkpi.toml"
    config.write_text('[params]\ntimezone = "Europe/Moscow"\n', encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text("[params]\nno_such_setting = 1\n", encoding="utf-8")
    cards = tmp_path / "cards.yaml"
    assert cli("qa", "scorecards", "--db", reviewed, "--output", cards).exit_code == 0
    listed = cli("qa", "reviews", "--db", reviewed, "--config", config, "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.stdout)) == 10
    commands = (("qa", "reviews"), ("qa", "import-scorecards", cards), ("qa", "sample"), ("qa", "report", "trend"))
    for command in commands:
        result = cli(*command, "--db", reviewed, "--config", broken)
        assert result.exit_code != 0 and "settings:" in result.output, command


def test_needs_work_share_is_one_minus_the_pass_rate_without_float_tails(cli, reviewed: Path) -> None:
    as_json = cli("qa", "report", "trend", "--by", "month", "--db", reviewed, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    (row,) = json.loads(as_json.stdout)
    assert row["qa_reviews"] == 10 and row["qa_pass_rate"] == pytest.approx(0.7)  # 7 of 10 at 100 >= 80
    assert row["needs_work_share"] == 0.3  # exactly: 1 - 0.7 is 0.30000000000000004 in binary floats
    table = cli("qa", "report", "trend", "--by", "month", "--db", reviewed)
    assert table.exit_code == 0, table.output
    assert "30.0 %" in table.stdout and "0.30000000000000004" not in table.stdout
