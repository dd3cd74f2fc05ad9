"""Tables for people and for tools: every CLI listing goes through :func:`print_table` (also as `callkpi.cli.tables`).

On a terminal a table never cuts an identifier or a number: each column is as wide as its
longest value, and a table too wide for the terminal is split into several tables that repeat the
leading dimension columns (``kpi --by agent``), or, for a listing without dimensions, printed as one
block of ``field: value`` lines per row. Headers are the metrics' titles (``ids=True``: their ids);
durations read ``h:mm:ss``, rates ``12.3 %``, numbers are grouped with a space (``12 345``).

When the output is not a terminal (a pipe, a file) the default is TSV: one header line of column
ids, then one line per row, tab-separated, values as JSON/CSV carry them (rates as fractions,
durations in seconds, empty where undefined), so ``cut``, ``awk``, spreadsheets and pandas read it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from callkpi.report import language

TABLE_FORMATS = ("auto", "table", "tsv")
UNDEFINED = "—"
# columns whose numbers are identifiers or positions, never grouped ("line 12345", not "12 345")
_ID_NUMBERS = frozenset({"id", "source", "source_id", "line", "line_no", "call_id", "year", "seed", "port"})
_COLUMN_OVERHEAD = 3  # a column's padding and border in the table's box
_MIN_TEXT_WIDTH = 16  # a free-text column (detail, reason) wraps down to this width, never narrower

_terminal_override: bool | None = None


def set_terminal_output(value: bool | None) -> None:
    """Whether tables are rendered for a terminal whatever the output is (None: ask the console).
    A command forwarded to ``callkpi serve`` from a terminal runs there with this set."""
    global _terminal_override
    _terminal_override = value


_money_currency: str | None = None


def set_money_currency(code: str | None) -> None:
    """The currency money values read in, in tables (None: none shown); TSV, CSV and JSON carry plain numbers."""
    global _money_currency
    _money_currency = code


def for_terminal(console: Console) -> bool:
    return console.is_terminal if _terminal_override is None else _terminal_override


def resolve_format(console: Console, fmt: str | None) -> str:
    """``table`` or ``tsv`` for a ``--format`` of ``auto``/None (the console decides), ``table`` or ``tsv``."""
    if fmt in (None, "auto"):
        return "table" if for_terminal(console) else "tsv"
    return fmt


# -- values ------------------------------------------------------------------------------------

def _metric(column: str) -> Any:
    from callkpi.metrics.catalogue import REGISTRY  # the registry needs Ibis: loaded when a metric is shown

    return REGISTRY.metrics.get(column)


def _is_metric_column(column: str) -> bool:
    from callkpi.metrics.catalogue import REGISTRY

    return column in REGISTRY.metrics


def grouped(value: float, decimals: int = 0) -> str:
    """``12345.6`` -> ``12 345.6``: thousands grouped by a space, the decimal mark a point (in Russian
    ``12 345,6`` by CLDR, with a no-break space)."""
    return language.number(value, decimals)


def duration(seconds: float) -> str:
    """Seconds as ``h:mm:ss`` (rounded to the second; ``-0:00:05`` for a negative span)."""
    sign = "-" if seconds < 0 else ""
    total = round(abs(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}"


def cell(column: str, value: Any) -> str:
    """How a value reads in a table: by the metric's unit, else by its type."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return UNDEFINED
    if isinstance(value, bool):
        return language.say(language.TABLE_STRINGS, "cli.yes" if value else "cli.no")
    metric = _metric(column) if isinstance(value, int | float) else None
    if metric is not None:
        return _metric_cell(metric.unit, value)
    if isinstance(value, int | float):
        if column in _ID_NUMBERS or column.endswith("_id"):
            return str(value)
        return grouped(value) if isinstance(value, int) or value.is_integer() else grouped(value, 2)
    if isinstance(value, datetime):
        return language.moment(value)
    if isinstance(value, date):
        return language.day(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str):
        return language.value_text(column, value)
    return str(value)


def _metric_cell(unit: str, value: float) -> str:
    from callkpi.metrics.registry import PERCENT_UNITS

    if unit in PERCENT_UNITS:
        return language.percent(value)
    if unit == "seconds":
        return duration(value)
    if unit == "count":
        return grouped(int(value))
    if unit == "money":
        return f"{grouped(value, 2)} {_money_currency}" if _money_currency else grouped(value, 2)
    return grouped(value, 1)


def header(column: str, ids: bool = False) -> str:
    """A column's header: the metric's title, or the column id (``ids``, or a column that is no metric;
    in Russian the column's Russian name where it has one)."""
    if ids:
        return column
    metric = _metric(column)
    if metric is not None:
        return str(metric.title[language.language()])
    if not language.russian():
        return column
    return language.column(column) or _dimension_title(column) or column


def _dimension_title(column: str) -> str | None:
    from callkpi.metrics.catalogue.dimensions import DIMENSIONS

    pair = DIMENSIONS.get(column)
    return pair[1] if pair else None


def raw(value: Any) -> str:
    """A value as TSV carries it: as in CSV, with tabs and line breaks turned into spaces."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        value = ",".join(str(v) for v in value)
    return str(value).replace("\t", " ").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def to_tsv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    lines = ["\t".join(columns)]
    lines += ["\t".join(raw(row.get(c)) for c in columns) for row in rows]
    return "\n".join(lines) + "\n"


_NUMBERS = frozenset({type(None), int, float, bool})


def columns_to_tsv(columns: Sequence[str], values: Mapping[str, Sequence[Any]]) -> str:
    """:func:`to_tsv` of a result given by column (the same text): a column of numbers is written
    with ``str`` alone, and rows are joined at the end (a large report by agent and day)."""
    texts = []
    for name in columns:
        column = values[name]
        try:
            distinct = set(column)
        except TypeError:  # a list in a cell
            distinct = {object()}
        if {type(v) for v in distinct} <= _NUMBERS and not any(v != v for v in distinct):  # no NaN
            texts.append([str(v) if v is not None else "" for v in column])
        else:
            texts.append([raw(v) for v in column])
    lines = ["\t".join(columns), *("\t".join(row) for row in zip(*texts, strict=True))]
    return "\n".join(lines) + "\n"


# -- tables ------------------------------------------------------------------------------------

def print_table(console: Console, rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
                title: str | None = None, *, fmt: str | None = "auto", ids: bool = False,
                keys: Sequence[str] | None = None) -> str:
    """Print ``rows`` (only ``columns``, in order) as a table on a terminal, else as TSV; which one it was.

    ``fmt`` forces ``table`` or ``tsv``; ``ids`` puts metric ids in the headers instead of titles;
    ``keys`` are the columns repeated when a wide table is split (default: the leading dimension columns).
    The title is printed above a table, never into TSV."""
    chosen = resolve_format(console, fmt)
    if chosen == "tsv":
        console.file.write(to_tsv(rows, columns))
        console.file.flush()
        return "tsv"
    columns = list(columns)
    texts = [[cell(c, row.get(c)) for c in columns] for row in rows]
    headers = [header(c, ids) for c in columns]
    layout = _Layout(columns, headers, texts, [])
    # a report (dimensions, then numbers) splits into tables that repeat the dimensions; a listing
    # with free text becomes records
    key_columns = list(keys) if keys is not None else [] if layout.wrapping else _leading_dimensions(columns)
    layout.keys = key_columns
    width = console.width
    if layout.fits(columns, width):
        console.print(_table(layout, columns, title), soft_wrap=False)  # the CLI's consoles soft-wrap text
    elif key_columns and len(key_columns) < len(columns) and layout.fits(key_columns, width):
        for number, part in enumerate(layout.split(width), start=1):
            part_title = title if number == 1 else None
            console.print(_table(layout, part, part_title), soft_wrap=False)
    else:
        _print_records(console, layout, title)
    return "table"


def _leading_dimensions(columns: Sequence[str]) -> list[str]:
    from callkpi.metrics.catalogue.dimensions import DIMENSIONS

    keys = []
    for column in columns:
        if column not in DIMENSIONS:
            break
        keys.append(column)
    return keys


class _Layout:
    """The cells of a table and how wide each column must be so that nothing in it is cut."""

    def __init__(self, columns: list[str], headers: list[str], texts: list[list[str]], keys: list[str]) -> None:
        self.columns, self.headers, self.texts, self.keys = columns, headers, texts, keys
        self.index = {c: i for i, c in enumerate(columns)}
        self.wrapping = {c for i, c in enumerate(columns) if self._is_text(i)}
        self.min_width = {c: self._min_width(i) for i, c in enumerate(columns)}

    def _values(self, i: int) -> list[str]:
        return [row[i] for row in self.texts]

    def _is_text(self, i: int) -> bool:
        """Free text (words with spaces) may wrap; identifiers and numbers never do."""
        column = self.columns[i]
        if _is_metric_column(column):
            return False
        values = self._values(i)
        return any(v.count(" ") >= 2 and len(v) > _MIN_TEXT_WIDTH for v in values)  # words, not a date-time

    def _min_width(self, i: int) -> int:
        values = self._values(i)
        header_word = max((len(word) for word in self.headers[i].split()), default=1)
        if self.columns[i] in self.wrapping:
            longest_word = max((len(w) for v in values for w in v.split()), default=1)
            return max(header_word, min(longest_word, 40), _MIN_TEXT_WIDTH)
        return max([header_word, *(len(v) for v in values)])

    def fits(self, columns: Sequence[str], width: int) -> bool:
        """Whether a table of ``columns`` fits ``width`` with every cell on one line (as rich measures it)."""
        if sum(self.min_width[c] + _COLUMN_OVERHEAD for c in columns) + 1 > width:
            return False
        probe = Console(width=10_000, file=io.StringIO(), color_system=None)
        if Measurement.get(probe, probe.options, _table(self, columns, None)).minimum > width:
            return False
        # rich may still lay a table with wrapping headers out wider than its minimum: render it to be sure
        probe = Console(width=width, file=io.StringIO(), color_system=None)
        probe.print(_table(self, columns, None), crop=False, soft_wrap=False)
        return max((cell_len(line) for line in probe.file.getvalue().splitlines()), default=0) <= width

    def split(self, width: int) -> list[list[str]]:
        """The columns in parts that each fit ``width``, every part starting with the key columns."""
        rest = [c for c in self.columns if c not in self.keys]
        parts: list[list[str]] = []
        current = list(self.keys)
        for column in rest:
            if len(current) > len(self.keys) and not self.fits([*current, column], width):
                parts.append(current)
                current = list(self.keys)
            current.append(column)
        parts.append(current)
        return parts


def _table(layout: _Layout, columns: Sequence[str], title: str | None) -> Table:
    table = Table(title=title, header_style="bold", box=box.SIMPLE_HEAD, title_justify="left")
    for column in columns:
        i = layout.index[column]
        numeric = _is_metric_column(column) or _all_numbers(layout, i)
        # a header wraps between its words; the column is as wide as its longest value, so no value wraps
        table.add_column(layout.headers[i], justify="right" if numeric else "left",
                         min_width=layout.min_width[column], overflow="fold", no_wrap=False)
    for row in layout.texts:
        table.add_row(*(row[layout.index[c]] for c in columns))
    return table


def _all_numbers(layout: _Layout, i: int) -> bool:
    values = [v for v in layout._values(i) if v != UNDEFINED]
    return bool(values) and all(
        v.translate(_NUMBER_MARKS).isdigit() for v in values
    )


_NUMBER_MARKS = str.maketrans("", "", " .,-\u00a0\u2212")


def _print_records(console: Console, layout: _Layout, title: str | None) -> None:
    """One block of ``header: value`` lines per row, for a listing too wide for any table."""
    if title:
        console.print(Text(title, style="bold"))
    label_width = max(len(h) for h in layout.headers)
    for number, row in enumerate(layout.texts, start=1):
        console.print(Text(f"-- {number} --", style="dim"))
        for head, value in zip(layout.headers, row, strict=True):
            line = Text(f"{head:<{label_width}}  ", style="bold")
            line.append(value)
            console.print(line, soft_wrap=True)
