"""OpenPseudonymiser compatibility: every known answer of shared/reference/openpseudonymiser-compat.md."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pseudodesk.core.agreement.mapping import suggest_mapping
from pseudodesk.core.agreement.profile import parse_profile
from pseudodesk.core.conventions.op_date import round_down_date
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.core.run.plan import Plan
from pseudodesk.core.transform import openpseudonymiser as op
from pseudodesk.core.transform.nls_order import LabelOrderError
from pseudodesk.core.transform.pseudonym import ProjectKey

SALT_FILE = Path(__file__).resolve().parents[1] / "data" / "mackerel.EncryptedSalt"  # from shared/reference


def test_known_answers():
    assert (
        op.digest({"NHSNumber": op.nhs_digits("943 476 5919"), "DOB": "29.11.1973"}, "mackerel")
        == "ED72F814B7905F3D3958749FA90FE657C101EC657402783DB68CBE3513E76087"
    )
    assert (
        op.digest({"NHSNumber": "9434765919"}, "mackerel")
        == "643574A0AEFDA8DAC01EEBE45F7E8CFE814B15BBC3F654AC934518A34A53D575"
    )
    assert (
        op.digest({"anything": "123456789"}, "hello")
        == "A4455E6581B78D69E569895C2B615DFA90A6CD56938E40CA91EDD26E44DEEDFE"
    )


def test_encrypted_salt_file():
    salt = op.salt_from_encrypted_file(SALT_FILE.read_bytes())
    assert salt == "mackerel"
    assert (
        op.digest({"NHSNumber": "9434765919", "DOB": "29.11.1973"}, salt)
        == "ED72F814B7905F3D3958749FA90FE657C101EC657402783DB68CBE3513E76087"
    )
    with pytest.raises(ValueError, match="128 bytes"):
        op.salt_from_encrypted_file(b"short")


def test_label_order_and_whitespace():
    assert op.label_order(["NHSNumber", "DOB", "dob2", "b", "B", "a"]) == ["a", "b", "B", "DOB", "dob2", "NHSNumber"]
    # .NET's word sort, not case-swapped ordinal order: "_" before letters, "-" ignored first
    assert op.label_order(["Date_Of_Birth", "DateOfBirth", "Date-Of-Birth", "NHS No", "NHS_No"]) == [
        "Date_Of_Birth",
        "DateOfBirth",
        "Date-Of-Birth",
        "NHS No",
        "NHS_No",
    ]
    assert op.digest({"b-c": "2", "bb": "1"}, "s") == op.digest({"x": "12"}, "s")  # "bb" < "b-c" ("bc")
    # spaces, tabs and line breaks vanish; nothing else is normalised
    assert op.digest({"x": "1 2\t3\r\n"}, "s") == op.digest({"x": "123"}, "s")
    assert op.digest({"x": "Abc"}, "s") != op.digest({"x": "abc"}, "s")


@pytest.mark.parametrize("raw", ["19790305", "05/03/79", "05/03/1979", "05.03.79", "05.03.1979"])
def test_round_down_1979(raw):
    assert round_down_date(raw) == "19790101"


@pytest.mark.parametrize("raw", ["20081231", "31/12/08", "31/12/2008", "31.12.08", "31.12.2008"])
def test_round_down_2008(raw):
    assert round_down_date(raw) == "20080101"


def test_round_down_refuses_other_forms():
    assert round_down_date("1979-03-05") is None
    assert round_down_date("31/02/2008") is None


@pytest.mark.parametrize(
    ("raw", "flag"),
    [
        ("4505577104", "1"),
        ("450 557 7104", "1"),
        ("450-557-7104", "1"),
        ("1", "0"),
        ("fish", "0"),
        ("1267716276817687612", "0"),
        ("", "-1"),
        ("   ", "-1"),
    ],
)
def test_valid_nhs(raw, flag):
    assert op.valid_nhs(raw) == flag


PROFILE = """
format = "pseudodesk-profile/1"
[agreement]
name = "Link with OpenPseudonymiser users"
version = "1"
[recipient]
mode = "passphrase"
[[source_fields]]
id = "nhs"
convention = "nhs_number"
aliases = ["NHS Number"]
[[source_fields]]
id = "dob"
convention = "text"
aliases = ["Date of birth"]
[[source_fields]]
id = "dob_year"
convention = "op_date"
aliases = ["Birth"]
[[output_fields]]
name = "Digest"
role = "openpseudonymiser"
from = ["nhs", "dob"]
labels = { nhs = "NHSNumber", dob = "DOB" }
nhs_source = "nhs"
[[output_fields]]
name = "DOB_YEAR"
role = "keep"
from = "dob_year"
[[output_fields]]
name = "validNHS"
role = "valid_nhs"
from = "nhs"
"""


def test_profile_fields_reproduce_openpseudonymiser_output(tmp_path):
    (tmp_path / "in.csv").write_text(
        "NHS Number,Date of birth,Birth\n943 476 5919,29.11.1973,29.11.1973\n450-557-7104,05.03.1979,05/03/79\n"
    )
    profile = parse_profile(PROFILE.encode())
    table = read_table(tmp_path / "in.csv")
    plan = Plan(profile, table, suggest_mapping(profile, table.header), ProjectKey("x", bytes(32)), salt="mackerel")
    (batch,) = list(table.iter_batches())
    rows, _ = plan.transform(batch)
    assert rows[0] == ["ED72F814B7905F3D3958749FA90FE657C101EC657402783DB68CBE3513E76087", "19730101", "1"]
    assert rows[1][0] == op.digest({"NHSNumber": "4505577104", "DOB": "05.03.1979"}, "mackerel")
    assert rows[1][1:] == ["19790101", "1"]


def test_warning_text_explains_the_weakness():
    assert "weaker" in op.WEAKER_WARNING and "salt" in op.WEAKER_WARNING and "minutes" in op.WEAKER_WARNING


def _plan(tmp_path, csv_text, profile_text=PROFILE):
    (tmp_path / "in.csv").write_text(csv_text)
    profile = parse_profile(profile_text.encode())
    table = read_table(tmp_path / "in.csv")
    plan = Plan(profile, table, suggest_mapping(profile, table.header), ProjectKey("x", bytes(32)), salt="mackerel")
    return plan, table


def test_some_inputs_empty_still_get_the_original_digest(tmp_path):
    plan, table = _plan(
        tmp_path, "NHS Number,Date of birth,Birth\n943 476 5919,,29.11.1973\n,29.11.1973,05/03/79\n,,05/03/79\n"
    )
    (batch,) = list(table.iter_batches())
    rows, _ = plan.transform(batch)
    # the library's own known answer for the NHS number alone: an empty DOB adds nothing
    assert rows[0] == ["643574A0AEFDA8DAC01EEBE45F7E8CFE814B15BBC3F654AC934518A34A53D575", "19730101", "1"]
    assert rows[1] == [hashlib.sha256(b"29.11.1973mackerel").hexdigest().upper(), "19790101", "-1"]
    # every input empty: no digest (OpenPseudonymiser would give the salt's own digest)
    assert rows[2] == ["", "19790101", "-1"]
    assert plan.report.blank_outputs["Digest"] == 1


def test_an_invalid_input_still_blanks_the_digest(tmp_path):
    # a wrong check digit is invalid, not empty: the row is blanked (the profile's policy)
    plan, table = _plan(
        tmp_path, "NHS Number,Date of birth,Birth\n943 476 5918,29.11.1973,29.11.1973\n943 476 5918,,29.11.1973\n"
    )
    (batch,) = list(table.iter_batches())
    rows, _ = plan.transform(batch)
    assert rows == [["", "19730101", "0"], ["", "19730101", "0"]]
    assert plan.report.blank_outputs["Digest"] == 2


def test_labels_outside_the_reproduced_order_are_refused_before_any_row(tmp_path):
    text = PROFILE.replace('dob = "DOB" }', 'dob = "Geburtsdatum\u00df" }')
    with pytest.raises(LabelOrderError, match="U\\+00DF"):
        _plan(tmp_path, "NHS Number,Date of birth,Birth\n943 476 5919,29.11.1973,29.11.1973\n", text)


def test_labels_equal_to_the_original_order_are_refused(tmp_path):
    text = PROFILE.replace('labels = { nhs = "NHSNumber", dob = "DOB" }', 'labels = { nhs = "DOB", dob = "DOB" }')
    with pytest.raises(LabelOrderError, match="same label"):
        _plan(tmp_path, "NHS Number,Date of birth,Birth\n943 476 5919,29.11.1973,29.11.1973\n", text)
