"""`callkpi transcribe`: call recordings to transcripts with a local speech-to-text engine the user
installed (docs/speech.md); nothing is downloaded."""

from __future__ import annotations

from pathlib import Path

import typer

from callkpi.cli.app import app
from callkpi.cli.command_words import counted, say
from callkpi.cli.common import ConfigOption, DbOption, console, err_console, fail, settings_for
from callkpi.cli.words import known_message
from callkpi.report import language
from callkpi.speech.transcribe import EngineError, load_engine, transcribe_files


@app.command()
def transcribe(
    recordings: list[Path] = typer.Argument(..., help="recording files (16-bit WAV; stereo: one party a channel)"),
    engine: str = typer.Option(..., "--engine", help="faster-whisper, vosk, or module:Class of your own engine"),
    model: str = typer.Option(..., "--model", help="path of the engine's model (downloaded by you)"),
    lang: str = typer.Option("ru", "--lang", help="language spoken: ru or en"),
    out: Path = typer.Option(Path("transcripts"), "--out", help="folder for the transcripts (RECORDING.json)"),
    ingest: bool = typer.Option(False, "--ingest", help="load the transcripts written into --db afterwards"),
    db: Path | None = DbOption,
    config: Path | None = ConfigOption,
) -> None:
    """Transcribe call recordings into the callkpi transcript layout.

    A recording that fails is reported and the others go on. Exit status: 0 all written, 1 some
    recordings failed, 2 the engine cannot run."""
    settings_for(config)
    if lang not in ("ru", "en"):
        fail(say("cli.transcribe.bad_lang", value=lang))
    try:
        chosen = load_engine(engine, model)
    except EngineError as exc:
        fail(known_message(str(exc)))
        raise
    outcome = transcribe_files(chosen, list(recordings), lang, out)
    for path, reason in outcome.failed:
        err_console.print(f"{path}: {known_message(str(reason))}", markup=False)
    if language.russian():
        written, failed = counted("cli.n_transcripts", len(outcome.written)), counted("cli.n_recordings",
                                                                                      len(outcome.failed))
    else:
        written, failed = f"{len(outcome.written)} transcript(s)", f"{len(outcome.failed)} recording(s)"
    console.print(say("cli.transcribe.done", written=written, out=out, failed=failed), markup=False)
    status = 1 if outcome.failed else 0
    if ingest and outcome.written:
        from callkpi.cli.ingest_cmd import ingest as ingest_files

        try:
            ingest_files(paths=[str(p) for p in outcome.written], db=str(db) if db else None, tz=None,
                         file_tz=None, fmt="transcripts", mapping=None, config=config)
        except typer.Exit as done:
            status = max(status, done.exit_code)
    raise typer.Exit(status)
