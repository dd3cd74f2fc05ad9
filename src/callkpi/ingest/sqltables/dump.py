"""A streaming reader of SQL dump files (mysqldump, Navicat, phpMyAdmin): the rows of their
``INSERT INTO `t` VALUES (...),(...);`` statements, table by table, in bounded memory.

The file is read in pieces of at most :data:`PIECE_CHARS` characters; a statement may span pieces
and lines. ``CREATE TABLE`` gives the column names; ``delimiter ;;`` sections (triggers, procedures,
whose bodies hold INSERTs of their own) and comments are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PIECE_CHARS = 1 << 20
HEAD_CHARS = 4096  # a statement is recognised from the first characters of its line
_ESCAPES = {"0": "\x00", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a", "%": "\\%", "_": "\\_"}
_NAME = r"[`\"]?([^`\"\s(.]+)[`\"]?"
_INSERT = re.compile(
    rf"^\s*(?:INSERT|REPLACE)\s+(?:IGNORE\s+)?INTO\s+(?:{_NAME}\.)?{_NAME}\s*(?:\(([^)]*)\))?\s*VALUES\s*",
    re.IGNORECASE)
_CREATE = re.compile(rf"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:{_NAME}\.)?{_NAME}", re.IGNORECASE)
_COLUMN = re.compile(r"^\s*[`\"]([^`\"]+)[`\"]\s+\w")
_DELIMITER = re.compile(r"^\s*delimiter\s+(\S+)", re.IGNORECASE)
# a file of bare INSERT lines is FreeSWITCH's SQL template (mod_cdr_csv), not a dump
_SNIFF_START = ("/*", "--", "SET ", "DROP TABLE", "CREATE TABLE", "LOCK TABLES", "USE ")
_SNIFF_BODY = re.compile(rb"\b(CREATE\s+TABLE|INSERT\s+INTO)\s", re.IGNORECASE)


def looks_like_dump(head: bytes) -> bool:
    """A SQL dump starts with a comment or a statement and has a CREATE TABLE or INSERT INTO."""
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    first = text[:40].decode("utf-8", errors="replace").upper()
    return any(first.startswith(p.upper()) for p in _SNIFF_START) and _SNIFF_BODY.search(head) is not None


@dataclass(frozen=True)
class DumpRow:
    table: str
    columns: tuple[str, ...]
    values: tuple[str | None, ...]
    line_no: int  # line of the dump where the row's values begin


@dataclass
class DumpProblem:
    line_no: int
    reason: str


@dataclass
class DumpReader:
    """Iterate :meth:`rows`; afterwards :attr:`tables` names every table seen and :attr:`counts` its rows."""

    path: Path
    tables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[DumpProblem] = field(default_factory=list)

    def rows(self) -> Iterator[DumpRow]:
        parser: _Values | None = None
        creating: str | None = None
        in_comment = False
        custom_delimiter = False
        head: str | None = None  # the start of a line outside a statement, up to HEAD_CHARS
        for line_no, text, line_start in _pieces(self.path):
            if parser is not None:
                yield from parser.feed(text, line_no)
                if parser.done:
                    parser = None
                continue
            if line_start:
                head = text
            elif head is not None:
                head += text
            else:
                continue  # the rest of a long line that is no statement callkpi reads
            if not head.endswith("\n") and len(head) < HEAD_CHARS:
                continue
            piece, head = head, None
            stripped = piece.strip()
            if in_comment:
                in_comment = "*/" not in stripped
                continue
            found = _DELIMITER.match(piece)
            if found:
                custom_delimiter = found.group(1) != ";"
                continue
            if custom_delimiter or not stripped or stripped.startswith("--") or stripped.startswith("#"):
                continue
            if stripped.startswith("/*") and "*/" not in stripped:
                in_comment = True
                continue
            if creating is not None:
                creating = self._column(creating, stripped)
                continue
            creating = self._create(piece)
            if creating is not None:
                continue
            insert = _INSERT.match(piece)
            if insert:
                parser = self._insert(insert, line_no)
                yield from parser.feed(piece[insert.end():], line_no)
                if parser.done:
                    parser = None
        if parser is not None:  # a dump cut short (e.g. copied while being written)
            self.problems.append(DumpProblem(parser.unfinished_line(),
                                             f"the dump ends inside an INSERT INTO {parser.table}"))

    def _create(self, line: str) -> str | None:
        found = _CREATE.match(line)
        if not found:
            return None
        name = found.group(2)
        self.tables[name] = ()
        self.counts.setdefault(name, 0)
        return name

    def _column(self, table: str, line: str) -> str | None:
        if line.startswith(")"):
            return None
        found = _COLUMN.match(line)
        if found:
            self.tables[table] = (*self.tables[table], found.group(1))
        return table

    def _insert(self, found: re.Match[str], line_no: int) -> _Values:
        table = found.group(2)
        listed = found.group(3)
        if listed is not None:
            columns = tuple(name.strip().strip("`\"") for name in listed.split(","))
        else:
            columns = self.tables.get(table, ())
        self.tables.setdefault(table, columns)
        self.counts.setdefault(table, 0)
        return _Values(self, table, columns, line_no)


def _pieces(path: Path) -> Iterator[tuple[int, str, bool]]:
    """(line number, text, starts a line) of the file, at most PIECE_CHARS characters each."""
    line_no = 1
    line_start = True
    with path.open("r", encoding="utf-8", errors="replace", newline="") as handle:
        while True:
            piece = handle.readline(PIECE_CHARS)
            if not piece:
                if not line_start:  # a last line without its newline is still a line
                    yield line_no, "\n", False
                return
            yield line_no, piece, line_start
            line_start = piece.endswith("\n")
            if line_start:
                line_no += 1


class _Values:
    """The state machine of one statement's ``(v, v, ...), (...)`` list, fed piece by piece."""

    def __init__(self, reader: DumpReader, table: str, columns: tuple[str, ...], line_no: int) -> None:
        self.reader, self.table, self.columns = reader, table, columns
        self.done = False
        self._in_row = False
        self._quote: str | None = None  # the open string's quote character
        self._escape = False
        self._quote_pending = False  # a quote just closed: a second one continues the string
        self._token: list[str] = []
        self._quoted = False
        self._values: list[str | None] = []
        self._row_line = line_no

    def feed(self, text: str, line_no: int) -> Iterator[DumpRow]:
        i, size = 0, len(text)
        while i < size and not self.done:
            ch = text[i]
            if self._quote is not None:
                i = self._string(text, i)
                continue
            if self._quote_pending:
                self._quote_pending = False
                if ch == self._last_quote:
                    self._quote = ch
                    self._token.append(ch)
                    i += 1
                    continue
            if not self._in_row:
                if ch == "(":
                    self._in_row, self._values, self._token, self._quoted = True, [], [], False
                    self._row_line = line_no
                elif ch == ";":
                    self.done = True
                elif not ch.isspace() and ch != ",":
                    self.reader.problems.append(
                        DumpProblem(line_no, f"unexpected {ch!r} in the VALUES of {self.table}"))
                    self.done = True
                i += 1
                continue
            if ch in "'\"":
                self._quote, self._quoted = ch, True
            elif ch == ",":
                self._end_value()
            elif ch == ")":
                self._end_value()
                self._in_row = False
                row = self._row()
                if row is not None:
                    yield row
            elif not ch.isspace():
                self._token.append(ch)
            i += 1

    def unfinished_line(self) -> int:
        """The line of the row being read when the text ended (or of the INSERT, between rows)."""
        return self._row_line

    def _string(self, text: str, i: int) -> int:
        quote = self._quote
        if self._escape:
            ch = text[i]
            self._token.append(_ESCAPES.get(ch, ch))
            self._escape = False
            return i + 1
        size = len(text)
        j = i
        while j < size and text[j] != quote and text[j] != "\\":
            j += 1
        self._token.append(text[i:j])
        if j >= size:
            return j
        if text[j] == "\\":
            self._escape = True
        else:
            self._quote, self._last_quote, self._quote_pending = None, quote, True
        return j + 1

    def _end_value(self) -> None:
        text = "".join(self._token)
        if self._quoted:
            self._values.append(text)
        elif text.upper() == "NULL":
            self._values.append(None)
        else:
            self._values.append(text)
        self._token, self._quoted = [], False

    def _row(self) -> DumpRow | None:
        values = tuple(self._values)
        if self.columns and len(values) != len(self.columns):
            self.reader.problems.append(DumpProblem(
                self._row_line, f"{self.table}: {len(values)} values, the table has {len(self.columns)} columns"))
            return None
        self.reader.counts[self.table] = self.reader.counts.get(self.table, 0) + 1
        return DumpRow(self.table, self.columns, values, self._row_line)
