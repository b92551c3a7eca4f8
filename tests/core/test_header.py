"""The header row: found below titles and blank rows, refused when it holds a person."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from pseudodesk.core.agreement.header import check_header, data_cells, find_header_row, value_kind
from pseudodesk.core.agreement.mapping import load_mapping
from pseudodesk.core.agreement.model import KeyRef
from pseudodesk.core.agreement.profile import load_profile
from pseudodesk.core.audit.listing import entry_summary
from pseudodesk.core.audit.log import read_entries
from pseudodesk.core.errors import HeaderIsData, NoHeader
from pseudodesk.core.keys.installation import AuditTrail
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.core.read.sample import first_rows
from pseudodesk.core.run.check import check
from tests.helpers import KEY_A, run

HEADER = "Client Ref,Forename,Date of Birth,Sex,Postcode,Ethnicity,NHS No"
PEOPLE = [
    "CL-1,Marcus,18/12/2008,Male,M59 5DA,17,999 552 2950",
    "CL-2,Damian,16/10/2018,m,N2 3HQ,1,999 249 9559",
    "CL-3,Ava,01/02/2001,F,LN1 1AA,3,943 476 5919",
    "CL-4,Noah,03/04/2005,M,PE21 6XX,5,450 557 7104",
]
FIRST_PERSON_TEXT = ["CL-1", "Marcus", "18/12/2008", "M59 5DA", "999 552 2950", "9995522950"]


@pytest.mark.parametrize(
    ("cell", "kind"),
    [
        ("999 552 2950", "an NHS number"),
        ("9995522950", "an NHS number"),
        ("18/12/2008", "a date"),
        ("2008-12-18", "a date"),
        ("M59 5DA", "a postcode"),
        ("jo@example.org", "an email address"),
        ("07911 123456", "a phone number"),
        ("NHS No", None),
        ("Date of Birth", None),
        ("Postcode", None),
        ("1234567890", None),  # ten digits with a wrong check digit name nothing
        ("31/02/2008", None),
    ],
)
def test_value_kinds(cell, kind):
    assert value_kind(cell) == kind


def _lines(*lines: str) -> str:
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize("above", [0, 1, 2, 5, 10])
def test_the_header_is_found_below_titles_and_blank_rows(tmp_path, demo_paths, above):
    profile = load_profile(demo_paths["profile"])
    titles = ["Lincolnshire referrals, November", "Extracted 01/11/2026 by the data team", "", "01/11/2026"]
    top = [titles[i % len(titles)] for i in range(above)]
    path = tmp_path / "extract.csv"
    path.write_text(_lines(*top, HEADER, *PEOPLE), encoding="utf-8")
    choice = find_header_row(first_rows(path), profile, path)
    assert choice.row == above + 1
    assert choice.names_known >= 5
    assert ("not read" in choice.reason) == (above > 0)
    table = read_table(path, header_row=choice.row)
    assert table.header[0] == "Client Ref" and table.row_count == len(PEOPLE)


def test_the_header_is_found_in_a_workbook_below_a_title(tmp_path, demo_paths):
    import xlsxwriter

    path = tmp_path / "extract.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("People")
    sheet.write_row(0, 0, ["Referrals to the Early Help team"])
    sheet.write_row(2, 0, HEADER.split(","))
    for i, person in enumerate(PEOPLE, start=3):
        sheet.write_row(i, 0, person.split(","))
    book.close()
    choice = find_header_row(first_rows(path), load_profile(demo_paths["profile"]), path)
    assert choice.row == 3


def test_a_file_without_a_row_of_column_names_is_refused(tmp_path, demo_paths):
    path = tmp_path / "headerless.csv"
    path.write_text(_lines(*PEOPLE), encoding="utf-8")
    with pytest.raises(NoHeader, match="none of the first 20 rows looks like a row of column names"):
        find_header_row(first_rows(path), load_profile(demo_paths["profile"]), path)


def test_names_the_agreement_does_not_know_are_found_by_the_shape_of_the_rows(tmp_path, demo_paths):
    path = tmp_path / "other.csv"
    path.write_text(_lines("Team list", "", "Ref,Worker,Area", "A1,Sam,North", "A2,Kim,South"), encoding="utf-8")
    choice = find_header_row(first_rows(path), load_profile(demo_paths["profile"]), path)
    assert choice.row == 3 and choice.names_known == 0


def test_a_header_row_holding_a_person_is_refused_by_position_and_kind(demo_paths):
    profile = load_profile(demo_paths["profile"])
    table = read_table(demo_paths["spreadsheet"], header_row=2)  # one too low: the first person
    with pytest.raises(HeaderIsData) as caught:
        check_header(profile, table)
    error = caught.value
    assert error.row == 2
    assert (11, "an NHS number") in error.cells and (8, "a date") in error.cells
    recorded = json.dumps(error.facts())
    for header_cell in table.header:
        if len(header_cell.strip()) >= 5:  # shorter ones ("17") may match digits of the message
            assert header_cell not in str(error) and header_cell not in recorded


def test_a_headerless_csv_is_refused_at_the_check_and_the_export(tmp_path, demo_paths):
    path = tmp_path / "headerless.csv"
    path.write_text(_lines(*PEOPLE), encoding="utf-8")
    profile = replace(load_profile(demo_paths["profile"]), key=KeyRef())
    table = read_table(path)
    mapping = load_mapping(demo_paths["mapping"])
    with pytest.raises(HeaderIsData):
        check(profile, table, mapping)
    with pytest.raises(HeaderIsData):
        run(profile, table, mapping, KEY_A, tmp_path / "out", allow_demo_recipient=True, accept_expired=True)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_refused_header_leaves_no_cell_text_in_the_audit_log(tmp_path, demo_paths, private_data_dir, memory_keyring):
    profile = replace(load_profile(demo_paths["profile"]), key=KeyRef())
    table = read_table(demo_paths["spreadsheet"], header_row=2)
    trail = AuditTrail(KeyStore())
    with pytest.raises(HeaderIsData):
        run(
            profile,
            table,
            load_mapping(demo_paths["mapping"]),
            KEY_A,
            tmp_path / "out",
            audit=trail,
            allow_demo_recipient=True,
            accept_expired=True,
        )
    entries = [e for _, e, _ in read_entries(trail.path) if e]
    failed = [e for e in entries if e["event"] == "export.failed"]
    assert len(failed) == 1
    assert failed[0]["details"]["error"] == "HeaderIsData" and failed[0]["details"]["row"] == 2
    summary = entry_summary(failed[0])  # what the audit window, report and CSV show
    assert "header row 2 held a person's data" in summary and "column 11 an NHS number" in summary
    log = trail.path.read_text(encoding="utf-8")
    for text in [*FIRST_PERSON_TEXT[:1], *table.header]:
        if len(text.strip()) >= 5:  # shorter cells ("17", "Male") match times and words by chance
            assert text not in log


def test_a_header_of_names_passes(demo_paths):
    profile = load_profile(demo_paths["profile"])
    assert data_cells(read_table(demo_paths["spreadsheet"]).header, profile) == []
