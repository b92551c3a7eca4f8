"""The agreement package (``.pdagreement``, format ``pseudodesk-agreement/1``): one file a key
custodian signs and hands to a partner, documented field by field in docs/agreements.md.

It holds the agreement profile (its TOML bytes and their SHA-256), the files the profile
names (recipient certificates, convention packs), the project key and any
OpenPseudonymiser salt as ``.pdkey`` documents (sealed with a passphrase or wrapped to the
partner's certificate: never a secret in clear), the validity dates, a version number
that only grows per agreement, and the custodian's Ed25519 public key. The custodian signs
the canonical JSON of the whole ``package`` object.

:func:`sign_package` writes one; :func:`read_agreement` checks the signature and every
field before anything else looks at it, and raises :class:`AgreementPackageInvalid` for a
damaged, truncated, altered or wrongly signed file. Opening the secrets and installing
are :mod:`pseudodesk.core.keys.agreements`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from pseudodesk import __version__
from pseudodesk.core.agreement.bundle import CERTIFICATE, PACK, BundledFile, ProfileBundle, bundle_references
from pseudodesk.core.errors import PseudodeskError
from pseudodesk.core.files import canonical_json
from pseudodesk.core.fingerprint import public_fingerprint
from pseudodesk.core.keys.info import _now
from pseudodesk.core.keys.keyfile import KEYFILE_FORMAT
from pseudodesk.core.package.signing import Signer

AGREEMENT_FORMAT = "pseudodesk-agreement/1"
AGREEMENT_SUFFIX = ".pdagreement"
MAX_PACKAGE_BYTES = 8 * 1024 * 1024  # a profile, a few certificates and two sealed secrets: far less

_KEY_FINGERPRINT = re.compile(r"^[0-9A-F]{4}(-[0-9A-F]{4}){3}$")
# a salt's scrypt fingerprint has five groups; four is the fast one of earlier versions (keys/fingerprints.py)
_SALT_FINGERPRINT = re.compile(r"^[0-9A-F]{4}(-[0-9A-F]{4}){3,4}$")
_BODY_FIELDS = {
    "format",
    "agreement",
    "package_version",
    "valid_from",
    "review_date",
    "created",
    "app",
    "custodian",
    "profile",
    "files",
    "key",
    "salt",
}


class AgreementPackageInvalid(PseudodeskError):
    """The package is damaged, truncated or altered, is not signed by the key it names, or
    not by the custodian the partner was told of. Nothing was installed."""


class AgreementRefused(PseudodeskError):
    """A sound package that cannot be used here: expired, not yet valid, older than the one
    installed, or its profile cannot be used. Nothing was installed."""


@dataclass(frozen=True)
class AgreementPackage:
    """A package whose signature and structure have been checked; its secrets are still sealed."""

    agreement: str
    version: int
    valid_from: dt.date
    review_date: dt.date
    created: str
    app: str
    custodian_public_key: bytes = field(repr=False)
    custodian_fingerprint: str
    bundle: ProfileBundle
    key_file: dict[str, Any] = field(repr=False)
    salt_file: dict[str, Any] | None = field(repr=False)
    sha256: str  # of the package file

    @property
    def key_id(self) -> str:
        return str(self.key_file["key_id"])

    @property
    def key_fingerprint(self) -> str:
        return str(self.key_file["fingerprint"])

    @property
    def protection(self) -> str:
        """How the secrets are sealed: "passphrase" or "certificate" (the partner's)."""
        return str(self.key_file["protection"])

    @property
    def salt_id(self) -> str:
        return str(self.salt_file["key_id"]) if self.salt_file else ""

    def expired(self, today: dt.date | None = None) -> bool:
        return self.review_date < (today or dt.date.today())

    def not_yet_valid(self, today: dt.date | None = None) -> bool:
        return self.valid_from > (today or dt.date.today())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def sign_package(
    *,
    agreement: str,
    version: int,
    valid_from: dt.date,
    review_date: dt.date,
    bundle: ProfileBundle,
    key_file: dict[str, Any],
    salt_file: dict[str, Any] | None,
    signer: Signer,
) -> bytes:
    """The package file's bytes, signed by ``signer`` (the custodian)."""
    body = {
        "format": AGREEMENT_FORMAT,
        "agreement": agreement,
        "package_version": version,
        "valid_from": valid_from.isoformat(),
        "review_date": review_date.isoformat(),
        "created": _now(),
        "app": f"pseudodesk {__version__}",
        "custodian": {"algorithm": "Ed25519", "public_key": _b64(signer.public_raw), "fingerprint": signer.fingerprint},
        "profile": {"sha256": bundle.sha256, "data": _b64(bundle.profile)},
        "files": [{"path": f.path, "kind": f.kind, "sha256": f.sha256, "data": _b64(f.data)} for f in bundle.files],
        "key": key_file,
        "salt": salt_file,
    }
    signature = {"algorithm": "Ed25519", "value": _b64(signer.sign(canonical_json(body)))}
    doc = {"format": AGREEMENT_FORMAT, "package": body, "signature": signature}
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def read_agreement(data: bytes, *, source: str = "agreement package") -> AgreementPackage:
    """The package in ``data``, its signature and every field checked; nothing is opened or written."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    def invalid(problem: str) -> AgreementPackageInvalid:
        return AgreementPackageInvalid(
            f"{source} {problem}. Nothing was installed; ask the key custodian for it again."
        )

    if len(data) > MAX_PACKAGE_BYTES:
        raise invalid("is far larger than an agreement package can be")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise invalid("is not a complete agreement package (it is damaged or cut short)") from None
    if not isinstance(doc, dict) or "format" not in doc:
        raise invalid("is not a pseudodesk agreement package")
    if doc["format"] != AGREEMENT_FORMAT:
        newer = isinstance(doc["format"], str) and doc["format"].startswith("pseudodesk-agreement/")
        raise invalid(
            f"is in format {doc['format']!r}, "
            + ("made by a newer pseudodesk: update pseudodesk first" if newer else "not an agreement package")
        )
    body, signature = doc.get("package"), doc.get("signature")
    if set(doc) != {"format", "package", "signature"} or not isinstance(body, dict) or not isinstance(signature, dict):
        raise invalid("is not laid out as an agreement package")
    custodian = body.get("custodian")
    try:
        assert isinstance(custodian, dict) and custodian.get("algorithm") == "Ed25519"
        assert signature == {"algorithm": "Ed25519", "value": signature.get("value")}
        public_raw = base64.b64decode(str(custodian["public_key"]), validate=True)
        value = base64.b64decode(str(signature["value"]), validate=True)
        Ed25519PublicKey.from_public_bytes(public_raw).verify(value, canonical_json(body))
    except (AssertionError, KeyError, ValueError, InvalidSignature):
        raise invalid(
            "does not verify: it was changed after the custodian signed it, or was not signed by the key it names"
        ) from None
    fingerprint = public_fingerprint(public_raw)
    try:
        return _checked(body, data, public_raw, fingerprint)
    except _Wrong as wrong:
        raise invalid(f"is signed but not well formed ({wrong})") from None


class _Wrong(Exception):
    """A field of a signed package that is not as the format says (an internal signal)."""


def _need(condition: object, what: str) -> None:
    if not condition:
        raise _Wrong(what)


def _date(value: object, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _Wrong(f"{what} is not a date") from None


def _bytes(value: object, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except ValueError:
        raise _Wrong(f"{what} is not base64") from None


def _checked(body: dict[str, Any], data: bytes, public_raw: bytes, fingerprint: str) -> AgreementPackage:
    _need(set(body) == _BODY_FIELDS, "its fields are not those of the format")
    _need(body["format"] == AGREEMENT_FORMAT, "the signed format differs")
    _need(set(body["custodian"]) == {"algorithm", "public_key", "fingerprint"}, "custodian")
    _need(body["custodian"]["fingerprint"] == fingerprint, "the custodian fingerprint does not match its key")
    name = body["agreement"]
    _need(isinstance(name, str) and name.strip(), "no agreement name")
    version = body["package_version"]
    _need(isinstance(version, int) and not isinstance(version, bool) and version >= 1, "package_version")
    valid_from, review = _date(body["valid_from"], "valid_from"), _date(body["review_date"], "review_date")
    _need(valid_from <= review, "valid_from is after the review date")

    profile = body["profile"]
    _need(isinstance(profile, dict) and set(profile) == {"sha256", "data"}, "profile")
    profile_bytes = _bytes(profile["data"], "profile")
    _need(hashlib.sha256(profile_bytes).hexdigest() == profile["sha256"], "the profile does not match its SHA-256")
    _need(isinstance(body["files"], list), "files")
    files = []
    for item in body["files"]:
        _need(isinstance(item, dict) and set(item) == {"path", "kind", "sha256", "data"}, "files")
        _need(item["kind"] in (CERTIFICATE, PACK) and isinstance(item["path"], str), "files")
        file = BundledFile(item["path"], item["kind"], _bytes(item["data"], item["path"]))
        _need(file.sha256 == item["sha256"], f"{item['path']} does not match its SHA-256")
        files.append(file)
    bundle = ProfileBundle(profile_bytes, tuple(files))
    problem = bundle_references(bundle.profile, bundle.files)
    _need(not problem, problem)

    key_file, salt_file = body["key"], body["salt"]
    _check_keyfile(key_file, "project-key", "key")
    if salt_file is not None:
        _check_keyfile(salt_file, "op-salt", "salt")
    doc = tomllib.loads(profile_bytes.decode("utf-8"))
    agreement, key = doc.get("agreement", {}), doc.get("key", {})
    _need(isinstance(agreement, dict) and agreement.get("name") == name, "the profile is for another agreement")
    _need(agreement.get("review_date") == review, "the profile's review date differs from the package's")
    _need(isinstance(key, dict) and key.get("id") == key_file["key_id"], "the profile names another key")
    stated = str(key.get("fingerprint", "")).upper()
    _need(stated in ("", key_file["fingerprint"]), "the profile's key fingerprint is not the key's")
    _need(key.get("salt_id", "") == (salt_file["key_id"] if salt_file else ""), "the profile names another salt")
    return AgreementPackage(
        agreement=name,
        version=version,
        valid_from=valid_from,
        review_date=review,
        created=str(body["created"]),
        app=str(body["app"]),
        custodian_public_key=public_raw,
        custodian_fingerprint=fingerprint,
        bundle=bundle,
        key_file=key_file,
        salt_file=salt_file,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _check_keyfile(doc: object, kind: str, what: str) -> None:
    _need(isinstance(doc, dict), what)
    assert isinstance(doc, dict)
    _need(doc.get("format") == KEYFILE_FORMAT, f"{what} is not a sealed key file")
    _need(doc.get("protection") in ("passphrase", "certificate"), f"{what} is not sealed")
    _need(doc.get("kind", "project-key") == kind, f"{what} is not a {kind}")
    _need(isinstance(doc.get("key_id"), str) and doc["key_id"], f"{what} has no id")
    form = _SALT_FINGERPRINT if kind == "op-salt" else _KEY_FINGERPRINT
    _need(isinstance(doc.get("fingerprint"), str) and form.match(doc["fingerprint"]), f"{what}")
    _need("ciphertext" in doc or "cms" in doc, f"{what} holds no sealed secret")
    _need("secret" not in doc, f"{what} holds a secret in clear")
