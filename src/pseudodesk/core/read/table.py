"""The table of text every reader returns, streamed in row batches.

A :class:`SourceTable` holds the header and everything needed to produce the data
rows again, in order, as lists of ``str`` exactly as the user saw them in Excel. It
never holds the whole file as text: :meth:`SourceTable.iter_batches` re-reads and
converts on demand, so a multi-gigabyte CSV costs one batch of memory.

Shaping rules shared by every reader (see docs/readers.md):
- a row with fewer cells than the header is padded with empty cells and reported;
- a row with more cells is fine when the extra cells are empty, and otherwise makes
  the whole file unreadable (:class:`~pseudodesk.core.errors.RaggedRows`), because
  those values belong to no column and would be lost;
- a completely blank row (every cell empty or only whitespace, as ``str.strip`` sees it:
  a row of spaces is blank to anyone looking at it) is skipped and reported (never silently);
- a blank header cell above data becomes ``Column <letter/number>`` (in a CSV, trailing
  blank header cells too: a row reaching past the header row's last cell is ragged; in a
  workbook, values right of the last name are ragged, as a stray cell usually is); a repeated
  header name gets `` (2)``, `` (3)``...; both reported.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pseudodesk.core.errors import RaggedRows


@dataclass(frozen=True)
class SourceIssue:
    """Something about the source the user should know; nothing was lost."""

    kind: str  # "short_rows", "blank_rows", "renamed_headers", "assumption"
    message: str
    lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class RowBatch:
    """Consecutive data rows: ``rows[i]`` came from source line/row ``lines[i]``."""

    rows: list[list[str]]
    lines: list[int]


@dataclass
class ColumnBatch:
    """Consecutive data rows as columns: ``columns[j]`` holds header column ``j`` as a
    ``pyarrow.StringArray`` (``None`` when that column was not asked for); row ``i`` came
    from source line/row ``lines[i]`` (a numpy int64 array).

    The pipeline works on these (see :mod:`pseudodesk.core.run.plan`): each column is
    dictionary-encoded so every distinct value is checked once, and the output CSV is
    joined column by column in Arrow's C++ kernels rather than cell by cell in Python.
    """

    columns: list[Any]
    lines: Any

    @property
    def num_rows(self) -> int:
        return len(self.lines)

    def column_list(self, index: int) -> list[str]:
        column = self.columns[index]
        if column is None:
            raise ValueError(f"column {index} was not read into this batch")
        return column.to_pylist()  # type: ignore[no-any-return]

    def to_rows(self) -> RowBatch:
        """The same rows as lists of text (only the columns read; the others empty)."""
        n = self.num_rows
        lists = [c.to_pylist() if c is not None else [""] * n for c in self.columns]
        return RowBatch([list(row) for row in zip(*lists)] if lists else [[] for _ in range(n)], self.lines.tolist())


RawRows = Callable[[], Iterator[tuple[int, list[str]]]]
"""Re-startable source of (line number, cells) pairs for the data rows only."""

ColumnSource = Callable[[int, "Collection[int] | None"], Iterator[ColumnBatch]]
"""A reader's own column batches: (rows per batch, header columns wanted or None for all)."""

COLUMN_BATCH_ROWS = 131_072
"""Rows per column batch: big enough that per-batch costs vanish, small enough that a
batch of a dozen text columns stays in the tens of megabytes (memory does not grow with
the file: docs/performance.md)."""


@dataclass
class SourceTable:
    """A spreadsheet opened for reading: header, shape facts and a way to stream rows."""

    path: Path
    format: str  # "csv", "xlsx", "xlsm", "xlsb", "xls", "ods"
    header: tuple[str, ...]
    row_count: int
    sheet: str | None = None
    sheet_names: tuple[str, ...] = ()
    header_row: int = 1
    encoding: str | None = None
    delimiter: str | None = None
    encrypted: bool = False
    date_system: int = 1900  # 1904 for workbooks saved with the Mac date system
    # which path read the rows: "arrow" or "csv" (the csv module) for text, "fastexcel" or
    # "calamine" for workbooks; the paths give the same text (tests compare them)
    reader: str = ""
    issues: list[SourceIssue] = field(default_factory=list)
    _raw_rows: RawRows | None = field(default=None, repr=False)
    _column_source: ColumnSource | None = field(default=None, repr=False)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.header

    def iter_rows(self) -> Iterator[tuple[int, list[str]]]:
        """Every kept data row with its source line/row number, padded to the header width."""
        if self._raw_rows is None:
            return iter(())
        return shape_rows(self._raw_rows(), len(self.header))

    def iter_batches(self, batch_size: int = 10_000) -> Iterator[RowBatch]:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        rows: list[list[str]] = []
        lines: list[int] = []
        for line, row in self.iter_rows():
            rows.append(row)
            lines.append(line)
            if len(rows) >= batch_size:
                yield RowBatch(rows, lines)
                rows, lines = [], []
        if rows:
            yield RowBatch(rows, lines)

    def iter_column_batches(
        self, batch_size: int = COLUMN_BATCH_ROWS, columns: Collection[int] | None = None
    ) -> Iterator[ColumnBatch]:
        """The same rows as :meth:`iter_batches`, as columns of text (only ``columns`` when given).

        Readers that can produce columns directly (a clean CSV through Arrow's reader, a
        workbook converted once) do; otherwise the row batches are turned into columns.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if self._column_source is not None:
            yield from self._column_source(batch_size, columns)
            return
        yield from columns_from_rows(self.iter_batches(batch_size), len(self.header), columns)

    def preview(self, limit: int = 100) -> list[list[str]]:
        out: list[list[str]] = []
        for _, row in self.iter_rows():
            out.append(row)
            if len(out) >= limit:
                break
        return out


def columns_from_rows(
    batches: Iterable[RowBatch], width: int, columns: Collection[int] | None
) -> Iterator[ColumnBatch]:
    import numpy as np
    import pyarrow as pa

    wanted = range(width) if columns is None else sorted(set(columns))
    for batch in batches:
        arrays: list[Any] = [None] * width
        for j in wanted:
            arrays[j] = pa.array([row[j] for row in batch.rows], pa.string())
        yield ColumnBatch(arrays, np.asarray(batch.lines, dtype=np.int64))


# The characters str.strip removes (str.isspace), as an RE2 class, so that Arrow's test of a
# cell agrees with is_blank's; tests/core/test_readers_csv.py holds it to every code point.
_SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
BLANK_TEXT = "^[" + "".join(f"\\x{{{ord(c):x}}}" for c in _SPACES) + "]*$"


def is_blank(cells: list[str]) -> bool:
    """No cell holds anything but whitespace: the row is skipped as blank."""
    return not any(cells) or not any(map(str.strip, cells))


def blank_rows(columns: list[Any], count: int) -> Any:
    """Which of ``count`` rows of these Arrow text columns are blank as :func:`is_blank` says
    (a null cell is empty), as a numpy bool array. The other columns are looked at only where
    the first cell is blank."""
    import numpy as np
    import pyarrow.compute as pc

    if not columns:
        return np.ones(count, dtype=bool)
    blank = np.zeros(count, dtype=bool)
    candidates = pc.indices_nonzero(pc.fill_null(pc.match_substring_regex(columns[0], BLANK_TEXT), True))
    if len(candidates):
        kept = np.ones(len(candidates), dtype=bool)
        for column in columns[1:]:
            kept &= pc.fill_null(pc.match_substring_regex(column.take(candidates), BLANK_TEXT), True).to_numpy(
                zero_copy_only=False
            )
        blank[candidates.to_numpy(zero_copy_only=False)] = kept
    return blank


def shape_rows(raw: Iterable[tuple[int, list[str]]], width: int) -> Iterator[tuple[int, list[str]]]:
    """Pad short rows, trim empty overflow, skip blank rows (the scan reports them)."""
    for line, cells in raw:
        n = len(cells)
        if n == width:
            row = cells
        elif n < width:
            row = cells + [""] * (width - n)
        else:
            row = cells[:width]
        if is_blank(row):
            continue
        yield line, row


@dataclass
class ShapeScan:
    """What a full pass over the rows found: counts, and line numbers to report (the first MAX_LINES)."""

    rows: int = 0
    short_lines: list[int] = field(default_factory=list)
    blank_lines: list[int] = field(default_factory=list)
    ragged_lines: list[int] = field(default_factory=list)
    ragged_total: int = 0
    short_total: int = 0
    blank_total: int = 0
    furthest: int = 0  # cells up to the last value of the row reaching furthest right past the header

    MAX_LINES = 1000

    @classmethod
    def from_masks(cls, lines: Any, present: Any, ragged: Any, short: Any = None) -> ShapeScan:
        """The scan of a whole sheet at once, from numpy arrays with one entry per row: its line
        number, whether it has a value under the header, whether it has one past the header's
        last cell, and (optionally) whether it has fewer cells than the header. A row kept is
        present and not ragged; a blank row is neither."""
        kept = present & ~ragged
        blank = ~present & ~ragged
        scan = cls(rows=int(kept.sum()), ragged_total=int(ragged.sum()), blank_total=int(blank.sum()))
        scan.ragged_lines = lines[ragged][: cls.MAX_LINES].tolist()
        scan.blank_lines = lines[blank][: cls.MAX_LINES].tolist()
        if short is not None:
            short = kept & short
            scan.short_total = int(short.sum())
            scan.short_lines = lines[short][: cls.MAX_LINES].tolist()
        return scan

    def feed(self, line: int, cells: list[str], width: int) -> None:
        n = len(cells)
        if n > width and any(c.strip() for c in cells[width:]):
            self.furthest = max(self.furthest, len(trim_trailing_blanks(cells)))
            self.ragged_total += 1
            if len(self.ragged_lines) < self.MAX_LINES:
                self.ragged_lines.append(line)
            return
        if is_blank(cells[:width]):
            self.blank_total += 1
            if len(self.blank_lines) < self.MAX_LINES:
                self.blank_lines.append(line)
            return
        self.rows += 1
        if n < width:
            self.short_total += 1
            if len(self.short_lines) < self.MAX_LINES:
                self.short_lines.append(line)

    def finish(self, path: Path) -> list[SourceIssue]:
        if self.ragged_total:
            raise RaggedRows(path, self.ragged_lines, self.ragged_total)
        issues = []
        if self.short_total:
            issues.append(
                SourceIssue(
                    "short_rows",
                    f"{self.short_total:,} row(s) had fewer cells than the header; "
                    f"the missing cells were read as empty{self._listed(self.short_lines, self.short_total)}",
                    tuple(self.short_lines),
                )
            )
        if self.blank_total:
            issues.append(
                SourceIssue(
                    "blank_rows",
                    f"{self.blank_total:,} completely blank row(s) skipped"
                    f"{self._listed(self.blank_lines, self.blank_total)}",
                    tuple(self.blank_lines),
                )
            )
        return issues

    @staticmethod
    def _listed(lines: list[int], total: int) -> str:
        return f" (the first {len(lines):,} listed)" if total > len(lines) else ""


def trim_trailing_blanks(cells: list[str]) -> list[str]:
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


def name_columns(cells: list[str], label: Callable[[int], str]) -> tuple[tuple[str, ...], list[SourceIssue]]:
    """Header names from a header row: trimmed, blank ones named, duplicates numbered."""
    issues: list[SourceIssue] = []
    names: list[str] = []
    bases = [" ".join(cell.split()) for cell in cells]
    taken = {b.casefold() for b in bases if b}  # a new name never takes one the header already has
    used: set[str] = set()
    blank: list[str] = []
    dup: list[str] = []
    for i, name in enumerate(bases):
        if not name:
            name = f"Column {label(i)}"
            blank.append(name)
        if name.casefold() in used:
            number = 2
            while f"{name} ({number})".casefold() in taken:
                number += 1
            new = f"{name} ({number})"
            dup.append(f"'{name}' -> '{new}'")
            name = new
        used.add(name.casefold())
        taken.add(name.casefold())
        names.append(name)
    if blank:
        issues.append(SourceIssue("renamed_headers", "blank header cell(s) named " + ", ".join(blank)))
    if dup:
        issues.append(SourceIssue("renamed_headers", "repeated header(s) renamed: " + ", ".join(dup)))
    return tuple(names), issues


def excel_column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
