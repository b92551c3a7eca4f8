"""A column that is mostly invalid blocks the export whatever the policy, and says what it holds."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from pseudodesk.core.agreement.mapping import suggest_mapping
from pseudodesk.core.agreement.model import KeyRef
from pseudodesk.core.agreement.profile import load_profile, parse_profile
from pseudodesk.core.audit.log import read_entries
from pseudodesk.core.check.schemes import describe, known_scheme, shape_of
from pseudodesk.core.errors import ChecksBlockExport, ProfileError
from pseudodesk.core.keys.installation import AuditTrail
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.core.run.check import check
from tests.helpers import KEY_A, run

NHS = ["9434765919", "4505577104", "9995522950", "9992499559", "9990000018", "9990000026"]


@pytest.mark.parametrize(
    ("values", "scheme"),
    [
        ({"1", "2"}, "numeric sex codes"),
        ({"1", "2", "9", "0"}, "numeric sex codes"),
        ({"1", "7", "17", "20"}, "LCP ethnicity numbers"),
        ({"A", "C", "J", "Z"}, "NHS ethnic category letters"),
        ({"WBRI", "MWBC", "AIND"}, "DfE school census ethnicity codes"),
        ({"W1", "M3", "NS"}, "police self-defined ethnicity codes"),
        ({"IC1", "IC3"}, "police officer-observed ethnicity codes"),
        ({"White: English, Welsh, Scottish, Northern Irish or British", "Asian or Asian British: Indian"}, "ONS 2021"),
        ({"boy", "girl"}, None),
        ({"1", "5"}, "LCP ethnicity numbers"),
        ({"3", "5"}, "LCP ethnicity numbers"),
    ],
)
def test_known_schemes(values, scheme):
    found = known_scheme(values)
    assert (found is None) if scheme is None else (scheme in found)


def test_shapes_name_no_value():
    assert shape_of({"boy", "girl"}) == "letters, 3 to 4 characters long, 2 different value(s)"
    assert shape_of({"X1"}) == "letters and digits, 2 characters long, 1 different value(s)"
    assert "boy" not in describe({"boy", "girl"}) and describe({"1", "2"}).startswith("look like numeric sex codes")


PROFILE = """
format = "pseudodesk-profile/1"
[agreement]
name = "Share test"
version = "1"
review_date = 2099-12-31
[recipient]
mode = "passphrase"
[checks]
on_invalid = "{policy}"
{share}
[[source_fields]]
id = "nhs_number"
convention = "nhs_number"
aliases = ["NHS No"]
[[source_fields]]
id = "gender"
convention = "gender"
aliases = ["Sex"]
[[output_fields]]
name = "PERSON_ID"
role = "pseudonym"
from = "nhs_number"
[[output_fields]]
name = "GENDER"
role = "keep"
from = "gender"
"""


def _source(tmp_path, sexes):
    path = tmp_path / "people.csv"
    rows = [f"{NHS[i % len(NHS)]},{sex}" for i, sex in enumerate(sexes)]
    path.write_text("NHS No,Sex\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return read_table(path)


def _profile(policy="blank", share=""):
    return parse_profile(PROFILE.format(policy=policy, share=share).encode())


@pytest.mark.parametrize("policy", ["blank", "exclude", "block"])
def test_a_sex_column_in_nhs_codes_blocks_whatever_the_policy(tmp_path, policy):
    profile, table = _profile(policy), _source(tmp_path, ["1", "2"] * 100 + ["9"] * 15)
    mapping = suggest_mapping(profile, table.header)
    report = check(profile, table, mapping)
    reasons = report.blocking_reasons()
    share = next(r for r in reasons if "values in column 'Sex'" in r)
    assert "215 of 215 values" in share and "look like numeric sex codes (1 = male, 2 = female" in share
    assert "the agreement allows 5%" in share
    with pytest.raises(ChecksBlockExport, match="look like numeric sex codes"):
        run(profile, table, mapping, KEY_A, tmp_path / "out" / "monthly" / "2026-12", name="x")
    assert not (tmp_path / "out").exists()  # no folder the refused run made is left behind


def test_the_share_is_per_field_and_the_profile_sets_it(tmp_path):
    sexes = ["M", "F"] * 48 + ["unk", "zz", "unk", "zz"]  # 4% invalid
    profile, table = _profile(), _source(tmp_path, sexes)
    mapping = suggest_mapping(profile, table.header)
    assert check(profile, table, mapping).blocking_reasons() == []
    more = _source(tmp_path, ["M", "F"] * 47 + ["unk", "zz"] * 3)  # 6% invalid
    reasons = check(profile, more, mapping).blocking_reasons()
    assert len(reasons) == 1 and "6 of 100 values" in reasons[0] and "unk" not in reasons[0]
    assert "letters, 2 to 3 characters long" in reasons[0]
    lenient = _profile(share="max_invalid_share = 0.1")
    assert check(lenient, more, mapping).blocking_reasons() == []


@pytest.mark.parametrize("value", ["1.5", "-0.1", '"5%"', "true"])
def test_a_share_outside_0_to_1_is_refused(value):
    with pytest.raises(ProfileError, match="max_invalid_share"):
        _profile(share=f"max_invalid_share = {value}")


def test_an_ethnicity_column_of_officer_observed_codes_blocks_and_names_no_value(
    tmp_path, demo_paths, private_data_dir, memory_keyring
):
    profile = replace(load_profile(demo_paths["profile"]), key=KeyRef())
    source = read_table(demo_paths["spreadsheet"])
    codes = ["IC1", "IC2", "IC3", "IC4", "IC6"]  # officer-observed: no crosswalk to self-defined codes
    path = tmp_path / "people.csv"
    lines = [",".join(source.header)]
    column = source.header.index("Ethnicity")
    for i, (_, row) in enumerate(source.iter_rows()):
        cells = list(row)
        cells[column] = codes[i % len(codes)]
        lines.append(",".join(f'"{c}"' for c in cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = read_table(path)
    mapping = suggest_mapping(profile, table.header)
    trail = AuditTrail(KeyStore())
    with pytest.raises(ChecksBlockExport, match="police officer-observed ethnicity codes"):
        run(
            profile,
            table,
            mapping,
            KEY_A,
            tmp_path / "out",
            audit=trail,
            allow_demo_recipient=True,
            accept_expired=True,
        )
    failed = [e for _, e, _ in read_entries(trail.path) if e and e["event"] == "export.failed"]
    recorded = json.dumps(failed)
    assert "police officer-observed ethnicity codes" in recorded
    for code in codes:
        assert f'"{code}"' not in recorded and f" {code}," not in recorded


CODED = PROFILE.replace('aliases = ["Sex"]', 'aliases = ["Sex"]\ncodings = ["none", "nhs_stated"]')


def test_a_coding_the_profile_accepts_is_chosen_in_the_mapping(tmp_path):
    from dataclasses import replace as changed

    from pseudodesk.core.agreement.mapping import load_mapping, save_mapping

    profile = parse_profile(CODED.format(policy="blank", share="").encode())
    assert profile.source_field("gender").codings == ("none", "nhs_stated")
    table = _source(tmp_path, ["1", "2"] * 20)
    mapping = suggest_mapping(profile, table.header)
    (reason,) = check(profile, table, mapping).blocking_reasons()
    assert "the agreement accepts these codings for it: none, nhs_stated" in reason
    chosen = changed(mapping, codings={"gender": "nhs_stated"})
    report = check(profile, table, chosen)
    assert report.blocking_reasons() == [] and report.fields["gender"].counts["invalid"] == 0
    result = run(profile, table, chosen, KEY_A, tmp_path / "out", name="x")
    manifest = json.loads(result.manifest.read_text())["manifest"]
    assert manifest["mapping"]["codings"] == {"gender": "nhs_stated"}
    save_mapping(chosen, tmp_path / "m.toml")
    assert load_mapping(tmp_path / "m.toml").codings == {"gender": "nhs_stated"}


def test_a_mapping_can_never_widen_what_the_profile_accepts(tmp_path):
    from dataclasses import replace as changed

    from pseudodesk.core.errors import MappingError

    table = _source(tmp_path, ["1", "2"] * 20)
    for text, coding in ((CODED, "iso5218"), (PROFILE, "nhs_stated")):
        profile = parse_profile(text.format(policy="blank", share="").encode())
        mapping = changed(suggest_mapping(profile, table.header), codings={"gender": coding})
        with pytest.raises(MappingError, match="a mapping cannot widen what the agreement allows"):
            check(profile, table, mapping)


@pytest.mark.parametrize(
    ("codings", "message"),
    [('["none", "morse"]', "unknown coding"), ('"none"', "must be a list")],
)
def test_profile_codings_are_checked(codings, message):
    with pytest.raises(ProfileError, match=message):
        parse_profile(
            PROFILE.replace('aliases = ["Sex"]', f'aliases = ["Sex"]\ncodings = {codings}')
            .format(policy="blank", share="")
            .encode()
        )


def test_codings_only_where_the_convention_has_them():
    text = PROFILE.replace('aliases = ["NHS No"]', 'aliases = ["NHS No"]\ncodings = ["none"]')
    with pytest.raises(ProfileError, match="has no input codings"):
        parse_profile(text.format(policy="blank", share="").encode())
