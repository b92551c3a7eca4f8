"""Free text, person names, address lines, email addresses and UK phone numbers."""

from __future__ import annotations

import functools
import re
from typing import Any

from pseudodesk.core.conventions.base import EMPTY, Checked, Status, Verdicts, ascii_identifier, invalid, settled


def collapse(raw: str) -> str:
    return " ".join(raw.split())


def check_text(raw: str) -> Checked:
    value = collapse(raw)
    return settled(value, raw) if value else EMPTY


_NAME = re.compile(r"^[^\W\d_]+(?:[ '\u2019\-.][^\W\d_]*)*$")


def check_person_name(raw: str) -> Checked:
    """Letters with spaces, hyphens, apostrophes and full stops; case is left as written."""
    value = collapse(raw)
    if not value:
        return EMPTY
    if not _NAME.match(value):
        return invalid("not a name: contains digits or symbols")
    return settled(value, raw)


def name_match_key(value: str) -> str:
    """Upper case letters only, accents folded: the form two partners spell alike (Seán O'Brien -> SEANOBRIEN)."""
    import unicodedata

    folded = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in folded if ch.isascii() and ch.isalpha()).upper()


def check_name_match_key(raw: str) -> Checked:
    checked = check_person_name(raw)
    if checked.status is not Status.VALID and checked.status is not Status.NORMALISED:
        return checked
    key = name_match_key(checked.value)
    if not key:
        return invalid("no letters A-Z left to match on")
    return settled(key, raw)


def check_address_line(raw: str) -> Checked:
    value = collapse(raw)
    if not value:
        return EMPTY
    if not re.search(r"[^\W_]", value):
        return invalid("no letters or digits")
    return settled(value, raw)


EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


@ascii_identifier
def check_email(raw: str) -> Checked:
    value = raw.strip()
    if not value:
        return EMPTY
    if value.lower().startswith("mailto:"):
        value = value[7:]
    if not EMAIL.match(value) or ".." in value or value.startswith(".") or ".@" in value:
        return invalid("not an email address")
    local, _, domain = value.rpartition("@")
    return settled(f"{local}@{domain.lower()}", raw)


# The regions that share the UK's +44 numbering plan: the Crown Dependencies' numbers are UK
# numbers to a partner (Ofcom administers them) and are written the same way.
UK_PLAN_REGIONS = frozenset({"GB", "GG", "IM", "JE"})
# Written as a UK number is written: national (0..., (0...) or international (+44, 0044)
_PHONE_CHARACTERS = re.compile(r"^(?:\+\s*44|0044|\(?0)[0-9()\s.\-/]+$")


def uk_phone_digits(text: str) -> str:
    """A UK number as national digits (``+44 (0)1522 552222`` -> ``01522552222``), or '' when
    ``text`` is not a number in Ofcom's UK numbering plan. Validated by libphonenumber
    (Google's numbering-plan metadata, through ``phonenumbers``): the length and ranges each
    area code allows, so ``01522 55222`` (Lincoln numbers have six digits after the code) and
    Ofcom's drama mobile range ``07700 900xxx`` are not numbers. Only digits, spaces, ``+``,
    brackets, dots, slashes and hyphens: letters (``0800 FLOWERS``) and extensions are not
    read as a number."""
    import phonenumbers

    if not _PHONE_CHARACTERS.match(text):
        return ""
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return ""
    if number.country_code != 44 or phonenumbers.region_code_for_number(number) not in UK_PLAN_REGIONS:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return f"0{number.national_number}"


_NUMBER_TYPES = (
    "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
    "personal_number", "voip", "pager", "uan", "voicemail",
)  # fmt: skip


@functools.cache
def _plan_patterns() -> tuple[tuple[int, str, str], ...]:
    """(national length, general pattern, union of number-type patterns) for each region of
    the +44 plan and each length a national number written 0 + 9 or 10 digits has: what
    libphonenumber's is_valid_number tests, as patterns for a whole column at once."""
    from phonenumbers import PhoneMetadata

    out = []
    for region in sorted(UK_PLAN_REGIONS):
        metadata = PhoneMetadata.metadata_for_region(region)
        general = metadata.general_desc if metadata is not None else None
        if general is None or not general.national_number_pattern:
            raise RuntimeError(f"libphonenumber has no numbering plan for {region}")
        for length in (9, 10):
            if length not in general.possible_length:
                continue
            types = [
                desc.national_number_pattern
                for desc in (getattr(metadata, name) for name in _NUMBER_TYPES)
                if desc is not None
                and desc.national_number_pattern
                and (not desc.possible_length or length in desc.possible_length)
            ]
            if types:
                union = "|".join(f"(?:{pattern})" for pattern in types)
                out.append((length, f"^(?:{general.national_number_pattern})$", f"^(?:{union})$"))
    return tuple(out)


def check_uk_phones(values: Any) -> Verdicts:
    """:func:`check_uk_phone` for many values: the ones written as national digits, 0 and 9 or 10
    more, with single spaces between groups (nearly every value in a real extract), checked
    against the same libphonenumber patterns as whole columns. The rest go to
    :func:`check_uk_phone`."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    handled = pc.match_substring_regex(values, r"^0[1-9][0-9]*(?: [0-9]+){0,3}$")
    compact = pc.replace_substring(values.filter(handled), " ", "")
    lengths = pc.utf8_length(compact).to_numpy(zero_copy_only=False)
    fits = (lengths == 10) | (lengths == 11)
    handled_rows = np.flatnonzero(handled.to_numpy(zero_copy_only=False))
    keep = handled_rows[fits]
    mask = np.zeros(len(values), dtype=bool)
    mask[keep] = True
    numbers = compact.filter(pa.array(fits))
    national = pc.utf8_slice_codeunits(numbers, 1)
    national_length = lengths[fits] - 1
    valid = np.zeros(len(numbers), dtype=bool)
    for length, general, types in _plan_patterns():
        rows = np.flatnonzero((national_length == length) & ~valid)
        if not len(rows):
            continue
        part = national.take(pa.array(rows))
        ok = pc.and_(pc.match_substring_regex(part, general), pc.match_substring_regex(part, types))
        valid[rows[ok.to_numpy(zero_copy_only=False)]] = True
    same = pc.equal(numbers, values.filter(pa.array(mask))).to_numpy(zero_copy_only=False)
    status = np.where(valid, np.where(same, 1, 2), 3).astype(np.int8)
    texts = np.array(numbers.to_pylist(), dtype=object)
    texts[~valid] = ""
    reasons = np.full(len(valid), "", dtype=object)
    reasons[~valid] = _NOT_IN_PLAN
    return Verdicts(mask, texts, status, reasons, np.zeros(len(valid), dtype=bool))


_NOT_IN_PLAN = "not a UK phone number: not a number in Ofcom's UK numbering plan (wrong length or range)"


@ascii_identifier
def check_uk_phone(raw: str) -> Checked:
    if not raw.strip():
        return EMPTY
    digits = uk_phone_digits(raw.strip())
    if not digits:
        return invalid(_NOT_IN_PLAN)
    return settled(digits, raw)
