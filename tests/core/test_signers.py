"""The partner installations a recipient accepts packages from."""

from __future__ import annotations

import pytest

from pseudodesk.core.audit.log import read_entries
from pseudodesk.core.errors import KeyProblem
from pseudodesk.core.keys.installation import AuditTrail, installation_signer
from pseudodesk.core.keys.signers import THIS_INSTALLATION, add_signer, known_signers, remove_signer
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.package.inspection import inspect_package
from tests.helpers import KEY_A, TEST_SIGNER, run


def pilot_package(tmp_path, demo_paths):
    """A package signed with the tests' fixed installation key."""
    from dataclasses import replace

    from pseudodesk.core.agreement.mapping import load_mapping
    from pseudodesk.core.agreement.model import KeyRef
    from pseudodesk.core.agreement.profile import load_profile
    from pseudodesk.core.read.dispatch import read_table

    profile = replace(load_profile(demo_paths["profile"]), key=KeyRef())
    table, mapping = read_table(demo_paths["spreadsheet"]), load_mapping(demo_paths["mapping"])
    return run(profile, table, mapping, KEY_A, tmp_path, allow_demo_recipient=True, accept_expired=True).output


def test_this_installation_and_added_partners_are_known(private_data_dir, memory_keyring):
    store = KeyStore()
    own = installation_signer(store).fingerprint
    assert known_signers(store) == {own: THIS_INSTALLATION}
    printed = add_signer(store, TEST_SIGNER.fingerprint.lower().replace("-", " "), "Lincs CC, data team")
    assert printed == TEST_SIGNER.fingerprint
    assert known_signers(store)[printed] == "Lincs CC, data team"
    remove_signer(store, printed)
    assert printed not in known_signers(store)
    events = [e["event"] for _, e, _ in read_entries(AuditTrail(store).path) if e]
    assert events.count("signer.added") == 1 and events.count("signer.removed") == 1


def test_a_package_from_an_unknown_installation_is_not_accepted(tmp_path, demo_paths, private_data_dir, memory_keyring):
    package = pilot_package(tmp_path, demo_paths)  # signed with TEST_SIGNER
    store = KeyStore()
    unknown = inspect_package(package, known_signers=known_signers(store))
    (signature,) = [c for c in unknown.checks if c.name == "manifest signature"]
    assert not unknown.ok and "an installation you do not know" in signature.detail
    add_signer(store, TEST_SIGNER.fingerprint, "Partner")
    assert inspect_package(package, known_signers=known_signers(store)).ok
    assert inspect_package(package).ok  # no list given: any valid signature, as the core always did


def test_a_damaged_list_is_refused_not_ignored(private_data_dir, memory_keyring):
    store = KeyStore()
    (private_data_dir / "known-signers.json").write_text("{not json")
    with pytest.raises(KeyProblem, match="is damaged"):
        known_signers(store)
