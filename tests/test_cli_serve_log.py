"""`callkpi --lang ru serve`: the server's own log lines (files loaded by --watch, failed reports,
alerts) are in the command's language, with the importer's error inside them translated too."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from callkpi.cli.command_words import COMMAND_STRINGS
from callkpi.cli.serve_cmd import in_the_commands_language
from callkpi.report import language

SOURCES = Path(__file__).resolve().parents[1] / "src" / "callkpi"
LOG_CALL = re.compile(r"\blog\.(?:info|warning|error|exception)\(\s*\"([^\"]+)\"")


@pytest.fixture
def russian():
    saved = language.language()
    language.set_language("ru")
    yield
    language.set_language(saved)


def _logged(msg: str, *args: object) -> str:
    record = logging.LogRecord("callkpi.web.watch", logging.INFO, __file__, 1, msg, args, None)
    assert in_the_commands_language(record)
    return record.getMessage()


def test_every_line_the_server_logs_has_its_russian() -> None:
    known = {english for key, (english, _) in COMMAND_STRINGS.items() if key.startswith("cli.serve.log.")}
    logged = {found for path in (*SOURCES.glob("web/**/*.py"), SOURCES / "cli" / "served.py")
              for found in LOG_CALL.findall(path.read_text(encoding="utf-8"))}
    assert "%s: %d new lines loaded, %d quarantined" in logged  # the pattern finds the calls
    assert logged - known == set()


def test_a_log_line_reads_in_russian(russian) -> None:
    line = _logged("%s: %d new lines loaded, %d quarantined", "/var/log/asterisk/queue_log", 12, 1)
    assert line == "/var/log/asterisk/queue_log: загружено новых строк: 12, в карантин: 1"
    assert _logged("something else %s", "x") == "something else x"  # a line it does not know stays


def test_english_stays_english() -> None:
    assert language.language() == "en"
    assert _logged("%s loads again", "queue_log") == "queue_log loads again"
