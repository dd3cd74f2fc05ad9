"""Compiled KPI queries kept between processes (callkpi.metrics.templates): a fresh process uses
the kept SQL with the same numbers, and a template made for other data or another schema is not used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.metrics import engine
from callkpi.metrics.engine import KpiQuery, compute
from callkpi.storage import Store
from conftest import scenario_text, write_log

QUERIES = (KpiQuery(), KpiQuery(by=("agent",)), KpiQuery(by=("day",)), KpiQuery(by=("queue", "interval")))


@pytest.fixture
def store_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CALLKPI_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        load_file(store, write_log(tmp_path, scenario_text("answered.queue_log"), "queue_log"), Settings(),
                  timezone="UTC")
    return path


def _fresh_process() -> None:
    engine._TEMPLATES.clear()
    engine._VERSIONS.clear()


def test_a_fresh_process_uses_the_kept_sql_with_the_same_numbers(store_file: Path, monkeypatch) -> None:
    with Store(store_file, read_only=True) as store:
        compiled = [compute(store, q).rows for q in QUERIES]
    _fresh_process()

    def no_compile(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("compiled again")

    monkeypatch.setattr(engine, "_template", no_compile)
    with Store(store_file, read_only=True) as store:
        assert [compute(store, q).rows for q in QUERIES] == compiled


def _poison(cache: Path) -> None:
    """Make every kept query answer 1000 times the calls offered: a used kept template shows."""
    for file in (cache / "templates").glob("*.json"):
        kept = json.loads(file.read_text())
        sql = kept["template"]["sql"]
        kept["template"]["sql"] = f"SELECT * REPLACE (calls_offered * 1000 AS calls_offered) FROM ({sql})"  # noqa: S608 - our own SQL
        file.write_text(json.dumps(kept))


def test_a_stale_template_is_not_used(store_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    query = KpiQuery(metrics=("calls_offered",))
    with Store(store_file, read_only=True) as store:
        right = compute(store, query).rows
    assert right == [{"calls_offered": 2}]  # the scenario's two calls (tests/scenarios/answered.queue_log)
    _poison(tmp_path / "cache")
    _fresh_process()
    with Store(store_file, read_only=True) as store:
        assert compute(store, query).rows == [{"calls_offered": 2000}], "the kept template is read"
    with Store(store_file) as store:  # a schema change: the SQL may name other columns now
        store.connection.execute('ALTER TABLE "agents" ADD COLUMN "extra" VARCHAR')
    _fresh_process()
    with Store(store_file, read_only=True) as store:
        assert compute(store, query).rows == right
    _poison(tmp_path / "cache")
    _fresh_process()
    monkeypatch.setattr(engine.templates, "code_fingerprint", lambda: "other code")  # an edit or an upgrade
    with Store(store_file, read_only=True) as store:
        assert compute(store, query).rows == right
