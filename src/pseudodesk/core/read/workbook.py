"""Workbooks (XLSX/XLSM/XLSB, XLS, ODS, password-protected too) read by calamine, or by
fastexcel straight to Arrow columns where the text is certain to be the same.
"""

from __future__ import annotations

import gc
import io
import re
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pseudodesk.core.errors import (
    EmptyFile,
    NoHeader,
    NotASpreadsheet,
    PasswordRequired,
    SheetNotFound,
    WrongPassword,
)
from pseudodesk.core.read import grid, xlsx_arrow
from pseudodesk.core.read.cells import cell_text
from pseudodesk.core.read.date_system import workbook_date_system
from pseudodesk.core.read.magic import OLE_MAGIC, ZIP_MAGIC
from pseudodesk.core.read.table import (
    ColumnBatch,
    ShapeScan,
    SourceIssue,
    SourceTable,
    excel_column_letter,
    name_columns,
    trim_trailing_blanks,
)
from pseudodesk.core.threads import in_background

_collector_lock = threading.Lock()


_collector_holds = 0


_collector_was_enabled = False


# Excel's "read-only recommended" protection encrypts .xls files with this well-known
# password; Excel opens them without asking, so pseudodesk does too.
EXCEL_DEFAULT_PASSWORD = "VelvetSweatshop"


def _decrypt(path: Path, data: bytes, password: str | None) -> bytes:
    import msoffcrypto
    from msoffcrypto.exceptions import DecryptionError, InvalidKeyError

    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        encrypted = office.is_encrypted()
    except Exception:  # msoffcrypto raises bare exceptions for unknown OLE content
        return data  # not an Office document msoffcrypto knows: let the reader decide
    if not encrypted:
        return data
    candidates = [password] if password is not None else []
    if path.suffix.lower() == ".xls" and password is None:
        candidates.append(EXCEL_DEFAULT_PASSWORD)
    for candidate in candidates:
        try:
            office = msoffcrypto.OfficeFile(io.BytesIO(data))
            office.load_key(password=candidate)
            out = io.BytesIO()
            office.decrypt(out)
            return out.getvalue()
        except (InvalidKeyError, DecryptionError):
            continue
        except Exception as exc:  # damaged encryption headers
            raise NotASpreadsheet(path, f"the workbook is encrypted but damaged ({exc})") from None
    if password is None:
        raise PasswordRequired(path, "the workbook is password-protected; enter its password to open it")
    raise WrongPassword(path, "the password does not open this workbook (passwords are case-sensitive)")


def open_workbook(path: Path, password: str | None) -> tuple[Any, bool, int, bytes]:
    """The calamine workbook (decrypted in memory when protected), whether it was encrypted, its
    date system, and its (decrypted) bytes."""
    import python_calamine as calamine

    data = path.read_bytes()
    if not data:
        raise EmptyFile(path, "the file is empty (0 bytes)")
    encrypted = False
    if data.startswith(OLE_MAGIC):
        plain = _decrypt(path, data, password)
        encrypted = plain is not data
        data = plain
    elif path.suffix.lower() != ".xls" and not data.startswith(ZIP_MAGIC):
        raise NotASpreadsheet(
            path, f"this is not a valid {path.suffix.lower()} workbook (the file is damaged or another kind of file)"
        )
    if path.suffix.lower() == ".ods" and data.startswith(ZIP_MAGIC):
        try:  # calamine makes every sheet of an ODS when it opens it: measure them all first
            grid.check_ods_grid(data, None)
        except xlsx_arrow.TooSpread as spread:
            raise NotASpreadsheet(path, _too_spread(spread.sheet, spread, grid.PYTHON_CELL_BYTES)) from None
    try:
        return calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)), encrypted, workbook_date_system(data), data
    except Exception as exc:  # calamine raises CalamineError, ZipError, XmlError, PasswordError...
        if type(exc).__name__ == "PasswordError":
            raise PasswordRequired(path, "the workbook is password-protected; enter its password to open it") from None
        raise NotASpreadsheet(
            path, f"the workbook cannot be read: it is damaged or not a spreadsheet ({exc})"
        ) from None


def pick_sheet(workbook: Any, path: Path, sheet: str | None) -> tuple[str, list[SourceIssue]]:
    """The sheet to read: ``sheet`` when given (refused when the workbook has none of that name),
    else the first visible worksheet; failing that the first worksheet, hidden or not, never a
    chart sheet (a chart first with the data's worksheet hidden is a real layout)."""
    names = tuple(workbook.sheet_names)
    if not names:
        raise EmptyFile(path, "the workbook has no worksheets")
    if sheet is not None:
        if sheet not in names:
            raise SheetNotFound(
                path,
                f"there is no sheet named '{sheet}'; the sheets are: {', '.join(names)}",
            )
        return sheet, []
    worksheets = [m for m in workbook.sheets_metadata if str(m.typ).endswith("WorkSheet")]
    visible = [m.name for m in worksheets if str(m.visible).endswith("Visible")]
    sheet = visible[0] if visible else worksheets[0].name if worksheets else names[0]
    if not visible and worksheets:
        return sheet, [
            SourceIssue("assumption", f"no worksheet is visible in Excel; read the first, '{sheet}', which is hidden")
        ]
    return sheet, []


def first_workbook_rows(path: Path, sheet: str | None, password: str | None, count: int) -> list[list[str]]:
    """The text of the sheet's first ``count`` rows as they are (row 1 first), for finding the header."""
    workbook = open_workbook(path, password)[0]
    name, _ = pick_sheet(workbook, path, sheet)
    try:
        rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False, nrows=count)
    except Exception as exc:  # calamine refuses some sheets whole; the full read says why
        raise NotASpreadsheet(path, f"sheet '{name}' cannot be read ({type(exc).__name__})") from None
    return [[cell_text(v) for v in row] for row in rows]


def read_workbook(path: Path, sheet: str | None, header_row: int, password: str | None) -> SourceTable:
    workbook, encrypted, date_system, data = open_workbook(path, password)
    names = tuple(workbook.sheet_names)
    if not names:
        raise EmptyFile(path, "the workbook has no worksheets")
    sheet, picked = pick_sheet(workbook, path, sheet)
    # ODS and XLSB are ZIP packages too, without the XML parts the column path reads.
    xml_sheet = path.suffix.lower() in (".xlsx", ".xlsm") and data.startswith(ZIP_MAGIC)
    formulas = None
    if xml_sheet:
        try:
            xlsx_arrow.check_grid(data, sheet)
        except xlsx_arrow.TooSpread as spread:
            raise NotASpreadsheet(path, _too_spread(sheet, spread)) from None
        # The sheet's first rows are searched for formulas without saved results beside
        # calamine's parse (inflating releases the GIL; so do calamine and fastexcel parsing).
        formulas = in_background(xlsx_arrow.formula_problem, data, sheet)

    def formulas_checked() -> list[SourceIssue]:
        problem = formulas.result() if formulas is not None else None
        if problem is None:
            return []
        refused, message = problem
        if refused:
            raise NotASpreadsheet(path, message)
        return [SourceIssue("assumption", message)]

    if xml_sheet and date_system == 1900:
        columns = xlsx_arrow.read_columns(data, sheet, header_row)
        formula_issues = formulas_checked()
        if columns is not None:
            del data
            names_, issues = name_columns(columns.header, excel_column_letter)
            issues += columns.scan.finish(path) + formula_issues + picked
            return _workbook_table(
                path,
                date_system,
                names_,
                issues,
                columns,
                "fastexcel",
                sheet=sheet,
                sheet_names=names,
                header_row=header_row,
                encrypted=encrypted,
            )
    try:  # the grid python-calamine would make, measured first (grid.py)
        if path.suffix.lower() == ".xlsb" and data.startswith(ZIP_MAGIC):
            grid.check_xlsb_grid(data, sheet)
        elif xml_sheet:
            xlsx_arrow.check_grid(data, sheet, grid.PYTHON_GRID_CELLS)
    except xlsx_arrow.TooSpread as spread:
        raise NotASpreadsheet(path, _too_spread(sheet, spread, grid.PYTHON_CELL_BYTES)) from None
    del data
    with _collector_paused():
        try:
            cells = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        except Exception as exc:
            unknown = re.search(r"Unsupported cell error value '([^']*)'", str(exc))
            if unknown:
                raise NotASpreadsheet(path, _unknown_error_value(path, sheet, password, unknown.group(1))) from None
            raise NotASpreadsheet(path, f"sheet '{sheet}' cannot be read ({exc})") from None
        except BaseException as exc:  # a panic in calamine's Rust (out of memory, say) is not an Exception
            if type(exc).__name__ != "PanicException":
                raise
            raise NotASpreadsheet(path, f"sheet '{sheet}' cannot be read (calamine failed: {exc})") from None
        formula_issues = formulas_checked()  # before the shape: a row of uncalculated formulas looks blank
        if not any(any(v != "" and v is not None for v in row) for row in cells):
            raise EmptyFile(path, f"sheet '{sheet}' is empty")
        if header_row > len(cells):
            raise NoHeader(
                path, f"sheet '{sheet}' has no row {header_row} to use as the header (it ends at row {len(cells)})"
            )
        header_cells = trim_trailing_blanks([cell_text(v) for v in cells[header_row - 1]])
        if not header_cells:
            raise NoHeader(
                path, f"row {header_row} of sheet '{sheet}' is blank; choose the row that holds the column names"
            )
        names_, issues = name_columns(header_cells, excel_column_letter)
        sheet_text = _SheetText(cells[header_row:], len(names_), header_row + 1)
        del cells
    issues += sheet_text.scan.finish(path) + formula_issues + picked
    return _workbook_table(
        path,
        date_system,
        names_,
        issues,
        sheet_text,
        "calamine",
        sheet=sheet,
        sheet_names=names,
        header_row=header_row,
        encrypted=encrypted,
    )


def _unknown_error_value(path: Path, sheet: str, password: str | None, value: str) -> str:
    """calamine refuses a whole sheet over an error value it does not know (#SPILL!, #CALC!
    and the others newer Excel shows); the message names the cell where it can (XLSX/XLSM)."""
    cell = None
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        cell = xlsx_arrow.error_cell(open_workbook(path, password)[3], sheet, value)
    where = f"cell {cell}" if cell else "a cell"
    return (
        f"sheet '{sheet}' cannot be read: {where} holds Excel's error value {value}, which the "
        "spreadsheet reader does not know (newer Excel shows it for a formula whose result cannot be "
        "shown). Correct the formula or clear the cell in Excel (or paste the sheet as values), save, "
        "and try again."
    )


def _too_spread(sheet: str, spread: Any, cell_bytes: int = 32) -> str:
    far = (
        f"furthest right and down: {spread.right}"
        if spread.right == spread.down
        else f"furthest right: {spread.right}; furthest down: {spread.down}"
    )
    gigabytes = spread.rows * spread.columns * cell_bytes / 1e9
    return (
        f"sheet '{sheet}' has values spread over {spread.rows:,} rows by {spread.columns:,} columns, "
        f"usually because of a cell far from the rest ({far}), perhaps holding only a space. Reading a grid that "
        f"size would need about {max(gigabytes, 1):,.0f} GB of memory. Delete those cells in Excel (or the "
        "empty-looking rows and columns up to them), save, and try again; or save the sheet as 'CSV UTF-8' and "
        "load that."
    )


def _workbook_table(
    path: Path,
    date_system: int,
    header: tuple[str, ...],
    issues: list[SourceIssue],
    rows: Any,
    reader: str,
    *,
    sheet: str,
    sheet_names: tuple[str, ...],
    header_row: int,
    encrypted: bool,
) -> SourceTable:
    """The table over a sheet's rows as read by either path (``rows``: its shape scan, its rows
    and its column batches)."""
    return SourceTable(
        path=path,
        format=path.suffix.lower().lstrip("."),
        header=header,
        row_count=rows.scan.rows,
        sheet=sheet,
        sheet_names=sheet_names,
        header_row=header_row,
        encrypted=encrypted,
        date_system=date_system,
        issues=issues,
        reader=reader,
        _raw_rows=rows.rows,
        _column_source=rows.column_batches,
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a sheet becomes millions of objects.

    python-calamine returns a list per row; every few hundred new lists the collector runs,
    and its full passes walk all the rows made so far, a sixth of a large sheet's read
    (docs/performance.md). Rows of cells form no reference cycles, so nothing is left for
    the collector to find. Held across threads by count: the collector comes back on when
    the last holder leaves, and only if it was on when the first came.
    """
    global _collector_holds, _collector_was_enabled
    with _collector_lock:
        if _collector_holds == 0:
            _collector_was_enabled = gc.isenabled()
            gc.disable()
        _collector_holds += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_holds -= 1
            if _collector_holds == 0 and _collector_was_enabled:
                gc.enable()


class _SheetText:
    """A sheet's data rows as text, column by column (Arrow), converted when first asked for.

    Exactly what converting each cell with :func:`cell_text` and feeding the rows to
    :class:`ShapeScan` gives (tests compare the two): a cell's text is blank only for an
    empty cell or text of whitespace, so blank rows are found without converting anything, and a column that is
    all text becomes an Arrow column in one call. Blank rows are dropped; ``lines`` holds
    the kept rows' sheet row numbers.
    """

    def __init__(self, rows: list[list[Any]], width: int, first_line: int) -> None:
        import numpy as np

        count = len(rows)
        self.width = width
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=count)
        present = np.fromiter(
            (any(v.strip() if type(v) is str else v is not None for v in row[:width]) for row in rows),
            dtype=bool,
            count=count,
        )
        ragged = np.zeros(count, dtype=bool)
        for i in np.flatnonzero(lengths > width).tolist():
            ragged[i] = any(cell_text(v).strip() for v in rows[i][width:])
        numbers = np.arange(first_line, first_line + count, dtype=np.int64)
        kept = present & ~ragged
        self.scan = ShapeScan.from_masks(numbers, present, ragged, lengths < width)
        self._rows = rows if kept.all() else [rows[i] for i in np.flatnonzero(kept).tolist()]
        self._full = bool((lengths[kept] >= width).all())
        self.lines = numbers[kept]
        self._columns: dict[int, Any] = {}

    def column(self, j: int) -> Any:
        import pyarrow as pa
        import pyarrow.compute as pc

        if j not in self._columns:
            rows = self._rows
            values = [row[j] for row in rows] if self._full else [row[j] if j < len(row) else "" for row in rows]
            try:
                text = pa.array(values, pa.string())
            except (pa.ArrowTypeError, pa.ArrowInvalid):  # numbers, dates, booleans: Excel's text for each
                text = pa.array([cell_text(v) for v in values], pa.string())
            self._columns[j] = pc.fill_null(text, "") if text.null_count else text
        return self._columns[j]

    def column_batches(self, batch_size: int, wanted: Collection[int] | None) -> Iterator[ColumnBatch]:
        chosen = range(self.width) if wanted is None else [j for j in sorted(set(wanted)) if j < self.width]
        columns = {j: self.column(j) for j in chosen}
        lines = self.lines
        for start in range(0, len(lines), batch_size):
            n = min(batch_size, len(lines) - start)
            out: list[Any] = [None] * self.width
            for j in chosen:
                out[j] = columns[j].slice(start, n)
            yield ColumnBatch(out, lines[start : start + n])

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        step = 10_000
        for start in range(0, len(self.lines), step):
            lists = [[cell_text(v) for v in row[: self.width]] for row in self._rows[start : start + step]]
            for line, row in zip(self.lines[start : start + step].tolist(), lists):
                yield line, row + [""] * (self.width - len(row))
