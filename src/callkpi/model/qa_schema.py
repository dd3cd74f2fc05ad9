"""Tables of call quality (QA): versioned scorecards, reviews with their criterion scores, the
daily review sample and the agents' responses to their reviews.

A scorecard is identified by its call type (``qualification``, ``objection``, ...); every change
adds a version and a review keeps the version it was scored with, so changing a scorecard never
changes a past score. A saved review is never updated: a correction is a new version of the same
``review_id`` with who corrected it and why; reports read the latest version of each review.
"""

from __future__ import annotations

from callkpi.model.schema import Table

QA_SCORECARDS = Table(
    "qa_scorecards",
    "one row per scorecard version (a scorecard is named by its call type)",
    (
        ("call_type", "VARCHAR"),
        ("version", "INTEGER"),
        ("title_en", "VARCHAR"),
        ("title_ru", "VARCHAR"),
        ("created_by", "VARCHAR"),
        ("created_utc", "TIMESTAMP"),
        ("note", "VARCHAR"),
        ("active", "BOOLEAN"),  # false: retired (no new reviews), kept for the reviews that used it
        ("match_queues", "VARCHAR"),  # comma lists: calls of these queues / campaigns / directions are
        ("match_campaigns", "VARCHAR"),  # of this call type (for the sample's strata)
        ("match_directions", "VARCHAR"),
    ),
    ("call_type", "version"),
)

QA_CRITERIA = Table(
    "qa_criteria",
    "the criteria of each scorecard version, in order, with weight, fatal and N/A allowed",
    (
        ("call_type", "VARCHAR"),
        ("version", "INTEGER"),
        ("position", "INTEGER"),
        ("criterion", "VARCHAR"),  # key, e.g. "objection handling"
        ("title_en", "VARCHAR"),
        ("title_ru", "VARCHAR"),
        ("weight", "DOUBLE"),
        ("fatal", "BOOLEAN"),  # a 0 on a fatal criterion makes the review's CQR 0
        ("na_allowed", "BOOLEAN"),
        ("script_stage", "VARCHAR"),  # the call script's stage the criterion checks (docs/speech.md), or NULL
    ),
    ("call_type", "version", "criterion"),
)

QA_REVIEWS = Table(
    "qa_reviews",
    "review versions: the call, agent, reviewer, scorecard version and the CQR the server computed",
    (
        ("review_id", "VARCHAR"),
        ("version", "INTEGER"),
        ("call_id", "VARCHAR"),
        ("agent", "VARCHAR"),
        ("reviewer", "VARCHAR"),
        ("reviewed_utc", "TIMESTAMP"),
        ("call_type", "VARCHAR"),
        ("scorecard_version", "INTEGER"),  # NULL for imported reviews scored with a scorecard of their own
        ("cqr", "DOUBLE"),  # 0..100; NULL when every criterion is N/A
        ("fatal_failed", "BOOLEAN"),
        ("comment", "VARCHAR"),
        ("reason", "VARCHAR"),  # why this version corrects the previous one
        ("origin", "VARCHAR"),  # web | api | import
        ("source_id", "BIGINT"),  # imported: the file
        ("review_slice", "BIGINT"),  # the call's 15-minute start slice (the review's when the call is not loaded)
    ),
    ("review_id", "version"),
)

QA_SCORES = Table(
    "qa_scores",
    "one row per criterion of a review version: weight and fatal as scored, score 0/0.5/1 or NULL (N/A)",
    (
        ("review_id", "VARCHAR"),
        ("version", "INTEGER"),
        ("position", "INTEGER"),
        ("criterion", "VARCHAR"),
        ("weight", "DOUBLE"),
        ("fatal", "BOOLEAN"),
        ("score", "DOUBLE"),
        ("comment", "VARCHAR"),
    ),
    ("review_id", "version", "criterion"),
)

QA_SAMPLE = Table(
    "qa_sample",
    "calls picked for review: the daily random sample, by rule or by hand",
    (
        ("call_id", "VARCHAR"),
        ("agent", "VARCHAR"),
        ("day", "DATE"),  # business-local day of the call
        ("call_type", "VARCHAR"),
        ("reason", "VARCHAR"),  # sample | manual | new_agent | long_call | low_csat | missed_plan
        ("picked_by", "VARCHAR"),
        ("picked_utc", "TIMESTAMP"),
        ("seed", "VARCHAR"),
    ),
    ("call_id", "agent"),
)

QA_RESPONSES = Table(
    "qa_responses",
    "the reviewed agent's answer to a review: acknowledged or disputed, with a comment",
    (
        ("review_id", "VARCHAR"),
        ("version", "INTEGER"),
        ("agent", "VARCHAR"),
        ("response", "VARCHAR"),  # acknowledged | disputed
        ("comment", "VARCHAR"),
        ("responded_by", "VARCHAR"),
        ("responded_utc", "TIMESTAMP"),
    ),
    ("review_id", "version"),
)

QA_TABLES: tuple[Table, ...] = (QA_SCORECARDS, QA_CRITERIA, QA_REVIEWS, QA_SCORES, QA_SAMPLE, QA_RESPONSES)
