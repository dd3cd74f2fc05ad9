"""The Typer application every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="callkpi",
    help="Phone-team KPIs from Asterisk, FreeSWITCH, cloud-PBX and CRM records.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
