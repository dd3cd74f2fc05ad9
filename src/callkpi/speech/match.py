"""Whether the agent followed the script: each stage is done when the agent says one of its phrases.

How a phrase is matched to what was said (docs/speech.md):

* both are cut into words and each Russian word is put in its dictionary form (pymorphy3 lemmas),
  so "оформим заказ" matches "оформить заказ"; other words are lower-cased;
* the phrase's words are looked for in the utterance's words fuzzily (rapidfuzz partial ratio of the
  two lemma strings at least ``threshold`` of 100), so that recognition errors ("заказь") still match;
* only the agent's utterances count: a stage said by the customer is not done;
* a stage is done at its first matching utterance; the stages done are in order when those
  utterances come in the order of the script.

What it cannot know: a stage done in other words than any of its phrases, irony, or a phrase the
recogniser lost; add phrases to the script where the stage is missed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from callkpi.speech.scripts import Script
from callkpi.speech.transcript import AGENT, Utterance

DEFAULT_THRESHOLD = 85
_WORD = re.compile(r"[0-9a-zа-яё]+(?:['’-][0-9a-zа-яё]+)*", re.IGNORECASE)
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)


@cache
def _morph() -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    word = word.lower().replace("ё", "е")
    if not _CYRILLIC.search(word):
        return word
    return str(_morph().parse(word)[0].normal_form).replace("ё", "е")


def lemmas(text: str) -> str:
    return " ".join(lemma(w) for w in _WORD.findall(text))


def says(phrase_lemmas: str, utterance_lemmas: str, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """Whether the utterance contains the phrase (both as lemma strings), allowing recognition errors."""
    if not phrase_lemmas or not utterance_lemmas:
        return False
    if f" {phrase_lemmas} " in f" {utterance_lemmas} ":
        return True
    if " " not in phrase_lemmas:  # one word: the word itself, fuzzily, not a part of another word
        from rapidfuzz import fuzz

        return any(fuzz.ratio(phrase_lemmas, w) >= threshold for w in utterance_lemmas.split())
    from rapidfuzz import fuzz

    return fuzz.partial_ratio(phrase_lemmas, utterance_lemmas) >= threshold


@dataclass(frozen=True)
class StageResult:
    stage: str
    required: bool
    position: int  # the stage's place in the script
    done: bool
    utterance: int | None  # index of the first agent utterance that did it
    in_order: bool  # done after every earlier done stage


@dataclass(frozen=True)
class ScriptCheck:
    call_type: str
    version: int | None
    stages: list[StageResult]
    forbidden: list[tuple[int, str]]  # (utterance index, phrase) of each forbidden phrase said

    @property
    def required(self) -> int:
        return sum(1 for s in self.stages if s.required)

    @property
    def required_done(self) -> int:
        return sum(1 for s in self.stages if s.required and s.done)

    @property
    def in_order(self) -> bool:
        return all(s.in_order for s in self.stages if s.done)


def check_script(script: Script, utterances: Sequence[Utterance], threshold: int = DEFAULT_THRESHOLD
                 ) -> ScriptCheck:
    said = [(i, lemmas(u.text)) for i, u in enumerate(utterances) if u.speaker == AGENT]
    stages, latest = [], -1
    for position, stage in enumerate(script.stages):
        phrases = [lemmas(p) for p in stage.phrases]
        first = next((i for i, text in said if any(says(p, text, threshold) for p in phrases)), None)
        in_order = first is None or first >= latest
        if first is not None:
            latest = max(latest, first)
        stages.append(StageResult(stage.id, stage.required, position, first is not None, first, in_order))
    forbidden = [(i, phrase) for phrase in script.forbidden for i, text in said
                 if says(lemmas(phrase), text, threshold)]
    return ScriptCheck(script.call_type, script.version, stages, sorted(forbidden))
