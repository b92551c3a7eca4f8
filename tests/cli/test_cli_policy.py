"""pseudodesk-cli under a machine policy: `policy` says what is enforced; the demo switch, the
default output folder and IT's agreements folder take effect."""

from __future__ import annotations

from pathlib import Path

import pytest

from pseudodesk.cli.main import main
from pseudodesk.core.keys.store import KeyStore
from tests.helpers import PASSPHRASE_PROFILE, keyring_backend, new_keyring

PACKAGE_PROFILE = """format = "pseudodesk-profile/1"
[agreement]
name = "Families"
version = "1"
review_date = 2099-12-31
[key]
id = "{key_id}"
fingerprint = "{fingerprint}"
[recipient]
mode = "passphrase"
[[source_fields]]
id = "nhs"
convention = "nhs_number"
[[output_fields]]
name = "PERSON_ID"
role = "pseudonym"
from = "nhs"
"""


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def setup(tmp_path: Path) -> list[str]:
    """A spreadsheet and an unapproved profile for `run`."""
    (tmp_path / "pilot.toml").write_text(PASSPHRASE_PROFILE.format(policy="blank"), encoding="utf-8")
    (tmp_path / "people.csv").write_text("Name,NHS No,Sex\nAnn,9434765919,F\nBob,4505577104,M\n", encoding="utf-8")
    return ["--profile", str(tmp_path / "pilot.toml"), "--input", str(tmp_path / "people.csv")]


def as_party(folder: Path, monkeypatch: pytest.MonkeyPatch):
    """A custodian's or a partner's own data folder and keyring, current inside ``with``."""
    monkeypatch.setenv("PSEUDODESK_DATA_DIR", str(folder))
    return keyring_backend(new_keyring())


def test_policy_says_what_is_enforced_and_fails_when_unusable(machine_policy_file, capsys):
    assert main(["policy"]) == 0
    assert "nothing is restricted" in capsys.readouterr().out
    machine_policy_file.write_text("allow_demo = false\n", encoding="utf-8")
    assert main(["policy"]) == 0
    out = capsys.readouterr().out
    assert f"Machine policy {machine_policy_file}:" in out
    assert "allow_demo = false (set by IT): the demo: the bundled synthetic spreadsheet exported with a DEMO " in out
    machine_policy_file.write_text("allow_demo = 0\n", encoding="utf-8")
    assert main(["policy"]) == 6
    assert "cannot be used: allow_demo must be true or false" in capsys.readouterr().out


def test_an_unusable_policy_is_said_at_start(machine_policy_file, capsys, memory_keyring):
    machine_policy_file.write_text("allow_demos = false\n", encoding="utf-8")
    assert main(["keys", "list"]) == 0
    assert "cannot be used: it has settings this version does not know: allow_demos" in capsys.readouterr().err


def test_the_demo_switched_off_is_refused(machine_policy_file, tmp_path, capsys, memory_keyring):
    machine_policy_file.write_text("allow_demo = false\n", encoding="utf-8")
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 6
    err = capsys.readouterr().err
    assert "does not allow the demo (allow_demo = false)" in err and "Traceback" not in err
    assert not list((tmp_path / "demo").glob("*.p7m")) if (tmp_path / "demo").exists() else True


def test_run_writes_to_the_policys_output_folder_when_no_out(machine_policy_file, tmp_path, capsys, memory_keyring):
    key = KeyStore().create("Pilot key")
    argv = ["run", "--accept-unapproved-profile", *setup(tmp_path), "--key", key.id, "--name", "pilot"]
    assert main(argv) == 5
    assert "No output folder: give --out FOLDER" in capsys.readouterr().err
    machine_policy_file.write_text(f'default_output_folder = "{(tmp_path / "it").as_posix()}"\n', encoding="utf-8")
    assert main(argv) == 0
    assert f"output folder: {tmp_path / 'it'} (the machine policy's default_output_folder)" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "it").iterdir() if p.suffix == ".7z"] == ["pilot.7z"]
    assert main([*argv[:-2], "--name", "mine", "--out", str(tmp_path / "mine")]) == 0  # --out still wins
    assert (tmp_path / "mine" / "mine.7z").is_file()


def test_packages_in_its_agreements_folder_are_listed_and_installed_by_name(
    machine_policy_file, tmp_path, capsys, monkeypatch
):
    shared = tmp_path / "share"
    shared.mkdir()
    with as_party(tmp_path / "custodian", monkeypatch):
        key = KeyStore().create("Families", agreement="Families")
        profile = tmp_path / "families.toml"
        profile.write_text(PACKAGE_PROFILE.format(key_id=key.id, fingerprint=key.fingerprint), encoding="utf-8")
        code, out, err = cli(
            capsys, "agreement", "pack", "--profile", str(profile), "--out", str(shared / "f.pdagreement")
        )
        assert code == 0, err
        passphrase = out.split("by phone):\n")[1].split("\n")[0].strip()
        fingerprint = out.split("read out to the partner: ")[1].strip()
    (shared / "broken.pdagreement").write_bytes(b"not a package")
    with as_party(tmp_path / "partner", monkeypatch):
        assert cli(capsys, "agreement", "available")[0] == 2  # no folder set
        machine_policy_file.write_text(f'agreements_folder = "{shared.as_posix()}"\n', encoding="utf-8")
        code, out, err = cli(capsys, "agreement", "available")
        assert code == 0, err
        assert f"agreements folder: {shared}" in out
        assert "broken.pdagreement: NOT USABLE:" in out
        assert "f.pdagreement: Families, version 1" in out and f"custodian: {fingerprint}" in out
        monkeypatch.setenv("PSEUDODESK_KEYFILE_PASSPHRASE", passphrase)
        monkeypatch.chdir(tmp_path)
        code, out, err = cli(capsys, "agreement", "install", "f", "--fingerprint", fingerprint)
        assert code == 0, err
        assert f"from IT's agreements folder: {shared / 'f.pdagreement'}" in err
        assert "installed Families, version 1" in out


@pytest.mark.parametrize("name", ["../share/f", "nothing-here"])
def test_only_a_bare_name_found_in_the_folder_is_taken_from_it(machine_policy_file, tmp_path, capsys, name):
    (tmp_path / "share").mkdir()
    (tmp_path / "share" / "f.pdagreement").write_bytes(b"would be refused as not a package, with exit 6")
    machine_policy_file.write_text(f'agreements_folder = "{(tmp_path / "share").as_posix()}"\n', encoding="utf-8")
    assert cli(capsys, "agreement", "install", name, "--fingerprint", "00")[0] == 3  # cannot be read
