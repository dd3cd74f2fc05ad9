"""`callkpi copy` and `callkpi scripts` in Russian (issue 15, item 6), like tests/test_cli_russian.py:
the messages come from callkpi.cli.command_words and carry none of its English words."""

from __future__ import annotations

import re

import pytest

from callkpi.cli.command_words import COMMAND_PLURALS, COMMAND_STRINGS
from conftest import Cli, scenario_text, write_log
from test_i18n import ALLOWED, LATIN_WORD


def _english(text: str) -> set[str]:
    english = {w.lower() for en, _ in COMMAND_STRINGS.values() for w in re.findall(r"[A-Za-z]{2,}", en)}
    english |= {w.lower() for forms in COMMAND_PLURALS.values() for f in forms["en"]
                for w in re.findall(r"[A-Za-z]{2,}", f)}
    text = re.sub(r"--[a-z-]+", " ", text)
    text = re.sub(r"^  \w+:", " ", text, flags=re.M)  # a table's name heads its line: an id, not a word
    return {w for w in LATIN_WORD.findall(text) if w.lower() in english - ALLOWED}


@pytest.fixture(scope="module")
def cli(tmp_path_factory) -> Cli:
    return Cli(tmp_path_factory.mktemp("config") / "no-such-callkpi.toml")


@pytest.fixture(scope="module")
def store(tmp_path_factory, cli):
    folder = tmp_path_factory.mktemp("more")
    path = folder / "m.duckdb"
    log = write_log(folder, scenario_text("answered.queue_log"), "answered.queue_log")
    assert cli("ingest", "--db", path, "--tz", "UTC", log).exit_code == 0
    return path


def test_copy_says_what_it_copied_in_russian(cli, store, tmp_path) -> None:
    result = cli("--lang", "ru", "copy", "--from", store, "--to", tmp_path / "copy.duckdb")
    assert result.exit_code == 0, result.output
    found = re.search(r"скопировано: ([\d\u00a0 ]+) строк\w* в (\d+) таблиц\w+ из ", result.stdout)
    assert found, result.stdout
    per_table = [int(re.sub(r"\D", "", m)) for m in re.findall(r"^  \w+: ([\d\u00a0 ]+) строк", result.stderr, re.M)]
    assert per_table and sum(per_table) == int(re.sub(r"\D", "", found[1]))  # the total is the tables' sum
    assert not _english(result.stdout + result.stderr), result.output


def test_copy_and_scripts_refusals_in_russian(cli, store) -> None:
    same = cli("--lang", "ru", "copy", "--from", store, "--to", store)
    assert same.exit_code == 2 and "одно и то же хранилище" in same.stderr
    missing = cli("--lang", "ru", "scripts", "show", "no-such-call", "--db", store)
    assert missing.exit_code == 2 and "нет расшифровки звонка no-such-call" in missing.stderr
    for text in (same.stderr, missing.stderr):
        assert not _english(text), text


def test_the_same_in_english(cli, store) -> None:
    same = cli("--lang", "en", "copy", "--from", store, "--to", store)
    assert "--from and --to name the same store" in same.stderr
