"""OpenPseudonymiser-compatible digests, for linking with organisations still using it.

Reproduces CryptoLib 0.9.7 (shared/reference/openpseudonymiser-compat.md):
values concatenated in the order of their column labels (the original .NET program's
culture-aware order, Windows' "word sort": see nls_order), no separator; spaces,
tabs, CR and LF removed; the salt appended untrimmed (the .NET behaviour); SHA-256 of
the UTF-8 bytes as 64 upper-case hex digits. The NHS number column is reduced to its
ASCII digits first, and ``validNHS`` is 1 (valid), 0 (invalid) or -1 (missing).

WEAKER THAN pseudodesk's OWN MODE: SHA-256(data || salt) is not a keyed MAC. Anyone who
holds the salt can recompute the digest of every possible NHS number in minutes, and
the salt file format hides nothing (its "encryption" uses a published key). Use this
mode only to link with data already produced by OpenPseudonymiser.

Deliberate differences, all refusals rather than different digests: a row whose digest
inputs are all empty gets no digest (OpenPseudonymiser would give every such row the same
digest, that of the salt alone; a row with some inputs empty gets the digest
OpenPseudonymiser gives it); a date it cannot round down is reported instead of passed
through; a label whose place in the .NET order is not reproduced is refused (nls_order).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from functools import lru_cache

from pseudodesk.core.conventions.identifiers import nhs_check_digit
from pseudodesk.core.transform.nls_order import word_sorted

WEAKER_WARNING = (
    "OpenPseudonymiser-compatible mode is weaker than pseudodesk's own pseudonyms: it is an unkeyed "
    "SHA-256 with a salt, so anyone holding the salt can recompute every NHS number's digest in minutes. "
    "Use it only to link with organisations that still use OpenPseudonymiser."
)
# The public key from OpenPseudonymiser's published source (RSA-1024, e = 65537).
SALT_FILE_MODULUS = int.from_bytes(
    base64.b64decode(
        "kcVhdr4DaGLAE2BUEPQSYTJ8JRw9NGsms45r2CEYKcElP4BUGEQnN9R4A8CMM1YZCqu5VbXvPoLZ9i/G8AL6g5YuD7MRTI60Xf930yHj"
        "CRNX2NiYX/FrKZrA6+T/GHoh9LjuZXBX75kwj53/8yP4uppW5pWRi/diDmPNrH4qnxk="
    ),
    "big",
)
SALT_FILE_EXPONENT = 65537


def salt_from_encrypted_file(data: bytes) -> str:
    """The salt inside a ``.EncryptedSalt`` file (128 bytes, textbook RSA with the published key)."""
    if len(data) != 128:
        raise ValueError(f"an .EncryptedSalt file is 128 bytes, this one is {len(data)}")
    value = pow(int.from_bytes(data, "big"), SALT_FILE_EXPONENT, SALT_FILE_MODULUS)
    plain = value.to_bytes(128, "big").lstrip(b"\x00")
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the file does not decode to a text salt: it is not an OpenPseudonymiser salt file") from None


def label_order(labels: list[str]) -> list[str]:
    """Labels in OpenPseudonymiser's order: the .NET SortedList's culture-aware comparison,
    Windows' word sort ("a" < "b" < "B" < "co-op" ... see nls_order for every rule).

    Raises LabelOrderError for a label with a character whose place is not reproduced, or
    for two labels that order holds equal (OpenPseudonymiser itself refuses those).
    """
    return list(_label_order(tuple(labels)))


@lru_cache(maxsize=256)
def _label_order(labels: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(word_sorted(list(labels)))


_STRIP = str.maketrans("", "", " \t\r\n")


def digest(values: Mapping[str, str], salt: str) -> str:
    """The digest of ``{label: value}`` under ``salt``, exactly as OpenPseudonymiser computes it."""
    joined = "".join(values[label] for label in label_order(list(values)))
    return hashlib.sha256((joined.translate(_STRIP) + salt).encode("utf-8")).hexdigest().upper()


def nhs_digits(raw: str) -> str:
    return re.sub(r"[^0-9]", "", raw)


def valid_nhs(raw: str) -> str:
    """OpenPseudonymiser's validNHS column: "1" valid, "0" invalid, "-1" missing."""
    if not raw.strip():
        return "-1"
    digits = nhs_digits(raw)
    if len(digits) != 10:
        return "0"
    return "1" if nhs_check_digit(digits[:9]) == int(digits[9]) else "0"
