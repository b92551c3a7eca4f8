"""Agreement packages made by a key custodian and installed by partners (docs/agreements.md):
the API the CLI and the window call.

- :func:`pack_agreement` (custodian, :mod:`~pseudodesk.core.keys.agreement_pack`): a
  profile, the files it names, the project key and any OpenPseudonymiser salt sealed for
  one partner, signed with this installation's key.
- :func:`read_agreement` (:mod:`~pseudodesk.core.keys.agreement_package`): a package's
  signature and structure checked, nothing opened or written.
- :func:`install_agreement` (partner): checks the package (signature, structure, the
  custodian fingerprint read out by phone, dates, versions, the custodian of an agreement
  already installed), opens the secrets, checks the profile where it will lie, and only
  then changes anything: the profile and its files in ``agreements/<name>/`` under the
  data directory (read-only), the key and salt in the key store (a replaced key is kept,
  retired, for re-identification), and an ``agreement.installed`` audit entry.
- :func:`installed_agreements`: what is installed, and whether each profile is still the
  one installed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pseudodesk.core.agreement.bundle import PROFILE_NAME, write_bundle
from pseudodesk.core.agreement.profile import load_profile
from pseudodesk.core.certificates import certificate_subject, load_certificates, parse_certificate
from pseudodesk.core.errors import KeyProblem, PseudodeskError
from pseudodesk.core.files import atomic_json, slug
from pseudodesk.core.fingerprint import normalise_fingerprint
from pseudodesk.core.keys.agreement_pack import pack_agreement
from pseudodesk.core.keys.agreement_package import (
    MAX_PACKAGE_BYTES,
    AgreementPackage,
    AgreementPackageInvalid,
    AgreementRefused,
    read_agreement,
)
from pseudodesk.core.keys.fingerprints import fingerprint_matches, secret_fingerprint
from pseudodesk.core.keys.info import KeyInfo, _now
from pseudodesk.core.keys.keyfile import read_keyfile
from pseudodesk.core.keys.store import KeyStore, _public

__all__ = [
    "AgreementPackage",
    "AgreementPackageInvalid",
    "AgreementRefused",
    "InstalledAgreement",
    "install_agreement",
    "installed_agreements",
    "installed_profile",
    "package_lines",
    "package_recipients",
    "read_agreement_file",
    "pack_agreement",
    "read_agreement",
]

AGREEMENTS_FOLDER = "agreements"
RECORD_NAME = "installed.json"
RECORD_FORMAT = "pseudodesk-installed-agreement/1"


@dataclass(frozen=True)
class InstalledAgreement:
    """An agreement installed on this computer, as its record says."""

    name: str
    version: int
    custodian_fingerprint: str
    key_id: str
    key_fingerprint: str
    salt_id: str
    valid_from: str
    review_date: str
    profile_path: Path
    profile_sha256: str
    installed: str
    replaced_key: str = ""
    intact: bool = True  # the profile on disk is still the one installed

    def expired(self, today: dt.date | None = None) -> bool:
        return dt.date.fromisoformat(self.review_date) < (today or dt.date.today())


def agreements_folder(store: KeyStore) -> Path:
    return store.directory / AGREEMENTS_FOLDER


# --- installing (a partner) -------------------------------------------------------------


def install_agreement(
    store: KeyStore,
    package: AgreementPackage | bytes,
    *,
    confirm_fingerprint: str,
    passphrase: str | None = None,
    certificate: Path | None = None,
    private_key: Path | None = None,
    private_key_password: str | None = None,
    source: str = "agreement package",
    today: dt.date | None = None,
) -> InstalledAgreement:
    """Install a package; ``confirm_fingerprint`` is the custodian's, as read out by phone.

    Everything is checked before anything changes; a refusal leaves the key store, the
    agreements folder and the audit log as they were.
    """
    if isinstance(package, bytes):
        package = read_agreement(package, source=source)
    if normalise_fingerprint(confirm_fingerprint) != package.custodian_fingerprint:
        raise AgreementPackageInvalid(
            f"{source} was not signed by the custodian whose fingerprint you were given. Do not install "
            "it: call the key custodian back on a number you already know. Nothing was installed."
        )
    today = today or dt.date.today()
    if package.expired(today):
        raise AgreementRefused(
            f"{source} expired on {package.review_date} (the agreement's review date); ask the key custodian "
            "for the current package. Nothing was installed."
        )
    if package.not_yet_valid(today):
        raise AgreementRefused(f"{source} is valid from {package.valid_from}; install it then. Nothing was installed.")
    folder = agreements_folder(store)
    from filelock import FileLock

    store.directory.mkdir(parents=True, exist_ok=True)
    with FileLock(str(store.directory / "agreements.lock"), timeout=30):
        current = {a.name: a for a in installed_agreements(store)}.get(package.agreement)
        if current is not None and current.custodian_fingerprint != package.custodian_fingerprint:
            raise AgreementPackageInvalid(
                f"{source} is for the installed agreement '{package.agreement}' but was signed by another "
                "custodian than the one it was installed from: it cannot replace it. Call the custodian "
                "you know. Nothing was installed."
            )
        repair = current is not None and _same_release(package, current)
        if repair and current is not None and current.intact and not _secrets_missing(store, package):
            raise AgreementRefused(
                f"{source} is version {package.version} of '{package.agreement}', which is installed here "
                "already, unchanged, with its key. Nothing was installed."
            )
        if current is not None and package.version <= current.version and not repair:
            raise AgreementRefused(
                f"{source} is version {package.version} of '{package.agreement}', not newer than version "
                f"{current.version} installed here. Nothing was installed."
            )
        secrets_ = _open_secrets(package, passphrase, certificate, private_key, private_key_password, source)
        keys, new_secrets, retire = _key_changes(store, package, current, secrets_)
        staging = folder / f".staging-{secrets.token_hex(4)}"
        try:
            profile_path = write_bundle(package.bundle, staging)
            _check_profile(profile_path, package, source)
            replaced = current.key_id if current and current.key_id != package.key_id else ""
            record = _record(package, current.replaced_key if repair and current else replaced)
            atomic_json(staging / RECORD_NAME, record)
            os.chmod(staging / RECORD_NAME, stat.S_IREAD | stat.S_IRGRP | stat.S_IROTH)
            target = current.profile_path.parent if current else _new_folder(folder, package.agreement)
            _commit(store, staging, target, keys, new_secrets, retire)
        finally:
            _remove_tree(staging)
    installed = _read_record(target)
    assert installed is not None
    key = next(k for k in keys if k.id == package.key_id)
    store.recorder(
        store,
        "agreement.installed",
        {
            "agreement": package.agreement,
            "package_version": package.version,
            "previous_version": current.version if current else None,
            "reinstalled": repair,  # the installed release again: its profile, files and key restored
            "custodian_fingerprint": package.custodian_fingerprint,
            "profile_sha256": package.bundle.sha256,
            "package_sha256": package.sha256,
            "valid_from": package.valid_from.isoformat(),
            "review_date": package.review_date.isoformat(),
            "key": _public(key),
            "salt_id": package.salt_id,
            "replaced_key": installed.replaced_key,
            "protection": package.protection,
        },
    )
    return installed


def _same_release(package: AgreementPackage, current: InstalledAgreement) -> bool:
    """The release already installed, packed again (perhaps for this partner again): installing
    it restores a changed profile or a key lost from the keyring, and changes nothing else."""
    return (
        package.version == current.version
        and package.bundle.sha256 == current.profile_sha256
        and package.key_id == current.key_id
        and package.key_fingerprint == current.key_fingerprint
        and package.salt_id == current.salt_id
    )


def _secrets_missing(store: KeyStore, package: AgreementPackage) -> bool:
    """Whether the package's key or salt is missing from this computer's key store."""
    held = {k.id: k for k in store.keys()}
    for key_id in filter(None, (package.key_id, package.salt_id)):
        if key_id not in held or store.backend(held[key_id].store).get(key_id) is None:
            return True
    return False


def _open_secrets(
    package: AgreementPackage,
    passphrase: str | None,
    certificate: Path | None,
    private_key: Path | None,
    private_key_password: str | None,
    source: str,
) -> dict[str, tuple[dict[str, Any], bytes]]:
    """Each sealed secret of the package, opened: id -> (sealed metadata, secret)."""
    opened: dict[str, tuple[dict[str, Any], bytes]] = {}
    for what, doc in (("project key", package.key_file), ("salt", package.salt_file)):
        if doc is None:
            continue
        meta, secret = read_keyfile(
            json.dumps(doc).encode("utf-8"),
            passphrase=passphrase,
            certificate=certificate,
            private_key=private_key,
            private_key_password=private_key_password,
            source=f"The {what} in {source}",
        )
        opened[str(meta["key_id"])] = (meta, secret)
    return opened


def _key_changes(
    store: KeyStore,
    package: AgreementPackage,
    current: InstalledAgreement | None,
    opened: dict[str, tuple[dict[str, Any], bytes]],
) -> tuple[list[KeyInfo], dict[str, bytes], dict[str, str]]:
    """The key list entries to add or update, the secrets to store, the keys to retire (old -> new)."""
    existing = {k.id: k for k in store.keys()}
    replaced = {package.key_id: current.key_id if current else "", package.salt_id: current.salt_id if current else ""}
    where = ""
    keys: list[KeyInfo] = []
    new_secrets: dict[str, bytes] = {}
    retire: dict[str, str] = {}
    for key_id, (meta, secret) in opened.items():
        old = replaced.get(key_id, "")
        old = old if old and old != key_id and old in existing else ""
        held = existing.get(key_id)
        kind = str(meta.get("kind", "project-key"))
        fingerprint = secret_fingerprint(held.kind if held is not None else kind, secret)  # once: a salt's is slow
        if held is not None:
            if not fingerprint_matches(held.kind, secret, held.fingerprint, fingerprint):
                raise KeyProblem(
                    f"A different key with the id {key_id} is already on this computer. Nothing was installed."
                )
            if held.status == "retired":
                raise KeyProblem(
                    f"Key {key_id} was retired on this computer; the package cannot make it current again."
                )
            if store.backend(held.store).get(key_id) is None:
                new_secrets[key_id] = secret  # its entry was lost (a new keyring, a new profile)
            info = replace(
                held,
                agreement=package.agreement,
                expires=package.review_date.isoformat(),
                fingerprint=fingerprint,  # a salt's legacy one is replaced
            )
            info = replace(info, rotated_from=info.rotated_from or old)
        else:
            where = where or store.default_store()  # no keyring and no local store: refused here
            info = KeyInfo(
                id=key_id,
                name=str(meta.get("name") or key_id),
                created=str(meta.get("created") or _now()),
                fingerprint=fingerprint,
                agreement=package.agreement,
                expires=package.review_date.isoformat(),
                kind=kind,
                store=where,
                rotated_from=old,
            )
            new_secrets[key_id] = secret
        keys.append(info)
        if old:
            retire[old] = key_id
    return keys, new_secrets, retire


def _check_profile(profile_path: Path, package: AgreementPackage, source: str) -> None:
    """The profile as it will be used here: it must load, and its certificates be usable."""
    try:
        profile = load_profile(profile_path)
        if profile.recipient.mode == "certificate":
            load_certificates(profile.recipient.certificates)
    except PseudodeskError as exc:
        raise AgreementRefused(f"The profile in {source} cannot be used here: {exc} Nothing was installed.") from None
    if profile.name != package.agreement or profile.key.id != package.key_id:
        raise AgreementRefused(f"The profile in {source} is not the package's agreement. Nothing was installed.")


def _record(package: AgreementPackage, replaced_key: str) -> dict[str, Any]:
    return {
        "format": RECORD_FORMAT,
        "agreement": package.agreement,
        "package_version": package.version,
        "custodian": {
            "public_key": base64.b64encode(package.custodian_public_key).decode("ascii"),
            "fingerprint": package.custodian_fingerprint,
        },
        "valid_from": package.valid_from.isoformat(),
        "review_date": package.review_date.isoformat(),
        "profile": PROFILE_NAME,
        "profile_sha256": package.bundle.sha256,
        "files": [{"path": f.path, "kind": f.kind, "sha256": f.sha256} for f in package.bundle.files],
        "key_id": package.key_id,
        "key_fingerprint": package.key_fingerprint,
        "salt_id": package.salt_id,
        "replaced_key": replaced_key,
        "package_sha256": package.sha256,
        "package_created": package.created,
        "installed": _now(),
    }


def _commit(
    store: KeyStore,
    staging: Path,
    target: Path,
    keys: list[KeyInfo],
    new_secrets: dict[str, bytes],
    retire: dict[str, str],
) -> None:
    """Put the staged folder in place of ``target`` and change the key store; undo the folder if the keys fail."""
    aside = target.with_name(f".replaced-{target.name}-{secrets.token_hex(4)}")
    if target.exists():
        target.rename(aside)  # if this fails (a file held open), nothing has changed yet
    try:
        staging.rename(target)
        store.adopt(keys, new_secrets, retire=retire)
    except BaseException:
        if target.exists() and not staging.exists():
            target.rename(staging)
        if aside.exists():
            aside.rename(target)
        raise
    if aside.exists():
        _remove_tree(aside)


def _new_folder(folder: Path, agreement: str) -> Path:
    base = slug(agreement, fallback="agreement", limit=40)
    candidate, n = folder / base, 1
    while candidate.exists():
        n += 1
        candidate = folder / f"{base}-{n}"
    return candidate


def _remove_tree(path: Path) -> None:
    """Remove a folder of read-only files (Windows will not delete a read-only file as it is)."""

    def writable_then_retry(function: Any, name: str, _: Any) -> None:
        os.chmod(name, stat.S_IWRITE | stat.S_IREAD)
        function(name)

    if path.exists():
        shutil.rmtree(path, onerror=writable_then_retry)


# --- what is installed --------------------------------------------------------------------


def installed_agreements(store: KeyStore) -> list[InstalledAgreement]:
    """The agreements installed on this computer, by name."""
    folder = agreements_folder(store)
    found = [_read_record(f) for f in sorted(folder.iterdir()) if not f.name.startswith(".")] if folder.exists() else []
    return sorted((a for a in found if a is not None), key=lambda a: a.name.lower())


def package_lines(package: AgreementPackage) -> list[str]:
    """What a package holds, a line each (as `agreement pack` prints it and the install dialog shows it)."""
    lines = [
        f"agreement:   {package.agreement}",
        f"version:     {package.version}",
        f"valid:       from {package.valid_from} to the review date {package.review_date}",
        f"key:         {package.key_id}  fingerprint {package.key_fingerprint}",
    ]
    if package.salt_id:
        lines.append(f"salt:        {package.salt_id} (OpenPseudonymiser)")
    recipients = package_recipients(package)
    lines.append(f"recipients:  {'; '.join(recipients) if recipients else 'a passphrase (7z)'}")
    lines.append(f"profile:     SHA-256 {package.bundle.sha256}")
    for f in package.bundle.files:
        lines.append(f"{f.kind + ':':<13}{f.path}")
    lines.append(f"sealed with: {'a passphrase' if package.protection == 'passphrase' else 'your certificate'}")
    return lines


def package_recipients(package: AgreementPackage) -> list[str]:
    """Who the package's profile encrypts to: each certificate's subject (organisation / name),
    or its file name when it cannot be read (install refuses it then, with the reason)."""
    names = []
    for f in package.bundle.files:
        if f.kind == "certificate":
            try:
                names.append(certificate_subject(parse_certificate(f.data)))
            except ValueError:
                names.append(Path(f.path).name)
    return names


def read_agreement_file(path: Path) -> tuple[bytes, AgreementPackage]:
    """A package file's bytes, verified (:func:`read_agreement`); a file that cannot be read is refused."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_PACKAGE_BYTES + 1)
    except OSError as exc:
        raise AgreementRefused(f"{path} cannot be read ({exc.strerror or type(exc).__name__}).") from None
    return data, read_agreement(data, source=Path(path).name)


def installed_profile(store: KeyStore, name: str) -> Path:
    """The profile file of the agreement installed under ``name`` (case does not matter)."""
    installed = installed_agreements(store)
    found = next((a for a in installed if a.name.casefold() == name.strip().casefold()), None)
    if found is None:
        names = ", ".join(f"'{a.name}'" for a in installed) or "none"
        raise AgreementRefused(
            f"No agreement named '{name}' is installed on this computer (installed: {names}). Install the "
            "package your key custodian sent: pseudodesk-cli agreement install FILE."
        )
    return found.profile_path


def _read_record(folder: Path) -> InstalledAgreement | None:
    path = folder / RECORD_NAME
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("format") != RECORD_FORMAT:
            return None
        profile_path = folder / str(doc["profile"])
        intact = (
            profile_path.is_file() and hashlib.sha256(profile_path.read_bytes()).hexdigest() == doc["profile_sha256"]
        )
        return InstalledAgreement(
            name=str(doc["agreement"]),
            version=int(doc["package_version"]),
            custodian_fingerprint=str(doc["custodian"]["fingerprint"]),
            key_id=str(doc["key_id"]),
            key_fingerprint=str(doc["key_fingerprint"]),
            salt_id=str(doc.get("salt_id", "")),
            valid_from=str(doc["valid_from"]),
            review_date=str(doc["review_date"]),
            profile_path=profile_path,
            profile_sha256=str(doc["profile_sha256"]),
            installed=str(doc["installed"]),
            replaced_key=str(doc.get("replaced_key", "")),
            intact=intact,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyProblem(f"The installed agreement record {path} is damaged ({type(exc).__name__}).") from None
