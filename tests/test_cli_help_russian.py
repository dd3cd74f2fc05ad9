"""`callkpi --help` in Russian (issue 15, items 3 and 6): with `--lang ru` or a Russian locale the help of
every command, subcommand, option and argument is Russian (callkpi.cli.help_text and its help_strings_*
tables), and so are Click's own words (callkpi.cli.click_words): no word of the English side of those
tables (the catalogue's) is left in what is shown, none of Typer's `<str>`/`<bool>` type noise in either
language, and a usage error reads in Russian. The English help stays as it was."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from callkpi.cli import _register_commands
from callkpi.cli.app import app
from callkpi.cli.click_words import CLICK_STRINGS
from callkpi.cli.help_text import HELP_STRINGS, help_strings
from callkpi.cli.index import COMMANDS
from test_i18n import ALLOWED, LATIN_WORD, _ids

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
    return [sentence for key in keys for sentence in _sentences(help_strings()[key][0]) if sentence in shown]


def test_root_help_and_every_command_summary_are_russian() -> None:
    shown = _help("--lang", "ru")
    keys = [key for key in HELP_STRINGS if key.startswith("cli.help.--") or key == "cli.help.callkpi"]
    assert not _english_left(shown, [key for key in keys if key != "cli.help.--help"] + ["cli.help.--help"])
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


# -- every command and subcommand, whole ----------------------------------------------------------

# names of programs, formats and engines: the same words in Russian text
PRODUCT_NAMES = {"duckdb", "clickhouse", "arrow", "erlang", "argon", "whisper", "vosk", "cron", "cookie", "cookies",
                 "bearer", "authorization", "rest", "tcp", "tls", "wav", "toml", "yaml", "en", "ru", "lang", "sql",
                 "eu", "mysql", "postgresql"}
NOT_PROSE = [
    re.compile(r"`[^`]*`"),  # what a user types: values, commands
    re.compile(r"--[a-z][a-z-]*"),  # options
    re.compile(r"\S*(?:://|/|\$|=)\S*"),  # addresses, paths, $VARIABLES, NAME=VALUE
    re.compile(r"\[(?:по умолчанию|default): [^\]]*\]"),  # a default value is data
]


def _tree() -> list[tuple[str, ...]]:
    import typer.main

    _register_commands()
    paths: list[tuple[str, ...]] = []

    def walk(command, path: tuple[str, ...]) -> None:
        paths.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            if not getattr(sub, "hidden", False):
                walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return paths


def _command(path: tuple[str, ...]):
    import typer.main

    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    return command


def _prose(text: str, names: set[str]) -> list[str]:
    """The words of ``text`` that are prose: not ids, options, values, names of commands or programs."""
    for pattern in NOT_PROSE:
        text = pattern.sub(" ", text)
    return [word for word in LATIN_WORD.findall(text)
            if not word.isupper() and word.lower() not in ALLOWED | PRODUCT_NAMES | _ids() | names]


def _english_texts(path: tuple[str, ...]) -> list[str]:
    """The English help of the command at ``path``: its own and its options' and arguments'."""
    from typer import Context

    command = _command(path)
    help_option = command.get_help_option(Context(command))
    params = [p for p in [*command.params, help_option] if p is not None and not getattr(p, "hidden", False)]
    english = getattr(command, "_english_help", None)
    if english is not None:  # a Russian run changed the help in place; the English is kept beside it
        return [english[0] or "", *(english[2].get(id(p)) or "" for p in params)]
    return [command.help or "", *(getattr(p, "help", None) or "" for p in params)]


PATHS = _tree()


@pytest.mark.parametrize("path", PATHS, ids=lambda path: " ".join(path) or "callkpi")
def test_every_help_text_has_its_russian(path: tuple[str, ...]) -> None:
    """A command, option or argument added with an English help and no Russian fails here (add it to
    the help_strings_* table of its group, then run ./dev i18n)."""
    english = [text for text in _english_texts(path) if text]
    known = {pair[0] for pair in help_strings().values()}
    assert [text for text in english if text not in known] == []


@pytest.mark.parametrize("path", PATHS, ids=lambda path: " ".join(path) or "callkpi")
def test_russian_help_has_no_english_word_of_its_english_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, ["--lang", "ru", *path, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    names = {name.lower() for p in PATHS for name in p}  # the usage line and the list of subcommands name them
    english = set()
    for text in [*_english_texts(path), *(en for en, _ in CLICK_STRINGS.values())]:
        english |= {word.lower() for word in _prose(text, names)}
    shown = " ".join(result.stdout.split())
    left = sorted({word for word in _prose(shown, names) if word.lower() in english})
    assert not left, (left, result.stdout)
    for word in ("Usage", "Options", "Arguments", "Commands", "required", "default"):
        assert word not in shown, word
    assert CYRILLIC.search(shown)


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("path", [p for p in PATHS if len(p) >= 1], ids=lambda path: " ".join(path))
def test_help_has_no_type_noise(path: tuple[str, ...], lang: str) -> None:
    result = CliRunner().invoke(app, ["--lang", lang, *path, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    for noise in ("<str>", "<bool>", "<int>", "<float>", "<path>", "list[", "TEXT <", "TEXT…}"):
        assert noise not in result.stdout, (noise, result.stdout)


def test_an_argument_is_shown_by_its_name() -> None:
    english = _help("user", "add")
    assert "Usage: callkpi user add [OPTIONS] {NAME}" in english and "Arguments: NAME user name [required]" in english
    russian = _help("--lang", "ru", "user", "add")
    assert "Использование: callkpi user add [ПАРАМЕТРЫ] {ИМЯ}" in russian
    assert "Аргументы: ИМЯ имя пользователя [обязательный]" in russian
    assert "--role ТЕКСТ" in russian


# -- Click's usage errors -----------------------------------------------------------------------


def _error(*argv: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(argv), env={"COLUMNS": "100"})
    return result.exit_code, result.output


def test_a_usage_error_reads_in_russian() -> None:
    code, said = _error("--lang", "ru", "qa", "bogus")
    assert code == 2
    assert said == ("Использование: callkpi qa [ПАРАМЕТРЫ] КОМАНДА [АРГУМЕНТЫ]...\n"
                    "Справка по команде: callkpi qa --help\n\n"
                    "Ошибка: Нет такой команды: 'bogus'.\n")
    code, said = _error("--lang", "ru", "user", "add", "anna")
    assert code == 2 and "Ошибка: Не указан параметр '--role'." in said, said
    code, said = _error("--lang", "ru", "kpi", "--interval-minutes", "abc")
    assert code == 2 and "Ошибка: Недопустимое значение '--interval-minutes': нужно целое число" in said, said
    code, said = _error("--lang", "ru", "qaa")
    assert code == 2 and "Ошибка: Нет такой команды: 'qaa'. Может быть, 'qa'?" in said, said
    code, said = _error("--lang", "ru", "kpi", "--bogus")
    assert code == 2 and "Ошибка: Нет такого параметра: --bogus" in said, said
    code, said = _error("--lang", "ru", "user", "add", "anna", "--role")
    assert code == 2 and said == "Ошибка: Параметру '--role' нужно значение.\n", said
    code, said = _error("--lang", "ru", "--verison")  # before --lang is read
    assert code == 2 and "Ошибка: Нет такого параметра: --verison" in said, said


def test_a_usage_error_in_english_is_clicks_own() -> None:
    _error("--lang", "ru", "qa", "bogus")  # the same process: the Russian must not stick
    code, said = _error("qa", "bogus")
    assert code == 2
    assert said == ("Usage: callkpi qa [OPTIONS] COMMAND [ARGS]...\n"
                    "Try 'callkpi qa --help' for help.\n\n"
                    "Error: No such command 'bogus'.\n")
    code, said = _error("--lang", "en", "user", "add", "anna")
    assert code == 2 and said.endswith("Error: Missing option '--role'.\n"), said


def test_the_locale_makes_a_usage_error_russian() -> None:
    done = subprocess.run([sys.executable, "-m", "callkpi", "qa", "bogus"], capture_output=True, text=True,
                          timeout=120, check=False, env={"LANG": "ru_RU.UTF-8", "COLUMNS": "100", "PATH": "",
                                                         "PYTHONPATH": ":".join(sys.path)})
    assert done.returncode == 2
    assert "Ошибка: Нет такой команды: 'bogus'." in done.stderr, done.stderr
    typed = subprocess.run([sys.executable, "-m", "callkpi", "--lang", "en", "--verison"], capture_output=True,
                           text=True, timeout=120, check=False, env={"LANG": "ru_RU.UTF-8", "COLUMNS": "100",
                                                                     "PATH": "", "PYTHONPATH": ":".join(sys.path)})
    assert typed.stderr.startswith("Usage: callkpi [OPTIONS]") and "Error: No such option: --verison" in typed.stderr


def test_click_message_templates_translate_what_they_wrap() -> None:
    from callkpi.cli.click_words import message

    assert message("Invalid value for '--x': 'abc' is not a valid integer.") == \
        "Недопустимое значение '--x': 'abc' — не целое число."
    assert message("No such option: --limt (Possible options: --limit)") == \
        "Нет такого параметра: --limt (похожие параметры: --limit)"
    assert message("Invalid value for '--db': File 'x' does not exist.") == \
        "Недопустимое значение '--db': Файл 'x' не существует."
    assert message("the store is locked") == "the store is locked"  # not Click's: left as it is


def test_english_help_is_back_after_a_russian_one_for_every_word() -> None:
    _help("--lang", "ru", "user", "add")
    _help("--lang", "ru", "schedule")
    english = _help("--lang", "en", "user", "add")
    assert "Usage: callkpi user add [OPTIONS] {NAME}" in english and "--role TEXT" in english
    assert "Options:" in english and "[required]" in english and not CYRILLIC.search(english)
    assert "Commands: add Add a scheduled report" in _help("--lang", "en", "schedule")


RUSSIAN_MODULES = ("callkpi.cli.help_text", "callkpi.cli.click_words", "callkpi.cli.help_strings_data",
                   "callkpi.cli.help_strings_business", "callkpi.cli.help_strings_quality",
                   "callkpi.cli.help_strings_web")


def test_english_help_reads_no_russian_table() -> None:
    from test_cli_startup import _modules_after

    assert not [m for m in RUSSIAN_MODULES if m in _modules_after("--help")]
    assert not [m for m in RUSSIAN_MODULES if m in _modules_after("qa", "bogus")]
    assert set(RUSSIAN_MODULES) <= _modules_after("--lang", "ru", "--help")
