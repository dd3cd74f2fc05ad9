"""Typer's and Click's own words in Russian: the help's headings and usage line, the value words,
"[required]", and the usage errors ("Missing option", "No such command", "Invalid value"...).

Typer (0.29) vendors its own Click, which writes these words as plain English f-strings (no
gettext domain to install a catalogue for), so a Russian run goes through Click's extension
points instead: the context's help formatter (:class:`RussianHelpFormatter`, chosen by
:class:`callkpi.cli.app.CallkpiContext` only when the output is Russian), the options' value words
(set with the Russian help by :func:`russian_words`, put back by :func:`english_words`) and the
usage error a command raises, shown as :class:`RussianError`. English output never
imports this module. ``CLICK_STRINGS`` holds Click's messages as templates (``{field}`` is a part
of the message; ``{message}`` a message of its own, translated in turn); ``./dev i18n`` writes it
into the catalogues with the other tables.
"""

from __future__ import annotations

import re
from functools import cache
from typing import IO, Any

from typer._click.exceptions import ClickException, UsageError
from typer._click.formatting import HelpFormatter
from typer._click.utils import echo

CLICK_STRINGS: dict[str, tuple[str, str]] = {
    # the help page
    "click.usage": ("Usage: ", "Использование: "),
    "click.heading.Arguments": ("Arguments", "Аргументы"),
    "click.heading.Options": ("Options", "Параметры"),
    "click.heading.Commands": ("Commands", "Команды"),
    "click.options_metavar": ("[OPTIONS]", "[ПАРАМЕТРЫ]"),
    "click.subcommand_metavar": ("COMMAND [ARGS]...", "КОМАНДА [АРГУМЕНТЫ]..."),
    "click.extra.required": ("required", "обязательный"),
    "click.extra.default": ("default: {default}", "по умолчанию: {default}"),
    "click.extra.dynamic": ("(dynamic)", "(вычисляется)"),
    "click.extra.env_var": ("env var: {var}", "переменная окружения: {var}"),
    # the words for a value (callkpi.cli.app.value_word) and the arguments' names
    "click.metavar.TEXT": ("TEXT", "ТЕКСТ"),
    "click.metavar.PATH": ("PATH", "ПУТЬ"),
    "click.metavar.INTEGER": ("INTEGER", "ЦЕЛОЕ"),
    "click.metavar.NUMBER": ("NUMBER", "ЧИСЛО"),
    "click.metavar.DATE-TIME": ("DATE-TIME", "ДАТА-ВРЕМЯ"),
    "click.metavar.PATHS": ("PATHS", "ФАЙЛЫ"),
    "click.metavar.NAME": ("NAME", "ИМЯ"),
    "click.metavar.FILE": ("FILE", "ФАЙЛ"),
    "click.metavar.KIND": ("KIND", "ВИД"),
    "click.metavar.AGENT": ("AGENT", "ОПЕРАТОР"),
    "click.metavar.USER": ("USER", "ПОЛЬЗОВАТЕЛЬ"),
    "click.metavar.SOURCE_ID": ("SOURCE_ID", "ID_ИСТОЧНИКА"),
    "click.metavar.SCHEDULE_ID": ("SCHEDULE_ID", "ID_РАСПИСАНИЯ"),
    "click.metavar.CALL_ID": ("CALL_ID", "ID_ЗВОНКА"),
    "click.metavar.RECORDINGS": ("RECORDINGS", "ЗАПИСИ"),
    # errors: what wraps a message
    "click.error": ("Error: {message}", "Ошибка: {message}"),
    "click.try_help": ("Try '{command} {option}' for help.", "Справка по команде: {command} {option}"),
    "click.aborted": ("Aborted!", "Прервано."),
    "click.did_you_mean": ("{message}. Did you mean {suggestions}?", "{message}. Может быть, {suggestions}?"),
    "click.possible_options": ("{message} (Possible options: {options})",
                               "{message} (похожие параметры: {options})"),
    "click.invalid_value_for": ("Invalid value for {hint}: {message}", "Недопустимое значение {hint}: {message}"),
    "click.invalid_value": ("Invalid value: {message}", "Недопустимое значение: {message}"),
    "click.missing_option_more": ("Missing option {hint}. {message}", "Не указан параметр {hint}. {message}"),
    "click.missing_argument_more": ("Missing argument {hint}. {message}", "Не указан аргумент {hint}. {message}"),
    # errors: the messages
    "click.missing_option": ("Missing option {hint}.", "Не указан параметр {hint}."),
    "click.missing_argument": ("Missing argument {hint}.", "Не указан аргумент {hint}."),
    "click.missing_parameter": ("Missing parameter: {name}", "Не указан параметр: {name}"),
    "click.missing_command": ("Missing command.", "Не указана команда."),
    "click.no_such_command": ("No such command {name}.", "Нет такой команды: {name}."),
    "click.no_such_command_suggested": ("No such command {name}", "Нет такой команды: {name}"),  # before "Did you..."
    "click.no_such_option": ("No such option: {name}", "Нет такого параметра: {name}"),
    "click.extra_arguments": ("Got unexpected extra argument(s) ({arguments})",
                              "Лишние аргументы: {arguments}"),
    "click.requires_argument": ("Option {name} requires an argument.", "Параметру {name} нужно значение."),
    "click.requires_arguments": ("Option {name} requires {n} arguments.",
                                 "Параметру {name} нужно значений: {n}."),
    "click.no_value": ("Option {name} does not take a value.", "Параметр {name} не принимает значения."),
    "click.argument_values": ("Argument {name} takes {n} values.", "Аргумент {name} принимает значений: {n}."),
    "click.choose_from": ("Choose from:\n\t{choices}", "Возможные значения:\n\t{choices}"),
    "click.not_one_of": ("{value} is not one of {choices}.", "{value} — не одно из значений: {choices}."),
    "click.not_valid_integer": ("{value} is not a valid integer.", "{value} — не целое число."),
    "click.not_valid_float": ("{value} is not a valid float.", "{value} — не число."),
    "click.not_valid_value": ("Value {value} is not a valid {kind}.", "{value} — недопустимое значение ({kind})."),
    "click.could_not_open": ("Could not open file {name}: {message}", "Не удалось открыть файл {name}: {message}"),
    "click.path_missing": ("{kind} {name} does not exist.", "{kind} {name} не существует."),
    "click.path_is_file": ("{kind} {name} is a file.", "{kind} {name} — файл, а не папка."),
    "click.path_is_dir": ("{kind} {name} is a directory.", "{kind} {name} — папка, а не файл."),
    "click.path_unreadable": ("{kind} {name} is not readable.", "{kind} {name} недоступен для чтения."),
    "click.path_unwritable": ("{kind} {name} is not writable.", "{kind} {name} недоступен для записи."),
    "click.path_kind.File": ("File", "Файл"),
    "click.path_kind.Directory": ("Directory", "Папка"),
    "click.path_kind.Path": ("Path", "Путь"),
    # pydantic's words for a value Typer could not convert
    "click.input_integer_parsing": ("Input should be a valid integer, unable to parse string as an integer",
                                    "нужно целое число"),
    "click.input_integer_fraction": ("Input should be a valid integer, got a number with a fractional part",
                                     "нужно целое число, без дробной части"),
    "click.input_integer": ("Input should be a valid integer", "нужно целое число"),
    "click.input_number_parsing": ("Input should be a valid number, unable to parse string as a number",
                                   "нужно число"),
    "click.input_number": ("Input should be a valid number", "нужно число"),
    "click.input_boolean_parsing": ("Input should be a valid boolean, unable to interpret input",
                                    "нужно значение «да» или «нет» (true/false)"),
    "click.input_datetime": ("Input should be a valid datetime{rest}", "нужны дата и время{rest}"),
}

# the templates whose {message} is a message of its own, tried before the plain messages
_WRAPPERS = ("click.did_you_mean", "click.possible_options", "click.invalid_value_for", "click.invalid_value",
             "click.missing_option_more", "click.missing_argument_more", "click.could_not_open")
_FIELD = re.compile(r"\{(\w+)\}")
_FIELD_PATTERNS = {"kind": "(?P<kind>File|Directory|Path)"}  # Typer's words for a path, nothing else
_EXTRA = re.compile(r"(?:^|  )\[([^\[\]]*)\]$")  # Typer's "  [default: auto; required]" after an option's help


def russian(key: str) -> str:
    from callkpi.i18n import translate

    return translate(key, "ru", table=CLICK_STRINGS)


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    """Each message template as a pattern, with its Russian (the wrappers first)."""
    keys = [*_WRAPPERS, *(k for k in CLICK_STRINGS if k not in _WRAPPERS and _is_message(k))]
    found = []
    for key in keys:
        english = CLICK_STRINGS[key][0]
        pattern = "".join((_FIELD_PATTERNS.get(part, f"(?P<{part}>.*?)")) if i % 2 else re.escape(part)
                          for i, part in enumerate(_FIELD.split(english)))
        found.append((re.compile(pattern, re.DOTALL), russian(key)))
    return found


def _is_message(key: str) -> bool:
    return not key.startswith(("click.heading.", "click.metavar.", "click.extra.", "click.path_kind.")) and key not in (
        "click.usage", "click.options_metavar", "click.subcommand_metavar", "click.error", "click.try_help",
        "click.aborted")


def message(english: str) -> str:
    """One of Click's (or Typer's, or pydantic's) messages in Russian; what is not theirs stays as it is."""
    for pattern, ru in _templates():
        found = pattern.fullmatch(english)
        if found is None:
            continue
        fields = found.groupdict()
        if "message" in fields:
            fields["message"] = message(fields["message"])
        if "kind" in fields:
            fields["kind"] = _path_kind(fields["kind"])
        return ru.format(**fields)
    return english


def _path_kind(english: str) -> str:
    key = f"click.path_kind.{english}"
    return russian(key) if key in CLICK_STRINGS else english


# -- the help page --------------------------------------------------------------------------------

def metavar(english: str | None) -> str | None:
    """``ТЕКСТ`` for ``TEXT``, ``ФАЙЛЫ`` for an argument ``PATHS``... (``TEXT…`` keeps its ``…``)."""
    if not english:
        return english
    word, many = (english[:-1], "…") if english.endswith("…") else (english, "")
    key = f"click.metavar.{word}"
    return f"{russian(key)}{many}" if key in CLICK_STRINGS else english


def _extra(item: str) -> str:
    """One item of Typer's "[...]" after an option's help."""
    if item == "required":
        return russian("click.extra.required")
    if item == "(dynamic)":
        return russian("click.extra.dynamic")
    for key, field in (("click.extra.default", "default"), ("click.extra.env_var", "var")):
        prefix = CLICK_STRINGS[key][0].partition("{")[0]
        if item.startswith(prefix):
            value = item[len(prefix):]
            return russian(key).format(**{field: russian("click.extra.dynamic") if value == "(dynamic)" else value})
    return item


class RussianHelpFormatter(HelpFormatter):
    """Click's help formatter with its own words in Russian."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        for key in ("click.options_metavar", "click.subcommand_metavar"):
            args = args.replace(CLICK_STRINGS[key][0], russian(key))
        super().write_usage(prog, args, russian("click.usage") if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        key = f"click.heading.{heading}"
        super().write_heading(russian(key) if key in CLICK_STRINGS else heading)

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        super().write_dl([(first, _russian_extras(second)) for first, second in rows], col_max, col_spacing)


def _russian_extras(text: str) -> str:
    found = _EXTRA.search(text)
    if found is None:
        return text
    items = "; ".join(_extra(item) for item in found.group(1).split("; "))
    before = text[:found.start()]
    return f"{before}  [{items}]" if before else f"[{items}]"


def russian_words(params: list[Any]) -> None:
    """The value words of ``params`` in Russian (the English kept on each, for :func:`english_words`)."""
    for param in params:
        if not hasattr(param, "_english_metavar"):
            param._english_metavar = param.metavar
        param.metavar = metavar(param._english_metavar)


def english_words(params: list[Any]) -> None:
    """Undo :func:`russian_words`."""
    for param in params:
        if hasattr(param, "_english_metavar"):
            param.metavar = param._english_metavar


# -- errors ---------------------------------------------------------------------------------------

class RussianError(UsageError):
    """A usage error (or another of Click's errors) shown in Russian: the usage line, where to find
    help and the message; exits with the error's own status."""

    in_russian = True

    def __init__(self, error: ClickException) -> None:
        super().__init__(message(error.format_message()), getattr(error, "ctx", None))
        self.exit_code = error.exit_code
        self.usage = isinstance(error, UsageError)

    def format_message(self) -> str:
        return self.message

    def show(self, file: IO[Any] | None = None) -> None:
        from typer._click._compat import get_text_stderr

        file = file or get_text_stderr()
        ctx = self.ctx
        if self.usage and ctx is not None:
            hint = ""
            if ctx.command.get_help_option(ctx) is not None:
                command, option = ctx.command_path, ctx.help_option_names[0]
                hint = russian("click.try_help").format(command=command, option=option) + "\n"
            echo(f"{ctx.get_usage()}\n{hint}", file=file, color=ctx.color)
        echo(russian("click.error").format(message=self.format_message()), file=file,
             color=ctx.color if ctx is not None else self.show_color)


def aborted() -> str:
    return russian("click.aborted")
