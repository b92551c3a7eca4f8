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
import csv
import datetime as dt
import gc
import io
import re
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from pseudodesk.core.errors import (
    EmptyFile,
    EncodingProblem,
    NoHeader,
    NotASpreadsheet,
    PasswordRequired,
    ReaderError,
    SheetNotFound,
    SourceNotFound,
    UnsupportedFormat,
    WrongPassword,
)
from pseudodesk.core.read.table import (
    ColumnBatch,
    ColumnSource,
    ShapeScan,
    SourceIssue,
    SourceTable,
    blank_rows,
    excel_column_letter,
    name_columns,
    trim_trailing_blanks,
)

CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# Excel's "read-only recommended" protection encrypts .xls files with this well-known
# password; Excel opens them without asking, so pseudodesk does too.
EXCEL_DEFAULT_PASSWORD = "VelvetSweatshop"

_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_CHUNK = 1 << 20
PREVIEW_BYTES = 1 << 20  # what a preview reads to guess the encoding
# The longest value a CSV cell may hold, in characters. The csv module's own default (131,072)
# refused the free-text columns some database exports have; no limit at all would let a quote
# left open near the top of a multi-gigabyte file gather the rest of it into one value in
# memory (the csv module holds 4 bytes a character while it reads). Excel itself stops at
# 32,767 characters a cell.
MAX_VALUE_CHARS = 16 << 20
NL = b"\n"


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
        return _read_csv(path, header_row, preview_only)
    if suffix == ".xls" and (kind := _text_named_xls(path)):
        # Systems that "export to Excel" often write text with an .xls name; Excel opens it
        # after a warning. Delimited text is read as the CSV it is; a web page or an Excel
        # 2003 XML spreadsheet is refused with what to do.
        if kind != "text":
            raise NotASpreadsheet(path, f"this .xls file is really {kind}, not an Excel workbook, and pseudodesk "
                                  "cannot read it. Open it in Excel and save it as 'Excel Workbook (*.xlsx)' or "
                                  "'CSV UTF-8 (Comma delimited)', then load that.")
        table = _read_csv(path, header_row, preview_only)
        table.issues.insert(0, SourceIssue("assumption", "this .xls file is really delimited text, not an Excel "
                                           "workbook; it was read as CSV, as Excel opens it"))
        return table
    if suffix in WORKBOOK_SUFFIXES:
        return _read_workbook(path, sheet, header_row, password)
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
    if path.suffix.lower() == ".xls" and _text_named_xls(path) == "text":
        return []
    workbook = _open_workbook(path, password)[0]
    return list(workbook.sheet_names)


def _text_named_xls(path: Path) -> str | None:
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


# --- CSV ------------------------------------------------------------------------------


def detect_encoding(path: Path, limit: int | None = None) -> str:
    """Return a Python codec name for the file, or raise EncodingProblem / EmptyFile.

    With ``limit``, only the first ``limit`` bytes are looked at (a preview's guess)."""
    with path.open("rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return _check_marked(path, "utf-8-sig", "UTF-8", limit)
        if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16's: FF FE 00 00 starts with FF FE
            return _check_marked(path, "utf-32", "UTF-32", limit)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return _check_marked(path, "utf-16", "UTF-16", limit)
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        line = 1
        saw_multibyte_at: int | None = None
        seen = 0
        while chunk := f.read(_CHUNK):
            seen += len(chunk)
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad_line = line + chunk.count(NL, 0, max(exc.start, 0))
                if saw_multibyte_at is None:
                    m = _UTF8_MULTIBYTE.search(chunk, 0, max(exc.start, 0))
                    if m:
                        saw_multibyte_at = line + chunk.count(NL, 0, m.start())
                if saw_multibyte_at is not None:
                    raise EncodingProblem(
                        path,
                        f"the text mixes encodings: line {saw_multibyte_at} is UTF-8 but line "
                        f"{bad_line} is not. Re-save the file from Excel as "
                        "'CSV UTF-8 (Comma delimited)' and try again.",
                    ) from None
                return "cp1252" if limit is not None else _check_cp1252(path)
            if saw_multibyte_at is None:
                m = _UTF8_MULTIBYTE.search(chunk)
                if m:
                    saw_multibyte_at = line + chunk.count(NL, 0, m.start())
            line += chunk.count(NL)
            if limit is not None and seen >= limit:
                return "utf-8"
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return _check_cp1252(path)
    return "utf-8"


def _check_marked(path: Path, codec: str, label: str, limit: int | None) -> str:
    """A file whose byte-order mark names its encoding must be that encoding throughout (the
    first ``limit`` bytes for a preview; the csv reader's strict decoding checks the rest)."""
    decoder = codecs.getincrementaldecoder(codec)()
    line = 1
    seen = 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            seen += len(chunk)
            try:
                line += decoder.decode(chunk).count("\n")
            except UnicodeDecodeError as exc:
                raise EncodingProblem(path, _not_as_marked(
                    label, line + _decoded_lines(codec, chunk[:max(exc.start, 0)]))) from None
            if limit is not None and seen >= limit:
                return codec
        try:  # the whole file was read: nothing may be left half a character
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise EncodingProblem(path, _not_as_marked(label, line)) from None
    return codec


def _decoded_lines(codec: str, data: bytes) -> int:
    return codecs.decode(data, codec.replace("-sig", ""), errors="ignore").count("\n")


def _not_as_marked(label: str, line: int) -> str:
    return (f"the file starts with the mark of {label} text, but line {line} is not {label}. "
            "Re-save the file from Excel as 'CSV UTF-8 (Comma delimited)'.")


def _check_cp1252(path: Path) -> str:
    """Windows-1252 unless the file has bytes that code page leaves undefined, or mixes in UTF-8."""
    line = 1
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            m = _CP1252_UNDEFINED.search(chunk)
            if m:
                raise EncodingProblem(
                    path,
                    f"line {line + chunk.count(NL, 0, m.start())} is neither UTF-8 nor "
                    "Windows-1252 text. Re-save the file from Excel as 'CSV UTF-8 (Comma delimited)'.",
                )
            m = _UTF8_MULTIBYTE.search(chunk)
            if m:
                raise EncodingProblem(
                    path,
                    f"the text mixes encodings: line {line + chunk.count(NL, 0, m.start())} "
                    "looks like UTF-8 but other lines are not. Re-save the file from Excel as "
                    "'CSV UTF-8 (Comma delimited)' and try again.",
                )
            line += chunk.count(NL)
    return "cp1252"


def sniff_delimiter(sample: str, skip_lines: int = 0) -> str:
    """Pick the delimiter (comma, semicolon, tab, pipe) that splits the sample most consistently.

    ``skip_lines`` are the lines above the header row (a title such as "Patient list, 2024"
    would otherwise decide it). Ties (decimal commas in a semicolon file split both ways alike)
    go to the delimiter whose values less often start with a space: writers of CSV put none
    after a delimiter, while a comma in prose ("Weight, kg") is followed by one.
    """
    lines = io.StringIO(sample, newline="").readlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may end mid-record
    text = "".join(lines[skip_lines:][:200] or lines[:200])
    best = ","
    best_score: tuple[float, int, int] = (-1.0, 0, 0)
    for delim in DELIMITERS:
        try:
            records = [r for r in csv.reader(io.StringIO(text), delimiter=delim) if r]
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        consistent = sum(1 for r in records if len(r) == width) / len(records)
        spaced = sum(1 for r in records for value in r[1:] if value[:1] == " ")
        score = (consistent, width, -spaced)
        if score > best_score:
            best, best_score = delim, score
    return best


def excel_separator(sample: str) -> str | None:
    """The delimiter named by Excel's first-line directive (``sep=;``), which Excel writes for
    other locales and reads as an instruction, never as a row."""
    m = re.match(r"\ufeff?sep=([^\r\n\"\w ])(?:\r\n|\r|\n)", sample)
    return m.group(1) if m else None


def _read_csv(path: Path, header_row: int, preview_only: bool = False) -> SourceTable:
    if path.stat().st_size == 0:
        raise EmptyFile(path, "the file is empty (0 bytes)")
    with path.open("rb") as raw:
        head = raw.read(8192)
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)):
        raise NotASpreadsheet(path, "this is binary data, not CSV text (is it a workbook with the wrong extension?)")
    # The first MiB decides the guess; a full pass confirms it unless Arrow's reader (which
    # validates UTF-8 itself) reads the whole file cleanly below.
    encoding = detect_encoding(path, limit=PREVIEW_BYTES)
    with path.open("r", encoding=encoding, newline="", errors="replace") as f:
        sample = f.read(65536)
    if not sample.strip():
        raise EmptyFile(path, "the file contains no text, only blank lines")
    directive = excel_separator(sample)
    skip = 1 if directive else 0  # Excel's sep= line is not a row: header_row counts from the next
    delimiter = directive or sniff_delimiter(sample, header_row - 1)

    def records(encoding: str, errors: str, width: int = 0) -> Iterator[tuple[int, list[str]]]:
        with path.open("r", encoding=encoding, newline="", errors=errors) as f:
            ended = []
            taken: list[str] = []  # the lines of the record being read

            def lines() -> Iterator[str]:
                source = text_lines(f)
                if skip:
                    next(source, None)
                for line in source:
                    taken.append(line)
                    yield line
                ended.append(True)

            reader = csv_reader(lines(), delimiter=delimiter)
            start = 1 + skip
            try:
                for cells in reader:
                    if ended:
                        # The reader finishes each line's record at its end unless a quoted
                        # value is still open, so a record that asked for a line past the last
                        # one is a quote never closed (strict=False would give it as a value).
                        raise NotASpreadsheet(path, _unclosed_quote(start, reader.line_num + skip))
                    if len(taken) > 1 and _swallowed_rows(taken, cells, delimiter, width):
                        raise NotASpreadsheet(path, _stray_quote(start, reader.line_num + skip))
                    taken.clear()
                    yield start, cells
                    start = reader.line_num + 1 + skip
            except UnicodeDecodeError:  # the strict read, past what detect_encoding had looked at
                detect_encoding(path)  # the whole file's check names the line
                raise EncodingProblem(path, f"text after line {start} is not {encoding.upper().removesuffix('-SIG')}. "
                                      "Re-save the file from Excel as 'CSV UTF-8 (Comma delimited)'.") from None
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise NotASpreadsheet(path, _value_too_long(start)) from None
                raise NotASpreadsheet(path, f"line {start} cannot be read as CSV ({exc})") from None

    header: list[str] | None = None
    header_issues: list[SourceIssue] = []
    header_read: list[str] = []
    header_line = header_cells_read = raw_rows_from = 0
    header_on_one_line = False
    for index, (line, cells) in enumerate(records(encoding, "replace"), start=1):
        if index < header_row:
            continue
        header_cells = trim_trailing_blanks(cells)
        if not header_cells:
            raise NoHeader(path, f"the header row (line {line}) is blank; choose the row that holds the column names")
        names, header_issues = name_columns(header_cells, lambda i: str(i + 1))
        header_read = cells
        if directive:
            header_issues.append(SourceIssue(
                "assumption", f"line 1 is Excel's delimiter line 'sep={directive}': it was not read as a row, "
                f"and values are split at each {DELIMITER_NAMES.get(directive, repr(directive))}"))
        header, header_line, header_cells_read, raw_rows_from = list(names), line, len(cells), index
        header_on_one_line = not any("\n" in c or "\r" in c for c in cells)
        break
    if header is None:
        raise NoHeader(path, f"there is no row {header_row} to use as the header (the file is shorter)")
    width = len(header)
    if preview_only:
        errors = "replace"
        issues = list(header_issues)
        column_source = None
    else:
        errors = "strict"
        fast = None
        arrow_ok = header_row == 1 and header_line == 1 and header_on_one_line
        if arrow_ok and encoding in ("utf-8", "utf-8-sig"):
            fast = _arrow_csv(path, "utf8", delimiter, header_cells_read, width)
        if fast is None:
            encoding = detect_encoding(path)
            if arrow_ok and encoding == "cp1252":
                fast = _arrow_csv(path, "cp1252", delimiter, header_cells_read, width)
        if fast is not None:
            row_count, column_source = fast
            issues = list(header_issues)
        else:
            scan = ShapeScan()
            for index, (line, cells) in enumerate(records(encoding, errors, width), start=1):
                if index > raw_rows_from:
                    scan.feed(line, cells, width)
            if scan.ragged_total and scan.furthest <= header_cells_read:
                # Every value past the header sits under a blank header cell (trimmed above):
                # those cells are named like any blank header cell above data, and the file read
                # again at that width. Values past the header row's last cell stay ragged.
                width = scan.furthest
                names, named = name_columns(header_read[:width], lambda i: str(i + 1))
                header = list(names)
                header_issues = named + [i for i in header_issues if i.kind != "renamed_headers"]
                scan = ShapeScan()
                for index, (line, cells) in enumerate(records(encoding, errors, width), start=1):
                    if index > raw_rows_from:
                        scan.feed(line, cells, width)
            issues = header_issues + scan.finish(path)
            row_count, column_source = scan.rows, None
        if encoding == "cp1252":
            issues.append(SourceIssue("assumption", "the text is not UTF-8; read as Windows-1252 (Western European)"))

    def data_rows() -> Iterator[tuple[int, list[str]]]:
        for index, (line, cells) in enumerate(records(encoding, errors, width), start=1):
            if index > raw_rows_from:
                yield line, cells

    return SourceTable(
        path=path, format="csv", header=tuple(header), row_count=-1 if preview_only else row_count,
        header_row=header_row, encoding=encoding, delimiter=delimiter,
        issues=issues, _raw_rows=data_rows, _column_source=column_source,
    )


def _swallowed_rows(lines: list[str], cells: list[str], delimiter: str, width: int) -> bool:
    """Whether a record over several lines looks like a quote typed by mistake that took in the
    rows below it: its quoting is not valid CSV (text after a closing quote, as when the stray
    quote is closed by the next quoted value), or a line inside a value holds as many
    delimiters as a row of a file of four or more columns would."""
    try:
        for _ in csv.reader(lines, delimiter=delimiter, strict=True):
            pass
    except csv.Error:
        return True
    if width < 4:
        return False
    return any(part.count(delimiter) >= width - 1
               for cell in cells if "\n" in cell or "\r" in cell for part in cell.splitlines())


def _stray_quote(start: int, end: int) -> str:
    return (f"lines {start} to {end}: a quote (\") opens a value on line {start} that runs on to line {end}, "
            "taking in text that looks like rows of their own. If the quote was typed by mistake, remove it "
            "(a value that holds a quote must be quoted whole, with the quote doubled) and try again.")


def _unclosed_quote(start: int, end: int) -> str:
    rest = f"every line after it (to line {end}, the end of the file)" if end > start else "the end of the line"
    return (f"line {start}: a value opens with a quote (\") that is never closed, so {rest} would be read "
            f"as part of that one value. Correct the quoting on line {start} and try again.")


def _value_too_long(start: int) -> str:
    return (f"line {start}: a value is longer than {MAX_VALUE_CHARS:,} characters. This usually means a "
            f"quote (\") on line {start} opens a value and is not closed where it should be, so the lines "
            "after it are read as part of that value. Correct the quoting and try again.")


# Arrow reads the file in blocks of this size (about 9,000 rows of a dozen columns) and the
# run's column batches are put together from several. Measured (docs/performance.md): with
# 8 MiB blocks the streaming reader's memory grew with the file (144 MB at 1M rows, 341 MB at
# 10M); with 1 MiB blocks it stays at about 40 MB whatever the file, and reads as fast.
ARROW_BLOCK_BYTES = 1 << 20


def _line_breaks(path: Path) -> int | None:
    """How many lines the file has (CRLF, LF, or CR alone each end one; a last line without a
    break counts too); None for lone CRs among LFs, or NUL.

    When the count is the number of records (plus the header), no value spans two lines,
    so a row's line number is its position plus one.
    """
    lf = cr = crlf = 0
    last = b""
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK * 16):
            if b"\x00" in chunk:
                return None
            n, r = chunk.count(b"\n"), chunk.count(b"\r")
            lf, cr = lf + n, cr + r
            if n and r:
                crlf += chunk.count(b"\r\n")
            if last == b"\r" and chunk[:1] == b"\n":
                crlf += 1
            last = chunk[-1:]
    unterminated = int(last not in (b"", b"\n", b"\r"))
    if cr == crlf:
        return lf + unterminated
    return cr + unterminated if lf == 0 else None


def _arrow_csv(path: Path, encoding: str, delimiter: str, physical: int,
               width: int) -> tuple[int, ColumnSource] | None:
    """Read a CSV with Arrow's multi-threaded C++ reader, when that gives exactly what the
    csv module gives: (data rows, a column source), or None to use the csv module instead.

    A full pass here replaces the csv-module shape scan. Arrow is used only for files with
    none of the shapes the scan reports or refuses and whose line numbers follow from row
    numbers: every record has the header's cell count (extra cells empty), no record is
    blank, no value holds a line break or NUL, and (for UTF-8) every byte is valid UTF-8.
    Anything else returns None and the csv-module path reads the file as before; tests
    compare the two paths on the same files value for value.
    """
    import numpy as np
    import pyarrow as pa
    from pyarrow import csv as arrow_csv

    names = [f"c{j}" for j in range(max(physical, width))]
    odd_rows: list[object] = []

    def invalid_row(row: object) -> str:
        odd_rows.append(row)
        return "skip"

    def reader(columns: Collection[int] | None, block: int = ARROW_BLOCK_BYTES) -> Any:
        include = names if columns is None else [names[j] for j in sorted(set(columns))]
        return arrow_csv.open_csv(
            path,
            read_options=arrow_csv.ReadOptions(block_size=block, skip_rows=1, column_names=names, encoding=encoding),
            parse_options=arrow_csv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True,
                                                 escape_char=False, newlines_in_values=True,
                                                 ignore_empty_lines=False, invalid_row_handler=invalid_row),
            convert_options=arrow_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                     strings_can_be_null=False, quoted_strings_can_be_null=False,
                                                     include_columns=include, check_utf8=True))

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # counted while Arrow's threads parse
        counting = pool.submit(_line_breaks, path)
        rows = _arrow_scan(lambda: reader(None), odd_rows, width)
        breaks = counting.result()  # lines: the header's and one per record, unless a value spans lines
    if rows is None or breaks is None or odd_rows or rows == 0 or breaks != rows + 1:
        return None  # a value spans lines (or blank lines were skipped): line numbers need the csv module

    def column_batches(batch_size: int, columns: Collection[int] | None) -> Iterator[ColumnBatch]:
        wanted = range(width) if columns is None else [j for j in sorted(set(columns)) if j < width]
        line = 2
        for table in _rebatched(reader(wanted), batch_size):
            arrays = {name: table.column(name) for name in table.schema.names}
            out: list[Any] = [None] * width
            for j in wanted:
                chunks = arrays[names[j]].chunks
                out[j] = chunks[0] if len(chunks) == 1 else pa.concat_arrays(chunks)
            n = table.num_rows
            yield ColumnBatch(out, np.arange(line, line + n, dtype=np.int64))
            line += n

    return rows, column_batches


def _rebatched(record_batches: Iterable[Any], size: int) -> Iterator[Any]:
    """Tables of exactly ``size`` rows (the last may be shorter) from Arrow record batches of any size."""
    import pyarrow as pa

    pending: list[Any] = []
    count = 0
    for batch in record_batches:
        pending.append(batch)
        count += batch.num_rows
        while count >= size:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, size)
            rest = table.slice(size)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending)


def _arrow_scan(batches: Callable[[], Any], odd_rows: list[object], width: int) -> int | None:
    """Rows in the file, or None when a row is blank, has values past the header, or Arrow refuses it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = 0
    try:
        for batch in batches():
            if odd_rows:
                return None
            columns = batch.columns
            for column in columns[width:]:
                if pc.any(pc.not_equal(pc.utf8_trim_whitespace(column), "")).as_py():
                    return None  # values beyond the header: the csv-module path reports them
            if columns and blank_rows(columns[:width], batch.num_rows).any():
                return None  # blank rows: reported by the csv-module path
            rows += batch.num_rows
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError):
        return None  # not UTF-8, or a shape Arrow refuses: the csv module decides
    return rows


def csv_reader(lines: Iterable[str], delimiter: str = ",") -> Any:
    """The csv module's reader of these lines, non-strict, taking values up to MAX_VALUE_CHARS.

    The limit is the csv module's, process-wide: every reader of pseudodesk's (sources, and
    the exports inspect reads back) takes the same values.
    """
    csv.field_size_limit(MAX_VALUE_CHARS)
    return csv.reader(lines, delimiter=delimiter, strict=False)


def text_lines(f: IO[str], chunk_chars: int = 1 << 20) -> Iterator[str]:
    """The lines of a text file opened with ``newline=""``, exactly as iterating it gives them.

    Read in 1 MiB chunks and split in memory. Iterating the file object directly starves
    other threads of the GIL: measured with a million-row CSV read on a worker thread, the
    GUI thread's 10 ms timer stalled for 100-250 ms at a time; with chunks, no stall over
    40 ms (docs/performance.md). ``StringIO(newline="")`` splits on the same line endings
    (LF, CRLF, CR) as the file would, and keeps them for the csv module.
    """
    tail = ""
    while True:
        chunk = f.read(chunk_chars)
        if not chunk:
            break
        while chunk.endswith("\r"):  # never split a CRLF pair across chunks
            extra = f.read(1)
            chunk += extra
            if extra != "\r":
                break
        lines = io.StringIO(tail + chunk, newline="").readlines()
        tail = lines.pop() if not lines[-1].endswith(("\n", "\r")) else ""
        yield from lines
    if tail:
        yield tail


# --- workbooks ------------------------------------------------------------------------


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


def workbook_date_system(data: bytes) -> int:
    """1904 when the workbook counts date serial numbers from 1 January 1904, else 1900.

    Date *cells* come out of calamine as dates either way; the system matters for numbers
    that are dates without a date format (a DOB column of plain serials), which the date
    rules convert (`conventions.dates.excel_serial_to_date`). Each format keeps it its own way:
    XLSX/XLSM `<workbookPr date1904>`, XLSB the BrtWbProp record's fDate1904 bit, XLS the
    DATEMODE record, ODS a `<table:null-date>` of 1904-01-01 (LibreOffice's serial 0 is then
    1904-01-01, as in Excel's 1904 system). Anything unreadable here is left to calamine to
    refuse and counts as 1900.
    """
    if data.startswith(OLE_MAGIC):
        return _biff_date_system(data)
    if not data.startswith(ZIP_MAGIC):
        return 1900
    import zipfile
    from xml.etree import ElementTree

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            if "xl/workbook.xml" in names:
                return _xlsx_date_system(ElementTree.fromstring(z.read("xl/workbook.xml")))
            if "xl/workbook.bin" in names:
                return _xlsb_date_system(z.read("xl/workbook.bin"))
            if "content.xml" in names:
                with z.open("content.xml") as content:
                    return _ods_date_system(content)
    except (zipfile.BadZipFile, ElementTree.ParseError, OSError, EOFError, ValueError):
        pass
    return 1900


def _xlsx_date_system(root: Any) -> int:
    # Parsed, not searched: a regex missed date1904='1', date1904 = "1" and UTF-16 XML.
    for element in root.iter():
        if element.tag.rpartition("}")[2] == "workbookPr":
            return 1904 if element.get("date1904", "").strip().lower() in ("1", "true") else 1900
    return 1900


BIFF_DATEMODE, BIFF_EOF = 0x0022, 0x000A
XLSB_WB_PROP = 0x0099  # BrtWbProp ([MS-XLSB] 2.4.820): flags first, bit 0 fDate1904


def _biff_date_system(data: bytes) -> int:
    """XLS (BIFF5/8): the DATEMODE record of the workbook globals, before their EOF record."""
    import struct

    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            name = next((n for n in ("Workbook", "Book") if ole.exists(n)), None)
            if name is None:
                return 1900
            stream = ole.openstream(name)
            while len(head := stream.read(4)) == 4:
                kind, size = struct.unpack("<HH", head)
                body = stream.read(size)
                if kind == BIFF_DATEMODE:
                    return 1904 if body[:2] == b"\x01\x00" else 1900
                if kind == BIFF_EOF:
                    break
    except (OSError, ValueError, struct.error):  # olefile raises OSError for damaged files
        pass
    return 1900


def _xlsb_varint(data: bytes, at: int, most: int) -> tuple[int, int]:
    value = shift = 0
    for i in range(most):
        byte = data[at + i]
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at + i + 1
    return value, at + most


def _xlsb_date_system(data: bytes) -> int:
    """XLSB: BrtWbProp in workbook.bin (records: a type of up to 2 and a size of up to 4
    7-bit bytes, then the body)."""
    at = 0
    try:
        while at < len(data):
            kind, at = _xlsb_varint(data, at, 2)
            size, at = _xlsb_varint(data, at, 4)
            if kind == XLSB_WB_PROP:
                return 1904 if size >= 4 and data[at] & 1 else 1900
            at += size
    except IndexError:
        pass
    return 1900


def _ods_date_system(content: IO[bytes]) -> int:
    """ODS: `<table:null-date table:date-value>` in the calculation settings, which come before
    the first table (so only the document's start is parsed)."""
    from xml.etree import ElementTree

    table = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    for _, element in ElementTree.iterparse(content, events=("start",)):
        if element.tag == f"{{{table}}}null-date":
            return 1904 if element.get(f"{{{table}}}date-value", "").startswith("1904-01-01") else 1900
        if element.tag == f"{{{table}}}table":
            break
    return 1900


def _open_workbook(path: Path, password: str | None) -> tuple[Any, bool, int, bytes]:
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
        raise NotASpreadsheet(path, f"this is not a valid {path.suffix.lower()} workbook (the file is damaged or another kind of file)")
    try:
        return calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)), encrypted, workbook_date_system(data), data
    except Exception as exc:  # calamine raises CalamineError, ZipError, XmlError, PasswordError...
        if type(exc).__name__ == "PasswordError":
            raise PasswordRequired(path, "the workbook is password-protected; enter its password to open it") from None
        raise NotASpreadsheet(path, f"the workbook cannot be read: it is damaged or not a spreadsheet ({exc})") from None


def _read_workbook(path: Path, sheet: str | None, header_row: int, password: str | None) -> SourceTable:
    workbook, encrypted, date_system, data = _open_workbook(path, password)
    names = tuple(workbook.sheet_names)
    if not names:
        raise EmptyFile(path, "the workbook has no worksheets")
    picked: list[SourceIssue] = []
    if sheet is None:
        # The first visible worksheet; failing that the first worksheet, hidden or not (a chart
        # sheet first, with the data's worksheet hidden, used to pick the chart: "sheet is empty").
        worksheets = [m for m in workbook.sheets_metadata if str(m.typ).endswith("WorkSheet")]
        visible = [m.name for m in worksheets if str(m.visible).endswith("Visible")]
        sheet = visible[0] if visible else worksheets[0].name if worksheets else names[0]
        if not visible and worksheets:
            picked.append(SourceIssue("assumption", f"no worksheet is visible in Excel; read the first, '{sheet}', "
                                      "which is hidden"))
    elif sheet not in names:
        raise SheetNotFound(path, f"there is no sheet named '{sheet}'; the sheets are: {', '.join(names)}")
    # ODS and XLSB are ZIP packages too, without the XML parts the column path reads.
    xml_sheet = path.suffix.lower() in (".xlsx", ".xlsm") and data.startswith(ZIP_MAGIC)
    formulas = None
    if xml_sheet:
        from pseudodesk.core.read.xlsx_arrow import TooSpread, check_grid, formula_problem
        from pseudodesk.core.threads import in_background

        try:
            check_grid(data, sheet)
        except TooSpread as spread:
            raise NotASpreadsheet(path, _too_spread(sheet, spread)) from None
        # The sheet's first rows are searched for formulas without saved results beside
        # calamine's parse (inflating releases the GIL; so do calamine and fastexcel parsing).
        formulas = in_background(formula_problem, data, sheet)

    def formulas_checked() -> list[SourceIssue]:
        problem = formulas.result() if formulas is not None else None
        if problem is None:
            return []
        refused, message = problem
        if refused:
            raise NotASpreadsheet(path, message)
        return [SourceIssue("assumption", message)]

    if xml_sheet and date_system == 1900:
        from pseudodesk.core.read.xlsx_arrow import read_columns

        columns = read_columns(data, sheet, header_row)
        formula_issues = formulas_checked()
        if columns is not None:
            del data
            names_, issues = name_columns(columns.header, excel_column_letter)
            issues += columns.scan.finish(path) + formula_issues + picked
            return _workbook_table(path, sheet, names, header_row, encrypted, date_system, names_, issues,
                                   columns.scan.rows, columns.rows, columns.column_batches)
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
            raise NoHeader(path, f"sheet '{sheet}' has no row {header_row} to use as the header (it ends at row {len(cells)})")
        header_cells = trim_trailing_blanks([cell_text(v) for v in cells[header_row - 1]])
        if not header_cells:
            raise NoHeader(path, f"row {header_row} of sheet '{sheet}' is blank; choose the row that holds the column names")
        names_, issues = name_columns(header_cells, excel_column_letter)
        sheet_text = _SheetText(cells[header_row:], len(names_), header_row + 1)
        del cells
    issues += sheet_text.scan.finish(path) + formula_issues + picked
    return _workbook_table(path, sheet, names, header_row, encrypted, date_system, names_, issues,
                           sheet_text.scan.rows, sheet_text.rows, sheet_text.column_batches)


def _unknown_error_value(path: Path, sheet: str, password: str | None, value: str) -> str:
    """calamine refuses a whole sheet over an error value it does not know (#SPILL!, #CALC!
    and the others newer Excel shows); the message names the cell where it can (XLSX/XLSM)."""
    cell = None
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from pseudodesk.core.read.xlsx_arrow import error_cell

        cell = error_cell(_open_workbook(path, password)[3], sheet, value)
    where = f"cell {cell}" if cell else "a cell"
    return (f"sheet '{sheet}' cannot be read: {where} holds Excel's error value {value}, which the "
            "spreadsheet reader does not know (newer Excel shows it for a formula whose result cannot be "
            "shown). Correct the formula or clear the cell in Excel (or paste the sheet as values), save, "
            "and try again.")


def _too_spread(sheet: str, spread: Any) -> str:
    far = (f"furthest right and down: {spread.right}" if spread.right == spread.down
           else f"furthest right: {spread.right}; furthest down: {spread.down}")
    gigabytes = spread.rows * spread.columns * 32 / 1e9
    return (f"sheet '{sheet}' has values spread over {spread.rows:,} rows by {spread.columns:,} columns, "
            f"usually because of a cell far from the rest ({far}), perhaps holding only a space. Reading a grid that "
            f"size would need about {gigabytes:,.0f} GB of memory. Delete those cells in Excel (or the empty-looking "
            "rows and columns up to them), save, and try again; or save the sheet as 'CSV UTF-8' and load that.")


def _workbook_table(path: Path, sheet: str, sheet_names: tuple[str, ...], header_row: int, encrypted: bool,
                    date_system: int, header: tuple[str, ...], issues: list[SourceIssue], row_count: int,
                    rows: Callable[[], Iterator[tuple[int, list[str]]]], column_source: ColumnSource) -> SourceTable:
    return SourceTable(
        path=path, format=path.suffix.lower().lstrip("."), header=header, row_count=row_count,
        sheet=sheet, sheet_names=sheet_names, header_row=header_row, encrypted=encrypted,
        date_system=date_system, issues=issues, _raw_rows=rows, _column_source=column_source,
    )


_collector_lock = threading.Lock()
_collector_holds = 0
_collector_was_enabled = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a sheet becomes millions of objects.

    python-calamine returns a list per row; every few hundred new lists the collector runs,
    and its full passes walk all the rows made so far: 0.4 s of a 200,000-row sheet's 2.2 s
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
        present = np.fromiter((any(v.strip() if type(v) is str else v is not None for v in row[:width])
                               for row in rows), dtype=bool, count=count)
        ragged = np.zeros(count, dtype=bool)
        for i in np.flatnonzero(lengths > width).tolist():
            ragged[i] = any(cell_text(v).strip() for v in rows[i][width:])
        numbers = np.arange(first_line, first_line + count, dtype=np.int64)
        blank = ~present & ~ragged
        kept = present & ~ragged
        self.scan = scan = ShapeScan()
        scan.ragged_total = int(ragged.sum())
        scan.ragged_lines = numbers[ragged][:ShapeScan.MAX_LINES].tolist()
        scan.blank_total = int(blank.sum())
        scan.blank_lines = numbers[blank][:ShapeScan.MAX_LINES].tolist()
        scan.rows = int(kept.sum())
        short = kept & (lengths < width)
        scan.short_total = int(short.sum())
        scan.short_lines = numbers[short][:ShapeScan.MAX_LINES].tolist()
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
            yield ColumnBatch(out, lines[start:start + n])

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        step = 10_000
        for start in range(0, len(self.lines), step):
            lists = [[cell_text(v) for v in row[:self.width]] for row in self._rows[start:start + step]]
            for line, row in zip(self.lines[start:start + step].tolist(), lists):
                yield line, row + [""] * (self.width - len(row))


def cell_text(value: Any) -> str:
    """A workbook cell as the text Excel shows in the formula bar (see module docstring)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15g}".replace("e+", "E+").replace("e-", "E-")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.timedelta):
        total = round(value.total_seconds())  # to the second shown, as Excel's [h]:mm:ss rounds
        hours, rem = divmod(abs(total), 3600)  # divmod of a negative total gave -0:30 as -1:30:00
        return f"{'-' if total < 0 else ''}{hours}:{rem // 60:02d}:{rem % 60:02d}"
    return str(value)


__all__ = ["read_table", "list_sheets", "detect_encoding", "sniff_delimiter", "cell_text", "ReaderError"]
