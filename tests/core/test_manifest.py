"""Signed manifests and package inspection: tampering with either file is detected and named."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

from pseudodesk.core.agreement.mapping import suggest_mapping
from pseudodesk.core.agreement.profile import parse_profile
from pseudodesk.core.audit.log import read_entries
from pseudodesk.core.errors import Cancelled, ChecksBlockExport
from pseudodesk.core.keys.installation import AuditTrail
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.package.inspection import decrypt_bytes, inspect_package
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.core.run.demo import run_demo
from pseudodesk.core.transform.pseudonym import ProjectKey
from tests.helpers import TEST_SIGNER, decrypt_cms, run

KEY = ProjectKey("k", bytes(range(32)))
PROFILE = """
format = "pseudodesk-profile/1"
[agreement]
name = "Pilot"
version = "3"
[recipient]
mode = "passphrase"
[checks]
scan_identifiers = {scan}
[[source_fields]]
id = "nhs"
convention = "nhs_number"
aliases = ["NHS"]
[[source_fields]]
id = "notes"
convention = "text"
aliases = ["Notes"]
[[output_fields]]
name = "ID"
role = "pseudonym"
from = "nhs"
[[output_fields]]
name = "NOTES"
role = "keep"
from = "notes"
[metadata]
supplier = "Example District Council"
registration_number = "Z1234567"
indicators = ["NI 110"]
frequency = "monthly"
next_refresh = "2026-12-07"
"""


def pilot(tmp_path, notes=("first visit", "second visit"), scan="true"):
    (tmp_path / "src.csv").write_text(
        "Name,NHS,Notes\n"
        + "".join(f"Person {i},{n},{note}\n" for i, (n, note) in enumerate(zip(["9434765919", "4505577104"], notes)))
    )
    profile = parse_profile(PROFILE.format(scan=scan).encode())
    table = read_table(tmp_path / "src.csv")
    return profile, table, suggest_mapping(profile, table.header)


@pytest.fixture
def demo_package(tmp_path, demo_paths):
    result = run_demo(tmp_path / "demo")
    return result, demo_paths


def test_manifest_content_and_no_personal_data(tmp_path):
    profile, table, mapping = pilot(tmp_path)
    result = run(profile, table, mapping, KEY, tmp_path / "out", name="pilot")
    doc = json.loads(result.manifest.read_text())
    m = doc["manifest"]
    assert m["format"] == "pseudodesk-manifest/1" and m["app"]["name"] == "pseudodesk"
    assert m["agreement"] == {
        "name": "Pilot",
        "version": "3",
        "profile_sha256": profile.sha256,
        "profile_file": "",
        "demo": False,
        "approval": {"approved": False, "custodian_fingerprint": "", "package_version": 0, "unapproved_accepted": True},
    }
    assert m["source"]["file"] == "src.csv" and m["source"]["rows"] == 2 and len(m["source"]["sha256"]) == 64
    assert m["output"]["columns"] == ["ID", "NOTES"] and m["output"]["rows"] == 2
    assert m["output"]["csv_sha256"] == result.csv_sha256 and m["output"]["encrypted_sha256"] == result.output_sha256
    assert m["stripped_columns"] == ["Name"]
    assert m["key"] == {"id": "k", "fingerprint": KEY.fingerprint, "expired_accepted": False}
    assert m["encryption"]["method"] == "7z-aes-256"
    assert m["metadata"]["registration_number"] == "Z1234567" and m["metadata"]["next_refresh"] == "2026-12-07"
    assert m["checks"]["fields"]["nhs"]["valid"] == 2
    assert {"utc", "local"} <= set(m["created"]) and {"user", "machine"} <= set(m["operator"])
    assert doc["signature"]["algorithm"] == "Ed25519" and doc["signature"]["signer"] == TEST_SIGNER.fingerprint
    text = result.manifest.read_text()
    for personal in ("9434765919", "4505577104", "Person 0", "first visit", KEY.secret.hex()):
        assert personal not in text


def test_demo_package_passes_inspect(demo_package):
    result, paths = demo_package
    quick = inspect_package(result.output)
    assert quick.ok and [c.name for c in quick.checks] == ["manifest signature", "encrypted file"]
    full = inspect_package(result.output, certificate=paths["certificate"], private_key=paths["private_key"])
    assert full.ok, full.checks
    assert [c.name for c in full.checks] == [
        "manifest signature",
        "encrypted file",
        "plaintext",
        "columns",
        "rows",
        "identifier scan",
    ]
    assert inspect_package(result.manifest).ok  # either file names the package


def test_flipped_byte_in_the_manifest_is_detected(demo_package):
    result, _ = demo_package
    data = bytearray(result.manifest.read_bytes())
    data[data.index(b'"rows": 600') + 9] = ord("1")  # 600 -> 610
    result.manifest.write_bytes(bytes(data))
    check = inspect_package(result.output).checks[0]
    assert (check.name, check.ok) == ("manifest signature", False) and "changed after it was signed" in check.detail


def test_flipped_byte_in_the_encrypted_file_is_detected(demo_package):
    result, _ = demo_package
    data = bytearray(result.output.read_bytes())
    data[len(data) // 2] ^= 0x01
    result.output.write_bytes(bytes(data))
    checks = {c.name: c for c in inspect_package(result.output).checks}
    assert checks["manifest signature"].ok and not checks["encrypted file"].ok
    assert "SHA-256 differs" in checks["encrypted file"].detail


def test_manifest_swapped_for_another_exports_fails(tmp_path, demo_package):
    result, _ = demo_package
    other = run_demo(tmp_path / "other")  # same demo, another run: another file
    shutil.copy(other.manifest, result.manifest)
    inspection = inspect_package(result.output)
    assert not inspection.ok
    assert {c.name for c in inspection.checks if not c.ok} == {"encrypted file"}


def test_pinned_signer(demo_package):
    result, _ = demo_package
    signer = json.loads(result.manifest.read_text())["signature"]["signer"]
    assert inspect_package(result.output, pinned_fingerprint=signer.lower()).ok
    check = inspect_package(result.output, pinned_fingerprint="0000-0000-0000-0000-0000").checks[0]
    assert not check.ok and "not by the pinned installation key" in check.detail


def test_decrypt_matches_openssl(demo_package):
    result, paths = demo_package
    expected = decrypt_cms(result.output, paths["private_key"])
    assert decrypt_bytes(result.output, certificate=paths["certificate"], private_key=paths["private_key"]) == expected


def test_passphrase_package_content_checks_and_identifier_scan(tmp_path):
    profile, table, mapping = pilot(tmp_path, notes=("email jo@example.org", "ok"), scan="false")
    result = run(profile, table, mapping, KEY, tmp_path / "out", name="p")  # the scan was switched off...
    inspection = inspect_package(result.output, passphrase=result.passphrase)
    failed = {c.name: c.detail for c in inspection.checks if not c.ok}
    assert failed == {"identifier scan": "row 2, column 'NOTES': email"}  # ...inspection still finds it
    wrong = inspect_package(result.output, passphrase="WRONG-PASS")
    assert not wrong.ok and "cannot be opened with this passphrase" in wrong.checks[-1].detail


def test_a_kept_value_longer_than_the_csv_modules_default_limit_exports_and_inspects(tmp_path):
    """A free-text field kept by the agreement may hold more than the csv module's default
    131,072 characters; the export is inspected in a process that never read a source."""
    import csv

    long = "long case note " * 20_000
    profile, table, mapping = pilot(tmp_path, notes=(f'"{long}"', "ok"), scan="false")
    result = run(profile, table, mapping, KEY, tmp_path / "out", name="p")
    previous = csv.field_size_limit(131_072)  # what a fresh inspect process starts with
    try:
        inspection = inspect_package(result.output, passphrase=result.passphrase)
    finally:
        csv.field_size_limit(previous)
    assert inspection.ok and inspection.decrypted, inspection.checks
    assert next(c for c in inspection.checks if c.name == "rows").detail.startswith("2 data rows")


def test_exports_failures_cancellations_and_profile_changes_are_audited(tmp_path, memory_keyring, private_data_dir):
    trail = AuditTrail(KeyStore())
    profile, table, mapping = pilot(tmp_path)
    run(profile, table, mapping, KEY, tmp_path / "out", name="a", signer=trail.signer, audit=trail)
    with pytest.raises(Cancelled):
        run(
            profile,
            table,
            mapping,
            KEY,
            tmp_path / "out",
            name="b",
            signer=trail.signer,
            audit=trail,
            cancel=lambda: True,
        )
    (tmp_path / "x").mkdir()
    blocked, btable, bmapping = pilot(tmp_path / "x", notes=("jo@example.org", "ok"))
    with pytest.raises(ChecksBlockExport):
        run(blocked, btable, bmapping, KEY, tmp_path / "out", name="c", signer=trail.signer, audit=trail)
    changed = replace(profile, sha256="0" * 64)
    run(changed, table, mapping, KEY, tmp_path / "out", name="d", signer=trail.signer, audit=trail)
    events = [(e["event"], e["details"].get("output")) for _, e, _ in read_entries(private_data_dir / "audit.jsonl")]
    assert events == [
        ("export.started", "a.7z"),
        ("export", "a.7z"),
        ("export.started", "b.7z"),
        ("export.cancelled", None),
        ("export.started", "c.7z"),
        ("export.failed", None),
        ("profile.changed", None),
        ("export.started", "d.7z"),
        ("export", "d.7z"),
    ]
    entries = [e for _, e, _ in read_entries(private_data_dir / "audit.jsonl")]
    failed = entries[5]
    assert failed["details"]["error"] == "ChecksBlockExport" and "jo@example.org" not in json.dumps(failed)
    # each outcome names the export it ends; the manifest anchors the log at the export's start
    assert [e["details"]["export_id"] for e in entries[0:2]] == [entries[0]["details"]["export_id"]] * 2
    assert len({e["details"]["export_id"] for e in entries if "export_id" in e["details"]}) == 4
    manifest = json.loads(next((tmp_path / "out").glob("a*manifest*")).read_text())["manifest"]
    assert manifest["export_id"] == entries[0]["details"]["export_id"]
    assert manifest["audit"]["started_seq"] == entries[0]["seq"]
    assert not (private_data_dir / "exports-in-progress").exists() or not any(
        (private_data_dir / "exports-in-progress").iterdir()
    )


@pytest.mark.parametrize("memo", [1_000_000, 1])
def test_content_scan_reports_every_row_once_per_value_scanned(tmp_path, monkeypatch, memo):
    """Repeated values are scanned once (a memo per column) and still reported on every row."""
    from pseudodesk.core.package import inspection

    monkeypatch.setattr(inspection, "SCAN_MEMO_LIMIT", memo)
    notes = ["email jo@example.org", "ok"] + ["email jo@example.org"] * 5 + ['"two\nlines, 07911 123456"']
    (tmp_path / "src.csv").write_text(
        "Name,NHS,Notes\n"
        + "".join(f"P{i},{['9434765919', '4505577104'][i % 2]},{note}\n" for i, note in enumerate(notes))
    )
    profile = parse_profile(PROFILE.format(scan="false").encode())
    table = read_table(tmp_path / "src.csv")
    result = run(profile, table, suggest_mapping(profile, table.header), KEY, tmp_path / "out", name="p")
    scanned = []
    real = inspection.find_identifiers
    monkeypatch.setattr(inspection, "find_identifiers", lambda value, *a: scanned.append(value) or real(value, *a))
    inspection = inspect_package(result.output, passphrase=result.passphrase)
    failed = {c.name: c.detail for c in inspection.checks if not c.ok}
    assert failed == {
        "identifier scan": "row 2, column 'NOTES': email; row 4, column 'NOTES': email; "
        "row 5, column 'NOTES': email; row 6, column 'NOTES': email; "
        "row 7, column 'NOTES': email and 2 more"
    }
    assert {c.name: c.detail for c in inspection.checks}["rows"].startswith("8 data rows")
    email, multiline = "email jo@example.org", "two lines, 07911 123456"  # the text convention joins lines
    if memo > 1:
        assert scanned == [email, "ok", multiline]
    else:  # a memo of one value: cleared before each new value, a repeat still found
        assert scanned == [email, "ok", email, multiline]


def test_content_check_reads_a_large_package_a_block_at_a_time():
    """40 MiB of decrypted CSV, a 64 KiB block at a time: Python's peak stays a few blocks; the
    hash, the rows and the sink see every byte; progress and cancel are heard per block."""
    import hashlib
    import io
    import tracemalloc

    from pseudodesk.core.package.inspection import _check_content

    # long rows (few of them for the size: the test stays quick), 100 distinct values in all
    block = b"".join(b"%064x,%s\r\n" % (n % 97, b"visit %d " % (n % 3) * 100) for n in range(64))
    count = 40 * (1 << 20) // len(block)
    header = b"ID,N\r\n"
    whole = hashlib.sha256(header)
    for _ in range(count):
        whole.update(block)
    output = {
        "csv_sha256": whole.hexdigest(),
        "columns": ["ID", "N"],
        "rows": 64 * count,
        "fields": [{"name": "ID", "role": "pseudonym"}, {"name": "N", "role": "keep", "convention": "text"}],
    }

    class Sink(io.RawIOBase):
        size = 0

        def write(self, data) -> int:
            self.size += len(data)
            return len(data)

    sink, heard = Sink(), []
    tracemalloc.start()
    try:
        checks = _check_content(
            iter([header] + [block] * count),
            output,
            sink,
            lambda fraction, message: heard.append(fraction),
            lambda: False,
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [(c.name, c.ok) for c in checks] == [
        ("plaintext", True),
        ("columns", True),
        ("rows", True),
        ("identifier scan", True),
    ]
    assert sink.size == len(header) + count * len(block)
    assert peak < 10 << 20, f"peak {peak:,} bytes"
    assert len(heard) == count + 1 and heard == sorted(heard) and 0.9 < heard[-1] <= 1.0  # lags the buffers
    polled = []
    with pytest.raises(Cancelled):
        _check_content(
            iter([header] + [block] * count),
            output,
            None,
            lambda *a: None,
            lambda: polled.append(1) or len(polled) > 10,
        )
    assert len(polled) == 11


def test_content_that_is_not_csv_is_still_hashed_to_its_end():
    import hashlib

    from pseudodesk.core.package.inspection import _check_content

    data = [b"ID\r\n", b"\xff\xfe not UTF-8\r\n", b"more\r\n" * 1000]
    output = {"csv_sha256": hashlib.sha256(b"".join(data)).hexdigest(), "columns": ["ID"], "rows": 1002}
    checks = _check_content(iter(data), output, None, lambda *a: None, lambda: False)
    assert [(c.name, c.ok) for c in checks] == [("plaintext", True), ("columns", False)]


def test_damage_at_the_end_of_a_package_fails_decryption_and_counts_nothing_seen(demo_package):
    """The last ciphertext block altered: the blocks before it decrypt and are checked, then the
    padding fails; the report has the decryption failure and no content checks."""
    result, paths = demo_package
    data = bytearray(result.output.read_bytes())
    data[-1] ^= 0x01
    result.output.write_bytes(bytes(data))
    inspection = inspect_package(result.output, certificate=paths["certificate"], private_key=paths["private_key"])
    assert [(c.name, c.ok) for c in inspection.checks] == [
        ("manifest signature", True),
        ("encrypted file", False),
        ("decryption", False),
    ]
    assert not inspection.decrypted and "cannot be opened" in inspection.checks[-1].detail


def test_nothing_is_written_to_the_sink_of_a_package_that_is_not_the_senders(demo_package):
    """decrypt's temporary file gets the plaintext only once the signature and the encrypted
    file's hash have passed; the content is still checked and reported."""
    import io

    result, paths = demo_package
    means = dict(certificate=paths["certificate"], private_key=paths["private_key"])
    sink = io.BytesIO()
    good = inspect_package(result.output, sink=sink, **means)
    assert good.ok and good.decrypted and len(sink.getvalue()) > 10_000
    doc = json.loads(result.manifest.read_text())
    doc["manifest"]["agreement"]["name"] = "Something else"
    result.manifest.write_text(json.dumps(doc))
    sink = io.BytesIO()
    forged = inspect_package(result.output, sink=sink, **means)
    assert {c.name: c.ok for c in forged.checks} == {
        "manifest signature": False,
        "encrypted file": True,
        "plaintext": True,
        "columns": True,
        "rows": True,
        "identifier scan": True,
    }
    assert sink.getvalue() == b""


def test_a_cancelled_inspection_stops_its_reader_at_once(tmp_path, monkeypatch):
    """py7zr's extraction thread is stopped when the inspection is cancelled, not later when
    the exception is let go (a GUI job hands it to another thread)."""
    import random
    import threading

    import py7zr.compressor

    from pseudodesk.core.package import inspection

    letters = random.Random(7).choices("abcdefghijklmnopqrstuvwxyz ", k=40_000)
    profile, table, mapping = pilot(
        tmp_path, notes=["".join(letters[:20_000]), "".join(letters[20_000:])], scan="false"
    )
    result = run(profile, table, mapping, KEY, tmp_path / "out", name="p")
    # py7zr reads the archive 256 bytes at a time: about a hundred blocks, more than the two
    # the hand-over holds, so its thread is still extracting when the inspection is cancelled
    monkeypatch.setattr(py7zr.compressor, "get_default_blocksize", lambda: 256)
    caught = []
    try:
        inspection.inspect_package(result.output, passphrase=result.passphrase, cancel=lambda: True)
    except Cancelled as error:
        caught.append(error)  # the exception, and its frames, still held
    assert caught and not any(t.name == "pseudodesk-7z-read" for t in threading.enumerate())


def test_the_recipient_is_named_and_an_accepted_expired_key_recorded(
    tmp_path, demo_paths, private_data_dir, memory_keyring
):
    """The IG lead sees who received an export (the certificate's organisation and name, not
    only a hash) and that a key past its expiry was used on purpose."""
    from dataclasses import replace

    from pseudodesk.core.agreement.mapping import load_mapping
    from pseudodesk.core.agreement.model import KeyRef
    from pseudodesk.core.agreement.profile import load_profile
    from pseudodesk.core.audit.listing import entry_summary
    from pseudodesk.core.audit.log import read_entries
    from pseudodesk.core.keys.installation import AuditTrail
    from pseudodesk.core.keys.store import KeyStore
    from pseudodesk.core.read.dispatch import read_table
    from tests.helpers import KEY_A

    trail = AuditTrail(KeyStore())
    result = run(
        replace(load_profile(demo_paths["profile"]), key=KeyRef()),
        read_table(demo_paths["spreadsheet"]),
        load_mapping(demo_paths["mapping"]),
        KEY_A,
        tmp_path / "out",
        audit=trail,
        allow_demo_recipient=True,
        accept_expired=True,
        expired_key_accepted=True,
    )
    doc = json.loads(result.manifest.read_text())["manifest"]
    assert doc["encryption"]["recipient_names"] == ["pseudodesk demo / DEMO recipient - NOT FOR REAL DATA"]
    assert doc["key"]["expired_accepted"] is True
    (export,) = [e for _, e, _ in read_entries(trail.path) if e and e["event"] == "export"]
    assert export["details"]["recipient_names"] == ["pseudodesk demo / DEMO recipient - NOT FOR REAL DATA"]
    summary = entry_summary(export)
    assert "for pseudodesk demo / DEMO recipient" in summary and "key past its expiry, accepted" in summary


def test_a_column_name_a_spreadsheet_would_run_is_neutralised_and_still_inspects(tmp_path):
    from pseudodesk.core.agreement.profile import parse_profile as parse
    from pseudodesk.core.audit.listing import listing_to_csv
    from tests.helpers import PASSPHRASE_PROFILE

    text = PASSPHRASE_PROFILE.format(policy="blank").replace('name = "SEX"', 'name = "@SEX"')
    (tmp_path / "src.csv").write_text("NHS No,Sex\n9434765919,F\n4505577104,M\n", encoding="utf-8")
    profile = parse(text.encode())
    table = read_table(tmp_path / "src.csv")
    result = run(profile, table, suggest_mapping(profile, table.header), KEY, tmp_path / "out", name="p")
    inspection = inspect_package(result.output, passphrase=result.passphrase)
    assert inspection.ok and inspection.decrypted, [c for c in inspection.checks if not c.ok]
    assert "'@SEX" in next(c for c in inspection.checks if c.name == "columns").detail
    entry = {"seq": 1, "time": "t", "event": "export", "details": {"agreement": "=HYPERLINK(1)"}}
    assert "'=HYPERLINK(1)" in listing_to_csv([entry])


def test_the_signature_labels_are_inside_the_signed_bytes(tmp_path):
    profile, table, mapping = pilot(tmp_path)
    result = run(profile, table, mapping, KEY, tmp_path / "out", name="p")
    doc = json.loads(result.manifest.read_text(encoding="utf-8"))
    assert doc["manifest"]["signed_with"]["algorithm"] == doc["signature"]["algorithm"] == "Ed25519"
    doc["signature"]["algorithm"] = "RSA-PSS"  # a label changed outside what was signed
    result.manifest.write_text(json.dumps(doc), encoding="utf-8")
    inspection = inspect_package(result.output, passphrase=result.passphrase)
    signature = next(c for c in inspection.checks if c.name == "manifest signature")
    assert not inspection.ok and not signature.ok and "algorithm or signer" in signature.detail
