"""Profiles made without editing TOML: drafts, their checks, the file they become (no Qt)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from pathlib import Path

import pytest

from pseudodesk.core.agreement.authoring import (
    DraftField,
    DraftSource,
    ProfileDraft,
    convention_choices,
    convention_label,
    draft_from_columns,
    draft_from_profile,
    field_id_from_label,
    option_choice_label,
    output_option,
)
from pseudodesk.core.agreement.mapping import suggest_mapping
from pseudodesk.core.agreement.profile import load_profile, parse_profile
from pseudodesk.core.agreement.profile_text import profile_toml, write_profile
from pseudodesk.core.agreement.validate import draft_warnings, validate_draft
from pseudodesk.core.conventions import CONVENTIONS
from pseudodesk.core.errors import OutputExists, ProfileError
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.core.transform.pseudonym import ProjectKey, pseudonym
from tests.helpers import run

KEY = ProjectKey("pilot", bytes(range(32)))


def pilot_draft(**changes: object) -> ProfileDraft:
    nhs = DraftSource("NHS number", "nhs_number", ["NHS No"])
    dob = DraftSource("Date of birth", "dob", ["D.O.B."], {"output": "YYYY-MM-DD"})
    draft = ProfileDraft(
        name="Essex pilot extract",
        version="1 (pilot)",
        parties=["Essex County Council", "Essex Police"],
        review_date=dt.date(2099, 3, 31),
        description="A single extract from each agency for the pilot.",
        on_invalid="exclude",
        scan_identifiers=False,
        key_fingerprint="7f3a 91c2 5b0e 11d4",
        fields=[
            DraftField("PERSON_ID", "pseudonym", [nhs, dob]),  # one pseudonym over two sources
            DraftField("DOB", "keep", [dob]),  # the same source kept as well
            DraftField("SEX", "keep", [DraftSource("Gender", "gender", ["Sex"], {"target": "MFU"})]),
            DraftField("AREA", "keep", [DraftSource("Postcode", "postcode", [], {"output": "district"})]),
            DraftField("NOTES", "keep", [DraftSource("Notes", "text")], include=False),  # stripped
        ],
    )
    for name, value in changes.items():
        setattr(draft, name, value)
    return draft


def test_a_draft_round_trips_through_the_file(tmp_path):
    path = tmp_path / "pilot.toml"
    profile = write_profile(pilot_draft(), path)
    assert profile == load_profile(path)
    assert profile.name == "Essex pilot extract" and profile.version == "1 (pilot)"
    assert profile.parties == ("Essex County Council", "Essex Police")
    assert profile.review_date == dt.date(2099, 3, 31)
    assert profile.key.fingerprint == "7F3A-91C2-5B0E-11D4"
    assert profile.recipient.mode == "passphrase" and profile.recipient.certificates == ()
    assert (profile.checks.on_invalid, profile.checks.scan_identifiers) == ("exclude", False)
    assert [(o.name, o.role, o.sources) for o in profile.output_fields] == [
        ("PERSON_ID", "pseudonym", ("nhs_number", "date_of_birth")),
        ("DOB", "keep", ("date_of_birth",)),
        ("SEX", "keep", ("gender",)),
        ("AREA", "keep", ("postcode",)),
    ]  # NOTES was not included: it is stripped, not declared
    assert [(s.id, s.label, s.convention, s.aliases) for s in profile.source_fields] == [
        ("nhs_number", "NHS number", "nhs_number", ("NHS No",)),
        ("date_of_birth", "Date of birth", "dob", ("D.O.B.",)),
        ("gender", "Gender", "gender", ("Sex",)),
        ("postcode", "Postcode", "postcode", ()),
    ]
    assert profile.source_field("date_of_birth").options == {"output": "YYYY-MM-DD"}
    assert profile.source_field("postcode").rule().check("SW1A 2AA").value == "SW1A"  # generalised
    assert profile.source_field("gender").rule().check("unknown").value == "U"
    # every written field has a description for the IG lead and the recipient
    assert profile.output_fields[0].description.startswith("Pseudonym of NHS number + Date of birth")
    assert profile.output_fields[1].description == "Date of birth: YYYY-MM-DD."


def test_the_file_says_where_it_came_from_and_is_stable(tmp_path):
    text = profile_toml(pilot_draft())
    assert text.startswith("# Agreement profile: Essex pilot extract.\n# Made in the pseudodesk window")
    assert "[[source_fields]]" in text and "[[output_fields]]" in text
    assert 'options = { output = "district" }' in text
    assert text == profile_toml(pilot_draft())  # same draft, same bytes, same SHA-256
    assert parse_profile(text.encode()).name == "Essex pilot extract"


def test_reading_a_written_profile_back_into_a_draft_writes_the_same_bytes(tmp_path):
    path = tmp_path / "pilot.toml"
    write_profile(pilot_draft(), path)
    again = draft_from_profile(load_profile(path))
    assert [f.name for f in again.fields] == ["PERSON_ID", "DOB", "SEX", "AREA"]
    assert again.fields[0].sources[1] is again.fields[1].sources[0]  # one source, two outputs
    assert profile_toml(again, path) == path.read_text(encoding="utf-8")


def test_profiles_the_window_cannot_hold_are_refused_when_read_back(demo_paths):
    with pytest.raises(ProfileError, match="convention packs"):
        draft_from_profile(load_profile(demo_paths["profile"]))


@pytest.mark.parametrize(
    ("change", "where", "problem"),
    [
        (lambda d: setattr(d, "name", "  "), "agreement name", "is empty"),
        (lambda d: setattr(d, "version", ""), "agreement version", "is empty"),
        (lambda d: setattr(d.fields[2], "name", "dob"), "output field 3 (dob)", "also used by output field 2"),
        (lambda d: setattr(d.fields[1], "name", ""), "output field 2", "needs an output name"),
        (lambda d: [setattr(f, "include", False) for f in d.fields], "output fields", "no field is included"),
        (
            lambda d: setattr(d.fields[2].source, "convention", "shoe_size"),
            "output field 3 (SEX)",
            "unknown convention 'shoe_size'",
        ),
        (
            lambda d: setattr(d.fields[3].source, "options", {"output": "street"}),
            "output field 4 (AREA)",
            "option 'output' must be one of full, sector, district, area",
        ),
        (
            lambda d: setattr(d.fields[2].source, "options", {"colour": "red"}),
            "output field 3 (SEX)",
            "'colour' is not an option of the gender convention",
        ),
        (
            lambda d: setattr(d.fields[1], "sources", d.fields[0].sources),
            "output field 2 (DOB)",
            "a kept field takes exactly one source field",
        ),
        (lambda d: setattr(d.fields[2], "role", "publish"), "output field 3 (SEX)", "role must be pseudonym or keep"),
        (lambda d: setattr(d.fields[2].source, "id", "2nd"), "output field 3 (SEX)", "letters, digits"),
        (
            lambda d: setattr(d.fields[2].source, "label", "Postcode"),
            "output field 4 (AREA)",
            "would both get the id 'postcode' but differ",
        ),
        (lambda d: setattr(d, "on_invalid", "ignore"), "on invalid values", "must be one of blank, exclude, block"),
        (lambda d: setattr(d, "key_fingerprint", "123"), "key fingerprint", "must look like"),
        (lambda d: setattr(d, "recipient_mode", "certificate"), "recipient certificate", "choose the recipient's"),
        (
            lambda d: (setattr(d, "recipient_mode", "certificate"), setattr(d, "certificates", [Path("nope.crt")])),
            "recipient certificate",
            "nope.crt does not exist",
        ),
        (lambda d: setattr(d, "parties", ["Essex Police", "line\nbreak"]), "party 2", "must be one line"),
    ],
)
def test_unsound_drafts_are_refused_before_anything_is_written(tmp_path, change, where, problem):
    draft = pilot_draft()
    change(draft)
    path = tmp_path / "pilot.toml"
    with pytest.raises(ProfileError) as caught:
        write_profile(draft, path)
    assert caught.value.where == where
    assert problem in caught.value.problem
    assert str(caught.value).startswith("Agreement profile pilot.toml at ")
    assert not path.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(ProfileError):
        validate_draft(draft)


def test_a_not_included_field_is_not_checked():
    draft = pilot_draft()
    draft.fields[4].source.convention = "shoe_size"  # NOTES is left out, so it cannot break the profile
    validate_draft(draft)


def test_certificate_paths_are_written_relative_to_the_profile(tmp_path, demo_paths):
    certs = tmp_path / "certs"
    certs.mkdir()
    cert = certs / "recipient.crt"
    cert.write_bytes(demo_paths["certificate"].read_bytes())
    path = tmp_path / "profiles" / "pilot" / "pilot.toml"
    draft = pilot_draft(recipient_mode="certificate", certificates=[cert])
    profile = write_profile(draft, path)
    assert 'certificates = ["../../certs/recipient.crt"]' in path.read_text(encoding="utf-8")
    (loaded,) = profile.recipient.certificates
    assert loaded.resolve() == cert.resolve()
    # and the profile still finds it after the folder holding both moves
    moved = tmp_path.rename(tmp_path.with_name(tmp_path.name + "-moved"))
    (again,) = load_profile(moved / "profiles" / "pilot" / "pilot.toml").recipient.certificates
    assert again.resolve() == (moved / "certs" / "recipient.crt").resolve()


def test_an_existing_file_is_replaced_only_when_asked(tmp_path):
    path = tmp_path / "pilot.toml"
    path.write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputExists):
        write_profile(pilot_draft(), path)
    assert path.read_text(encoding="utf-8") == "keep me"
    assert write_profile(pilot_draft(), path, overwrite=True).name == "Essex pilot extract"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Date of Birth", "date_of_birth"),
        ("NHS No.", "nhs_no"),
        ("  Post-Code ", "post_code"),
        ("1st contact", "field_1st_contact"),
        ("Ethnicité", "ethnicite"),
        ("%%", "field"),
        ("", "field"),
        ("_private", "private"),
    ],
)
def test_source_field_ids_are_identifiers_made_from_labels(label, expected):
    assert field_id_from_label(label) == expected


COLUMNS = ("Ref Number", "Forename", "D.O.B.", "Gender Code", "Post Code", "Notes", "Start Date", "Visit Date")
NHS = ["9434765919", "4505577104", "9990000018", "9999999999", "9434765870", "4010232137"]


def sample_rows() -> list[list[str]]:
    rows = []
    for i, nhs in enumerate(NHS):
        rows.append(
            [
                nhs if nhs != "9999999999" else "943 476 5919",
                f"Person{i}",
                f"0{i + 1}/02/2010",
                "F" if i % 2 else "M",
                "SW1A 2AA",
                "called mum",
                "01/01/2024",
                "02/02/2024",
            ]
        )
    return rows


def test_columns_are_proposed_from_their_values_and_headers():
    draft = draft_from_columns(COLUMNS, sample_rows(), today=dt.date(2024, 2, 29))
    by_column = {f.column: f for f in draft.fields}
    person = by_column["Ref Number"]  # recognised from its values, whatever its header
    assert (person.include, person.role, person.name, person.source.convention) == (
        True,
        "pseudonym",
        "PERSON_ID",
        "nhs_number",
    )
    assert (person.source.label, person.source.field_id, person.source.aliases) == (
        "NHS number",
        "nhs_number",
        ["Ref Number"],
    )
    dob = by_column["D.O.B."]
    assert (dob.include, dob.role, dob.name, dob.source.convention) == (True, "keep", "DOB", "dob")
    assert (by_column["Gender Code"].role, by_column["Gender Code"].source.convention) == ("keep", "gender")
    assert by_column["Post Code"].source.convention == "postcode" and by_column["Post Code"].include
    # direct identifiers and unrecognised columns are proposed but left out (stripped)
    assert not by_column["Forename"].include and by_column["Forename"].source.convention == "person_name"
    assert by_column["Forename"].role == "pseudonym"  # if ticked, a name still does not leave as written ...
    assert by_column["Forename"].source.options == {"output": "match_key"}  # ... and "O'Brien" links with "OBRIEN"
    assert not by_column["Notes"].include and by_column["Notes"].source.convention == "text"
    # other dates are dates, not dates of birth, whether the header is a known one or not;
    # each is labelled by its own header, with an output name made from it
    assert [
        (by_column[c].name, by_column[c].source.label, by_column[c].source.convention)
        for c in ("Start Date", "Visit Date")
    ] == [("START_DATE", "Start Date", "date"), ("VISIT_DATE", "Visit Date", "date")]
    assert by_column["Ref Number"].samples == ["9434765919", "4505577104", "9990000018"]
    # the export's usual order: pseudonyms, kept fields, then what is left out
    assert [f.column for f in draft.fields] == [
        "Ref Number",
        "D.O.B.",
        "Gender Code",
        "Post Code",
        "Start Date",
        "Visit Date",
        "Forename",
        "Notes",
    ]
    assert draft.review_date == dt.date(2025, 2, 28)  # a year on (no 29 February in 2025)
    assert draft.recipient_mode == "passphrase" and draft.name == ""


def test_proposed_ids_and_names_never_clash():
    header = ("Notes", "notes", "NOTES!", "Date of birth", "DOB")
    draft = draft_from_columns(header, [["a", "b", "c", "01/02/2003", "04/05/2006"]] * 6)
    ids = [f.source.field_id for f in draft.fields]
    names = [f.name.casefold() for f in draft.fields]
    assert len(set(ids)) == len(ids) == 5 and len(set(names)) == 5
    assert all(i[0].isalpha() and i.replace("_", "").isalnum() for i in ids)
    for f in draft.fields:  # every proposal, once ticked, makes a valid profile
        f.include = True
    draft.name = "Everything"
    profile = parse_profile(profile_toml(draft).encode())
    assert len(profile.output_fields) == 5


def test_a_proposed_draft_runs_end_to_end(tmp_path, demo_paths):
    table = read_table(demo_paths["spreadsheet"])
    draft = draft_from_columns(table.header, table.preview(200))
    draft.name = "Pilot from the demo spreadsheet"
    profile = write_profile(draft, tmp_path / "pilot.toml")
    mapping = suggest_mapping(profile, table.header, table.preview(200))
    assert mapping.columns == {
        "nhs_number": "NHS No",
        "postcode": "Postcode",
        "date_of_birth": "Date of Birth",
        "gender": "Sex",
        "ethnicity": "Ethnicity",
    }
    result = run(profile, table, mapping, KEY, tmp_path / "out")
    assert result.method == "7z" and result.rows_written == 600
    rows = read_7z(result.output, result.passphrase)
    assert rows[0] == ["PERSON_ID", "POSTCODE", "DOB", "GENDER", "ETHNICITY"]
    first = table.preview(1)[0]
    nhs = "".join(ch for ch in first[table.header.index("NHS No")] if ch.isdigit())
    assert rows[1][0] == pseudonym(KEY, "PERSON_ID", [nhs])
    assert "Marcus" not in {c for row in rows for c in row}  # the forename was stripped


def read_7z(path: Path, passphrase: str | None) -> list[list[str]]:
    import py7zr

    with tempfile.TemporaryDirectory() as tmp, py7zr.SevenZipFile(path, "r", password=passphrase) as archive:
        archive.extractall(path=tmp)
        (member,) = Path(tmp).iterdir()
        return list(csv.reader(io.StringIO(member.read_bytes().decode("utf-8"), newline="")))


def test_warnings_point_at_identifiers_sent_as_they_are(demo_paths):
    draft = pilot_draft()
    assert draft_warnings(draft) == []
    draft.fields[0].role = "keep"
    draft.fields[0].sources = draft.fields[0].sources[:1]
    draft.recipient_mode, draft.certificates = "certificate", [demo_paths["certificate"]]
    warnings = draft_warnings(draft)
    assert warnings[0].startswith("'PERSON_ID' sends nhs number values as they are")
    assert "DEMO certificate" in warnings[1]


def test_words_for_the_window():
    assert "op_date" not in convention_choices() and "dob" in convention_choices()
    assert all(convention_label(name) != name for name in convention_choices())
    assert set(convention_choices()) | {"op_date"} == set(CONVENTIONS)
    spec = output_option("postcode")
    assert spec is not None and spec.choices == ("full", "sector", "district", "area")
    assert option_choice_label("postcode", "sector") == "Sector (SW1A 2)"
    assert output_option("gender").name == "target" and output_option("nhs_number") is None


@pytest.mark.parametrize(
    ("addition", "where"),
    [
        ("[disclosure]\nk = 7\n", "disclosure"),
        ('[aggregate]\ndimensions = ["DOB"]\n', "aggregate"),
        ('[[output_fields]]\nname = "BAND"\nrole = "keep"\nfrom = "dob"\ngeneralise = "age_band"\n', "BAND"),
    ],
)
def test_rules_the_window_cannot_edit_are_refused_not_dropped(addition, where):
    from pseudodesk.core.agreement.authoring import draft_from_profile
    from pseudodesk.core.agreement.profile import parse_profile
    from pseudodesk.core.errors import ProfileError

    text = (
        """format = "pseudodesk-profile/1"
[agreement]
name = "P"
version = "1"
[recipient]
mode = "passphrase"
[[source_fields]]
id = "dob"
convention = "dob"
[[output_fields]]
name = "DOB"
role = "keep"
from = "dob"
"""
        + addition
    )
    with pytest.raises(ProfileError, match=where):
        draft_from_profile(parse_profile(text.encode()))
