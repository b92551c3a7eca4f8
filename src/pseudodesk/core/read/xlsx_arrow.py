"""XLSX/XLSM sheets straight to Arrow text columns (fastexcel), when that gives exactly the text.

python-calamine's ``to_python`` makes a Python object for every cell and a list for every
row, which the garbage collector then walks and the run turns into Arrow columns.
fastexcel runs the same Rust calamine parse and builds Arrow columns in Rust, with no
Python object per cell (docs/performance.md has the measurements).

The text must be what :func:`pseudodesk.core.read.cells.cell_text` gives for each cell, so
this path is taken only where that is certain, and :func:`read_columns` returns None
otherwise (the caller then reads the sheet with python-calamine, as for XLS and ODS):

- fastexcel types each column from all its cells with ``dtype_coercion="strict"``: a
  column that holds two kinds of cell (text and numbers, say) is refused rather than
  converted with fastexcel's own formatting. So each column here holds one kind, and its
  text follows from the kind: text as it is; numbers whole below 1e15 without a decimal
  point, others with 15 significant digits (E+ for exponents); TRUE/FALSE; date cells as
  ``YYYY-MM-DD`` (``YYYY-MM-DD HH:MM:SS`` when a time is set); durations ``H:MM:SS``;
  empty, error and uncached-formula cells as empty text (python-calamine's ``''``).
- not taken: the 1904 date system; dates before 1 March 1900 (a time of day alone is a
  date in 1899 to fastexcel and a ``time`` to python-calamine, and Excel's phantom
  29 Feb 1900 lives there) or after 9999; fractions of a second; a cell fastexcel could not
  convert to its column's kind (it would be empty, not its text); negative durations; a header row with
  a cell that is not text (fastexcel names such columns its own way); header names that
  fastexcel may have renamed as duplicates; a header row that fastexcel and the sheet's
  XML disagree about.

A sheet that mixes kinds in one column is therefore parsed twice (fastexcel, then
python-calamine). That is the price of exactness; the big extracts this path is for come
from systems that type a column consistently, and a small hand-made sheet parses in
milliseconds. tests/core/test_xlsx_columns.py compares the two paths on generated sheets.
"""

from __future__ import annotations

import io
import logging
import posixpath
import re
import zipfile
from collections.abc import Collection, Iterator
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pseudodesk.core.read.cells import cell_text
from pseudodesk.core.read.table import ColumnBatch, ShapeScan, blank_rows, excel_column_letter

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_TEXT_KINDS = {"s", "str", "inlineStr"}  # shared string, formula string, inline string
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)$")
_RENAMED = re.compile(r"(.*)_\d+$")
_EARLIEST = np.datetime64("1900-03-01T00:00:00", "s")
_LATEST = np.datetime64("10000-01-01T00:00:00", "s")  # Excel's last date is 31 Dec 9999
_ERROR_CELL = re.compile(r"got 'Error\(\w+\)'$")
_ROWS_STEP = 10_000
SAMPLE_ROWS = 1_000  # data rows looked at in the XML for text mixed with numbers or dates

# fastexcel logs a warning for every column with no cells ("falling back to string"): an
# empty column is ordinary here and becomes empty text.
logging.getLogger("fastexcel").setLevel(logging.ERROR)


class Refused(Exception):
    """This sheet is read with python-calamine instead (the message says why, for tests)."""


def read_columns(data: bytes, sheet: str, header_row: int) -> ArrowSheet | None:
    """The sheet's header and data columns as text, or None where only python-calamine is exact.

    ``header_row`` is 1-based, as the user counts rows.
    """
    try:
        return ArrowSheet(data, sheet, header_row)
    except Refused:
        return None


class ArrowSheet:
    """A sheet's header cells and data rows as Arrow text columns, shaped as ``_SheetText`` shapes them.

    ``header`` is the header row's text (trailing blanks trimmed); ``scan`` the shape facts
    (blank rows, cells beyond the header); ``lines`` the sheet row number of each kept row.
    """

    def __init__(self, data: bytes, sheet: str, header_row: int) -> None:
        import fastexcel

        kinds, mixed = header_kinds(data, sheet, header_row)
        if not kinds:
            raise Refused("the header row is blank or beyond the sheet")
        if any(kind not in _TEXT_KINDS for kind in kinds.values()):
            raise Refused("a header cell is not text")
        if mixed:
            raise Refused(f"column(s) {sorted(mixed)} mix text and other cells in the first {SAMPLE_ROWS:,} rows")
        try:
            loaded = fastexcel.read_excel(data).load_sheet(
                sheet, header_row=header_row - 1, dtype_coercion="strict", schema_sample_rows=None
            )
            infos = loaded.selected_columns
            batch, cell_errors = loaded.to_arrow_with_errors()
        except Exception as exc:  # UnsupportedColumnTypeCombinationError and anything unforeseen
            raise Refused(f"fastexcel: {exc}") from None
        except BaseException as exc:  # a panic in its Rust is not an Exception
            if type(exc).__name__ != "PanicException":
                raise
            raise Refused(f"fastexcel failed: {exc}") from None
        # A cell fastexcel could not convert to its column's kind became null: a date serial past
        # 9999, a t="d" cell that is not an ISO date. Error cells (#N/A...) are empty on both paths.
        lost = [e for e in (cell_errors.errors if cell_errors is not None else []) if not _ERROR_CELL.search(e.detail)]
        if lost:
            raise Refused(f"fastexcel could not convert {len(lost)} cell(s): {lost[0].detail}")
        names: dict[int, str] = {}
        for info in infos:
            if info.column_name_from == "looked_up":
                names[info.absolute_index] = info.name
            elif info.absolute_index in kinds:
                raise Refused("fastexcel did not name a column whose header cell has a value")
        if set(names) != set(kinds):
            raise Refused("fastexcel and the sheet XML disagree about the header row")
        renamed = {m.group(1) for m in map(_RENAMED.match, names.values()) if m}
        if renamed & set(names.values()):
            raise Refused("a header name may be a duplicate that fastexcel renamed")

        span = max(info.absolute_index for info in infos) + 1
        cells = [names.get(j, "") for j in range(span)]
        while cells and not cells[-1].strip():
            cells.pop()
        if not cells:
            raise Refused("the header row is blank")
        self.header = cells
        self.width = width = len(cells)
        count = batch.num_rows
        text = {info.absolute_index: cell_texts(batch.column(i), info.dtype) for i, info in enumerate(infos)}

        present = ~blank_rows([column for j, column in sorted(text.items()) if j < width], count)
        ragged = np.zeros(count, dtype=bool)
        for j, column in text.items():
            if j >= width:
                ragged |= _stripped_nonblank(column)
        numbers = np.arange(header_row + 1, header_row + 1 + count, dtype=np.int64)
        kept = present & ~ragged
        self.scan = scan = ShapeScan.from_masks(numbers, present, ragged)
        self.lines = numbers[kept]
        mask = None if kept.all() else pa.array(kept)
        empty = pc.fill_null(pa.nulls(scan.rows, pa.string()), "")
        self._columns: list[Any] = [
            empty if j not in text else text[j] if mask is None else text[j].filter(mask) for j in range(width)
        ]

    def column_batches(self, batch_size: int, wanted: Collection[int] | None) -> Iterator[ColumnBatch]:
        chosen = range(self.width) if wanted is None else [j for j in sorted(set(wanted)) if j < self.width]
        lines = self.lines
        for start in range(0, len(lines), batch_size):
            n = min(batch_size, len(lines) - start)
            out: list[Any] = [None] * self.width
            for j in chosen:
                out[j] = self._columns[j].slice(start, n)
            yield ColumnBatch(out, lines[start : start + n])

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        for start in range(0, len(self.lines), _ROWS_STEP):
            columns = [c.slice(start, _ROWS_STEP).to_pylist() for c in self._columns]
            yield from zip(self.lines[start : start + _ROWS_STEP].tolist(), map(list, zip(*columns)))


def header_kinds(
    data: bytes, sheet: str, header_row: int, sample_rows: int = SAMPLE_ROWS
) -> tuple[dict[int, str], set[int]]:
    """The header row's cells that hold a value (column index -> the cell's ``t`` attribute),
    and the columns where the next ``sample_rows`` rows mix text with other cells.

    Reads the sheet's XML only that far (a few milliseconds), so that a sheet python-calamine
    must read anyway is usually not parsed by fastexcel first. Raises :class:`Refused` when
    the sheet's part cannot be found the usual way (strict OOXML, an odd package).
    """
    header: dict[int, str] = {}
    text: set[int] = set()
    other: set[int] = set()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            part = _sheet_part(package, sheet)
            with package.open(part) as stream:
                row_number = 0
                for _, element in ElementTree.iterparse(stream, events=("end",)):
                    if element.tag != _MAIN + "row":
                        continue
                    row_number = int(element.get("r") or row_number + 1)
                    if row_number >= header_row + sample_rows:
                        break
                    if row_number == header_row:
                        header = _row_kinds(element)
                    elif row_number > header_row:
                        for column, kind in _row_kinds(element).items():
                            if kind != "e":  # error cells read as empty on both paths
                                (text if kind in _TEXT_KINDS else other).add(column)
                    element.clear()
    except (KeyError, ValueError, zipfile.BadZipFile, ElementTree.ParseError) as exc:
        raise Refused(f"the sheet's XML: {exc}") from None
    return header, text & other


# calamine (both python-calamine and fastexcel) first makes a grid from the sheet's first to
# its last cell that holds a value, 32 bytes a cell whatever the cell. One stray value far from
# the data (a space typed in XFD2, say) makes that grid billions of cells: a failed allocation
# aborts the process (it is not a Python exception), and a smaller spread takes gigabytes and
# minutes (docs/readers.md). So sheets whose
# grid would pass this many cells are refused first, naming the far cells. A full sheet of
# 1,048,576 rows by 47 columns still fits.
MAX_GRID_CELLS = 50_000_000
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=[\"']\$?([A-Z]{1,3})?\$?(\d+)?(?::\$?([A-Z]{1,3})\$?(\d+))?[\"']")
# A cell with a value, as Excel writes it (the reference first; any namespace prefix before the
# c); <c r="X9" s="1"/> is formatting only. A literal start lets the regex engine skip ahead:
# with "<(?:\w+:)?" in front the scan took ten times as long.
_VALUED_COLUMN = re.compile(rb"""c r=["']([A-Z]{1,3})\d+["'][^>]*(?<!/)>""")
_VALUED_ROW = re.compile(rb"""c r=["'][A-Z]{1,3}(\d+)["'][^>]*(?<!/)>""")


class TooSpread(Exception):
    """The sheet's values span a grid too large to read."""

    def __init__(self, rows: int, columns: int, right: str, down: str, sheet: str = "") -> None:
        self.rows, self.columns, self.right, self.down, self.sheet = rows, columns, right, down, sheet
        super().__init__(f"{rows} x {columns}")


def check_grid(data: bytes, sheet: str, limit: int | None = None) -> None:
    """Raise :class:`TooSpread` when the cells holding values span more than ``limit`` grid cells.

    The sheet's ``<dimension>`` (which Excel keeps up to date) settles the usual sheet in
    microseconds; only a sheet without one, or one whose dimension is over the limit, has
    its cells' references read (a regex over the XML, a few seconds for millions of cells)
    to find the cells that make the grid that large. A sheet the references cannot be found
    in (strict OOXML, cells without references) is left to calamine.
    """
    limit = MAX_GRID_CELLS if limit is None else limit
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            part = _sheet_part(package, sheet)
            with package.open(part) as stream:
                head = stream.read(1 << 16)
            found = _DIMENSION.search(head)
            if found and found.group(2):
                first_col = _column_index(found.group(1).decode()) if found.group(1) else 0
                last_col = _column_index(found.group(3).decode()) if found.group(3) else first_col
                first_row = int(found.group(2))
                last_row = int(found.group(4)) if found.group(4) else first_row
                if (last_row - first_row + 1) * (last_col - first_col + 1) <= limit:
                    return
            _scan_grid(package, part, limit)
    except (KeyError, ValueError, zipfile.BadZipFile, ElementTree.ParseError):
        return  # not a package we can look into: calamine reports what is wrong with it


def _scan_grid(package: zipfile.ZipFile, part: str, limit: int) -> None:
    first_row, last_row = 1 << 62, 0  # of the cells holding a value
    letters: set[bytes] = set()
    for text in _xml_blocks(package, part):
        letters.update(_VALUED_COLUMN.findall(text))  # the regexes run in C; Python sees distinct letters
        rows = _VALUED_ROW.findall(text)
        if rows:
            numbers = list(map(int, rows))
            first_row, last_row = min(first_row, min(numbers)), max(last_row, max(numbers))
    if not last_row:
        return
    columns = sorted(_column_index(c.decode()) for c in letters)
    height, width = last_row - first_row + 1, columns[-1] - columns[0] + 1
    if height * width <= limit:
        return
    right = excel_column_letter(columns[-1])
    in_column = re.compile(rb"""c r=["']""" + right.encode() + rb"""(\d+)["'][^>]*(?<!/)>""")
    in_row = re.compile(rb"""c r=["']([A-Z]{1,3})""" + str(last_row).encode() + rb"""["'][^>]*(?<!/)>""")
    right_cell = down_cell = ""
    for text in _xml_blocks(package, part):  # only for the message: where those cells are
        if not right_cell and (found := in_column.search(text)):
            right_cell = right + found.group(1).decode()
        if not down_cell and (found := in_row.search(text)):
            down_cell = found.group(1).decode() + str(last_row)
    raise TooSpread(height, width, right_cell, down_cell)


# A formula with no cached result: the formula element, then (no value, or an empty one) the
# cell's end. Excel writes f, then v, inside a c; "</f></c>" is a formula never calculated.
_UNCACHED = re.compile(
    rb"(?:</(?:\w+:)?f>|<(?:\w+:)?f\b[^>]*/>)(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v></(?:\w+:)?v>)?</(?:\w+:)?c>"
)
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_FULL_CALC = re.compile(rb"""fullCalcOnLoad\s*=\s*["'](?:1|true)["']""")
_CELL_START = re.compile(rb'c r="([A-Z]{1,3}\d+)"')


# How much of a sheet's XML is searched for formulas: the first 4 MiB (some 7,000 rows of a dozen
# columns). Searching it all would add a sixth to a large sheet's read; the workbooks this is
# about (written by a program that writes formulas) have them from the first rows.
FORMULA_SAMPLE_BYTES = 1 << 22


def formula_problem(data: bytes, sheet: str) -> tuple[bool, str] | None:
    """What is wrong with the sheet's saved formula results, if anything: (refused, message).

    calamine reads the result Excel saved with each formula. A workbook written by a program
    (openpyxl, a report generator) may hold formulas with no saved result: they read as
    empty (a row of them looked blank and was skipped), while Excel shows the calculated
    values. pseudodesk cannot calculate, so such a sheet is refused until Excel has opened
    and saved it. A workbook that asks to be recalculated when opened (xlsxwriter always
    does, and saves 0 as every formula's result unless told the value) is read, with a
    warning naming a formula cell: its saved results may not be what Excel shows. The first
    FORMULA_SAMPLE_BYTES of the sheet are looked at (a known gap: a formula without a result
    only further down is read as empty).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            part = _sheet_part(package, sheet)
            with package.open(part) as stream:
                text = stream.read(FORMULA_SAMPLE_BYTES)
            if b"f>" not in text:  # every formula ends "</f>" (or "</x:f>") but a shared one's followers
                return None
            found = _UNCACHED.search(text)
            if found:
                return True, (
                    f"cell {_cell_before(text, found.start())} holds a formula whose result was "
                    "never saved in the file (it was written by a program, not saved by Excel), so "
                    "its value cannot be read. Open the workbook in Excel, save it, and load it again."
                )
            formula = _FORMULA.search(text)
            if formula and _FULL_CALC.search(package.read("xl/workbook.xml")):
                return False, (
                    f"the workbook asks to be recalculated when it is opened, so the results saved "
                    f"in its formula cells (such as {_cell_before(text, formula.start())}) were read "
                    "as they are and may not be what Excel shows; if in doubt, open it in Excel, save "
                    "it, and load it again"
                )
    except (KeyError, ValueError, zipfile.BadZipFile, ElementTree.ParseError):
        return None  # not a package we can look into: calamine reports what is wrong with it
    return None


def _cell_before(text: bytes, position: int) -> str:
    start = text.rfind(b"<c ", 0, position)
    start = max(start, text.rfind(b":c ", 0, position))
    found = _CELL_START.match(text, start + 1) if start >= 0 else None
    return found.group(1).decode() if found else "(unknown)"


def error_cell(data: bytes, sheet: str, value: str) -> str | None:
    """The reference of the first cell of the sheet holding the error value ``value`` (as
    ``#SPILL!``), for a message; None when it cannot be found."""
    pattern = re.compile(rb"<(?:\w+:)?v>" + re.escape(value.encode()) + rb"</(?:\w+:)?v>")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            for text in _xml_blocks(package, _sheet_part(package, sheet)):
                if found := pattern.search(text):
                    return _cell_before(text, found.start())
    except (KeyError, ValueError, zipfile.BadZipFile, ElementTree.ParseError):
        pass
    return None


def _xml_blocks(package: zipfile.ZipFile, part: str) -> Iterator[bytes]:
    """The part's bytes in blocks of about 4 MiB, each ending before a tag's ``<``."""
    tail = b""
    with package.open(part) as stream:
        while chunk := stream.read(1 << 22):
            text = tail + chunk
            cut = text.rfind(b"<")
            text, tail = (text[:cut], text[cut:]) if cut > 0 else (text, b"")
            yield text
    if tail:
        yield tail


def _sheet_part(package: zipfile.ZipFile, sheet: str) -> str:
    workbook = ElementTree.fromstring(package.read("xl/workbook.xml"))
    ids = [s.get(_RELATIONSHIP) for s in workbook.iter(_MAIN + "sheet") if s.get("name") == sheet]
    rels = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    targets = [r.get("Target") or "" for r in rels if ids and r.get("Id") == ids[0]]
    if not targets:
        raise KeyError(f"no part for sheet {sheet!r}")
    target = targets[0]
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def _row_kinds(row: Any) -> dict[int, str]:
    kinds: dict[int, str] = {}
    column = -1
    for cell in row.iter(_MAIN + "c"):
        ref = _CELL_REF.match(cell.get("r") or "")
        column = _column_index(ref.group(1)) if ref else column + 1
        if cell.find(_MAIN + "v") is not None or cell.find(_MAIN + "is") is not None:
            kinds[column] = cell.get("t") or "n"
    return kinds


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def cell_texts(column: Any, dtype: str) -> Any:
    """A fastexcel column of one kind of cell as the text :func:`~pseudodesk.core.read.cells.cell_text` gives."""
    if dtype == "string":
        return pc.fill_null(column.cast(pa.string()), "")
    if dtype == "null" or column.null_count == len(column):
        return pc.fill_null(pa.nulls(len(column), pa.string()), "")
    if dtype in ("float", "int"):
        return _number_texts(column.cast(pa.float64(), safe=False))
    if dtype == "boolean":
        return pc.fill_null(pc.if_else(column, "TRUE", "FALSE"), "")
    if dtype in ("datetime", "date"):
        return _date_texts(column)
    if dtype == "duration":
        return _duration_texts(column)
    raise Refused(f"a column of kind {dtype}")


def _number_texts(numbers: Any) -> Any:

    whole = pc.and_(pc.equal(pc.floor(numbers), numbers), pc.less(pc.abs(numbers), 1e15))
    texts = pc.cast(pc.cast(pc.if_else(whole, numbers, 0.0), pa.int64()), pa.string())
    if pc.any(pc.invert(whole)).as_py():
        others = pc.unique(pc.filter(numbers, pc.invert(whole)))
        shown = pa.array([cell_text(v) for v in others.to_pylist()], pa.string())
        texts = pc.if_else(whole, texts, pc.take(shown, pc.index_in(numbers, others)))
    return pc.fill_null(texts, "")


def _date_texts(column: Any) -> Any:
    try:
        seconds = column.cast(pa.timestamp("s"))  # safe: refuses to drop a fraction of a second
    except pa.ArrowInvalid:
        raise Refused("a date cell with a fraction of a second") from None
    values = seconds.to_numpy(zero_copy_only=False)  # NaT where empty
    known = ~np.isnat(values)
    if (values[known] < _EARLIEST).any():
        raise Refused("a date before 1 March 1900 (or a time of day alone)")
    if (values[known] >= _LATEST).any():
        raise Refused("a date serial past 31 December 9999 (python-calamine gives the number)")
    midnight = pc.equal(pc.floor_temporal(seconds, unit="day"), seconds)
    texts = pc.if_else(
        midnight, pc.strftime(seconds, format="%Y-%m-%d"), pc.strftime(seconds, format="%Y-%m-%d %H:%M:%S")
    )
    return pc.fill_null(texts, "")


def _duration_texts(column: Any) -> Any:
    try:
        seconds = column.cast(pa.duration("s")).cast(pa.int64())
    except pa.ArrowInvalid:
        raise Refused("a duration with a fraction of a second") from None
    if pc.any(pc.less(seconds, 0)).as_py():
        raise Refused("a negative duration")
    return pa.array(
        ["" if s is None else f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" for s in seconds.to_pylist()],
        pa.string(),
    )


def _stripped_nonblank(column: Any) -> np.ndarray:
    """Rows whose text is not blank after Python's ``str.strip`` (cells beyond the header)."""
    uniques = pc.unique(column)
    blank = pa.array([not v.strip() for v in uniques.to_pylist()], pa.bool_())
    return np.asarray(
        pc.invert(pc.take(blank, pc.index_in(column, uniques))).to_numpy(zero_copy_only=False), dtype=bool
    )


__all__ = ["read_columns", "ArrowSheet", "header_kinds", "cell_texts", "Refused"]
