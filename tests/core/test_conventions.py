"""The conventions this issue implements, on the reference test values (shared/reference/conventions.md)."""

from __future__ import annotations

import pytest

from pseudodesk.core.conventions import (
    CONVENTIONS,
    Status,
    check_gender,
    check_nhs_number,
    check_postcode,
    check_text,
    get_convention,
)


@pytest.mark.parametrize(("raw", "value"), [
    ("9434765919", "9434765919"), ("4505577104", "4505577104"),
    ("450 557 7104", "4505577104"), ("450-557-7104", "4505577104"), (" 943 476 5919 ", "9434765919"),
])
def test_valid_nhs_numbers(raw, value):
    result = check_nhs_number(raw)
    assert result.value == value
    assert result.status in (Status.VALID, Status.NORMALISED)
    assert result.plain is True


@pytest.mark.parametrize(("raw", "reason"), [
    ("9876544321", "check digit"), ("1", "not 10 digits"), ("fish", "not 10 digits"),
    ("1267716276817687612", "not 10 digits"), ("1111111111", "repeated"),
])
def test_invalid_nhs_numbers(raw, reason):
    result = check_nhs_number(raw)
    assert result.status is Status.INVALID and result.value == ""
    assert reason in result.reason


def test_nhs_test_range_is_accepted_with_a_note():
    result = check_nhs_number("9990000018")
    assert result.status is Status.VALID and "test-range" in result.reason


@pytest.mark.parametrize("code", ["SW1A 2AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "W1A 0AX",
                                  "EC1A 1BB", "N1P 1AA", "GX11 1AA", "GIR 0AA", "BFPO 1234", "ASCN 1ZZ"])
def test_valid_postcodes(code):
    assert check_postcode(code).status is Status.VALID
    assert check_postcode(code).value == code


def test_postcode_normalised():
    result = check_postcode(" sw1a2aa ")
    assert (result.value, result.status) == ("SW1A 2AA", Status.NORMALISED)
    assert check_postcode("sw1a\u00a02aa").value == "SW1A 2AA"  # non-breaking space


@pytest.mark.parametrize("code", ["QA1 1AA", "AJ1 1AA", "W1I 1AA", "EC1Z 1AA", "M1 1CA", "12345", "SW1A"])
def test_invalid_postcodes(code):
    assert check_postcode(code).status is Status.INVALID


@pytest.mark.parametrize(("raw", "value"), [("m", "M"), ("Male", "M"), ("MAN", "M"), (" boy ", "M"),
                                            ("f", "F"), ("female", "F"), ("Woman", "F"), ("girl", "F")])
def test_gender_spellings(raw, value):
    assert check_gender(raw).value == value


@pytest.mark.parametrize("raw", ["1", "2", "Unknown", "Mr", "X"])
def test_gender_not_guessed(raw):
    assert check_gender(raw).status is Status.INVALID


def test_text_and_empty():
    assert check_text("  a  b ").value == "a b"
    assert check_text("   ").status is Status.EMPTY
    assert check_nhs_number("").status is Status.EMPTY


def test_unchecked_conventions_say_so():
    for name in ("dob", "date", "ethnicity"):
        conv = get_convention(name)
        assert conv.checked is False
        assert conv.check(" 29/11/1973 ").status is Status.UNCHECKED
    assert all(CONVENTIONS[n].checked for n in ("text", "nhs_number", "postcode", "gender"))


def test_unknown_convention():
    with pytest.raises(KeyError, match="unknown convention 'shoe_size'"):
        get_convention("shoe_size")
