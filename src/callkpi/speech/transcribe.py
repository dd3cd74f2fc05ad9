"""Local speech-to-text of call recordings into the callkpi transcript JSON layout (docs/speech.md).

An engine turns one audio file into utterances (channel or speaker, start, end, text). The engine is
named on the command line: ``faster-whisper`` or ``vosk`` (packages the user installs, with a model
the user downloaded: nothing is downloaded here), or ``module:Class`` for any other object with the
same method. Engine packages are imported only when chosen. A stereo WAV recording is split into its
channels, one party each (``[transcripts] agent_channel`` names the agent's, counted from 1).
"""

from __future__ import annotations

import importlib
import json
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


class EngineError(RuntimeError):
    """An engine that cannot run (package or model missing); the message is one line for the user."""


@dataclass(frozen=True)
class Heard:
    channel: int | None  # 1-based audio channel, or None when ``speaker`` says who spoke
    start_s: float
    end_s: float
    text: str
    speaker: str | None = None


class Engine(Protocol):
    def transcribe(self, path: Path, lang: str) -> Sequence[Heard]: ...


def _channels(path: Path) -> tuple[int, list[bytes]]:
    """(sample rate, 16-bit PCM of each channel) of a WAV file."""
    with wave.open(str(path), "rb") as audio:
        rate, width, count = audio.getframerate(), audio.getsampwidth(), audio.getnchannels()
        frames = audio.readframes(audio.getnframes())
    if width != 2:
        raise EngineError(f"{path.name}: 16-bit PCM WAV expected")
    step = width * count
    return rate, [b"".join(frames[i + c * width:i + (c + 1) * width] for i in range(0, len(frames), step))
                  for c in range(count)]


class FasterWhisper:
    """faster-whisper (CTranslate2 Whisper); ``model`` is the folder of a converted model."""

    def __init__(self, model: str) -> None:
        try:
            from faster_whisper import WhisperModel  # type: ignore[import-not-found]
        except ImportError as exc:
            raise EngineError("faster-whisper is not installed: pip install faster-whisper") from exc
        if not Path(model).exists():
            raise EngineError(f"no faster-whisper model at {model} (give the folder of a downloaded model)")
        self.model = WhisperModel(model, device="cpu", local_files_only=True)

    def transcribe(self, path: Path, lang: str) -> list[Heard]:
        import numpy as np

        rate, channels = _channels(path)
        if rate != 16000:
            raise EngineError(f"{path.name}: faster-whisper here expects 16 kHz WAV")
        heard = []
        for number, pcm in enumerate(channels, start=1):
            audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
            segments, _ = self.model.transcribe(audio, language=lang)
            heard += [Heard(number, float(s.start), float(s.end), s.text.strip()) for s in segments]
        return heard


class Vosk:
    """Vosk (Kaldi); ``model`` is the folder of an unpacked Vosk model."""

    def __init__(self, model: str) -> None:
        try:
            import vosk  # type: ignore[import-not-found]
        except ImportError as exc:
            raise EngineError("vosk is not installed: pip install vosk") from exc
        if not Path(model).is_dir():
            raise EngineError(f"no Vosk model folder at {model} (give the folder of an unpacked model)")
        self.vosk = vosk
        self.model = vosk.Model(model)

    def transcribe(self, path: Path, lang: str) -> list[Heard]:
        rate, channels = _channels(path)
        heard = []
        for number, pcm in enumerate(channels, start=1):
            recogniser = self.vosk.KaldiRecognizer(self.model, rate)
            recogniser.SetWords(True)
            results = []
            for at in range(0, len(pcm), 8000):
                if recogniser.AcceptWaveform(pcm[at:at + 8000]):
                    results.append(json.loads(recogniser.Result()))
            results.append(json.loads(recogniser.FinalResult()))
            for result in results:
                words = result.get("result") or []
                if words and result.get("text"):
                    heard.append(Heard(number, float(words[0]["start"]), float(words[-1]["end"]), result["text"]))
        return heard


BUILT_IN = {"faster-whisper": FasterWhisper, "vosk": Vosk}


def load_engine(spec: str, model: str) -> Engine:
    """The engine named ``spec`` (a built-in name or ``module:Class``) made with the model path."""
    if spec in BUILT_IN:
        return BUILT_IN[spec](model)  # type: ignore[no-any-return]
    module_name, _, class_name = spec.partition(":")
    if not module_name or not class_name:
        raise EngineError(f"unknown engine {spec!r}: faster-whisper, vosk or module:Class")
    try:
        factory: Any = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise EngineError(f"engine {spec}: {exc}") from exc
    return factory(model)  # type: ignore[no-any-return]


def transcript_record(recording: Path, heard: Sequence[Heard], lang: str) -> dict[str, Any]:
    """One transcript in the callkpi JSON layout; the importer matches it to its call by the file name."""
    utterances = []
    for h in sorted(heard, key=lambda x: (x.start_s, x.end_s)):
        if not h.text.strip():
            continue
        who: dict[str, Any] = {"speaker": h.speaker} if h.speaker else {"channel": h.channel}
        utterances.append({**who, "start": round(h.start_s, 2), "end": round(h.end_s, 2), "text": h.text.strip()})
    return {"recording": recording.name, "lang": lang, "utterances": utterances}


@dataclass
class Outcome:
    written: list[Path]
    failed: list[tuple[Path, str]]


def transcribe_files(engine: Engine, recordings: Sequence[Path], lang: str, out_dir: Path) -> Outcome:
    """Each recording to OUT/<recording name>.json; a recording that fails is reported and skipped."""
    out_dir.mkdir(parents=True, exist_ok=True)
    outcome = Outcome([], [])
    for recording in recordings:
        try:
            record = transcript_record(recording, engine.transcribe(recording, lang), lang)
        except Exception as exc:  # one bad recording must not stop the others
            outcome.failed.append((recording, f"{type(exc).__name__}: {exc}".splitlines()[0]))
            continue
        if not record["utterances"]:
            outcome.failed.append((recording, "no speech recognised"))
            continue
        target = out_dir / f"{recording.name}.json"
        target.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
        outcome.written.append(target)
    return outcome
