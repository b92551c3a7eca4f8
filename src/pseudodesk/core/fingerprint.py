"""Fingerprints as people read them to each other: upper-case hex in groups of four.

Project keys (a key check value, 16 characters), installation signing keys (20 characters
of the public key's SHA-256) and certificates are all shown and compared in this form.

A secret that may be guessable (an OpenPseudonymiser salt: often a word, like the
library's own sample "mackerel") is fingerprinted with :func:`slow_fingerprint`, so that a
fingerprint read from a file (keys.json, a key file, the audit log) costs a memory-hard
scrypt per guess instead of one hash.
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


# scrypt parameters of slow_fingerprint: fixed, so every installation gets the same
# fingerprint for the same salt (partners compare them by phone). N=2^16, r=8 uses 64 MiB
# and takes about 0.15-0.3 s on an office PC; the salt separates this use of scrypt from
# any other.
SLOW_FINGERPRINT_SALT = b"pseudodesk/op-salt-fingerprint/v2"
SLOW_FINGERPRINT_N, SLOW_FINGERPRINT_R, SLOW_FINGERPRINT_P = 2**16, 8, 1


def slow_fingerprint(secret: bytes) -> str:
    """20 hex characters of scrypt(secret) in five groups ('7F3A-91C2-5B0E-11D4-A0B1')."""
    derived = hashlib.scrypt(
        secret,
        salt=SLOW_FINGERPRINT_SALT,
        n=SLOW_FINGERPRINT_N,
        r=SLOW_FINGERPRINT_R,
        p=SLOW_FINGERPRINT_P,
        maxmem=2**27,
        dklen=10,
    )
    return grouped(derived.hex().upper())
