"""Transcripts of the answered calls, generated from the scripts of each call type, and their truth.

Per call the agent says the script's stages in order, each with one of its example phrases (Russian
phrases in varied inflected forms, so lemma matching is exercised) inside a sentence, the customer
answers in between; an agent skips a required stage with a chance that grows as the agent's quality
falls, sometimes says a forbidden phrase, and some calls carry recognition noise (words dropped
around the phrases, a letter misspelt inside them). Times fill the call's talk time; some customer
replies start before the agent has finished (an interruption).

Files: ``transcripts-YYYY-MM-DD.json`` (the callkpi transcript JSON layout, docs/speech.md) and
``truth_transcripts.csv.gz``: call_id, agent, call_type, lang, stages_done (stage ids, space
separated, in script order), required_stages (ids of the script's required stages), forbidden_said
(phrases said, ``|`` separated), agent_speech_s, customer_speech_s, noisy (0|1).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from callkpi.speech.scripts import Script, default_scripts

TRUTH_FILE = "truth_transcripts.csv.gz"
FILE_PREFIX = "transcripts-"
TRUTH_COLUMNS = ("call_id", "agent", "call_type", "lang", "stages_done", "required_stages", "forbidden_said",
                 "agent_speech_s", "customer_speech_s", "noisy")
MEAN_QUALITY = 0.775  # the middle of the agents' quality range (staff.py draws 0.6..0.95)
WORD_S = 0.38  # seconds per spoken word, before fitting the call's talk time
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)

# Sentences around a phrase and lines for a skipped stage: chosen so that no script phrase is in them.
_FRAME = {
    "ru": (("", ""), ("Так, ", "."), ("Хорошо, ", ", правильно?"), ("Смотрите, ", "."), ("", ", да.")),
    "en": (("", ""), ("Right, ", "."), ("Okay, ", ", all right?"), ("So ", "."), ("", ", yes.")),
}
_FILLER = {
    "ru": ("одну секунду", "сейчас посмотрю в системе", "так, записала", "угу, поняла вас", "минуточку"),
    "en": ("one second please", "let me check the system", "okay, noted", "right, got it", "just a moment"),
}
_CUSTOMER = {
    "ru": ("да, слушаю", "хорошо", "а сколько это стоит", "нам нужно на десять человек", "понятно",
           "да, давайте", "а доставка есть", "я подумаю", "угу", "нет, спасибо, пока нет", "да, всё верно"),
    "en": ("yes, go ahead", "okay", "how much is it", "we need it for ten people", "I see", "yes, let us do it",
           "is delivery included", "I will think about it", "uh-huh", "no thanks, not now", "yes, that is right"),
}
_LETTERS = {"ru": "абвгдежзиклмнопрстуфхцчшыэюя", "en": "abcdefghiklmnoprstuvwy"}


@dataclass(frozen=True)
class _Stage:
    id: str
    required: bool
    phrases: dict[str, tuple[str, ...]]  # lang -> phrases and their inflected variants


@dataclass(frozen=True)
class _Script:
    call_type: str
    stages: tuple[_Stage, ...]
    forbidden: dict[str, tuple[str, ...]]


def _lang(phrase: str) -> str:
    return "ru" if _CYRILLIC.search(phrase) else "en"


def _variants(phrase: str) -> tuple[str, ...]:
    """The phrase and forms of it with the first word inflected that the matcher takes to the same lemmas."""
    if _lang(phrase) != "ru":
        return (phrase,)
    from callkpi.speech.match import _morph, lemmas

    words = phrase.split()
    target = lemmas(phrase)
    found = [phrase]
    parsed = _morph().parse(words[0])[0]
    if parsed.tag.POS not in ("VERB", "INFN") or words[0].lower() == "давайте":
        return (phrase,)  # verbs only: their personal forms stay grammatical in the sentence
    for form in parsed.lexeme:
        if len(found) >= 4:
            break
        if not ({"pres", "futr", "impr"} & set(form.tag.grammemes)) or "sing" in form.tag.grammemes:
            continue
        candidate = " ".join([form.word, *words[1:]])
        if candidate not in found and lemmas(candidate) == target:
            found.append(candidate)
    return tuple(found)


def _by_lang(phrases: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {"ru": [], "en": []}
    for phrase in phrases:
        out[_lang(phrase)].extend(_variants(phrase))
    every = tuple(p for ps in out.values() for p in ps)
    return {lang: tuple(ps) or every for lang, ps in out.items()}


def _prepare(script: Script) -> _Script:
    stages = tuple(_Stage(s.id, s.required, _by_lang(tuple(s.phrases))) for s in script.stages)
    forbidden = {"ru": tuple(p for p in script.forbidden if _lang(p) == "ru"),
                 "en": tuple(p for p in script.forbidden if _lang(p) == "en")}
    return _Script(script.call_type, stages, forbidden)


@dataclass
class GeneratedCall:
    utterances: list[dict[str, object]]
    stages_done: list[str]
    forbidden_said: list[str]
    agent_speech_s: float
    customer_speech_s: float
    noisy: bool


class TranscriptGenerator:
    """Turns (call type, talk time, agent quality) into a transcript and what it truly holds."""

    def __init__(self, skip_share: float, forbidden_share: float, noise_share: float, word_error: float,
                 interruption_share: float, scripts: list[Script] | None = None) -> None:
        self.scripts = {s.call_type: _prepare(s) for s in (scripts or default_scripts())}
        self.skip_share = skip_share
        self.forbidden_share = forbidden_share
        self.noise_share = noise_share
        self.word_error = word_error
        self.interruption_share = interruption_share

    def script_for(self, call_type: str) -> _Script:
        return self.scripts.get(call_type) or next(iter(self.scripts.values()))

    def call(self, rnd: random.Random, call_type: str, lang: str, talk_s: float, quality: float) -> GeneratedCall:
        script = self.script_for(call_type)
        weakness = max(0.0, 1.0 - quality) / (1.0 - MEAN_QUALITY)  # 1 for the average agent
        noisy = rnd.random() < self.noise_share
        turns: list[tuple[str, str]] = []  # (speaker, text)
        done: list[str] = []
        for stage in script.stages:
            skip_p = self.skip_share * weakness if stage.required else 0.5
            if rnd.random() < skip_p:
                if rnd.random() < 0.5:
                    turns.append(("agent", rnd.choice(_FILLER[lang])))
            else:
                prefix, suffix = rnd.choice(_FRAME[lang])
                phrase = rnd.choice(stage.phrases[lang])
                if noisy:
                    prefix, suffix = self._drop_words(rnd, prefix), self._drop_words(rnd, suffix)
                    phrase = self._misspell(rnd, phrase, lang)
                turns.append(("agent", f"{prefix}{phrase}{suffix}".strip()))
                done.append(stage.id)
            turns.append(("customer", rnd.choice(_CUSTOMER[lang])))
        said: list[str] = []
        if script.forbidden[lang] and rnd.random() < self.forbidden_share * weakness:
            phrase = rnd.choice(script.forbidden[lang])
            turns.insert(rnd.randrange(1, len(turns)), ("agent", phrase))
            said.append(phrase)
        utterances, agent_s, customer_s = self._timed(rnd, turns, talk_s)
        return GeneratedCall(utterances, done, said, agent_s, customer_s, noisy)

    def _drop_words(self, rnd: random.Random, text: str) -> str:
        words = text.split(" ")
        return " ".join(w for w in words if not w or rnd.random() >= self.word_error * 4)

    def _misspell(self, rnd: random.Random, phrase: str, lang: str) -> str:
        """One letter of one long word replaced, as a recogniser mishears it."""
        if rnd.random() >= self.word_error * 4:
            return phrase
        words = phrase.split(" ")
        long_words = [i for i, w in enumerate(words) if len(w) >= 6]
        if not long_words:
            return phrase
        i = rnd.choice(long_words)
        word = words[i]
        at = rnd.randrange(1, len(word) - 1)
        words[i] = word[:at] + rnd.choice(_LETTERS[lang]) + word[at + 1:]
        return " ".join(words)

    def _timed(self, rnd: random.Random, turns: list[tuple[str, str]], talk_s: float
               ) -> tuple[list[dict[str, object]], float, float]:
        """Start and end of each turn, scaled to the talk time; a customer reply may overlap the agent."""
        lengths = [max(0.6, WORD_S * len(text.split())) for _, text in turns]
        gaps = [rnd.uniform(0.2, 1.2) for _ in turns]
        scale = max(talk_s, 1.0) / (sum(lengths) + sum(gaps))
        utterances: list[dict[str, object]] = []
        spoken = {"agent": 0.0, "customer": 0.0}
        clock, last_end = 0.0, {"agent": 0.0, "customer": 0.0}
        for (speaker, text), length, gap in zip(turns, lengths, gaps, strict=True):
            start = clock + gap * scale
            end = start + length * scale
            other = "customer" if speaker == "agent" else "agent"
            if speaker == "customer" and utterances and rnd.random() < self.interruption_share:
                start = max(last_end[speaker], last_end[other] - min(1.0, 0.3 * length * scale))
                end = start + length * scale
            start, end = round(start, 2), round(end, 2)
            start = max(start, last_end[speaker])  # one party's speech never overlaps itself
            end = max(end, round(start + 0.1, 2))
            utterances.append({"speaker": speaker, "start": start, "end": end, "text": text})
            spoken[speaker] += end - start
            last_end[speaker] = end
            clock = max(clock, end)
        return utterances, round(spoken["agent"], 2), round(spoken["customer"], 2)


class TranscriptWriter:
    """Per day one transcripts-DATE.json, plus the truth file for the whole run."""

    def __init__(self, out_dir: Path, generator: TranscriptGenerator, lang: str) -> None:
        self.out_dir = out_dir
        self.generator = generator
        self.lang = lang
        self._truth_raw = gzip.open(out_dir / TRUTH_FILE, "wt", encoding="utf-8", newline="")  # noqa: SIM115 (open for the run)
        self._truth = csv.writer(self._truth_raw)
        self._truth.writerow(TRUTH_COLUMNS)
        self.calls = 0

    def write_day(self, day_label: str, seed: int, calls: list[tuple[str, str, str, float, float]]) -> None:
        """calls: (call_id, agent extension, call type, talk seconds, agent quality)."""
        rnd = random.Random(f"{seed}:{day_label}:transcripts")
        buffer = io.StringIO()
        buffer.write("[")
        for n, (call_id, agent, call_type, talk_s, quality) in enumerate(calls):
            lang = self.lang if self.lang in ("ru", "en") else rnd.choice(("ru", "en"))
            script = self.generator.script_for(call_type)
            generated = self.generator.call(rnd, script.call_type, lang, talk_s, quality)
            record = {"call_id": call_id, "call_type": script.call_type, "lang": lang,
                      "utterances": generated.utterances}
            buffer.write(("," if n else "") + "\n" + json.dumps(record, ensure_ascii=False))
            self._truth.writerow([
                call_id, agent, script.call_type, lang, " ".join(generated.stages_done),
                " ".join(s.id for s in script.stages if s.required), "|".join(generated.forbidden_said),
                f"{generated.agent_speech_s:.2f}", f"{generated.customer_speech_s:.2f}", int(generated.noisy)])
        buffer.write("\n]\n")
        self.calls += len(calls)
        if calls:
            (self.out_dir / f"{FILE_PREFIX}{day_label}.json").write_text(buffer.getvalue(), encoding="utf-8")

    def close(self) -> None:
        self._truth_raw.close()
