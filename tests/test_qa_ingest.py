"""Reviews done elsewhere: ``callkpi ingest`` recognises the simulator's ``qa_reviews.csv`` layout (not as
survey answers, whose ``score`` column it shares), computes each review's CQR, quarantines a review
with a bad row whole, and loads a file once."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callkpi.cli import _register_commands
from callkpi.cli.app import app
from callkpi.config import Settings
from callkpi.ingest.formats import detect, load_file
from callkpi.simulate.writers import BUSINESS_COLUMNS
from callkpi.storage import Store
from test_web_api import TZ, build_web_store

HEADER = BUSINESS_COLUMNS["qa_reviews.csv"]


def write_reviews(path: Path, rows: list[tuple[object, ...]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def review_rows(review_id: str, call_id: str, scores: list[tuple[str, float, int, str]]) -> list[tuple[object, ...]]:
    return [(review_id, call_id, "1001", "qa.orlova", "2026-03-02T12:00:00+03:00", "objection", name, weight,
             fatal, score) for name, weight, fatal, score in scores]


@pytest.fixture()
def store_path(tmp_path: Path) -> Path:
    return build_web_store(tmp_path).path


def first_call(path: Path) -> str:
    with Store(path) as store:
        rows = store.connection.execute(
            "SELECT min(call_id) FROM agent_legs WHERE agent = '1001' AND outcome = 'answered'").fetchall()
    return str(rows[0][0])


def test_the_simulator_layout_is_detected_as_qa_reviews(tmp_path: Path) -> None:
    path = write_reviews(tmp_path / "qa_reviews.csv", review_rows("QA-1", "c", [("greeting", 1, 0, "1")]))
    assert detect(path) == "qa-reviews"


def test_reviews_load_with_their_cqr_and_a_bad_review_is_quarantined_whole(store_path: Path, tmp_path: Path) -> None:
    call = first_call(store_path)
    rows = review_rows("QA-1", call, [("greeting", 1, 0, "NA"), ("objection handling", 4, 0, "1"),
                                      ("initiative", 3, 0, "0.5"), ("closing", 3, 0, "0"), ("consent", 1, 1, "1")])
    rows += review_rows("QA-2", call, [("greeting", 1, 0, "1"), ("consent", 1, 1, "0")])
    rows += review_rows("QA-3", call, [("greeting", 1, 0, "1"), ("closing", 3, 0, "2")])
    path = write_reviews(tmp_path / "qa_reviews.csv", rows)
    with Store(store_path) as store:
        report = load_file(store, path, Settings(), timezone=TZ)
        assert (report.format, report.lines_loaded, report.quarantined) == ("qa-reviews", 7, 2)
        assert all("QA-3" in issue.reason and "score" in issue.reason for issue in report.issues)
        stored = dict(store.connection.execute("SELECT review_id, cqr FROM qa_reviews").fetchall())
        assert stored == {"QA-1": pytest.approx(100 * (4 + 1.5 + 0 + 1) / 11), "QA-2": 0.0}
        again = load_file(store, path, Settings(), timezone=TZ)
        assert again.status == "unchanged"
        assert store.connection.execute("SELECT count(*) FROM qa_scores").fetchall()[0][0] == 7


def test_the_simulated_file_loads_with_callkpi_ingest(tmp_path: Path) -> None:
    _register_commands()
    runner = CliRunner()
    out = tmp_path / "sim"
    simulated = runner.invoke(app, ["simulate", "--out", str(out), "--days", "2", "--agents", "4",
                                    "--calls-per-day", "150", "--seed", "5"])
    assert simulated.exit_code == 0, simulated.output
    db = tmp_path / "sim.duckdb"
    loaded = runner.invoke(app, ["ingest", "--db", str(db), "--tz", "Europe/Moscow", str(out / "queue_log"),
                                 str(out / "qa_reviews.csv")])
    assert loaded.exit_code == 0, loaded.output
    expected = _cqr_by_review(out / "qa_reviews.csv")
    assert expected
    with Store(db, read_only=True) as store:
        stored = dict(store.connection.execute("SELECT review_id, cqr FROM qa_reviews").fetchall())
    assert stored == {k: pytest.approx(v) if v is not None else None for k, v in expected.items()}


def _cqr_by_review(path: Path) -> dict[str, float | None]:
    """The metric dictionary's CQR, straight from the file's rows."""
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[row["review_id"]].append(row)
    result: dict[str, float | None] = {}
    for review_id, items in rows.items():
        if any(i["fatal"] == "1" and i["score"] == "0" for i in items):
            result[review_id] = 0.0
            continue
        scored = [(float(i["weight"]), float(i["score"])) for i in items if i["score"] != "NA"]
        total = sum(w for w, _ in scored)
        result[review_id] = 100 * sum(w * s for w, s in scored) / total if total else None
    return result
