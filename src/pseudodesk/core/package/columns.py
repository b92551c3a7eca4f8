"""Column-at-a-time building blocks of the pipeline (docs/performance.md has the why and the numbers).

Extracts repeat themselves: a gender column has a handful of spellings, a date column a
few thousand dates, and even an NHS-number column repeats people. So a batch column is
*dictionary-encoded* in Arrow's C++ kernels: its distinct values (first-seen order) and,
for each row, the position of its value among them. Checks, pseudonyms and CSV quoting
then run once per distinct value in Python, and the rows are put back together with
``take`` and joined into CSV lines in C++. No Python code runs per cell on this path.

Everything here is exact: the CSV cells are what :class:`~pseudodesk.core.package.export.CsvEncoder`
writes for the same values (tests compare the two on generated text), and a column of
results is the same list a cell-by-cell pass would give.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pseudodesk.core.package.export import FORMULA_TRIGGERS

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
