"""7-Zip archives with AES-256 and encrypted headers, written and read a block at a time; the generated passphrase."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

from pseudodesk.core.errors import Cancelled, PackageError
from pseudodesk.core.threads import pushed

PASSPHRASE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols: no 0/O, 1/I, no L-ambiguity


PASSPHRASE_GROUPS = 6


PASSPHRASE_GROUP_LEN = 4  # 6 x 4 symbols x 5 bits = 120 bits of entropy


def generate_passphrase() -> str:
    """Six groups of four symbols from a 32-symbol alphabet: 120 bits, easy to read aloud."""
    groups = [
        "".join(secrets.choice(PASSPHRASE_ALPHABET) for _ in range(PASSPHRASE_GROUP_LEN))
        for _ in range(PASSPHRASE_GROUPS)
    ]
    return "-".join(groups)


def write_7z(
    target: IO[bytes],
    data: bytes | Iterable[bytes],
    member_name: str,
    passphrase: str,
    *,
    cancel: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
) -> None:
    """A .7z archive holding one file, Deflate (level 1) + AES-256, headers encrypted.

    Deflate, not py7zr's default LZMA2: an export is mostly 64-hex-digit pseudonyms, which
    compress to about half whatever the method, and LZMA2 takes about twice as long for the
    same size. Deflate is one of 7-Zip's standard methods: 7-Zip, p7zip and libarchive open it.
    Level 1, not zlib's default 6 (py7zr has no setting for it; :func:`_use_fast_deflate`):
    a third of the time for a member a few per cent larger; the level is not recorded in the
    archive and every Deflate reader reads it. docs/performance.md has the measurements.

    ``data`` is the member's bytes, or chunks of them made while py7zr reads (the run's CSV,
    batch by batch, so memory does not grow with the file). py7zr reads in blocks;
    ``cancel`` is polled before each block (raising :class:`Cancelled`), so stopping a large
    export takes effect at once. ``progress`` (bytes only) receives the share read so far.
    """
    import py7zr

    _use_fast_deflate()
    source: io.BytesIO = (
        _WatchedBytes(data, cancel, progress) if isinstance(data, bytes) else _StreamedBytes(iter(data), cancel)
    )
    filters = [{"id": py7zr.FILTER_DEFLATE}, {"id": py7zr.FILTER_CRYPTO_AES256_SHA256}]
    with py7zr.SevenZipFile(target, "w", password=passphrase, header_encryption=True, filters=filters) as archive:
        archive.writef(source, member_name)


DEFLATE_LEVEL = 1


def _use_fast_deflate() -> None:
    """Make py7zr's Deflate compressor zlib level :data:`DEFLATE_LEVEL`.

    py7zr builds its compressors from the table ``py7zr.compressor.algorithm_class_map`` and
    its Deflate class takes no level; this puts a subclass with the level in that table entry
    (the decompressor is unchanged: the level is not part of the stream's format). Only this
    module writes 7z archives, so the process-wide change is ours alone; a test checks with
    7-Zip that the packed member is Deflate at level 1 (tests/core/test_export.py).
    """
    import zlib

    import py7zr
    from py7zr import compressor

    class FastDeflate(compressor.DeflateCompressor):
        def __init__(self) -> None:
            self._compressor = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)

    current = compressor.algorithm_class_map[py7zr.FILTER_DEFLATE]
    if current[0].__name__ != "FastDeflate":
        compressor.algorithm_class_map[py7zr.FILTER_DEFLATE] = (FastDeflate, current[1])


class _WatchedBytes(io.BytesIO):
    """The plaintext as py7zr reads it, block by block, with cancel and progress between blocks."""

    def __init__(
        self, data: bytes, cancel: Callable[[], bool] | None, progress: Callable[[float], None] | None
    ) -> None:
        super().__init__(data)
        self._size = max(len(data), 1)
        self._cancel = cancel
        self._progress = progress

    def read(self, size: int | None = -1) -> bytes:
        if self._cancel is not None and self._cancel():
            raise Cancelled()
        chunk = super().read(size)
        if self._progress is not None:
            self._progress(min(self.tell() / self._size, 1.0))
        return chunk


class _StreamedBytes(io.BytesIO):
    """Chunks handed to py7zr as it reads; only the chunk being read is in memory.

    A BytesIO so py7zr accepts it as a member; py7zr asks its buffer's size only to tell an
    empty member from a non-empty one, and records the real size from what it read.
    """

    def __init__(self, chunks: Iterator[bytes], cancel: Callable[[], bool] | None) -> None:
        super().__init__()
        self._chunks = chunks
        self._cancel = cancel
        self._pending = bytearray()

    def getbuffer(self) -> memoryview:
        return memoryview(b"\0")  # "not empty": the member's length is known only at the end

    def read(self, size: int | None = -1) -> bytes:
        if self._cancel is not None and self._cancel():
            raise Cancelled()
        while size is None or size < 0 or len(self._pending) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._pending += chunk
        cut = len(self._pending) if size is None or size < 0 else min(size, len(self._pending))
        out = bytes(self._pending[:cut])
        del self._pending[:cut]
        return out


def read_7z(source: Path | IO[bytes], passphrase: str, *, name: str = "The package") -> Iterator[bytes]:
    """The one file inside a .7z, decrypted and inflated a block at a time.

    py7zr extracts into a file-like object it writes to; here that object hands each block
    over to this iterator from py7zr's worker thread (:func:`threads.pushed`), so memory does
    not grow with the file. Raises :class:`PackageError` for a wrong passphrase, a damaged
    archive (a CRC mismatch shows only after the last block) or an archive that does not hold
    exactly one file.
    """
    import py7zr
    from py7zr.io import Py7zIO, WriterFactory

    def extract(emit: Callable[[bytes], None]) -> None:
        class Member(Py7zIO):
            written = 0

            def write(self, s: bytes | bytearray) -> int:
                emit(bytes(s))
                self.written += len(s)
                return len(s)

            def read(self, size: int | None = None) -> bytes:
                return b""

            def seek(self, offset: int, whence: int = 0) -> int:
                return 0

            def flush(self) -> None:
                pass

            def size(self) -> int:
                return self.written

        class Members(WriterFactory):
            def create(self, filename: str) -> Py7zIO:
                return Member()

        try:
            with py7zr.SevenZipFile(source, "r", password=passphrase) as archive:
                names = archive.getnames()
                if len(names) != 1:
                    raise PackageError(f"{name} should hold exactly one CSV, it holds {len(names)} files.")
                archive.extractall(factory=Members())
        except PackageError:
            raise
        except Exception:  # py7zr raises assorted errors for a wrong passphrase or a damaged archive
            raise PackageError(
                f"{name} cannot be opened with this passphrase (wrong passphrase, or damaged)."
            ) from None

    return pushed(extract, depth=2, name="pseudodesk-7z-read")
