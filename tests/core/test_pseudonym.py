"""HMAC-SHA256 pseudonyms and key fingerprints: known answers computed outside pseudodesk."""

from __future__ import annotations

import hashlib
import hmac
import subprocess

import pytest

from pseudodesk.core.transform.pseudonym import ProjectKey, Pseudonymiser, key_fingerprint, pseudonym
from tests.helpers import require_tool

KEY = ProjectKey("kat", bytes(range(32)))
KEY_HEX = bytes(range(32)).hex()

# Computed with: printf 'PERSON_ID\0379434765919' | openssl dgst -sha256 -mac HMAC -macopt hexkey:<KEY_HEX>
KNOWN_ANSWERS = [
    ("PERSON_ID", ["9434765919"], "67C1932687588B9CF156532654908FECACA4464BFAD7D9DD31F97B2650B611BC"),
    ("ULN", ["9434765919"], "28FBE4EE3D75F2C901930DA5038CF85DB2DB5D3D1CE8D8F7E9C03B65D2E17CB2"),
    ("LINK", ["9434765919", "29/11/1973"], "DAE96FC1F8BF95F35C672482A0E0D32D00CDD4F9545007A65B089BEE984FC997"),
    ("NAME", ["Zoë"], "EE37D417F80F8350F0CECA7BD60E9F2C61544AB850C5068B0021B0DB68D9E249"),
]


@pytest.mark.parametrize(("field", "values", "expected"), KNOWN_ANSWERS)
def test_known_answers(field, values, expected):
    assert pseudonym(KEY, field, values) == expected


@pytest.mark.parametrize(("field", "values", "expected"), KNOWN_ANSWERS)
def test_known_answers_match_the_hmac_module(field, values, expected):
    message = "\x1f".join([field, *values]).encode("utf-8")
    assert hmac.new(KEY.secret, message, hashlib.sha256).hexdigest().upper() == expected


def test_openssl_command_line_agrees():
    openssl = require_tool("openssl")
    out = subprocess.run(
        [openssl, "dgst", "-sha256", "-mac", "HMAC", "-macopt", f"hexkey:{KEY_HEX}"],
        input=b"PERSON_ID\x1f4505577104",
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert out.strip().split("= ")[-1].upper() == pseudonym(KEY, "PERSON_ID", ["4505577104"])


def test_field_name_is_bound_in():
    assert pseudonym(KEY, "PERSON_ID", ["9434765919"]) != pseudonym(KEY, "ULN", ["9434765919"])


def test_separator_keeps_value_boundaries():
    assert pseudonym(KEY, "F", ["12", "3"]) != pseudonym(KEY, "F", ["1", "23"])


def test_separator_inside_a_value_is_refused():
    with pytest.raises(ValueError, match="U\\+001F"):
        pseudonym(KEY, "F", ["a\x1fb"])


def test_reused_pseudonymiser_gives_the_same_as_one_shot():
    p = Pseudonymiser(KEY, "PERSON_ID")
    assert [p(["9434765919"]), p(["4505577104"])] == [
        pseudonym(KEY, "PERSON_ID", ["9434765919"]),
        pseudonym(KEY, "PERSON_ID", ["4505577104"]),
    ]


def test_different_key_gives_different_pseudonym():
    other = ProjectKey("other", bytes(range(1, 33)))
    assert pseudonym(other, "PERSON_ID", ["9434765919"]) != pseudonym(KEY, "PERSON_ID", ["9434765919"])


def test_fingerprint_known_answer_and_shape():
    # printf 'pseudodesk key check value v1' | openssl dgst -sha256 -mac HMAC -macopt hexkey:<KEY_HEX>
    assert key_fingerprint(KEY.secret) == "5358-BBF7-EF8B-316E"
    assert KEY.fingerprint == "5358-BBF7-EF8B-316E"


def test_key_never_shows_its_secret():
    text = repr(KEY) + str(KEY)
    assert KEY_HEX not in text and str(KEY.secret) not in text
    assert "5358-BBF7-EF8B-316E" in str(KEY)


def test_key_length_is_enforced():
    with pytest.raises(ValueError, match="32 bytes"):
        ProjectKey("short", b"x" * 16)
