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


# --- consistent suppression across releases --------------------------------------------------

NEXT_MONTH = [(1, P)] * 3 + [(2, P)] * 2 + [(11, P), (12, P)] + [(3, Q), (4, Q), (5, Q)] + [(6, R), (7, R), (8, R)]


def release(tmp_path, people, name, extra="enforce = true\nconsistent_releases = true"):
    folder = tmp_path / name
    folder.mkdir()
    path = folder / "people.csv"
    lines = [f"{nhs_number(n) if n else ''},{d},{s},{p}\n" for n, (d, s, p) in people]
    path.write_text("NHS No,DOB,Sex,Postcode\n" + "".join(lines), encoding="utf-8")
    profile = parse_profile(PROFILE.format(policy="blank", extra=extra).encode())
    table = read_table(path)
    result = run(profile, table, suggest_mapping(profile, table.header), KEY_A, folder / "out", name="x")
    rows = parse_csv(extract_7z(result.output, result.passphrase, folder / "x"))[1:]
    return result, rows


def history_files(data_dir):
    return list((data_dir / "release-history").glob("*.json"))


def test_a_person_s_blanked_field_stays_blank_next_month(tmp_path, private_data_dir, monkeypatch):
    """Month 1: P (5 rows of people 1 and 2) and S (person 10) have their postcodes blanked (6
    values). Month 2: P holds people 1, 2, 11 and 12, k = 3 is met without blanking; but 1 and
    2 were blanked before, so their 5 postcodes are blanked again, which leaves 11 and 12 as a
    class of two with their full postcode: theirs are blanked too (7 in all)."""
    first, _ = release(tmp_path, PEOPLE, "month1")
    assert first.report.suppressed == {"POSTCODE": 6} and first.report.history_suppressed == 0
    [history] = history_files(private_data_dir)
    stored = json.loads(history.read_text(encoding="utf-8"))
    assert stored["format"] == "pseudodesk-release-history/1" and len(stored["entries"]) == 3  # 1, 2, 10
    assert all(len(entry) == 32 and int(entry, 16) >= 0 for entry in stored["entries"])
    second, rows = release(tmp_path, NEXT_MONTH, "month2")
    assert second.report.history_suppressed == 5
    assert second.report.suppressed == {"POSTCODE": 7}
    assert Counter(tuple(r[1:]) for r in rows) == Counter({("01/02/2010", "F", ""): 7, Q: 3, R: 3})
    assert len(json.loads(history.read_text(encoding="utf-8"))["entries"]) == 5  # and now 11 and 12
    manifest = json.loads(second.manifest.read_text(encoding="utf-8"))["manifest"]["disclosure"]
    assert manifest["consistent_releases"] is True and manifest["values_suppressed_as_before"] == 5
    # Without the history (another installation, or the option off), month 2 sends every postcode:
    # linked on PERSON_ID, people 1 and 2 get back the postcode month 1 blanked.
    monkeypatch.setenv("PSEUDODESK_DATA_DIR", str(tmp_path / "elsewhere"))
    alone, rows = release(tmp_path, NEXT_MONTH, "month2-elsewhere")
    assert alone.report.suppressed == {} and Counter(tuple(r[1:]) for r in rows)[P] == 7


def test_the_release_history_holds_no_value_pseudonym_or_field_name(tmp_path, private_data_dir):
    release(tmp_path, PEOPLE, "month1")
    [history] = history_files(private_data_dir)
    text = history.read_text(encoding="utf-8")
    _, rows = release(tmp_path, PEOPLE, "month1-again", extra="enforce = true")  # no history kept
    pseudonyms = {r[0] for r in rows if r[0]}
    for clear in [*pseudonyms, "POSTCODE", "LN1 1AA", "LN9 9ZZ", "01/02/2010", "Risk fixture", nhs_number(1)]:
        assert clear not in text
    assert history.name != "Risk fixture.json" and len(history.stem) == 32


def test_consistent_releases_needs_enforcement_and_a_person(tmp_path):
    with pytest.raises(ProfileError, match="needs enforce = true and a person pseudonym"):
        people_fixture(tmp_path, extra="consistent_releases = true")
    with pytest.raises(ProfileError, match="needs enforce = true and a person pseudonym"):
        people_fixture(tmp_path, extra='enforce = true\nperson = ""\nconsistent_releases = true')


def test_the_risk_report_says_linked_releases_undo_blanking(tmp_path):
    from pseudodesk.core.check.risk import risk_lines, risk_verdict
    from pseudodesk.core.package.reports import risk_to_html

    risk, _ = assess(*people_fixture(tmp_path, extra="enforce = true"))
    text = "\n".join(risk_lines(risk))
    assert "linked releases: Blanking works within one release only. Releases that can be linked" in text
    assert "joined on PERSON_ID) undo it" in text and "([disclosure] consistent_releases)" in text
    assert "releases that can be linked to it can undo that" in risk_verdict(risk)
    page = risk_to_html(risk)
    assert "<h2>Releases that can be linked</h2>" in page
    kept, _ = assess(*people_fixture(tmp_path, extra="enforce = true\nconsistent_releases = true"))
    assert "keeps a person's field blank in every later release from this installation" in "\n".join(risk_lines(kept))
    assert "stay blank in later releases from here" in risk_verdict(kept)


def test_records_suppressed_whole_can_be_left_out(tmp_path):
    """suppressed_records = "exclude": S goes missing instead of going blank; 13 rows of 14 leave."""
    extra = 'person = ""\nenforce = true\nmax_suppressed_share = 0.1\nsuppressed_records = "exclude"'
    profile, table, mapping = people_fixture(tmp_path, extra=extra)
    result = run(profile, table, mapping, KEY_A, tmp_path / "out", name="x")
    rows = parse_csv(extract_7z(result.output, result.passphrase, tmp_path / "x"))[1:]
    assert (result.rows_read, result.rows_written, len(rows)) == (14, 13, 13)
    assert result.report.records_suppressed == 1 and result.report.suppressed == {}  # left out, not blanked
    assert Counter(tuple(r[1:]) for r in rows) == Counter({P: 5, Q: 3, R: 5})
    import io

    from pseudodesk.cli.printing import print_result

    printed = io.StringIO()
    print_result(result, printed)
    assert "rows written: 13 (1 left out so nobody can be picked out)" in printed.getvalue()
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))["manifest"]["disclosure"]
    assert (manifest["records_suppressed"], manifest["suppressed_records"]) == (1, "exclude")
    with pytest.raises(ProfileError, match='must be "blank" or "exclude"'):
        people_fixture(tmp_path, extra='suppressed_records = "drop"')


# A person seen twice with different postcodes (moved, or mistyped): person 1 in P and in a
# class of their own under LN7 7AA.
TWICE = [(1, P)] * 3 + [(2, P)] * 2 + [(11, P)] + [(1, ("01/02/2010", "F", "LN7 7AA"))] + [(3, Q), (4, Q), (5, Q)]


def test_a_field_blanked_in_one_of_a_person_s_rows_is_blanked_in_all(tmp_path):
    """Person 1's LN7 7AA row is alone: its postcode is blanked, and it joins P's date of birth
    and sex with no postcode. Linked on PERSON_ID with person 1's P rows, it would say which
    postcode that blank hid; so person 1's postcode is blanked in all four rows. Then P's
    full-postcode class holds persons 2 and 11 only (3 rows): too small, blanked as well."""
    folder = tmp_path / "twice"
    folder.mkdir()
    path = folder / "people.csv"
    lines = [f"{nhs_number(n)},{d},{s},{p}\n" for n, (d, s, p) in TWICE]
    path.write_text("NHS No,DOB,Sex,Postcode\n" + "".join(lines), encoding="utf-8")
    profile = parse_profile(PROFILE.format(policy="blank", extra="enforce = true").encode())
    table = read_table(path)
    result = run(profile, table, suggest_mapping(profile, table.header), KEY_A, folder / "out", name="x")
    rows = parse_csv(extract_7z(result.output, result.passphrase, folder / "x"))[1:]
    by_person: dict[str, set[str]] = {}
    for person, _, _, postcode in rows:
        by_person.setdefault(person, set()).add(postcode)
    assert all(len(postcodes) == 1 for postcodes in by_person.values())  # nobody's blank is given away
    assert Counter(tuple(r[1:]) for r in rows) == Counter({("01/02/2010", "F", ""): 7, Q: 3})
    assert result.report.suppressed == {"POSTCODE": 7}


def test_the_consistent_plan_forces_until_nothing_changes():
    from pseudodesk.core.check.suppression import consistent_plan

    keys = [("2010", "LN1")] * 3 + [("2010", "LN2"), ("2010", "LN3")] + [("2011", "PE1")] * 2
    persons = ["a", "b", "c", "a", "f", "d", "e"]
    plan, forced = consistent_plan(keys, persons, 2, [1, 0])
    # a's LN2 row and f's LN3 row are alone: their postcodes go, making (2010, blank) of a and f.
    # a's postcode goes from a's LN1 row too; b and c are still two at LN1.
    assert forced == {"a": frozenset({1}), "f": frozenset({1})}
    assert plan.masks == {} and plan.left == 0  # over the forced keys nothing more is needed
    # Alone whatever is blanked, a person cannot be hidden: refused (left), with every field forced.
    plan, forced = consistent_plan(keys[:4] + keys[5:], persons[:4] + persons[5:], 2, [1, 0])
    assert forced == {"a": frozenset({0, 1})} and plan.left == 2
