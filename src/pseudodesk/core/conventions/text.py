"""Free text, person names, address lines, email addresses and UK phone numbers."""

from __future__ import annotations

import re

from pseudodesk.core.conventions.base import EMPTY, Checked, Status, invalid, settled


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


def phone_digits(raw: str) -> str:
    """UK number as national digits: +44 (0)7700 900123 -> 07700900123; '' if it is not one."""
    text = raw.strip()
    text = re.sub(r"\(0\)", "", text)
    text = re.sub(r"[\s\-().]", "", text)
    if text.startswith("+44"):
        text = "0" + text[3:]
    elif text.startswith("0044"):
        text = "0" + text[4:]
    return text


def is_uk_phone(digits: str) -> bool:
    if not re.fullmatch(r"0[1-9]\d{8,9}", digits):
        return False
    if len(digits) == 11:
        return digits[1] in "123578" or digits.startswith("09")
    # ten digits: some 01 area codes and 0800 1111
    return digits.startswith("01") or digits.startswith("0800")


def check_uk_phone(raw: str) -> Checked:
    if not raw.strip():
        return EMPTY
    digits = phone_digits(raw)
    if not is_uk_phone(digits):
        return invalid("not a UK phone number (10 or 11 digits starting 0, or +44)")
    return settled(digits, raw)
