"""CSV bytes and their encryption: never a plaintext byte of the output on disk.

- :class:`CsvEncoder` turns row batches into RFC 4180 CSV bytes (UTF-8, CRLF, minimal
  quoting) and neutralises spreadsheet formulas (docs/csv-output.md).
- :func:`write_cms` streams the CSV into CMS EnvelopedData (AES-256-CBC content key,
  RSA key transport to one or more recipient certificates, binary mode, DER), which
  ``openssl cms -decrypt -binary -inform DER`` opens; memory does not grow with the CSV.
  :func:`encrypt_cms` is ``cryptography``'s one-call builder, for small payloads (key
  backups) and as the reference the streamed encoding is tested against.
- :func:`write_7z` writes a 7-Zip archive with AES-256 and encrypted headers (file
  names hidden too), which 7-Zip opens with the generated passphrase.
- :func:`read_cms` and :func:`read_7z` give a package's plaintext back a block at a time,
  for ``pseudodesk-cli inspect`` and ``decrypt`` (core/package/manifest.py).
- :func:`atomic_output` makes the final file appear whole or not at all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Prefix a cell that a spreadsheet would run as a formula with an apostrophe."""
    if value and value[0] in FORMULA_TRIGGERS:
        return "'" + value
    return value


class CsvEncoder:
    """Encodes rows to CSV bytes batch by batch; the header comes first."""

    def __init__(self, header: Sequence[str]) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        self._writer.writerow([neutralise(h) for h in header])

    def encode(self, rows: Sequence[Sequence[str]], plain: Sequence[Sequence[bool]] | None = None) -> bytes:
        """CSV bytes for the rows (and the header, on the first call).

        ``plain[i][j]`` true means the cell was validated by a convention as a plain
        number or date and is written as it is.
        """
        for i, row in enumerate(rows):
            flags = plain[i] if plain is not None else None
            self._writer.writerow(
                [v if flags is not None and flags[j] else neutralise(v) for j, v in enumerate(row)]
            )
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode("utf-8")










