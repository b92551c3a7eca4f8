"""Identifiers with check digits or fixed shapes: NHS number, UPN, ULN, UPRN."""

from __future__ import annotations

import functools
import operator
import re
import tomllib
from importlib import resources
from typing import Any

from pseudodesk.core.conventions.base import EMPTY, Checked, Verdicts, ascii_identifier, invalid, settled

_NHS_SHAPE = re.compile(r"^\d{3}[ -]?\d{3}[ -]?\d{4}$")
_NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def nhs_check_digit(first_nine: str) -> int | None:
    """Modulus 11 check digit for the first nine digits; None when the number can never be issued."""
    total: int = sum(map(operator.mul, map(int, first_nine), _NHS_WEIGHTS))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid_nhs_digits(digits: str) -> bool:
    return (
        len(digits) == 10
        and digits.isdigit()
        and len(set(digits)) > 1
        and nhs_check_digit(digits[:9]) == int(digits[9])
    )


def check_nhs_numbers(values: Any) -> Verdicts:
    """:func:`check_nhs_number` for many values: the ones written as 10 ASCII digits, optionally in
    3-3-4 groups split by one space or hyphen, with nothing around them (nearly every value
    in a real extract). The rest are left to :func:`check_nhs_number`.

    Works on the bytes of the Arrow string array: values of one length form a matrix of
    characters, and the shape, the digits, the repeated-digit rule and Modulus 11 are numpy
    operations on it (a regex over a million values took four times as long).
    """
    import numpy as np
    import pyarrow as pa

    if values.type != pa.string():
        values = values.cast(pa.string())
    count = len(values)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32, count=count + 1, offset=values.offset * 4)
    data = values.buffers()[2]
    text_bytes = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    lengths = np.diff(offsets)
    present = np.ones(count, dtype=bool) if not values.null_count else values.is_valid().to_numpy(zero_copy_only=False)
    handled = np.zeros(count, dtype=bool)
    grid = np.zeros((count, 10), dtype=np.uint8)  # the digits (0-9) of each handled value
    for separators in _NHS_LAYOUTS:
        width = 10 + len(separators)
        rows = np.flatnonzero((lengths == width) & present)
        if not len(rows):
            continue
        chars = text_bytes[offsets[:-1][rows, None] + np.arange(width)]
        digit_at = [j for j in range(width) if j not in separators]
        digits = chars[:, digit_at] - 48  # wraps round below 0: anything not a digit is > 9
        ok = (digits <= 9).all(axis=1)
        for j in separators:
            ok &= (chars[:, j] == 32) | (chars[:, j] == 45)  # space or hyphen
        handled[rows[ok]] = True
        grid[rows[ok]] = digits[ok]
    grid = grid[handled]
    spaced = lengths[handled] != 10
    check = 11 - (grid[:, :9].astype(np.int64) @ np.array(_NHS_WEIGHTS)) % 11
    check[check == 11] = 0  # 10 can never match a digit: never issued
    repeated = (grid == grid[:, :1]).all(axis=1)
    wrong = check != grid[:, 9]
    bad = repeated | wrong
    joined = (grid + 48).tobytes().decode("ascii")
    text = np.array([joined[i : i + 10] for i in range(0, len(joined), 10)], dtype=object)
    text[bad] = ""
    status = np.where(bad, 3, np.where(spaced, 2, 1)).astype(np.int8)
    reasons = np.full(len(text), "", dtype=object)
    reasons[(grid[:, :3] == 9).all(axis=1)] = _TEST_RANGE
    reasons[wrong] = _WRONG_CHECK
    reasons[repeated] = _REPEATED  # the first failure found is the one reported, as in check_nhs_number
    return Verdicts(handled, text, status, reasons, ~bad)


# Where the separators of a 3-3-4 NHS number may be (none, either one, both)
_NHS_LAYOUTS: tuple[tuple[int, ...], ...] = ((), (3,), (6,), (3, 7))


_REPEATED = "one digit repeated: never issued as a real NHS number"
_WRONG_CHECK = "check digit is wrong (Modulus 11)"
_TEST_RANGE = "test-range number (999...): reserved for test data"


@ascii_identifier
def check_nhs_number(raw: str) -> Checked:
    value = raw.strip()
    if not value:
        return EMPTY
    if not _NHS_SHAPE.match(value):
        return invalid("not 10 digits (spaces or hyphens in 3-3-4 groups are allowed)")
    digits = value.replace(" ", "").replace("-", "")  # the shape allows only these separators
    if len(set(digits)) == 1:
        return invalid(_REPEATED)
    if nhs_check_digit(digits[:9]) != int(digits[9]):
        return invalid(_WRONG_CHECK)
    reason = _TEST_RANGE if digits.startswith("999") else ""
    return settled(digits, raw, reason, plain=True)


UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 23 letters: I, O and S are never used
_UPN = re.compile(r"^[A-Z]\d{11}[0-9A-Z]$")


def upn_check_letter(body: str) -> str:
    """Check letter for characters 2-13 of a UPN (weights 2..13, a final letter by its table position)."""
    total = 0
    for weight, ch in enumerate(body, start=2):
        total += weight * (UPN_LETTERS.index(ch) if ch.isalpha() else int(ch))
    return UPN_LETTERS[total % 23]


@functools.cache
def upn_authority_codes() -> frozenset[int]:
    """The local-authority codes a UPN may carry (data/upn_la_codes.toml: DfE census rule 1530)."""
    text = resources.files("pseudodesk.core.conventions").joinpath("data", "upn_la_codes.toml").read_text("utf-8")
    ranges = tomllib.loads(text)["ranges"]
    return frozenset(code for first, last in ranges for code in range(first, last + 1))


@ascii_identifier
def check_upn(raw: str) -> Checked:
    value = "".join(raw.split()).upper()
    if not value:
        return EMPTY
    if not _UPN.match(value):
        return invalid("not a UPN: a letter, 11 digits, then a digit (or a letter for a temporary UPN)")
    last = value[12]
    if last.isalpha() and last not in UPN_LETTERS:
        return invalid("the last character of a temporary UPN is never I, O or S")
    if value[0] != upn_check_letter(value[1:]):
        return invalid("check letter is wrong")
    if int(value[1:4]) not in upn_authority_codes():
        return invalid("characters 2-4 are not the code of a local authority that allocates UPNs (DfE rule 1530)")
    reason = "temporary UPN" if last.isalpha() else ""
    return settled(value, raw, reason)


def is_valid_upn(value: str) -> bool:
    return (
        bool(_UPN.match(value))
        and (not value[12].isalpha() or value[12] in UPN_LETTERS)
        and value[0] == upn_check_letter(value[1:])
        and int(value[1:4]) in upn_authority_codes()
    )


def is_valid_uln(digits: str) -> bool:
    if len(digits) != 10 or not digits.isdigit() or digits[0] == "0":
        return False
    return sum(int(d) * w for d, w in zip(digits, range(10, 0, -1))) % 11 == 10


@ascii_identifier
def check_uln(raw: str) -> Checked:
    value = "".join(raw.split())
    if not value:
        return EMPTY
    if not re.fullmatch(r"\d{10}", value):
        return invalid("not 10 digits")
    if value[0] == "0":
        return invalid("a ULN never starts with 0")
    if not is_valid_uln(value):
        return invalid("check digit is wrong")
    return settled(value, raw, plain=True)


@ascii_identifier
def check_uprn(raw: str) -> Checked:
    value = "".join(raw.split())
    if not value:
        return EMPTY
    if re.fullmatch(r"\d+(\.\d+)?[eE]\+?\d+", value):
        return invalid("written in scientific notation: digits were lost (store UPRNs as text)")
    if not re.fullmatch(r"\d{1,12}", value):
        return invalid("not a UPRN: a whole number of up to 12 digits")
    stripped = value.lstrip("0") or "0"
    if stripped == "0":
        return invalid("zero is not a UPRN")
    return settled(stripped, raw, plain=True)
