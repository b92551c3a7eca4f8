"""The partner installations a recipient knows: whose signed packages it accepts.

A package's manifest is signed by the installation that made it. ``inspect`` and
``decrypt`` accept a signer the recipient vouches for: one pinned on the command line
(``--signer``), this installation itself, or one on the list kept here, added by
fingerprint after the recipient confirmed it with the partner by phone. A package from
any other installation is reported as from an unknown signer and not accepted.

The list is ``known-signers.json`` in the data folder; every change is an audit event.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from pseudodesk.core.audit.log import INSTALLATION_FILE, installation_public_key
from pseudodesk.core.errors import KeyProblem
from pseudodesk.core.files import atomic_json
from pseudodesk.core.fingerprint import normalise_fingerprint
from pseudodesk.core.keys.store import KeyStore

SIGNERS_FILE = "known-signers.json"
SIGNERS_FORMAT = "pseudodesk-known-signers/1"
THIS_INSTALLATION = "this installation"
_FINGERPRINT = re.compile(r"^[0-9A-F]{4}(?:-[0-9A-F]{4}){4}$")  # an installation key: 20 hex digits


def _path(store: KeyStore) -> Path:
    return store.directory / SIGNERS_FILE


def _read(store: KeyStore) -> dict[str, Any]:
    path = _path(store)
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        signers = doc["signers"]
        if doc.get("format") != SIGNERS_FORMAT or not isinstance(signers, dict):
            raise ValueError
    except (OSError, ValueError, KeyError, TypeError):
        raise KeyProblem(
            f"{path} is damaged: restore it from a backup, or delete it and add the signers again."
        ) from None
    return signers


def known_signers(store: KeyStore) -> dict[str, str]:
    """Fingerprint -> who it is, for every installation this one vouches for (itself included)."""
    known = {fingerprint: str(entry.get("name", "")) for fingerprint, entry in _read(store).items()}
    own = installation_public_key(store.directory / INSTALLATION_FILE)
    if own is not None:
        known[own[1]] = THIS_INSTALLATION
    return known


def add_signer(store: KeyStore, fingerprint: str, name: str) -> str:
    """Vouch for a partner installation; returns the fingerprint in its printed form."""
    printed = normalise_fingerprint(fingerprint)
    if not _FINGERPRINT.match(printed):
        raise KeyProblem(
            f"'{fingerprint}' is not an installation fingerprint (five groups of four: 0-9 and A-F); "
            "ask the partner to read it from their pseudodesk (pseudodesk-cli audit public-key)."
        )
    if not name.strip():
        raise KeyProblem("Name the partner installation (the organisation and team), so the list says whose it is.")
    signers = _read(store)
    signers[printed] = {"name": name.strip(), "added": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()}
    atomic_json(_path(store), {"format": SIGNERS_FORMAT, "signers": signers})
    store.recorder(store, "signer.added", {"fingerprint": printed, "name": name.strip()})
    return printed


def remove_signer(store: KeyStore, fingerprint: str) -> None:
    printed = normalise_fingerprint(fingerprint)
    signers = _read(store)
    if signers.pop(printed, None) is None:
        raise KeyProblem(f"{printed} is not on the list of known signers.")
    atomic_json(_path(store), {"format": SIGNERS_FORMAT, "signers": signers})
    store.recorder(store, "signer.removed", {"fingerprint": printed})
