"""Writing the generalisation chosen from the lattice into a copy of the profile."""

from __future__ import annotations

import pytest

from pseudodesk.core.agreement.generalise_text import with_generalisation
from pseudodesk.core.agreement.profile import load_profile, parse_profile
from pseudodesk.core.errors import ProfileError
from pseudodesk.core.resources import resource_path
from tests.helpers import PROFILE


def test_the_chosen_levels_are_written_and_every_other_line_kept():
    text = "# my agreement\n" + PROFILE.format(policy="blank", extra="")
    out = with_generalisation(text, {"POSTCODE": "district", "DOB": "year_band"}, source="t")
    profile = parse_profile(out.encode())
    assert {o.name: o.generalise for o in profile.output_fields} == {
        "PERSON_ID": "",
        "DOB": "year_band",
        "SEX": "",
        "POSTCODE": "district",
    }
    assert out.replace('generalise = "district"\n', "").replace('generalise = "year_band"\n', "") == text
    again = with_generalisation(out, {"POSTCODE": "area"}, source="t")  # an existing line is replaced
    assert again.count("generalise =") == 2 and 'generalise = "area"' in again


def test_the_lincolnshire_profile_takes_the_best_option(tmp_path):
    path = resource_path("profiles", "lincolnshire-lcp-scorecard.toml")
    text = path.read_text(encoding="utf-8")
    out = with_generalisation(
        text, {"DOB": "year", "POST CODE": "district", "ETHNICITY": "group"}, source=path.name, base_dir=path.parent
    )
    copy = path.parent / "copy-for-test.toml"
    try:
        copy.write_text(out, encoding="utf-8")
        profile = load_profile(copy)
    finally:
        copy.unlink()
    sent = {o.name: o.generalise for o in profile.output_fields}
    assert (sent["DOB"], sent["POST CODE"], sent["ETHNICITY"]) == ("year", "district", "group")


@pytest.mark.parametrize(
    ("levels", "message"),
    [({"NOPE": "year"}, "has no output field NOPE"), ({"SEX": "district"}, "is not available for this convention")],
)
def test_what_cannot_be_written_is_refused(levels, message):
    with pytest.raises(ProfileError, match=message):
        with_generalisation(PROFILE.format(policy="blank", extra=""), levels, source="t")
