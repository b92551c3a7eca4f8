"""Approved and unapproved profiles: an export says which in its manifest, its audit entry and the
IG report; an unapproved one needs confirming; the machine policy can forbid it, and loose key
imports; an installed profile that was changed is refused, and installing its package again
restores it."""

from __future__ import annotations

import json
import os
import stat

import pytest

from pseudodesk.core.agreement.mapping import suggest_mapping
from pseudodesk.core.agreement.profile import load_profile
from pseudodesk.core.audit.listing import AuditFilter, listing_to_html
from pseudodesk.core.audit.log import LOG_NAME, read_entries, verify_log
from pseudodesk.core.errors import NotApproved
from pseudodesk.core.keys.agreement_package import AgreementRefused
from pseudodesk.core.keys.agreements import installed_agreements, installed_profile
from pseudodesk.core.keys.approval import UNAPPROVED, approval_of
from pseudodesk.core.keys.installation import AuditTrail, installation_signer
from pseudodesk.core.keys.signers import add_signer, known_signers
from pseudodesk.core.package.inspection import describe_manifest, inspect_package
from pseudodesk.core.policy import PolicyForbids, machine_policy
from pseudodesk.core.read.dispatch import read_table
from tests.core import test_agreements
from tests.core.test_agreements import PASS, Party, install, pack, write_profile
from tests.helpers import run

world = test_agreements.world  # the custodian and partner fixture, each with its own data folder and keyring


def export(party, profile_path, source, out, **options):
    """An export by ``party`` with its own audit trail, approval worked out as the front ends do."""
    with party.active() as store:
        profile = load_profile(profile_path)
        table = read_table(source)
        options.setdefault("approval", approval_of(store, profile))
        options.setdefault("unapproved_accepted", False)
        trail = AuditTrail(store)
        return run(
            profile,
            table,
            suggest_mapping(profile, table.header),
            store.load(profile.key.id),
            out,
            signer=trail.signer,
            audit=trail,
            **options,
        )


def entries(party):
    return [e for _, e, _ in read_entries(party.folder / LOG_NAME) if e]


def manifest(result):
    return json.loads(result.manifest.read_text(encoding="utf-8"))["manifest"]


def test_an_installed_profile_is_approved_and_says_so_everywhere(world, tmp_path):
    installed = install(world, pack(world, write_profile(world)))
    partner = world["partner"]
    with partner.active() as store:
        approval = approval_of(store, load_profile(installed_profile(store, "families FIRST")))
    assert approval.approved and approval.package_version == 1
    assert approval.custodian_fingerprint == installed.custodian_fingerprint

    result = export(partner, installed.profile_path, world["source"], tmp_path / "out")
    recorded = manifest(result)["agreement"]["approval"]
    assert recorded == {
        "approved": True,
        "custodian_fingerprint": installed.custodian_fingerprint,
        "package_version": 1,
        "unapproved_accepted": False,
    }
    (entry,) = [e for e in entries(partner) if e["event"] == "export"]
    assert entry["details"]["approval"] == recorded
    report = listing_to_html(entries(partner), _verified(partner), AuditFilter())
    assert "UNAPPROVED" not in report and "approved: installed from agreement package version 1" in report

    # the recipient (the county) knows the partner's installation, and so accepts and opens the export
    recipient = Party(tmp_path / "county")
    with partner.active() as store:
        partner_fingerprint = installation_signer(store).fingerprint
    with recipient.active() as store:
        known = known_signers(store)
        assert not inspect_package(result.output, known_signers=known).ok  # an installation it does not know
        add_signer(store, partner_fingerprint, "School A (Families First)")
        cert, key = world["county"]
        seen = inspect_package(result.output, known_signers=known_signers(store), certificate=cert, private_key=key)
    assert seen.ok, [c for c in seen.checks if not c.ok]
    assert describe_manifest(seen.manifest).startswith(
        "Families First (approved: installed from agreement package version 1"
    )


def test_an_unapproved_profile_exports_only_when_confirmed_and_is_flagged(world, tmp_path):
    loose = write_profile(world)  # the custodian's own profile file, opened on the partner's PC
    install(world, pack(world, loose))  # the partner holds the key, but this file is not the installed one
    partner = world["partner"]
    with partner.active() as store:
        assert approval_of(store, load_profile(loose)) == UNAPPROVED

    with pytest.raises(NotApproved, match="not installed from an agreement package") as refused:
        export(partner, loose, world["source"], tmp_path / "refused")
    assert "confirm" in str(refused.value) and "File > Install agreement" in str(refused.value)
    assert not (tmp_path / "refused").exists()  # nothing written, not even the folder
    failed = [e for e in entries(partner) if e["event"] == "export.failed"]
    assert failed[-1]["details"]["error"] == "NotApproved"
    assert failed[-1]["details"]["approval"]["approved"] is False

    result = export(partner, loose, world["source"], tmp_path / "out", unapproved_accepted=True)
    recorded = manifest(result)["agreement"]["approval"]
    assert recorded == {
        "approved": False,
        "custodian_fingerprint": "",
        "package_version": 0,
        "unapproved_accepted": True,
    }
    (entry,) = [e for e in entries(partner) if e["event"] == "export"]
    assert entry["details"]["approval"] == recorded
    report = listing_to_html(entries(partner), _verified(partner), AuditFilter())
    assert "1 export(s) under an unapproved profile" in report and f"#{entry['seq']}" in report
    assert "(UNAPPROVED PROFILE)" in report and "NOT APPROVED" in report


def test_a_changed_installed_profile_is_refused_and_reinstalling_restores_it(world, tmp_path):
    data = pack(world, write_profile(world))
    installed = install(world, data)
    path = installed.profile_path
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    path.write_text(path.read_text(encoding="utf-8").replace('"SEX"', '"GENDER"'), encoding="utf-8")
    partner = world["partner"]
    with partner.active() as store:
        with pytest.raises(AgreementRefused, match="changed since it was installed"):
            approval_of(store, load_profile(path))
    assert not installed_agreements(partner.store)[0].intact

    again = install(world, data)  # the same package restores the approved profile
    assert again.intact and again.version == 1
    with partner.active() as store:
        assert approval_of(store, load_profile(again.profile_path)).approved
    last = [e for e in entries(partner) if e["event"] == "agreement.installed"][-1]
    assert last["details"]["reinstalled"] is True and last["details"]["previous_version"] == 1


def test_reinstalling_restores_a_key_lost_from_the_keyring(world, tmp_path):
    data = pack(world, write_profile(world))
    install(world, data)
    partner = world["partner"]
    key_id = world["key"].id
    del partner.ring.store[next(k for k in partner.ring.store if key_id in str(k))]
    with partner.active() as store, pytest.raises(Exception, match="missing"):
        store.load(key_id)
    install(world, data)
    with partner.active() as store:
        assert store.load(key_id).fingerprint == world["key"].fingerprint


def test_the_machine_policy_forbids_unapproved_exports(world, tmp_path, machine_policy_file):
    loose = write_profile(world)
    installed = install(world, pack(world, loose))
    machine_policy_file.write_text("allow_unapproved_exports = false\n", encoding="utf-8")
    with pytest.raises(PolicyForbids, match="allow_unapproved_exports = false") as refused:
        export(world["partner"], loose, world["source"], tmp_path / "refused", unapproved_accepted=True)
    assert str(machine_policy_file) in str(refused.value) and "File > Install agreement" in str(refused.value)
    assert not (tmp_path / "refused").exists()
    # the approved agreement still exports
    assert export(world["partner"], installed.profile_path, world["source"], tmp_path / "out").rows_written == 3


def test_the_machine_policy_forbids_loose_key_imports(world, machine_policy_file):
    with world["custodian"].active() as store:
        keyfile = store.export_with_passphrase(world["key"].id, PASS)
    machine_policy_file.write_text("allow_key_import = false\n", encoding="utf-8")
    with world["partner"].active() as store:
        with pytest.raises(PolicyForbids, match="allow_key_import = false"):
            store.import_file(keyfile, confirm_fingerprint=world["key"].fingerprint, passphrase=PASS)
        with pytest.raises(PolicyForbids, match="outside an agreement package"):
            store.create("OP salt", kind="op-salt", secret=b"mackerel")
        assert store.keys() == []
        store.create("A new project key")  # making a key is not importing one
    # an agreement package still brings its key
    assert install(world, pack(world, write_profile(world))).key_id == world["key"].id


@pytest.mark.parametrize(
    "text, problem",
    [
        ("allow_unapproved_export = false\n", "settings this version does not know: allow_unapproved_export"),
        ('allow_unapproved_exports = "no"\n', "must be true or false"),
        ("allow_unapproved_exports = \n", "not valid TOML"),
    ],
)
def test_a_policy_file_that_cannot_be_used_fails_closed(world, tmp_path, machine_policy_file, text, problem):
    machine_policy_file.write_text(text, encoding="utf-8")
    assert problem in machine_policy().problem
    loose = write_profile(world)
    install(world, pack(world, loose))
    with pytest.raises(PolicyForbids, match="cannot be used") as refused:
        export(world["partner"], loose, world["source"], tmp_path / "out", unapproved_accepted=True)
    assert problem in str(refused.value) and str(machine_policy_file) in str(refused.value)


def test_no_policy_file_allows_everything(machine_policy_file):
    assert not machine_policy_file.exists()
    policy = machine_policy()
    assert policy.allow_unapproved_exports and policy.allow_key_import and not policy.problem


def test_an_agreement_not_installed_is_named_with_those_that_are(world):
    install(world, pack(world, write_profile(world)))
    with world["partner"].active() as store, pytest.raises(AgreementRefused) as refused:
        installed_profile(store, "Families Second")
    assert "'Families First'" in str(refused.value) and "agreement install" in str(refused.value)


def _verified(party):
    with party.active() as store:
        signer = installation_signer(store)
        return verify_log(party.folder / LOG_NAME, signer.private.public_key(), signer.fingerprint)
