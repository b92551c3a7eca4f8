"""CSV and other delimited text: delimiter sniffing, quoting checked for rows swallowed by a
stray quote, long values, and the csv module's path for what Arrow cannot read exactly.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from pseudodesk.core.errors import (
    EmptyFile,
    EncodingProblem,
    NoHeader,
    NotASpreadsheet,
)
from pseudodesk.core.read import csv_arrow
from pseudodesk.core.read.encoding import PREVIEW_BYTES, detect_encoding
from pseudodesk.core.read.table import (
    ShapeScan,
    SourceIssue,
    SourceTable,
    name_columns,
    trim_trailing_blanks,
)

DELIMITERS = (",", ";", "\t", "|")


DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}


# The longest value a CSV cell may hold, in characters. The csv module's own default (131,072)
# refused the free-text columns some database exports have; no limit at all would let a quote
# left open near the top of a multi-gigabyte file gather the rest of it into one value in
# memory (the csv module holds 4 bytes a character while it reads). Excel itself stops at
# 32,767 characters a cell.
MAX_VALUE_CHARS = 16 << 20


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


def read_csv(path: Path, header_row: int, preview_only: bool = False) -> SourceTable:
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
                raise EncodingProblem(
                    path,
                    f"text after line {start} is not {encoding.upper().removesuffix('-SIG')}. "
                    "Re-save the file from Excel as 'CSV UTF-8 (Comma delimited)'.",
                ) from None
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
            header_issues.append(
                SourceIssue(
                    "assumption",
                    f"line 1 is Excel's delimiter line 'sep={directive}': it was not read as a row, "
                    f"and values are split at each {DELIMITER_NAMES.get(directive, repr(directive))}",
                )
            )
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
            fast = csv_arrow.arrow_csv(path, "utf8", delimiter, header_cells_read, width)
        if fast is None:
            encoding = detect_encoding(path)
            if arrow_ok and encoding == "cp1252":
                fast = csv_arrow.arrow_csv(path, "cp1252", delimiter, header_cells_read, width)
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
        path=path,
        format="csv",
        header=tuple(header),
        row_count=-1 if preview_only else row_count,
        header_row=header_row,
        encoding=encoding,
        delimiter=delimiter,
        issues=issues,
        reader="arrow" if column_source is not None else "csv",
        _raw_rows=data_rows,
        _column_source=column_source,
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
    return any(
        part.count(delimiter) >= width - 1
        for cell in cells
        if "\n" in cell or "\r" in cell
        for part in cell.splitlines()
    )


def _stray_quote(start: int, end: int) -> str:
    return (
        f'lines {start} to {end}: a quote (") opens a value on line {start} that runs on to line {end}, '
        "taking in text that looks like rows of their own. If the quote was typed by mistake, remove it "
        "(a value that holds a quote must be quoted whole, with the quote doubled) and try again."
    )


def _unclosed_quote(start: int, end: int) -> str:
    rest = f"every line after it (to line {end}, the end of the file)" if end > start else "the end of the line"
    return (
        f'line {start}: a value opens with a quote (") that is never closed, so {rest} would be read '
        f"as part of that one value. Correct the quoting on line {start} and try again."
    )


def _value_too_long(start: int) -> str:
    return (
        f"line {start}: a value is longer than {MAX_VALUE_CHARS:,} characters. This usually means a "
        f'quote (") on line {start} opens a value and is not closed where it should be, so the lines '
        "after it are read as part of that value. Correct the quoting and try again."
    )


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
    other threads of the GIL: the window stalls while a worker reads a large CSV that way,
    and not with chunks (docs/performance.md). ``StringIO(newline="")`` splits on the same line endings
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
