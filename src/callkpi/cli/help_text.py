"""`callkpi --help` in Russian: the help texts of commands, subcommands, options and arguments.

``cli.help.<command>`` is a command's whole help (its first paragraph is the line `callkpi --help`
lists; ``qa sample`` for a subcommand), ``cli.help.<command>.<option>`` an option's or argument's
help and ``cli.help.<option>`` the help of an option several commands share; an English help
several options share is written once, under the first of them. The English side is the help text
as the code writes it (reflowed): a translation is shown only while its English is still the
command's, so a changed English help is never shown with a stale Russian one. This module holds
the root's, the shared options' and `kpi`'s; ``help_strings_*`` one group of commands each;
:mod:`callkpi.cli.click_words` Typer's and Click's own words. ``./dev i18n`` writes the tables into
the catalogues.

The tables are read only when the language is Russian: English help imports none of them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

HELP_STRINGS: dict[str, tuple[str, str]] = {
    # the root command and its options
    "cli.help.callkpi": ("Phone-team KPIs from Asterisk, FreeSWITCH, cloud-PBX and CRM records.",
                         "Показатели работы операторов по записям Asterisk, FreeSWITCH, облачных АТС и CRM."),
    "cli.help.--version": ("print the version and exit", "показать версию и выйти"),
    "cli.help.--lang": (
        "language of the output: en or ru (default: the locale, so LANG=ru_RU.UTF-8 gives ru; CALLKPI_LANG "
        "overrides the locale)",
        "язык вывода: `en` или `ru` (по умолчанию — язык системы: при LANG=ru_RU.UTF-8 — ru; CALLKPI_LANG важнее "
        "языка системы)",
    ),
    "cli.help.--install-completion": ("Install completion for the current shell.",
                                      "Установить автодополнение для текущей оболочки."),
    "cli.help.--show-completion": (
        "Show completion for the current shell, to copy it or customize the installation.",
        "Показать скрипт автодополнения для текущей оболочки, чтобы скопировать его или настроить установку.",
    ),
    "cli.help.--help": ("Show this message and exit.", "Показать эту справку и выйти."),
    # options several commands share
    "cli.help.--db": (
        "database file, or a ClickHouse store: chdb:///path/to/dir (in-process) or "
        "clickhouse://user:password@host:8123/db (default: $CALLKPI_DB or ./callkpi.duckdb)",
        "файл базы данных или хранилище ClickHouse: chdb:///path/to/dir (в процессе) или "
        "clickhouse://user:password@host:8123/db (по умолчанию: $CALLKPI_DB или ./callkpi.duckdb)",
    ),
    "cli.help.--tz": ("business time zone, e.g. Europe/Moscow (default: settings)",
                      "часовой пояс работы центра, например Europe/Moscow (по умолчанию — из настроек)"),
    "cli.help.--config": ("settings file (default: $CALLKPI_CONFIG or ./callkpi.toml)",
                          "файл настроек (по умолчанию: $CALLKPI_CONFIG или ./callkpi.toml)"),
    "cli.help.--output": ("write to this file", "записать в этот файл"),
    # kpi, whole
    "cli.help.kpi": (
        "Print KPIs. Rates are fractions in JSON/CSV/TSV, durations seconds, null where undefined.\n\n"
        "A table reads rates as percent and durations as h:mm:ss; without --by it has one row per metric, with "
        "--by a default set of metrics (--metrics chooses, --metrics all shows every one).",
        "Вывести показатели. В JSON/CSV/TSV доли — дробями, длительности — в секундах, null там, где показатель "
        "не определён.\n\n"
        "В таблице доли — в процентах, длительности — как ч:мм:сс; без --by в ней строка на каждый показатель, "
        "с --by — набор показателей по умолчанию (--metrics выбирает, --metrics `all` показывает все).",
    ),
    "cli.help.kpi.--by": (
        "dimensions, comma separated: agent, team, queue, campaign, direction, source, did, trunk, pause_reason, "
        "hour, day, week, month, interval, weekday, time_of_day",
        "разрезы через запятую: agent (оператор), team (группа), queue (очередь), campaign (кампания), direction "
        "(направление), source (источник), did (номер), trunk (транк), pause_reason (причина паузы), hour (час), "
        "day (день), week (неделя), month (месяц), interval (интервал), weekday (день недели), time_of_day "
        "(время суток)",
    ),
    "cli.help.kpi.--from": ("first local date, e.g. 2026-03-31 or 31.03.2026",
                            "первый день (местное время), например 31.03.2026 или 2026-03-31"),
    "cli.help.kpi.--to": ("last local date (inclusive)", "последний день (включительно)"),
    "cli.help.kpi.--queue": ("only these queues (repeat or comma list)",
                             "только эти очереди (повторите параметр или перечислите через запятую)"),
    "cli.help.kpi.--agent": ("only these agents", "только эти операторы"),
    "cli.help.kpi.--team": ("only these teams", "только эти группы"),
    "cli.help.kpi.--campaign": ("only these campaigns", "только эти кампании"),
    "cli.help.kpi.--direction": ("inbound, outbound, internal",
                                 "направление: `inbound` (входящие), `outbound` (исходящие), `internal` (внутренние)"),
    "cli.help.kpi.--metrics": (
        "metric ids (comma list), or `all`; default: every metric the data supports (a table with --by shows "
        "a default set)",
        "id показателей через запятую или `all`; по умолчанию — все, что позволяют данные (таблица с --by "
        "показывает набор по умолчанию)",
    ),
    "cli.help.kpi.--param": ("NAME=VALUE, e.g. sl_threshold_s=30", "ИМЯ=ЗНАЧЕНИЕ, например sl_threshold_s=30"),
    "cli.help.kpi.--interval-minutes": ("15, 30 or 60", "длина интервала в минутах: 15, 30 или 60"),
    "cli.help.kpi.--format": (
        "auto (a table on a terminal, TSV when piped), table, tsv (tab-separated, a header line of metric ids), "
        "json, csv or xlsx",
        "`auto` (таблица в терминале, TSV при выводе в канал), `table`, `tsv` (через табуляцию, первая строка — id "
        "показателей), `json`, `csv` или `xlsx`",
    ),
    "cli.help.kpi.--explain": (
        "add each metric's definition and parameters, and the KPIs the loaded sources do not record",
        "добавить определение и параметры каждого показателя и показатели, которых нет в загруженных источниках",
    ),
    "cli.help.kpi.--ids": ("metric ids instead of titles in the table's headers",
                           "id показателей вместо названий в заголовках таблицы"),
}


# the tables of the other commands, one module per group of commands (read with this one)
_GROUP_TABLES = (
    ("callkpi.cli.help_strings_data", "DATA_HELP_STRINGS"),
    ("callkpi.cli.help_strings_business", "BUSINESS_HELP_STRINGS"),
    ("callkpi.cli.help_strings_quality", "QUALITY_HELP_STRINGS"),
    ("callkpi.cli.help_strings_web", "WEB_HELP_STRINGS"),
)


@cache
def help_strings() -> dict[str, tuple[str, str]]:
    """Every help text of the CLI: this module's table and the group tables."""
    import importlib

    table = dict(HELP_STRINGS)
    for module, name in _GROUP_TABLES:
        table.update(getattr(importlib.import_module(module), name))
    return table


@cache
def _keys_by_english() -> dict[str, str]:
    """The key of each English help text (an option several commands share is translated once)."""
    found: dict[str, str] = {}
    for key, (english, _) in help_strings().items():
        found.setdefault(english, key)
    return found


def _russian(english: str | None, *keys: str) -> str | None:
    """The Russian of ``english``: the first of ``keys`` whose English it still is, else any entry with
    that English; None when no entry has it (a changed English help is never shown with a stale Russian)."""
    if not english:
        return None
    table = help_strings()
    key = next((k for k in keys if k in table and table[k][0] == english), None) or _keys_by_english().get(english)
    if key is None:
        return None
    from callkpi.i18n import translate

    return translate(key, "ru", table=table)


def command_help(path: str, english: str | None) -> str | None:
    """A command's help in Russian: the whole of it, or (the listing's line) the first paragraph of
    the whole; its first paragraph alone when only that is translated; the English if none is."""
    whole = _russian(english, f"cli.help.{path}")
    if whole is not None or not english:
        return whole or english
    pair = help_strings().get(f"cli.help.{path}")
    if pair is not None and "\n\n" not in english and pair[0].partition("\n\n")[0] == english:
        return (_russian(pair[0], f"cli.help.{path}") or english).partition("\n\n")[0]
    first, _, rest = english.partition("\n\n")
    summary = _russian(first, f"cli.help.{path}.summary")
    if summary is None:
        return english
    return f"{summary}\n\n{rest}" if rest else summary


def option_help(path: str, option: str, english: str | None) -> str | None:
    return _russian(english, f"cli.help.{path}.{option}", f"cli.help.{option}") or english


def translate_command(command: Any, path: str) -> None:
    """Russian help for ``command`` (named ``path``: ``kpi``, ``qa sample``) and its options, in place;
    the English is kept on the command (``_english_help``) so a later English run shows it again."""
    from callkpi.cli import click_words

    params = _params(command)
    if not hasattr(command, "_english_help"):
        command._english_help = (command.help, command.short_help,
                                 {id(p): p.help for p in params if hasattr(p, "help")})
    help_en, short_en, params_en = command._english_help
    command.help = command_help(path, help_en)
    if short_en:
        command.short_help = command_help(path, short_en)
    for param in params:
        if id(param) in params_en and param.opts:
            param.help = option_help(path, param.opts[0], params_en[id(param)])
    click_words.russian_words(params)
    for name, sub in getattr(command, "commands", {}).items():
        translate_command(sub, f"{path} {name}")


def _params(command: Any) -> list[Any]:
    """The command's options with its --help option (click makes that one apart, once)."""
    from typer import Context

    help_option = command.get_help_option(Context(command))
    return [*command.params, *([help_option] if help_option is not None else [])]


def english_command(command: Any) -> None:
    """Undo :func:`translate_command`."""
    saved = getattr(command, "_english_help", None)
    if saved is None:
        return
    from callkpi.cli import click_words

    command.help, command.short_help, params_en = saved
    params = _params(command)
    for param in params:
        if id(param) in params_en:
            param.help = params_en[id(param)]
    click_words.english_words(params)
    for sub in getattr(command, "commands", {}).values():
        english_command(sub)
