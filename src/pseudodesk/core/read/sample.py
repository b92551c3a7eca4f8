"""The first rows of a file as they are, before any row is taken as the header.

Finding the header row (pseudodesk.core.agreement.header) needs the rows above and below
it as text, without the checks a table makes of its rows against a header (a title line
of one cell above a table of ten is not a ragged row here).
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from pseudodesk.core.errors import EmptyFile, NotASpreadsheet, SourceNotFound, UnsupportedFormat
from pseudodesk.core.read.csv_text import excel_separator, sniff_delimiter
from pseudodesk.core.read.dispatch import CSV_SUFFIXES, WORKBOOK_SUFFIXES, text_named_xls
from pseudodesk.core.read.encoding import PREVIEW_BYTES, detect_encoding
from pseudodesk.core.read.workbook import first_workbook_rows


def first_rows(
    path: Path | str, *, sheet: str | None = None, password: str | None = None, count: int = 21
) -> list[list[str]]:
    """The text of the first ``count`` rows (row 1 first: the Excel row, or the CSV record after
    Excel's ``sep=`` line), each as many cells as it has."""
    path = Path(path)
    if not path.is_file():
        raise SourceNotFound(path, f"the file does not exist (looked for {path})")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES or (suffix == ".xls" and text_named_xls(path) == "text"):
        return _first_csv_rows(path, count)
    if suffix in WORKBOOK_SUFFIXES:
        return first_workbook_rows(path, sheet, password, count)
    raise UnsupportedFormat(path, f"'{suffix or '(no extension)'}' files are not supported")


def _first_csv_rows(path: Path, count: int) -> list[list[str]]:
    with path.open("rb") as raw:
        head = raw.read(8192)
    if not head:
        raise EmptyFile(path, "the file is empty (0 bytes)")
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)):
        raise NotASpreadsheet(path, "this is binary data, not CSV text")
    encoding = detect_encoding(path, limit=PREVIEW_BYTES)
    with path.open("r", encoding=encoding, newline="", errors="replace") as f:
        sample = f.read(65536)
    directive = excel_separator(sample)
    if directive:
        sample = sample[len(sample.splitlines(keepends=True)[0]) :]  # Excel's sep= line is not a row
    delimiter = directive or sniff_delimiter(sample)
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter)
    try:
        for cells in reader:
            rows.append(cells)
            if len(rows) == count:
                break
    except csv.Error:
        pass  # the sample ends inside a quoted value: the rows before it are what is needed
    return rows
