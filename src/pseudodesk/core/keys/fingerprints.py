"""Which fingerprint each kind of secret gets, and how a stated fingerprint is checked.

- A project key (256 random bits) has its key check value: HMAC-SHA256 of a fixed label
  under the key, 16 hex characters (``transform.pseudonym.key_fingerprint``). Nobody can
  search 2^256 keys, so a fast check value gives nothing away.
- An OpenPseudonymiser salt is chosen by people and may be a word. Its fingerprint is
  :func:`pseudodesk.core.fingerprint.slow_fingerprint` (scrypt N=2^16, r=8, p=1, 64 MiB,
  fixed domain salt), 20 hex characters in five groups, so testing a guess against a
  fingerprint read from keys.json, a key file, an agreement package or the audit log
  costs one scrypt per guess.

Salts stored by earlier versions carry the legacy fingerprint (the fast check value, four
groups). Such a fingerprint is still accepted when it matches the salt, and replaced by
the slow one wherever pseudodesk holds the salt: loading it for a run, exporting or
packing it, installing a package that carries it, importing it again.
"""

from __future__ import annotations

import re

from pseudodesk.core.fingerprint import normalise_fingerprint, slow_fingerprint
from pseudodesk.core.transform.pseudonym import key_fingerprint

_LEGACY = re.compile(r"[0-9A-F]{4}(?:-[0-9A-F]{4}){3}")


def secret_fingerprint(kind: str, secret: bytes) -> str:
    """The fingerprint pseudodesk writes for a secret of ``kind`` ("project-key" or "op-salt")."""
    return slow_fingerprint(secret) if kind == "op-salt" else key_fingerprint(secret)


def is_legacy(kind: str, fingerprint: str) -> bool:
    """A salt fingerprint in the fast form of earlier versions (four groups)."""
    return kind == "op-salt" and bool(_LEGACY.fullmatch(normalise_fingerprint(fingerprint)))


def fingerprint_matches(kind: str, secret: bytes, stated: object, computed: str | None = None) -> bool:
    """Whether ``stated`` (as typed, read out or stored) is ``secret``'s fingerprint.

    A salt's legacy fast fingerprint is accepted too, so files and key lists written by
    earlier versions keep working. ``computed``: :func:`secret_fingerprint` of ``secret``
    when the caller already has it (a salt's costs a scrypt).
    """
    if not isinstance(stated, str):
        return False
    stated = normalise_fingerprint(stated)
    if is_legacy(kind, stated):
        return stated == key_fingerprint(secret)
    return stated == (computed or secret_fingerprint(kind, secret))
