"""Where secrets are kept: the OS keyring (Windows Credential Manager) or, where there is none,
a local vault file protected by a passphrase (scrypt + AES-256-GCM).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from pseudodesk.core.errors import KeyProblem, NoKeyringBackend
from pseudodesk.core.files import atomic_json

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1  # ~128 MiB, a fraction of a second per derivation


SERVICE = "pseudodesk"


_PREFIX = "pdk1:"


VAULT_FORMAT = "pseudodesk-vault/1"


MAX_SECRET_BYTES = 1024


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
            return base64.b64decode(stored[len(_PREFIX) :], validate=True)
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
            doc.update(
                {
                    "format": VAULT_FORMAT,
                    "kdf": {"name": "scrypt", "salt": _b64(salt), "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
                    "check": {"nonce": _b64(nonce), "ciphertext": _b64(AESGCM(key).encrypt(nonce, self._CHECK, None))},
                    "entries": {},
                }
            )
            self._key = key
            return key
        kdf = doc["kdf"]
        key = _scrypt(
            passphrase, _unb64(kdf["salt"], "The local key store"), int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
        )
        try:
            AESGCM(key).decrypt(
                _unb64(doc["check"]["nonce"], "The local key store"),
                _unb64(doc["check"]["ciphertext"], "The local key store"),
                None,
            )
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
        doc["entries"][name] = {
            "nonce": _b64(nonce),
            "ciphertext": _b64(AESGCM(key).encrypt(nonce, secret, name.encode())),
        }
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
