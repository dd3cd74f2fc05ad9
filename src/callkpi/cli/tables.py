"""The CLI's tables: the renderer of :mod:`callkpi.report.tables`, under the name the commands use.

Every command prints a listing with :func:`print_table` (a table on a terminal that never cuts an
identifier, TSV when the output is not a terminal); see :mod:`callkpi.report.tables`.
"""

from __future__ import annotations

from callkpi.report.tables import (
    TABLE_FORMATS,
    UNDEFINED,
    cell,
    duration,
    for_terminal,
    grouped,
    header,
    print_table,
    raw,
    resolve_format,
    set_money_currency,
    set_terminal_output,
    to_tsv,
)

__all__ = ["TABLE_FORMATS", "UNDEFINED", "cell", "duration", "for_terminal", "grouped", "header", "print_table",
           "raw", "resolve_format", "set_money_currency", "set_terminal_output", "to_tsv"]
