"""CSV read by Arrow's multi-threaded C++ reader, when it reads the file exactly as the csv module would."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

from pseudodesk.core.read.encoding import _CHUNK
from pseudodesk.core.read.table import (
    ColumnBatch,
    ColumnSource,
    blank_rows,
)

# Arrow reads the file in blocks of this size (about 9,000 rows of a dozen columns) and the
# run's column batches are put together from several. With larger blocks the streaming
# reader's memory grows with the file; with 1 MiB blocks it stays flat whatever the file, and
# reads as fast (docs/performance.md has the measurements).
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


def arrow_csv(path: Path, encoding: str, delimiter: str, physical: int, width: int) -> tuple[int, ColumnSource] | None:
    """Read a CSV with Arrow's multi-threaded C++ reader, when that gives exactly what the
    csv module gives: (data rows, a column source), or None to use the csv module instead.

    A full pass here replaces the csv-module shape scan. Arrow is used only for files with
    none of the shapes the scan reports or refuses and whose line numbers follow from row
    numbers: every record has the header's cell count (extra cells empty), no record is
    blank, no value holds a line break or NUL, and (for UTF-8) every byte is valid UTF-8.
    Anything else returns None and the csv-module path reads the file; tests
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
            parse_options=arrow_csv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=invalid_row,
            ),
            convert_options=arrow_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                include_columns=include,
                check_utf8=True,
            ),
        )

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
