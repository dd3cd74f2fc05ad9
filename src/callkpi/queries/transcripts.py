"""Reading transcripts back: one call's utterances with the script stages they did (the call page,
`callkpi scripts show`)."""

from __future__ import annotations

from typing import Any

from callkpi.queries._rows import sql_rows
from callkpi.storage import Store


def call_transcript(store: Store, call_id: str) -> dict[str, Any] | None:
    """The transcript matched to (or naming) the call: its facts, utterances (each with the stages it
    did and the forbidden phrases said in it) and the script's stages; None when there is none."""
    heads = sql_rows(store, "SELECT * FROM transcripts WHERE call_id = ? OR (call_id IS NULL AND call_id_given = ?) "
                            "ORDER BY transcript_id LIMIT 1", [call_id, call_id])
    if not heads:
        return None
    head = heads[0]
    stages = sql_rows(store, "SELECT stage, position, required, done, utterance_seq, in_order FROM script_stages "
                             "WHERE transcript_id = ? ORDER BY position", [head["transcript_id"]])
    utterances = sql_rows(store, "SELECT seq, speaker, start_s, end_s, text FROM utterances WHERE transcript_id = ? "
                                 "ORDER BY seq", [head["transcript_id"]])
    done_at: dict[int, list[str]] = {}
    for stage in stages:
        if stage["done"] and stage["utterance_seq"] is not None:
            done_at.setdefault(int(stage["utterance_seq"]), []).append(stage["stage"])
    for utterance in utterances:
        utterance["stages"] = done_at.get(int(utterance["seq"]), [])
    return {**head, "stages": stages, "utterances": utterances}
