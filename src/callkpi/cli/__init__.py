"""Command-line surface. Each command lives in its own module and registers itself on `app`."""

from __future__ import annotations

import importlib

from callkpi.cli.app import app

COMMAND_MODULES = (
    "callkpi.cli.ingest_cmd",
    "callkpi.cli.kpi_cmd",
    "callkpi.cli.catalog_cmd",
    "callkpi.cli.simulate_cmd",
    "callkpi.cli.staffing_cmd",
    "callkpi.cli.demo_cmd",
    "callkpi.cli.missed_cmd",
    "callkpi.cli.business_cmd",
    "callkpi.cli.qa_cmd",
    "callkpi.cli.serve_cmd",
    "callkpi.cli.alerts_cmd",
)


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a command module exists but its own import failed
                raise


def main() -> None:
    import sys

    from callkpi.cli.served import run

    _register_commands()
    run(app, sys.argv[1:])  # a store held by `callkpi serve`: reading commands go through it
