"""The audit log: signed, hash-chained, locked; every kind of tampering is detected and named."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pseudodesk.core.audit.log import AuditLog, installation_public_key, read_entries, verify_log
from pseudodesk.core.keys.installation import installation_signer, record
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.package.signing import Signer


@pytest.fixture
def log(memory_keyring, private_data_dir):
    store = KeyStore()
    for i in range(5):
        record(store, "test.event", {"n": i})
    public, fingerprint = installation_public_key(private_data_dir)
    path = private_data_dir / "audit.jsonl"
    return path, public, fingerprint


def verify(path, public, fingerprint):
    return verify_log(path, public, fingerprint)


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_key_operations_are_audited_without_secrets(memory_keyring, private_data_dir):
    store = KeyStore()
    info = store.create("LCP")
    store.export_with_passphrase(info.id, "correct horse battery staple")
    new = store.rotate(info.id)
    store.delete(new.id)
    events = [e["event"] for _, e, _ in read_entries(private_data_dir / "audit.jsonl")]
    assert events == ["key.created", "key.exported", "key.rotated", "key.deleted"]
    entry = json.loads(lines(private_data_dir / "audit.jsonl")[0])
    assert entry["details"]["fingerprint"] == info.fingerprint and entry["user"] and entry["machine"]
    public, fingerprint = installation_public_key(private_data_dir)
    assert verify(private_data_dir / "audit.jsonl", public, fingerprint).ok


def test_a_clean_log_verifies(log):
    result = verify(*log)
    assert result.ok and result.entries == 5


def test_flipped_byte_in_an_entry_is_named(log):
    path = log[0]
    data = bytearray(path.read_bytes())
    data[data.index(b'"n":2') + 4] = ord("7")
    path.write_bytes(bytes(data))
    result = verify(*log)
    assert [(p.line, p.kind) for p in result.problems][:1] == [(3, "edited")]
    assert "entry 3 was changed after it was signed" in str(result.problems[0])


def test_deleted_entry_is_named(log):
    path = log[0]
    kept = lines(path)
    path.write_bytes(b"".join(kept[:2] + kept[3:]))
    (problem,) = verify(*log).problems
    assert (problem.line, problem.kind) == (3, "deleted") and "entries 3 to 3 are missing" in problem.detail


def test_reordered_entries_are_named(log):
    path = log[0]
    kept = lines(path)
    kept[1], kept[2] = kept[2], kept[1]
    path.write_bytes(b"".join(kept))
    kinds = [p.kind for p in verify(*log).problems]
    assert "reordered" in kinds


def test_a_torn_last_line_is_named_then_repaired_with_a_recorded_note(log, memory_keyring, private_data_dir):
    path = log[0]
    data = path.read_bytes()
    path.write_bytes(data[:-40])  # a crash in the middle of writing the last entry
    torn = data[data.rfind(b"\n", 0, len(data) - 1) + 1 : -40]
    (problem,) = verify(*log).problems
    assert (problem.line, problem.kind) == (5, "truncated")
    record(KeyStore(), "after.crash", {})
    record(KeyStore(), "after.crash", {})
    result = verify(*log)
    assert result.ok, [str(p) for p in result.problems]
    assert result.entries == 7  # four intact, the repair note, two new
    entries = [e for _, e, _ in read_entries(path)]
    repair = entries[4]
    assert repair["event"] == "audit.repaired" and repair["seq"] == 5
    assert repair["details"]["removed_bytes"] == len(torn)
    assert repair["details"]["removed_sha256"] == hashlib.sha256(torn).hexdigest()
    assert [e["event"] for e in entries[5:]] == ["after.crash", "after.crash"]


def test_entries_signed_by_another_key_are_named(log):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = log[0]
    AuditLog(path, Signer(Ed25519PrivateKey.generate())).append("forged", {})
    problems = verify(*log).problems
    assert [(p.line, p.kind) for p in problems] == [(6, "foreign-signer")]


def test_unsigned_edit_of_whitespace_is_detected(log):
    path = log[0]
    kept = lines(path)
    kept[0] = kept[0].replace(b'"event":', b'"event": ')
    path.write_bytes(b"".join(kept))
    kinds = {(p.line, p.kind) for p in verify(*log).problems}
    assert (1, "edited") in kinds and (2, "edited") in kinds  # and the chain notices too


CHILD = r"""
import sys
from pathlib import Path
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pseudodesk.core.audit.log import AuditLog
from pseudodesk.core.package.signing import Signer
log = AuditLog(Path(sys.argv[1]), Signer(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(sys.argv[2]))))
for i in range(int(sys.argv[3])):
    log.append("concurrent", {"writer": sys.argv[4], "i": i})
"""


def test_two_processes_appending_concurrently(tmp_path, memory_keyring):
    from cryptography.hazmat.primitives import serialization

    store = KeyStore(tmp_path)
    signer = installation_signer(store)
    seed = signer.private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    ).hex()
    path = tmp_path / "audit.jsonl"
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(path), seed, "500", name]) for name in "AB"]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    public, fingerprint = installation_public_key(tmp_path)
    result = verify_log(path, public, fingerprint)
    assert result.ok, result.problems[:3]
    assert result.entries == 1000
    writers = [e["details"]["writer"] for _, e, _ in read_entries(path)]
    assert writers.count("A") == 500 and writers.count("B") == 500


def test_a_line_that_is_json_but_not_an_entry_is_damaged_not_a_crash(tmp_path):
    """A hand-added {"seq": 8} must be reported by verify and skipped by the report, not raise."""
    from pseudodesk.core.audit.listing import AuditFilter, audit_listing, listing_to_csv
    from pseudodesk.core.audit.log import read_entries

    log = tmp_path / "audit.jsonl"
    log.write_bytes(b'{"seq": 8}\n{"seq": 9, "event": "x", "time": "yesterday", "details": {}}\n')
    assert [entry for _, entry, _ in read_entries(log)] == [None, None]
    assert listing_to_csv(audit_listing(log, AuditFilter())).count("\r\n") == 1  # the header only


def test_demo_exports_are_recorded_as_demo_and_listed_apart(tmp_path, private_data_dir, memory_keyring):
    """A demo export is never an export under the real agreement's name: its event is
    export.demo, its agreement "DEMO: ...", and the IG report lists it in a section of its own."""
    from pseudodesk.core.audit.listing import AuditFilter, audit_listing, listing_to_html
    from pseudodesk.core.keys.installation import AuditTrail
    from pseudodesk.core.keys.store import KeyStore
    from pseudodesk.core.run.demo import run_demo

    run_demo(tmp_path / "demo")
    run_demo(tmp_path / "demo", overwrite=True)
    trail = AuditTrail(KeyStore())
    entries = audit_listing(trail.path, AuditFilter())
    demos = [e for e in entries if e["event"] == "export.demo"]
    assert len(demos) == 2 and not [e for e in entries if e["event"] in ("export", "profile.changed")]
    assert {e["details"]["agreement"] for e in demos} == {"DEMO: Lincolnshire LCP Scorecard"}
    assert trail.last_profile_sha256("Lincolnshire LCP Scorecard") is None
    verification = verify_log(trail.path, *installation_public_key(private_data_dir))
    report = listing_to_html(entries, verification, AuditFilter())
    assert "Demo exports (synthetic data, not under any agreement)" in report and "<h2>Export #" not in report


@pytest.mark.parametrize(
    ("event", "details", "expected"),
    [
        (
            "agreement.packed",
            {"package_version": 2, "key_fingerprint": "AAAA", "custodian_fingerprint": "BBBB"},
            "version 2 packed, key AAAA, signed by BBBB",
        ),
        (
            "agreement.installed",
            {"package_version": 3, "previous_version": 2, "custodian_fingerprint": "BBBB"},
            "version 3 from custodian BBBB, replacing version 2",
        ),
        ("signer.added", {"fingerprint": "CCCC", "name": "Partner team"}, "CCCC Partner team"),
    ],
)
def test_agreement_and_signer_events_have_summaries(event, details, expected):
    from pseudodesk.core.audit.listing import entry_summary

    assert entry_summary({"event": event, "details": details}) == expected
