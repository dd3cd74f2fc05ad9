"""The business commands: ingest of business files (exit codes, quarantine), `kpi --explain` showing
the attribution rule, `scorecard`, `survey-list` for an auto-dial survey campaign, `training-effect`
and `relink`. The day is the one of test_business_sales (its docstring explains every number)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from callkpi.metrics.catalogue import REGISTRY
from test_business_sales import COSTS, DEALS, QUEUE_LOG, SURVEYS
from test_business_training import constructed_centre

needs_registry = pytest.mark.skipif(
    "deals_won" not in REGISTRY.metrics,
    reason="business KPIs not registered yet: the catalogue must register callkpi.metrics.catalogue.business",
)

CONFIG = '[phone]\ncountry_code = "7"\nnational_prefix = "8"\nnational_length = 10\n'


@pytest.fixture
def day(cli, tmp_path: Path) -> tuple[Path, Path]:
    """(database, config) with the calls, deals, costs and surveys of test_business_sales, plus staff."""
    config = tmp_path / "callkpi.toml"
    config.write_text(CONFIG, encoding="utf-8")
    db = tmp_path / "k.duckdb"
    files = {"queue_log": QUEUE_LOG, "deals.csv": DEALS, "costs.csv": COSTS, "surveys.csv": SURVEYS,
             "staff.csv": "agent,name,team,hired\n1001,Anna,north,2025-03-02\n1002,Boris,north,2026-01-10\n"
                          "1003,Vera,south,2024-05-01\n",
             "training.csv": "agent,programme,date\n1001,Objection handling,2026-02-20\n"}
    paths = []
    for name, text in files.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    result = cli("ingest", "--db", db, "--tz", "UTC", "--config", config, *paths)
    assert result.exit_code == 0, result.output
    return db, config


def test_ingest_names_bad_business_rows_and_exits_1(cli, tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text("deal_id,created_at,status,amount\nD1,2026-03-02 10:00,won,\"1 500,50\"\n"
                    "D2,2026-03-02 10:00,almost,10\n", encoding="utf-8")
    db = tmp_path / "k.duckdb"
    result = cli("ingest", "--db", db, path)
    assert result.exit_code == 1, result.output
    assert "2 lines read, 1 loaded, 1 quarantined" in result.output
    assert f"{path}:3" in result.stderr and "unknown status 'almost'" in result.stderr
    rows = json.loads(cli("quarantine", "--db", db, "--format", "json").stdout)
    assert [(r["line"], r["reason"].split(";")[0]) for r in rows] == [(3, "unknown status 'almost'")]
    again = cli("ingest", "--db", db, path)
    assert "unchanged" in again.output


@needs_registry
def test_explain_shows_the_attribution_rule(cli, day: tuple[Path, Path]) -> None:
    db, config = day
    result = cli("kpi", "--db", db, "--config", config, "--metrics", "deals_won,revenue,conversion_rate",
                 "--format", "json", "--explain")
    assert result.exit_code == 0, result.output
    explained = json.loads(result.stdout)
    assert explained["rows"] == [{"deals_won": 3, "revenue": 37000.0, "conversion_rate": 0.5}]
    for definition in explained["definitions"]:
        assert "last handled call with the deal's customer number within attribution_window_d" in \
            definition["description"]
        assert definition["parameters"] == {"attribution_window_d": 30.0}


@needs_registry
def test_scorecard_of_an_agent_with_the_team_beside(cli, day: tuple[Path, Path], tmp_path: Path) -> None:
    db, config = day
    result = cli("scorecard", "1001", "--db", db, "--config", config, "--to", "2026-03-31", "--format", "json")
    assert result.exit_code == 0, result.output
    card = json.loads(result.stdout)
    profile = card["profile"]
    assert (profile["name"], profile["team"], profile["hired"]) == ("Anna", "north", "2025-03-02")
    assert profile["tenure_days"] == 394  # 2025-03-02 -> 2026-03-31
    assert profile["trainings"] == [{"programme": "Objection handling", "module": None, "start": "2026-02-20",
                                     "end": "2026-02-20"}]
    rows = {r["metric"]: r for r in card["rows"]}
    assert (rows["calls_handled"]["agent"], rows["calls_handled"]["team"]) == (2, 1.5)  # north: 3 calls / 2 agents
    assert rows["deals_won"]["agent"] == 1 and rows["deals_won"]["team"] == 1.0  # D1; north D1 + D4 over 2
    assert rows["conversion_rate"]["agent"] == 0.5  # c1 of c1, c4
    assert rows["conversion_rate"]["team"] == pytest.approx(1 / 3)  # c1 of c1, c2, c4
    assert rows["cost"]["agent"] == 2010.5  # see test_costs_are_allocated_by_hand
    assert rows["csat"]["agent"] == 1.0  # one CSAT answer, 5
    xlsx = tmp_path / "card.xlsx"
    result = cli("scorecard", "1001", "--db", db, "--config", config, "--format", "xlsx", "--output", xlsx)
    assert result.exit_code == 0, result.output
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(xlsx, read_only=True)
    assert book.sheetnames == ["scorecard 1001", "definitions"]


def test_survey_list_for_the_dialer_skips_recently_surveyed_numbers(cli, day: tuple[Path, Path],
                                                                    tmp_path: Path) -> None:
    db, config = day
    out = tmp_path / "dialer.csv"
    result = cli("survey-list", "--db", db, "--config", config, "--since", "2026-03-02",
                 "--not-surveyed-days", "90", "--as-of", "2026-03-10T00:00", "--output", out)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    # answered customers: 7 495 111 1111 (c1, surveyed), 222 2222 (c2 and c3, surveyed by number),
    # 333 3333 (c4, never surveyed); c5 was not answered
    assert rows == [{"phone_number": "+74953333333", "call_id": "c4", "agent": "1001", "queue": "sales",
                     "last_call": "2026-03-02T12:00:00+00:00"}]
    # a year later the survey of 111 1111 and 222 2222 is older than 90 days: everyone again
    later = cli("survey-list", "--db", db, "--config", config, "--since", "2026-03-02", "--as-of", "2027-03-10")
    numbers = [r["phone_number"] for r in csv.DictReader(io.StringIO(later.stdout))]
    assert numbers == ["+74951111111", "+74952222222", "+74953333333"]  # by last call: c1, c3, c4


def test_training_effect_command(cli, tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    paths = constructed_centre(tmp_path, days=40, training_day=20, calls_per_day=25, uplift=0.04, seed=7)
    assert cli("ingest", "--db", db, "--tz", "UTC", *paths).exit_code == 0
    result = cli("training-effect", "--db", db, "--window-days", "19", "--metrics", "conversion_rate,csat",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    effects = {e["metric"]: e for e in json.loads(result.stdout)}
    assert effects["conversion_rate"]["ci_low"] < 0.04 < effects["conversion_rate"]["ci_high"]
    assert effects["csat"]["verdict"] == "not_enough_data" and effects["csat"]["effect"] is None
    table = cli("training-effect", "--db", db, "--window-days", "19", "--metrics", "conversion_rate")
    assert "Objection handling / conversion_rate: improved: conversion rate rose by" in table.output
    assert "1900" in table.output  # the group sizes are shown
    bad = cli("training-effect", "--db", db, "--metrics", "happiness")
    assert bad.exit_code == 2 and "unknown metric(s) happiness" in bad.output


def test_relink_attributes_deals_loaded_before_their_calls(cli, tmp_path: Path) -> None:
    config = tmp_path / "callkpi.toml"
    config.write_text(CONFIG, encoding="utf-8")
    db = tmp_path / "k.duckdb"
    (tmp_path / "deals.csv").write_text(DEALS, encoding="utf-8")
    (tmp_path / "queue_log").write_text(QUEUE_LOG, encoding="utf-8")
    cli("ingest", "--db", db, "--tz", "UTC", "--config", config, tmp_path / "deals.csv")
    cli("ingest", "--db", db, "--tz", "UTC", "--config", config, tmp_path / "queue_log")
    result = cli("relink", "--db", db, "--config", config)
    assert result.exit_code == 0, result.output
    assert "deal_attribution 5" in result.output  # D1-D5 (see test_business_sales)


@needs_registry
def test_scorecard_tenure_counts_to_the_period_end_or_the_data_end_never_today(cli, day: tuple[Path, Path]) -> None:
    db, config = day
    open_period = json.loads(cli("scorecard", "1001", "--db", db, "--config", config, "--format", "json").stdout)
    assert open_period["profile"]["tenure_days"] == 365  # 2025-03-02 -> 2026-03-02, the day of the newest call
    closed = json.loads(cli("scorecard", "1001", "--db", db, "--config", config, "--to", "2026-03-10",
                            "--format", "json").stdout)
    assert closed["profile"]["tenure_days"] == 373  # 2025-03-02 -> 2026-03-10


@needs_registry
def test_scorecard_prints_durations_readably_and_keeps_seconds_in_json(cli, day: tuple[Path, Path]) -> None:
    db, config = day
    card = json.loads(cli("scorecard", "1001", "--db", db, "--config", config, "--format", "json").stdout)
    rows = {r["metric"]: r for r in card["rows"]}
    assert rows["logged_in_s"]["agent"] == 5 * 3600  # queue member 08:00-13:00
    table = cli("scorecard", "1001", "--db", db, "--config", config, "--format", "table")  # piped: TSV by default
    assert table.exit_code == 0, table.output
    line = next(text for text in table.stdout.splitlines() if "logged_in_s" in text)
    assert "5 h 00 min" in line and "18000" not in line.replace(" ", "")
    att = next(text for text in table.stdout.splitlines() if " att_s " in f" {text} ")
    assert "2 min 50 s" in att  # talk of c1 and c4: (100 + 240) / 2 = 170 s


def test_readable_duration_by_hand() -> None:
    from callkpi.report.scorecard_text import readable_duration

    assert readable_duration(714084.0) == "198 h 21 min"  # 198 * 3600 + 21 * 60 + 24
    assert readable_duration(42.5) == "42.5 s"
    assert readable_duration(605) == "10 min 05 s"
    assert readable_duration(-90) == "-1 min 30 s"


def test_scorecard_money_reads_with_its_currency() -> None:
    from callkpi.report.scorecard_text import display_rows

    card = {"currency": "RUB", "rows": [
        {"section": "sales", "metric": "revenue", "title": "Revenue", "agent": 10000.0, "team": None},
        {"section": "calls", "metric": "calls_handled", "title": "Calls handled", "agent": 2, "team": 1.5}]}
    shown = {r["metric"]: (r["agent"], r["team"]) for r in display_rows(card)}
    assert shown == {"revenue": ("10 000.0 RUB", "—"), "calls_handled": ("2", "1.5")}  # 3 calls / 2 agents


def test_kpi_table_shows_money_with_the_currency_setting_and_json_keeps_numbers(cli, day: tuple[Path, Path]) -> None:
    db, config = day
    config.write_text(CONFIG + '\n[money]\ncurrency = "RUB"\n', encoding="utf-8")  # the deals name none
    table = cli("kpi", "--db", db, "--config", config, "--metrics", "revenue", "--format", "table")
    assert table.exit_code == 0, table.output
    line = next(text for text in table.stdout.splitlines() if "Revenue" in text)
    assert line.rstrip().endswith(" RUB"), line
    rows = json.loads(cli("kpi", "--db", db, "--config", config, "--metrics", "revenue", "--format", "json").stdout)
    assert isinstance(rows[0]["revenue"], float)
