"""`callkpi user add` / `user passwd`: the password is asked for twice without echo, in the
command's language, or read from standard input (--password-stdin), never needed on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from callkpi.cli import _register_commands
from callkpi.cli.app import app
from callkpi.storage import Store
from callkpi.web.auth import authenticate


@pytest.fixture
def run(tmp_path: Path):
    _register_commands()
    env = {"COLUMNS": "200", "NO_COLOR": "1", "CALLKPI_LANG": "en",
           "CALLKPI_CONFIG": str(tmp_path / "no-such-callkpi.toml")}

    def invoke(*args: str, given: str = ""):
        return CliRunner().invoke(app, list(args), input=given, env=env, catch_exceptions=False)
    return invoke


def _signs_in(db: Path, name: str, password: str) -> bool:
    with Store(db, read_only=True) as store:
        return authenticate(store, name, password) is not None


def test_the_password_comes_from_standard_input(run, tmp_path: Path) -> None:
    db = tmp_path / "u.duckdb"
    added = run("user", "add", "bob", "--role", "admin", "--password-stdin", "--db", str(db),
                given="correct horse battery\n")
    assert added.exit_code == 0, added.output
    assert "correct horse battery" not in added.output
    assert _signs_in(db, "bob", "correct horse battery")
    changed = run("user", "passwd", "bob", "--password-stdin", "--db", str(db), given="another long one\n")
    assert changed.exit_code == 0, changed.output
    assert _signs_in(db, "bob", "another long one") and not _signs_in(db, "bob", "correct horse battery")
    empty = run("user", "add", "eve", "--role", "admin", "--password-stdin", "--db", str(db), given="")
    assert empty.exit_code == 2 and "standard input has no password" in empty.output


def test_the_prompt_asks_twice_in_russian_and_refuses_two_different_answers(run, tmp_path: Path) -> None:
    db = tmp_path / "u.duckdb"
    differ = run("--lang", "ru", "user", "add", "bob", "--role", "admin", "--db", str(db),
                 given="correct horse battery\ncorrect horse batterx\n")
    assert differ.exit_code == 2
    assert "пароль ещё раз" in differ.output and "пароли не совпали" in differ.output
    assert "Repeat" not in differ.output and "do not match" not in differ.output
    same = run("--lang", "ru", "user", "add", "bob", "--role", "admin", "--db", str(db),
               given="correct horse battery\ncorrect horse battery\n")
    assert same.exit_code == 0, same.output
    assert "correct horse battery" not in same.output  # not echoed
    assert _signs_in(db, "bob", "correct horse battery")
