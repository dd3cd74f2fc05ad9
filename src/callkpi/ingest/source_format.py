"""What an importable format is: its name, how to recognise it, how to load it.

Each importer module declares its formats as ``SOURCE_FORMATS``; :mod:`callkpi.ingest.formats`
collects them. This module imports no importer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from callkpi.ingest.base import ImportReport

Loader = Callable[..., ImportReport]


@dataclass(frozen=True)
class SourceFormat:
    name: str
    description: str
    sniff: Callable[[bytes], str | None]  # returns the format name it recognises, or None
    load: Loader
