"""Files written whole or not at all, their hashes, canonical JSON, and names made from text.

- :func:`atomic_output` yields a temporary file beside the target and renames it into place
  only when the writer finished; on any exception the target is untouched.
- :func:`atomic_json` writes a small JSON document the same way.
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


@contextlib.contextmanager
def atomic_output(final: Path, *, overwrite: bool = False) -> Iterator[IO[bytes]]:
    """Yield a temporary file beside ``final``; rename it into place only on success.

    On any exception (including Ctrl-C and :class:`Cancelled`) the temporary file is
    deleted and ``final`` is untouched. Without ``overwrite`` an existing ``final`` is
    refused before and again just before the rename.
    """
    if final.exists() and not overwrite:
        raise OutputExists(f"{final.name} already exists in {final.parent}; choose another name or allow overwriting.")
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix="." + final.name + ".", suffix=".partial")
    except OSError as exc:
        raise ExportError(f"Cannot write to {final.parent} ({exc.strerror}).") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if final.exists() and not overwrite:
            raise OutputExists(f"{final.name} appeared in {final.parent} while exporting; nothing was replaced.")
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
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
        os.replace(tmp, path)
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
