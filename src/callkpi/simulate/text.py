"""Bulk text assembly on Arrow string arrays: numbers to text, joins, and ordered line batches."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Text = pa.StringArray | pa.Scalar | str
_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_NIBBLE_SHIFTS = np.arange(28, -1, -4, dtype=np.int64)


def ints(values: np.ndarray | Sequence[int]) -> pa.StringArray:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def hex8(values: np.ndarray) -> pa.StringArray:
    """Eight lower-case hex digits, as Asterisk numbers its channels (``-0000001a``)."""
    values = np.asarray(values, dtype=np.int64) & 0xFFFFFFFF
    digits = _HEX_DIGITS[(values[:, None] >> _NIBBLE_SHIFTS) & 0xF]
    return fixed_width_text(digits)


def fixed_width_text(characters: np.ndarray) -> pa.StringArray:
    """An (n, width) array of ASCII codes as n strings, without a Python loop."""
    count, width = characters.shape
    offsets = np.arange(0, width * (count + 1), width, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets.tobytes()),
                                       pa.py_buffer(np.ascontiguousarray(characters, dtype=np.uint8).tobytes()))


def join(*parts: Text, sep: str = "") -> pa.StringArray:
    return pc.binary_join_element_wise(*parts, sep)


def lookup(table: Sequence[str], index: np.ndarray) -> pa.StringArray:
    return pa.array(list(table), pa.string()).take(pa.array(np.asarray(index, dtype=np.int64)))


def pick(condition: np.ndarray, when_true: Text, when_false: Text) -> pa.StringArray:
    return pc.if_else(pa.array(np.asarray(condition, dtype=bool)), when_true, when_false)


def as_bytes(lines: pa.StringArray) -> memoryview:
    """The UTF-8 bytes of all strings back to back (each already ends with its newline), no copy."""
    if len(lines) == 0:
        return memoryview(b"")
    if lines.null_count:
        lines = pc.fill_null(lines, "")
    _, offsets, data = lines.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    return memoryview(data)[bounds[0]: bounds[-1]]


class LineBatch:
    """Text lines with a sort key each, collected from several event families."""

    def __init__(self) -> None:
        self._keys: list[np.ndarray] = []
        self._lines: list[pa.StringArray] = []

    def add(self, keys: np.ndarray, lines: pa.StringArray) -> None:
        if len(keys):
            self._keys.append(np.asarray(keys, dtype=np.int64))
            self._lines.append(lines)

    def __len__(self) -> int:
        return sum(len(keys) for keys in self._keys)

    def sorted(self) -> tuple[np.ndarray, pa.StringArray]:
        if not self._keys:
            return np.empty(0, dtype=np.int64), pa.array([], pa.string())
        keys = np.concatenate(self._keys)
        lines = pa.concat_arrays(self._lines)
        order = np.argsort(keys, kind="stable")
        return keys[order], lines.take(pa.array(order))


def csv_field(values: pa.StringArray) -> pa.StringArray:
    """Quote a CSV field when it needs it (comma, quote or newline inside)."""
    needs = pc.match_substring_regex(values, r'[",\n]')
    quoted = join('"', pc.replace_substring(values, '"', '""'), '"')
    return pc.if_else(needs, quoted, values)


def csv_lines(columns: Sequence[pa.StringArray], quote: Sequence[bool] | None = None) -> pa.StringArray:
    """Comma-separated lines ending in a newline; columns flagged in `quote` are checked for quoting."""
    quote = quote or [False] * len(columns)
    parts = [csv_field(column) if needs else column for column, needs in zip(columns, quote, strict=True)]
    return join(join(*parts, sep=","), "\n")
