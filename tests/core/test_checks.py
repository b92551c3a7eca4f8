"""The check step: a messy real-world workbook, row policies, identifier scan, suggestions, packs, reports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from pseudodesk.core.agreement.mapping import suggest_mapping
from pseudodesk.core.agreement.profile import parse_profile
from pseudodesk.core.agreement.suggest import suggest_columns, suggest_for_table
from pseudodesk.core.errors import ChecksBlockExport, ProfileError
from pseudodesk.core.package.reports import LOCAL_ONLY, report_to_csv, report_to_html
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.core.run.check import check
from pseudodesk.core.transform.pseudonym import ProjectKey, pseudonym
from tests.helpers import run

KEY = ProjectKey("t", bytes(range(32)))
TODAY = dt.date(2026, 11, 21)

MESSY_PROFILE = """
format = "pseudodesk-profile/1"
packs = ["lcp-scorecard"]
[agreement]
name = "Messy"
version = "1"
[recipient]
mode = "passphrase"
[[source_fields]]
id = "nhs_number"
convention = "nhs_number"
[[source_fields]]
id = "dob"
label = "Date of birth"
convention = "lcp_dob"
aliases = ["D.O.B."]
[[source_fields]]
id = "referral"
label = "Referral date"
convention = "date"
[[source_fields]]
id = "gender"
convention = "lcp_gender"
options = { coded = "iso5218" }
aliases = ["Sex"]
[[source_fields]]
id = "postcode"
convention = "lcp_postcode"
aliases = ["Post Code"]
[[source_fields]]
id = "ethnicity"
convention = "lcp_ethnicity"
aliases = ["Ethnic Origin"]
[[output_fields]]
name = "PERSON_ID"
role = "pseudonym"
from = "nhs_number"
[[output_fields]]
name = "DOB"
role = "keep"
from = "dob"
[[output_fields]]
name = "REFERRAL"
role = "keep"
from = "referral"
[[output_fields]]
name = "GENDER"
role = "keep"
from = "gender"
[[output_fields]]
name = "POST CODE"
role = "keep"
from = "postcode"
[[output_fields]]
name = "ETHNICITY"
role = "keep"
from = "ethnicity"
"""

# (NHS number cell, DOB cell, referral (US order), sex, postcode, ethnicity) -> expected output
MESSY_ROWS = [
    ("943 476 5919", "29/11/1973", "11/29/2019", "male", "sw1a2aa", "White British"),
    ("450-557-7104", dt.datetime(2001, 1, 13), "1/13/2020", "F", "m11ae", "WBRI"),
    (9434765919, 25535, "12/31/2019", "1", " cr2 6xh ", "A"),
    (
        "4505577104",
        "1973-11-29",
        "03/04/2021",
        "2",
        "DN551PT",
        "White: English, Welsh, Scottish, Northern Irish or British",
    ),
    ("9434765919", "29.11.1973", "2021-04-03", "Female", "b33 8th", "wenG"),
    ("943 476 5919", "29-Nov-1973", "04/03/2021", "M", "EC1A 1BB", "Black African"),
    ("450 557 7104", "05/03/79", "12/25/2020", "girl", "w1a0ax", "WOTH"),
]
MESSY_EXPECTED = [
    ["9434765919", "29/11/1973", "29/11/2019", "M", "SW1A 2AA", "1"],
    ["4505577104", "13/01/2001", "13/01/2020", "F", "M1 1AE", "1"],
    ["9434765919", "29/11/1973", "31/12/2019", "M", "CR2 6XH", "1"],
    ["4505577104", "29/11/1973", "04/03/2021", "F", "DN55 1PT", "1"],
    ["9434765919", "29/11/1973", "03/04/2021", "F", "B33 8TH", "1"],
    ["9434765919", "29/11/1973", "03/04/2021", "M", "EC1A 1BB", "15"],
    ["4505577104", "05/03/1979", "25/12/2020", "F", "W1A 0AX", "5"],
]


def write_messy_workbook(path: Path) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"date_1904": True})
    ws = wb.add_worksheet("Extract")
    ws.write_row(0, 0, ["Forename", "NHS No", "D.O.B.", "Referral Date", "Sex", "Post Code", "Ethnic Origin", "Notes"])
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    for r, row in enumerate(MESSY_ROWS, start=1):
        ws.write_string(r, 0, f"Person{r}")
        for c, value in enumerate(row, start=1):
            if isinstance(value, dt.datetime):
                ws.write_datetime(r, c, value, date_fmt)
            elif isinstance(value, int):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, value)
        ws.write_string(r, 7, "seen at clinic")
    wb.close()


@pytest.fixture
def messy(tmp_path):
    path = tmp_path / "messy.xlsx"
    write_messy_workbook(path)
    profile = parse_profile(MESSY_PROFILE.encode())
    table = read_table(path)
    mapping = suggest_mapping(profile, table.header, table.preview(100))
    return profile, table, mapping


def read_7z(result) -> list[list[str]]:
    import tempfile

    import py7zr

    with tempfile.TemporaryDirectory() as tmp, py7zr.SevenZipFile(result.output, "r", password=result.passphrase) as z:
        z.extractall(path=tmp)
        (member,) = Path(tmp).iterdir()
        return list(csv.reader(io.StringIO(member.read_bytes().decode(), newline="")))


def test_messy_workbook_comes_out_fully_normalised(tmp_path, messy):
    profile, table, mapping = messy
    assert table.date_system == 1904
    assert mapping.columns == {
        "nhs_number": "NHS No",
        "dob": "D.O.B.",
        "referral": "Referral Date",
        "gender": "Sex",
        "postcode": "Post Code",
        "ethnicity": "Ethnic Origin",
    }
    result = run(profile, table, mapping, KEY, tmp_path / "out")
    rows = read_7z(result)
    assert rows[0] == ["PERSON_ID", "DOB", "REFERRAL", "GENDER", "POST CODE", "ETHNICITY"]
    assert [[pseudonym(KEY, "PERSON_ID", [e[0]])] + e[1:] for e in MESSY_EXPECTED] == rows[1:]
    report = result.report
    assert report.invalid_values == 0 and report.rejects == [] and report.findings == []
    # every assumption is reported
    decisions = {k: f.decision for k, f in report.fields.items()}
    assert decisions["dob"].startswith("read day first")
    assert "1904 date system" in decisions["dob"] and "two-digit birth year" in decisions["dob"]
    assert decisions["referral"].startswith("read month first")
    assert "numbers read as ISO/IEC 5218 codes (0, 1, 2, 9)" in decisions["gender"]
    notices = {(n.field_id, n.line): n.reason for f in report.fields.values() for n in f.notices}
    assert "Excel serial 25535 (1904 date system)" in notices[("dob", 4)]
    assert report.fields["postcode"].counts["normalised"] == 6


def test_invalid_values_blank_policy_lists_rejects(tmp_path):
    profile, table, mapping = _small(tmp_path, "blank", ["9434765919,29/11/1973", "123,31/02/2001", "4505577104,"])
    result = run(profile, table, mapping, KEY, tmp_path / "o")
    assert len(read_7z(result)) == 4  # header + every row
    assert [(r.line, r.action, r.fields) for r in result.report.rejects] == [(3, "blanked", ("nhs_number", "dob"))]
    problems = [(p.line, p.field_id, p.raw, p.action) for f in result.report.fields.values() for p in f.problems]
    assert (3, "dob", "31/02/2001", "value blanked, row kept") in problems


def test_exclude_policy_leaves_rows_out_and_lists_them(tmp_path):
    profile, table, mapping = _small(tmp_path, "exclude", ["9434765919,29/11/1973", "123,01/01/2001", "4505577104,"])
    result = run(profile, table, mapping, KEY, tmp_path / "o")
    rows = read_7z(result)
    assert len(rows) == 3 and result.rows_written == 2 and result.rows_read == 3
    assert [(r.line, r.action) for r in result.report.rejects] == [(3, "excluded")]


@pytest.mark.parametrize("policy", ["blank", "exclude"])
def test_rows_changed_by_the_policy_are_all_counted_and_the_first_listed(tmp_path, monkeypatch, policy):
    """A file whose every row is invalid (a mis-mapped column, say) must not grow the report
    with the file: past MAX_LISTED rows the policy's changes are counted, not listed."""
    import json

    from pseudodesk.core.package.reports import report_to_html
    from pseudodesk.core.run import plan

    monkeypatch.setattr(plan, "MAX_LISTED", 2)
    lines = ["9434765919,29/11/1973"] + [f"123,0{d}/01/2001" for d in range(1, 6)]
    profile, table, mapping = _small(tmp_path, policy, lines)
    result = run(profile, table, mapping, KEY, tmp_path / "o", batch_size=2)  # the cap holds across batches
    report = result.report
    word = "blanked" if policy == "blank" else "excluded"
    assert [(r.line, r.action) for r in report.rejects] == [(3, word), (4, word)]
    assert (report.rows_blanked, report.rows_excluded) == ((5, 0) if policy == "blank" else (0, 5))
    assert result.rows_written == (6 if policy == "blank" else 1)
    checks = json.loads(result.manifest.read_text())["manifest"]["checks"]
    assert (checks["rows_blanked"], checks["rows_excluded"]) == (report.rows_blanked, report.rows_excluded)
    assert "Rows changed by the policy (5; the first 2 listed)" in report_to_html(report, title="t")


def test_block_policy_refuses_and_writes_nothing(tmp_path):
    profile, table, mapping = _small(tmp_path, "block", ["9434765919,29/11/1973", "123,01/01/2001"])
    with pytest.raises(ChecksBlockExport, match="policy is 'block' .*row 3, column 'NHS'"):
        run(profile, table, mapping, KEY, tmp_path / "o")
    assert not (tmp_path / "o").exists() or list((tmp_path / "o").iterdir()) == []
    report = check(profile, table, mapping)
    assert report.blocking_reasons() and report.rejects == []


def _small(tmp_path, policy, lines, extra_fields=""):
    text = f"""
format = "pseudodesk-profile/1"
[agreement]
name = "Small"
version = "1"
[recipient]
mode = "passphrase"
[checks]
on_invalid = "{policy}"
max_invalid_share = 1.0  # small files with problems on purpose: the policy decides
[[source_fields]]
id = "nhs_number"
convention = "nhs_number"
aliases = ["NHS"]
[[source_fields]]
id = "dob"
convention = "dob"
required = false
aliases = ["DOB"]
[[output_fields]]
name = "ID"
role = "pseudonym"
from = "nhs_number"
[[output_fields]]
name = "DOB"
role = "keep"
from = "dob"
{extra_fields}"""
    profile = parse_profile(text.encode())
    path = tmp_path / "small.csv"
    path.write_text("NHS,DOB\n" + "\n".join(lines) + "\n")
    table = read_table(path)
    return profile, table, suggest_mapping(profile, table.header)


NOTES_PROFILE = """
format = "pseudodesk-profile/1"
[agreement]
name = "Notes"
version = "1"
[recipient]
mode = "passphrase"
[[source_fields]]
id = "nhs_number"
convention = "nhs_number"
aliases = ["NHS"]
[[source_fields]]
id = "notes"
convention = "text"
aliases = ["Notes"]
[[output_fields]]
name = "ID"
role = "pseudonym"
from = "nhs_number"
[[output_fields]]
name = "NOTES"
role = "keep"
from = "notes"
"""


def _notes(tmp_path, notes, allow=None):
    text = NOTES_PROFILE + (f"allow_identifiers = {allow}\n" if allow else "")
    profile = parse_profile(text.encode())
    path = tmp_path / "notes.csv"
    body = "".join(f'{first},9434765919,"{n}"\n' for first, n in notes)
    path.write_text("Forename,NHS,Notes\n" + body)
    table = read_table(path)
    return profile, table, suggest_mapping(profile, table.header)


def test_identifier_in_a_kept_column_blocks_with_row_and_column(tmp_path):
    profile, table, mapping = _notes(
        tmp_path,
        [
            ("Ann", "fine"),
            ("Bob", "email jo@example.org please"),
            ("Cat", "old NHS no 450 557 7104"),
            ("Dan", "no problems"),
        ],
    )
    with pytest.raises(ChecksBlockExport) as info:
        run(profile, table, mapping, KEY, tmp_path / "o")
    message = str(info.value)
    assert "row 3, column 'NOTES': email" in message and "row 4, column 'NOTES': nhs number" in message
    assert not (tmp_path / "o").exists() or list((tmp_path / "o").iterdir()) == []


def test_identifiers_found_are_all_counted_and_the_first_listed(tmp_path, monkeypatch):
    from pseudodesk.core.package.reports import report_to_html
    from pseudodesk.core.run import plan

    monkeypatch.setattr(plan, "MAX_LISTED", 3)
    profile, table, mapping = _notes(tmp_path, [(f"P{i}", f"mail x{i}@example.org") for i in range(7)])
    report = check(profile, table, mapping)
    assert [f.line for f in report.findings] == [2, 3, 4] and report.identifiers_found == 7
    assert report.blocking_reasons()[0].startswith("7 identifier(s) found in kept columns (row 2, ")
    assert " and 2 more" in report.blocking_reasons()[0]
    assert "Identifiers in kept columns (7; the first 3 listed)" in report_to_html(report, title="t")


@pytest.mark.parametrize(
    ("note", "kind"),
    [
        ("call 07911 123456", "uk_phone"),
        ("lives at LN1 1YL now", "postcode"),
        ("pupil B801200005001", "upn"),
        ("learner 9276308686", "uln"),
        ("Ann came with her mum", "person_name"),
        ("+44 (0)1522 552222", "uk_phone"),
    ],
)
def test_each_identifier_kind_is_found(tmp_path, note, kind):
    profile, table, mapping = _notes(tmp_path, [("Ann", note)])
    assert [f.kind for f in check(profile, table, mapping).findings] == [kind]


@pytest.mark.parametrize(
    "note", ["ten digits 1234567890 fail the check", "seen 29/11/1973", "code AB12 3", "Annual review", "Bob's dog"]
)
def test_lookalikes_are_not_findings(tmp_path, note):
    profile, table, mapping = _notes(tmp_path, [("Ann", note)])
    assert check(profile, table, mapping).findings == []


def test_profile_may_allow_an_identifier_kind(tmp_path):
    profile, table, mapping = _notes(tmp_path, [("Ann", "jo@example.org"), ("Bob", "450 557 7104")], '["email"]')
    report = check(profile, table, mapping)
    assert [(f.line, f.kind) for f in report.findings] == [(3, "nhs_number")]


def test_scan_can_be_switched_off_by_the_profile(tmp_path):
    profile, table, mapping = _notes(tmp_path, [("Ann", "jo@example.org")])
    from dataclasses import replace

    from pseudodesk.core.agreement.model import Checks

    quiet = replace(profile, checks=Checks(scan_identifiers=False))
    assert check(quiet, table, mapping).findings == []


def test_suggestions_from_values_whatever_the_header(tmp_path):
    profile = parse_profile(MESSY_PROFILE.encode())
    header = ("Ref", "Col B", "When", "Code")
    sample = [["943 476 5919", "SW1A 2AA", "29/11/1973", "1"], ["4505577104", "m1 1ae", "1973-11-29", "2"]] * 5
    s = {x.column: x for x in suggest_columns(profile, header, sample)}
    assert (s["Ref"].field_id, s["Ref"].convention) == ("nhs_number", "nhs_number")
    assert s["Ref"].confidence >= 0.95 and "100% of sampled values are valid nhs_number" in s["Ref"].reason
    assert s["Col B"].field_id == "postcode"
    assert s["When"].field_id == "dob"
    assert s["Code"].field_id is None  # bare 1/2 are not evidence of gender or ethnicity


def test_suggestions_from_headers(tmp_path, messy):
    profile, table, _ = messy
    s = {x.column: x for x in suggest_for_table(profile, table)}
    assert s["D.O.B."].field_id == "dob" and s["D.O.B."].confidence >= 0.95
    assert s["Forename"].convention == "person_name" and s["Forename"].field_id is None
    assert s["Notes"].field_id is None and s["Notes"].confidence == 0.0


def test_pack_is_data_not_code(tmp_path):
    (tmp_path / "pack.toml").write_text(
        'pack_format = "pseudodesk-pack/1"\nname = "iso"\n'
        '[conventions.iso_date]\nbase = "date"\noptions = { output = "YYYY-MM-DD" }\n'
    )
    text = MESSY_PROFILE.replace('packs = ["lcp-scorecard"]', 'packs = ["lcp-scorecard", "pack.toml"]')
    text = text.replace('convention = "date"', 'convention = "iso_date"')
    (tmp_path / "p.toml").write_text(text)
    from pseudodesk.core.agreement.profile import load_profile

    profile = load_profile(tmp_path / "p.toml")
    rule = profile.source_field("referral").rule()
    rule.observe("11/29/2019")
    assert rule.check("11/29/2019").value == "2019-11-29"


def test_bad_packs_name_the_problem(tmp_path):
    (tmp_path / "bad.toml").write_text(
        'pack_format = "pseudodesk-pack/1"\n[conventions.x]\nbase = "date"\noptions = { output = "MM/DD/YYYY" }\n'
    )
    text = MESSY_PROFILE.replace('packs = ["lcp-scorecard"]', 'packs = ["bad.toml"]')
    with pytest.raises(ProfileError, match=r"at 'packs\[0\]'.*option 'output' must be one of"):
        parse_profile(text.encode(), base_dir=tmp_path)
    with pytest.raises(ProfileError, match="pack 'nope' not found"):
        parse_profile(MESSY_PROFILE.replace("lcp-scorecard", "nope").encode())
    with pytest.raises(ProfileError, match=r"source_fields\[3\].options.*'colour' is not an option"):
        parse_profile(MESSY_PROFILE.replace('coded = "iso5218"', 'colour = "red"').encode())


def test_reports_as_csv_and_html(tmp_path):
    profile, table, mapping = _small(
        tmp_path, "blank", ["9434765919,<b>29/11/1973</b>", "=cmd|'/c calc',01/02/2003", "9990000018,13/01/2001"]
    )
    report = check(profile, table, mapping)
    text = report_to_csv(report)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["# " + LOCAL_ONLY]
    assert rows[1] == ["row", "column", "field", "kind", "raw value", "reason", "action"]
    assert [
        "2",
        "DOB",
        "dob",
        "invalid",
        "<b>29/11/1973</b>",
        "not a date in any accepted form",
        "value blanked, row kept",
    ] in rows
    assert any(len(r) > 4 and r[4] == "'=cmd|'/c calc'" for r in rows)  # formula neutralised in the local CSV too
    assert any(len(r) > 5 and r[3] == "assumption" and "test" in r[5] for r in rows)  # the 999 test-range NHS number
    page = report_to_html(report, "Check")
    assert "&lt;b&gt;29/11/1973&lt;/b&gt;" in page and "<b>29/11" not in page
    assert "day first" in page and LOCAL_ONLY in page


def test_identical_problems_are_grouped_with_their_count_and_first_rows(tmp_path):
    """One line per column and reason (count, first five rows), in the order the first row comes."""
    from pseudodesk.core.check.report import grouped_problems

    lines = ["9434765919,29/11/1973"] + [f"123,0{d}/01/2001" for d in range(1, 8)] + ["9434765919,31/02/2001"]
    profile, table, mapping = _small(tmp_path, "blank", lines)
    groups = grouped_problems(check(profile, table, mapping))
    nhs = next(g for g in groups if g.field_id == "nhs_number")
    assert nhs.count == 7 and nhs.lines == (3, 4, 5, 6, 7) and nhs.examples == ("123",)
    assert [g.lines[0] for g in groups] == sorted(g.lines[0] for g in groups)
    assert sum(g.count for g in groups) == check(profile, table, mapping).invalid_values
