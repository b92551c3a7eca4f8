"""UK postcodes: validation, normalisation and generalisation (area, district, sector)."""

from __future__ import annotations

import re
from typing import Any

from pseudodesk.core.conventions.base import EMPTY, Checked, Verdicts, ascii_identifier, invalid, settled

# The reference's regex (shared/reference/conventions.md), not the broken 2015 "gov.uk" one.
POSTCODE = re.compile(
    r"^(?:[A-PR-UWYZ][0-9]{1,2}|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]) [0-9][ABD-HJLNP-UW-Z]{2}$"
)
SPECIAL = re.compile(r"^(?:GIR 0AA|BFPO [0-9]{1,4}|(?:ASCN|STHL|TDCU|BBND|BIQQ|FIQQ|PCRN|SIQQ|TKCA) 1ZZ)$")


def normalise_postcode(raw: str) -> str:
    """Whitespace (including non-breaking spaces) removed, upper case, one space before the inward code."""
    compact = "".join(raw.split()).upper()
    if compact.startswith("BFPO"):
        return "BFPO " + compact[4:]
    if len(compact) > 3:
        return f"{compact[:-3]} {compact[-3:]}"
    return compact


def is_valid_postcode(value: str) -> bool:
    return bool(POSTCODE.match(value) or SPECIAL.match(value))


def check_postcodes(values: Any) -> Verdicts:
    """:func:`check_postcode` for many values: the ones of 5-7 ASCII letters and digits ending in
    digit-letter-letter, with at most one space before the inward code and nothing around them
    (nearly every value in a real extract). The rest are left to :func:`check_postcode`."""
    import numpy as np
    import pyarrow.compute as pc

    handled = pc.match_substring_regex(values, r"^[A-Za-z0-9]{2,4} ?[0-9][A-Za-z]{2}$")
    raw = values.filter(handled)
    compact = pc.utf8_upper(pc.replace_substring(raw, " ", ""))
    value = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(compact, 0, -3), pc.utf8_slice_codeunits(compact, -3), " "
    )
    valid = pc.match_substring_regex(value, POSTCODE.pattern).to_numpy(zero_copy_only=False)
    if not valid.all():
        others = np.flatnonzero(~valid)
        valid[others] = pc.match_substring_regex(value.take(others), SPECIAL.pattern).to_numpy(zero_copy_only=False)
    same = pc.equal(value, raw).to_numpy(zero_copy_only=False)
    status = np.where(valid, np.where(same, 1, 2), 3).astype(np.int8)
    reasons = np.full(len(valid), "", dtype=object)
    reasons[~valid] = _IMPOSSIBLE
    texts = np.array(value.to_pylist(), dtype=object)
    texts[~valid] = ""
    return Verdicts(handled.to_numpy(zero_copy_only=False), texts, status, reasons, np.zeros(len(texts), dtype=bool))


_IMPOSSIBLE = "not a valid UK postcode (letters or digits in impossible places)"


@ascii_identifier
def check_postcode(raw: str) -> Checked:
    compact = "".join(raw.split())
    if not compact:
        return EMPTY
    value = normalise_postcode(raw)
    if not compact.upper().startswith("BFPO") and not 5 <= len(compact) <= 7:
        return invalid("a UK postcode has 5 to 7 characters without the space")
    if not is_valid_postcode(value):
        return invalid(_IMPOSSIBLE)
    return settled(value, raw)


def postcode_area(postcode: str) -> str:
    """SW1A 2AA -> SW"""
    return re.match(r"^[A-Z]+", postcode).group(0) if postcode and postcode[0].isalpha() else ""  # type: ignore[union-attr]


def postcode_district(postcode: str) -> str:
    """SW1A 2AA -> SW1A (the outward code)"""
    return postcode.split(" ")[0]


def postcode_sector(postcode: str) -> str:
    """SW1A 2AA -> SW1A 2"""
    outward, _, inward = postcode.partition(" ")
    return f"{outward} {inward[:1]}" if inward else outward
