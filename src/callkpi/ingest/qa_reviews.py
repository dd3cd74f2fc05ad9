"""QA reviews done elsewhere (CSV), one row per criterion of a review.

Columns (compared without case, spaces or punctuation): ``review_id`` (optional: rows of one call,
reviewer, time and call type make one review without it), ``call_id``, ``agent`` (optional: the
call's answering agent), ``reviewer``, ``reviewed_at`` (ISO time; without an offset it is in the
``--tz`` zone), ``call_type`` (the scorecard), ``criterion``, ``weight`` and ``fatal`` (optional:
taken from the stored scorecard of the call type), ``score`` (0, 0.5, 1 or NA), ``comment``.
The simulator's ``qa_reviews.csv`` has this layout.

A review with one bad row goes to the quarantine whole (every line, with the reason), since a
missing criterion would change its CQR. The CQR of each review is computed on loading, with the
same function as reviews scored in the web (:func:`callkpi.qa.review.compute_cqr`). A review id
already loaded from another file counts once; a changed file replaces what it gave before.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from callkpi.config import Settings
from callkpi.ingest.base import (
    ImportReport,
    LineIssue,
    local_iso_time,
    quarantine_rows,
    record_source,
    start_import,
)
from callkpi.ingest.business.mappings import header_key
from callkpi.ingest.business.reader import header_of, is_xlsx, read_table
from callkpi.ingest.source_format import SourceFormat
from callkpi.model.schema import SLICE_SECONDS
from callkpi.qa.review import ReviewError, ScoredCriterion, compute_cqr, parse_score
from callkpi.qa.scorecards import load_scorecard
from callkpi.storage import Store, first_row

FORMAT = "qa-reviews"
COLUMNS: dict[str, tuple[str, ...]] = {
    "review_id": ("reviewid", "review", "evaluationid"),
    "call_id": ("callid", "uniqueid", "linkedid", "call"),
    "agent": ("agent", "agentid", "operator"),
    "reviewer": ("reviewer", "evaluator", "qa"),
    "reviewed_at": ("reviewedat", "reviewed", "evaluatedat", "time", "date"),
    "call_type": ("calltype", "scorecard", "form"),
    "criterion": ("criterion", "question", "item"),
    "weight": ("weight",),
    "fatal": ("fatal", "autofail", "critical"),
    "score": ("score", "points", "value"),
    "comment": ("comment", "note"),
}
REQUIRED = ("call_id", "reviewer", "call_type", "criterion", "score")


class RowProblem(ValueError):
    pass


@dataclass
class PendingReview:
    key: tuple[str, ...]
    call_id: str
    agent: str | None
    reviewer: str
    reviewed_utc: datetime | None
    call_type: str
    lines: list[tuple[int, str]] = field(default_factory=list)
    items: list[ScoredCriterion] = field(default_factory=list)
    problem: str | None = None


def _columns(header: list[str]) -> dict[str, int]:
    keys = [header_key(h) for h in header]
    found = {}
    for name, spellings in COLUMNS.items():
        index = next((keys.index(s) for s in spellings if s in keys), None)
        if index is not None:
            found[name] = index
    return found


def sniff(head: bytes) -> str | None:
    if is_xlsx(head):
        return None
    header = header_of(head)
    if not header:
        return None
    found = _columns(header)
    return FORMAT if all(name in found for name in REQUIRED) else None



def _flag(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "y", "да"):
        return True
    if lowered in ("", "0", "false", "no", "n", "нет"):
        return False
    raise RowProblem(f"fatal {text!r} is not 0 or 1")


class _Reader:
    def __init__(self, store: Store, columns: dict[str, int], zone: ZoneInfo) -> None:
        self.store = store
        self.columns = columns
        self.zone = zone
        self.reviews: OrderedDict[tuple[str, ...], PendingReview] = OrderedDict()

    def cell(self, cells: list[object], name: str) -> str:
        index = self.columns.get(name)
        if index is None or index >= len(cells) or cells[index] is None:
            return ""
        return str(cells[index]).strip()

    def add(self, line_no: int, raw: str, cells: list[object]) -> None:
        get = lambda name: self.cell(cells, name)  # noqa: E731
        key = (get("review_id"),) if get("review_id") else (get("call_id"), get("reviewer"), get("reviewed_at"),
                                                             get("call_type"))
        review = self.reviews.get(key)
        if review is None:
            review = PendingReview(key, get("call_id"), get("agent") or None, get("reviewer"), None,
                                   get("call_type").lower())
            self.reviews[key] = review
        review.lines.append((line_no, raw))
        if review.problem:
            return
        try:
            if review.reviewed_utc is None:
                review.reviewed_utc = local_iso_time(get("reviewed_at"), self.zone, "reviewed_at", RowProblem)
            review.items.append(self._criterion(review, get))
        except (RowProblem, ReviewError) as exc:
            review.problem = f"line {line_no}: {exc}"

    def _criterion(self, review: PendingReview, get: Callable[[str], str]) -> ScoredCriterion:
        for name in REQUIRED:
            if not get(name):
                raise RowProblem(f"empty {name}")
        name = get("criterion")
        if any(i.criterion == name for i in review.items):
            raise RowProblem(f"criterion {name!r} twice in one review")
        weight_text, fatal_text = get("weight"), get("fatal")
        if weight_text:
            try:
                weight = float(weight_text.replace(",", "."))
            except ValueError as exc:
                raise RowProblem(f"weight {weight_text!r} is not a number") from exc
            if weight <= 0:
                raise RowProblem("weight must be above 0")
            fatal = _flag(fatal_text)
        else:
            card = load_scorecard(self.store, review.call_type)
            criterion = card.criterion(name) if card else None
            if criterion is None:
                raise RowProblem(f"no weight, and {name!r} is not a criterion of a stored {review.call_type!r} "
                                 "scorecard")
            weight, fatal = criterion.weight, _flag(fatal_text) if fatal_text else criterion.fatal
        return ScoredCriterion(name, weight, fatal, parse_score(get("score")), get("comment"))


def _record(review: PendingReview, source_id: int) -> dict[str, Any]:
    cqr, fatal = compute_cqr(review.items)
    reviewed = review.reviewed_utc
    return {
        "review_id": review.key[0] if len(review.key) == 1 else "I-" + "|".join(review.key),
        "call_id": review.call_id, "agent": review.agent, "reviewer": review.reviewer,
        "reviewed_utc": reviewed, "call_type": review.call_type, "cqr": cqr, "fatal": fatal,
        "source_id": source_id,
        "slice": int(reviewed.replace(tzinfo=UTC).timestamp()) // SLICE_SECONDS if reviewed else None,
        "items": review.items,
    }


def _store(store: Store, records: list[dict[str, Any]], source_id: int, report: ImportReport) -> None:
    con = store.connection
    con.execute("DELETE FROM qa_scores WHERE review_id IN (SELECT review_id FROM qa_reviews WHERE source_id = ?)",
                [source_id])
    con.execute("DELETE FROM qa_reviews WHERE source_id = ?", [source_id])
    known = {r[0] for r in con.execute("SELECT DISTINCT review_id FROM qa_reviews").fetchall()}
    fresh = [r for r in records if r["review_id"] not in known]
    if len(fresh) < len(records):
        report.messages.append(f"{len(records) - len(fresh)} review(s) were already loaded; counted once")
    if not fresh:  # executemany refuses an empty list
        return
    con.executemany(
        "INSERT INTO qa_reviews VALUES (?, 1, ?, coalesce(?, (SELECT agent FROM calls WHERE call_id = ?)), ?, ?, ?, "
        "NULL, ?, ?, NULL, NULL, 'import', ?, coalesce((SELECT start_slice FROM calls WHERE call_id = ?), ?))",
        [[r["review_id"], r["call_id"], r["agent"], r["call_id"], r["reviewer"], r["reviewed_utc"], r["call_type"],
          r["cqr"], r["fatal"], r["source_id"], r["call_id"], r["slice"]] for r in fresh])
    scores = [[r["review_id"], i, s.criterion, s.weight, s.fatal, s.score, s.comment or None]
              for r in fresh for i, s in enumerate(r["items"])]
    if scores:
        con.executemany("INSERT INTO qa_scores VALUES (?, 1, ?, ?, ?, ?, ?, ?)", scores)
    times = [r["reviewed_utc"] for r in fresh if r["reviewed_utc"] is not None]
    if times:
        report.first_utc, report.last_utc = min(times), max(times)


def load(store: Store, path: Path, settings: Settings, *, timezone: str,
         progress: Callable[[int], None] | None = None) -> ImportReport:
    """Load one file of reviews in one transaction (see the module docstring)."""
    report = ImportReport(path=str(path), format=FORMAT)
    start = start_import(store, path, report)
    if start is None:
        return report
    known, size = start.known, path.stat().st_size
    table = read_table(path)
    reader = _Reader(store, _columns(table.header), ZoneInfo(timezone))
    for row in table.rows:
        reader.add(row.line_no, row.raw, row.cells)
    source_id = start.source_id
    good = [r for r in reader.reviews.values() if not r.problem]
    issues = [LineIssue(line, raw, f"review {'/'.join(r.key)}: {r.problem}")
              for r in reader.reviews.values() if r.problem for line, raw in r.lines]
    records = [_record(r, source_id) for r in good]
    if known is not None:
        report.status = "appended"
        report.messages.append("the file changed since the last load; its reviews are replaced")
    with store.transaction():
        store.connection.execute("DELETE FROM quarantine WHERE source_id = ?", [source_id])
        _store(store, records, source_id, report)
        quarantine_rows(store, source_id, path, issues)
        report.lines_read = len(table.rows)
        report.lines_loaded = sum(len(r.lines) for r in good)
        report.quarantined = len(issues)
        report.issues = issues
        report.calls = _calls(store)
        report.messages.insert(0, f"{len(records)} review(s) read")
        record_source(store, path=path, fmt=FORMAT, source_id=source_id, known=known, bytes_loaded=size,
                      lines_read=table.last_line, lines_loaded=report.lines_loaded, report=report,
                      timezone=timezone)
    if progress:
        progress(size)
    return report


def _calls(store: Store) -> int:
    row = first_row(store.connection.execute("SELECT count(*) FROM calls"))
    return int(row[0]) if row else 0


SOURCE_FORMATS: tuple[SourceFormat, ...] = (
    SourceFormat(FORMAT, "QA reviews done elsewhere: one row per criterion (call, reviewer, call type, "
                         "criterion, weight, fatal, score; see docs/qa.md)", sniff, load),
)
