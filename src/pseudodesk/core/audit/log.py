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
writing can leave an incomplete last line: the next append starts on a new line and
chains to the last complete entry, and verification names the incomplete line.
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

        with self._lock():
            prev, seq, torn = _tail(self.path)
            now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            entry: dict[str, Any] = {
                "v": 1,
                "seq": seq + 1,
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
            with self.path.open("ab") as f:
                if torn:
                    f.write(b"\n")  # leave the incomplete line as it is, on its own line
                f.write(canonical_json(entry) + b"\n")
                f.flush()
                os.fsync(f.fileno())
        return entry


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
    return result


def _looks_cut(raw: bytes) -> bool:
    return raw.lstrip().startswith(b"{") and not raw.rstrip().endswith(b"}")
