"""Packing an agreement (the key custodian's side of docs/agreements.md).

:func:`pack_agreement` signs, with this installation's key, a profile, the files it names,
the project key and any OpenPseudonymiser salt sealed for one partner. Each pack is an
``agreement.packed`` audit entry; those entries are where the version of the next pack is
found (:func:`package_version_for`): the same contents keep their version (one release,
packed for each partner), new contents get the next one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pseudodesk.core.agreement.bundle import bundle_profile
from pseudodesk.core.agreement.profile import load_profile
from pseudodesk.core.audit.log import LOG_NAME, read_entries
from pseudodesk.core.certificates import certificate_fingerprint, load_certificates
from pseudodesk.core.errors import KeyProblem, ProfileError
from pseudodesk.core.keys.agreement_package import AgreementPackage, AgreementRefused, read_agreement, sign_package
from pseudodesk.core.keys.installation import installation_signer
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.package.signing import Signer


def pack_agreement(
    store: KeyStore,
    profile_path: Path,
    *,
    passphrase: str | None = None,
    partner_certificates: Sequence[Path] = (),
    valid_from: dt.date | None = None,
    version: int | None = None,
    signer: Signer | None = None,
    today: dt.date | None = None,
) -> tuple[bytes, AgreementPackage]:
    """A signed package of the profile at ``profile_path`` for one partner: its secrets sealed
    with ``passphrase`` or wrapped to ``partner_certificates``. Returns (file bytes, what it says)."""
    if (passphrase is None) == (not partner_certificates):
        raise KeyProblem("Seal the package's key either with a passphrase or to the partner's certificate(s).")
    today = today or dt.date.today()
    bundle = bundle_profile(profile_path)
    profile = load_profile(profile_path)
    source = profile_path.name
    if profile.review_date is None:
        raise ProfileError(source, "agreement.review_date", "an agreement package needs the agreement's review date")
    if profile.review_date < today:
        raise ProfileError(source, "agreement.review_date", f"passed on {profile.review_date}: update the profile")
    if not profile.key.id:
        raise ProfileError(source, "key.id", "an agreement package needs the project key's id (pdk-...)")
    key = store.info(profile.key.id)
    if key.kind != "project-key" or key.status != "active":
        raise KeyProblem(f"Key {key.id} is not an active project key; the package needs the agreement's current key.")
    if profile.key.fingerprint and profile.key.fingerprint != key.fingerprint:
        raise KeyProblem(f"Key {key.id} on this computer is not the key whose fingerprint the profile states.")
    if any(f.role == "openpseudonymiser" for f in profile.output_fields) and not profile.key.salt_id:
        raise ProfileError(source, "key.salt_id", "OpenPseudonymiser fields need the salt the package carries")
    salt = store.info(profile.key.salt_id) if profile.key.salt_id else None
    if salt is not None and salt.kind != "op-salt":
        raise KeyProblem(f"{salt.id} is a project key, not an OpenPseudonymiser salt.")
    if profile.recipient.mode == "certificate":
        load_certificates(profile.recipient.certificates)  # an expired recipient certificate is refused now
    signer = signer or installation_signer(store)
    content = {"profile_sha256": bundle.sha256, "key_id": key.id, "salt_id": salt.id if salt else ""}
    packed = _packed_versions(store, profile.name, signer.fingerprint)
    if valid_from is None:
        last = packed.get(max(packed, default=0), {})
        same = all(last.get(k) == v for k, v in content.items())
        valid_from = dt.date.fromisoformat(last["valid_from"]) if last and same else today
    if valid_from > profile.review_date:
        raise ProfileError(source, "agreement.review_date", f"is before the package's valid-from date {valid_from}")
    content["valid_from"] = valid_from.isoformat()
    version = package_version_for(packed, content, version, profile.name)

    def sealed(secret_id: str) -> dict[str, Any]:
        if passphrase is not None:
            data = store.export_with_passphrase(secret_id, passphrase)
        else:
            data = store.export_to_certificates(secret_id, partner_certificates)
        doc: dict[str, Any] = json.loads(data)
        return doc

    data = sign_package(
        agreement=profile.name,
        version=version,
        valid_from=valid_from,
        review_date=profile.review_date,
        bundle=bundle,
        key_file=sealed(key.id),
        salt_file=sealed(salt.id) if salt else None,
        signer=signer,
    )
    package = read_agreement(data, source=source)  # what a partner will check, checked here first
    partners = (
        [certificate_fingerprint(c) for c in load_certificates(partner_certificates)] if passphrase is None else []
    )
    store.recorder(
        store,
        "agreement.packed",
        {
            "agreement": profile.name,
            "package_version": version,
            **content,
            "review_date": profile.review_date.isoformat(),
            "key_fingerprint": key.fingerprint,
            "custodian_fingerprint": signer.fingerprint,
            "protection": package.protection,
            "partner_certificates": partners,
            "package_sha256": package.sha256,
        },
    )
    return data, package


def _packed_versions(store: KeyStore, agreement: str, custodian: str) -> dict[int, dict[str, Any]]:
    """The versions of ``agreement`` this custodian has packed (from the audit log): version -> details."""
    out: dict[int, dict[str, Any]] = {}
    for _, entry, _ in read_entries(store.directory / LOG_NAME):
        details = entry.get("details") if entry and entry.get("event") == "agreement.packed" else None
        if (
            isinstance(details, dict)
            and details.get("agreement") == agreement
            and details.get("custodian_fingerprint") == custodian
            and isinstance(details.get("package_version"), int)
        ):
            out[details["package_version"]] = details
    return out


def package_version_for(
    packed: dict[int, dict[str, Any]], content: dict[str, str], requested: int | None, agreement: str
) -> int:
    """The version of a new pack: the same as an earlier pack of the same contents (profile,
    key, salt, valid-from), else one more than the highest packed. A version asked for is
    refused if it is lower than the highest, or was packed with other contents."""
    last = max(packed, default=0)
    same = {v for v, d in packed.items() if all(d.get(k) == content[k] for k in content)}
    if requested is None:
        return last if last in same else last + 1
    if requested < 1:
        raise AgreementRefused("A package version is a whole number from 1.")
    if requested in packed and requested not in same:
        raise AgreementRefused(
            f"Version {requested} of {agreement} was packed with other contents; this one is version {last + 1}."
        )
    if requested < last and requested not in same:
        raise AgreementRefused(
            f"Version {requested} of {agreement} is lower than version {last}, already packed: partners "
            "who installed that one would refuse it."
        )
    return requested
