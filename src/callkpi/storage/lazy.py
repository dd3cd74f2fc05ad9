"""Ibis and Arrow, imported on their first use rather than at start-up.

Importing Ibis (and the SQL compiler under it) takes most of a second. The metric catalogue
names Ibis in every definition, but a command that finds its query's SQL already compiled (see
:mod:`callkpi.metrics.templates`) never builds an expression, so it should not pay for the
import. ``from callkpi.storage.lazy import ibis`` gives a stand-in that imports the real module
when an attribute is first read; type checkers see the real module.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any


class LazyModule:
    """A module imported when one of its attributes is first read."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_lazy_name", name)

    def _load(self) -> ModuleType:
        return importlib.import_module(object.__getattribute__(self, "_lazy_name"))

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._load(), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {object.__getattribute__(self, '_lazy_name')!r}>"


if TYPE_CHECKING:
    import ibis
    import ibis.expr.operations as ops
    import pyarrow as pa
    import pyarrow.compute as pc
else:
    ibis = LazyModule("ibis")
    ops = LazyModule("ibis.expr.operations")
    # Arrow (and NumPy under it) too: a small report read back as Python rows needs neither
    pa = LazyModule("pyarrow")
    pc = LazyModule("pyarrow.compute")

__all__ = ["LazyModule", "ibis", "ops", "pa", "pc"]
