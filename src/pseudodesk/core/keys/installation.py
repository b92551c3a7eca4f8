"""This installation's signing key, and the audit entries signed with it.

The key is created on first use and kept in the key store's backend; its public half is
published in the data folder (installation-key.json) so an IG lead can verify the log and
the manifests. :func:`record` is the key store's default event recorder."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pseudodesk.core.errors import PseudodeskError
from pseudodesk.core.files import atomic_json, canonical_json
from pseudodesk.core.host import machine_name, os_user
from pseudodesk.core.keys.pending import Interrupted, PendingExport, recover_interrupted
from pseudodesk.core.keys.pending import begin as begin_pending
from pseudodesk.core.package.signing import Signer

if TYPE_CHECKING:
    from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.audit.log import (
    INSTALLATION_FILE,
    LOG_NAME,
    AuditError,
    AuditLog,
    AuditVerification,
    check_head,
    read_entries,
)

INSTALLATION_KEY_NAME = "installation-signing-key"  # the entry of installations made before entries were named
INSTALLATION_LOCK = "installation.lock"


def installation_signer(store: KeyStore) -> Signer:
    """This installation's signing key, created (and its public half published) on first use.

    Creation holds a lock on the data folder and looks again once it has it, so processes
    starting together on a fresh installation make one key, not one each. The keyring entry
    is named by the key's fingerprint, so data folders of the same user never share (and
    overwrite) an entry.
    """
    return _installation(store)[0]


def _installation(store: KeyStore) -> tuple[Signer, str]:
    """The signing key and the key store ("keyring" or "local") that holds it."""
    info_path = store.directory / INSTALLATION_FILE
    if info_path.exists():
        return _published_signer(store, info_path)
    from filelock import FileLock

    store.directory.mkdir(parents=True, exist_ok=True)
    with FileLock(str(store.directory / INSTALLATION_LOCK), timeout=60):
        if info_path.exists():  # made by another process while this one waited
            return _published_signer(store, info_path)
        return _create_signer(store, info_path)


def _published_signer(store: KeyStore, info_path: Path) -> tuple[Signer, str]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        where, name, fingerprint = (
            str(info["store"]),
            str(info.get("key_name", INSTALLATION_KEY_NAME)),
            info["fingerprint"],
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AuditError(
            f"This installation's public key file {info_path} is damaged or unreadable ({type(exc).__name__}), so "
            "the audit log cannot be signed. Ask IT to restore it from a backup of the data folder."
        ) from None
    seed = store.backend(where).get(name)
    if seed is None:
        raise AuditError(
            "This installation's signing key is missing from its key store; the audit log "
            "cannot be signed. Ask IT to restore it, or re-install pseudodesk."
        )
    signer = Signer(Ed25519PrivateKey.from_private_bytes(seed))
    if signer.fingerprint != fingerprint:
        raise AuditError("This installation's signing key does not match its published public key.")
    return signer, where


def _create_signer(store: KeyStore, info_path: Path) -> tuple[Signer, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    where = store.default_store()
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    signer = Signer(private)
    name = f"{INSTALLATION_KEY_NAME}-{signer.fingerprint}"
    store.backend(where).put(name, seed)  # first: a published key always has its private half
    atomic_json(
        info_path,
        {
            "format": "pseudodesk-installation-key/1",
            "algorithm": "Ed25519",
            "public": base64.b64encode(signer.public_raw).decode("ascii"),
            "fingerprint": signer.fingerprint,
            "store": where,
            "key_name": name,
            "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "user": os_user(),
            "machine": machine_name(),
        },
    )
    return signer, where


HEAD_NAME = "audit-head"  # keyring entry: the newest entry's number and line hash, outside the log


def record(store: KeyStore, event: str, details: dict[str, Any]) -> dict[str, Any]:
    """Append one signed entry to this user's audit log, and keep its number and hash in the
    key store too, so a log cut short after it is detected (:func:`check_recorded_head`)."""
    signer, where = _installation(store)
    log = AuditLog(store.directory / LOG_NAME, signer)
    entry = log.append(event, details)
    try:
        if where != "keyring":
            return entry  # the local store re-encrypts on every write: too slow to do per entry
        line_hash = hashlib.sha256(canonical_json(entry)).hexdigest()
        store.backend(where).put(f"{HEAD_NAME}-{signer.fingerprint}", f"{entry['seq']}:{line_hash}".encode())
    except PseudodeskError:
        pass  # the count lags; the log itself is written and verifies
    return entry


def check_recorded_head(store: KeyStore, result: AuditVerification) -> None:
    """Add to ``result`` what the count kept in the key store shows: entries removed from the end."""
    try:
        where = json.loads((store.directory / INSTALLATION_FILE).read_text(encoding="utf-8"))["store"]
        kept = store.backend(where).get(f"{HEAD_NAME}-{result.signer}")
    except (OSError, ValueError, KeyError, PseudodeskError):
        return
    if kept is None:
        return
    seq, _, line_hash = kept.decode("ascii", "replace").partition(":")
    if seq.isdigit():
        check_head(result, store.directory / LOG_NAME, int(seq), line_hash, "the count kept in the key store")


class AuditTrail:
    """What a run needs from the audit log: record events, and recall the last profile used per agreement."""

    def __init__(self, store: KeyStore) -> None:
        self.store = store
        self.path = store.directory / LOG_NAME

    @property
    def signer(self) -> Signer:
        return installation_signer(self.store)

    def record(self, event: str, details: dict[str, Any]) -> dict[str, Any]:
        return record(self.store, event, details)

    def begin_export(
        self, export_id: str, details: dict[str, Any], output: Path, manifest: Path
    ) -> tuple[dict[str, Any], PendingExport]:
        """Mark an export as under way (keys/pending.py) and record ``export.started``."""
        pending = begin_pending(self.store.directory, export_id, output, manifest)
        try:
            entry = self.record("export.started", details)
        except BaseException:
            pending.finish()
            raise
        return entry, pending

    def recover_interrupted(self) -> list[Interrupted]:
        """Undo and record the exports a crash or a kill stopped part-way (at start-up)."""
        return recover_interrupted(self.store.directory, self.record)

    def last_profile_sha256(self, agreement: str) -> str | None:
        last = None
        for _, entry, _ in read_entries(self.path):
            if entry and entry.get("event") == "export" and entry["details"].get("agreement") == agreement:
                last = entry["details"].get("profile_sha256")
        return last
