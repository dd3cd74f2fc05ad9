"""Reviews: the CQR of one review, saving, correcting, answering and listing reviews.

CQR (docs/metrics.md; docs/sources.md#qa-scorecards): ``100 x sum(w_i x s_i) / sum(w_i over
applicable criteria)``, ``s_i`` in {0, 0.5, 1}; an N/A criterion leaves the denominator; a 0 on a
fatal criterion makes the review 0; every criterion N/A gives no CQR (null). ``static/qa.js`` mirrors
:func:`compute_cqr` for the live value on the review page; the saved value is always the server's.

Every read and write goes through the store's portable SQL (``Store.fetch_all`` / ``execute``, ``?``
parameters, lists as ``IN (?, ...)``), so the review workflow runs on DuckDB and ClickHouse alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from callkpi.model.schema import SLICE_SECONDS
from callkpi.qa.scorecards import Scorecard, load_scorecard
from callkpi.storage import Store, first_row
from callkpi.storage.portable_sql import in_list

SCORE_VALUES = (0.0, 0.5, 1.0)
RESPONSES = ("acknowledged", "disputed")


class ReviewError(ValueError):
    """A review that cannot be saved as given; the message says why."""


@dataclass(frozen=True)
class ScoredCriterion:
    criterion: str
    weight: float
    fatal: bool
    score: float | None  # None: N/A
    comment: str = ""


def compute_cqr(items: Iterable[ScoredCriterion]) -> tuple[float | None, bool]:
    """(CQR 0..100 or None when nothing applies, whether a fatal criterion failed)."""
    items = list(items)
    if any(i.fatal and i.score == 0 for i in items):
        return 0.0, True
    applicable = [i for i in items if i.score is not None]
    denominator = sum(i.weight for i in applicable)
    if denominator <= 0:
        return None, False
    return 100.0 * sum(i.weight * (i.score or 0.0) for i in applicable) / denominator, False


def parse_score(value: object) -> float | None:
    """``0`` / ``0.5`` / ``1`` (also ``0,5``) or N/A (``na``, ``n/a``, empty) -> float or None."""
    text = "" if value is None else str(value).strip().lower().replace(",", ".")
    if text in ("", "na", "n/a", "н/п", "none", "null"):
        return None
    try:
        score = float(text)
    except ValueError as exc:
        raise ReviewError(f"score {value!r} is not 0, 0.5, 1 or N/A") from exc
    if score not in SCORE_VALUES:
        raise ReviewError(f"score {value!r} is not 0, 0.5, 1 or N/A")
    return score


def score_against(card: Scorecard, scores: Mapping[str, object],
                  comments: Mapping[str, str] | None = None) -> list[ScoredCriterion]:
    """The scorecard's criteria with the given scores; every criterion must be scored."""
    comments = comments or {}
    unknown = sorted(set(scores) - {c.name for c in card.criteria})
    if unknown:
        raise ReviewError(f"not criteria of the {card.call_type} scorecard: {', '.join(unknown)}")
    scored = []
    for c in card.criteria:
        if c.name not in scores:
            raise ReviewError(f"criterion {c.name!r} is not scored (0, 0.5, 1 or N/A)")
        try:
            value = parse_score(scores[c.name])
        except ReviewError as exc:
            raise ReviewError(f"criterion {c.name!r}: {exc}") from exc
        if value is None and not c.na:
            raise ReviewError(f"criterion {c.name!r} may not be N/A")
        if c.fatal and value == 0.5:
            raise ReviewError(f"fatal criterion {c.name!r} is passed (1) or failed (0), not 0.5")
        scored.append(ScoredCriterion(c.name, c.weight, c.fatal, value, str(comments.get(c.name, ""))[:2000]))
    return scored


# -- saving ---------------------------------------------------------------------------------


def call_agents(store: Store, call_id: str) -> list[str]:
    """Agents who talked on the call (its first answering agent first)."""
    row = first_row(store.fetch_all("SELECT agent FROM calls WHERE call_id = ?", [call_id]))
    if row is None:
        raise ReviewError(f"no call {call_id!r}")
    legs = store.fetch_all(
        "SELECT DISTINCT agent FROM agent_legs WHERE call_id = ? AND outcome = 'answered' AND agent IS NOT NULL "
        "ORDER BY agent", [call_id])
    agents = [row[0]] if row[0] else []
    return agents + [a for (a,) in legs if a not in agents]


def create_review(store: Store, *, call_id: str, call_type: str, reviewer: str, scores: Mapping[str, object],
                  comments: Mapping[str, str] | None = None, comment: str = "", agent: str | None = None,
                  origin: str = "web") -> dict[str, Any]:
    """Score a call with the latest version of its call type's scorecard; returns the saved review."""
    card = load_scorecard(store, call_type)
    if card is None or not card.active:
        raise ReviewError(f"no scorecard for call type {call_type!r}")
    agents = call_agents(store, call_id)
    if agent is None:
        if not agents:
            raise ReviewError(f"call {call_id!r} has no agent to review")
        agent = agents[0]
    elif agent not in agents:
        raise ReviewError(f"agent {agent!r} did not talk on call {call_id!r}")
    scored = score_against(card, scores, comments)
    review_id = "R-" + uuid.uuid4().hex[:12]
    _insert_version(store, review_id, 1, call_id, agent, reviewer, card, scored, comment, None, origin)
    return get_review(store, review_id) or {}


def correct_review(store: Store, review_id: str, *, reviewer: str, reason: str, scores: Mapping[str, object],
                   comments: Mapping[str, str] | None = None, comment: str = "") -> dict[str, Any]:
    """A new version of the review (the old ones stay), scored with the scorecard version of the first."""
    current = get_review(store, review_id)
    if current is None:
        raise ReviewError(f"no review {review_id!r}")
    if not reason.strip():
        raise ReviewError("a correction needs a reason")
    card = load_scorecard(store, current["call_type"], current["scorecard_version"]) if current[
        "scorecard_version"] else None
    if card is None:
        card = card_of_scores(current)
    scored = score_against(card, scores, comments)
    _insert_version(store, review_id, current["version"] + 1, current["call_id"], current["agent"], reviewer, card,
                    scored, comment, reason.strip()[:1000], "web")
    return get_review(store, review_id) or {}


def card_of_scores(review: Mapping[str, Any]) -> Scorecard:
    """An imported review's own criteria, as a scorecard to correct it with."""
    from callkpi.qa.scorecards import Criterion

    criteria = tuple(Criterion(name=s["criterion"], weight=s["weight"], fatal=s["fatal"]) for s in review["scores"])
    return Scorecard(call_type=review["call_type"], criteria=criteria)


def _insert_version(store: Store, review_id: str, version: int, call_id: str, agent: str, reviewer: str,
                    card: Scorecard, scored: Sequence[ScoredCriterion], comment: str, reason: str | None,
                    origin: str) -> None:
    cqr, fatal = compute_cqr(scored)
    now = datetime.now(UTC).replace(tzinfo=None)
    call = first_row(store.fetch_all("SELECT start_slice FROM calls WHERE call_id = ?", [call_id]))
    slice_id = call[0] if call and call[0] is not None else int(now.replace(tzinfo=UTC).timestamp()) // SLICE_SECONDS
    store.execute(
        "INSERT INTO qa_reviews VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [review_id, version, call_id, agent, reviewer, now, card.call_type, card.version, cqr, fatal,
         comment[:4000], reason, origin, None, int(slice_id)],
    )
    insert_rows(store, "qa_scores", [[review_id, version, i, s.criterion, s.weight, s.fatal, s.score, s.comment]
                                     for i, s in enumerate(scored)])


def insert_rows(store: Store, table: str, rows: Sequence[Sequence[Any]]) -> None:
    """Rows into a table in one portable ``INSERT ... VALUES (?, ...), (?, ...)`` (one part on ClickHouse)."""
    if not rows:
        return
    marks = "(" + ", ".join("?" for _ in rows[0]) + ")"
    store.execute(f"INSERT INTO {table} VALUES " + ", ".join(marks for _ in rows),  # noqa: S608 - our table names
                  [value for row in rows for value in row])


def respond(store: Store, review_id: str, *, agent: str, response: str, comment: str, user: str) -> None:
    """The reviewed agent acknowledges or disputes the latest version of their review."""
    if response not in RESPONSES:
        raise ReviewError(f"response must be one of {', '.join(RESPONSES)}")
    review = get_review(store, review_id)
    if review is None or review["agent"] != agent:
        raise ReviewError(f"no review {review_id!r} of agent {agent!r}")
    if response == "disputed" and not comment.strip():
        raise ReviewError("a dispute needs a comment")
    store.execute(
        "INSERT OR REPLACE INTO qa_responses VALUES (?, ?, ?, ?, ?, ?, ?)",
        [review_id, review["version"], agent, response, comment.strip()[:2000], user,
         datetime.now(UTC).replace(tzinfo=None)],
    )


# -- reading --------------------------------------------------------------------------------

_REVIEW_COLUMNS = ("review_id", "version", "call_id", "agent", "reviewer", "reviewed_utc", "call_type",
                   "scorecard_version", "cqr", "fatal_failed", "comment", "reason", "origin")


def get_review(store: Store, review_id: str, version: int | None = None) -> dict[str, Any] | None:
    """A review version (the latest by default) with its scores, versions and the agent's response."""
    columns = ", ".join(_REVIEW_COLUMNS)
    if version is None:
        row = first_row(store.fetch_all(f"SELECT {columns} FROM qa_reviews WHERE review_id = ? "  # noqa: S608
                                        "ORDER BY version DESC LIMIT 1", [review_id]))
    else:
        row = first_row(store.fetch_all(f"SELECT {columns} FROM qa_reviews WHERE review_id = ? "  # noqa: S608
                                        "AND version = ?", [review_id, version]))
    if row is None:
        return None
    review = dict(zip(_REVIEW_COLUMNS, row, strict=True))
    scores = store.fetch_all(
        "SELECT criterion, weight, fatal, score, comment FROM qa_scores WHERE review_id = ? AND version = ? "
        "ORDER BY position", [review_id, review["version"]])
    review["scores"] = [dict(zip(("criterion", "weight", "fatal", "score", "comment"), s, strict=True))
                        for s in scores]
    review["versions"] = [
        dict(zip(("version", "reviewer", "reviewed_utc", "cqr", "reason"), v, strict=True))
        for v in store.fetch_all("SELECT version, reviewer, reviewed_utc, cqr, reason FROM qa_reviews "
                                 "WHERE review_id = ? ORDER BY version", [review_id])
    ]
    answer = first_row(store.fetch_all(
        "SELECT response, comment, responded_by, responded_utc, version FROM qa_responses WHERE review_id = ? "
        "ORDER BY version DESC LIMIT 1", [review_id]))
    review["response"] = dict(zip(("response", "comment", "responded_by", "responded_utc", "version"), answer,
                                  strict=True)) if answer else None
    return review


@dataclass(frozen=True)
class ReviewFilter:
    agents: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    call_id: str | None = None
    limit: int = 200
    offset: int = 0


def _review_where(wanted: ReviewFilter) -> tuple[str, list[Any]]:
    where, params = ["1 = 1"], []
    for column, values in (("r.agent", wanted.agents), ("c.queue", wanted.queues)):
        if values:
            condition, values = in_list(column, values)
            where.append(condition)
            params += values
    if wanted.teams:
        condition, values = in_list("team", wanted.teams)
        where.append(f"r.agent IN (SELECT agent FROM agents WHERE {condition})")  # noqa: S608 - values are bound
        params += values
    if wanted.call_id:
        where.append("r.call_id = ?")
        params.append(wanted.call_id)
    return " AND ".join(where), params


def list_reviews(store: Store, wanted: ReviewFilter) -> list[dict[str, Any]]:
    """Latest versions of the reviews in scope (agents, queues of the call, teams of the agent), newest
    first (then by review id: a total order, so ``limit`` / ``offset`` pages neither repeat nor skip)."""
    where, params = _review_where(wanted)
    sql = f"""
        SELECT r.review_id, r.version, r.call_id, r.agent, r.reviewer, r.reviewed_utc, r.call_type, r.cqr,
               r.fatal_failed, c.queue, c.start_utc, p.response, p.response_comment
        FROM qa_reviews r
        LEFT JOIN calls c ON c.call_id = r.call_id
        LEFT JOIN (SELECT review_id, argMax(response, version) AS response,
                          argMax(comment, version) AS response_comment
                   FROM qa_responses GROUP BY review_id) p
            ON p.review_id = r.review_id
        WHERE {where}
        QUALIFY r.version = max(r.version) OVER (PARTITION BY r.review_id)
        ORDER BY r.reviewed_utc DESC, r.review_id LIMIT ? OFFSET ?
    """  # noqa: S608 - fixed SQL; values are bound
    rows = store.fetch_all(sql, [*params, wanted.limit, wanted.offset])
    names = ("review_id", "version", "call_id", "agent", "reviewer", "reviewed_utc", "call_type", "cqr",
             "fatal_failed", "queue", "call_start_utc", "response", "response_comment")
    return [dict(zip(names, r, strict=True)) for r in rows]


def count_reviews(store: Store, wanted: ReviewFilter) -> int:
    """How many reviews :func:`list_reviews` finds without its limit and offset."""
    where, params = _review_where(wanted)
    row = first_row(store.fetch_all(
        f"SELECT count(DISTINCT r.review_id) FROM qa_reviews r LEFT JOIN calls c ON c.call_id = r.call_id "  # noqa: S608
        f"WHERE {where}", params))
    return int(row[0]) if row else 0
