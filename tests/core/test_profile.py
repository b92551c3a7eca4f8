"""Agreement profile v1: the example loads; every kind of mistake names its key and problem."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from pseudodesk.core.agreement.profile import load_profile, parse_profile
from pseudodesk.core.errors import ProfileError

GOOD = """
format = "pseudodesk-profile/1"
[agreement]
name = "Test agreement"
version = "1"
parties = ["A", "B"]
review_date = 2030-01-31
[key]
id = "pdk-1"
fingerprint = "5358-bbf7-ef8b-316e"
[recipient]
mode = "passphrase"
[[source_fields]]
id = "nhs_number"
convention = "nhs_number"
[[source_fields]]
id = "dob"
convention = "dob"
required = false
[[output_fields]]
name = "PID"
role = "pseudonym"
from = ["nhs_number", "dob"]
[[output_fields]]
name = "DOB"
role = "keep"
from = "dob"
"""


def test_example_lcp_profile(demo_paths):
    profile = load_profile(demo_paths["profile"])
    assert profile.name == "Lincolnshire LCP Scorecard"
    assert profile.output_names == ["PERSON_ID", "DOB", "GENDER", "POST CODE", "ETHNICITY"]
    assert [f.role for f in profile.output_fields] == ["pseudonym", "keep", "keep", "keep", "keep"]
    assert profile.review_date == dt.date(2027, 3, 31)
    assert profile.recipient.mode == "certificate"
    assert profile.recipient.certificates[0].resolve() == demo_paths["certificate"].resolve()
    assert profile.sha256 == hashlib.sha256(demo_paths["profile"].read_bytes()).hexdigest()


def test_good_profile_parses():
    profile = parse_profile(GOOD.encode())
    assert profile.key.fingerprint == "5358-BBF7-EF8B-316E"
    assert profile.output_fields[0].sources == ("nhs_number", "dob")
    assert profile.source_field("dob").required is False
    assert profile.used_source_ids() == ["nhs_number", "dob"]


@pytest.mark.parametrize(
    ("change", "where", "problem"),
    [
        (('format = "pseudodesk-profile/1"', 'format = "v2"'), "format", 'must be "pseudodesk-profile/1"'),
        (('name = "Test agreement"\n', ""), "agreement.name", "is required"),
        (("review_date = 2030-01-31", 'review_date = "31/01/2030"'), "agreement.review_date", "must be a date"),
        (('fingerprint = "5358-bbf7-ef8b-316e"', 'fingerprint = "abc"'), "key.fingerprint", "must look like"),
        (('mode = "passphrase"', 'mode = "email"'), "recipient.mode", 'must be "certificate" or "passphrase"'),
        (('mode = "passphrase"', 'mode = "certificate"'), "recipient.certificates", "one or more certificate"),
        (
            ('convention = "dob"', 'convention = "birthday"'),
            "source_fields[1].convention",
            "unknown convention 'birthday'",
        ),
        (('role = "keep"', 'role = "hash"'), "output_fields[1].role", "must be one of pseudonym, keep"),
        (('from = "dob"', 'from = "date_of_birth"'), "output_fields[1].from", "'date_of_birth' is not a declared"),
        (('from = "dob"', 'from = ["dob", "nhs_number"]'), "output_fields[1].from", "exactly one source field"),
        (('name = "DOB"', 'name = "pid"'), "output_fields[1].name", "'pid' is used twice"),
        (('id = "pdk-1"', 'id = "pdk-1"\nsalt = "x"'), "key.salt", "is not a known setting"),
        (("required = false", 'required = "no"'), "source_fields[1].required", "must be true or false"),
    ],
)
def test_mistakes_name_the_key_and_the_problem(change, where, problem):
    text = GOOD.replace(*change, 1)
    assert text != GOOD
    with pytest.raises(ProfileError) as info:
        parse_profile(text.encode(), source="bad.toml")
    assert info.value.where == where
    assert problem in info.value.problem
    assert str(info.value).startswith(f"Agreement profile bad.toml at '{where}'")


def test_unused_source_field_is_refused():
    text = GOOD + '[[source_fields]]\nid = "postcode"\nconvention = "postcode"\n'
    with pytest.raises(ProfileError, match="used by no output field: postcode"):
        parse_profile(text.encode())


def test_not_toml():
    with pytest.raises(ProfileError, match="is not valid TOML"):
        parse_profile(b"format = ")


def test_missing_profile_file(tmp_path):
    with pytest.raises(ProfileError, match="nope.toml: .*does not exist|nope.toml.*does not exist"):
        load_profile(tmp_path / "nope.toml")


def test_certificate_paths_are_relative_to_the_profile(tmp_path: Path):
    text = GOOD.replace('mode = "passphrase"', 'mode = "certificate"\ncertificates = ["certs/r.pem"]')
    (tmp_path / "p.toml").write_text(text)
    assert load_profile(tmp_path / "p.toml").recipient.certificates == (tmp_path / "certs" / "r.pem",)
