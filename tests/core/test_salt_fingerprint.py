"""OpenPseudonymiser salt fingerprints: one scrypt per guess, and legacy fingerprints still work."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

import pseudodesk.core.keys.store as store_module
from pseudodesk.core.errors import KeyProblem
from pseudodesk.core.fingerprint import slow_fingerprint
from pseudodesk.core.keys.fingerprints import fingerprint_matches, is_legacy, secret_fingerprint
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.transform.pseudonym import key_fingerprint
from tests.helpers import keyring_backend, new_keyring

PASS = "correct horse battery staple"
# scrypt(b"mackerel", salt=b"pseudodesk/op-salt-fingerprint/v2", N=2**16, r=8, p=1, 10 bytes),
# also computed with the cryptography package's Scrypt: the salt's fingerprint everywhere
MACKEREL = "C91F-44B5-AF87-9074-FFB2"
MACKEREL_LEGACY = "57DB-D062-C282-7505"  # the fast check value earlier versions stored


def test_known_answer_is_scrypt_not_a_fast_hash():
    assert slow_fingerprint(b"mackerel") == MACKEREL
    assert secret_fingerprint("op-salt", b"mackerel") == MACKEREL
    raw = MACKEREL.replace("-", "").lower()
    assert (
        raw
        == hashlib.scrypt(
            b"mackerel", salt=b"pseudodesk/op-salt-fingerprint/v2", n=2**16, r=8, p=1, maxmem=2**27, dklen=10
        ).hex()
    )
    fast = [
        hashlib.sha256(b"mackerel").hexdigest(),
        hmac.new(b"mackerel", b"pseudodesk key check value v1", hashlib.sha256).hexdigest(),
    ]
    assert not any(f.startswith(raw) for f in fast)
    assert key_fingerprint(b"mackerel") == MACKEREL_LEGACY  # project keys keep their check value
    assert secret_fingerprint("project-key", b"mackerel") == MACKEREL_LEGACY


def test_every_guess_costs_a_scrypt(monkeypatch):
    calls = []
    real = hashlib.scrypt

    def counting(*args, **kwargs):
        calls.append(kwargs["n"] * kwargs["r"] * 128)  # bytes of memory the call needs
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    guesses = ["haddock", "herring", "mackerel"]
    found = [g for g in guesses if fingerprint_matches("op-salt", g.encode(), MACKEREL)]
    assert found == ["mackerel"]
    assert calls == [64 * 2**20] * 3  # one 64 MiB scrypt per guess


def test_stored_and_audited_salt_fingerprints_are_slow(tmp_path):
    with keyring_backend(new_keyring()):
        store = KeyStore(tmp_path / "c")
        salt = store.create("OP salt", kind="op-salt", secret=b"mackerel")
        key = store.create("project key")
        keyfile = json.loads(store.export_with_passphrase(salt.id, PASS))
    assert salt.fingerprint == MACKEREL
    listed = json.loads((tmp_path / "c" / "keys.json").read_text())["keys"]
    assert [k["fingerprint"] for k in listed] == [MACKEREL, key.fingerprint]
    assert keyfile["fingerprint"] == MACKEREL
    log = (tmp_path / "c" / "audit.jsonl").read_text()
    assert MACKEREL in log and MACKEREL_LEGACY not in log


def _legacy_store(tmp_path, ring):
    """A key list as an earlier version left it: the salt under its fast fingerprint."""
    with keyring_backend(ring):
        store = KeyStore(tmp_path / "old")
        salt = store.create("OP salt", kind="op-salt", secret=b"mackerel")
    path = tmp_path / "old" / "keys.json"
    doc = json.loads(path.read_text())
    doc["keys"][0]["fingerprint"] = MACKEREL_LEGACY
    path.write_text(json.dumps(doc))
    return store, salt.id


def test_a_legacy_entry_is_upgraded_when_the_salt_is_used(tmp_path):
    ring = new_keyring()
    store, salt_id = _legacy_store(tmp_path, ring)
    assert is_legacy("op-salt", store.info(salt_id).fingerprint)
    with keyring_backend(ring):
        assert store.load_salt(salt_id) == "mackerel"
    assert store.info(salt_id).fingerprint == MACKEREL
    entries = [json.loads(line) for line in (tmp_path / "old" / "audit.jsonl").read_text().splitlines()]
    assert entries[-1]["event"] == "key.fingerprint_upgraded"
    assert entries[-1]["details"]["fingerprint"] == MACKEREL
    assert MACKEREL_LEGACY not in json.dumps(entries[-1])


def test_a_wrong_stored_fingerprint_is_refused(tmp_path):
    ring = new_keyring()
    store, salt_id = _legacy_store(tmp_path, ring)
    path = tmp_path / "old" / "keys.json"
    doc = json.loads(path.read_text())
    doc["keys"][0]["fingerprint"] = "0000-0000-0000-0000"
    path.write_text(json.dumps(doc))
    with keyring_backend(ring), pytest.raises(KeyProblem, match="does not match its fingerprint"):
        store.load_salt(salt_id)


def test_a_key_file_from_an_earlier_version_still_imports(tmp_path, monkeypatch):
    ring = new_keyring()
    store, salt_id = _legacy_store(tmp_path, ring)
    with keyring_backend(ring), monkeypatch.context() as m:
        m.setattr(store_module, "is_legacy", lambda kind, fingerprint: False)  # export as before
        data = store.export_with_passphrase(salt_id, PASS)
    assert json.loads(data)["fingerprint"] == MACKEREL_LEGACY
    with keyring_backend(new_keyring()):
        partner = KeyStore(tmp_path / "partner")
        imported = partner.import_file(data, passphrase=PASS, confirm_fingerprint=MACKEREL_LEGACY)
        assert imported.fingerprint == MACKEREL  # stored in the slow form from now on
        assert partner.load_salt(salt_id) == "mackerel"
    with keyring_backend(new_keyring()):
        other = KeyStore(tmp_path / "other")
        with pytest.raises(KeyProblem, match="does not match"):
            other.import_file(data, passphrase=PASS, confirm_fingerprint="57DB-D062-C282-7506")
        assert other.import_file(data, passphrase=PASS, confirm_fingerprint=MACKEREL.lower()).fingerprint == MACKEREL
