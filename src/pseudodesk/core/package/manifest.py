"""The signed manifest beside every export, and inspection of an exported package.

``<name>.manifest.json`` says what the encrypted file is, with no personal data: who
made it where and when, under which agreement and profile (SHA-256), from which source
file (name, size, SHA-256), what left (columns, row count, SHA-256 of the plaintext
CSV and of the encrypted file), what was stripped, what the checks did (counts), which
key (id and fingerprint, never the key) and which recipients. It is signed with this
installation's Ed25519 key: a detached signature over the canonical JSON of the
``manifest`` object, stored beside it with the signer's public key and fingerprint.

A recipient or an IG lead pins the sender's installation key fingerprint; inspection
then proves the manifest is the sender's, the encrypted file is the one it describes,
and (for whoever can decrypt) the CSV is exactly what it claims and holds no direct
identifiers.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pseudodesk.core.errors import PackageError
from pseudodesk.core.files import canonical_json
from pseudodesk.core.fingerprint import normalise_fingerprint, public_fingerprint

if TYPE_CHECKING:
    from pseudodesk.core.package.signing import Signer

MANIFEST_FORMAT = "pseudodesk-manifest/1"
ENCRYPTED_SUFFIXES = (".csv.p7m", ".7z")


def manifest_path_for(encrypted: Path) -> Path:
    name = encrypted.name
    for suffix in ENCRYPTED_SUFFIXES:
        if name.endswith(suffix):
            return encrypted.with_name(name[: -len(suffix)] + ".manifest.json")
    raise PackageError(f"{name} is not a pseudodesk export (.csv.p7m or .7z).")


def sign_manifest(manifest: dict[str, Any], signer: Signer) -> bytes:
    """The manifest document: ``manifest`` with ``signed_with`` (the algorithm and signer, inside the
    signed bytes, so the ``signature`` object's labels cannot be changed unnoticed) and its signature."""
    manifest = {**manifest, "signed_with": {"algorithm": "Ed25519", "signer": signer.fingerprint}}
    signature = {
        "algorithm": "Ed25519",
        "signer": signer.fingerprint,
        "public_key": base64.b64encode(signer.public_raw).decode("ascii"),
        "value": base64.b64encode(signer.sign(canonical_json(manifest))).decode("ascii"),
    }
    return (json.dumps({"manifest": manifest, "signature": signature}, indent=2, ensure_ascii=False) + "\n").encode()


# --- inspection --------------------------------------------------------------------------


def verify_manifest_signature(
    doc: dict[str, Any], pinned_fingerprint: str | None, known_signers: Mapping[str, str] | None = None
) -> tuple[bool, str, str]:
    """(valid?, signer fingerprint, detail). With ``known_signers`` (fingerprint -> who) and no
    pinned fingerprint, a signer not on that list is refused: the package is from an unknown
    installation."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    signature = doc.get("signature", {})
    try:
        raw = base64.b64decode(signature["public_key"])
        signer = public_fingerprint(raw)
        Ed25519PublicKey.from_public_bytes(raw).verify(
            base64.b64decode(signature["value"]), canonical_json(doc["manifest"])
        )
    except (KeyError, ValueError, TypeError, InvalidSignature):
        return False, str(signature.get("signer", "")), "the manifest was changed after it was signed, or is not signed"
    if signature.get("signer") != signer:
        return False, signer, "the signature's stated signer does not match its key"
    signed_with = doc["manifest"].get("signed_with")  # absent from manifests made before it was added
    if signed_with is not None and (
        not isinstance(signed_with, dict)
        or signed_with.get("algorithm") != signature.get("algorithm")
        or signed_with.get("signer") != signer
    ):
        return False, signer, "the signature's algorithm or signer is not the one the manifest was signed with"
    if pinned_fingerprint and normalise_fingerprint(pinned_fingerprint) != signer:
        return (
            False,
            signer,
            f"signed by {signer}, not by the pinned installation key {normalise_fingerprint(pinned_fingerprint)}",
        )
    if pinned_fingerprint:
        return True, signer, f"signed by installation key {signer}, the one pinned"
    if known_signers is not None:
        who = known_signers.get(signer)
        if who is None:
            return (
                False,
                signer,
                f"signed by {signer}, an installation you do not know. If you expect packages from it, "
                "confirm this fingerprint with the sender by phone, then add it (pseudodesk-cli signers add "
                f"{signer} --name ORGANISATION), or pin it with --signer",
            )
        return True, signer, f"signed by installation key {signer} ({who})"
    return True, signer, f"signed by installation key {signer} (compare it with the sender's)"
