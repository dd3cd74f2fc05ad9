"""The CLI's two consoles (standard output and standard error), shared by every command module."""

from __future__ import annotations

from rich.console import Console

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)
