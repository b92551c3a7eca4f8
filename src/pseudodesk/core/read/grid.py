"""How large a grid a workbook's sheet declares, measured before the sheet is read.

calamine makes a grid from a sheet's first to its last cell holding a value, and
python-calamine then makes a Python object of every cell of it (about 135 bytes a cell).
A tiny file can declare a huge grid: an ODS row repeated a million times
(``table:number-rows-repeated``) or a cell repeated across thousands of columns
(``table:number-columns-repeated``) is a few bytes of XML; an XLSB sheet's stray cell far
from the data is one record. So each format's declared grid is measured first, without
making it, and a sheet past the limit is refused with the reason (:class:`TooSpread`).

- ODS: ``content.xml`` is parsed as a stream (rows and cells with their repeat counts).
- XLSB: the sheet's ``BrtWsDim`` record (the used range Excel keeps), found through
  ``xl/workbook.bin`` and its relationships.
- XLSX/XLSM: :func:`pseudodesk.core.read.xlsx_arrow.check_grid`.
- XLS: BIFF8 sheets are at most 65,536 rows by 256 columns (16.7 million cells), under the limit.
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
from collections.abc import Iterator
from xml.etree import ElementTree

from pseudodesk.core.read.table import excel_column_letter
from pseudodesk.core.read.xlsx_arrow import TooSpread

# The grid python-calamine may make as Python objects: about 2.7 GB at its largest. A sheet of
# a million rows by 20 columns fits; the column path for XLSX (xlsx_arrow) allows more.
PYTHON_GRID_CELLS = 20_000_000
PYTHON_CELL_BYTES = 135  # measured: a 4-million-cell ODS sheet took 543 MB

_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_CELLS = (_TABLE + "table-cell", _TABLE + "covered-table-cell")


def check_ods_grid(data: bytes, sheet: str | None, limit: int = PYTHON_GRID_CELLS) -> None:
    """Raise :class:`TooSpread` when the cells holding values of the ODS sheet (of every sheet,
    when ``sheet`` is None) span more than ``limit``."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package, package.open("content.xml") as stream:
            in_sheet, row, name = False, 0, ""
            first_row = first_col = 1 << 62
            last_row = last_col = 0  # exclusive ends, 0-based
            right = down = ""
            for event, element in ElementTree.iterparse(stream, events=("start", "end")):
                tag = element.tag
                if tag == _TABLE + "table":
                    if event == "start":
                        name = element.get(_TABLE + "name") or ""
                        in_sheet, row = sheet is None or name == sheet, 0
                        first_row = first_col = 1 << 62
                        last_row = last_col = 0
                    elif in_sheet and sheet is not None:
                        return
                    else:
                        element.clear()
                    continue
                if not in_sheet or event != "end" or tag != _TABLE + "table-row":
                    continue
                repeat = _count(element.get(_TABLE + "number-rows-repeated"))
                column, valued = 0, None
                for cell in element:
                    if cell.tag not in _CELLS:
                        continue
                    span = _count(cell.get(_TABLE + "number-columns-repeated"))
                    if cell.get(_OFFICE + "value-type") or len(cell) or (cell.text or "").strip():
                        valued = (valued[0] if valued else column, column + span)
                    column += span
                element.clear()
                if valued is not None:
                    first_row, last_row = min(first_row, row), row + repeat
                    first_col = min(first_col, valued[0])
                    if valued[1] > last_col:
                        last_col, right = valued[1], f"{excel_column_letter(valued[1] - 1)}{row + 1}"
                    down = f"{excel_column_letter(valued[0])}{row + repeat}"
                    if (last_row - first_row) * (last_col - first_col) > limit:
                        raise TooSpread(last_row - first_row, last_col - first_col, right, down, name)
                row += repeat
    except (KeyError, ValueError, zipfile.BadZipFile, ElementTree.ParseError):
        return  # not a package we can look into: calamine reports what is wrong with it


def _count(text: str | None) -> int:
    try:
        return max(1, int(text)) if text else 1
    except ValueError:
        return 1


# --- XLSB --------------------------------------------------------------------------------------

_BRT_BUNDLE_SH = 156
_BRT_WS_DIM = 148
_BRT_BEGIN_SHEET_DATA = 145
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def check_xlsb_grid(data: bytes, sheet: str, limit: int = PYTHON_GRID_CELLS) -> None:
    """Raise :class:`TooSpread` when the XLSB sheet's used range (``BrtWsDim``) passes ``limit`` cells."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            part = _xlsb_sheet_part(package, sheet)
            with package.open(part) as stream:
                head = stream.read(1 << 16)
    except (KeyError, ValueError, struct.error, zipfile.BadZipFile, ElementTree.ParseError):
        return
    for kind, payload in _records(head):
        if kind == _BRT_BEGIN_SHEET_DATA:
            return
        if kind == _BRT_WS_DIM and len(payload) >= 16:
            first_row, last_row, first_col, last_col = struct.unpack_from("<4I", payload)
            rows, columns = last_row - first_row + 1, last_col - first_col + 1
            if rows > 0 and columns > 0 and rows * columns > limit:
                raise TooSpread(
                    rows,
                    columns,
                    f"{excel_column_letter(last_col)}{first_row + 1}",
                    f"{excel_column_letter(first_col)}{last_row + 1}",
                )
            return


def _xlsb_sheet_part(package: zipfile.ZipFile, sheet: str) -> str:
    rel_id = None
    for kind, payload in _records(package.read("xl/workbook.bin")):
        if kind == _BRT_BUNDLE_SH:
            rel, offset = _wide_string(payload, 8)
            name, _ = _wide_string(payload, offset)
            if name == sheet:
                rel_id = rel
                break
    rels = ElementTree.fromstring(package.read("xl/_rels/workbook.bin.rels"))
    targets = [r.get("Target") or "" for r in rels.iter(_RELS) if rel_id and r.get("Id") == rel_id]
    if not targets:
        raise KeyError(f"no part for sheet {sheet!r}")
    target = targets[0]
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def _wide_string(payload: bytes, offset: int) -> tuple[str, int]:
    (count,) = struct.unpack_from("<I", payload, offset)
    if count == 0xFFFFFFFF:
        return "", offset + 4
    end = offset + 4 + 2 * count
    return payload[offset + 4 : end].decode("utf-16-le"), end


def _records(data: bytes) -> Iterator[tuple[int, bytes]]:
    """The BIFF12 records of ``data``: a type and a size, each a variable-length number."""
    i, n = 0, len(data)
    while i < n:
        kind = data[i]
        i += 1
        if kind & 0x80 and i < n:
            kind = (kind & 0x7F) | ((data[i] & 0x7F) << 7)
            i += 1
        size = shift = 0
        for _ in range(4):
            if i >= n:
                return
            byte = data[i]
            i += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        if i + size > n:
            return
        yield kind, data[i : i + size]
        i += size
