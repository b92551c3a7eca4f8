"""The CSV that leaves: RFC 4180 (UTF-8, CRLF, minimal quoting), formulas neutralised (docs/csv-output.md).

- :class:`CsvEncoder` turns row batches into CSV bytes, the header first; :func:`neutralise`
  prefixes a cell a spreadsheet would run as a formula with an apostrophe.
- :func:`csv_bytes` writes the same bytes from whole output columns. A batch column is
  dictionary-encoded in Arrow's C++ kernels (its distinct values and, per row, which one),
  so quoting runs once per distinct value in Python and the rows are joined into CSV lines
  in C++; no Python code runs per cell. The cells are exactly what :class:`CsvEncoder`
  writes for the same values (tests compare the two on generated text).

The CSV is only ever handed to the encryption (package/crypto); it never reaches the disk.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Prefix a cell that a spreadsheet would run as a formula with an apostrophe."""
    if value and value[0] in FORMULA_TRIGGERS:
        return "'" + value
    return value


class CsvEncoder:
    """Encodes rows to CSV bytes batch by batch; the header comes first."""

    def __init__(self, header: Sequence[str]) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        self._writer.writerow([neutralise(h) for h in header])

    def encode(self, rows: Sequence[Sequence[str]], plain: Sequence[Sequence[bool]] | None = None) -> bytes:
        """CSV bytes for the rows (and the header, on the first call).

        ``plain[i][j]`` true means the cell was validated by a convention as a plain
        number or date and is written as it is.
        """
        for i, row in enumerate(rows):
            flags = plain[i] if plain is not None else None
            self._writer.writerow([v if flags is not None and flags[j] else neutralise(v) for j, v in enumerate(row)])
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode("utf-8")


_TRIGGER_PATTERN = "^[" + "".join("\\" + t if t in "-^]\\" else t for t in FORMULA_TRIGGERS) + "]"
_QUOTE_PATTERN = '[",\r\n]'  # what the csv module's QUOTE_MINIMAL quotes with delimiter ',' and CRLF


@dataclass
class OutputColumn:
    """One output column of a batch: a value per entry and the entry each written row takes.

    ``codes`` is None when there is one entry per written row, in order.
    """

    values: list[str]
    plain: list[bool]
    codes: np.ndarray | None

    def row_values(self) -> list[str]:
        if self.codes is None:
            return self.values
        values = self.values
        return [values[k] for k in self.codes.tolist()]

    def row_plain(self) -> list[bool]:
        if self.codes is None:
            return self.plain
        plain = self.plain
        return [plain[k] for k in self.codes.tolist()]


def csv_cells(values: list[str], plain: Sequence[bool], *, only_column: bool = False) -> Any:
    """CSV text for each value (an Arrow array): formula triggers neutralised unless plain, quoted when needed."""
    text = pa.array(values, pa.string())
    if not len(text):
        return text
    plain_flags = pa.array(plain, pa.bool_())
    if not pc.all(plain_flags).as_py():  # plain values are validated numbers and dates
        triggered = pc.match_substring_regex(text, _TRIGGER_PATTERN)
        if pc.any(triggered).as_py():
            risky = pc.and_(triggered, pc.invert(plain_flags))
            text = pc.if_else(risky, pc.binary_join_element_wise("'", text, ""), text)
    quoted = pc.match_substring_regex(text, _QUOTE_PATTERN)
    if only_column:  # the csv module writes a row of one empty field as "" (a bare CRLF would be a blank line)
        quoted = pc.or_(quoted, pc.equal(text, ""))
    if pc.any(quoted).as_py():
        wrapped = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
        text = pc.if_else(quoted, wrapped, text)
    return text


def csv_bytes(columns: Sequence[OutputColumn], rows: int) -> bytes:
    """The CSV lines (UTF-8, CRLF) of one batch, joined column by column in Arrow."""
    if not rows:
        return b""
    if not columns:
        return b"\r\n" * rows
    cells = []
    last = len(columns) - 1
    for i, column in enumerate(columns):
        text = csv_cells(column.values, column.plain, only_column=last == 0)
        if i == last:
            text = pc.binary_join_element_wise(text, "\r\n", "")
        if column.codes is not None:
            text = text.take(pa.array(column.codes))
        cells.append(text)
    lines = cells[0] if len(cells) == 1 else pc.binary_join_element_wise(*cells, ",")
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    start, end = int(offsets[0]), int(offsets[-1])
    return lines.buffers()[2].slice(start, end - start).to_pybytes()  # type: ignore[no-any-return]
