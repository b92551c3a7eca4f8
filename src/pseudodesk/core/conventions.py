"""Data conventions: named rules that check and normalise one value.

A profile names a convention for every source field. This module is the registry the
profile is validated against and the pipeline calls. Each convention turns the raw
text into a :class:`Checked` value: the normalised text and what happened to it.

Scope today (issue 2): ``text``, ``nhs_number``, ``postcode`` and ``gender`` check
and normalise for real; ``dob``, ``date`` and ``ethnicity`` are known names whose
values pass through trimmed and are reported as *not checked* (``checked=False``),
until the conventions catalogue (issue 3) gives them validators. A profile naming any
other convention is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Status(str, Enum):
    EMPTY = "empty"
    VALID = "valid"            # already in the output form
    NORMALISED = "normalised"  # changed to the output form, unambiguously
    INVALID = "invalid"        # cannot be made valid; reported, output blank
    UNCHECKED = "unchecked"    # the convention has no validator yet; passed through trimmed


@dataclass(frozen=True)
class Checked:
    value: str
    status: Status
    reason: str = ""
    plain: bool = False  # a validated plain number or date: exempt from formula neutralising


@dataclass(frozen=True)
class Convention:
    name: str
    description: str
    output_format: str
    check: Callable[[str], Checked]
    checked: bool = True  # False: values pass through (see module docstring)


def _trimmed(raw: str) -> str:
    return " ".join(raw.split())


def check_text(raw: str) -> Checked:
    value = _trimmed(raw)
    if not value:
        return Checked("", Status.EMPTY)
    return Checked(value, Status.VALID if value == raw else Status.NORMALISED)


def _unchecked(raw: str) -> Checked:
    value = _trimmed(raw)
    if not value:
        return Checked("", Status.EMPTY)
    return Checked(value, Status.UNCHECKED)


_NHS_SHAPE = re.compile(r"^\d{3}[ -]?\d{3}[ -]?\d{4}$")


def nhs_check_digit(first_nine: str) -> int | None:
    """Modulus 11 check digit for the first nine digits; None when the number can never be issued."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def check_nhs_number(raw: str) -> Checked:
    value = raw.strip()
    if not value:
        return Checked("", Status.EMPTY)
    if not _NHS_SHAPE.match(value):
        return Checked("", Status.INVALID, "not 10 digits (spaces or hyphens in 3-3-4 groups are allowed)")
    digits = re.sub(r"\D", "", value)
    if len(set(digits)) == 1:
        return Checked("", Status.INVALID, "one digit repeated: never issued as a real NHS number")
    if nhs_check_digit(digits[:9]) != int(digits[9]):
        return Checked("", Status.INVALID, "check digit is wrong (Modulus 11)")
    reason = "test-range number (999...)" if digits.startswith("999") else ""
    return Checked(digits, Status.VALID if digits == value else Status.NORMALISED, reason, plain=True)


_POSTCODE = re.compile(
    r"^(?:[A-PR-UWYZ][0-9]{1,2}|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]) [0-9][ABD-HJLNP-UW-Z]{2}$"
)
_POSTCODE_SPECIAL = re.compile(
    r"^(?:GIR 0AA|BFPO ?[0-9]{1,4}|(?:ASCN|STHL|TDCU|BBND|BIQQ|FIQQ|PCRN|SIQQ|TKCA) 1ZZ)$"
)


def check_postcode(raw: str) -> Checked:
    compact = "".join(raw.split()).upper()
    if not compact:
        return Checked("", Status.EMPTY)
    if compact.startswith("BFPO"):
        value = "BFPO " + compact[4:]
    elif 5 <= len(compact) <= 7:
        value = f"{compact[:-3]} {compact[-3:]}"
    else:
        return Checked("", Status.INVALID, "a UK postcode has 5 to 7 characters without the space")
    if not (_POSTCODE.match(value) or _POSTCODE_SPECIAL.match(value)):
        return Checked("", Status.INVALID, "not a valid UK postcode shape")
    return Checked(value, Status.VALID if value == raw else Status.NORMALISED)


_GENDER_M = {"m", "male", "man", "boy"}
_GENDER_F = {"f", "female", "woman", "girl"}


def check_gender(raw: str) -> Checked:
    """To M/F. Numeric 1/2 is deliberately not mapped here (needs a declared coded column)."""
    key = raw.strip().casefold()
    if not key:
        return Checked("", Status.EMPTY)
    if key in _GENDER_M:
        return Checked("M", Status.VALID if raw == "M" else Status.NORMALISED)
    if key in _GENDER_F:
        return Checked("F", Status.VALID if raw == "F" else Status.NORMALISED)
    return Checked("", Status.INVALID, "not a recognised spelling of male or female")


CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention("text", "Any text; spaces trimmed and runs of spaces collapsed.", "text", check_text),
        Convention("nhs_number", "NHS number: 10 digits with a valid Modulus 11 check digit.",
                   "10 digits, no spaces", check_nhs_number),
        Convention("postcode", "UK postcode, checked against the Royal Mail shape rules.",
                   "outward code, one space, inward code (SW1A 2AA)", check_postcode),
        Convention("gender", "Gender as M or F (LCP Appendix 5).", "M or F", check_gender),
        Convention("dob", "Date of birth.", "DD/MM/YYYY", _unchecked, checked=False),
        Convention("date", "A calendar date.", "DD/MM/YYYY", _unchecked, checked=False),
        Convention("ethnicity", "Ethnicity code (LCP 1-20).", "code 1-20", _unchecked, checked=False),
    )
}


def get_convention(name: str) -> Convention:
    try:
        return CONVENTIONS[name]
    except KeyError:
        known = ", ".join(sorted(CONVENTIONS))
        raise KeyError(f"unknown convention '{name}' (known: {known})") from None
