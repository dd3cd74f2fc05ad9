"""docs/cli.md, docs/settings.md and the tables of docs/engines.md, written from the code so they
cannot drift from it.

``python tests/docs_reference.py`` (or ``./dev docs``) rewrites them; ``tests/test_docs.py``
fails when either is out of date, in the manner of sqlite-utils' documentation tests.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
CLI_DOC = ROOT / "docs" / "cli.md"
SETTINGS_DOC = ROOT / "docs" / "settings.md"
ENGINES_DOC = ROOT / "docs" / "engines.md"
ENGINES_START, ENGINES_END = "<!-- engines table: generated -->\n", "<!-- end of engines table -->"


def cli_root() -> Any:
    from callkpi.cli import _register_commands
    from callkpi.cli.app import app

    _register_commands()
    return typer.main.get_command(app)


def _is_group(command: Any) -> bool:
    return hasattr(command, "list_commands")


def commands(root: Any = None) -> Iterator[tuple[str, Any]]:
    """Every command and group (Typer's click objects), as ``("callkpi qa sample", command)``, by name."""
    root = root or cli_root()

    def walk(prefix: str, command: Any) -> Iterator[tuple[str, Any]]:
        yield prefix, command
        if _is_group(command):
            context = command.context_class(command)
            for name in sorted(command.list_commands(context)):  # registration order depends on import order
                sub = command.get_command(context, name)
                if sub is not None and not sub.hidden:
                    yield from walk(f"{prefix} {name}", sub)

    yield from walk("callkpi", root)


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _option_row(param: Any) -> str:
    if param.param_type_name == "argument":
        name = f"`{(param.name or '').upper()}`"
        help_text = getattr(param, "help", "") or ""
    else:
        names = [*param.opts, *param.secondary_opts]
        name = ", ".join(f"`{n}`" for n in names)
        help_text = getattr(param, "help", "") or ""
    default = getattr(param, "default", None)
    shown = "" if default in (None, (), [], False) or callable(default) else f"`{default}`"
    return f"| {name} | {_one_line(help_text)} | {shown} |"


def render_cli() -> str:
    lines = [
        "# Command reference",
        "",
        "Every `callkpi` command with its options, written from the code (`./dev docs`);"
        " `callkpi COMMAND --help` says the same.",
        "",
    ]
    for path, command in commands():
        depth = path.count(" ")
        if depth == 0:
            lines += [_one_line(command.help), ""]
            root_options = [p for p in command.params if p.name != "help" and not getattr(p, "hidden", False)]
            if root_options:  # given before the command: `callkpi --lang ru kpi`
                lines += ["Options of `callkpi` itself, given before the command (`callkpi --lang ru kpi`):", "",
                          "| option | meaning | default |", "|---|---|---|", *map(_option_row, root_options), ""]
            continue
        lines += [f"{'#' * min(depth + 1, 4)} `{path}`", "", _one_line(command.help), ""]
        params = [p for p in command.params if p.name != "help"]
        if params and not _is_group(command):
            lines += ["| option | meaning | default |", "|---|---|---|", *map(_option_row, params), ""]
    return "\n".join(lines).rstrip() + "\n"


def settings_keys(model: type[BaseModel] | None = None, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every setting as ``("params.sl_threshold_s", field)``, nested sections included."""
    from callkpi.config import Settings

    model = model or Settings
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from settings_keys(annotation, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", field


def _default(field: Any) -> str:
    value = field.default_factory() if field.default_factory is not None else field.default
    if isinstance(value, tuple):
        value = list(value)
    return f"`{value!r}`".replace("|", "\\|")


def render_settings() -> str:
    lines = [
        "# Settings reference",
        "",
        "Every key of `callkpi.toml` (or `$CALLKPI_CONFIG`, or `--config FILE`), written from the code"
        " (`./dev docs`). Every key is optional; `[section]` is the TOML table the key goes in.",
        "",
    ]
    section = None
    for key, field in settings_keys():
        table, _, name = key.rpartition(".")
        if table != section:
            section = table
            lines += ["", f"## `[{table}]`", "", "| key | default | meaning |", "|---|---|---|"]
        lines.append(f"| `{name}` | {_default(field)} | {_one_line(field.description)} |")
    return "\n".join(lines).strip() + "\n"


def render_engines(text: str) -> str:
    """docs/engines.md with its generated part (callkpi.metrics.backends) rewritten."""
    from callkpi.metrics.backends import engines_markdown

    head, rest = text.split(ENGINES_START, 1)
    tail = rest.split(ENGINES_END, 1)[1]
    return f"{head}{ENGINES_START}{engines_markdown()}{ENGINES_END}{tail}"


def main() -> None:
    CLI_DOC.write_text(render_cli(), encoding="utf-8")
    SETTINGS_DOC.write_text(render_settings(), encoding="utf-8")
    ENGINES_DOC.write_text(render_engines(ENGINES_DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {CLI_DOC.relative_to(ROOT)} and {SETTINGS_DOC.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
