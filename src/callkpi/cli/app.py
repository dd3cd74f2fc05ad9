"""The Typer application every command module registers on.

Start-up is kept light: ``callkpi --help`` imports no command module (the listing comes from
:data:`callkpi.cli.index.COMMANDS`), and ``callkpi kpi`` imports only the module of ``kpi``, so a
command never pays for the scientific or web libraries another command needs.
"""

from __future__ import annotations

import contextlib
import importlib
import re
from collections.abc import Iterator
from typing import Any

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from callkpi import __version__
from callkpi.cli import coercion
from callkpi.cli.index import COMMANDS, MODULES

coercion.install()  # plain option values without a pydantic schema each (see callkpi.cli.coercion)

Context = typer.Context
Command = Any  # a (click) command; recent Typer vendors its own click, so its classes are not click's


class CallkpiContext(typer.Context):
    """Click's context, whose help page speaks the output's language (Click's own words in Russian
    from callkpi.cli.click_words; English exactly as Click writes it)."""

    def make_formatter(self) -> Any:
        if speaks_russian(self):
            from callkpi.cli.click_words import RussianHelpFormatter

            return RussianHelpFormatter(width=self.terminal_width, max_width=self.max_content_width)
        return super().make_formatter()


TYPED_LANG = "callkpi.typed_lang"  # --lang as typed, kept on the root context when its options fail


def speaks_russian(ctx: Context | None, typed: str | None = None) -> bool:
    """Whether the output is Russian: ``--lang`` once it is read (or as ``typed`` before), else the
    language set or the locale."""
    from callkpi.report import language

    root = ctx.find_root() if ctx is not None else None
    lang = (root.params.get("lang") or root.meta.get(TYPED_LANG) if root is not None else None) or typed
    if lang:
        return lang == "ru"
    if language.russian():
        return True
    from callkpi.i18n import cli_lang

    return cli_lang(None) == "ru"


@contextlib.contextmanager
def errors_in_language(ctx: Context | None = None, typed: str | None = None) -> Iterator[None]:
    """Click's usage errors (and its "Aborted!") in Russian when the output is Russian."""
    try:
        yield
    except ClickException as error:
        if typed and getattr(error, "ctx", None) is not None:
            error.ctx.find_root().meta[TYPED_LANG] = typed  # for the usage line it shows
        shown_as_is = isinstance(error, NoArgsIsHelpError) or getattr(error, "in_russian", False)
        if shown_as_is or not speaks_russian(getattr(error, "ctx", None) or ctx, typed):
            raise
        from callkpi.cli.click_words import RussianError

        raise RussianError(error) from error
    except typer.Abort:
        if not speaks_russian(ctx, typed):
            raise
        from callkpi.cli.click_words import aborted

        typer.echo(aborted(), err=True)
        raise typer.Exit(1) from None


def typed_lang(args: list[str]) -> str | None:
    """The value of ``--lang`` in the root's arguments as typed (before the first command)."""
    for i, arg in enumerate(args):
        if arg == "--lang":
            return args[i + 1] if i + 1 < len(args) else None
        if arg.startswith("--lang="):
            return arg.removeprefix("--lang=")
        if not arg.startswith("-"):
            return None
    return None


class LazyCommands(TyperGroup):
    """The root group: a command's module is imported when the command is run (or asked for help).

    ``callkpi --help`` lists the commands from the index without importing them; running or
    completing a command imports its module, which registers it on :data:`app`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tidy_help(self)

    context_class = CallkpiContext

    def make_context(self, info_name: str | None, args: list[str], parent: Context | None = None,
                     **extra: Any) -> Context:
        with errors_in_language(typed=typed_lang(args)):  # an error in the root's options comes before --lang
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Context) -> Any:
        with errors_in_language(ctx):
            return super().invoke(ctx)

    def get_params(self, ctx: Context) -> list[Any]:
        params = super().get_params(ctx)  # with the completion options Typer adds after __init__
        tidy_params(self, params)
        return params

    def list_commands(self, ctx: Context) -> list[str]:
        loaded = super().list_commands(ctx)
        return [*COMMANDS, *(name for name in loaded if name not in COMMANDS)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in COMMANDS:
            summary = COMMANDS[cmd_name][1]
            command = TyperCommand(cmd_name, help=summary, short_help=summary)  # for the listing only
        if command is not None:
            _in_language(command, cmd_name)
        return command

    def format_help(self, ctx: Context, formatter: Any) -> None:
        from callkpi.i18n import cli_lang
        from callkpi.report import language

        language.set_language(cli_lang(ctx.params.get("lang")))  # --lang is eager: read before --help
        _in_language(self, "callkpi")
        super().format_help(ctx, formatter)

    def resolve_command(self, ctx: Context, args: list[str]) -> tuple[str | None, Command | None,
                                                                               list[str]]:
        if args and args[0] not in self.commands:
            self.load(args[0])
        return super().resolve_command(ctx, args)

    def load(self, name: str) -> None:
        """Import the module that registers ``name`` (every command module when the index does not know it)."""
        modules = [COMMANDS[name][0]] if name in COMMANDS else list(MODULES)
        for module in modules:
            import_command_module(module)
        built = typer.main.get_command(app)
        self.commands.update(built.commands)  # type: ignore[attr-defined]


def _in_language(command: Command, path: str) -> None:
    """The command's help in the output's language (Russian from callkpi.cli.help_text)."""
    from callkpi.report import language

    if language.russian():
        from callkpi.cli.help_text import translate_command

        translate_command(command, path)
    elif hasattr(command, "_english_help"):
        from callkpi.cli.help_text import english_command

        english_command(command)


def import_command_module(name: str) -> None:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:  # a command module exists but its own import failed
            raise


# -- help text ----------------------------------------------------------------------------------

_LIST_ITEM = re.compile(r"^\s*([-*•]|\d+\.)\s")
# what Typer shows for a value's type, in the words a user reads
_TYPE_WORDS = {"str": "TEXT", "path": "PATH", "int": "INTEGER", "int range": "INTEGER", "float": "NUMBER",
               "float range": "NUMBER", "datetime": "DATE-TIME"}


def reflow(text: str | None) -> str | None:
    """A docstring's paragraphs as one line each (list items keep their own lines), so help text
    wraps at the terminal's width and never breaks inside a sentence."""
    if not text:
        return text
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines: list[str] = []
        for line in block.splitlines():
            if lines and not _LIST_ITEM.match(line):
                lines[-1] = f"{lines[-1]} {line.strip()}"
            else:
                lines.append(line.strip())
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def value_word(param: Any, shown: str | None) -> str | None:
    """``TEXT``, ``PATH``, ``INTEGER``... for an option's value; nothing for a flag."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return ""
    if not shown:
        return shown
    inner = shown.strip("<>").removesuffix("...")
    many = inner.startswith("list[")
    inner = inner.removeprefix("list[").removesuffix("]")
    word = _TYPE_WORDS.get(inner.lower(), inner.upper())
    return f"{word}…" if many or shown.endswith("...") else word


def tidy_help(command: Command) -> None:
    """Reflowed help and plain value words, through the whole tree under ``command``."""
    command.help = reflow(command.help)
    command.context_class = CallkpiContext
    if command.short_help:
        command.short_help = reflow(command.short_help)
    help_option = command.get_help_option(Context(command))  # made once and kept by click
    tidy_params(command, [*command.params, *([help_option] if help_option is not None else [])])
    for sub in getattr(command, "commands", {}).values():
        tidy_help(sub)


class PlainArgument(TyperArgument):
    """An argument shown by its name alone (``NAME``, not ``TEXT <str>``): its help says what it is."""

    def display_type_rich(self, ctx: Context) -> str | None:
        return None


def tidy_params(command: Command, params: list[Any]) -> None:
    for param in params:
        if type(param) is TyperArgument:
            param.__class__ = PlainArgument  # Typer builds the argument; only how it is shown changes
            if param.metavar is None:
                param.metavar = (param.name or "").upper()
            continue
        if isinstance(param, TyperOption) and param.metavar is None:
            try:
                param.metavar = value_word(param, param.display_type_rich(Context(command)))
            except Exception:  # a type Typer cannot describe: keep its own words
                continue


# -- the application ----------------------------------------------------------------------------

app = typer.Typer(
    name="callkpi",
    cls=LazyCommands,
    help="Phone-team KPIs from Asterisk, FreeSWITCH, cloud-PBX and CRM records.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain help: it reads the same on a terminal, in a pipe and in a file, and `callkpi --help`
    # does not import Rich's Markdown and traceback renderers (a third of its start-up).
    rich_markup_mode=None,
    context_settings={"max_content_width": 120},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"callkpi {__version__}")
        raise typer.Exit()


def _check_lang(value: str | None) -> str | None:
    if value is not None and value not in ("en", "ru"):
        raise typer.BadParameter(f"{value!r} is not a language callkpi speaks: use en or ru")
    return value


@app.callback()
def root(
    ctx: Context,
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="print the version and exit"),
    terminal_output: bool = typer.Option(False, "--terminal-output", hidden=True,
                                         help="render tables for a terminal (set by a command forwarded to "
                                              "`callkpi serve` from a terminal)"),
    lang: str | None = typer.Option(None, "--lang", metavar="en|ru", callback=_check_lang, is_eager=True,
                                    help="language of the output: en or ru (default: the locale, so LANG=ru_RU.UTF-8 "
                                         "gives ru; CALLKPI_LANG overrides the locale)"),
) -> None:
    """Phone-team KPIs from Asterisk, FreeSWITCH, cloud-PBX and CRM records."""
    from callkpi.cli import tables
    from callkpi.i18n import cli_lang
    from callkpi.report import language

    tables.set_terminal_output(True if terminal_output else None)
    tables.set_money_currency(None)
    language.set_language(cli_lang(lang))
    if ctx.invoked_subcommand:  # its --help, if asked, in this language
        _in_language(ctx.command.get_command(ctx, ctx.invoked_subcommand), ctx.invoked_subcommand)
    ctx.call_on_close(lambda: language.set_language(None))  # English again for whatever runs next in this process
