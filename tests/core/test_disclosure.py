"""The re-identification risk report: exact equivalence classes on a fixture built to have them."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from pseudodesk.core.agreement.mapping import suggest_mapping
from pseudodesk.core.agreement.profile import parse_profile
from pseudodesk.core.check.risk import analyse, risk_lines
from pseudodesk.core.conventions.generalise import generalise_dob, generalise_postcode
from pseudodesk.core.errors import ProfileError
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.core.run.check import assess
from tests.helpers import KEY_A, PROFILE, ROWS, extract_7z, fixture, parse_csv, run


def test_known_equivalence_classes_are_counted_exactly(tmp_path):
    profile, table, mapping = fixture(tmp_path)
    risk, report = assess(profile, table, mapping)
    assert risk.quasi_identifiers == ["DOB", "SEX", "POSTCODE"]  # by convention; the pseudonym is not one
    assert (risk.records, risk.classes, risk.k) == (11, 5, 3)
    assert risk.class_sizes == {1: 2, 2: 1, 3: 1, 4: 1}
    assert risk.records_at_risk == 4 and risk.classes_below_k == 3
    assert risk.share_at_risk == pytest.approx(4 / 11)
    assert report.rows == 11
    previews = {(p.field, p.level): (p.records_at_risk, p.classes) for p in risk.previews}
    assert previews[("POSTCODE", "sector")] == (4, 5)  # LN1 1 / LN1 9 and LN2 2 / LN2 3: still apart
    assert previews[("POSTCODE", "district")] == (0, 3)  # A+D = 5, B = 3, C+E = 3
    assert previews[("POSTCODE", "area")] == (0, 3)  # the same classes: the DOBs keep them apart
    assert previews[("DOB", "year")] == (4, 5)  # years keep the same classes apart
    assert previews[("DOB", "age_band")] == (4, 5)  # 16, 14 and 12 on 1 Sep 2026: bands 16-19, 11-15, 11-15


def test_area_preview_counts(tmp_path):
    """With k = 4: by area, A+D make a class of 5, C+E one of 3, B stays 3: six records still at risk."""
    profile, table, mapping = fixture(tmp_path)
    risk, _ = assess(profile, table, mapping, k=4)
    previews = {(p.field, p.level): (p.records_at_risk, p.classes) for p in risk.previews}
    assert risk.records_at_risk == 7  # B(3) + C(2) + D(1) + E(1) under k = 4
    assert previews[("POSTCODE", "area")] == (6, 3)  # classes 5, 3 (LN, 2014) and 3 (PE): the two 3s at risk


def test_rows_the_policy_excludes_do_not_count(tmp_path):
    rows = ROWS + [("not a date", "F", "LN1 1AA")]
    profile, table, mapping = fixture(tmp_path, rows, policy="exclude")
    risk, report = assess(profile, table, mapping)
    assert report.rows == 12 and risk.records == 11


def test_worst_classes_are_described_generalised_never_in_full(tmp_path):
    profile, table, mapping = fixture(tmp_path)
    risk, _ = assess(profile, table, mapping)
    text = "\n".join(risk_lines(risk))
    assert ("16-19", "F", "LN1") in [values for values, _ in risk.worst]
    assert "LN1 9ZZ" not in text and "01/02/2010" not in text
    assert "records in classes smaller than 3: 4 (36.4%) in 3 classes" in text
    assert "POSTCODE to district: records at risk 4 -> 0" in text


def test_analyse_on_counts_alone():
    counts = Counter({("a",): 1, ("b",): 2, ("c",): 5})
    risk = analyse(counts, ["X"], 5)
    assert (risk.records, risk.classes, risk.records_at_risk, risk.class_sizes) == (8, 3, 3, {1: 1, 2: 1, 5: 1})
    with pytest.raises(ValueError):
        analyse(counts, ["X"], 1)


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("month_year", "02/2010"),
        ("year", "2010"),
        ("age", "16"),
        ("age_band", "16-19"),
    ],
)
def test_date_of_birth_generalisations(level, expected):
    assert generalise_dob("01/02/2010", level, reference=dt.date(2026, 9, 1)) == expected
    assert generalise_dob("2010-02-01", level, reference=dt.date(2026, 9, 1)) == expected


def test_age_is_whole_years_on_the_reference_date():
    assert generalise_dob("02/09/2010", "age", reference=dt.date(2026, 9, 1)) == "15"  # birthday tomorrow
    assert generalise_dob("01/09/2010", "age", reference=dt.date(2026, 9, 1)) == "16"
    assert generalise_dob("01/09/1990", "age_band", reference=dt.date(2026, 9, 1)) == "other"
    assert generalise_dob("", "year", reference=dt.date(2026, 9, 1)) == ""


@pytest.mark.parametrize(("level", "expected"), [("sector", "SW1A 2"), ("district", "SW1A"), ("area", "SW")])
def test_postcode_generalisations(level, expected):
    assert generalise_postcode("SW1A 2AA", level) == expected
    assert generalise_postcode("", level) == ""


def test_disclosure_rules_read_from_the_profile(tmp_path):
    profile, _, _ = fixture(tmp_path, extra='quasi_identifiers = ["DOB", "POSTCODE"]\nage_bands = ["0-9", "10-19"]')
    assert profile.quasi_identifiers() == ["DOB", "POSTCODE"]
    assert profile.disclosure.k == 3 and profile.disclosure.age_bands == ((0, 9), (10, 19))
    assert profile.disclosure.reference_date == dt.date(2026, 9, 1)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('quasi_identifiers = ["NOPE"]', "'NOPE' is not an output field"),
        ('quasi_identifiers = ["PERSON_ID"]', "only kept values are quasi-identifiers"),
        ('age_bands = ["0-4", "3-9"]', "must not overlap"),
        ('age_bands = ["ten-twenty"]', "must be a list like"),
    ],
)
def test_bad_disclosure_rules_are_refused(tmp_path, extra, message):
    with pytest.raises(ProfileError, match=message):
        fixture(tmp_path, extra=extra)


def test_k_must_be_two_or_more():
    text = PROFILE.format(policy="blank", extra="").replace("k = 3", "k = 1")
    with pytest.raises(ProfileError, match="disclosure.k"):
        parse_profile(text.encode())


def test_check_report_html_carries_the_risk_without_full_values(tmp_path):
    from pseudodesk.core.package.reports import report_to_html

    profile, table, mapping = fixture(tmp_path)
    risk, report = assess(profile, table, mapping)
    page = report_to_html(report, "t", risk)
    assert "Re-identification risk (k = 3)" in page and "4 of 11 records (36.4%)" in page
    assert "POSTCODE to district" in page and "4 -&gt; 0" in page
    risk_part = page[page.index("Re-identification risk") :]
    assert "LN1 9ZZ" not in risk_part and "01/02/2010" not in risk_part


def generalised_fixture(tmp_path, dob="", postcode="", categories=""):
    text = PROFILE.format(policy="blank", extra="")
    text = text.replace(
        'name = "DOB"\nrole = "keep"\nfrom = "dob"',
        'name = "DOB"\nrole = "keep"\nfrom = "dob"\n' + (f'generalise = "{dob}"' if dob else ""),
    )
    text = text.replace(
        'name = "POSTCODE"\nrole = "keep"\nfrom = "postcode"',
        'name = "POSTCODE"\nrole = "keep"\nfrom = "postcode"\n'
        + (f'generalise = "{postcode}"' if postcode else "")
        + categories,
    )
    path = tmp_path / "people.csv"
    if not path.exists():
        fixture(tmp_path)
    profile = parse_profile(text.encode())
    table = read_table(path)
    return profile, table, suggest_mapping(profile, table.header)


def test_generalised_fields_leave_coarse_and_the_risk_falls(tmp_path):
    profile, table, mapping = generalised_fixture(tmp_path, dob="age_band", postcode="district")
    result = run(profile, table, mapping, KEY_A, tmp_path / "out", name="x")
    rows = parse_csv(extract_7z(result.output, result.passphrase, tmp_path / "x"))
    assert rows[0] == ["PERSON_ID", "DOB", "SEX", "POSTCODE"]
    assert [r[1:] for r in rows[1:5]] == [["16-19", "F", "LN1"]] * 4
    assert {tuple(r[1:]) for r in rows[1:]} == {("16-19", "F", "LN1"), ("11-15", "M", "PE1"), ("11-15", "F", "LN2")}
    risk, _ = assess(profile, table, mapping)
    # Counted by PERSON_ID: the 16-19/F/LN1 class has 5 rows but 4 people (the fixture's row D
    # carries the NHS number of one of A's rows).
    assert risk.class_sizes == {3: 2, 4: 1} and risk.records_at_risk == 0
    assert (risk.person_field, risk.records, risk.people) == ("PERSON_ID", 11, 4)


def test_categories_group_values_and_the_rest_become_other(tmp_path):
    profile, table, mapping = generalised_fixture(
        tmp_path,
        categories='\ncategories = { "LN1 1AA" = "Lincoln north", "LN2 2BB" = "Lincoln south", '
        '"LN2 3DD" = "Lincoln south" }',
    )
    risk, _ = assess(profile, table, mapping)
    assert risk.class_sizes == {1: 1, 3: 2, 4: 1}  # C and E merge as Lincoln south; D alone as Other
    assert risk.worst == [(("16-19", "F", "Other"), 1)]


@pytest.mark.parametrize(
    ("dob", "postcode", "message"),
    [
        ("district", "", "must be one of month_year"),
        ("", "age_band", "must be one of sector"),
    ],
)
def test_generalisation_must_fit_the_convention(tmp_path, dob, postcode, message):
    with pytest.raises(ProfileError, match=message):
        generalised_fixture(tmp_path, dob=dob, postcode=postcode)


def test_pseudonyms_cannot_be_generalised():
    text = PROFILE.format(policy="blank", extra="").replace('from = "nhs"', 'from = "nhs"\ngeneralise = "year"')
    with pytest.raises(ProfileError, match="only kept fields can be generalised"):
        parse_profile(text.encode())


def test_suppression_plan_blanks_the_most_identifying_value_first():
    from pseudodesk.core.check.suppression import suppression_plan

    counts = Counter({("2010", "F", "LN1"): 3, ("2010", "F", "LN2"): 1, ("2012", "M", "PE1"): 3})
    plan, suppressed, left, whole = suppression_plan(counts, 3, [2, 0, 1])  # postcode first
    assert plan == {("2010", "F", "LN2"): ("", "", "")}  # blank postcode: still alone; then the year too
    assert suppressed == Counter({2: 1, 0: 1, 1: 1}) and left == 1 and whole == 0  # and it is still alone
    plan, suppressed, left, whole = suppression_plan(counts + Counter({("2010", "F", "LN3"): 2}), 3, [2, 0, 1])
    assert plan == {("2010", "F", "LN2"): ("2010", "F", ""), ("2010", "F", "LN3"): ("2010", "F", "")}
    assert suppressed == Counter({2: 3}) and left == 0


def test_enforced_k_blanks_values_reports_them_and_leaves_no_small_class(tmp_path):
    import json

    more = [("01/02/2010", "F", "LN3 3AA"), ("01/02/2010", "F", "LN4 4AA")]  # D's neighbours but for postcode
    # Rows counted: the fixture gives 13 rows only 4 NHS numbers (tests/core/test_people.py counts people).
    profile, table, mapping = fixture(tmp_path, ROWS + more, extra='enforce = true\nperson = ""')
    result = run(profile, table, mapping, KEY_A, tmp_path / "out", name="x")
    rows = parse_csv(extract_7z(result.output, result.passphrase, tmp_path / "x"))[1:]
    classes = Counter(tuple(r[1:]) for r in rows)
    assert len(rows) == 13 and min(classes.values()) >= 3
    # Postcodes go first: C (2) and E (1) become (2014, F, blank): 3; D and the two new ones
    # become (2010, F, blank): 3. Nothing else needs to change.
    assert result.report.suppressed == {"POSTCODE": 6}
    assert sum(v == "" for r in rows for v in r[1:]) == 6
    assert classes[("01/02/2010", "F", "LN1 1AA")] == 4  # A keeps its full postcode
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))["manifest"]
    assert manifest["disclosure"]["values_suppressed"] == {"POSTCODE": 6} and manifest["disclosure"]["enforced"]


def test_enforcement_refuses_what_cannot_reach_k(tmp_path):
    from pseudodesk.core.errors import ChecksBlockExport

    rows = [("01/02/2010", "F", "LN1 1AA")] * 2
    profile, table, mapping = fixture(tmp_path, rows, extra="enforce = true")
    with pytest.raises(ChecksBlockExport, match="cannot reach that"):
        run(profile, table, mapping, KEY_A, tmp_path / "out", name="x")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_the_risk_verdict_says_in_words_what_the_export_means():
    from collections import Counter

    from pseudodesk.core.check.risk import Preview, analyse, risk_verdict

    counts = Counter({("2010", "F"): 5, ("2011", "M"): 1, ("2012", "M"): 2})
    risk = analyse(counts, ["YEAR", "SEX"], 3)
    risk.previews.append(Preview("YEAR", "decade", 0, 2))
    words = risk_verdict(risk)
    assert words.startswith("3 of 8 records (38%) could be picked out by their YEAR, SEX")
    assert "may let someone be identified" in words and "YEAR as decade would leave 0" in words
    risk.enforced = True
    assert "blanks the values that single them out when you export" in risk_verdict(risk)
    safe = analyse(Counter({("2010", "F"): 5}), ["YEAR", "SEX"], 3)
    assert risk_verdict(safe).startswith("No one can be picked out")


def test_measuring_the_risk_is_a_named_phase_that_can_be_cancelled(demo_paths):
    from pseudodesk.core.agreement.mapping import load_mapping
    from pseudodesk.core.agreement.profile import load_profile
    from pseudodesk.core.errors import Cancelled
    from pseudodesk.core.read.dispatch import read_table
    from pseudodesk.core.run.check import assess

    profile = load_profile(demo_paths["profile"])
    mapping = load_mapping(demo_paths["mapping"])
    table = read_table(demo_paths["spreadsheet"], sheet=mapping.sheet, header_row=mapping.header_row or 1)
    seen: list[tuple[float, str]] = []
    assess(profile, table, mapping, progress=lambda share, message: seen.append((share, message)))
    measuring = [share for share, message in seen if message.startswith("Measuring re-identification risk")]
    checking = [share for share, message in seen if not message.startswith(("Measuring", "Checked, and"))]
    assert len(measuring) > 3 and min(measuring) >= 0.75 and max(checking) <= 0.75
    assert seen[-1] == (1.0, "Checked, and the re-identification risk measured")
    phase = {"risk": False}

    def progress(share: float, message: str) -> None:
        phase["risk"] = phase["risk"] or message.startswith("Measuring")

    with pytest.raises(Cancelled):
        assess(profile, table, mapping, progress=progress, cancel=lambda: phase["risk"])
