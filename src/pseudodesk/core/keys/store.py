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

import base64
import datetime as dt
import json
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from pseudodesk.core.errors import KeyProblem, NoKeyringBackend
from pseudodesk.core.keys.installation import record
from pseudodesk.core.files import atomic_json, canonical_json
from pseudodesk.core.fingerprint import normalise_fingerprint
from pseudodesk.core.transform.pseudonym import KEY_BYTES, ProjectKey, key_fingerprint
from pseudodesk import __version__
from pseudodesk.core.certificates import certificate_fingerprint, load_certificates
from pseudodesk.core.certificates import read_recipient_identity
from pseudodesk.core.package.crypto.cms import encrypt_cms

SERVICE = "pseudodesk"
_PREFIX = "pdk1:"
KEYFILE_FORMAT = "pseudodesk-key/1"
VAULT_FORMAT = "pseudodesk-vault/1"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1  # ~128 MiB, a fraction of a second per derivation
MAX_SECRET_BYTES = 1024


def data_dir() -> Path:
    override = os.environ.get("PSEUDODESK_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("pseudodesk", appauthor=False))


@dataclass(frozen=True)
class KeyInfo:
    """What may be known about a key without holding it."""

    id: str
    name: str
    created: str
    fingerprint: str
    status: str = "active"  # "active" or "retired"
    agreement: str = ""
    expires: str = ""       # ISO date: the agreement's review date
    kind: str = "project-key"  # or "op-salt" (an OpenPseudonymiser salt)
    store: str = "keyring"  # "keyring" or "local" (passphrase-protected local key store)
    rotated_from: str = ""
    replaced_by: str = ""
    retired: str = ""

    def expired(self, today: dt.date | None = None) -> bool:
        return bool(self.expires) and dt.date.fromisoformat(self.expires) < (today or dt.date.today())


class KeyExpired(KeyProblem):
    """The key is past its expiry (the agreement's review date)."""


# --- where secrets live ------------------------------------------------------------------


class SecretBackend(Protocol):
    label: str
    store: str

    def put(self, name: str, secret: bytes) -> None: ...
    def get(self, name: str) -> bytes | None: ...
    def delete(self, name: str) -> None: ...


def keyring_available() -> bool:
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    name = type(backend).__module__ + "." + type(backend).__name__
    return not (isinstance(backend, fail.Keyring) or name == "keyring.backends.null.Keyring")


class KeyringSecrets:
    label = "the OS keyring"
    store = "keyring"

    def __init__(self) -> None:
        if not keyring_available():
            raise NoKeyringBackend(NO_KEYRING_MESSAGE)
        import keyring

        self._keyring = keyring

    def put(self, name: str, secret: bytes) -> None:
        try:
            self._keyring.set_password(SERVICE, name, _PREFIX + base64.b64encode(secret).decode("ascii"))
        except Exception as exc:  # keyring.errors.KeyringError and backend-specific errors
            raise KeyProblem(f"The OS keyring refused to store {name} ({type(exc).__name__}).") from None

    def get(self, name: str) -> bytes | None:
        try:
            stored = self._keyring.get_password(SERVICE, name)
        except Exception as exc:
            raise KeyProblem(f"The OS keyring could not be read for {name} ({type(exc).__name__}).") from None
        if stored is None:
            return None
        if not stored.startswith(_PREFIX):
            raise KeyProblem(f"{name} in the keyring is not a pseudodesk secret (unknown format).")
        try:
            return base64.b64decode(stored[len(_PREFIX):], validate=True)
        except ValueError:
            raise KeyProblem(f"{name} in the keyring is damaged.") from None

    def delete(self, name: str) -> None:
        try:
            self._keyring.delete_password(SERVICE, name)
        except Exception:  # already gone: deleting is idempotent
            pass


NO_KEYRING_MESSAGE = (
    "No OS keyring is available on this machine, so pseudodesk cannot store or read keys there. "
    "On Windows, keys live in Windows Credential Manager and this does not happen. "
    "On Linux, unlock a Secret Service keyring in your desktop session (GNOME Keyring, KWallet or "
    "KeePassXC) and try again, or use a passphrase-protected local key store instead "
    "('pseudodesk-cli keys create --local-store'). For a one-off trial, 'pseudodesk-cli demo' "
    "uses an ephemeral demo key."
)


def _scrypt(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except ValueError:
        raise KeyProblem(f"{what} is damaged (not base64).") from None


class LocalVault:
    """The passphrase-protected local key store, for computers without an OS keyring."""

    label = "the local passphrase-protected key store"
    store = "local"
    _CHECK = b"pseudodesk local key store"

    def __init__(self, path: Path, passphrase: Callable[[], str]) -> None:
        self.path = path
        self._passphrase = passphrase
        self._key: bytes | None = None

    def exists(self) -> bool:
        return self.path.exists()

    def _doc(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        try:
            doc: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except ValueError:
            raise KeyProblem(f"The local key store {self.path} is damaged.") from None
        if doc.get("format") != VAULT_FORMAT:
            raise KeyProblem(f"{self.path} is not a pseudodesk local key store.")
        return doc

    def _unlock(self, doc: dict[str, Any]) -> bytes:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if self._key is not None:
            return self._key
        passphrase = self._passphrase()
        if not doc:  # a new store
            if len(passphrase) < 12:
                raise KeyProblem("The local key store's passphrase must be at least 12 characters.")
            salt = secrets.token_bytes(16)
            key = _scrypt(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
            nonce = secrets.token_bytes(12)
            doc.update({"format": VAULT_FORMAT,
                        "kdf": {"name": "scrypt", "salt": _b64(salt), "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
                        "check": {"nonce": _b64(nonce), "ciphertext": _b64(AESGCM(key).encrypt(nonce, self._CHECK, None))},
                        "entries": {}})
            self._key = key
            return key
        kdf = doc["kdf"]
        key = _scrypt(passphrase, _unb64(kdf["salt"], "The local key store"), int(kdf["n"]), int(kdf["r"]), int(kdf["p"]))
        try:
            AESGCM(key).decrypt(_unb64(doc["check"]["nonce"], "The local key store"),
                                _unb64(doc["check"]["ciphertext"], "The local key store"), None)
        except InvalidTag:
            raise KeyProblem("Wrong passphrase for the local key store.") from None
        self._key = key
        return key

    def _save(self, doc: dict[str, Any]) -> None:
        atomic_json(self.path, doc)

    def put(self, name: str, secret: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        doc = self._doc()
        key = self._unlock(doc)
        nonce = secrets.token_bytes(12)
        doc["entries"][name] = {"nonce": _b64(nonce),
                                "ciphertext": _b64(AESGCM(key).encrypt(nonce, secret, name.encode()))}
        self._save(doc)

    def get(self, name: str) -> bytes | None:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        doc = self._doc()
        entry = doc.get("entries", {}).get(name)
        if entry is None:
            return None
        key = self._unlock(doc)
        try:
            return AESGCM(key).decrypt(_unb64(entry["nonce"], name), _unb64(entry["ciphertext"], name), name.encode())
        except InvalidTag:
            raise KeyProblem(f"{name} in the local key store has been altered or damaged.") from None

    def delete(self, name: str) -> None:
        doc = self._doc()
        if doc.get("entries", {}).pop(name, None) is not None:
            self._save(doc)


# --- the key store -------------------------------------------------------------------------


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


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
        raise KeyProblem(f"Key {key_id} is not in this computer's key list. Ask your key custodian for the key "
                         "file and import it, or check the key id in the agreement profile.")

    def _audit(self, event: str, details: dict[str, Any]) -> None:
        self.recorder(self, event, details)

    # operations ----------------------------------------------------------------------

    def create(self, name: str, *, agreement: str = "", expires: dt.date | None = None,
               kind: str = "project-key", secret: bytes | None = None) -> KeyInfo:
        """A new 256-bit project key (or, with ``kind="op-salt"``, a stored salt)."""
        name = name.strip()
        if not name:
            raise KeyProblem("A key needs a name (for example the agreement it serves).")
        if kind == "project-key":
            secret = secrets.token_bytes(KEY_BYTES)
        elif not secret or len(secret) > MAX_SECRET_BYTES:
            raise KeyProblem(f"A salt must be 1 to {MAX_SECRET_BYTES} bytes.")
        store = self.default_store()
        info = KeyInfo(id=_new_id(kind), name=name, created=_now(), fingerprint=key_fingerprint(secret),
                       agreement=agreement, expires=expires.isoformat() if expires else "", kind=kind, store=store)
        with self._lock():
            self.backend(store).put(info.id, secret)
            self._write([*self.keys(), info])
        self._audit("key.created", _public(info))
        return info

    def load(self, key_id: str, *, purpose: str = "export", accept_expired: bool = False,
             today: dt.date | None = None) -> ProjectKey:
        """The key for ``purpose`` "export" (active, unexpired or confirmed) or "reidentify" (any)."""
        info = self.info(key_id)
        if info.kind != "project-key":
            raise KeyProblem(f"{key_id} is an OpenPseudonymiser salt, not a project key.")
        if purpose == "export":
            if info.status == "retired":
                raise KeyProblem(f"Key {key_id} was retired on {info.retired[:10]} and replaced by {info.replaced_by}; "
                                 "new exports use the new key. (Retired keys still serve re-identification.)")
            if info.expired(today) and not accept_expired:
                raise KeyExpired(f"Key {key_id} expired on {info.expires} (the agreement's review date). Confirm "
                                 "the agreement is still in force to use it (--accept-expired-key), or ask your "
                                 "key custodian for the new key.")
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
        return secret.decode("utf-8")

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
        new = KeyInfo(id=_new_id("project-key"), name=old.name, created=_now(), fingerprint=key_fingerprint(secret),
                      agreement=old.agreement, expires=expires.isoformat() if expires else old.expires,
                      store=self.default_store(), rotated_from=old.id)
        with self._lock():
            self.backend(new.store).put(new.id, secret)
            items = [replace(k, status="retired", replaced_by=new.id, retired=_now()) if k.id == old.id else k
                     for k in self.keys()]
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
        return info, secret

    def import_file(self, data: bytes, *, confirm_fingerprint: str, passphrase: str | None = None,
                    certificate: Path | None = None, private_key: Path | None = None,
                    private_key_password: str | None = None, source: str = "key file") -> KeyInfo:
        """Import a .pdkey; ``confirm_fingerprint`` is the one the custodian read out."""
        meta, secret = read_keyfile(data, passphrase=passphrase, certificate=certificate, private_key=private_key,
                                    private_key_password=private_key_password, source=source)
        fingerprint = key_fingerprint(secret)
        if normalise_fingerprint(confirm_fingerprint) != fingerprint:
            raise KeyProblem(f"The fingerprint you entered does not match the key in {source} ({fingerprint}). "
                             "Do not use this file: call the key custodian back.")
        existing = {k.id: k for k in self.keys()}
        key_id = str(meta["key_id"])
        if key_id in existing:
            if existing[key_id].fingerprint == fingerprint:
                raise KeyProblem(f"Key {key_id} is already on this computer.")
            raise KeyProblem(f"A different key with the id {key_id} is already on this computer.")
        store = self.default_store()
        info = KeyInfo(id=key_id, name=str(meta.get("name", key_id)), created=str(meta.get("created", _now())),
                       fingerprint=fingerprint, agreement=str(meta.get("agreement", "")),
                       expires=str(meta.get("expires", "")), store=store, status="active")
        with self._lock():
            self.backend(store).put(key_id, secret)
            self._write([*self.keys(), info])
        self._audit("key.imported", {**_public(info), "protection": meta.get("protection")})
        return info


def _public(info: KeyInfo) -> dict[str, Any]:
    return {"key_id": info.id, "name": info.name, "fingerprint": info.fingerprint, "agreement": info.agreement,
            "expires": info.expires, "kind": info.kind, "store": info.store}


def _file_metadata(info: KeyInfo, protection: str) -> dict[str, Any]:

    return {"format": KEYFILE_FORMAT, "protection": protection, "key_id": info.id, "name": info.name,
            "agreement": info.agreement, "created": info.created, "expires": info.expires,
            "fingerprint": info.fingerprint, "exported": _now(), "app": f"pseudodesk {__version__}"}


def _keyfile_bytes(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")


def read_keyfile(data: bytes, *, passphrase: str | None = None, certificate: Path | None = None,
                 private_key: Path | None = None, private_key_password: str | None = None,
                 source: str = "key file") -> tuple[dict[str, Any], bytes]:
    """Open a .pdkey: (its metadata, the secret). Every failure is a KeyProblem naming the cause."""
    try:
        doc = json.loads(data.decode("utf-8"))
        assert isinstance(doc, dict)
    except (ValueError, AssertionError, UnicodeDecodeError):
        raise KeyProblem(f"{source} is not a pseudodesk key file.") from None
    if doc.get("format") != KEYFILE_FORMAT:
        raise KeyProblem(f"{source} is not a pseudodesk key file (format {doc.get('format')!r}).")
    protection = doc.get("protection")
    if protection == "passphrase":
        secret = _open_passphrase_file(doc, passphrase, source)
        meta = {k: v for k, v in doc.items() if k != "ciphertext"}
    elif protection == "certificate":
        meta, secret = _open_certificate_file(doc, certificate, private_key, private_key_password, source)
    else:
        raise KeyProblem(f"{source} uses an unknown protection ({protection!r}).")
    if len(secret) != KEY_BYTES or key_fingerprint(secret) != doc.get("fingerprint"):
        raise KeyProblem(f"{source} has been tampered with: the key inside does not match its fingerprint.")
    return meta, secret


def _open_passphrase_file(doc: dict[str, Any], passphrase: str | None, source: str) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if passphrase is None:
        raise KeyProblem(f"{source} is protected by a passphrase; enter the passphrase the custodian sent you.")
    try:
        kdf = doc["kdf"]
        meta = {k: v for k, v in doc.items() if k != "ciphertext"}
        key = _scrypt(passphrase, _unb64(kdf["salt"], source), int(kdf["n"]), int(kdf["r"]), int(kdf["p"]))
        return AESGCM(key).decrypt(_unb64(doc["nonce"], source), _unb64(doc["ciphertext"], source), canonical_json(meta))
    except InvalidTag:
        raise KeyProblem(f"Wrong passphrase for {source}, or the file has been tampered with "
                         "(its contents and details are sealed together).") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise KeyProblem(f"{source} is damaged ({type(exc).__name__}).") from None


def _open_certificate_file(doc: dict[str, Any], certificate: Path | None, private_key: Path | None,
                           private_key_password: str | None, source: str) -> tuple[dict[str, Any], bytes]:
    from cryptography.hazmat.primitives.serialization import pkcs7

    if certificate is None or private_key is None:
        raise KeyProblem(f"{source} is wrapped to a certificate: give your certificate and its private key.")
    try:
        cert, key = read_recipient_identity(certificate, private_key, private_key_password)
    except (OSError, ValueError, TypeError) as exc:
        raise KeyProblem(f"Your certificate or private key cannot be read ({type(exc).__name__}).") from None

    if certificate_fingerprint(cert) not in doc.get("recipients", []):
        raise KeyProblem(f"{source} was not wrapped to your certificate; ask the custodian to export it for you.")
    try:
        inner = pkcs7.pkcs7_decrypt_der(_unb64(doc.get("cms"), source), cert, key, [])
        payload = json.loads(inner.decode("utf-8"))
        secret = _unb64(payload["secret"], source)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise KeyProblem(f"{source} cannot be opened with your private key, or has been tampered with.") from None
    outer = {k: v for k, v in doc.items() if k != "cms"}
    if payload.get("metadata") != outer:
        raise KeyProblem(f"{source} has been tampered with: its details differ from the sealed copy inside.")
    return outer, secret


# --- the default store, for callers that need no configuration ----------------------------


def create_key(name: str) -> KeyInfo:
    return KeyStore().create(name)


def list_keys() -> list[KeyInfo]:
    return KeyStore().keys()


def load_key(key_id: str) -> ProjectKey:
    return KeyStore().load(key_id)
