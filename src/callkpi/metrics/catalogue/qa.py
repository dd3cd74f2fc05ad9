"""Call-quality KPIs: reviews, coverage, CQR and pass rate, on the same registry as every other KPI.

Registered last by :mod:`callkpi.metrics.catalogue`. The fact is the latest version of each
review (a correction replaces the score it corrects), timed at its call's start (so coverage
compares reviews and handled calls of the same period), or at the review when the call is not
loaded. Reviews can be grouped by ``call_type`` (the scorecard) besides agent, team and queue.
"""

from __future__ import annotations

from typing import Any

from callkpi.metrics.catalogue._build import REGISTRY, count, measure, metric, stored_or_empty, total
from callkpi.metrics.catalogue.handling import al_handled
from callkpi.metrics.registry import BuiltFact, Ratio, Value
from callkpi.model.qa_schema import QA_REVIEWS
from callkpi.storage.lazy import ibis

QUALITY = "quality"

def latest_reviews(backend: Any) -> ibis.Table:
    """The latest version of every review, with its call's start slice and queue."""
    reviews = stored_or_empty(backend, "qa_reviews", {"qa_reviews": QA_REVIEWS})
    newest = reviews.version.max().over(ibis.window(group_by=reviews.review_id))
    latest = reviews.mutate(newest=newest)
    latest = latest.filter(latest.version == latest.newest).drop("newest")
    calls = backend.table("calls").select(c_call="call_id", c_slice="start_slice", queue="queue")
    joined = latest.left_join(calls, latest.call_id == calls.c_call)
    return joined.mutate(review_slice=ibis.coalesce(joined.c_slice, joined.review_slice))


REGISTRY.add_fact(BuiltFact(
    "qa_reviews", "qa_reviews", "review_slice", {"agent": "agent", "queue": "queue", "call_type": "call_type"},
    "QA reviews (latest version of each), timed at their call's start", build=latest_reviews))

qa_calls = measure("qa_reviewed_calls", "qa_reviews", "nunique", lambda t, p, c: t.call_id,
                   text="count(distinct reviewed calls)")
qa_scored = count("qa_scored", "qa_reviews", lambda t, p: t.cqr.notnull(), text="reviews with a CQR")
qa_cqr_sum = total("qa_cqr_sum", "qa_reviews", "cqr", text="sum(review CQR)")
qa_passed = count("qa_passed", "qa_reviews", lambda t, p: t.cqr >= p.qa_pass_score,
    text="reviews with CQR >= qa_pass_score")
qa_fatal = count("qa_fatal", "qa_reviews", lambda t, p: t.fatal_failed.fill_null(False),
    text="reviews with a failed fatal criterion")

CQR_TEXT = (
    "Mean over reviews of 100 x sum(weight x score) / sum(weight of the applicable criteria), scores 0, 0.5 "
    "or 1; an N/A criterion leaves the denominator; a failed fatal criterion makes the review 0. The latest "
    "version of each review counts.",
    "Среднее по проверкам 100 x сумма(вес x оценка) / сумма(весов применимых критериев), оценки 0, 0,5 или "
    "1; критерий «н/п» не входит в знаменатель; проваленный критический критерий обнуляет проверку. "
    "Учитывается последняя версия каждой проверки.",
)

metric(
    "qa_reviews", QUALITY, "count", "neutral", ("Reviewed calls", "Проверенные звонки"),
    ("Calls with at least one QA review, at the time of the call.",
     "Звонки, по которым есть хотя бы одна проверка качества, по времени звонка."),
    kind=Value(qa_calls),
)
metric(
    "qa_coverage", QUALITY, "ratio", "higher_is_better", ("QA coverage", "Охват проверками"),
    ("Reviewed calls over calls_handled.", "Проверенные звонки к обработанным звонкам."),
    kind=Ratio((qa_calls,), (al_handled,)),
)
metric(
    "cqr", QUALITY, "score", "higher_is_better", ("Call Quality Rate (CQR)", "Качество звонков (CQR)"),
    CQR_TEXT, kind=Ratio((qa_cqr_sum,), (qa_scored,)),
)
metric(
    "qa_pass_rate", QUALITY, "ratio", "higher_is_better", ("QA pass rate", "Доля хороших звонков"),
    ("Reviews with CQR at or above qa_pass_score (good calls) over reviews with a CQR; the rest need work.",
     "Проверки с CQR не ниже проходного балла (хорошие звонки) к проверкам с CQR; остальные требуют работы."),
    kind=Ratio((qa_passed,), (qa_scored,)), params=("qa_pass_score",),
)
metric(
    "qa_fatal_rate", QUALITY, "ratio", "lower_is_better", ("Fatal errors", "Доля критических ошибок"),
    ("Reviews with a failed fatal criterion over reviews with a CQR.",
     "Проверки с проваленным критическим критерием к проверкам с CQR."),
    kind=Ratio((qa_fatal,), (qa_scored,)),
)
