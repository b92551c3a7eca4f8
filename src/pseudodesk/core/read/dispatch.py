"""Readers: CSV and workbooks to a :class:`~pseudodesk.core.read.table.SourceTable` of text.

The text is what the user saw in Excel (docs/readers.md has the full rules):
- numbers that are whole print without a decimal point (``9434765919``, never
  ``9434765919.0`` or ``9.43E+09``); other numbers print with Excel's 15 significant
  digits; text cells (``01234``) are untouched;
- date cells become ISO ``YYYY-MM-DD`` (``YYYY-MM-DD HH:MM:SS`` when a time is set);
- formula cells give their cached value; ``TRUE``/``FALSE`` for booleans;
- CSV encodings: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode
  text"), otherwise Windows-1252; a file that mixes UTF-8 with another encoding is
  refused rather than guessed.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from pseudodesk.core.errors import (
    NoHeader,
    NotASpreadsheet,
    SourceNotFound,
    UnsupportedFormat,
)
from pseudodesk.core.read.csv_text import read_csv
from pseudodesk.core.read.magic import OLE_MAGIC, ZIP_MAGIC
from pseudodesk.core.read.table import (
    SourceIssue,
    SourceTable,
)
from pseudodesk.core.read.workbook import open_workbook, read_workbook

CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}


def read_table(
    path: Path | str,
    *,
    sheet: str | None = None,
    header_row: int = 1,
    password: str | None = None,
    preview_only: bool = False,
) -> SourceTable:
    """Open a CSV or workbook for streaming; raises a :class:`ReaderError` subclass.

    ``header_row`` is 1-based (the Excel row number, or the CSV record number);
    rows above it are ignored. ``sheet`` defaults to the first visible worksheet.

    ``preview_only`` (CSV): read just enough to show the first rows at once, without the
    pass over the whole file that counts rows, finds ragged or blank rows and confirms the
    encoding. ``row_count`` is then -1 and ``issues`` empty; read the file again without it
    before checking or exporting. Workbooks are read whole either way.
    """
    path = Path(path)
    if header_row < 1:
        raise NoHeader(path, f"header row must be 1 or more, not {header_row}")
    if not path.exists():
        raise SourceNotFound(path, f"the file does not exist (looked for {path})")
    if not path.is_file():
        raise SourceNotFound(path, "this is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return read_csv(path, header_row, preview_only)
    if suffix == ".xls" and (kind := text_named_xls(path)):
        # Systems that "export to Excel" often write text with an .xls name; Excel opens it
        # after a warning. Delimited text is read as the CSV it is; a web page or an Excel
        # 2003 XML spreadsheet is refused with what to do.
        if kind != "text":
            raise NotASpreadsheet(
                path,
                f"this .xls file is really {kind}, not an Excel workbook, and pseudodesk "
                "cannot read it. Open it in Excel and save it as 'Excel Workbook (*.xlsx)' or "
                "'CSV UTF-8 (Comma delimited)', then load that.",
            )
        table = read_csv(path, header_row, preview_only)
        table.issues.insert(
            0,
            SourceIssue(
                "assumption",
                "this .xls file is really delimited text, not an Excel workbook; it was read as CSV, as Excel opens it",
            ),
        )
        return table
    if suffix in WORKBOOK_SUFFIXES:
        return read_workbook(path, sheet, header_row, password)
    raise UnsupportedFormat(
        path,
        f"'{suffix or '(no extension)'}' files are not supported; use CSV, XLSX, XLSM, XLSB, XLS or ODS",
    )


def list_sheets(path: Path | str, *, password: str | None = None) -> list[str]:
    """Worksheet names in workbook order (visible ones first is the caller's choice)."""
    path = Path(path)
    if path.suffix.lower() in CSV_SUFFIXES:
        return []
    if not path.is_file():
        raise SourceNotFound(path, f"the file does not exist (looked for {path})")
    if path.suffix.lower() == ".xls" and text_named_xls(path) == "text":
        return []
    workbook = open_workbook(path, password)[0]
    return list(workbook.sheet_names)


def text_named_xls(path: Path) -> str | None:
    """What an .xls file that is not a workbook (no OLE or ZIP signature, no NUL in its first
    8 KiB unless it is marked UTF-16) really is: "text" (delimited), "a web page (HTML)" or
    "an Excel 2003 XML spreadsheet"; None for anything else, which calamine reads or refuses."""
    with path.open("rb") as f:
        head = f.read(8192)
    if not head or head.startswith((OLE_MAGIC, ZIP_MAGIC)):
        return None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head.decode("utf-16", errors="ignore")
    elif b"\x00" in head:
        return None
    else:
        text = head.decode("latin-1")
    start = text.lstrip("\ufeff\xef\xbb\xbf \t\r\n").lower()
    if "urn:schemas-microsoft-com:office:spreadsheet" in text.lower():
        return "an Excel 2003 XML spreadsheet"
    if start.startswith("<") and re.search(r"<(html|table|body|head)\b|<!doctype html", start):
        return "a web page (HTML)"
    return "text"
