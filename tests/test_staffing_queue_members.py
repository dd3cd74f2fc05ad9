"""Issue 13 item 5: the per-queue "logged in" of ``callkpi staffing`` counts the agents serving that queue
in the period: offered one of its calls, or logged in to it (queue_log ADDMEMBER naming it, until its
REMOVEMEMBER), never every agent and never only those who happened to get a call. Expected values are
computed here by hand from the sessions written into the fixture (overlap with the interval / its length).

Two queues on 2026-03-02 (UTC):

* 1001 member of sales 08:50-10:10, answers the sales calls;
* 1002 member of sales 09:00-10:00, gets no call at all (counts for sales: logged in to it);
* 1003 member of support 09:00-10:30, answers the support calls;
* 1004 member of support 09:15-09:45, rung by a sales call it did not answer (counts for both queues);
* 1005 member of sales only the day before (09:00-10:00 on 03-01), of support 09:30-10:20 (support only);
* 1006 member of sales 09:20-09:30 and of support 09:20-10:40 in one session (counts for both)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callkpi.cli import _register_commands, app
from callkpi.config import PhoneSettings, Settings
from callkpi.ingest.formats import load_file
from callkpi.storage import Store

RU = Settings(phone=PhoneSettings(country_code="7", national_prefix="8", national_length=10))
T0 = 1772442000  # 2026-03-02 09:00 UTC
MIN = 60
MEMBERSHIPS = [  # (agent, queue, join, leave) in minutes from T0
    ("1001", "sales", -10, 70),
    ("1002", "sales", 0, 60),
    ("1003", "support", 0, 90),
    ("1004", "support", 15, 45),
    ("1005", "sales", -24 * 60, -23 * 60),
    ("1005", "support", 30, 80),
    ("1006", "sales", 20, 30),
    ("1006", "support", 20, 100),
]
ANSWERED = [  # (queue, agent, start s, talk s)
    ("sales", "1001", 60, 300), ("sales", "1001", 600, 240), ("sales", "1001", 1500, 180),
    ("sales", "1001", 3000, 120), ("support", "1003", 1900, 500), ("support", "1003", 2600, 300),
    ("support", "1003", 4000, 200),
]
RUNG_SALES_CALL = 1000  # a sales call at T0 + 1000 s rings 1004 (no answer), then 1001 answers it
DAY = ["--from", "2026-03-02", "--to", "2026-03-02"]


def write_log(path: Path) -> None:
    lines = []
    for agent, queue, join, leave in MEMBERSHIPS:
        lines += [(T0 + join * MIN, f"MANAGER|{queue}|SIP/{agent}|ADDMEMBER|"),
                  (T0 + leave * MIN, f"MANAGER|{queue}|SIP/{agent}|REMOVEMEMBER|")]
    for n, (queue, agent, start, talk) in enumerate(ANSWERED):
        call = f"{T0 + start}.{n}"
        lines += [(T0 + start, f"{call}|{queue}|NONE|ENTERQUEUE||749510000{n:02d}|1"),
                  (T0 + start + 5, f"{call}|{queue}|SIP/{agent}|CONNECT|5|{call}1|2"),
                  (T0 + start + 5 + talk, f"{call}|{queue}|SIP/{agent}|COMPLETECALLER|5|{talk}|1")]
    call, start = f"{T0 + RUNG_SALES_CALL}.99", T0 + RUNG_SALES_CALL
    lines += [(start, f"{call}|sales|NONE|ENTERQUEUE||74951000099|1"),
              (start + 15, f"{call}|sales|SIP/1004|RINGNOANSWER|15000"),
              (start + 20, f"{call}|sales|SIP/1001|CONNECT|20|{call}1|2"),
              (start + 140, f"{call}|sales|SIP/1001|COMPLETECALLER|20|120|1")]
    lines.sort(key=lambda item: item[0])
    path.write_text("".join(f"{epoch}|{rest}\n" for epoch, rest in lines), encoding="utf-8")


# -- the hand computation --------------------------------------------------------------------------------

SERVING = {"sales": {"1001", "1002", "1004", "1006"}, "support": {"1003", "1004", "1005", "1006"}}


def sessions() -> dict[str, tuple[int, int]]:
    """Each agent's logged-in span on 03-02 in seconds from T0 (its memberships there overlap, so one)."""
    spans: dict[str, tuple[int, int]] = {}
    for agent, _, join, leave in MEMBERSHIPS:
        if leave <= -9 * 60:  # the day before
            continue
        low, high = spans.get(agent, (join * MIN, leave * MIN))
        spans[agent] = (min(low, join * MIN), max(high, leave * MIN))
    return spans


def logged_in_by_hand(agents: set[str]) -> dict[str, float]:
    out = {}
    for start in range(-30 * MIN, 120 * MIN, 30 * MIN):
        seconds = sum(max(0, min(end, start + 1800) - max(begin, start))
                      for agent, (begin, end) in sessions().items() if agent in agents)
        if seconds:
            out[datetime.fromtimestamp(T0 + start, UTC).isoformat()] = round(seconds / 1800, 2)
    return out


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("members")
    log, path = directory / "queue_log", directory / "members.duckdb"
    write_log(log)
    with Store(path) as store:
        assert load_file(store, log, RU, timezone="UTC").quarantined == 0
        store.set_meta("timezone", "UTC")
    return path


def logged_in(db: Path, *args: str) -> dict[str, float]:
    _register_commands()
    result = CliRunner().invoke(app, ["staffing", "--db", str(db), "--tz", "UTC", "--format", "json", *DAY, *args])
    assert result.exit_code == 0, result.output
    return {r["interval"]: r["agents_logged_in"] for r in json.loads(result.stdout) if r["agents_logged_in"]}


def test_the_hand_computation_itself() -> None:
    """09:00-09:30 in sales: 1001 30 min, 1002 30 min, 1004 15 min, 1006 10 min = 85 min = 2.83 agents."""
    assert logged_in_by_hand(SERVING["sales"])["2026-03-02T09:00:00+00:00"] == round(85 / 30, 2)


@pytest.mark.parametrize("queue", ["sales", "support"])
def test_logged_in_per_queue_counts_the_agents_serving_it(db: Path, queue: str) -> None:
    assert logged_in(db, "--queue", queue) == logged_in_by_hand(SERVING[queue])


def test_both_queues_together_and_every_agent(db: Path) -> None:
    assert logged_in(db, "--queue", "sales,support") == logged_in_by_hand(SERVING["sales"] | SERVING["support"])
    assert logged_in(db) == logged_in_by_hand(set(sessions()))


def test_the_note_says_who_counts(db: Path) -> None:
    _register_commands()
    result = CliRunner().invoke(app, ["staffing", "--db", str(db), "--tz", "UTC", "--format", "json", *DAY,
                                      "--queue", "sales"])
    assert "count the 4 agent(s) serving sales" in " ".join(result.stderr.split())  # notes wrap
