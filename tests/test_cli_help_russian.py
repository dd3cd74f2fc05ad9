"""`callkpi --help` in Russian (issue 15, item 6): with `--lang ru` or a Russian locale the help of the
commands and options in callkpi.cli.help_text is Russian, and none of the English sentences of that
table (the catalogue's English side) is left in what is shown."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from callkpi.cli.app import app
from callkpi.cli.help_text import HELP_STRINGS
from callkpi.cli.index import COMMANDS

CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


def _help(*argv: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(app, [*argv, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1", **(env or {})})
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())  # as one line: the formatter wraps where it likes


def _sentences(english: str) -> list[str]:
    """The sentences (and list parts) of an English help text worth looking for: three words or more."""
    parts = re.split(r"(?<=[.;:!?])\s+|\n+", english)
    return [" ".join(part.split()) for part in parts if len(part.split()) >= 3]


def _english_left(shown: str, keys: list[str]) -> list[str]:
    return [sentence for key in keys for sentence in _sentences(HELP_STRINGS[key][0]) if sentence in shown]


def test_root_help_and_every_command_summary_are_russian() -> None:
    shown = _help("--lang", "ru")
    keys = [key for key in HELP_STRINGS if key.count(".") == 2 and not key.startswith("cli.help.kpi.")]
    assert not _english_left(shown, keys)
    untranslated = [name for name, (_, summary) in COMMANDS.items() if " ".join(summary.split()) in shown]
    assert not untranslated, untranslated
    assert "Показатели работы операторов" in shown


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_help_starts_in_russian(command: str) -> None:
    shown = _help("--lang", "ru", command)
    summary = " ".join(COMMANDS[command][1].split())
    assert summary not in shown, command
    assert CYRILLIC.search(shown), command


def test_kpi_help_is_russian_throughout() -> None:
    shown = _help("--lang", "ru", "kpi")
    keys = [key for key in HELP_STRINGS
            if key.startswith("cli.help.kpi") or key in ("cli.help.--db", "cli.help.--tz", "cli.help.--config",
                                                         "cli.help.--output", "cli.help.--help")]
    assert not _english_left(shown, keys)
    assert "первый день (местное время)" in shown


def test_english_help_stays_english_after_a_russian_one() -> None:
    _help("--lang", "ru", "kpi")  # the same process: the Russian must not stick
    for argv in ((), ("kpi",), ("ingest",)):
        shown = _help("--lang", "en", *argv)
        assert not CYRILLIC.search(shown), argv


def test_the_locale_chooses_the_language_of_the_help() -> None:
    done = subprocess.run([sys.executable, "-m", "callkpi", "kpi", "--help"], capture_output=True, text=True,
                          timeout=120, check=True, env={"LANG": "ru_RU.UTF-8", "COLUMNS": "100", "PATH": "",
                                                        "PYTHONPATH": ":".join(sys.path)})
    assert "Вывести показатели" in done.stdout
    listing = subprocess.run([sys.executable, "-m", "callkpi", "--help"], capture_output=True, text=True,
                             timeout=120, check=True, env={"CALLKPI_LANG": "ru", "COLUMNS": "100", "PATH": "",
                                                           "PYTHONPATH": ":".join(sys.path)})
    assert "Загрузить записи АТС" in listing.stdout
