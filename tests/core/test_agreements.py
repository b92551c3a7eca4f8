"""Agreement packages: a custodian packs, a partner with its own data folder and keyring installs;
what is refused leaves the partner's store as it was; updates rotate the key without losing
re-identification."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pseudodesk.core.agreement.bundle import bundle_profile
from pseudodesk.core.agreement.mapping import suggest_mapping
from pseudodesk.core.agreement.profile import load_profile
from pseudodesk.core.errors import KeyProblem, ProfileError
from pseudodesk.core.files import canonical_json
from pseudodesk.core.keys.agreement_package import (
    AgreementPackageInvalid,
    AgreementRefused,
    read_agreement,
)
from pseudodesk.core.keys.agreements import install_agreement, installed_agreements, pack_agreement
from pseudodesk.core.keys.installation import installation_signer
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.package.signing import Signer
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.core.run.linkage import key_report, reidentify
from pseudodesk.core.transform.pseudonym import pseudonym
from tests.helpers import certificate, keyring_backend, new_keyring, parse_csv, run

PASS = "correct horse battery staple"
TODAY = dt.date(2026, 5, 1)
PROFILE = """# Families First: the custodian's profile. Comments and layout travel as they are.
format = "pseudodesk-profile/1"

[agreement]
name = "Families First"
version = "{version}"
review_date = {review}

[key]
id = "{key_id}"
fingerprint = "{fingerprint}"
{salt}
[recipient]
mode = "certificate"
certificates = [
    "../certs/county.crt",  # the county council's certificate, wherever it lies here
]

[[source_fields]]
id = "nhs"
convention = "nhs_number"
aliases = ["NHS No"]

[[source_fields]]
id = "gender"
convention = "gender"
aliases = ["Sex"]

[[output_fields]]
name = "PERSON_ID"
role = "pseudonym"
from = "nhs"

[[output_fields]]
name = "SEX"
role = "keep"
from = "gender"
{extra}"""
OP_FIELD = """
[[output_fields]]
name = "OP_DIGEST"
role = "openpseudonymiser"
from = ["nhs"]
labels = { nhs = "NHSNumber" }
nhs_source = "nhs"
"""


class Party:
    """A custodian or a partner: its own data folder and its own keyring."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ring = new_keyring()
        self.store = KeyStore(folder)

    @contextlib.contextmanager
    def active(self):
        with keyring_backend(self.ring):
            yield self.store

    def snapshot(self) -> dict[str, object]:
        files = {
            str(p.relative_to(self.folder)): p.read_bytes()
            for p in sorted(self.folder.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock")
        }
        return {"files": files, "ring": dict(self.ring.store)}


@pytest.fixture
def world(tmp_path):
    custodian, partner = Party(tmp_path / "custodian"), Party(tmp_path / "partner")
    county_cert, county_key = certificate(tmp_path / "certs", "county")
    with custodian.active() as store:
        key = store.create("Families First 2026", agreement="Families First", expires=dt.date(2099, 12, 31))
    source = tmp_path / "people.csv"
    source.write_text("NHS No,Sex,Name\n9434765919,F,Ann\n4505577104,M,Bob\n943 476 5870,F,Cat\n", encoding="utf-8")
    return {
        "custodian": custodian,
        "partner": partner,
        "key": key,
        "county": (county_cert, county_key),
        "source": source,
        "profiles": tmp_path / "profiles",
    }


def write_profile(world, *, version="1", review="2099-12-31", key=None, salt_id="", extra="", name="families.toml"):
    key = key or world["key"]
    folder = world["profiles"]
    folder.mkdir(exist_ok=True)
    text = PROFILE.format(
        version=version,
        review=review,
        key_id=key.id,
        fingerprint=key.fingerprint,
        salt=f'salt_id = "{salt_id}"\n' if salt_id else "",
        extra=extra,
    )
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def pack(world, profile_path, **kwargs) -> bytes:
    kwargs.setdefault("today", TODAY)
    if "partner_certificates" not in kwargs:
        kwargs.setdefault("passphrase", PASS)
    with world["custodian"].active() as store:
        data, _ = pack_agreement(store, profile_path, **kwargs)
    return data


def custodian_fingerprint(world) -> str:
    with world["custodian"].active() as store:
        return installation_signer(store).fingerprint


def install(world, data, **kwargs):
    kwargs.setdefault("confirm_fingerprint", custodian_fingerprint(world))
    kwargs.setdefault("today", TODAY)
    if "certificate" not in kwargs:
        kwargs.setdefault("passphrase", PASS)
    with world["partner"].active() as store:
        return install_agreement(store, data, source="families.pdagreement", **kwargs)


def export_rows(party: Party, profile_path: Path, source: Path, out: Path, county_key: Path, salt=None):
    """The decrypted CSV of an export by ``party`` with the profile and the key it names."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    with party.active() as store:
        profile = load_profile(profile_path)
        key = store.load(profile.key.id)
        salt = store.load_salt(profile.key.salt_id) if profile.key.salt_id else None
        table = read_table(source)
        result = run(profile, table, suggest_mapping(profile, table.header), key, out, salt=salt)
    cert = x509.load_pem_x509_certificate(Path(str(county_key).replace(".key", ".crt")).read_bytes())
    private = serialization.load_pem_private_key(county_key.read_bytes(), None)
    plain = pkcs7.pkcs7_decrypt_der(result.output.read_bytes(), cert, private, [])
    return parse_csv(plain.lstrip(b"\xef\xbb\xbf"))


def leak_forms(secret: bytes) -> list[bytes]:
    b64 = base64.b64encode(secret)
    return [secret, secret.hex().encode(), secret.hex().upper().encode(), b64, b64.rstrip(b"=")]


# --- pack, install, export ------------------------------------------------------------------


def test_installed_package_exports_the_same_pseudonyms_as_the_custodian(world, tmp_path):
    with world["custodian"].active() as store:
        salt = store.create("Families OP salt", kind="op-salt", secret=b"mackerel")
    original = write_profile(world, salt_id=salt.id, extra=OP_FIELD)
    data = pack(world, original)
    with world["custodian"].active() as store:
        secret = store.load(world["key"].id).secret
    for form in [*leak_forms(secret), *leak_forms(b"mackerel")[1:], b'"mackerel"']:
        assert form not in data  # never a secret in clear

    installed = install(world, data)
    assert (installed.name, installed.version, installed.key_id) == ("Families First", 1, world["key"].id)
    assert installed.salt_id == salt.id and installed.intact and installed.replaced_key == ""
    folder = installed.profile_path.parent
    assert folder.parent == world["partner"].folder / "agreements"
    # the certificate travelled inside the package and the profile points at the copy beside it
    profile = load_profile(installed.profile_path)
    assert profile.recipient.certificates == (folder / "certificates" / "county.crt",)
    assert (folder / "certificates" / "county.crt").read_bytes() == world["county"][0].read_bytes()
    text = installed.profile_path.read_text(encoding="utf-8")
    assert "# the county council's certificate" in text and "../certs" not in text
    for path in (installed.profile_path, folder / "certificates" / "county.crt"):
        assert not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)  # read-only
    assert read_agreement(data).bundle.sha256 == profile.sha256 == installed.profile_sha256

    with world["partner"].active() as store:
        info = store.info(world["key"].id)
        assert (info.agreement, info.expires, info.status) == ("Families First", "2099-12-31", "active")
        assert store.load_salt(salt.id) == "mackerel"
    county_key = world["county"][1]
    theirs = export_rows(world["partner"], installed.profile_path, world["source"], tmp_path / "p-out", county_key)
    ours = export_rows(world["custodian"], original, world["source"], tmp_path / "c-out", county_key)
    assert theirs == ours and theirs[0] == ["PERSON_ID", "SEX", "OP_DIGEST"] and len(theirs) == 4
    with world["custodian"].active() as store:
        key = store.load(world["key"].id)
    assert theirs[1][0] == pseudonym(key, "PERSON_ID", ["9434765919"])

    events = [json.loads(line) for line in (world["partner"].folder / "audit.jsonl").read_text().splitlines()]
    (entry,) = [e for e in events if e["event"] == "agreement.installed"]
    details = entry["details"]
    assert details["agreement"] == "Families First" and details["package_version"] == 1
    assert details["custodian_fingerprint"] == installed.custodian_fingerprint
    assert details["key"]["key_id"] == world["key"].id and details["profile_sha256"] == profile.sha256
    log = (world["partner"].folder / "audit.jsonl").read_bytes()
    assert not any(form in log for form in leak_forms(secret)) and b"Ann" not in log
    assert [a.name for a in installed_agreements(world["partner"].store)] == ["Families First"]


def test_a_package_wrapped_to_the_partners_certificate(world, tmp_path):
    partner_cert, partner_key = certificate(tmp_path / "partner-id", "partner")
    stranger_cert, stranger_key = certificate(tmp_path / "stranger-id", "stranger")
    data = pack(world, write_profile(world), partner_certificates=[partner_cert])
    assert read_agreement(data).protection == "certificate"
    before = world["partner"].snapshot()
    with pytest.raises(KeyProblem, match="not wrapped to your certificate"):
        install(world, data, certificate=stranger_cert, private_key=stranger_key)
    assert world["partner"].snapshot() == before
    installed = install(world, data, certificate=partner_cert, private_key=partner_key)
    with world["partner"].active() as store:
        partner_secret = store.load(installed.key_id).secret
    with world["custodian"].active() as store:
        assert store.load(installed.key_id).secret == partner_secret


# --- refusals leave everything as it was ------------------------------------------------------


def _tampered(data: bytes) -> bytes:
    doc = json.loads(data)
    profile = bytearray(base64.b64decode(doc["package"]["profile"]["data"]))
    profile[profile.index(b"blank") if b"blank" in profile else profile.index(b"PERSON_ID")] ^= 0x01
    doc["package"]["profile"]["data"] = base64.b64encode(bytes(profile)).decode()
    return json.dumps(doc).encode()


def _one_byte(data: bytes) -> bytes:
    position = data.index(b'"Families First"') + 1
    return data[:position] + b"f" + data[position + 1 :]  # "Families First" -> "families First"


def _resigned_with_the_wrong_key(data: bytes) -> bytes:
    doc = json.loads(data)
    doc["package"]["valid_from"] = "2020-01-01"
    doc["signature"]["value"] = base64.b64encode(
        Ed25519PrivateKey.generate().sign(canonical_json(doc["package"]))
    ).decode()
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("spoil", "match"),
    [
        (_one_byte, "does not verify"),
        (_tampered, "does not verify"),
        (lambda d: d[: len(d) // 2], "damaged or cut short"),
        (lambda d: d[:-40], "damaged or cut short"),
        (_resigned_with_the_wrong_key, "does not verify"),
        (lambda d: b"NHS No,Sex\n9434765919,F\n", "damaged or cut short"),
    ],
    ids=["one-byte", "profile-changed", "truncated-half", "truncated-end", "wrongly-signed", "not-a-package"],
)
def test_damaged_or_wrongly_signed_packages_are_refused_with_nothing_changed(world, spoil, match):
    data = pack(world, write_profile(world))
    with world["partner"].active() as store:
        store.create("a key the partner already had")
    before = world["partner"].snapshot()
    with pytest.raises(AgreementPackageInvalid, match=match) as refused:
        install(world, spoil(data))
    assert "Nothing was installed" in str(refused.value)
    assert world["partner"].snapshot() == before
    assert not (world["partner"].folder / "agreements").exists()


def test_an_expired_package_is_refused_with_nothing_changed(world):
    data = pack(world, write_profile(world, review="2026-06-30"))
    before = world["partner"].snapshot()
    with pytest.raises(AgreementRefused, match="expired on 2026-06-30"):
        install(world, data, today=dt.date(2026, 7, 1))
    assert world["partner"].snapshot() == before
    with pytest.raises(AgreementRefused, match="valid from 2026-05-01"):
        install(world, data, today=dt.date(2026, 4, 30))
    assert world["partner"].snapshot() == before
    assert install(world, data, today=dt.date(2026, 6, 30)).version == 1  # the review date itself is fine


def test_a_wrong_fingerprint_is_refused_without_showing_the_right_one(world):
    data = pack(world, write_profile(world))
    expected = custodian_fingerprint(world)
    before = world["partner"].snapshot()
    wrong = "0000-1111-2222-3333-4444"
    with pytest.raises(AgreementPackageInvalid, match="not signed by the custodian whose fingerprint") as refused:
        install(world, data, confirm_fingerprint=wrong)
    message = str(refused.value) + repr(refused.value)
    assert expected not in message and expected.replace("-", "") not in message.replace("-", "")
    assert world["partner"].snapshot() == before
    # a package a stranger signed in full is sound, but not the custodian's
    stranger = Signer(Ed25519PrivateKey.generate())
    forged = pack(world, write_profile(world), signer=stranger)
    assert read_agreement(forged).custodian_fingerprint == stranger.fingerprint
    with pytest.raises(AgreementPackageInvalid, match="not signed by the custodian"):
        install(world, forged)
    assert world["partner"].snapshot() == before
    # the fingerprint as read out over the phone: lower case, spaces
    assert install(world, data, confirm_fingerprint=expected.lower().replace("-", " ")).version == 1


def test_a_wrong_passphrase_changes_nothing(world):
    data = pack(world, write_profile(world))
    before = world["partner"].snapshot()
    with pytest.raises(KeyProblem, match="Wrong passphrase"):
        install(world, data, passphrase="not the passphrase at all")
    assert world["partner"].snapshot() == before


# --- updates and rotation ----------------------------------------------------------------


def test_an_update_rotates_the_key_and_reidentification_still_finds_old_pseudonyms(world, tmp_path):
    v1 = pack(world, write_profile(world))
    install(world, v1)
    with world["partner"].active() as store:
        old_key = store.load(world["key"].id)
    flagged_before = pseudonym(old_key, "PERSON_ID", ["9434765919"])  # made and sent under version 1

    with world["custodian"].active() as store:
        new = store.rotate(world["key"].id)
    v2 = pack(world, write_profile(world, version="2", key=new))
    assert read_agreement(v2).version == 2  # the next version, from what this custodian packed before
    updated = install(world, v2)
    assert (updated.version, updated.key_id, updated.replaced_key) == (2, new.id, world["key"].id)
    assert [a.version for a in installed_agreements(world["partner"].store)] == [2]
    assert load_profile(updated.profile_path).key.id == new.id  # the profile was replaced

    with world["partner"].active() as store:
        retired = store.info(world["key"].id)
        assert (retired.status, retired.replaced_by) == ("retired", new.id)
        assert store.info(new.id).rotated_from == world["key"].id
        with pytest.raises(KeyProblem, match="retired"):
            store.load(world["key"].id)  # not for new exports
        lineage = store.lineage(new.id)
        keys = [store.load(k.id, purpose="reidentify") for k in lineage]
        flagged_after = pseudonym(keys[0], "PERSON_ID", ["4505577104"])
        profile = load_profile(updated.profile_path)
        table = read_table(world["source"])
        result = reidentify(
            profile, table, suggest_mapping(profile, table.header), keys, "PERSON_ID", [flagged_before, flagged_after]
        )
        assert sorted((m.line, m.key_id) for m in result.matches) == [(2, world["key"].id), (3, new.id)]
        assert result.matched_by_key == {new.id: 1, world["key"].id: 1}
        old_only = reidentify(
            profile, table, suggest_mapping(profile, table.header), keys, "PERSON_ID", [flagged_before]
        )
        lines, warnings = key_report(old_only, lineage, store.keys())
        assert lines[0].startswith(f"key {new.id} (current key): 0") and "1 pseudonym(s)" in lines[1]
        assert warnings and "made before the key was rotated" in warnings[0]

    events = (world["partner"].folder / "audit.jsonl").read_text()
    assert '"previous_version":1' in events and f'"replaced_key":"{world["key"].id}"' in events

    before = world["partner"].snapshot()
    with pytest.raises(AgreementRefused, match="not newer than version 2"):
        install(world, v1)
    with pytest.raises(AgreementRefused, match="installed here already, unchanged"):
        install(world, v2)
    assert world["partner"].snapshot() == before


def test_an_update_with_the_same_key_keeps_it_current(world):
    install(world, pack(world, write_profile(world)))
    v2 = pack(world, write_profile(world, version="2", review="2099-06-30"))
    updated = install(world, v2)
    assert (updated.version, updated.key_id, updated.replaced_key) == (2, world["key"].id, "")
    with world["partner"].active() as store:
        info = store.info(world["key"].id)
        assert (info.status, info.expires) == ("active", "2099-06-30")  # the agreement's new review date


def test_an_update_upgrades_a_salt_held_under_its_legacy_fingerprint(world):
    with world["custodian"].active() as store:
        salt = store.create("Families OP salt", kind="op-salt", secret=b"mackerel")
    assert salt.fingerprint == "C91F-44B5-AF87-9074-FFB2"  # scrypt: tests/core/test_salt_fingerprint.py
    install(world, pack(world, write_profile(world, salt_id=salt.id, extra=OP_FIELD)))
    with world["partner"].active() as store:  # as an earlier version stored it: the fast check value
        meta = json.loads(store.metadata_path.read_text())
        (entry,) = [k for k in meta["keys"] if k["id"] == salt.id]
        entry["fingerprint"] = "57DB-D062-C282-7505"
        store.metadata_path.write_text(json.dumps(meta))
    install(world, pack(world, write_profile(world, version="2", salt_id=salt.id, extra=OP_FIELD)))
    with world["partner"].active() as store:
        assert store.info(salt.id).fingerprint == "C91F-44B5-AF87-9074-FFB2"
        assert store.load_salt(salt.id) == "mackerel"
        meta = json.loads(store.metadata_path.read_text())
        (entry,) = [k for k in meta["keys"] if k["id"] == salt.id]
        entry["fingerprint"] = "0000-0000-0000-0000"  # not the salt's, in either form
        store.metadata_path.write_text(json.dumps(meta))
    with pytest.raises(KeyProblem, match="different key with the id"):
        install(world, pack(world, write_profile(world, version="3", salt_id=salt.id, extra=OP_FIELD)))


def test_another_custodian_cannot_replace_an_installed_agreement(world, tmp_path):
    install(world, pack(world, write_profile(world)))
    intruder = Party(tmp_path / "intruder")
    with intruder.active() as store:
        key = store.create("Families First")
        data, package = pack_agreement(
            store, write_profile(world, version="9", key=key, name="intruder.toml"), passphrase=PASS, today=TODAY
        )
    before = world["partner"].snapshot()
    with pytest.raises(AgreementPackageInvalid, match="signed by another custodian"):
        install(world, data, confirm_fingerprint=package.custodian_fingerprint)
    assert world["partner"].snapshot() == before


def test_a_key_id_clash_is_refused(world, tmp_path):
    data = pack(world, write_profile(world))
    with world["partner"].active() as store:
        store.create("x")
        # a different key already held under the package key's id
        meta = json.loads(store.metadata_path.read_text())
        meta["keys"][0]["id"] = world["key"].id
        store.metadata_path.write_text(json.dumps(meta))
    before = world["partner"].snapshot()
    with pytest.raises(KeyProblem, match="different key with the id"):
        install(world, data)
    assert world["partner"].snapshot() == before


# --- versions and packing -------------------------------------------------------------------


def test_package_versions_only_grow(world):
    profile = write_profile(world)
    assert read_agreement(pack(world, profile)).version == 1
    assert read_agreement(pack(world, profile)).version == 1  # the same release, for another partner
    changed = write_profile(world, version="1a")
    assert read_agreement(pack(world, changed)).version == 2
    with pytest.raises(AgreementRefused, match="packed with other contents"):
        pack(world, write_profile(world, version="1b"), version=2)
    with pytest.raises(AgreementRefused, match="packed with other contents"):
        pack(world, write_profile(world, version="1c"), version=1)
    assert read_agreement(pack(world, write_profile(world, version="1d"), version=7)).version == 7
    with pytest.raises(AgreementRefused, match="lower than version 7"):
        pack(world, write_profile(world, version="1e"), version=5)
    assert read_agreement(pack(world, write_profile(world, version="1d"), valid_from=dt.date(2026, 6, 1))).version == 8


def test_pack_refuses_what_a_partner_could_not_use(world, tmp_path):
    with pytest.raises(ProfileError, match="review_date"):
        pack(world, write_profile(world, review="2026-01-31"))
    with pytest.raises(KeyProblem, match="passphrase or to the partner"):
        pack(world, write_profile(world), passphrase=None)
    with world["custodian"].active() as store:
        new = store.rotate(world["key"].id)
    with pytest.raises(KeyProblem, match="not an active project key"):
        pack(world, write_profile(world))
    with pytest.raises(ProfileError, match="salt_id"):
        pack(world, write_profile(world, key=new, extra=OP_FIELD))


# --- the profile's files -------------------------------------------------------------------


def test_bundle_embeds_certificates_and_pack_files_and_rewrites_only_their_paths(tmp_path, world):
    packs = tmp_path / "shared-packs"
    packs.mkdir()
    (packs / "local rules.toml").write_text(
        'pack_format = "pseudodesk-pack/1"\nname = "Local"\n[conventions.local_gender]\nbase = "gender"\n',
        encoding="utf-8",
    )
    path = write_profile(world)
    text = path.read_text(encoding="utf-8")
    recipient = text[text.index("[recipient]") : text.index("[[source_fields]]")]
    text = text.replace(recipient, "").replace(
        'format = "pseudodesk-profile/1"\n',
        'format = "pseudodesk-profile/1"\npacks = ["lcp-scorecard", "../shared-packs/local rules.toml"]\n'
        'recipient = { mode = "certificate", certificates = ["../certs/county.crt", "../certs/county.crt"] }\n',
    )
    text = text.replace('convention = "gender"', 'convention = "local_gender"')
    path.write_text(text, encoding="utf-8")
    bundle = bundle_profile(path)
    assert [(f.kind, f.path) for f in bundle.files] == [
        ("certificate", "certificates/county.crt"),
        ("certificate", "certificates/county-2.crt"),
        ("pack", "packs/local-rules.toml"),
    ]
    rewritten = bundle.profile.decode()
    assert 'packs = ["lcp-scorecard", "packs/local-rules.toml"]' in rewritten
    assert 'certificates = ["certificates/county.crt", "certificates/county-2.crt"] }' in rewritten
    assert rewritten.replace("../certs/county.crt", "").replace("../shared-packs/local rules.toml", "") == rewritten
    assert rewritten.startswith("# Families First: the custodian's profile.")
    installed = install(world, pack(world, path))
    profile = load_profile(installed.profile_path)  # the pack is found beside the installed profile
    assert [s.convention for s in profile.source_fields] == ["nhs_number", "local_gender"]
    assert (installed.profile_path.parent / "packs" / "local-rules.toml").is_file()


def test_an_update_that_fails_at_the_last_step_puts_everything_back(world, monkeypatch):
    install(world, pack(world, write_profile(world)))
    with world["custodian"].active() as store:
        new = store.rotate(world["key"].id)
    v2 = pack(world, write_profile(world, version="2", key=new))
    before = world["partner"].snapshot()

    def keyring_refuses(self, name, secret):
        raise KeyProblem(f"The OS keyring refused to store {name} (KeyringError).")

    monkeypatch.setattr(type(world["partner"].ring), "set_password", keyring_refuses)
    with pytest.raises(KeyProblem, match="refused to store"):
        install(world, v2)
    assert world["partner"].snapshot() == before
    assert [p.name for p in (world["partner"].folder / "agreements").iterdir()] == ["families-first"]
