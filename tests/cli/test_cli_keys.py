"""pseudodesk-cli keys, linkage-test and reidentify, driven as a custodian and a partner would."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from pseudodesk.cli.main import main
from tests.helpers import keyring_backend, new_keyring

SALT_FILE = Path(__file__).resolve().parents[1] / "data" / "mackerel.EncryptedSalt"


def created(capsys, *args) -> str:
    assert main(["keys", "create", *args]) == 0
    return capsys.readouterr().out.strip()


def test_custodian_exports_partner_imports(tmp_path, capsys, monkeypatch):
    with keyring_backend(new_keyring()):
        monkeypatch.setenv("PSEUDODESK_DATA_DIR", str(tmp_path / "custodian"))
        key_id = created(capsys, "--name", "LCP 2026", "--expires", "2027-03-31")
        assert main(["keys", "export", key_id, "--out", str(tmp_path / "lcp.pdkey")]) == 0
        out = capsys.readouterr().out
        passphrase = out.split("by phone):\n")[1].split("\n")[0].strip()
        fingerprint = out.split("read out to the partner: ")[1].strip()
        assert main(["linkage-test", "--key", key_id]) == 0
        custodian_check = capsys.readouterr().out
    with keyring_backend(new_keyring()):
        monkeypatch.setenv("PSEUDODESK_DATA_DIR", str(tmp_path / "partner"))
        monkeypatch.setenv("PSEUDODESK_KEYFILE_PASSPHRASE", passphrase)
        assert main(["keys", "import", str(tmp_path / "lcp.pdkey"), "--fingerprint", "0000-0000-0000-0000"]) == 4
        assert "does not match" in capsys.readouterr().err
        assert main(["keys", "import", str(tmp_path / "lcp.pdkey"), "--fingerprint", fingerprint]) == 0
        assert capsys.readouterr().out.strip() == key_id
        assert main(["keys", "fingerprint", key_id]) == 0
        assert capsys.readouterr().out.strip() == fingerprint
        assert main(["keys", "show", key_id]) == 0
        shown = capsys.readouterr().out
        assert "expires:     2027-03-31" in shown and "held in:     the OS keyring" in shown
        assert main(["linkage-test", "--key", key_id]) == 0
        assert capsys.readouterr().out == custodian_check  # same key, same rules, same check value
        monkeypatch.setenv("PSEUDODESK_KEYFILE_PASSPHRASE", "WRONG-WRONG-WRONG")
        assert main(["keys", "import", str(tmp_path / "lcp.pdkey"), "--fingerprint", fingerprint]) == 4


def test_rotate_list_and_delete_with_confirmation(tmp_path, capsys, memory_keyring, monkeypatch):
    key_id = created(capsys, "--name", "old")
    assert main(["keys", "rotate", key_id]) == 0
    new_id = capsys.readouterr().out.strip()
    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert f"{key_id}" in listing and "retired" in listing and new_id in listing
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "not-the-id")
    assert main(["keys", "delete", new_id]) == 2
    assert "Not deleted" in capsys.readouterr().err
    monkeypatch.setattr("builtins.input", lambda prompt: new_id)
    assert main(["keys", "delete", new_id]) == 0
    assert main(["keys", "show", new_id]) == 4


def test_import_salt_file_warns(tmp_path, capsys, memory_keyring):
    assert main(["keys", "import-salt", "--name", "Essex OP salt", "--salt-file", str(SALT_FILE)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("salt-") and "weaker" in captured.err
    assert "mackerel" not in captured.out + captured.err


def test_reidentify_writes_local_matches_and_audits_counts(tmp_path, capsys, memory_keyring, private_data_dir):
    key_id = created(capsys, "--name", "Families")
    (tmp_path / "p.toml").write_text(f'''
format = "pseudodesk-profile/1"
[agreement]
name = "Families"
version = "1"
[key]
id = "{key_id}"
[recipient]
mode = "passphrase"
[[source_fields]]
id = "nhs"
convention = "nhs_number"
aliases = ["NHS Number"]
[[output_fields]]
name = "PERSON_ID"
role = "pseudonym"
from = "nhs"
''')
    (tmp_path / "src.csv").write_text("Name,NHS Number\nAnn,9434765919\nBob,4505577104\n")
    assert (
        main(
            [
                "run",
                "--accept-unapproved-profile",
                "--profile",
                str(tmp_path / "p.toml"),
                "--input",
                str(tmp_path / "src.csv"),
                "--out",
                str(tmp_path / "out"),
                "--name",
                "x",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    phrase = out.split("by phone):\n")[1].split("\n")[0].strip()
    import py7zr

    with py7zr.SevenZipFile(tmp_path / "out" / "x.7z", "r", password=phrase) as z:
        z.extractall(path=tmp_path / "x")
    exported = list(csv.reader((tmp_path / "x" / "x.csv").open(newline="")))
    flagged = tmp_path / "flagged.txt"
    flagged.write_text(exported[2][0] + "\n")  # the platform flags Bob's pseudonym
    assert (
        main(
            [
                "reidentify",
                "--profile",
                str(tmp_path / "p.toml"),
                "--input",
                str(tmp_path / "src.csv"),
                "--pseudonyms",
                str(flagged),
                "--field",
                "PERSON_ID",
                "--out",
                str(tmp_path / "matches.csv"),
            ]
        )
        == 0
    )
    assert "1 of 1 pseudonyms matched 1 row(s)" in capsys.readouterr().out
    rows = list(csv.reader((tmp_path / "matches.csv").open(encoding="utf-8-sig", newline="")))
    assert rows[0] == ["pseudonym", "key_id", "source_row", "Name", "NHS Number"]
    assert rows[1][2:] == ["3", "Bob", "4505577104"]
    audit = [json.loads(line) for line in (private_data_dir / "audit.jsonl").read_text().splitlines()]
    event = audit[-1]
    assert event["event"] == "reidentify"
    assert (event["details"]["pseudonyms_asked"], event["details"]["pseudonyms_matched"]) == (1, 1)
    text = json.dumps(event)
    assert "Bob" not in text and "4505577104" not in text and exported[2][0] not in text


def test_audit_verify_ok_then_broken(tmp_path, capsys, memory_keyring, private_data_dir):
    created(capsys, "--name", "a")
    created(capsys, "--name", "b")
    pinned = tmp_path / "pinned-installation-key.json"
    assert main(["audit", "public-key"]) == 0
    pinned.write_text(capsys.readouterr().out)
    assert main(["audit", "verify", "--public-key", str(pinned)]) == 0
    assert "audit log OK: 2 entries" in capsys.readouterr().out
    log = private_data_dir / "audit.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(lines[0] + lines[2])  # the verification entry follows the two key entries; drop one
    assert main(["audit", "verify", "--public-key", str(pinned)]) == 6
    assert "BROKEN at line 2: deleted" in capsys.readouterr().out
