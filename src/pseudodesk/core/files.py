"""Files written whole or not at all, their hashes, canonical JSON, and names made from text.

- :func:`atomic_output` (and :class:`Staged`, for a caller that puts several files in place in
  its own order) writes a temporary file beside the target and renames it into place only
  when the writer finished, never over a file that exists unless asked; on any exception the
  target is untouched.
- :func:`atomic_json` writes a small JSON document the same way.
- Putting a file in place is retried a few times, waiting a little longer each time, when
  another process briefly holds the target (on Windows an antivirus scan, OneDrive or the
  search indexer opening a file just written refuses the rename with a sharing violation,
  PermissionError): :func:`_retried`.
- :func:`file_sha256` hashes a file of any size a block at a time.
- :func:`canonical_json` is the one byte form that is signed and hash-chained (manifests,
  audit entries, key files).
- :func:`slug` makes a file-name part from a name typed by a person.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from pseudodesk.core.errors import ExportError, OutputExists

_NOT_NAME = re.compile(r"[^A-Za-z0-9]+")


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same bytes for the same document everywhere."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def slug(text: str, *, fallback: str, separator: str = "-", limit: int | None = None) -> str:
    """``text`` as lower-case ASCII letters and digits joined by ``separator``
    ('Lincolnshire LCP / 2026' -> 'lincolnshire-lcp-2026'); ``fallback`` when nothing is left."""
    made = _NOT_NAME.sub(separator, text).strip(separator).lower()
    if limit is not None:
        made = made[:limit].strip(separator)
    return made or fallback


def file_sha256(path: Path) -> tuple[str, int]:
    """The file's SHA-256 (hex) and size in bytes."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


REPLACE_ATTEMPTS = 6
REPLACE_FIRST_WAIT = 0.05  # seconds, doubled after each refusal: at most 1.55 s of waiting in all


def _retried(rename: Any, source: Path | str, target: Path | str) -> None:
    """``rename(source, target)``, tried again after a short wait while another process holds the
    file (PermissionError); the last refusal is raised. Other errors are raised at once."""
    wait = REPLACE_FIRST_WAIT
    for attempt in range(REPLACE_ATTEMPTS):
        try:
            rename(source, target)
            return
        except PermissionError:
            if attempt == REPLACE_ATTEMPTS - 1:
                raise
            time.sleep(wait)
            wait *= 2


class Staged:
    """A hidden ``.<name>.<random>.partial`` file beside ``final``, put in its place by :meth:`commit`.

    Without ``overwrite`` an existing ``final`` is refused when staging starts, and the commit
    never replaces a file that appeared meanwhile (a no-replace rename, :func:`place`).
    """

    def __init__(self, final: Path, *, overwrite: bool = False) -> None:
        if final.exists() and not overwrite:
            raise OutputExists(
                f"{final.name} already exists in {final.parent}; choose another name or allow overwriting."
            )
        blocking = next((p for p in (final.parent, *final.parent.parents) if p.exists()), None)
        if blocking is not None and not blocking.is_dir():
            raise ExportError(f"{blocking} is a file, not a folder: choose another output folder.")
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix="." + final.name + ".", suffix=".partial")
        except OSError as exc:
            raise ExportError(f"Cannot write to {final.parent} ({exc.strerror or type(exc).__name__}).") from None
        self.final = final
        self.overwrite = overwrite
        self.tmp = Path(tmp_name)
        self.file: IO[bytes] = os.fdopen(fd, "w+b")

    def close(self) -> None:
        """Flush the written bytes to the disk and close the file (before hashing or committing it)."""
        if not self.file.closed:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()

    def commit(self) -> None:
        self.close()
        place(self.tmp, self.final, overwrite=self.overwrite)

    def discard(self) -> None:
        self.file.close()
        self.tmp.unlink(missing_ok=True)


def place(tmp: Path, final: Path, *, overwrite: bool) -> None:
    """Rename ``tmp`` to ``final``; without ``overwrite`` an existing ``final`` is never replaced,
    even one created a moment ago (a hard link fails if the name exists; Windows' rename never
    replaces). Where hard links are not supported (FAT, some network shares) the name is checked
    just before an ordinary rename."""
    if overwrite:
        _retried(os.replace, tmp, final)
        return
    appeared = OutputExists(f"{final.name} appeared in {final.parent} while exporting; nothing was replaced.")
    if os.name == "nt":
        try:
            _retried(os.rename, tmp, final)
        except FileExistsError:
            raise appeared from None
        return
    try:
        os.link(tmp, final)
    except FileExistsError:
        raise appeared from None
    except OSError:  # no hard links on this file system
        if final.exists():
            raise appeared from None
        _retried(os.replace, tmp, final)
        return
    tmp.unlink()


@contextlib.contextmanager
def atomic_output(final: Path, *, overwrite: bool = False) -> Iterator[IO[bytes]]:
    """Yield a temporary file beside ``final``; put it in place only on success (:class:`Staged`).

    On any exception (including Ctrl-C and :class:`Cancelled`) the temporary file is
    deleted and ``final`` is untouched.
    """
    staged = Staged(final, overwrite=overwrite)
    try:
        yield staged.file
        staged.commit()
    except BaseException:
        staged.discard()
        raise


def atomic_json(path: Path, doc: dict[str, Any]) -> None:
    """Write ``doc`` as indented JSON to ``path``, replacing it only once the new text is on disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        _retried(os.replace, tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, deepest first."""
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    return missing


def remove_empty(folders: list[Path]) -> None:
    """Remove the folders (deepest first) that are still empty; leave any that are not."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return  # not empty, gone, or not ours to remove: the ones above hold it
