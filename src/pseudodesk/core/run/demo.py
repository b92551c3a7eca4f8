"""The demo: the bundled synthetic spreadsheet through the example profile.

Uses an ephemeral key (random, in memory, gone when the process ends) and the bundled
DEMO recipient certificate, whose private key ships beside it so the output can be
opened with ``openssl cms -decrypt``. Never for real data.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path

from pseudodesk.core.agreement.mapping import load_mapping
from pseudodesk.core.agreement.model import KeyRef, Profile
from pseudodesk.core.agreement.profile import load_profile
from pseudodesk.core.keys.backends import keyring_available
from pseudodesk.core.keys.installation import AuditTrail
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.package.signing import Signer
from pseudodesk.core.progress import Cancel, Progress, never, no_progress
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.core.resources import (
    DEMO_MAPPING,
    DEMO_SPREADSHEET,
    EXAMPLE_PROFILE,
    resource_path,
)
from pseudodesk.core.run.export import ExportOptions, RunResult, run
from pseudodesk.core.transform.pseudonym import ProjectKey


def demo_profile() -> Profile:
    """The example profile, without a key binding (the demo key is ephemeral)."""
    return replace(load_profile(resource_path(*EXAMPLE_PROFILE)), key=KeyRef())


def ephemeral_demo_key() -> ProjectKey:
    return ProjectKey("demo-ephemeral", secrets.token_bytes(32), "demo (ephemeral, not stored)")


def demo_signer_and_audit() -> tuple[Signer, AuditTrail | None]:
    """This installation's signing key and audit log when an OS keyring holds them; otherwise an
    ephemeral signing key (the manifest says who signed it: a fingerprint nobody can pin)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if keyring_available():
        trail = AuditTrail(KeyStore())
        return trail.signer, trail
    return Signer(Ed25519PrivateKey.generate()), None


def run_demo(
    out_dir: Path, *, overwrite: bool = False, progress: Progress = no_progress, cancel: Cancel = never
) -> RunResult:
    mapping = load_mapping(resource_path(*DEMO_MAPPING))
    table = read_table(resource_path(*DEMO_SPREADSHEET), sheet=mapping.sheet, header_row=mapping.header_row or 1)
    signer, audit = demo_signer_and_audit()
    return run(
        demo_profile(),
        table,
        mapping,
        ephemeral_demo_key(),
        out_dir,
        ExportOptions(
            name="pseudodesk-demo", overwrite=overwrite, accept_expired=True, allow_demo_recipient=True, demo=True
        ),
        signer=signer,
        audit=audit,
        progress=progress,
        cancel=cancel,
    )
