"""Fingerprints as people read them to each other: upper-case hex in groups of four.

Project keys (a key check value, 16 characters), installation signing keys (20 characters
of the public key's SHA-256) and certificates are all shown and compared in this form.
"""

from __future__ import annotations

import hashlib


def grouped(text: str) -> str:
    """'7F3A91C2' -> '7F3A-91C2'."""
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def normalise_fingerprint(text: str) -> str:
    """A fingerprint as typed or read out ('7f3a 91c2...') in its printed form ('7F3A-91C2-...')."""
    return grouped("".join(ch for ch in text.upper() if ch.isalnum()))


def public_fingerprint(public_raw: bytes) -> str:
    """The fingerprint of a raw public key (an installation's or a custodian's Ed25519 key)."""
    return grouped(hashlib.sha256(public_raw).hexdigest().upper()[:20])
