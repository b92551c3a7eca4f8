"""A profile with the certificates and pack files it names, rewritten to point at embedded copies."""

from __future__ import annotations

import os
import stat

import pytest

from pseudodesk.core.agreement.bundle import bundle_profile, bundle_references, is_embedded_path, write_bundle
from pseudodesk.core.agreement.profile import load_profile
from pseudodesk.core.errors import ProfileError
from pseudodesk.core.resources import resource_path

PROFILE = """# A partner's copy. Comments stay where they are.
format = "pseudodesk-profile/1"
packs = [
    "lcp-scorecard",             # bundled: stays a name
    "../rules/local rules.toml", # a file: travels with the profile
]

[agreement]
name = "Bundle"
version = "1"

[recipient]
mode = "certificate"
certificates = ['../certs/demo.crt'] # the recipient

[[source_fields]]
id = "sex"
convention = "local_gender"

[[output_fields]]
name = "SEX"
role = "keep"
from = "sex"
"""


@pytest.fixture
def profile_path(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "local rules.toml").write_text(
        'pack_format = "pseudodesk-pack/1"\nname = "Local"\n[conventions.local_gender]\nbase = "gender"\n'
    )
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "demo.crt").write_bytes(resource_path("demo", "demo-recipient.crt").read_bytes())
    (tmp_path / "profiles").mkdir()
    path = tmp_path / "profiles" / "bundle.toml"
    path.write_text(PROFILE)
    return path


def test_files_are_embedded_and_only_their_paths_change(profile_path, tmp_path):
    bundle = bundle_profile(profile_path)
    assert [(f.kind, f.path) for f in bundle.files] == [
        ("certificate", "certificates/demo.crt"),
        ("pack", "packs/local-rules.toml"),
    ]
    text = bundle.profile.decode()
    assert text == PROFILE.replace("'../certs/demo.crt'", '"certificates/demo.crt"').replace(
        '"../rules/local rules.toml"', '"packs/local-rules.toml"'
    )
    assert bundle_references(bundle.profile, bundle.files) == ""
    assert "not the files embedded" in bundle_references(bundle.profile, bundle.files[:1])

    profile = load_profile(write_bundle(bundle, tmp_path / "installed"))
    assert profile.recipient.certificates == (tmp_path / "installed" / "certificates" / "demo.crt",)
    assert profile.source_fields[0].convention == "local_gender"  # the pack beside it was found
    assert profile.sha256 == bundle.sha256
    for path in (tmp_path / "installed").rglob("*"):
        if path.is_file():
            assert not os.stat(path).st_mode & stat.S_IWUSR


def test_a_profile_already_pointing_at_its_copies_is_unchanged(profile_path, tmp_path):
    first = bundle_profile(profile_path)
    again = bundle_profile(write_bundle(first, tmp_path / "installed"))
    assert again.profile == first.profile and again.files == first.files


def test_paths_that_would_leave_the_folder_are_refused():
    assert is_embedded_path("certificates/lcc.crt") and is_embedded_path("packs/x.toml")
    for bad in ("../x.crt", "certificates/../../x", "/etc/passwd", "certificates/", "other/x.crt", "packs/.hidden"):
        assert not is_embedded_path(bad)


def test_a_reference_that_cannot_be_rewritten_is_refused(profile_path):
    profile_path.write_text(PROFILE.replace("certificates = [", '"certificates" = ['))
    with pytest.raises(ProfileError, match="cannot be rewritten"):
        bundle_profile(profile_path)
