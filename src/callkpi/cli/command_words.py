"""What `callkpi copy`, `callkpi compact` and `callkpi scripts` say, in English and Russian (the other commands' words
are in :mod:`callkpi.cli.words`). ``say("cli.copy.done", rows=...)`` is the text in the command's
language; ``./dev i18n`` writes the table into the catalogues."""

from __future__ import annotations

from callkpi.report import language

COMMAND_STRINGS: dict[str, tuple[str, str]] = {
    # copy
    "cli.copy.same_store": ("--from and --to name the same store", "--from и --to указывают одно и то же хранилище"),
    "cli.copy.batch_rows": ("--batch-rows must be at least 1", "--batch-rows: нужно не меньше 1"),
    "cli.copy.table": ("  {name}: {rows}", "  {name}: {rows}"),
    "cli.copy.done": ("copied {rows} in {tables} from {origin} to {destination}",
                      "скопировано: {rows} в {tables} из {origin} в {destination}"),
    # compact
    "cli.compact.done": ("compacted {path}: {before} MiB -> {after} MiB",
                         "хранилище {path} сжато: {before} МиБ -> {after} МиБ"),
    "cli.compact.failed": ("the store was left as it was: {error}", "хранилище оставлено как было: {error}"),
    # scripts
    "cli.scripts.version": ("{call_type}: version {version}", "{call_type}: версия {version}"),
    "cli.scripts.no_file": ("{path}: no such file", "{path}: файл не найден"),
    "cli.scripts.no_transcript": ("no transcript of call {call_id}", "нет расшифровки звонка {call_id}"),
    "cli.scripts.summary": ("script {call_type}: done {done}; required, not done: {missed}; forbidden phrases: "
                            "{forbidden}",
                            "скрипт {call_type}: выполнено {done}; обязательные, не выполнены: {missed}; "
                            "запрещённых фраз: {forbidden}"),
}

COMMAND_PLURALS: dict[str, dict[str, tuple[str, ...]]] = {
    "cli.n_tables": {"en": ("{n} table", "{n} tables"), "ru": ("{n} таблице", "{n} таблицах", "{n} таблицах")},
}


def say(key: str, /, **fields: object) -> str:
    return language.say(COMMAND_STRINGS, key, **fields)


def counted(key: str, n: int) -> str:
    return language.count(COMMAND_PLURALS, key, n)
