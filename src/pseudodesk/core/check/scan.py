"""Residual identifier scan: direct identifiers hiding in columns that leave unchanged.

A kept free-text column ("Notes: called mum on 07700 900123") can carry an NHS number,
an email address, a phone number, a postcode, a UPN or ULN, or the person's own name.
Each candidate is confirmed by the same validator the conventions use (check digits,
postcode rules), so "10 digits" alone is not a finding. Findings block the export
unless the profile allows that kind for that field (``allow_identifiers``).

Which columns are scanned: every kept field whose convention leaves free text
(``text``, ``address_line``, ``person_name``). Fields under a validating convention
(dates, codes, postcodes...) can only hold values of their own, checked form.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pseudodesk.core.conventions.identifiers import is_valid_nhs_digits, is_valid_uln, is_valid_upn
from pseudodesk.core.conventions.places import is_valid_postcode, normalise_postcode
from pseudodesk.core.conventions.text import EMAIL, uk_phone_digits

FREE_TEXT_CONVENTIONS = frozenset({"text", "address_line", "person_name"})

# 10 digits, as one run or in 3-3-4 or 3-4-3 groups split by a space, a hyphen or a dot
_NHS = re.compile(r"(?<![\d.])\d{3}[ .-]?(?:\d{3}[ .-]?\d{4}|\d{4}[ .-]?\d{3})(?![\d]|\.\d)")
_ULN = re.compile(r"(?<![\d])[1-9]\d{9}(?![\d])")
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# A candidate only: libphonenumber decides (conventions.text.uk_phone_digits)
_PHONE = re.compile(r"(?<![\d+])(?:\+44\s?(?:\(0\)\s?)?|0044\s?|0)[1-9](?:[\s.\-)]{0,2}\d){6,9}(?![\d])")
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-Za-z]{1,2}\d[A-Za-z\d]?\s*\d[A-Za-z]{2}|(?i:GIR)\s*0(?i:AA)|(?i:BFPO)\s*\d{1,4})"
    r"(?![A-Za-z0-9])"
)
_UPN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]\d{11}[\dA-Za-z](?![A-Za-z0-9])")


_PATTERNS = (
    ("nhs_number", _NHS),
    ("uln", _ULN),
    ("email", _EMAIL),
    ("uk_phone", _PHONE),
    ("postcode", _POSTCODE),
    ("upn", _UPN),
)
_PATTERN_KINDS = frozenset(kind for kind, _ in _PATTERNS)


@functools.cache
def _any_candidate(skip: frozenset[str]) -> re.Pattern[str] | None:
    """One pattern that matches wherever any of the looked-for kinds' patterns would match.

    find_identifiers confirms only matches of these patterns, so a value this does not match
    holds none of them: one regex search instead of six for the usual clean value (dates,
    codes, pseudonyms). Each alternative keeps its own look-arounds, so the union matches
    exactly where one of its parts does.
    """
    parts = [pattern.pattern for kind, pattern in _PATTERNS if kind not in skip]
    return re.compile("|".join(f"(?:{part})" for part in parts)) if parts else None


@dataclass(frozen=True)
class Finding:
    line: int
    field: str  # the output field
    kind: str  # nhs_number, email, uk_phone, postcode, upn, uln, person_name
    text: str  # what was found (stays in the local report only)


def find_identifiers(
    value: str, skip: frozenset[str] = frozenset(), names: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """(kind, matched text) for every confirmed identifier in ``value``."""
    found: list[tuple[str, str]] = []
    candidates = _any_candidate(skip)
    if candidates is not None and not candidates.search(value):
        if not names:
            return found
        skip = skip | _PATTERN_KINDS  # none of the patterns occurs: only names are left to look for
    nhs_spans: list[tuple[int, int]] = []
    if "nhs_number" not in skip:
        for m in _NHS.finditer(value):
            if is_valid_nhs_digits(re.sub(r"[ .-]", "", m.group())):
                found.append(("nhs_number", m.group()))
                nhs_spans.append(m.span())
    if "uln" not in skip:
        for m in _ULN.finditer(value):
            if m.span() not in nhs_spans and is_valid_uln(m.group()):
                found.append(("uln", m.group()))
    if "email" not in skip:
        found += [("email", m.group()) for m in _EMAIL.finditer(value) if EMAIL.match(m.group())]
    if "uk_phone" not in skip:
        found += [("uk_phone", m.group()) for m in _PHONE.finditer(value) if uk_phone_digits(m.group())]
    if "postcode" not in skip:
        found += [
            ("postcode", m.group())
            for m in _POSTCODE.finditer(value)
            if is_valid_postcode(normalise_postcode(m.group()))
        ]
    if "upn" not in skip:
        found += [("upn", m.group()) for m in _UPN.finditer(value) if is_valid_upn(m.group().upper())]
    if "person_name" not in skip:
        for name in names:
            if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", value, re.IGNORECASE):
                found.append(("person_name", name))
    return found


def name_tokens(cells: Iterable[str]) -> list[str]:
    """The names of a row to look for: each name cell whole, and its words of 3+ letters."""
    out: list[str] = []
    for cell in cells:
        cell = " ".join(cell.split())
        if len(cell) >= 2:
            out.append(cell)
            out += [w for w in re.split(r"[\s\-]+", cell) if len(w) >= 3 and w != cell]
    return out
