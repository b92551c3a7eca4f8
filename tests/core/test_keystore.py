"""Key store over the OS keyring (tests use an in-memory backend)."""

from __future__ import annotations

import json

import pytest

from pseudodesk.core import keystore
from pseudodesk.core.errors import KeyProblem, NoKeyringBackend


def test_create_and_load(memory_keyring, private_data_dir):
    info = keystore.create_key("LCP scorecard 2026")
    key = keystore.load_key(info.id)
    assert len(key.secret) == 32 and key.fingerprint == info.fingerprint and key.name == "LCP scorecard 2026"
    stored = memory_keyring.store[("pseudodesk", info.id)]
    assert stored.startswith("pdk1:") and len(stored.encode()) < 2560
    # metadata on disk holds no secret
    meta = (private_data_dir / "keys.json").read_text()
    assert info.id in meta and stored[5:] not in meta and key.secret.hex() not in meta
    assert [k.id for k in keystore.list_keys()] == [info.id]
    assert json.loads(meta)["keys"][0]["fingerprint"] == info.fingerprint


def test_keys_are_random(memory_keyring):
    a, b = keystore.create_key("a"), keystore.create_key("b")
    assert a.id != b.id and a.fingerprint != b.fingerprint


def test_missing_key_names_the_id(memory_keyring):
    with pytest.raises(KeyProblem, match="Key pdk-nothere is not in this computer's keyring"):
        keystore.load_key("pdk-nothere")


def test_damaged_key(memory_keyring):
    memory_keyring.store[("pseudodesk", "pdk-x")] = "pdk1:not base64!"
    with pytest.raises(KeyProblem, match="damaged"):
        keystore.load_key("pdk-x")


def test_no_keyring_backend_says_how_to_proceed(monkeypatch):
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(NoKeyringBackend, match="No OS keyring is available") as info:
            keystore.create_key("x")
        assert "Windows Credential Manager" in str(info.value) and "pseudodesk-cli demo" in str(info.value)
    finally:
        keyring.set_keyring(previous)


def test_key_needs_a_name(memory_keyring):
    with pytest.raises(KeyProblem, match="needs a name"):
        keystore.create_key("  ")
