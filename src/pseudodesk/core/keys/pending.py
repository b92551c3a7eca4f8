"""Exports under way, so one stopped by a crash, a kill or a power cut is found and undone.

An audited export is two-phase (docs/audit.md, "Exports and crashes"):

1. Before anything is written, a marker ``exports-in-progress/<id>.json`` in the data folder
   names the files the export will write, the export holds a lock on it for as long as it
   runs, and an ``export.started`` entry is recorded.
2. The encrypted file and the manifest are written to hidden ``.partial`` files beside
   their final names; the manifest is renamed into place, then the encrypted file; then the
   ``export`` entry is recorded and the marker removed.

A marker whose lock can be taken belongs to an export whose process is gone. At the next
start (:func:`recover_interrupted`, called by the CLI and the window) its files are removed
(only files this export wrote: a manifest naming its id, the encrypted file beside it, and
the hidden ``.partial`` files of those two names), an ``export.interrupted`` entry records
what was removed, and the marker goes. So every export on disk has its manifest and a
completed audit entry, or does not exist.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pseudodesk.core.files import atomic_json

PENDING_FOLDER = "exports-in-progress"
MARKER_FORMAT = "pseudodesk-export-in-progress/1"


@dataclass
class PendingExport:
    """A marker written and locked by the export that is running."""

    export_id: str
    marker: Path
    lock: Any = field(repr=False)

    def finish(self) -> None:
        """The export is recorded as done, failed or cancelled: the marker goes."""
        self.marker.unlink(missing_ok=True)
        self.release()
        Path(self.lock.lock_file).unlink(missing_ok=True)

    def release(self) -> None:
        """Its outcome could not be recorded: the marker stays, for the next start to record."""
        self.lock.release()


@dataclass(frozen=True)
class Interrupted:
    """An export found stopped part-way, and what was removed of it."""

    export_id: str
    output: str
    folder: str
    removed: tuple[str, ...]

    def facts(self) -> dict[str, Any]:
        return {"export_id": self.export_id, "output": self.output, "removed": list(self.removed)}

    def describe(self) -> str:
        what = ", ".join(self.removed) if self.removed else "nothing had been written"
        return (
            f"An export ({self.output} in {self.folder}) was stopped part-way, by a crash or by the computer "
            f"shutting down; it was not completed and has been undone ({what}). Export again."
        )


def begin(directory: Path, export_id: str, output: Path, manifest: Path) -> PendingExport:
    """Write and lock the marker of an export about to start."""
    from filelock import FileLock

    folder = directory / PENDING_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / f"{export_id}.lock"), timeout=0)
    lock.acquire()
    marker = folder / f"{export_id}.json"
    try:
        atomic_json(
            marker,
            {
                "format": MARKER_FORMAT,
                "export_id": export_id,
                "output": str(output),
                "manifest": str(manifest),
                "pid": os.getpid(),
            },
        )
    except BaseException:
        lock.release()
        raise
    return PendingExport(export_id, marker, lock)


def recover_interrupted(directory: Path, record: Callable[[str, dict[str, Any]], object]) -> list[Interrupted]:
    """Undo and record every export whose process stopped part-way; those still running are left."""
    from filelock import FileLock, Timeout

    folder = directory / PENDING_FOLDER
    if not folder.is_dir():
        return []
    found = []
    for marker in sorted(folder.glob("*.json")):
        lock = FileLock(str(marker.with_suffix(".lock")), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            continue  # its export is still running (another window, a scheduled CLI run)
        try:
            interrupted = _undo(marker)
            if interrupted is not None:
                record("export.interrupted", interrupted.facts())
                found.append(interrupted)
            marker.unlink(missing_ok=True)
        finally:
            lock.release()
            marker.with_suffix(".lock").unlink(missing_ok=True)
    return found


def _undo(marker: Path) -> Interrupted | None:
    try:
        doc = json.loads(marker.read_text(encoding="utf-8"))
        export_id, output, manifest = str(doc["export_id"]), Path(doc["output"]), Path(doc["manifest"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # not a marker this program wrote whole: nothing it names is touched
    removed = []
    if _manifest_export_id(manifest) == export_id:
        for path in (output, manifest):  # the output is renamed in only after its manifest
            if path.exists():
                path.unlink()
                removed.append(path.name)
    for name in (output.name, manifest.name):
        for partial in output.parent.glob(f".{name}.*.partial"):
            partial.unlink(missing_ok=True)
            removed.append(partial.name)
    return Interrupted(export_id, output.name, str(output.parent), tuple(removed))


def _manifest_export_id(path: Path) -> str | None:
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["manifest"]["export_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
