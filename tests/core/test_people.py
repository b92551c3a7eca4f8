"""Class sizes and table counts are distinct people when the export carries a person pseudonym."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from pseudodesk.core.agreement.mapping import suggest_mapping
from pseudodesk.core.agreement.profile import parse_profile
from pseudodesk.core.check.classes import ClassCounter
from pseudodesk.core.check.risk import analyse
from pseudodesk.core.errors import ChecksBlockExport, ProfileError
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.core.run.check import assess
from tests.helpers import KEY_A, PROFILE, extract_7z, parse_csv, run


def nhs_number(n: int) -> str:
    """A valid NHS number (modulus 11) made from ``n``."""
    while True:
        digits = f"{400000000 + n:09d}"
        check = 11 - sum(int(d) * w for d, w in zip(digits, range(10, 1, -1))) % 11
        if check == 11:
            return digits + "0"
        if check != 10:
            return digits + str(check)
        n += 1000


P, Q, R, S = (
    ("01/02/2010", "F", "LN1 1AA"),
    ("05/06/2012", "M", "PE1 1AA"),
    ("07/08/2014", "F", "LN2 2BB"),
    (
        "01/02/2010",
        "F",
        "LN9 9ZZ",
    ),
)
# Class P: 5 rows of 2 people (person 1 three times, person 2 twice); Q: 3 rows, 3 people;
# R: 4 people and a row with no NHS number (a person of its own); S: one row, person 10.
PEOPLE = [(1, P)] * 3 + [(2, P)] * 2 + [(3, Q), (4, Q), (5, Q)] + [(6, R), (7, R), (8, R), (9, R), (0, R)] + [(10, S)]


def people_fixture(tmp_path, extra="", aggregate=""):
    path = tmp_path / "people.csv"
    lines = [f"{nhs_number(n) if n else ''},{d},{s},{p}\n" for n, (d, s, p) in PEOPLE]
    path.write_text("NHS No,DOB,Sex,Postcode\n" + "".join(lines), encoding="utf-8")
    profile = parse_profile((PROFILE.format(policy="blank", extra=extra) + aggregate).encode())
    table = read_table(path)
    return profile, table, suggest_mapping(profile, table.header)


def test_classes_count_distinct_people_not_rows(tmp_path):
    profile, table, mapping = people_fixture(tmp_path)
    assert profile.person_field() == "PERSON_ID"  # the first pseudonym field, by default
    risk, _ = assess(profile, table, mapping)
    assert (risk.records, risk.people, risk.classes) == (14, 11, 4)
    assert risk.class_sizes == {1: 1, 2: 1, 3: 1, 5: 1}  # S 1, P 2 people (5 rows), Q 3, R 5
    assert (risk.records_at_risk, risk.people_at_risk, risk.classes_below_k) == (6, 3, 2)
    assert risk.unit == "people"
    by_rows, _ = assess(*people_fixture(tmp_path, extra='person = ""'))
    assert by_rows.class_sizes == {1: 1, 3: 1, 5: 2} and by_rows.records_at_risk == 1
    assert by_rows.unit == "records" and by_rows.people == 14


def test_a_person_in_two_classes_that_generalise_into_one_counts_once():
    counts = ClassCounter(by_person=True)
    counts.add([("2010", "LN1 1AA"), ("2010", "LN1 9ZZ"), ("2010", "LN1 9ZZ")], ["p1", "p1", "p2"])
    assert counts.sizes() == Counter({("2010", "LN1 1AA"): 1, ("2010", "LN1 9ZZ"): 2})
    merged = counts.regroup(lambda key: (key[0], key[1][:3]))
    assert merged.sizes() == Counter({("2010", "LN1"): 2}) and merged.rows == Counter({("2010", "LN1"): 3})
    risk = analyse(counts, ["YEAR", "POSTCODE"], 2, person_field="PERSON_ID")
    assert (risk.records, risk.people, risk.records_at_risk, risk.people_at_risk) == (3, 2, 1, 1)


def test_enforcement_counts_people(tmp_path):
    """P holds 5 rows but 2 people: its postcode is blanked, and with S (the same DOB and sex)
    it makes a class of 3 people. Counting rows, P would have been left alone."""
    profile, table, mapping = people_fixture(tmp_path, extra="enforce = true")
    result = run(profile, table, mapping, KEY_A, tmp_path / "out", name="x")
    rows = parse_csv(extract_7z(result.output, result.passphrase, tmp_path / "x"))[1:]
    assert result.report.suppressed == {"POSTCODE": 6} and result.report.records_suppressed == 0
    people = {}
    for person, *values in rows:
        people.setdefault(tuple(values), set()).add(person)
    assert {key: len(v) for key, v in people.items()} == {("01/02/2010", "F", ""): 3, Q: 3, R: 5}
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))["manifest"]
    assert manifest["disclosure"]["counted_by"] == "PERSON_ID"


def test_aggregate_cells_count_distinct_people(tmp_path):
    aggregate = '[aggregate]\ndimensions = ["SEX", "POSTCODE"]\nrule = "threshold"\nthreshold = 3\n'
    tables = {}
    for extra in ("", 'person = ""'):
        profile, table, mapping = people_fixture(tmp_path, extra=extra, aggregate=aggregate)
        result = run(profile, table, mapping, KEY_A, tmp_path / f"out{len(extra)}", name="counts")
        tables[extra] = parse_csv(extract_7z(result.output, result.passphrase, tmp_path / f"x{len(extra)}"))
    assert tables[""][0] == ["SEX", "LN1 1AA", "LN2 2BB", "LN9 9ZZ", "PE1 1AA", "Total"]
    # F at LN1 1AA: 5 rows of 2 people, hidden when counting people; R's 5 people (one with no
    # NHS number) stay 5; F's total is the people of its cells added up: 2 + 5 + 1.
    assert tables[""][1] == ["F", "*", "5", "*", "0", "8"]
    # Counting rows, LN1 1AA holds 5 and the whole table 14.
    assert tables['person = ""'][-1] == ["Total", "5", "5", "*", "*", "14"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [('person = "SEX"', "must name the pseudonym output field"), ('person = "NOPE"', "must name the pseudonym")],
)
def test_the_person_field_must_be_a_pseudonym(tmp_path, extra, message):
    with pytest.raises(ProfileError, match=message):
        people_fixture(tmp_path, extra=extra)


def test_without_a_share_to_suppress_a_lone_record_refuses_the_export(tmp_path):
    """Counting rows, S (one record) cannot reach k = 3 even with everything blanked."""
    profile, table, mapping = people_fixture(tmp_path, extra='person = ""\nenforce = true')
    with pytest.raises(ChecksBlockExport, match="1 record\\(s\\) cannot reach that"):
        run(profile, table, mapping, KEY_A, tmp_path / "out", name="x")


def test_a_share_of_records_may_be_suppressed_whole_instead_of_refusing(tmp_path):
    """[disclosure] max_suppressed_share = 0.1 of 14 records allows one: S, alone in its class,
    goes with its date of birth, sex and postcode blanked, and the rest is untouched."""
    extra = 'person = ""\nenforce = true\nmax_suppressed_share = 0.1'
    profile, table, mapping = people_fixture(tmp_path, extra=extra)
    result = run(profile, table, mapping, KEY_A, tmp_path / "out", name="x")
    rows = parse_csv(extract_7z(result.output, result.passphrase, tmp_path / "x"))[1:]
    assert result.report.suppressed == {"DOB": 1, "SEX": 1, "POSTCODE": 1}
    assert result.report.records_suppressed == 1
    assert Counter(tuple(r[1:]) for r in rows) == Counter({P: 5, Q: 3, R: 5, ("", "", ""): 1})
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))["manifest"]["disclosure"]
    assert (manifest["records_suppressed"], manifest["max_suppressed_share"], manifest["counted_by"]) == (
        1,
        0.1,
        "rows",
    )


def test_a_share_too_small_for_what_is_left_still_refuses(tmp_path):
    extra = 'person = ""\nenforce = true\nmax_suppressed_share = 0.05'  # 0.7 of a record: none
    profile, table, mapping = people_fixture(tmp_path, extra=extra)
    with pytest.raises(ChecksBlockExport, match=r"at most 0 record\(s\) \(5.00% of 14\)"):
        run(profile, table, mapping, KEY_A, tmp_path / "out", name="x")


def test_whole_records_are_suppressed_after_values_when_that_brings_them_within_the_limit():
    from pseudodesk.core.check.suppression import suppression_plan

    big = {("2010", "F", "LN1"): 5, ("2012", "M", "PE2"): 5}
    counts = Counter({**big, ("2010", "F", "LN2"): 1, ("2010", "F", "LN3"): 2, ("2011", "M", "PE1"): 1})
    # 4 records at risk > 1 allowed: postcodes go first (LN2 + LN3 make 3 together); then only the
    # 2011/M record is left, within the limit: it is suppressed whole.
    plan = suppression_plan(counts, 3, [2, 0, 1], max_records=1)
    assert plan.masks == {
        ("2010", "F", "LN2"): ("2010", "F", ""),
        ("2010", "F", "LN3"): ("2010", "F", ""),
        ("2011", "M", "PE1"): ("", "", ""),
    }
    assert plan.blanked == Counter({2: 4, 0: 1, 1: 1}) and (plan.left, plan.records_suppressed) == (0, 1)
    first = suppression_plan(counts, 3, [2, 0, 1], max_records=4)  # all four at once, nothing else
    assert first.records_suppressed == 4 and first.blanked == Counter({0: 4, 1: 4, 2: 4})
    assert suppression_plan(counts, 3, [2, 0, 1]).records_suppressed == 0


@pytest.mark.parametrize("share", ["1", "-0.1", "true", '"0.1"'])
def test_the_suppression_share_is_checked(tmp_path, share):
    with pytest.raises(ProfileError, match="max_suppressed_share"):
        people_fixture(tmp_path, extra=f"max_suppressed_share = {share}")
