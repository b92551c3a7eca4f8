"""The conventions held to the official rules (issue: official-rule vectors).

Each group quotes the rule it follows: the NHS Data Dictionary (NHS number, ethnic category),
DfE school census validation rules (UPN), ONS 2021 census classification, the police 16+1 and
18+1 self-defined ethnicity codes, Ofcom's numbering plan through libphonenumber, and Excel's
date serials.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pseudodesk.core.check.scan import find_identifiers
from pseudodesk.core.conventions import CONVENTIONS, ColumnContext, Status
from pseudodesk.core.conventions.identifiers import upn_authority_codes, upn_check_letter

CONTEXT = ColumnContext(today=dt.date(2026, 12, 3))


def check(name, raw, **options):
    return CONVENTIONS[name].rule(options, CONTEXT).check(raw)


def column(name, values, **options):
    rule = CONVENTIONS[name].rule(options, CONTEXT)
    for value in values:
        rule.observe(value)
    return rule, [rule.check(value) for value in values]


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")


# --- 1. digits that are not ASCII ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "ascii_form"),
    [
        ("nhs_number", "9434765919"),
        ("upn", "B801200005001"),
        ("uln", "1234567805"),
        ("uprn", "100023336956"),
        ("postcode", "SW1A 2AA"),
        ("uk_phone", "07911123456"),
        ("dob", "29/11/1973"),
    ],
)
def test_full_width_identifiers_become_the_ascii_value_they_stand_for(name, ascii_form):
    written = {"upn": "Ｂ８０１２００００５００１", "postcode": "ＳＷ１Ａ　２ＡＡ"}
    typed = written.get(name, ascii_form.translate(FULL_WIDTH))
    expected = check(name, ascii_form)
    assert expected.status is Status.VALID
    result = check(name, typed)
    assert result.value == expected.value and result.value.isascii()
    assert result.status is Status.NORMALISED


@pytest.mark.parametrize("digits", [ARABIC_INDIC, DEVANAGARI])
@pytest.mark.parametrize(
    ("name", "value"), [("nhs_number", "9434765919"), ("dob", "29/11/1973"), ("uln", "1234567890")]
)
def test_other_scripts_digits_are_refused_not_read(digits, name, value):
    result = check(name, value.translate(digits))
    assert result.status is Status.INVALID
    assert "digits other than 0-9" in result.reason


def test_one_person_one_pseudonym_whichever_way_the_number_was_typed():
    values = ["9434765919", "943 476 5919", "９４３４７６５９１９", "９４３ ４７６ ５９１９"]
    assert {check("nhs_number", v).value for v in values} == {"9434765919"}


IDENTIFIERS = ("nhs_number", "upn", "uln", "uprn", "postcode", "uk_phone", "email", "dob", "date", "op_date")
digits_anywhere = st.text(
    alphabet=st.sampled_from("0123456789０１２３４５６７８９٠١٢٣٤٥٦٧٨٩ ABCSWabc-/.+()@ＡＳＷ　①²"), max_size=16
)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(IDENTIFIERS), raw=st.one_of(st.text(max_size=16), digits_anywhere))
def test_identifiers_always_leave_as_ascii(name, raw):
    result = check(name, raw)
    assert result.value.isascii()
    if result.status in (Status.VALID, Status.NORMALISED):
        assert check(name, result.value).value == result.value


# --- 2. UPN local-authority code (DfE census rule 1530) -------------------------------------


def upn(authority: str, serial: str = "12345678", last: str = "9") -> str:
    body = authority + serial + last
    return upn_check_letter(body) + body


@pytest.mark.parametrize("authority", ["000", "900", "950", "243", "817", "006", "214", "804", "944", "999"])
def test_a_upn_of_an_authority_that_does_not_exist_is_refused(authority):
    result = check("upn", upn(authority))
    assert result.status is Status.INVALID and "rule 1530" in result.reason


@pytest.mark.parametrize("authority", ["001", "201", "213", "420", "660", "681", "925", "838", "839", "940", "943"])
def test_a_upn_of_a_listed_authority_is_accepted(authority):
    assert check("upn", upn(authority)).status is Status.VALID
    assert check("upn", upn(authority, last="A")).reason == "temporary UPN"


def test_the_authority_list_is_the_rules_list():
    codes = upn_authority_codes()
    assert len(codes) == 195
    assert {5, 213, 320, 336, 344, 359, 373, 384, 394, 420, 896, 938} <= codes
    assert not {0, 6, 200, 214, 321, 395, 419, 421, 659, 682, 700, 709, 804, 809, 814, 817, 900, 939, 944} & codes


def test_the_scan_finds_only_upns_of_real_authorities():
    assert find_identifiers(f"pupil {upn('925')} moved") == [("upn", upn("925"))]
    assert find_identifiers(f"pupil {upn('950')} moved") == []


# --- 3. ethnicity ----------------------------------------------------------------------------

ONS_2021 = {
    "White: English, Welsh, Scottish, Northern Irish or British": "1",
    "White: Irish": "2",
    "White: Roma": "4",
    "White: Other White": "5",
    "Mixed or Multiple ethnic groups: White and Black Caribbean": "6",
    "Mixed or Multiple ethnic groups: White and Black African": "7",
    "Mixed or Multiple ethnic groups: White and Asian": "8",
    "Mixed or Multiple ethnic groups: Other Mixed or Multiple ethnic groups": "9",
    "Asian, Asian British or Asian Welsh: Indian": "10",
    "Asian, Asian British or Asian Welsh: Pakistani": "11",
    "Asian, Asian British or Asian Welsh: Bangladeshi": "12",
    "Asian, Asian British or Asian Welsh: Other Asian": "13",
    "Black, Black British, Black Welsh, Caribbean or African: Caribbean": "14",
    "Black, Black British, Black Welsh, Caribbean or African: African": "15",
    "Black, Black British, Black Welsh, Caribbean or African: Other Black": "16",
    "Asian, Asian British or Asian Welsh: Chinese": "17",
    "Other ethnic group: Arab": "18",
    "Other ethnic group: Any other ethnic group": "18",
}


@pytest.mark.parametrize(("label", "lcp"), sorted(ONS_2021.items()))
def test_every_ons_2021_label_in_its_official_wording(label, lcp):
    assert check("ethnicity", label).value == lcp
    assert check("ethnicity", label.upper()).value == lcp


def test_ons_gypsy_or_irish_traveller_is_two_lcp_codes_and_not_guessed():
    result = check("ethnicity", "White: Gypsy or Irish Traveller")
    assert result.status is Status.INVALID and "3, 4" in result.reason


POLICE = {
    "W1": "1",
    "W2": "2",
    "W4": "4",
    "W9": "5",
    "M1": "6",
    "M2": "7",
    "M3": "8",
    "M9": "9",
    "A1": "10",
    "A2": "11",
    "A3": "12",
    "A4": "17",
    "A9": "13",
    "B1": "14",
    "B2": "15",
    "B9": "16",
    "O1": "17",
    "O2": "18",
    "O9": "18",
    "NS": "19",
}


def test_police_self_defined_codes_in_a_police_column():
    rule, results = column("ethnicity", list(POLICE))
    assert [r.value for r in results] == list(POLICE.values())
    assert "police self-defined codes" in rule.decision()
    assert results[list(POLICE).index("W9")].reason.startswith("lossy: police code W9")


def test_police_w3_and_codes_that_do_not_exist_are_refused():
    _, results = column("ethnicity", ["W1", "W3", "M5", "B4", "9"])
    assert [r.status for r in results] == [Status.NORMALISED] + [Status.INVALID] * 4
    assert "3, 4" in results[1].reason


@pytest.mark.parametrize("code", ["IC1", "IC2", "IC3", "IC4", "IC5", "IC6", "IC9", "IC0", "ic3"])
def test_officer_observed_codes_are_named_and_refused(code):
    result = check("ethnicity", code)
    assert result.status is Status.INVALID and "officer-observed" in result.reason


def test_nhs_local_codes_are_read_as_their_national_parent_in_an_nhs_column():
    rule, results = column("ethnicity", ["A", "CA", "A1", "H2", "Z", "99", "NK"])
    assert [r.value for r in results[:6]] == ["1", "5", "1", "10", "19", "20"]
    assert results[6].status is Status.INVALID  # NK: an abbreviation, not a local code under N
    assert "NHS local code(s) read as their national category" in rule.decision()


def test_a_two_character_code_of_both_schemes_waits_for_the_column():
    _, results = column("ethnicity", ["A1", "White British"])
    assert results[0].status is Status.INVALID and "choose the column's codes" in results[0].reason
    assert check("ethnicity", "A1", coded="nhs").value == "1"
    assert check("ethnicity", "A1", coded="police").value == "10"


def test_a_withdrawn_nhs_9_is_not_read_as_lcp_9():
    _, results = column("ethnicity", ["A", "B", "9", "0", "15"])
    assert [r.value or r.status for r in results] == ["1", "2", Status.INVALID, Status.INVALID, "15"]
    assert "withdrawn" in results[2].reason
    assert column("ethnicity", ["9", "1", "20"])[1][0].value == "9"  # an LCP column keeps reading LCP 9
    assert check("ethnicity", "9", coded="nhs").status is Status.INVALID


def test_every_crosswalk_names_its_source():
    from importlib import resources

    from pseudodesk.core.conventions.codes import read_data

    assert set(read_data("ethnicity.toml")["police_self_defined"]["codes"]) == set(POLICE)
    data = resources.files("pseudodesk.core.conventions").joinpath("data")
    ethnicity = data.joinpath("ethnicity.toml").read_text("utf-8")
    for source in ("ONS", "Census 2021", "Home Office", "NHS Data Dictionary", "read 2026-12-03"):
        assert source in ethnicity
    assert "validation rule 1530" in data.joinpath("upn_la_codes.toml").read_text("utf-8")


# --- 4. phone numbers (Ofcom's plan, through libphonenumber) ---------------------------------


@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        ("01522 552222", True),  # Lincoln: 01522 + six digits
        ("01522 55222", False),
        ("016977 2345", True),  # Brampton: one of the few ten-digit numbers
        ("020 7946 0123", True),
        ("0113 496 0123", True),
        ("0300 123 4567", True),
        ("0800 123 4567", True),
        ("07911 123456", True),
        ("07700 900123", False),  # drama mobile range
        ("01234 56789", False),
        ("0161 12345", False),
        ("+44 (0)161 496 0123", True),
        ("+33 1 23 45 67 89", False),
    ],
)
def test_phone_numbers_follow_the_numbering_plan(raw, valid):
    assert (check("uk_phone", raw).status is not Status.INVALID) is valid


def test_the_scan_uses_the_same_phone_rule():
    assert find_identifiers("ring 01522 552222 today") == [("uk_phone", "01522 552222")]
    assert find_identifiers("ring 01522 55222 today") == []


# --- 5. the identifier scan ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("NHS 943.476.5919 seen", ("nhs_number", "943.476.5919")),
        ("NHS 943 4765 919 seen", ("nhs_number", "943 4765 919")),
        ("NHS 943-4765-919 seen", ("nhs_number", "943-4765-919")),
        ("lives at GIR 0AA now", ("postcode", "GIR 0AA")),
        ("posted to bfpo 801", ("postcode", "bfpo 801")),
        ("posted to BFPO801", ("postcode", "BFPO801")),
    ],
)
def test_the_scan_finds_identifiers_written_other_ways(text, found):
    assert find_identifiers(text) == [found]


def test_the_scan_does_not_take_a_decimal_for_an_nhs_number():
    assert find_identifiers("ratio 1.9434765919") == []


# --- 6. generic dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("26997", "29/11/1973"),  # an Excel serial
        ("45000", "15/03/2023"),
        ("73050", "31/12/2099"),  # the last serial read
        ("19731129", "29/11/1973"),  # YYYYMMDD
    ],
)
def test_serials_in_range_are_read(raw, value):
    assert check("date", raw).value == value


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("090107", "written without slashes"),  # was read as serial 90107: 2146-09-13
        ("150307", "written without slashes"),
        ("1290107", "written without slashes"),
        ("73051", "too large"),
        ("1973", "a year on its own"),
        ("2024", "a year on its own"),
        ("000000", "placeholder"),
    ],
)
def test_digit_strings_that_are_not_serials_are_refused(raw, why):
    result = check("date", raw)
    assert result.status is Status.INVALID and why in result.reason
