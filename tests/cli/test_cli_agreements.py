"""pseudodesk-cli agreement pack, install and list, and reidentify after a rotation, driven as a
key custodian and a partner (each with its own data folder and keyring) would."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from pseudodesk.cli.main import main
from pseudodesk.core.keys.agreements import pack_agreement
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.transform.pseudonym import pseudonym
from tests.helpers import keyring_backend, new_keyring

PROFILE = """format = "pseudodesk-profile/1"
[agreement]
name = "Families"
version = "{version}"
review_date = {review}
[key]
id = "{key_id}"
fingerprint = "{fingerprint}"
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
"""


class Actor:
    """A custodian or a partner: its own keyring and data folder, made current by ``with``."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder, self.ring, self.monkeypatch = folder, new_keyring(), monkeypatch
        self._ring = None

    def __enter__(self) -> Actor:
        self.monkeypatch.setenv("PSEUDODESK_DATA_DIR", str(self.folder))
        self._ring = keyring_backend(self.ring)
        self._ring.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._ring.__exit__(*exc)

    def snapshot(self) -> dict[str, object]:
        files = {
            str(p.relative_to(self.folder)): p.read_bytes()
            for p in sorted(self.folder.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock")
        }
        return {"files": files, "ring": dict(self.ring.store)}


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_profile(folder: Path, key_id: str, fingerprint: str, version: str = "1", review: str = "2099-12-31") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "families.toml"
    path.write_text(PROFILE.format(version=version, review=review, key_id=key_id, fingerprint=fingerprint))
    return path


def new_key(capsys) -> tuple[str, str]:
    code, out, _ = cli(capsys, "keys", "create", "--name", "Families", "--agreement", "Families")
    assert code == 0
    key_id = out.strip()
    code, out, _ = cli(capsys, "keys", "fingerprint", key_id)
    return key_id, out.strip()


def packed(capsys, profile: Path, out: Path) -> tuple[str, str]:
    """(passphrase, custodian fingerprint) printed by `agreement pack`."""
    code, stdout, _ = cli(capsys, "agreement", "pack", "--profile", str(profile), "--out", str(out))
    assert code == 0, stdout
    passphrase = stdout.split("by phone):\n")[1].split("\n")[0].strip()
    return passphrase, stdout.split("read out to the partner: ")[1].strip()


def test_pack_install_list_and_export(tmp_path, capsys, monkeypatch):
    custodian = Actor(tmp_path / "custodian", monkeypatch)
    partner = Actor(tmp_path / "partner", monkeypatch)
    package = tmp_path / "families.pdagreement"
    with custodian:
        key_id, key_fingerprint = new_key(capsys)
        profile = write_profile(tmp_path / "profiles", key_id, key_fingerprint)
        passphrase, fingerprint = packed(capsys, profile, package)
        assert cli(capsys, "agreement", "pack", "--profile", str(profile), "--out", str(package))[0] == 5  # exists
        code, out, _ = cli(capsys, "audit", "public-key")
        assert fingerprint.replace("-", "") in out.replace("-", "")  # the custodian's installation key
    data = package.read_bytes()
    assert passphrase.encode() not in data

    with partner:
        before = partner.snapshot()
        monkeypatch.setenv("PSEUDODESK_KEYFILE_PASSPHRASE", passphrase)
        code, out, err = cli(capsys, "agreement", "install", str(package))
        assert code == 2 and "--fingerprint" in err  # no terminal to confirm on
        code, out, err = cli(capsys, "agreement", "install", str(package), "--fingerprint", "0000-1111-2222-3333-4444")
        assert code == 6 and "not signed by the custodian" in err
        assert fingerprint not in out + err and fingerprint.replace("-", "") not in (out + err).replace("-", "")
        spoiled = {
            "tampered": data.replace(b'"Families"', b'"Familie5"', 1),
            "truncated": data[: len(data) - 100],
        }
        for name, content in spoiled.items():
            (tmp_path / f"{name}.pdagreement").write_bytes(content)
            code, out, err = cli(
                capsys, "agreement", "install", str(tmp_path / f"{name}.pdagreement"), "--fingerprint", fingerprint
            )
            assert code == 6, (name, err)
        code, out, err = cli(capsys, "agreement", "install", str(tmp_path / "missing.pdagreement"))
        assert code == 3 and "cannot be read" in err
        monkeypatch.setenv("PSEUDODESK_KEYFILE_PASSPHRASE", "not the right passphrase")
        code, out, err = cli(capsys, "agreement", "install", str(package), "--fingerprint", fingerprint)
        assert code == 4 and "Wrong passphrase" in err
        assert partner.snapshot() == before

        monkeypatch.setenv("PSEUDODESK_KEYFILE_PASSPHRASE", passphrase)
        code, out, err = cli(capsys, "agreement", "install", str(package), "--fingerprint", fingerprint.lower())
        assert code == 0, err
        assert "installed Families, version 1" in out and key_id in out and key_fingerprint in out
        installed_profile = Path(out.split("profile: ")[1].split("\n")[0].strip())
        assert installed_profile.is_relative_to(tmp_path / "partner" / "agreements")
        code, out, err = cli(capsys, "agreement", "list")
        assert code == 0 and "Families  (version 1)" in out and fingerprint in out
        assert key_id in out and "review date 2099-12-31" in out and str(installed_profile) in out
        code, out, err = cli(capsys, "agreement", "install", str(package), "--fingerprint", fingerprint)
        assert code == 3 and "installed here already, unchanged" in err

        (tmp_path / "src.csv").write_text("Name,NHS Number\nAnn,9434765919\nBob,4505577104\n")
        code, out, err = cli(
            capsys, "run", "--agreement", "families", "--input", str(tmp_path / "src.csv"),
            "--out", str(tmp_path / "out"),
        )  # fmt: skip
        assert code == 0, err
        assert f"key: {key_id}  fingerprint {key_fingerprint}" in out
        assert f"agreement: Families (approved: package version 1, custodian {fingerprint})" in err
        manifest = json.loads(next((tmp_path / "out").glob("*.manifest.json")).read_text())["manifest"]
        assert manifest["agreement"]["approval"]["approved"] is True

        # the custodian's own profile file, copied to the partner's PC, is not the approved one
        code, out, err = cli(
            capsys, "run", "--profile", str(tmp_path / "profiles" / "families.toml"), "--input",
            str(tmp_path / "src.csv"), "--out", str(tmp_path / "loose"),
        )  # fmt: skip
        assert code == 6 and "NOT APPROVED" in err and "--accept-unapproved-profile" in err
        assert not (tmp_path / "loose").exists()


def test_interactive_confirmation_shows_the_fingerprint(tmp_path, capsys, monkeypatch):
    custodian = Actor(tmp_path / "custodian", monkeypatch)
    partner = Actor(tmp_path / "partner", monkeypatch)
    package = tmp_path / "families.pdagreement"
    with custodian:
        key_id, key_fingerprint = new_key(capsys)
        passphrase, fingerprint = packed(capsys, write_profile(tmp_path / "profiles", key_id, key_fingerprint), package)
    with partner:
        monkeypatch.setenv("PSEUDODESK_KEYFILE_PASSPHRASE", passphrase)
        monkeypatch.setattr("sys.stdin.isatty", lambda: True)
        monkeypatch.setattr("builtins.input", lambda prompt: "no")
        code, out, err = cli(capsys, "agreement", "install", str(package))
        assert code == 6 and fingerprint in err and "Not installed" in err
        assert not (tmp_path / "partner" / "agreements").exists()
        monkeypatch.setattr("builtins.input", lambda prompt: "yes")
        code, out, err = cli(capsys, "agreement", "install", str(package))
        assert code == 0 and "installed Families, version 1" in out


def test_an_expired_package_is_refused(tmp_path, capsys, monkeypatch):
    custodian = Actor(tmp_path / "custodian", monkeypatch)
    partner = Actor(tmp_path / "partner", monkeypatch)
    with custodian:
        key_id, key_fingerprint = new_key(capsys)
        profile = write_profile(tmp_path / "profiles", key_id, key_fingerprint, review="2025-03-31")
        data, package = pack_agreement(
            KeyStore(), profile, passphrase="correct horse battery", today=dt.date(2025, 1, 1)
        )
    (tmp_path / "old.pdagreement").write_bytes(data)
    with partner:
        before = partner.snapshot()
        monkeypatch.setenv("PSEUDODESK_KEYFILE_PASSPHRASE", "correct horse battery")
        code, out, err = cli(
            capsys, "agreement", "install", str(tmp_path / "old.pdagreement"), "--fingerprint",
            package.custodian_fingerprint,
        )  # fmt: skip
        assert code == 3 and "expired on 2025-03-31" in err
        assert partner.snapshot() == before


def test_reidentify_after_an_update_finds_pseudonyms_made_with_the_replaced_key(tmp_path, capsys, monkeypatch):
    custodian = Actor(tmp_path / "custodian", monkeypatch)
    partner = Actor(tmp_path / "partner", monkeypatch)
    profiles = tmp_path / "profiles"
    with custodian:
        old_id, old_fingerprint = new_key(capsys)
        passphrase, fingerprint = packed(
            capsys, write_profile(profiles, old_id, old_fingerprint), tmp_path / "v1.pdagreement"
        )
    with partner:
        monkeypatch.setenv("PSEUDODESK_KEYFILE_PASSPHRASE", passphrase)
        assert (
            cli(capsys, "agreement", "install", str(tmp_path / "v1.pdagreement"), "--fingerprint", fingerprint)[0] == 0
        )
        flagged = pseudonym(KeyStore().load(old_id), "PERSON_ID", ["9434765919"])  # sent to the platform in v1
    with custodian:
        code, out, _ = cli(capsys, "keys", "rotate", old_id)
        new_id = out.strip()
        new_fingerprint = cli(capsys, "keys", "fingerprint", new_id)[1].strip()
        passphrase, _ = packed(
            capsys, write_profile(profiles, new_id, new_fingerprint, version="2"), tmp_path / "v2.pdagreement"
        )
    with partner:
        monkeypatch.setenv("PSEUDODESK_KEYFILE_PASSPHRASE", passphrase)
        code, out, err = cli(
            capsys, "agreement", "install", str(tmp_path / "v2.pdagreement"), "--fingerprint", fingerprint
        )
        assert code == 0 and "version 2" in out and f"{old_id} is retired" in out
        installed_profile = Path(out.split("profile: ")[1].split("\n")[0].strip())
        assert cli(capsys, "keys", "list")[1].count("retired") == 1
        (tmp_path / "src.csv").write_text("Name,NHS Number\nAnn,9434765919\nBob,4505577104\n")
        (tmp_path / "flagged.csv").write_text(f"PERSON_ID\n{flagged}\n")
        code, out, err = cli(
            capsys, "reidentify", "--profile", str(installed_profile), "--input", str(tmp_path / "src.csv"),
            "--pseudonyms", str(tmp_path / "flagged.csv"), "--column", "PERSON_ID", "--field", "PERSON_ID",
            "--out", str(tmp_path / "matches.csv"),
        )  # fmt: skip
        assert code == 0, err
        assert "1 of 1 pseudonyms matched 1 row(s)" in out
        assert f"key {new_id} (current key): 0 pseudonym(s) matched" in out
        assert f"key {old_id} (retired " in out and "): 1 pseudonym(s) matched" in out
        assert "warning: nothing matched under the current key" in err and "before the key was rotated" in err
        with (tmp_path / "matches.csv").open(encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
        assert [(r["key_id"], r["source_row"], r["Name"]) for r in rows] == [(old_id, "2", "Ann")]
        log = [json.loads(line) for line in (tmp_path / "partner" / "audit.jsonl").read_text().splitlines()]
        (entry,) = [e for e in log if e["event"] == "reidentify"]
        assert entry["details"]["matched_by_key"] == {new_id: 0, old_id: 1}
        assert [e["details"]["package_version"] for e in log if e["event"] == "agreement.installed"] == [1, 2]
        assert "Ann" not in (tmp_path / "partner" / "audit.jsonl").read_text()
