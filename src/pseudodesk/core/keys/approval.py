"""Whether a profile is the one an IG lead approved: installed from an agreement package, unchanged.

A profile is **approved** when it is the profile of an agreement installed here from a
signed package (docs/agreements.md) and its bytes are still those installed. Any other
profile (made in the profile editor, opened from a loose TOML, the bundled examples) is
**unapproved**: an export under it needs the partner's explicit confirmation, which the
manifest, the audit entry and the IG report record, and the machine policy can forbid it
(:mod:`pseudodesk.core.policy`). A profile inside the agreements folder whose bytes changed
since it was installed is neither: it is refused, since it claims an approval it lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pseudodesk.core.agreement.model import Profile
from pseudodesk.core.keys.agreement_package import AgreementRefused
from pseudodesk.core.keys.agreements import InstalledAgreement, agreements_folder, installed_agreements
from pseudodesk.core.keys.store import KeyStore

UNAPPROVED_RISK = (
    "This profile was not installed from an agreement package, so no one has confirmed it matches "
    "the information-sharing agreement: it may send fields, or people, the agreement does not allow. "
    "The export will be recorded as unapproved in its manifest and in the audit log your IG lead reviews."
)
WHAT_TO_DO = (
    "Ask your IG lead or key custodian for the agreement package (.pdagreement), install it "
    "(File > Install agreement..., or pseudodesk-cli agreement install FILE) and choose that agreement."
)


@dataclass(frozen=True)
class Approval:
    """Whether a profile was approved, and by which custodian's package."""

    approved: bool
    custodian_fingerprint: str = ""
    package_version: int = 0

    def facts(self) -> dict[str, Any]:
        """As the manifest's and the audit entry's ``approval`` (with whether an unapproved one was confirmed)."""
        return {
            "approved": self.approved,
            "custodian_fingerprint": self.custodian_fingerprint,
            "package_version": self.package_version,
        }

    def describe(self) -> str:
        if self.approved:
            return f"approved: package version {self.package_version}, custodian {self.custodian_fingerprint}"
        return "NOT APPROVED: not installed from an agreement package"


UNAPPROVED = Approval(approved=False)


def installed_for(store: KeyStore, profile: Profile) -> InstalledAgreement | None:
    """The installed agreement whose profile file ``profile`` was loaded from, if any."""
    if profile.path is None:
        return None
    path = Path(profile.path).resolve()
    return next((a for a in installed_agreements(store) if a.profile_path.resolve() == path), None)


def approval_of(store: KeyStore, profile: Profile) -> Approval:
    """Whether ``profile`` is approved; refuses an installed profile that has been changed."""
    installed = installed_for(store, profile)
    if installed is None:
        if profile.path is not None and _inside(Path(profile.path), agreements_folder(store)):
            raise AgreementRefused(
                f"{profile.path} is in the agreements folder but is not the profile of an installed "
                f"agreement. {WHAT_TO_DO}"
            )
        return UNAPPROVED
    if profile.sha256 != installed.profile_sha256 or profile.name != installed.name:
        raise AgreementRefused(
            f"The profile of the installed agreement '{installed.name}' has been changed since it was "
            "installed, so it is no longer the one your IG lead approved. Install the agreement package "
            "again (the same package restores it), or ask the key custodian for the current one."
        )
    return Approval(
        approved=True, custodian_fingerprint=installed.custodian_fingerprint, package_version=installed.version
    )


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True
