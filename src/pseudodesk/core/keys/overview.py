"""What the Keys window says about the keys on this computer, and what it asks before opening a key file.

The key store (:mod:`pseudodesk.core.keys.store`) holds the keys; this module only words
their metadata (:class:`~pseudodesk.core.keys.store.KeyInfo`, never a key) for people:

- :func:`key_row`, :func:`status_tooltip`, :func:`status_description`, :func:`dates_text`
  and :func:`held_text`: the key list and the selected key's details;
- :func:`key_file_name`: the file name suggested when a key is exported;
- :func:`export_instructions`: what to give the partner once the key file is written;
- :func:`keyfile_metadata` and :func:`read_key_file`: the unauthenticated outside of a
  ``.pdkey`` file, to choose whether to ask for a passphrase or a certificate;
- :func:`fingerprint_is_complete`: whether a fingerprint typed as it was read out is whole.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pseudodesk.core.errors import KeyProblem
from pseudodesk.core.files import slug
from pseudodesk.core.fingerprint import normalise_fingerprint
from pseudodesk.core.keys.info import KeyInfo
from pseudodesk.core.keys.keyfile import KEYFILE_FORMAT

MIN_PASSPHRASE = 12  # as the key store requires for key files
KEY_FILE_SUFFIX = ".pdkey"
KEY_COLUMNS = ("Name", "Id", "Kind", "Agreement", "Status", "Created", "Expires", "Fingerprint")
STATUS_COLUMN = 4
FINGERPRINT_COLUMN = 7

STORE_LABELS = {"keyring": "the OS keyring", "local": "the local passphrase-protected key store"}
KIND_LABELS = {"project-key": "project key", "op-salt": "OpenPseudonymiser salt"}

_FILE_STEM_CHARS = 40  # of the key's name, before its id


# --- the key list and the selected key -------------------------------------------------------


def kind_text(info: KeyInfo) -> str:
    return KIND_LABELS.get(info.kind, info.kind)


def status_text(info: KeyInfo) -> str:
    """The status column: 'active', 'retired', with ', expired' after the agreement's review date."""
    return info.status + (", expired" if info.expired() else "")


def key_row(info: KeyInfo) -> tuple[str, ...]:
    """The key list's cells for one key, in the order of :data:`KEY_COLUMNS`."""
    return (
        info.name,
        info.id,
        kind_text(info),
        info.agreement,
        status_text(info),
        info.created[:10],
        info.expires or "no expiry",
        info.fingerprint,
    )


def status_tooltip(info: KeyInfo) -> str:
    """Why a key is retired or expired; otherwise its status as listed."""
    if info.status == "retired":
        return f"Retired on {info.retired[:10]}, replaced by {info.replaced_by}: kept for re-identification only"
    if info.expired():
        return f"Expired on {info.expires} (the agreement's review date)"
    return status_text(info)


def status_description(info: KeyInfo) -> str:
    """The selected key's status in a sentence: what it is used for now."""
    if info.status == "retired":
        status = (
            f"retired on {info.retired[:10]}, replaced by {info.replaced_by}: kept for "
            "re-identification only; new exports are refused"
        )
    elif info.kind == "op-salt":
        status = "active: used by the OpenPseudonymiser-compatible mode"
    else:
        status = "active: used for new exports"
    if info.expired():
        status += f". Expired on {info.expires}: using it needs confirming the agreement is still in force"
    if info.rotated_from:
        status += f". Replaces {info.rotated_from}"
    return status


def dates_text(info: KeyInfo) -> str:
    return f"created {info.created[:10]}; " + (f"expires {info.expires}" if info.expires else "no expiry date")


def held_text(info: KeyInfo) -> str:
    return STORE_LABELS.get(info.store, info.store) + " on this computer"


# --- key files -------------------------------------------------------------------------------


def key_file_name(info: KeyInfo) -> str:
    """The suggested name of an exported key file: the key's name (up to 40 characters) and id."""
    # Cut after slugging, not with slug(limit=...): that would also drop a "-" left at the cut
    # and change the names suggested until now.
    stem = slug(info.name, fallback="")[:_FILE_STEM_CHARS]
    return (f"{stem}-{info.id}" if stem else info.id) + KEY_FILE_SUFFIX


def export_instructions(path: Path, fingerprint: str, passphrase: str | None, recipients: int) -> str:
    """What the custodian gives the partner once the key file is written: the file, then the
    passphrase (by another route) or nothing more for certificates, and the fingerprint by phone."""
    steps = [
        f"Wrote {path.name} in {path.parent}.",
        "",
        "Now give the partner:",
        "1. the key file (for example by secure email);",
    ]
    if passphrase is not None:
        steps.append(f"2. the passphrase {passphrase} by a different route (for example over the phone);")
        steps.append(f"3. the fingerprint {fingerprint}, read out over the phone: they type it when importing.")
    else:
        who = "certificate" if recipients == 1 else f"{recipients} certificates"
        steps.append(f"2. the fingerprint {fingerprint}, read out over the phone: they type it when importing.")
        steps += ["", f"Only the holders of the {who} it was wrapped to can open it."]
    return "\n".join(steps)


def fingerprint_is_complete(text: str, groups: int = 4) -> bool:
    """True when ``text`` (as typed: spaces, dashes, lower case) is a whole fingerprint of ``groups``
    groups of four: XXXX-XXXX-XXXX-XXXX for a key, five groups for an installation (a custodian)."""
    pattern = "[0-9A-F]{4}" + "(-[0-9A-F]{4})" + "{" + str(groups - 1) + "}"
    return bool(re.fullmatch(pattern, normalise_fingerprint(text)))


def read_key_file(path: Path) -> bytes:
    """The bytes of a key (or salt) file; :class:`KeyProblem` naming the file when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyProblem(f"{path.name} cannot be read ({exc.strerror}).") from None


def keyfile_metadata(data: bytes, source: str) -> dict[str, Any]:
    """The unauthenticated details a .pdkey file shows on its outside (to choose what to ask for)."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise KeyProblem(f"{source} is not a pseudodesk key file.") from None
    if not isinstance(doc, dict) or doc.get("format") != KEYFILE_FORMAT:
        raise KeyProblem(f"{source} is not a pseudodesk key file.")
    if doc.get("protection") not in ("passphrase", "certificate"):
        raise KeyProblem(f"{source} uses an unknown protection ({doc.get('protection')!r}).")
    return doc
