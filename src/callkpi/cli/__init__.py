"""Command-line surface. Each command lives in its own module and registers itself on `app`;
:mod:`callkpi.cli.index` names them, so a command imports only its own module (see `app`)."""

from __future__ import annotations

from callkpi.cli.app import app, import_command_module
from callkpi.cli.index import MODULES

COMMAND_MODULES = MODULES


def _register_commands() -> None:
    """Import every command module (the documentation, the server and the tests need them all)."""
    for name in COMMAND_MODULES:
        import_command_module(name)


def main() -> None:
    import sys

    from callkpi.cli.served import run

    run(app, sys.argv[1:])  # a store held by `callkpi serve`: reading commands go through it
