"""`callkpi transcribe` plumbing with a fake engine (no speech-to-text package is installed here):
files written, their layout read back by the real importer, a failing recording reported, the rest
written, and a missing engine package or model said in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callkpi.cli import app
from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.speech.transcribe import EngineError, Heard, load_engine, transcribe_files
from callkpi.storage import Store


class FakeEngine:
    """Hears the same two-party dialogue in every recording; a file named bad* cannot be decoded."""

    def __init__(self, model: str) -> None:
        self.model = model

    def transcribe(self, path: Path, lang: str) -> list[Heard]:
        if path.name.startswith("bad"):
            raise ValueError("cannot decode audio\nsecond line not shown")
        return [Heard(1, 0.5, 3.0, "Здравствуйте, компания Ромашка, меня зовут Анна"),
                Heard(2, 3.4, 5.0, "добрый день, хочу оформить заказ"),
                Heard(1, 5.5, 8.0, "оформим заказ, спасибо за звонок")]


ENGINE = f"{__name__}:FakeEngine"


def _recordings(folder: Path) -> list[Path]:
    folder.mkdir()
    paths = [folder / "1772442000.15.wav", folder / "bad.wav", folder / "1772442100.16.wav"]
    for path in paths:
        path.write_bytes(b"RIFF")
    return paths


def test_fake_engine_writes_transcripts_the_importer_reads(tmp_path: Path) -> None:
    out = tmp_path / "out"
    outcome = transcribe_files(load_engine(ENGINE, "model"), _recordings(tmp_path / "rec"), "ru", out)
    assert [p.name for p in outcome.written] == ["1772442000.15.wav.json", "1772442100.16.wav.json"]
    assert [(p.name, r) for p, r in outcome.failed] == [("bad.wav", "ValueError: cannot decode audio")]
    record = json.loads(outcome.written[0].read_text(encoding="utf-8"))
    assert record["recording"] == "1772442000.15.wav" and len(record["utterances"]) == 3
    store = Store(":memory:")
    for path in outcome.written:
        report = load_file(store, path, Settings(), timezone="UTC")
        assert (report.format, report.lines_loaded, report.quarantined) == ("transcripts", 1, 0)
    speakers = store.connection.execute(
        "SELECT speaker, count(*) FROM utterances GROUP BY ALL ORDER BY 1").fetchall()
    assert speakers == [("agent", 4), ("customer", 2)]  # channel 1 is the agent's by default


def test_command_reports_failures_and_ingests(tmp_path: Path) -> None:
    recordings = _recordings(tmp_path / "rec")
    db = tmp_path / "c.duckdb"
    result = CliRunner().invoke(app, ["transcribe", *map(str, recordings), "--engine", ENGINE, "--model", "m",
                                      "--out", str(tmp_path / "out"), "--ingest", "--db", str(db)])
    assert result.exit_code == 1, result.output
    assert "bad.wav" in result.output and "2 transcript(s) written" in result.output
    assert Store(str(db)).connection.execute("SELECT count(*) FROM transcripts").fetchone() == (2,)


@pytest.mark.parametrize("engine", ["faster-whisper", "vosk"])
def test_a_missing_engine_package_is_one_line(engine: str, tmp_path: Path) -> None:
    with pytest.raises(EngineError, match=r"not installed|no .*model"):
        load_engine(engine, str(tmp_path / "none"))
    result = CliRunner().invoke(app, ["transcribe", str(tmp_path / "x.wav"), "--engine", engine,
                                      "--model", str(tmp_path / "none")])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(EngineError, match="unknown engine"):
        load_engine("whisperx", "m")
    with pytest.raises(EngineError, match=r"engine nosuch\.module:X"):
        load_engine("nosuch.module:X", "m")
