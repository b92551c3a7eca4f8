"""Key files: a project key exported for a partner, protected by a passphrase (scrypt +
AES-256-GCM) or wrapped to the partner's certificate (CMS).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pseudodesk import __version__
from pseudodesk.core.certificates import certificate_fingerprint, read_recipient_identity
from pseudodesk.core.errors import KeyProblem
from pseudodesk.core.files import canonical_json
from pseudodesk.core.keys.backends import MAX_SECRET_BYTES, _scrypt, _unb64
from pseudodesk.core.keys.fingerprints import fingerprint_matches
from pseudodesk.core.keys.info import KeyInfo, _now
from pseudodesk.core.transform.pseudonym import KEY_BYTES

KEYFILE_FORMAT = "pseudodesk-key/1"


def _file_metadata(info: KeyInfo, protection: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "format": KEYFILE_FORMAT,
        "protection": protection,
        "key_id": info.id,
        "name": info.name,
        "agreement": info.agreement,
        "created": info.created,
        "expires": info.expires,
        "fingerprint": info.fingerprint,
        "exported": _now(),
        "app": f"pseudodesk {__version__}",
    }
    if info.kind != "project-key":  # project key files stay as they were before salts could travel
        meta["kind"] = info.kind
    return meta


def _keyfile_bytes(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")


def read_keyfile(
    data: bytes,
    *,
    passphrase: str | None = None,
    certificate: Path | None = None,
    private_key: Path | None = None,
    private_key_password: str | None = None,
    source: str = "key file",
) -> tuple[dict[str, Any], bytes]:
    """Open a .pdkey: (its metadata, the secret). Every failure is a KeyProblem naming the cause."""
    try:
        doc = json.loads(data.decode("utf-8"))
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError):
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
    kind = doc.get("kind", "project-key")
    if kind == "project-key":
        sized = len(secret) == KEY_BYTES
    elif kind == "op-salt":
        sized = 0 < len(secret) <= MAX_SECRET_BYTES
    else:
        raise KeyProblem(f"{source} holds an unknown kind of secret ({kind!r}).")
    if not sized or not fingerprint_matches(kind, secret, doc.get("fingerprint")):
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
        return AESGCM(key).decrypt(
            _unb64(doc["nonce"], source), _unb64(doc["ciphertext"], source), canonical_json(meta)
        )
    except InvalidTag:
        raise KeyProblem(
            f"Wrong passphrase for {source}, or the file has been tampered with "
            "(its contents and details are sealed together)."
        ) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise KeyProblem(f"{source} is damaged ({type(exc).__name__}).") from None


def _open_certificate_file(
    doc: dict[str, Any],
    certificate: Path | None,
    private_key: Path | None,
    private_key_password: str | None,
    source: str,
) -> tuple[dict[str, Any], bytes]:
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
