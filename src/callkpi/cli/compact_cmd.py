"""`callkpi compact`: rewrite the store into a fresh file (the space of deleted and replaced rows back)."""

from __future__ import annotations

from pathlib import Path

from callkpi.cli.app import app
from callkpi.cli.command_words import say
from callkpi.cli.common import DbOption, console, existing_db, fail
from callkpi.cli.served import holding_server, locked_message


@app.command()
def compact(db: Path | None = DbOption) -> None:
    """Rewrite the store into a new file with only its live rows and the raw events in the order that
    compresses best, then put it in the old file's place (the file never shrinks by itself).

    Needs as much free disk as the store takes, and the store closed elsewhere (stop `callkpi serve`)."""
    from callkpi.storage.compact import CompactFailed, compact_store
    from callkpi.storage.store import StoreLocked

    path = existing_db(db)
    try:
        report = compact_store(path)
    except StoreLocked as locked:
        fail(locked_message(locked, holding_server(locked)))
        raise
    except CompactFailed as exc:
        fail(say("cli.compact.failed", error=str(exc)))
        raise
    console.print(say("cli.compact.done", path=report.path, before=_mb(report.bytes_before),
                      after=_mb(report.bytes_after)), markup=False)


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f}"
