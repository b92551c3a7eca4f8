"""The tamper-evident audit log: append-only JSON Lines, hash-chained and signed.

Each line is the canonical JSON (sorted keys, no spaces, UTF-8) of one entry::

    {"v":1,"seq":7,"time":"2026-11-21T10:00:00+00:00","local_time":"...","event":"key.created",
     "user":"jsmith","machine":"PC-042","app":"pseudodesk 0.1.0","details":{...},
     "prev":"<SHA-256 of the previous entry's line>","signer":"<installation key fingerprint>",
     "sig":"<base64 Ed25519 signature over the entry without 'sig'>"}

The installation signing key (Ed25519) is created on first use; its private half lives
where keys live (OS keyring, or the local passphrase-protected store) and its public
half in ``installation-key.json`` beside the log, so an IG lead can pin it.

Appends hold a file lock, so two windows and the CLI never interleave. A crash while
writing can leave an incomplete last line: verification names it until the next append,
which cuts it off and records an ``audit.repaired`` entry (bytes removed and their SHA-256)
before its own, so the log verifies again and the repair is on the record.
Details never hold data values, keys, salts or passphrases: counts, names and hashes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pseudodesk import __version__
from pseudodesk.core.errors import PseudodeskError
from pseudodesk.core.files import canonical_json
from pseudodesk.core.fingerprint import public_fingerprint
from pseudodesk.core.host import machine_name, os_user
from pseudodesk.core.package.signing import Signer

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


GENESIS = "0" * 64
LOG_NAME = "audit.jsonl"
INSTALLATION_FILE = "installation-key.json"


class AuditError(PseudodeskError):
    """The audit log cannot be written or read."""


def installation_public_key(location: Path) -> tuple[Ed25519PublicKey, str] | None:
    """The public signing key from an installation-key.json file, or from the folder holding one."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    path = location / INSTALLATION_FILE if location.is_dir() else location
    if not path.exists():
        return None
    try:
        raw = base64.b64decode(json.loads(path.read_text(encoding="utf-8"))["public"])
        return Ed25519PublicKey.from_public_bytes(raw), public_fingerprint(raw)
    except (ValueError, KeyError, TypeError):
        raise AuditError(f"{path.name} is not an installation public key file.") from None


class AuditLog:
    def __init__(self, path: Path, signer: Signer) -> None:
        self.path = path
        self.signer = signer

    def _lock(self) -> Any:
        from filelock import FileLock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.path) + ".lock", timeout=60)

    def append(self, event: str, details: dict[str, Any]) -> dict[str, Any]:
        """Sign and append one entry. A last line left incomplete by a crash is cut off first,
        and an ``audit.repaired`` entry records how many bytes went and their SHA-256."""
        with self._lock():
            prev, seq, torn = _tail(self.path)
            lines = []
            if torn:
                removed = _cut_torn_line(self.path)
                repair = self._entry(
                    seq + 1,
                    prev,
                    "audit.repaired",
                    {
                        "removed_bytes": len(removed),
                        "removed_sha256": hashlib.sha256(removed).hexdigest(),
                        "reason": "the last line was incomplete: the program stopped while writing it",
                    },
                )
                lines.append(canonical_json(repair) + b"\n")
                prev, seq = hashlib.sha256(lines[-1][:-1]).hexdigest(), seq + 1
            entry = self._entry(seq + 1, prev, event, details)
            lines.append(canonical_json(entry) + b"\n")
            with self.path.open("ab") as f:
                f.write(b"".join(lines))
                f.flush()
                os.fsync(f.fileno())
        return entry

    def _entry(self, seq: int, prev: str, event: str, details: dict[str, Any]) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        entry: dict[str, Any] = {
            "v": 1,
            "seq": seq,
            "time": now.isoformat(),
            "local_time": now.astimezone().isoformat(),
            "event": event,
            "user": os_user(),
            "machine": machine_name(),
            "app": f"pseudodesk {__version__}",
            "details": details,
            "prev": prev,
            "signer": self.signer.fingerprint,
        }
        entry["sig"] = base64.b64encode(self.signer.sign(canonical_json(entry))).decode("ascii")
        return entry


def _cut_torn_line(path: Path) -> bytes:
    """Remove the incomplete last line (everything after the last newline); return what was removed."""
    with path.open("r+b") as f:
        size = f.seek(0, os.SEEK_END)
        start, chunk = size, 1 << 16
        while start > 0:
            start = max(0, start - chunk)
            f.seek(start)
            block = f.read(size - start)
            newline = block.rfind(b"\n")
            if newline >= 0:
                cut = start + newline + 1
                break
        else:
            cut = 0
        f.seek(cut)
        removed = f.read()
        f.truncate(cut)
        f.flush()
        os.fsync(f.fileno())
    return removed


def _tail(path: Path) -> tuple[str, int, bool]:
    """(hash of the last complete entry, its seq, whether the file ends mid-line)."""
    if not path.exists() or path.stat().st_size == 0:
        return GENESIS, 0, False
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(-1, os.SEEK_END)
        torn = f.read(1) != b"\n"
        chunk = 1 << 16
        while True:
            start = max(0, size - chunk)
            f.seek(start)
            lines = f.read(size - start).split(b"\n")
            if start > 0:
                lines = lines[1:]  # possibly cut
            for line in reversed(lines):
                entry = _parse(line)
                if entry is not None:
                    return hashlib.sha256(line).hexdigest(), int(entry["seq"]), torn
            if start == 0:
                return GENESIS, 0, torn
            chunk *= 4


def _parse(line: bytes) -> dict[str, Any] | None:
    if not line.strip():
        return None
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    if not (
        isinstance(entry, dict)
        and isinstance(entry.get("seq"), int)
        and isinstance(entry.get("event"), str)
        and isinstance(entry.get("time"), str)
        and isinstance(entry.get("details"), dict)
    ):
        return None  # not an entry pseudodesk wrote: verification reports the line as damaged
    try:
        dt.datetime.fromisoformat(entry["time"])
    except ValueError:
        return None
    return entry


def read_entries(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, bytes]]:
    """(line number, entry or None when unreadable, raw line) for every line of the log."""
    if not path.exists():
        return
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            line = raw.rstrip(b"\n")
            if line.strip():
                yield number, _parse(line), line


# --- verification ------------------------------------------------------------------------

EXPORT_OUTCOMES = ("export", "export.demo", "export.failed", "export.cancelled", "export.interrupted")


def unfinished_exports(path: Path) -> list[dict[str, Any]]:
    """The ``export.started`` entries with no outcome recorded for the same export: each is an
    export still running, or one a crash stopped whose undoing was not recorded."""
    started: dict[str, dict[str, Any]] = {}
    for _, entry, _ in read_entries(path):
        if entry is None:
            continue
        export_id = entry["details"].get("export_id")
        if entry["event"] == "export.started" and export_id:
            started[str(export_id)] = entry
        elif entry["event"] in EXPORT_OUTCOMES and export_id:
            started.pop(str(export_id), None)
    return list(started.values())


@dataclass(frozen=True)
class AuditProblem:
    line: int
    kind: str  # edited, deleted, reordered, truncated, damaged, foreign-signer
    detail: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.kind}: {self.detail}"


@dataclass
class AuditVerification:
    entries: int = 0
    problems: list[AuditProblem] = field(default_factory=list)
    signer: str = ""
    head_seq: int = 0  # the last entry: its number and the SHA-256 of its line, which anchor a printed report
    head_sha256: str = GENESIS

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_log(path: Path, public_key: Ed25519PublicKey, signer_fingerprint: str) -> AuditVerification:
    """Check every signature and the hash chain; name the first and every later problem."""
    from cryptography.exceptions import InvalidSignature

    result = AuditVerification(signer=signer_fingerprint)
    prev_hash, prev_seq = GENESIS, 0
    lines = list(read_entries(path))
    size = path.stat().st_size if path.exists() else 0
    ends_clean = size == 0 or path.read_bytes()[-1:] == b"\n"
    for index, (number, entry, raw) in enumerate(lines):
        last = index == len(lines) - 1
        if entry is None:
            if last and not ends_clean:
                result.problems.append(
                    AuditProblem(
                        number, "truncated", "the last line is incomplete (the program stopped while writing it)"
                    )
                )
            else:
                kind = "truncated" if _looks_cut(raw) else "damaged"
                result.problems.append(AuditProblem(number, kind, "this line is not a complete audit entry"))
            continue
        seq = entry["seq"]
        body = {k: v for k, v in entry.items() if k != "sig"}
        if entry.get("signer") != signer_fingerprint:
            result.problems.append(
                AuditProblem(number, "foreign-signer", f"entry {seq} is signed by another key ({entry.get('signer')})")
            )
        else:
            try:
                public_key.verify(base64.b64decode(str(entry.get("sig", ""))), canonical_json(body))
                if canonical_json(entry) != raw:
                    raise InvalidSignature()
            except (InvalidSignature, ValueError):
                result.problems.append(AuditProblem(number, "edited", f"entry {seq} was changed after it was signed"))
        if seq > prev_seq + 1:
            result.problems.append(
                AuditProblem(number, "deleted", f"entries {prev_seq + 1} to {seq - 1} are missing before entry {seq}")
            )
        elif seq <= prev_seq:
            result.problems.append(AuditProblem(number, "reordered", f"entry {seq} comes after entry {prev_seq}"))
        elif entry.get("prev") != prev_hash:
            result.problems.append(
                AuditProblem(number, "edited", f"the entry before entry {seq} is not the one it was chained to")
            )
        prev_hash, prev_seq = hashlib.sha256(raw).hexdigest(), max(prev_seq, seq)
        result.entries += 1
    result.head_seq, result.head_sha256 = prev_seq, prev_hash
    return result


def check_head(result: AuditVerification, path: Path, seq: int, sha256: str, where: str) -> None:
    """Compare the log with a (seq, line hash) it once reached, kept elsewhere (``where``: the
    keyring's count, a manifest): a log that ends before it lost its newest entries."""
    if seq > result.head_seq:
        result.problems.append(
            AuditProblem(
                result.head_seq + 1,
                "deleted",
                f"the log ends at entry {result.head_seq}, but {where} shows entry {seq} was written: "
                f"entries {result.head_seq + 1} to {seq} were removed from the end",
            )
        )
        return
    for number, entry, raw in read_entries(path):
        if entry is not None and entry["seq"] == seq:
            if hashlib.sha256(raw).hexdigest() != sha256:
                result.problems.append(AuditProblem(number, "edited", f"entry {seq} is not the one {where} records"))
            return
    result.problems.append(AuditProblem(0, "deleted", f"entry {seq}, which {where} records, is missing"))


def _looks_cut(raw: bytes) -> bool:
    return raw.lstrip().startswith(b"{") and not raw.rstrip().endswith(b"}")
