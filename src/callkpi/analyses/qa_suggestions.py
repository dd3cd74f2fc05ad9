"""Scores the transcript suggests for a QA review: each scorecard criterion mapped to a script stage
(the criterion's ``stage``) gets 1 when the agent did that stage on the call, 0 when the script was
checked and the stage was not done. A suggestion only: the review form pre-selects it and nothing is
saved until the reviewer saves (docs/qa.md, docs/speech.md)."""

from __future__ import annotations

from typing import Any

from callkpi.qa.scorecards import Scorecard
from callkpi.queries.transcripts import call_transcript
from callkpi.storage import Store


def suggested_scores(store: Store, call_id: str, card: Scorecard) -> dict[str, dict[str, Any]]:
    """Criterion name -> {"score": "1" | "0", "stage": stage id, "done": bool}, for the criteria whose
    stage the call's transcript was checked for; empty without a transcript or a mapped criterion."""
    mapped = {c.name: c.stage for c in card.criteria if c.stage}
    if not mapped:
        return {}
    found = call_transcript(store, call_id)
    if found is None:
        return {}
    done = {s["stage"]: bool(s["done"]) for s in found["stages"]}
    return {name: {"score": "1" if done[stage] else "0", "stage": stage, "done": done[stage]}
            for name, stage in mapped.items() if stage in done}
