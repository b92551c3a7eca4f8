"""Project keys (and OpenPseudonymiser salts) held on this computer only.

Secrets live in one of two places, never in a plain file:
- the OS keyring (Windows Credential Manager in production), service ``pseudodesk``,
  user name = key id, value ``pdk1:`` + base64 (49 bytes for a key: far below the
  2,560-byte Credential Manager blob limit);
- where no keyring exists, a **local passphrase-protected key store**
  (``keys.vault`` in the data directory): each secret sealed with AES-256-GCM under a
  key derived from the store's passphrase with scrypt, the key id bound in as
  associated data. It is labelled as such everywhere it is used.

Non-secret metadata (id, name, agreement, created, expires, fingerprint, status...)
goes into ``keys.json`` in the data directory (``platformdirs``; override with
``PSEUDODESK_DATA_DIR``). Every change is an audit event.

Key files for distribution (``.pdkey``, JSON) carry one key either sealed with a
passphrase (scrypt N=2^17, r=8, p=1 + AES-256-GCM, all metadata authenticated as
associated data) or wrapped to partners' RSA certificates (CMS EnvelopedData,
AES-256, as in export). Import checks the fingerprint the file claims against the key
inside it, and against the one the custodian read out.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from pseudodesk.core.certificates import certificate_fingerprint, load_certificates
from pseudodesk.core.errors import KeyProblem, NoKeyringBackend
from pseudodesk.core.files import atomic_json, canonical_json
from pseudodesk.core.keys.backends import (
    MAX_SECRET_BYTES,
    NO_KEYRING_MESSAGE,
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    KeyringSecrets,
    LocalVault,
    SecretBackend,
    _b64,
    _scrypt,
    keyring_available,
)
from pseudodesk.core.keys.fingerprints import fingerprint_matches, is_legacy, secret_fingerprint
from pseudodesk.core.keys.info import KeyInfo, _now
from pseudodesk.core.keys.installation import record
from pseudodesk.core.keys.keyfile import _file_metadata, _keyfile_bytes, read_keyfile
from pseudodesk.core.package.crypto.cms import encrypt_cms
from pseudodesk.core.policy import machine_policy
from pseudodesk.core.transform.pseudonym import KEY_BYTES, ProjectKey, key_fingerprint


def data_dir() -> Path:
    override = os.environ.get("PSEUDODESK_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("pseudodesk", appauthor=False))


class KeyExpired(KeyProblem):
    """The key is past its expiry (the agreement's review date)."""


# --- where secrets live ------------------------------------------------------------------


# --- the key store -------------------------------------------------------------------------


def _new_id(kind: str) -> str:
    return ("pdk-" if kind == "project-key" else "salt-") + secrets.token_hex(6)


@dataclass
class KeyStore:
    """Keys of this computer's user. ``vault_passphrase`` is asked only if the local store is used.

    Every change is an event given to ``recorder`` (store, event, details); by default it is
    signed into this user's audit log (:func:`pseudodesk.core.keys.installation.record`).
    """

    directory: Path = field(default_factory=data_dir)
    vault_passphrase: Callable[[], str] | None = None
    prefer_local: bool = False  # create new keys in the local store even when a keyring exists
    recorder: Callable[[KeyStore, str, dict[str, Any]], object] = field(default=record, repr=False)

    def __post_init__(self) -> None:
        self._backends: dict[str, SecretBackend] = {}

    # backends ----------------------------------------------------------------------

    @property
    def vault(self) -> LocalVault:
        def ask() -> str:
            if self.vault_passphrase is None:
                raise KeyProblem("The local passphrase-protected key store needs its passphrase.")
            return self.vault_passphrase()

        backend = self._backends.get("local")
        if backend is None:
            backend = LocalVault(self.directory / "keys.vault", ask)
            self._backends["local"] = backend
        assert isinstance(backend, LocalVault)
        return backend

    def backend(self, store: str) -> SecretBackend:
        if store == "local":
            return self.vault
        if "keyring" not in self._backends:
            self._backends["keyring"] = KeyringSecrets()
        return self._backends["keyring"]

    def default_store(self) -> str:
        """Where new secrets go: the OS keyring when there is one, else an existing or requested local store."""
        if self.prefer_local:
            return "local"
        if keyring_available():
            return "keyring"
        if self.vault.exists() or self.vault_passphrase is not None:
            return "local"
        raise NoKeyringBackend(NO_KEYRING_MESSAGE)

    # metadata ------------------------------------------------------------------------

    @property
    def metadata_path(self) -> Path:
        return self.directory / "keys.json"

    def _lock(self) -> Any:
        from filelock import FileLock

        self.directory.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.metadata_path) + ".lock", timeout=30)

    def keys(self) -> list[KeyInfo]:
        path = self.metadata_path
        if not path.exists():
            return []
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            known = {f for f in KeyInfo.__dataclass_fields__}
            return [KeyInfo(**{k: v for k, v in item.items() if k in known}) for item in doc.get("keys", [])]
        except (ValueError, TypeError) as exc:
            raise KeyProblem(f"The key list {path} is damaged ({exc}); the keys themselves are safe.") from None

    def _write(self, items: list[KeyInfo]) -> None:
        atomic_json(self.metadata_path, {"format": "pseudodesk-keys/1", "keys": [asdict(k) for k in items]})

    def info(self, key_id: str) -> KeyInfo:
        for k in self.keys():
            if k.id == key_id:
                return k
        raise KeyProblem(
            f"Key {key_id} is not in this computer's key list. Ask your key custodian for the key "
            "file and import it, or check the key id in the agreement profile."
        )

    def _audit(self, event: str, details: dict[str, Any]) -> None:
        self.recorder(self, event, details)

    # operations ----------------------------------------------------------------------

    def create(
        self,
        name: str,
        *,
        agreement: str = "",
        expires: dt.date | None = None,
        kind: str = "project-key",
        secret: bytes | None = None,
    ) -> KeyInfo:
        """A new 256-bit project key (or, with ``kind="op-salt"``, a stored salt)."""
        name = name.strip()
        if not name:
            raise KeyProblem("A key needs a name (for example the agreement it serves).")
        if kind == "project-key":
            secret = secrets.token_bytes(KEY_BYTES)
        else:
            _import_allowed()  # a salt typed in or read from a file is an import
        if not secret or len(secret) > MAX_SECRET_BYTES:
            raise KeyProblem(f"A salt must be 1 to {MAX_SECRET_BYTES} bytes.")
        store = self.default_store()
        info = KeyInfo(
            id=_new_id(kind),
            name=name,
            created=_now(),
            fingerprint=secret_fingerprint(kind, secret),
            agreement=agreement,
            expires=expires.isoformat() if expires else "",
            kind=kind,
            store=store,
        )
        with self._lock():
            self.backend(store).put(info.id, secret)
            self._write([*self.keys(), info])
        self._audit("key.created", _public(info))
        return info

    def load(
        self, key_id: str, *, purpose: str = "export", accept_expired: bool = False, today: dt.date | None = None
    ) -> ProjectKey:
        """The key for ``purpose`` "export" (active, unexpired or confirmed) or "reidentify" (any)."""
        info = self.info(key_id)
        if info.kind != "project-key":
            raise KeyProblem(f"{key_id} is an OpenPseudonymiser salt, not a project key.")
        if purpose == "export":
            if info.status == "retired":
                raise KeyProblem(
                    f"Key {key_id} was retired on {info.retired[:10]} and replaced by {info.replaced_by}; "
                    "new exports use the new key. (Retired keys still serve re-identification.)"
                )
            if info.expired(today) and not accept_expired:
                raise KeyExpired(
                    f"Key {key_id} expired on {info.expires} (the agreement's review date). Confirm "
                    "the agreement is still in force to use it (--accept-expired-key), or ask your "
                    "key custodian for the new key."
                )
        secret = self.backend(info.store).get(key_id)
        if secret is None:
            raise KeyProblem(f"Key {key_id} is listed but its secret is missing from {self.backend(info.store).label}.")
        if len(secret) != KEY_BYTES or key_fingerprint(secret) != info.fingerprint:
            raise KeyProblem(f"Key {key_id} in {self.backend(info.store).label} does not match its fingerprint.")
        return ProjectKey(key_id, secret, info.name)

    def load_salt(self, salt_id: str) -> str:
        info = self.info(salt_id)
        if info.kind != "op-salt":
            raise KeyProblem(f"{salt_id} is a project key, not an OpenPseudonymiser salt.")
        secret = self.backend(info.store).get(salt_id)
        if secret is None:
            raise KeyProblem(f"Salt {salt_id} is listed but missing from {self.backend(info.store).label}.")
        self._checked_fingerprint(info, secret)
        return secret.decode("utf-8")

    def _checked_fingerprint(self, info: KeyInfo, secret: bytes) -> KeyInfo:
        """``info`` once its fingerprint is checked against ``secret``; a salt's legacy fast
        fingerprint is replaced in the key list by the slow one (keys/fingerprints.py), an
        audit event recording the new fingerprint only."""
        if not fingerprint_matches(info.kind, secret, info.fingerprint):
            raise KeyProblem(f"{info.id} in {self.backend(info.store).label} does not match its fingerprint.")
        if not is_legacy(info.kind, info.fingerprint):
            return info
        upgraded = replace(info, fingerprint=secret_fingerprint(info.kind, secret))
        with self._lock():
            self._write([upgraded if k.id == info.id else k for k in self.keys()])
        self._audit(
            "key.fingerprint_upgraded", {"key_id": info.id, "kind": info.kind, "fingerprint": upgraded.fingerprint}
        )
        return upgraded

    def lineage(self, key_id: str) -> list[KeyInfo]:
        """The key and every key it replaced (newest first): re-identification tries them all."""
        by_id = {k.id: k for k in self.keys()}
        out: list[KeyInfo] = []
        current: KeyInfo | None = by_id.get(key_id) or self.info(key_id)
        while current is not None and current not in out:
            out.append(current)
            current = by_id.get(current.rotated_from) if current.rotated_from else None
        return out

    def delete(self, key_id: str) -> KeyInfo:
        info = self.info(key_id)
        with self._lock():
            self.backend(info.store).delete(key_id)
            self._write([k for k in self.keys() if k.id != key_id])
        self._audit("key.deleted", _public(info))
        return info

    def rotate(self, key_id: str, *, expires: dt.date | None = None) -> KeyInfo:
        """A new key for the same agreement; the old one is retired (kept for re-identification)."""
        old = self.info(key_id)
        if old.kind != "project-key":
            raise KeyProblem("Only project keys are rotated.")
        if old.status == "retired":
            raise KeyProblem(f"Key {key_id} is already retired (replaced by {old.replaced_by}).")
        secret = secrets.token_bytes(KEY_BYTES)
        new = KeyInfo(
            id=_new_id("project-key"),
            name=old.name,
            created=_now(),
            fingerprint=key_fingerprint(secret),
            agreement=old.agreement,
            expires=expires.isoformat() if expires else old.expires,
            store=self.default_store(),
            rotated_from=old.id,
        )
        with self._lock():
            self.backend(new.store).put(new.id, secret)
            items = [
                replace(k, status="retired", replaced_by=new.id, retired=_now()) if k.id == old.id else k
                for k in self.keys()
            ]
            self._write([*items, new])
        self._audit("key.rotated", {"old": _public(old), "new": _public(new)})
        return new

    # key files ---------------------------------------------------------------------

    def export_with_passphrase(self, key_id: str, passphrase: str) -> bytes:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(passphrase) < 12:
            raise KeyProblem("A key file passphrase must be at least 12 characters (use a generated one).")
        info, secret = self._exportable(key_id)
        meta = _file_metadata(info, "passphrase")
        salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
        meta["kdf"] = {"name": "scrypt", "salt": _b64(salt), "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P}
        meta["nonce"] = _b64(nonce)
        key = _scrypt(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        sealed = AESGCM(key).encrypt(nonce, secret, canonical_json(meta))
        self._audit("key.exported", {**_public(info), "protection": "passphrase"})
        return _keyfile_bytes({**meta, "ciphertext": _b64(sealed)})

    def export_to_certificates(self, key_id: str, certificates: Sequence[Path]) -> bytes:

        info, secret = self._exportable(key_id)
        certs = load_certificates(certificates)
        meta = _file_metadata(info, "certificate")
        meta["recipients"] = [certificate_fingerprint(c) for c in certs]
        inner = canonical_json({"metadata": meta, "secret": _b64(secret)})
        envelope = encrypt_cms(inner, certs)
        self._audit("key.exported", {**_public(info), "protection": "certificate", "recipients": meta["recipients"]})
        return _keyfile_bytes({**meta, "cms": _b64(envelope)})

    def _exportable(self, key_id: str) -> tuple[KeyInfo, bytes]:
        info = self.info(key_id)
        secret = self.backend(info.store).get(key_id)
        if secret is None:
            raise KeyProblem(f"Key {key_id} is listed but its secret is missing.")
        return self._checked_fingerprint(info, secret), secret

    def import_file(
        self,
        data: bytes,
        *,
        confirm_fingerprint: str,
        passphrase: str | None = None,
        certificate: Path | None = None,
        private_key: Path | None = None,
        private_key_password: str | None = None,
        source: str = "key file",
    ) -> KeyInfo:
        """Import a .pdkey; ``confirm_fingerprint`` is the one the custodian read out."""
        _import_allowed()
        meta, secret = read_keyfile(
            data,
            passphrase=passphrase,
            certificate=certificate,
            private_key=private_key,
            private_key_password=private_key_password,
            source=source,
        )
        kind = str(meta.get("kind", "project-key"))
        fingerprint = secret_fingerprint(kind, secret)
        if not fingerprint_matches(kind, secret, confirm_fingerprint, fingerprint):
            raise KeyProblem(
                f"The fingerprint you entered does not match the key in {source}. Do not use this file: "
                "call the key custodian back on a number you already know."
            )
        existing = {k.id: k for k in self.keys()}
        key_id = str(meta["key_id"])
        if key_id in existing:
            if fingerprint_matches(kind, secret, existing[key_id].fingerprint, fingerprint):
                raise KeyProblem(f"Key {key_id} is already on this computer.")
            raise KeyProblem(f"A different key with the id {key_id} is already on this computer.")
        store = self.default_store()
        info = KeyInfo(
            id=key_id,
            name=str(meta.get("name", key_id)),
            created=str(meta.get("created", _now())),
            fingerprint=fingerprint,
            agreement=str(meta.get("agreement", "")),
            expires=str(meta.get("expires", "")),
            kind=kind,
            store=store,
            status="active",
        )
        with self._lock():
            self.backend(store).put(key_id, secret)
            self._write([*self.keys(), info])
        self._audit("key.imported", {**_public(info), "protection": meta.get("protection")})
        return info

    def adopt(self, keys: Sequence[KeyInfo], new_secrets: Mapping[str, bytes], *, retire: Mapping[str, str]) -> None:
        """Add or update ``keys`` (new ones with their ``new_secrets``, by id) and retire the keys
        ``retire`` names (old id -> the id replacing it), in one change of the key list.

        For callers that have already verified everything (installing an agreement package);
        they record the audit event. If the key list cannot be written, the secrets just
        stored are removed again.
        """
        by_id = {k.id: k for k in keys}
        put: list[KeyInfo] = []
        with self._lock():
            try:
                for info in keys:
                    if info.id in new_secrets:
                        self.backend(info.store).put(info.id, new_secrets[info.id])
                        put.append(info)
                now = _now()
                items = []
                for k in self.keys():
                    k = by_id.pop(k.id, k)
                    if k.id in retire and k.status != "retired":
                        k = replace(k, status="retired", replaced_by=retire[k.id], retired=now)
                    items.append(k)
                self._write([*items, *by_id.values()])
            except BaseException:
                for info in put:
                    self.backend(info.store).delete(info.id)
                raise


def _import_allowed() -> None:
    machine_policy().require(
        "allow_key_import",
        "importing a key or salt on its own, outside an agreement package",
        "Keys reach this computer inside the agreement package from your key custodian: install it "
        "(File > Install agreement..., or pseudodesk-cli agreement install FILE).",
    )


def _public(info: KeyInfo) -> dict[str, Any]:
    return {
        "key_id": info.id,
        "name": info.name,
        "fingerprint": info.fingerprint,
        "agreement": info.agreement,
        "expires": info.expires,
        "kind": info.kind,
        "store": info.store,
    }


# --- the default store, for callers that need no configuration ----------------------------


def create_key(name: str) -> KeyInfo:
    return KeyStore().create(name)


def list_keys() -> list[KeyInfo]:
    return KeyStore().keys()


def load_key(key_id: str) -> ProjectKey:
    return KeyStore().load(key_id)
