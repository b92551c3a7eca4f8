"""A text file's encoding: byte-order marks checked against the text, UTF-8 or Windows-1252
otherwise, mixed encodings refused naming the line.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from pseudodesk.core.errors import (
    EncodingProblem,
)

_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")


_CHUNK = 1 << 20


PREVIEW_BYTES = 1 << 20  # what a preview reads to guess the encoding


NL = b"\n"


def detect_encoding(path: Path, limit: int | None = None) -> str:
    """Return a Python codec name for the file, or raise EncodingProblem / EmptyFile.

    With ``limit``, only the first ``limit`` bytes are looked at (a preview's guess)."""
    with path.open("rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return _check_marked(path, "utf-8-sig", "UTF-8", limit)
        if head.startswith(
            (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
        ):  # before UTF-16's: FF FE 00 00 starts with FF FE
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
                raise EncodingProblem(
                    path, _not_as_marked(label, line + _decoded_lines(codec, chunk[: max(exc.start, 0)]))
                ) from None
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
    return (
        f"the file starts with the mark of {label} text, but line {line} is not {label}. "
        "Re-save the file from Excel as 'CSV UTF-8 (Comma delimited)'."
    )


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
