"""Key store: keyring and local vault, key files, expiry, rotation, and no secret anywhere it should not be."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re

import pytest

from pseudodesk.core.errors import KeyProblem, NoKeyringBackend
from pseudodesk.core.keys.keyfile import read_keyfile
from pseudodesk.core.keys.store import KeyExpired, KeyStore
from pseudodesk.core.transform.pseudonym import pseudonym
from tests.helpers import certificate, keyring_backend, new_keyring

PASS = "correct horse battery staple"


def leak_forms(secret: bytes) -> list[str]:
    b64 = base64.b64encode(secret).decode()
    return [secret.hex(), secret.hex().upper(), b64, b64.rstrip("="), base64.urlsafe_b64encode(secret).decode()]


def assert_no_secret(text: str | bytes, secret: bytes) -> None:
    if isinstance(text, bytes):
        assert secret not in text
        text = text.decode("utf-8", "replace")
    for form in leak_forms(secret):
        assert form not in text


def test_create_list_show_and_load(memory_keyring, private_data_dir):
    store = KeyStore()
    info = store.create("LCP scorecard 2026", agreement="LCP Scorecard", expires=dt.date(2027, 3, 31))
    key = store.load(info.id)
    assert len(key.secret) == 32 and key.fingerprint == info.fingerprint
    assert [k.id for k in store.keys()] == [info.id]
    assert store.info(info.id).agreement == "LCP Scorecard" and store.info(info.id).expires == "2027-03-31"
    stored = memory_keyring.store[("pseudodesk", info.id)]
    assert stored.startswith("pdk1:") and len(stored.encode()) < 2560  # Credential Manager's blob limit
    meta = json.loads((private_data_dir / "keys.json").read_text())
    assert set(meta["keys"][0]) >= {"id", "name", "agreement", "created", "expires", "fingerprint", "status"}


def test_two_stores_importing_one_keyfile_make_identical_pseudonyms(tmp_path):
    custodian_ring, partner_a_ring, partner_b_ring, other_ring = (new_keyring() for _ in range(4))
    with keyring_backend(custodian_ring):
        custodian = KeyStore(tmp_path / "custodian")
        info = custodian.create("LCP")
        keyfile = custodian.export_with_passphrase(info.id, PASS)
    values = ["9434765919", "4505577104"]
    results = []
    for ring, folder in ((partner_a_ring, "a"), (partner_b_ring, "b")):
        with keyring_backend(ring):
            store = KeyStore(tmp_path / folder)
            imported = store.import_file(keyfile, passphrase=PASS, confirm_fingerprint=info.fingerprint.lower())
            assert imported.id == info.id  # the custodian's id, so profiles name the same key everywhere
            key = store.load(info.id)
            results.append([pseudonym(key, "PERSON_ID", [v]) for v in values])
    with keyring_backend(other_ring):
        other = KeyStore(tmp_path / "other")
        other_key = other.load(other.create("someone else's").id)
        third = [pseudonym(other_key, "PERSON_ID", [v]) for v in values]
    assert results[0] == results[1]
    assert not set(third) & set(results[0])
    assert partner_a_ring.store is not partner_b_ring.store


def test_passphrase_keyfile_errors(memory_keyring, tmp_path):
    store = KeyStore(tmp_path / "c")
    info = store.create("k")
    data = store.export_with_passphrase(info.id, PASS)
    with pytest.raises(KeyProblem, match="Wrong passphrase"):
        read_keyfile(data, passphrase="wrong passphrase!")
    with pytest.raises(KeyProblem, match="protected by a passphrase"):
        read_keyfile(data)
    doc = json.loads(data)
    doc["name"] = "a different name"  # metadata is sealed with the key: any change is detected
    with pytest.raises(KeyProblem, match="Wrong passphrase .* or the file has been tampered"):
        read_keyfile(json.dumps(doc).encode(), passphrase=PASS)
    doc = json.loads(data)
    ct = bytearray(base64.b64decode(doc["ciphertext"]))
    ct[0] ^= 1
    doc["ciphertext"] = base64.b64encode(bytes(ct)).decode()
    with pytest.raises(KeyProblem, match="tampered"):
        read_keyfile(json.dumps(doc).encode(), passphrase=PASS)
    with pytest.raises(KeyProblem, match="not a pseudodesk key file"):
        read_keyfile(b"hello")
    partner = KeyStore(tmp_path / "p")
    with pytest.raises(KeyProblem, match="fingerprint you entered does not match") as refused:
        partner.import_file(data, passphrase=PASS, confirm_fingerprint="0000-0000-0000-0000")
    assert not re.search(r"[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}", str(refused.value))  # never the right one
    assert partner.keys() == []
    assert json.loads(data)["kdf"]["n"] >= 2**17


def test_certificate_wrapped_keyfile(memory_keyring, tmp_path):
    store = KeyStore(tmp_path / "c")
    info = store.create("k")
    partner_cert, partner_key = certificate(tmp_path, "partner")
    stranger_cert, stranger_key = certificate(tmp_path, "stranger")
    data = store.export_to_certificates(info.id, [partner_cert])
    meta, secret = read_keyfile(data, certificate=partner_cert, private_key=partner_key)
    assert meta["key_id"] == info.id and store.load(info.id).secret == secret
    with pytest.raises(KeyProblem, match="not wrapped to your certificate"):
        read_keyfile(data, certificate=stranger_cert, private_key=stranger_key)
    with pytest.raises(KeyProblem, match="give your certificate and its private key"):
        read_keyfile(data)
    doc = json.loads(data)
    doc["expires"] = "2099-01-01"
    with pytest.raises(KeyProblem, match="tampered"):
        read_keyfile(json.dumps(doc).encode(), certificate=partner_cert, private_key=partner_key)


def test_a_salt_travels_in_a_key_file_as_a_salt(tmp_path):
    with keyring_backend(new_keyring()):
        custodian = KeyStore(tmp_path / "c")
        salt = custodian.create("OP salt", kind="op-salt", secret=b"mackerel")
        data = custodian.export_with_passphrase(salt.id, PASS)
        key_file = custodian.export_with_passphrase(custodian.create("k").id, PASS)
    assert json.loads(data)["kind"] == "op-salt" and "kind" not in json.loads(key_file)
    with keyring_backend(new_keyring()):
        partner = KeyStore(tmp_path / "p")
        imported = partner.import_file(data, passphrase=PASS, confirm_fingerprint=salt.fingerprint)
        assert imported.kind == "op-salt" and partner.load_salt(salt.id) == "mackerel"
        with pytest.raises(KeyProblem, match="not a project key"):
            partner.load(salt.id)
    doc = json.loads(data)
    doc["kind"] = "project-key"  # sealed with the salt: a file cannot pass a salt off as a key
    with pytest.raises(KeyProblem, match="tampered"):
        read_keyfile(json.dumps(doc).encode(), passphrase=PASS)


def test_expiry_warns_and_needs_confirmation(memory_keyring):
    store = KeyStore()
    info = store.create("old agreement", expires=dt.date(2020, 1, 1))
    with pytest.raises(KeyExpired, match="expired on 2020-01-01"):
        store.load(info.id)
    assert store.load(info.id, accept_expired=True).fingerprint == info.fingerprint
    assert store.load(info.id, purpose="reidentify").fingerprint == info.fingerprint


def test_rotation_retires_the_old_key(memory_keyring):
    store = KeyStore()
    old = store.create("LCP", expires=dt.date(2030, 1, 1))
    new = store.rotate(old.id)
    assert new.id != old.id and new.fingerprint != old.fingerprint and new.rotated_from == old.id
    assert new.expires == "2030-01-01"
    retired = store.info(old.id)
    assert (retired.status, retired.replaced_by) == ("retired", new.id)
    with pytest.raises(KeyProblem, match=f"retired .* replaced by {new.id}"):
        store.load(old.id)
    assert store.load(old.id, purpose="reidentify").fingerprint == old.fingerprint
    assert [k.id for k in store.lineage(new.id)] == [new.id, old.id]
    with pytest.raises(KeyProblem, match="already retired"):
        store.rotate(old.id)


def test_delete(memory_keyring):
    store = KeyStore()
    info = store.create("temporary")
    store.delete(info.id)
    assert store.keys() == [] and ("pseudodesk", info.id) not in memory_keyring.store
    with pytest.raises(KeyProblem, match="not in this computer's key list"):
        store.load(info.id)


def test_no_keyring_offers_the_local_store(tmp_path):
    from keyring.backends import fail

    with keyring_backend(fail.Keyring()):
        with pytest.raises(NoKeyringBackend, match="passphrase-protected local key store"):
            KeyStore(tmp_path).create("x")
        store = KeyStore(tmp_path, vault_passphrase=lambda: PASS)
        info = store.create("x")
        assert info.store == "local"
        again = KeyStore(tmp_path, vault_passphrase=lambda: PASS).load(info.id)
        assert again.fingerprint == info.fingerprint
        with pytest.raises(KeyProblem, match="Wrong passphrase for the local key store"):
            KeyStore(tmp_path, vault_passphrase=lambda: "not the passphrase").load(info.id)
        vault = (tmp_path / "keys.vault").read_bytes()
        assert_no_secret(vault, again.secret)
        with pytest.raises(KeyProblem, match="at least 12 characters"):
            KeyStore(tmp_path / "new", vault_passphrase=lambda: "short").create("y")


def test_no_secret_in_files_logs_exceptions_or_reprs(memory_keyring, private_data_dir, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    store = KeyStore()
    info = store.create("LCP")
    key = store.load(info.id)
    secret = key.secret
    data = store.export_with_passphrase(info.id, PASS)
    new = store.rotate(info.id)
    new_secret = store.load(new.id).secret
    messages = []
    for attempt in (
        lambda: read_keyfile(data, passphrase="wrong passphrase!"),
        lambda: KeyStore(tmp_path / "p").import_file(data, passphrase=PASS, confirm_fingerprint="0000"),
        lambda: store.load("pdk-missing"),
    ):
        with pytest.raises(KeyProblem) as excinfo:
            attempt()
        messages.append(str(excinfo.value) + repr(excinfo.value))
    texts = [repr(key), str(key), repr(store), repr(store.info(info.id)), caplog.text, *messages, data.decode()]
    for path in private_data_dir.rglob("*"):
        if path.is_file():
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    assert any(p.name == "audit.jsonl" for p in private_data_dir.rglob("*"))
    for text in texts:
        assert_no_secret(text, secret)
        assert_no_secret(text, new_secret)
