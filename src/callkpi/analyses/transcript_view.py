"""One call's transcript as the call page and the API show it: each utterance with its speaker, times
and text, the script stages it did (with their titles in both languages) and the forbidden phrases
said in it, and the call's adherence figures (the same ratios as the registry's speech KPIs, for one
call).

Stages come from the stored check (``script_stages``); the forbidden phrases are found again with the
matcher of :mod:`callkpi.speech.match`, since the store keeps only their count.
"""

from __future__ import annotations

from typing import Any

from callkpi.queries.transcripts import call_transcript
from callkpi.speech.match import DEFAULT_THRESHOLD, check_script
from callkpi.speech.scripts import Script, scripts_in_force
from callkpi.speech.transcript import Utterance
from callkpi.storage import Store


def _ratio(part: float | None, whole: float | None) -> float | None:
    """Not recorded (or nothing to divide by) is None, never 0."""
    if part is None or not whole:
        return None
    return float(part) / float(whole)


def adherence_figures(head: dict[str, Any]) -> dict[str, Any]:
    """One transcript's figures, with the registry's definitions (docs/metrics.md, section speech)."""
    agent, customer = head.get("agent_speech_s"), head.get("customer_speech_s")
    both = (agent or 0.0) + (customer or 0.0) if agent is not None and customer is not None else None
    return {
        "call_type": head.get("call_type"),
        "script_version": head.get("script_version"),
        "required_stages": head.get("required_stages"),
        "required_done": head.get("required_done"),
        "script_adherence": _ratio(head.get("required_done"), head.get("required_stages")),
        "stages_in_order": head.get("stages_in_order"),
        "forbidden_said": head.get("forbidden_said"),
        "agent_talk_share": _ratio(agent, both),
        "customer_talk_share": _ratio(customer, both),
        "silence_share": _ratio(head.get("silence_s"), head.get("span_s")),
        "longest_monologue_s": head.get("agent_longest_monologue_s"),
        "interruptions": head.get("agent_interruptions"),
    }


def _script(store: Store, call_type: str | None) -> Script | None:
    if not call_type:
        return None
    return next((s for s in scripts_in_force(store) if s.call_type == call_type), None)


def transcript_view(store: Store, call_id: str, threshold: int = DEFAULT_THRESHOLD) -> dict[str, Any] | None:
    """The call's transcript with stages and forbidden phrases per utterance; None when it has none."""
    found = call_transcript(store, call_id)
    if found is None:
        return None
    script = _script(store, found.get("call_type"))
    titles = {s.id: {"en": s.title or s.id, "ru": s.title_ru or s.title or s.id}
              for s in (script.stages if script else ())}
    utterances = found["utterances"]
    forbidden: dict[int, list[str]] = {}
    if script is not None and script.forbidden:
        said = [Utterance(u["speaker"], float(u["start_s"]), float(u["end_s"]), u["text"] or "") for u in utterances]
        for index, phrase in check_script(script, said, threshold).forbidden:
            forbidden.setdefault(index, []).append(phrase)
    for index, u in enumerate(utterances):
        u["stages"] = [{"id": s, "title": titles.get(s, {"en": s, "ru": s})} for s in u["stages"]]
        u["forbidden"] = forbidden.get(index, [])
    stages = [{**s, "title": titles.get(s["stage"], {"en": s["stage"], "ru": s["stage"]})} for s in found["stages"]]
    return {
        "transcript_id": found["transcript_id"],
        "lang": found.get("lang"),
        "matched_by": found.get("matched_by"),
        "figures": adherence_figures(found),
        "stages": stages,
        "utterances": utterances,
    }
