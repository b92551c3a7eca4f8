"""Project keys held in the OS keyring (Windows Credential Manager in production).

The secret goes only into the keyring, under service ``pseudodesk`` and the key id as
user name, as ``pdk1:`` + base64 (49 bytes: far below Credential Manager's 2,560-byte
blob limit). Non-secret metadata (id, name, created, fingerprint) goes into
``keys.json`` in the user's data directory (``platformdirs``; override with the
``PSEUDODESK_DATA_DIR`` environment variable). Full key management (import, export,
rotate, expiry) builds on this module.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pseudodesk.core.errors import KeyProblem, NoKeyringBackend
from pseudodesk.core.pseudonym import KEY_BYTES, ProjectKey, key_fingerprint

SERVICE = "pseudodesk"
_PREFIX = "pdk1:"


def data_dir() -> Path:
    override = os.environ.get("PSEUDODESK_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("pseudodesk", appauthor=False))


@dataclass(frozen=True)
class KeyInfo:
    id: str
    name: str
    created: str
    fingerprint: str
    status: str = "active"


def _keyring() -> Any:
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    names = {type(backend).__module__ + "." + type(backend).__name__}
    if isinstance(backend, fail.Keyring) or "keyring.backends.null.Keyring" in names:
        raise NoKeyringBackend(
            "No OS keyring is available on this machine, so pseudodesk cannot store or read keys. "
            "On Windows, keys live in Windows Credential Manager and this does not happen. "
            "On Linux, unlock a Secret Service keyring in your desktop session (GNOME Keyring, "
            "KWallet or KeePassXC) and try again. For a one-off trial without a keyring, "
            "'pseudodesk-cli demo' uses an ephemeral demo key."
        )
    return keyring


def _metadata_path() -> Path:
    return data_dir() / "keys.json"


def _read_metadata() -> list[KeyInfo]:
    path = _metadata_path()
    if not path.exists():
        return []
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return [KeyInfo(**item) for item in doc.get("keys", [])]
    except (ValueError, TypeError) as exc:
        raise KeyProblem(f"The key list {path} is damaged ({exc}); the keys themselves are safe in the keyring.") from None


def _write_metadata(items: list[KeyInfo]) -> None:
    path = _metadata_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keys-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"format": "pseudodesk-keys/1", "keys": [asdict(k) for k in items]}, f, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def create_key(name: str) -> KeyInfo:
    """Create a 256-bit project key in the keyring and record its metadata."""
    name = name.strip()
    if not name:
        raise KeyProblem("A key needs a name (for example the agreement it serves).")
    kr = _keyring()
    secret = secrets.token_bytes(KEY_BYTES)
    key_id = "pdk-" + secrets.token_hex(6)
    info = KeyInfo(
        id=key_id,
        name=name,
        created=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        fingerprint=key_fingerprint(secret),
    )
    items = _read_metadata()
    try:
        kr.set_password(SERVICE, key_id, _PREFIX + base64.b64encode(secret).decode("ascii"))
    except Exception as exc:  # keyring.errors.KeyringError and backend-specific errors
        raise KeyProblem(f"The OS keyring refused to store the new key ({type(exc).__name__}).") from None
    _write_metadata([*items, info])
    return info


def list_keys() -> list[KeyInfo]:
    return _read_metadata()


def load_key(key_id: str) -> ProjectKey:
    """Read a key from the keyring; raises KeyProblem naming the key id when it cannot."""
    kr = _keyring()
    try:
        stored = kr.get_password(SERVICE, key_id)
    except Exception as exc:
        raise KeyProblem(f"The OS keyring could not be read for key {key_id} ({type(exc).__name__}).") from None
    if stored is None:
        raise KeyProblem(
            f"Key {key_id} is not in this computer's keyring. Ask your key custodian for the key file "
            "and import it, or check the key id in the agreement profile."
        )
    if not stored.startswith(_PREFIX):
        raise KeyProblem(f"Key {key_id} in the keyring is not a pseudodesk key (unknown format).")
    try:
        secret = base64.b64decode(stored[len(_PREFIX):], validate=True)
    except ValueError:
        raise KeyProblem(f"Key {key_id} in the keyring is damaged.") from None
    if len(secret) != KEY_BYTES:
        raise KeyProblem(f"Key {key_id} in the keyring has the wrong length.")
    name = next((k.name for k in _read_metadata() if k.id == key_id), "")
    return ProjectKey(key_id, secret, name)
