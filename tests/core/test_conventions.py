"""Every test value of shared/reference/conventions.md, and the catalogue's own rules."""

from __future__ import annotations

import datetime as dt

import pytest

from pseudodesk.core.conventions import CONVENTIONS, ColumnContext, Status, get_convention
from pseudodesk.core.conventions.dates import excel_serial_to_date
from pseudodesk.core.conventions.ethnicity import crosswalk
from pseudodesk.core.conventions.places import postcode_area, postcode_district, postcode_sector

TODAY = dt.date(2026, 11, 21)


def rule(name, context=None, **options):
    return get_convention(name).rule(options, context or ColumnContext(today=TODAY))


def check(name, raw, **options):
    return rule(name, **options).check(raw)


def column(name, values, context=None, **options):
    """Survey a whole column like the pipeline does, then check each value."""
    r = rule(name, context, **options)
    for v in values:
        r.observe(v)
    return r, [r.check(v) for v in values]


# --- catalogue ----------------------------------------------------------------------------


def test_catalogue_entries_are_complete():
    required = {
        "text",
        "dob",
        "date",
        "gender",
        "postcode",
        "ethnicity",
        "nhs_number",
        "upn",
        "uln",
        "uprn",
        "email",
        "uk_phone",
        "person_name",
        "address_line",
    }
    assert required <= set(CONVENTIONS)
    for conv in CONVENTIONS.values():
        assert conv.description and conv.output_format and conv.inputs, conv.name


def test_unknown_convention_and_bad_options():
    with pytest.raises(KeyError, match="unknown convention 'shoe_size'"):
        get_convention("shoe_size")
    assert "not an option" in get_convention("dob").validate_options({"colour": "red"})
    assert "must be one of" in get_convention("gender").validate_options({"target": "XY"})


# --- postcode -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "SW1A 2AA",
        "M1 1AE",
        "B33 8TH",
        "CR2 6XH",
        "DN55 1PT",
        "W1A 0AX",
        "EC1A 1BB",
        "N1P 1AA",
        "GX11 1AA",
        "GIR 0AA",
        "BFPO 1234",
        "ASCN 1ZZ",
        "TKCA 1ZZ",
    ],
)
def test_valid_postcodes(code):
    result = check("postcode", code)
    assert (result.value, result.status) == (code, Status.VALID)


def test_postcode_normalised():
    assert check("postcode", " sw1a2aa ").value == "SW1A 2AA"
    assert check("postcode", " sw1a2aa ").status is Status.NORMALISED
    assert check("postcode", "sw1a\u00a02aa").value == "SW1A 2AA"  # non-breaking space
    assert check("postcode", "bfpo1234").value == "BFPO 1234"


@pytest.mark.parametrize("code", ["QA1 1AA", "AJ1 1AA", "W1I 1AA", "EC1Z 1AA", "M1 1CA", "12345", "SW1A"])
def test_invalid_postcodes(code):
    assert check("postcode", code).status is Status.INVALID


def test_postcode_generalisation():
    assert (postcode_area("SW1A 2AA"), postcode_district("SW1A 2AA"), postcode_sector("SW1A 2AA")) == (
        "SW",
        "SW1A",
        "SW1A 2",
    )
    assert check("postcode", "m1 1ae", output="sector").value == "M1 1"
    assert check("postcode", "M1 1AE", output="district").value == "M1"
    assert check("postcode", "CR2 6XH", output="area").value == "CR"
    assert check("postcode", "QA1 1AA", output="area").status is Status.INVALID


# --- NHS number, UPN, ULN, UPRN -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("9434765919", "9434765919"),
        ("4505577104", "4505577104"),
        ("450 557 7104", "4505577104"),
        ("450-557-7104", "4505577104"),
    ],
)
def test_valid_nhs_numbers(raw, value):
    result = check("nhs_number", raw)
    assert result.value == value and result.status in (Status.VALID, Status.NORMALISED) and result.plain


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("9876544321", "check digit"),
        ("1", "not 10 digits"),
        ("fish", "not 10 digits"),
        ("1267716276817687612", "not 10 digits"),
        ("1111111111", "repeated"),
    ],
)
def test_invalid_nhs_numbers(raw, reason):
    result = check("nhs_number", raw)
    assert result.status is Status.INVALID and reason in result.reason


def test_nhs_test_range_is_accepted_with_a_warning():
    result = check("nhs_number", "9990000018")
    assert result.status is Status.VALID and "test" in result.reason


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("B801200005001", ""), ("X00180001701A", "temporary UPN"), ("P207000016049", ""), ("p207000016049", "")],
)
def test_valid_upns(raw, reason):
    result = check("upn", raw)
    assert result.value == raw.upper() and result.status is not Status.INVALID and result.reason == reason


def test_upn_with_wrong_check_letter():
    # some school-software help pages print Q for this number; the algorithm gives P
    assert check("upn", "Q207000016049").status is Status.INVALID
    assert check("upn", "P20700001604I").status is Status.INVALID  # I is never used


def test_uln():
    assert check("uln", "9276308686").status is Status.VALID
    assert check("uln", "9276308687").status is Status.INVALID
    assert "never starts with 0" in check("uln", "0276308686").reason


def test_uprn_is_text_and_never_scientific():
    assert check("uprn", "100023336956").value == "100023336956"
    assert check("uprn", "000123").value == "123"
    assert "scientific notation" in check("uprn", "1.00023E+11").reason
    assert check("uprn", "1234567890123").status is Status.INVALID


# --- gender ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("m", "M"),
        ("Male", "M"),
        ("MAN", "M"),
        (" boy ", "M"),
        ("f", "F"),
        ("female", "F"),
        ("Woman", "F"),
        ("girl", "F"),
    ],
)
def test_gender_spellings_to_mf(raw, value):
    assert check("gender", raw).value == value


@pytest.mark.parametrize("raw", ["1", "2", "Mr", "Mrs", "X", "Unknown"])
def test_gender_is_never_guessed_for_mf(raw):
    assert check("gender", raw).status is Status.INVALID


def test_numeric_codes_only_when_declared():
    assert "coding is declared" in check("gender", "1").reason and "'1'" not in check("gender", "1").reason
    assert check("gender", "1", coded="iso5218").value == "M"
    assert check("gender", "2", coded="nhs_stated").value == "F"
    assert check("gender", "x", coded="nhs_stated", target="nhs_stated").value == "X"


@pytest.mark.parametrize(
    ("target", "raw", "value"),
    [
        ("MFU", "unknown", "U"),
        ("MFU", "girl", "F"),
        ("iso5218", "male", "1"),
        ("iso5218", "not known", "0"),
        ("nhs_stated", "female", "2"),
        ("nhs_stated", "indeterminate", "9"),
        ("nhs_stated", "unknown", "X"),
    ],
)
def test_gender_targets(target, raw, value):
    assert check("gender", raw, target=target).value == value


def test_gender_category_missing_from_target():
    assert (
        "cannot be written as M or F: the agreement has no code for it"
        in check("gender", "3", coded="nhs_identity").reason
    )


# --- ethnicity ------------------------------------------------------------------------------

LCP_TABLE = [  # LCP, DfE, NHS 2001 (None: lossy C), ONS 2021 label (None: none or ambiguous)
    (1, "WBRI", "A", "White: English, Welsh, Scottish, Northern Irish or British"),
    (2, "WIRI", "B", "White: Irish"),
    (3, "WIRT", None, None),
    (4, "WROM", None, "Roma"),
    (5, "WOTH", "C", "Any other White"),
    (6, "MWBC", "D", "White and Black Caribbean"),
    (7, "MWBA", "E", "White and Black African"),
    (8, "MWAS", "F", "White and Asian"),
    (9, "MOTH", "G", "Any other Mixed"),
    (10, "AIND", "H", "Indian"),
    (11, "APKN", "J", "Pakistani"),
    (12, "ABAN", "K", "Bangladeshi"),
    (13, "AOTH", "L", "Any other Asian"),
    (14, "BCRB", "M", "Caribbean"),
    (15, "BAFR", "N", "African"),
    (16, "BOTH", "P", "Any other Black"),
    (17, "CHNE", "R", "Chinese"),
    (18, "OOTH", "S", "Arab"),
    (19, "REFU", "Z", None),
    (20, "NOBT", "99", None),
]


@pytest.mark.parametrize(("lcp", "dfe", "nhs", "ons"), LCP_TABLE)
def test_ethnicity_crosswalk(lcp, dfe, nhs, ons):
    categories = crosswalk().categories
    spellings = [str(lcp), dfe, categories[lcp].label] + [s for s in (nhs, ons) if s]
    for raw in spellings:
        result = check("ethnicity", raw)
        assert result.value == str(lcp), raw
    assert check("ethnicity", str(lcp), target="dfe").value == dfe
    expected_nhs = nhs or "C"
    result = check("ethnicity", str(lcp), target="nhs")
    assert result.value == expected_nhs
    assert ("lossy" in result.reason) == (nhs is None)


def test_nhs_x_means_not_obtained():
    assert check("ethnicity", "X").value == "20"


def test_lossy_and_ambiguous_ethnicity_are_reported_never_guessed():
    assert "lossy" in check("ethnicity", "C").reason
    for raw in ("Gypsy or Irish Traveller", "White: Gypsy or Irish Traveller", "Mixed", "Other"):
        result = check("ethnicity", raw)
        assert result.status is Status.INVALID and "ambiguous" in result.reason
    assert check("ethnicity", "Martian").status is Status.INVALID


@pytest.mark.parametrize(
    ("extended", "lcp"),
    [
        ("WENG", "1"),
        ("WSCO", "1"),
        ("WWEL", "1"),
        ("WNIR", "1"),
        ("WCOR", "1"),
        ("WOWB", "1"),
        ("WROG", "4"),
        ("WROR", "4"),
        ("WROO", "4"),
        ("MWAP", "8"),
        ("MWAI", "8"),
        ("MWAO", "8"),
    ],
)
def test_dfe_extended_codes_roll_up(extended, lcp):
    assert check("ethnicity", extended).value == lcp
    assert check("ethnicity", extended.lower()).value == lcp


@pytest.mark.parametrize("raw", ["White British", "white - british", "White British ", "WHITE BRITISH"])
def test_free_text_descriptions(raw):
    assert check("ethnicity", raw).value == "1"
    assert check("ethnicity", "Black African").value == "15"


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "29/11/1973",
        "1973-11-29",
        "19731129",
        "29.11.1973",
        "29-Nov-1973",
        "29 November 1973",
        "Nov 29, 1973",
        "29-11-1973",
        "1973/11/29",
        "29/11/73",
        "1973-11-29 00:00:00",
        "26997",
    ],
)
def test_every_date_form(raw):
    r, results = column("dob", [raw])
    assert results[0].value == "29/11/1973", (raw, results[0])


def test_iso_output_option():
    assert check("dob", "29/11/1973", output="YYYY-MM-DD").value == "1973-11-29"


def test_excel_serials_1900_and_1904():
    assert excel_serial_to_date(1) == dt.date(1900, 1, 1)
    assert excel_serial_to_date(59) == dt.date(1900, 2, 28)
    assert excel_serial_to_date(60) is None
    assert excel_serial_to_date(61) == dt.date(1900, 3, 1)
    assert excel_serial_to_date(26997) == dt.date(1973, 11, 29)
    assert excel_serial_to_date(25535, 1904) == dt.date(1973, 11, 29)
    assert check("dob", "60").status is Status.INVALID
    r, (result,) = column("dob", ["25535"], ColumnContext(today=TODAY, date_system=1904))
    assert result.value == "29/11/1973" and "1904" in r.decision()
    assert column("dob", ["25535"], serial_system="1904")[1][0].value == "29/11/1973"


def test_column_with_a_first_part_over_12_is_day_first():
    r, results = column("dob", ["13/01/2001", "02/03/2001"])
    assert [x.value for x in results] == ["13/01/2001", "02/03/2001"]
    assert r.decision().startswith("read day first")


def test_column_with_a_second_part_over_12_is_month_first():
    r, results = column("date", ["01/13/2001", "02/03/2001", "12/31/1999"])
    assert [x.value for x in results] == ["13/01/2001", "03/02/2001", "31/12/1999"]
    assert r.decision().startswith("read month first")


def test_mixed_column_is_not_guessed():
    r, results = column("dob", ["13/01/2001", "01/13/2001", "02/03/2001"])
    assert [x.status for x in results] == [Status.VALID, Status.NORMALISED, Status.INVALID]
    assert "ambiguous" in results[2].reason and "mixes" in r.decision()


def test_column_without_evidence_uses_the_default_and_says_so():
    r, results = column("dob", ["02/03/2001", "04/05/2002"])
    assert results[0].value == "02/03/2001" and "assumed DMY" in r.decision()
    r, results = column("dob", ["02/03/2001"], default_order="MDY")
    assert results[0].value == "03/02/2001" and "assumed MDY" in r.decision()


def test_a_person_decides_the_order():
    r, results = column("dob", ["13/01/2001", "01/13/2001", "02/03/2001"], order="MDY")
    assert results[1].value == "13/01/2001" and results[2].value == "03/02/2001"
    assert results[0].status is Status.INVALID  # month 13
    assert "set to MDY" in r.decision()


def test_two_digit_birth_years_go_back_a_century_when_in_the_future():
    r, results = column("dob", ["05/03/79", "05/03/24", "05/03/30"])
    assert [x.value for x in results] == ["05/03/1979", "05/03/2024", "05/03/1930"]
    assert "two-digit birth year" in r.decision()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("01/01/1900", "placeholder"),
        ("00/00/0000", "placeholder"),
        ("31/12/9999", "placeholder"),
        ("0", "placeholder"),
        ("30/02/2001", "does not exist"),
        ("29/02/2001", "does not exist"),
        ("29/11/2030", "in the future"),
        ("12/05/1850", "more than 125 years"),
        ("not a date", "not a date"),
        ("29 Brumaire 1973", "not an English month"),
    ],
)
def test_dates_of_birth_that_are_reported(raw, reason):
    result = column("dob", [raw])[1][0]
    assert result.status is Status.INVALID and reason in result.reason, result


def test_leap_day_and_a_time_of_day():
    assert check("dob", "29/02/2000").value == "29/02/2000"
    result = check("dob", "29/11/1973 14:30")
    assert result.value == "29/11/1973" and "time of day dropped" in result.reason


# --- contact details and text --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"), [("Jo.Bloggs@Example.ORG", "Jo.Bloggs@example.org"), ("mailto:jo@example.org", "jo@example.org")]
)
def test_email(raw, value):
    assert check("email", raw).value == value


@pytest.mark.parametrize("raw", ["jo@", "@example.org", "jo..b@example.org", "jo@example", "not an email"])
def test_invalid_email(raw):
    assert check("email", raw).status is Status.INVALID


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("07911 123456", "07911123456"),
        ("+44 7911 123456", "07911123456"),
        ("+44 (0)1522 552222", "01522552222"),
        ("0044 1522 552222", "01522552222"),
        ("(01522) 552222", "01522552222"),
        ("0800 1111", "08001111"),  # Childline: eight digits, in Ofcom's plan
        ("01522 55222", None),  # Lincoln numbers have six digits after 01522
        ("07700 900123", None),  # Ofcom's drama range: never a real number
        ("0800 FLOWERS", None),  # letters are not read as digits
        ("020 7946 0000 ext 12", None),
        ("+1 202 555 0123", None),  # not a UK number
        ("1522 552222", None),  # not written as a UK number is written
        ("+44 1534 123456", "01534123456"),  # Jersey shares the UK plan
    ],
)
def test_uk_phone(raw, value):
    result = check("uk_phone", raw)
    if value is None:
        assert result.status is Status.INVALID
    else:
        assert result.value == value


def test_names_and_addresses():
    assert check("person_name", "  Seán   O'Brien ").value == "Seán O'Brien"
    assert check("person_name", "Smith-Jones").status is Status.VALID
    assert check("person_name", "R2D2").status is Status.INVALID
    assert check("address_line", " Flat 2,  Mill Lane ").value == "Flat 2, Mill Lane"
    assert check("address_line", "---").status is Status.INVALID
    assert check("text", "   ").status is Status.EMPTY
