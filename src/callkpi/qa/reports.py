"""QA reports beyond the KPIs: the weakest criteria per agent, reviewer calibration and the share of
good vs needs-work calls. They read the latest version of each review (corrections count, not the
scores they replaced) and never compute a KPI the registry has (CQR trend: the engine by day/week).
The SQL is read alike by DuckDB and ClickHouse (``Store.fetch_all``, lists as ``IN (?, ...)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from callkpi.qa.sample import day_bounds
from callkpi.storage import Store
from callkpi.storage.portable_sql import in_list

_LATEST = """
    latest AS (
        SELECT r.* FROM qa_reviews r LEFT JOIN calls c ON c.call_id = r.call_id
        WHERE ({period})
        QUALIFY r.version = max(r.version) OVER (PARTITION BY r.review_id)
    )
"""


def _latest_cte(date_from: date | None, date_to: date | None, timezone: str) -> tuple[str, list[Any]]:
    """A ``latest`` CTE over the reviews of calls of the local period (timed like the KPIs: at the call's
    start, at the review when the call is not loaded), and its bound values."""
    where, params = ["1 = 1"], []
    if date_from is not None:
        where.append("coalesce(c.start_utc, r.reviewed_utc) >= ?")
        params.append(day_bounds(date_from, timezone)[0])
    if date_to is not None:
        where.append("coalesce(c.start_utc, r.reviewed_utc) < ?")
        params.append(day_bounds(date_to, timezone)[1])
    return _LATEST.format(period=" AND ".join(where)), params


def _scope(agents: Sequence[str], column: str = "r.agent") -> tuple[str, list[Any]]:
    if not agents:
        return "", []
    condition, values = in_list(column, agents)
    return f" AND {condition}", values


def weakest_criteria(store: Store, *, agents: Sequence[str] = (), date_from: date | None = None,
                     date_to: date | None = None, timezone: str = "UTC", per_agent: int = 3) -> list[dict[str, Any]]:
    """Per agent, the criteria with the lowest mean score (N/A left out), most weight first on ties."""
    cte, params = _latest_cte(date_from, date_to, timezone)
    scope, scope_params = _scope(agents)
    rows = store.fetch_all(
        f"""
        WITH {cte}, per AS (
            SELECT r.agent, s.criterion, count(*) AS scored, avg(s.score) AS mean_score, avg(s.weight) AS weight,
                   sum(s.weight * (1 - s.score)) AS points_lost,
                   count(*) FILTER (WHERE s.score = 0) AS zeros
            FROM latest r JOIN qa_scores s ON s.review_id = r.review_id AND s.version = r.version
            WHERE s.score IS NOT NULL{scope}
            GROUP BY r.agent, s.criterion
        )
        SELECT agent, criterion, scored, mean_score, weight, points_lost, zeros FROM per
        QUALIFY row_number() OVER (PARTITION BY agent ORDER BY mean_score, weight DESC, criterion) <= ?
        ORDER BY agent, mean_score, weight DESC, criterion
        """,  # noqa: S608 - fixed SQL; values are bound
        [*params, *scope_params, per_agent])
    names = ("agent", "criterion", "scored", "mean_score", "weight", "points_lost", "zeros")
    return [dict(zip(names, r, strict=True)) for r in rows]


def calibration(store: Store, *, date_from: date | None = None, date_to: date | None = None,
                timezone: str = "UTC") -> list[dict[str, Any]]:
    """Calls scored by two reviewers: per criterion, pairs compared, mean absolute difference of the
    scores (0..1) and the share of pairs that agree exactly; N/A on one side only counts as a mismatch."""
    cte, params = _latest_cte(date_from, date_to, timezone)
    rows = store.fetch_all(
        f"""
        WITH {cte}, pairs AS (
            SELECT a.review_id AS a_id, a.version AS a_v, b.review_id AS b_id, b.version AS b_v
            FROM latest a JOIN latest b ON a.call_id = b.call_id AND a.agent IS NOT DISTINCT FROM b.agent
                AND a.reviewer <> b.reviewer AND a.review_id < b.review_id
        )
        SELECT sa.criterion, count(*) AS pairs,
               avg(abs(sa.score - sb.score)) AS mean_abs_diff,
               avg(CASE WHEN sa.score IS NOT DISTINCT FROM sb.score THEN 1.0 ELSE 0.0 END) AS agreement,
               count(*) FILTER (WHERE (sa.score IS NULL) <> (sb.score IS NULL)) AS na_mismatches
        FROM pairs p
        JOIN qa_scores sa ON sa.review_id = p.a_id AND sa.version = p.a_v
        JOIN qa_scores sb ON sb.review_id = p.b_id AND sb.version = p.b_v AND sb.criterion = sa.criterion
        GROUP BY sa.criterion
        ORDER BY mean_abs_diff DESC NULLS LAST, sa.criterion
        """,  # noqa: S608 - fixed SQL; values are bound
        params)
    names = ("criterion", "pairs", "mean_abs_diff", "agreement", "na_mismatches")
    return [dict(zip(names, r, strict=True)) for r in rows]


def calibration_pairs(store: Store, *, limit: int = 200) -> list[dict[str, Any]]:
    """Each pair of reviews of one call by two reviewers, with both CQRs and their difference."""
    cte, params = _latest_cte(None, None, "UTC")
    rows = store.fetch_all(
        f"""
        WITH {cte}
        SELECT a.call_id, a.agent, a.reviewer, a.cqr, b.reviewer, b.cqr, abs(a.cqr - b.cqr)
        FROM latest a JOIN latest b ON a.call_id = b.call_id AND a.agent IS NOT DISTINCT FROM b.agent
            AND a.reviewer <> b.reviewer AND a.review_id < b.review_id
        ORDER BY abs(a.cqr - b.cqr) DESC NULLS LAST, a.call_id LIMIT ?
        """,  # noqa: S608 - fixed SQL; values are bound
        [*params, limit])
    names = ("call_id", "agent", "reviewer_a", "cqr_a", "reviewer_b", "cqr_b", "cqr_difference")
    return [dict(zip(names, r, strict=True)) for r in rows]


def criterion_scores_by_day(store: Store, *, agents: Sequence[str] = (), date_from: date | None = None,
                            date_to: date | None = None, timezone: str = "UTC") -> list[dict[str, Any]]:
    """Per local day and criterion: the mean score (N/A left out) and how many scores it is over, from the
    latest version of each review; a day is the call's (the review's when the call is not loaded)."""
    from zoneinfo import ZoneInfo

    cte, params = _latest_cte(date_from, date_to, timezone)
    scope, scope_params = _scope(agents)
    rows = store.fetch_all(
        f"""
        WITH {cte}
        SELECT coalesce(c.start_utc, r.reviewed_utc) AS at, s.criterion, s.score
        FROM latest r JOIN qa_scores s ON s.review_id = r.review_id AND s.version = r.version
        LEFT JOIN calls c ON c.call_id = r.call_id
        WHERE s.score IS NOT NULL{scope}
        """,  # noqa: S608 - fixed SQL; values are bound
        [*params, *scope_params])
    zone, utc = ZoneInfo(timezone), ZoneInfo("UTC")
    sums: dict[tuple[date, str], list[float]] = {}
    for at, criterion, score in rows:
        day = (at if at.tzinfo else at.replace(tzinfo=utc)).astimezone(zone).date()
        sums.setdefault((day, criterion), []).append(float(score))
    return [{"day": day, "criterion": criterion, "scored": len(scores), "mean_score": sum(scores) / len(scores)}
            for (day, criterion), scores in sorted(sums.items())]
