"""Source mapping: suggestion, fitting a file, stripping, and saving for next month."""

from __future__ import annotations

import pytest

from pseudodesk.core.agreement.mapping import SourceMapping, load_mapping, save_mapping, suggest_mapping
from pseudodesk.core.agreement.profile import load_profile
from pseudodesk.core.errors import MappingError

HEADER = ("Client Ref", "Forename", "NHS No.", "Date of Birth", "sex", "Post Code", "Ethnic Origin", "Phone")


@pytest.fixture
def profile(demo_paths):
    return load_profile(demo_paths["profile"])


def test_suggestion_from_headers_and_aliases(profile):
    mapping = suggest_mapping(profile, HEADER)
    assert mapping.columns == {
        "nhs_number": "NHS No.",
        "dob": "Date of Birth",
        "gender": "sex",
        "postcode": "Post Code",
        "ethnicity": "Ethnic Origin",
    }
    assert mapping.suggested == frozenset(mapping.columns)


def test_everything_unmapped_is_stripped(profile):
    mapping = suggest_mapping(profile, HEADER)
    assert mapping.stripped_columns(profile, HEADER) == ["Client Ref", "Forename", "Phone"]


def test_resolve_reports_every_problem_and_the_columns(profile):
    mapping = SourceMapping({"nhs_number": "NHS", "dob": "Date of Birth", "shoe": "Phone"})
    with pytest.raises(MappingError) as info:
        mapping.resolve(profile, HEADER)
    text = str(info.value)
    assert "mapped to column 'NHS', which this file does not have" in text
    assert "'Gender' (gender) is not mapped" in text
    assert "source fields the profile does not have: shoe" in text
    assert "'Client Ref'" in text  # lists the file's columns


def test_saved_mapping_round_trips(profile, tmp_path):
    mapping = SourceMapping({"nhs_number": "NHS No.", "dob": "Date of Birth"}, profile.name, "People", 3)
    save_mapping(mapping, tmp_path / "m.toml")
    loaded = load_mapping(tmp_path / "m.toml")
    assert (loaded.columns, loaded.profile_name, loaded.sheet, loaded.header_row) == (
        mapping.columns,
        mapping.profile_name,
        "People",
        3,
    )


def test_bad_mapping_files(tmp_path):
    (tmp_path / "a.toml").write_text('mapping_format = "other"\n[columns]\n')
    with pytest.raises(MappingError, match="'mapping_format' must be"):
        load_mapping(tmp_path / "a.toml")
    with pytest.raises(MappingError, match="does not exist"):
        load_mapping(tmp_path / "missing.toml")
