"""A call transcript as utterances (speaker, start, end, text), read from the layouts call-recognition
services write: callkpi's own JSON, Yandex SpeechKit and Tinkoff VoiceKit results, WebVTT and SRT.

Speakers are ``agent`` or ``customer``. Services that split speakers by audio channel name the
channel; ``agent_channel`` says which one is the agent (stereo recordings of a PBX put the two
parties on their own channels, which one is which depends on the PBX). WebVTT voice tags
(``<v Agent>``) and SRT/VTT text prefixes (``Оператор:``, ``Agent:``, ``Клиент:``) name the speaker.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

AGENT, CUSTOMER = "agent", "customer"
SPEAKER_WORDS = {
    AGENT: ("agent", "operator", "manager", "оператор", "менеджер", "сотрудник", "агент", "спикер 1", "speaker 1"),
    CUSTOMER: ("customer", "client", "caller", "клиент", "абонент", "покупатель", "спикер 2", "speaker 2"),
}
MAX_UTTERANCES = 20_000
MAX_SECONDS = 86_400.0


class TranscriptError(ValueError):
    """A transcript that cannot be read; the message says where and why."""


@dataclass(frozen=True)
class Utterance:
    speaker: str
    start_s: float
    end_s: float
    text: str


@dataclass
class Transcript:
    """One call's transcript and what identifies its call (any of them may be missing)."""

    utterances: list[Utterance]
    call_id: str | None = None
    recording: str | None = None
    phone: str | None = None
    started: str | None = None  # ISO time as written
    call_type: str | None = None
    lang: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def speaker_of(label: str) -> str | None:
    lowered = label.strip().lower()
    for speaker, words in SPEAKER_WORDS.items():
        if lowered in words or any(lowered.startswith(w) for w in words):
            return speaker
    return None


def _seconds(value: object, what: str) -> float:
    """``12.5``, ``"12.5"``, ``"12.5s"`` (Google-style durations), ``"00:00:12,500"``."""
    if isinstance(value, bool) or value is None:
        raise TranscriptError(f"{what}: no time")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip().removesuffix("s")
        if ":" in text:
            seconds = _clock(text, what)
        else:
            try:
                seconds = float(text.replace(",", "."))
            except ValueError as exc:
                raise TranscriptError(f"{what}: {value!r} is not a time") from exc
    if not 0 <= seconds <= MAX_SECONDS or seconds != seconds:
        raise TranscriptError(f"{what}: {value!r} is outside 0 s .. 24 h")
    return seconds


def _clock(text: str, what: str) -> float:
    parts = text.replace(",", ".").split(":")
    try:
        numbers = [float(p) for p in parts]
    except ValueError as exc:
        raise TranscriptError(f"{what}: {text!r} is not a time") from exc
    if len(numbers) > 3:
        raise TranscriptError(f"{what}: {text!r} is not a time")
    total = 0.0
    for number in numbers:
        total = total * 60 + number
    return total


def _utterance(speaker: str | None, start: object, end: object, text: object, where: str) -> Utterance:
    if speaker not in (AGENT, CUSTOMER):
        raise TranscriptError(f"{where}: speaker is not the agent or the customer")
    first, last = _seconds(start, f"{where} start"), _seconds(end, f"{where} end")
    if last < first:
        raise TranscriptError(f"{where}: ends before it starts")
    return Utterance(speaker, first, last, str(text or "").strip())


def _checked(utterances: list[Utterance]) -> list[Utterance]:
    if len(utterances) > MAX_UTTERANCES:
        raise TranscriptError(f"more than {MAX_UTTERANCES:,} utterances")
    return sorted(utterances, key=lambda u: (u.start_s, u.end_s))


# -- JSON ------------------------------------------------------------------------------------


def parse_json(document: object, agent_channel: str) -> list[Transcript]:
    """callkpi's layout (one object or a list), a SpeechKit or a VoiceKit result."""
    if isinstance(document, Mapping) and "transcripts" in document:
        document = document["transcripts"]
    items = document if isinstance(document, list) else [document]
    return [_one_json(item, agent_channel, n) for n, item in enumerate(items, start=1)]


def _one_json(item: object, agent_channel: str, n: int) -> Transcript:
    if not isinstance(item, Mapping):
        raise TranscriptError(f"transcript {n}: not an object")
    meta = {k: item.get(k) for k in ("call_id", "recording", "phone", "started", "call_type", "lang")}
    meta = {k: (str(v).strip() or None) if v is not None else None for k, v in meta.items()}
    if "utterances" in item:
        utterances = _callkpi_layout(item["utterances"], agent_channel, n)
    elif "result" in item or "response" in item or "chunks" in item:
        utterances = _speechkit(item, agent_channel, n)
    elif "results" in item:
        utterances = _voicekit(item["results"], agent_channel, n)
    else:
        raise TranscriptError(f"transcript {n}: no utterances, chunks or results")
    return Transcript(_checked(utterances), **meta)


def _listed(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise TranscriptError(f"{what} is not a list")
    return value


def _speaker_field(entry: Mapping[str, Any], agent_channel: str) -> str | None:
    if entry.get("speaker") is not None:
        return speaker_of(str(entry["speaker"]))
    for key in ("channel", "channelTag", "channel_tag"):
        if entry.get(key) is not None:
            return AGENT if str(entry[key]) == agent_channel else CUSTOMER
    return None


def _callkpi_layout(utterances: object, agent_channel: str, n: int) -> list[Utterance]:
    found = []
    for i, entry in enumerate(_listed(utterances, f"transcript {n} utterances"), start=1):
        where = f"transcript {n} utterance {i}"
        if not isinstance(entry, Mapping):
            raise TranscriptError(f"{where}: not an object")
        found.append(_utterance(_speaker_field(entry, agent_channel), entry.get("start"), entry.get("end"),
                                entry.get("text"), where))
    return found


def _speechkit(item: Mapping[str, Any], agent_channel: str, n: int) -> list[Utterance]:
    """SpeechKit long audio recognition: ``response.chunks`` (v2) or ``result.chunks``; each chunk has
    ``channelTag`` and ``alternatives[0]`` with ``text`` and word times (``startTime``/``endTime``)."""
    body = item.get("response") or item.get("result") or item
    chunks = body.get("chunks") if isinstance(body, Mapping) else None
    found = []
    for i, chunk in enumerate(_listed(chunks, f"transcript {n} chunks"), start=1):
        where = f"transcript {n} chunk {i}"
        if not isinstance(chunk, Mapping) or not chunk.get("alternatives"):
            raise TranscriptError(f"{where}: no alternatives")
        best = _listed(chunk["alternatives"], f"{where} alternatives")[0]
        if not isinstance(best, Mapping):
            raise TranscriptError(f"{where}: not an object")
        words = best.get("words") or []
        start = best.get("startTime", words[0].get("startTime") if words else None)
        end = best.get("endTime", words[-1].get("endTime") if words else None)
        found.append(_utterance(_speaker_field(chunk, agent_channel), start, end, best.get("text"), where))
    return found


def _voicekit(results: object, agent_channel: str, n: int) -> list[Utterance]:
    """VoiceKit recognition: ``results[]`` with ``channel``, ``start_time``, ``end_time`` and
    ``alternatives[0].transcript``."""
    found = []
    for i, entry in enumerate(_listed(results, f"transcript {n} results"), start=1):
        where = f"transcript {n} result {i}"
        if not isinstance(entry, Mapping) or not entry.get("alternatives"):
            raise TranscriptError(f"{where}: no alternatives")
        best = _listed(entry["alternatives"], f"{where} alternatives")[0]
        text = best.get("transcript") if isinstance(best, Mapping) else None
        found.append(_utterance(_speaker_field(entry, agent_channel), entry.get("start_time"),
                                entry.get("end_time"), text, where))
    return found


# -- WebVTT and SRT --------------------------------------------------------------------------

_CUE_TIME = re.compile(r"^\s*(\S+)\s+-->\s+(\S+)")
_VOICE = re.compile(r"^<v(?:\.[^ >]*)?\s+([^>]+)>(.*)$", re.S)
_PREFIX = re.compile(r"^\s*([^:]{1,30}):\s*(.+)$", re.S)


def parse_cues(text: str) -> list[Utterance]:
    """WebVTT or SRT cues; the speaker from a ``<v Name>`` tag or a ``Name:`` prefix of the cue text."""
    found = []
    for n, block in enumerate(re.split(r"\r?\n\s*\r?\n", text.strip()), start=1):
        lines = [line for line in block.splitlines() if line.strip()]
        timing = next((i for i, line in enumerate(lines) if _CUE_TIME.match(line)), None)
        if timing is None:
            if n == 1 and lines and lines[0].startswith("WEBVTT"):
                continue
            if lines and lines[0].strip().upper().startswith(("NOTE", "STYLE", "REGION")):
                continue
            raise TranscriptError(f"cue {n}: no 'start --> end' line")
        match = _CUE_TIME.match(lines[timing])
        assert match is not None
        body = " ".join(lines[timing + 1:]).strip()
        speaker, words = _cue_speaker(body)
        found.append(_utterance(speaker, match.group(1), match.group(2), words, f"cue {n}"))
    return _checked(found)


def _cue_speaker(body: str) -> tuple[str | None, str]:
    for pattern in (_VOICE, _PREFIX):
        match = pattern.match(body)
        if match and speaker_of(match.group(1)):
            return speaker_of(match.group(1)), re.sub(r"</v>", "", match.group(2)).strip()
    return None, body


def parse_text(text: str, agent_channel: str) -> list[Transcript]:
    """Any supported layout from its text: JSON, or WebVTT/SRT cues."""
    stripped = text.lstrip("\ufeff").lstrip()
    if stripped.startswith(("{", "[")):
        try:
            document = json.loads(stripped)
        except (ValueError, RecursionError) as exc:
            raise TranscriptError(f"not valid JSON: {exc}") from exc
        return parse_json(document, agent_channel)
    return [Transcript(parse_cues(stripped))]


def looks_like_transcript(head: bytes) -> bool:
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if text.startswith("WEBVTT"):
        return True
    if re.match(r"^\d+\s*\r?\n\s*\d\d:\d\d:\d\d[,.]\d{1,3}\s+-->", text):
        return True
    if text.startswith(("{", "[")):
        return any(marker in text for marker in ('"utterances"', '"channelTag"', '"alternatives"'))
    return False


def spoken(utterances: Iterable[Utterance], speaker: str) -> list[tuple[float, float]]:
    return [(u.start_s, u.end_s) for u in utterances if u.speaker == speaker]
