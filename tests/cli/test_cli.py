"""pseudodesk-cli: commands, output, exit codes and Ctrl-C, driven as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from pseudodesk.cli import main as cli
from pseudodesk.cli.main import main
from tests.helpers import decrypt_cms, require_tool

PROFILE = """
format = "pseudodesk-profile/1"
[agreement]
name = "Pilot extract"
version = "1"
[key]
id = "{key_id}"
fingerprint = "{fingerprint}"
[recipient]
mode = "passphrase"
[[source_fields]]
id = "nhs_number"
convention = "nhs_number"
aliases = ["NHS Number"]
[[output_fields]]
name = "PERSON_ID"
role = "pseudonym"
from = "nhs_number"
"""


@pytest.fixture
def workspace(tmp_path, memory_keyring, capsys):
    assert main(["keys", "create", "--name", "Pilot"]) == 0
    key_id = capsys.readouterr().out.strip()
    from pseudodesk.core.keys.store import list_keys

    fingerprint = list_keys()[0].fingerprint
    (tmp_path / "profile.toml").write_text(PROFILE.format(key_id=key_id, fingerprint=fingerprint))
    rows = "".join(f"Person {i},{n}\n" for i, n in enumerate(["9434765919", "4505577104"] * 30))
    (tmp_path / "people.csv").write_text("Name,NHS Number\n" + rows)
    return tmp_path, key_id, fingerprint


def test_keys_create_prints_the_id_and_list_shows_it(memory_keyring, capsys):
    assert main(["keys", "create", "--name", "LCP 2026"]) == 0
    captured = capsys.readouterr()
    key_id = captured.out.strip()
    assert key_id.startswith("pdk-") and "fingerprint:" in captured.err
    assert main(["keys", "list"]) == 0
    assert key_id in capsys.readouterr().out


def test_run_writes_a_7z_and_prints_the_passphrase_once(workspace, capsys):
    tmp, key_id, fingerprint = workspace
    code = main(
        [
            "run",
            "--accept-unapproved-profile",
            "--profile",
            str(tmp / "profile.toml"),
            "--input",
            str(tmp / "people.csv"),
            "--out",
            str(tmp / "out"),
            "--name",
            "pilot",
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert (tmp / "out" / "pilot.7z").exists()
    assert f"fingerprint {fingerprint}" in out.out
    assert "stripped (not in the agreement, not exported): Name" in out.out
    lines = out.out.splitlines()
    phrase = lines[lines.index("passphrase (shown once; send it separately from the file, e.g. by phone):") + 1].strip()
    assert len(phrase.replace("-", "")) == 24
    assert phrase not in out.err  # never on the progress/log stream
    seven = require_tool("7z", "7zz", "7za")
    subprocess.run(
        [seven, "x", f"-p{phrase}", f"-o{tmp / 'x'}", str(tmp / "out" / "pilot.7z")], check=True, capture_output=True
    )
    assert (tmp / "x" / "pilot.csv").read_bytes().startswith(b"PERSON_ID\r\n")


def test_saved_mapping_is_reused(workspace, capsys):
    tmp, _, _ = workspace
    args = [
        "run",
        "--accept-unapproved-profile",
        "--profile",
        str(tmp / "profile.toml"),
        "--input",
        str(tmp / "people.csv"),
        "--out",
        str(tmp / "o"),
    ]
    assert main([*args, "--save-mapping", str(tmp / "m.toml"), "--name", "a"]) == 0
    assert 'nhs_number = "NHS Number"' in (tmp / "m.toml").read_text()
    capsys.readouterr()
    assert main([*args, "--mapping", str(tmp / "m.toml"), "--name", "b"]) == 0
    assert "suggested from the header" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--input", "missing.csv"], 3, "missing.csv: the file does not exist"),
        (["--input", "junk.xlsx"], 3, "junk.xlsx: this is not a valid .xlsx workbook"),
        (["--profile", "bad.toml"], 3, "Agreement profile bad.toml at 'format'"),
        (["--key", "pdk-unknown"], 4, "Key pdk-unknown is not in this computer's key list"),
    ],
)
def test_exit_codes_for_bad_input_and_keys(workspace, capsys, args, code, message):
    tmp, _, _ = workspace
    (tmp / "junk.xlsx").write_bytes(b"not a workbook")
    (tmp / "bad.toml").write_text('format = "nope"\n')
    base = {"--profile": str(tmp / "profile.toml"), "--input": str(tmp / "people.csv"), "--out": str(tmp / "o")}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value if flag == "--key" else str(tmp / value)
    argv = ["run", "--accept-unapproved-profile"] + [x for pair in base.items() for x in pair]
    assert main(argv) == code
    assert message in capsys.readouterr().err


def test_output_exists_is_an_export_error(workspace, capsys):
    tmp, _, _ = workspace
    args = [
        "run",
        "--accept-unapproved-profile",
        "--profile",
        str(tmp / "profile.toml"),
        "--input",
        str(tmp / "people.csv"),
        "--out",
        str(tmp / "o"),
        "--name",
        "same",
    ]
    assert main(args) == 0
    assert main(args) == 5
    assert "same.7z already exists" in capsys.readouterr().err


def test_no_keyring_backend_is_a_key_problem(workspace, capsys):
    import keyring
    from keyring.backends import fail

    tmp, _, _ = workspace
    keyring.set_keyring(fail.Keyring())
    code = main(
        [
            "run",
            "--accept-unapproved-profile",
            "--profile",
            str(tmp / "profile.toml"),
            "--input",
            str(tmp / "people.csv"),
            "--out",
            str(tmp / "o"),
        ]
    )
    assert code == 4
    assert "No OS keyring is available" in capsys.readouterr().err


def test_ctrl_c_cancels_cleanly(workspace, capsys, monkeypatch):
    tmp, _, _ = workspace
    original = cli.ProgressLine.__call__

    pressed = []

    def progress_then_ctrl_c(self, fraction, message):
        original(self, fraction, message)
        if 0 < fraction < 0.9 and not pressed:
            pressed.append(fraction)
            os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C once, mid-run

    monkeypatch.setattr(cli.ProgressLine, "__call__", progress_then_ctrl_c)
    previous = signal.getsignal(signal.SIGINT)
    try:
        code = main(
            [
                "run",
                "--accept-unapproved-profile",
                "--profile",
                str(tmp / "profile.toml"),
                "--input",
                str(tmp / "people.csv"),
                "--out",
                str(tmp / "o"),
                "--batch-size",
                "5",
            ]
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    assert code == 130
    assert "Cancelled: nothing was written." in capsys.readouterr().err
    assert not (tmp / "o").exists() or list((tmp / "o").iterdir()) == []


def test_check_command_reports_without_output(workspace, capsys):
    tmp, _, _ = workspace
    assert main(["check", "--profile", str(tmp / "profile.toml"), "--input", str(tmp / "people.csv")]) == 0
    assert "rows checked: 60" in capsys.readouterr().out
    assert not (tmp / "o").exists()
    assert (tmp / "people.check-report.html").exists()  # beside the spreadsheet by default


def test_demo_command_in_a_fresh_process(tmp_path, demo_paths):
    """The real console script, as a user types it; then the README's openssl command."""
    result = subprocess.run(
        [sys.executable, "-m", "pseudodesk.cli", "demo", "--out", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "openssl cms -decrypt -binary -inform DER" in result.stdout
    output = tmp_path / "demo" / "pseudodesk-demo.csv.p7m"
    plain = decrypt_cms(output, demo_paths["private_key"])
    assert plain.splitlines()[0] == b"PERSON_ID,DOB,GENDER,POST CODE,ETHNICITY"
    # running the demo again replaces its own previous output
    again = subprocess.run(
        [sys.executable, "-m", "pseudodesk.cli", "demo", "--out", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert again.returncode == 0
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == [
        "pseudodesk-demo.csv.p7m",
        "pseudodesk-demo.manifest.json",
    ]


def test_usage_error_is_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run"])
    assert info.value.code == 2


BLOCK_PROFILE = """
format = "pseudodesk-profile/1"
[agreement]
name = "Strict"
version = "1"
[recipient]
mode = "passphrase"
[checks]
on_invalid = "block"
max_invalid_share = 1.0  # the policy, not the share, blocks here
[[source_fields]]
id = "nhs_number"
convention = "nhs_number"
aliases = ["NHS Number"]
[[source_fields]]
id = "notes"
convention = "text"
aliases = ["Notes"]
[[output_fields]]
name = "PERSON_ID"
role = "pseudonym"
from = "nhs_number"
[[output_fields]]
name = "NOTES"
role = "keep"
from = "notes"
"""


def test_check_writes_html_and_csv_reports(tmp_path, capsys):
    (tmp_path / "p.toml").write_text(BLOCK_PROFILE)
    (tmp_path / "in.csv").write_text("NHS Number,Notes\n9434765919,ok\n123,fine\n4505577104,mail jo@example.org\n")
    code = main(
        [
            "check",
            "--profile",
            str(tmp_path / "p.toml"),
            "--input",
            str(tmp_path / "in.csv"),
            "--report-dir",
            str(tmp_path / "reports"),
        ]
    )
    out = capsys.readouterr()
    assert code == 6
    assert "row 3: not 10 digits" in out.out
    assert "identifier found: row 4, column 'NOTES': email" in out.out
    assert "the export would be blocked" in out.out
    assert "123" not in out.out.replace("row 3", "")  # raw values never printed
    html = (tmp_path / "reports" / "in.check-report.html").read_text()
    assert "blocks the export until fixed" in html and "jo@example.org" in html
    rows = (tmp_path / "reports" / "in.check-report.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[1] == "row,column,field,kind,raw value,reason,action"
    assert any(r.startswith("3,NHS Number,nhs_number,invalid,123,") for r in rows)


def test_run_refuses_when_the_policy_blocks(tmp_path, capsys, memory_keyring):
    assert main(["keys", "create", "--name", "k"]) == 0
    key_id = capsys.readouterr().out.strip()
    (tmp_path / "p.toml").write_text(BLOCK_PROFILE)
    (tmp_path / "in.csv").write_text("NHS Number,Notes\n9434765919,ok\n123,fine\n")
    code = main(
        [
            "run",
            "--accept-unapproved-profile",
            "--profile",
            str(tmp_path / "p.toml"),
            "--input",
            str(tmp_path / "in.csv"),
            "--out",
            str(tmp_path / "out"),
            "--key",
            key_id,
        ]
    )
    err = capsys.readouterr().err
    assert code == 6
    assert "Nothing was exported: 1 invalid value(s) and the agreement's policy is 'block'" in err
    assert "row 3, column 'NHS Number'" in err
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_check_passes_and_says_so(tmp_path, capsys):
    (tmp_path / "p.toml").write_text(BLOCK_PROFILE)
    (tmp_path / "in.csv").write_text("NHS Number,Notes\n9434765919,ok\n")
    assert (
        main(["check", "--profile", str(tmp_path / "p.toml"), "--input", str(tmp_path / "in.csv"), "--no-report"]) == 0
    )
    assert "the export may go ahead: 1 of 1 rows would be written" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "p.toml"]


def test_risk_prints_the_classes_and_the_previews(tmp_path, capsys, demo_paths):
    code = main(
        [
            "risk",
            "--profile",
            str(demo_paths["profile"]),
            "--input",
            str(demo_paths["spreadsheet"]),
            "--mapping",
            str(demo_paths["mapping"]),
            "--k",
            "2",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[1] == "quasi-identifiers: DOB, GENDER, POST CODE, ETHNICITY; k = 2"  # --k over the 11
    assert out.splitlines()[0].startswith("600 of 600 records (100%) could be picked out")  # the verdict first
    assert "600 records in 600 equivalence classes" in out  # synthetic people: all unique
    assert "POST CODE to district: records at risk 600 -> " in out
    # Every one of the 600 is alone in its class: every attacker's risk is certain.
    assert "  prosecutor risk, highest: 100.0% (one over the smallest class" in out
    assert "  marketer risk: 100.0% (the share of people expected to be re-identified" in out
    assert "  sample uniques: 600 (records whose class is one person)" in out


def test_risk_refuses_k_below_two(demo_paths, capsys):
    assert (
        main(["risk", "--profile", str(demo_paths["profile"]), "--input", str(demo_paths["spreadsheet"]), "--k", "1"])
        == 2
    )


def test_selftest_command_passes_and_names_each_check(capsys):
    assert main(["selftest"]) == 0
    out = capsys.readouterr().out
    for name in (
        "HMAC-SHA256",
        "OpenPseudonymiser digest",
        "CMS AES-256",
        "7z AES-256",
        "Workbook readers",
        "UK phone numbering plan",
        "OS keyring",
    ):
        assert name in out
    assert "self-test passed" in out
