"""pseudodesk-cli inspect, decrypt and audit report."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

from pseudodesk.cli.main import main


def demo(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pseudodesk.cli", "demo", "--out", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    return tmp_path / "demo" / "pseudodesk-demo.csv.p7m"


def test_inspect_and_decrypt_the_demo(tmp_path, capsys, demo_paths, memory_keyring, private_data_dir):
    package = demo(tmp_path)
    keys = ["--certificate", str(demo_paths["certificate"]), "--private-key", str(demo_paths["private_key"])]
    assert main(["inspect", str(package), *keys]) == 6  # from an installation this recipient does not know
    out = capsys.readouterr().out
    assert "an installation you do not know" in out and "package NOT verified" in out
    signer = json.loads(package.with_name("pseudodesk-demo.manifest.json").read_text())["signature"]["signer"]
    assert main(["signers", "add", signer, "--name", "Demo partner, data team", "--yes"]) == 0
    assert main(["signers", "list"]) == 0 and f"{signer}  Demo partner, data team" in capsys.readouterr().out
    assert main(["inspect", str(package), *keys]) == 0
    out = capsys.readouterr().out
    assert "package verified" in out and "FAIL" not in out and "(Demo partner, data team)" in out
    assert main(["decrypt", str(package), *keys, "--out", str(tmp_path / "plain.csv")]) == 0
    rows = list(csv.reader(io.StringIO((tmp_path / "plain.csv").read_text(), newline="")))
    assert rows[0] == ["PERSON_ID", "DOB", "GENDER", "POST CODE", "ETHNICITY"] and len(rows) == 601
    capsys.readouterr()
    assert main(["decrypt", str(package), *keys, "--out", str(tmp_path / "plain.csv")]) == 5  # never overwrites


def test_decrypt_refuses_a_package_that_does_not_verify(tmp_path, capsys, demo_paths):
    package = demo(tmp_path)
    manifest = package.with_name("pseudodesk-demo.manifest.json")
    doc = json.loads(manifest.read_text())
    doc["manifest"]["output"]["rows"] = 599
    manifest.write_text(json.dumps(doc))
    keys = ["--certificate", str(demo_paths["certificate"]), "--private-key", str(demo_paths["private_key"])]
    assert main(["decrypt", str(package), *keys, "--out", str(tmp_path / "plain.csv")]) == 6
    out = capsys.readouterr()
    assert "FAIL  manifest signature" in out.out and "not decrypted" in out.err
    assert "ok    plaintext" in out.out  # decrypted and checked into a temporary file beside --out...
    assert not (tmp_path / "plain.csv").exists()
    assert not list(tmp_path.glob(".plain.csv*"))  # ...which is gone


def test_audit_report_filters_and_writes_csv_and_html(tmp_path, capsys, memory_keyring, private_data_dir):
    assert main(["keys", "create", "--name", "Pilot key"]) == 0
    key_id = capsys.readouterr().out.strip()
    (tmp_path / "p.toml").write_text(f'''
format = "pseudodesk-profile/1"
[agreement]
name = "Pilot"
version = "1"
[key]
id = "{key_id}"
[recipient]
mode = "passphrase"
[[source_fields]]
id = "nhs"
convention = "nhs_number"
aliases = ["NHS"]
[[output_fields]]
name = "ID"
role = "pseudonym"
from = "nhs"
''')
    (tmp_path / "src.csv").write_text("NHS\n9434765919\n")
    for name in ("jan", "feb"):
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
                    name,
                ]
            )
            == 0
        )
    capsys.readouterr()
    assert (
        main(
            [
                "audit",
                "report",
                "--agreement",
                "Pilot",
                "--csv",
                str(tmp_path / "r.csv"),
                "--html",
                str(tmp_path / "r.html"),
            ]
        )
        == 0
    )
    assert "4 entries (2 exports) for agreement 'Pilot'; log verified" in capsys.readouterr().out
    rows = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["seq", "time (UTC)", "event"]
    assert [r[2] for r in rows[1:]] == ["export.started", "export", "export.started", "export"]
    page = (tmp_path / "r.html").read_text()
    assert page.count("<section><h2>Export #") == 2 and "Log verified" in page and "jan.7z" in page
    assert "export.started" not in page  # the start of a completed export is bookkeeping, not an event
    assert main(["audit", "report", "--agreement", "Other"]) == 0
    assert "0 entries" in capsys.readouterr().out
    assert main(["audit", "report", "--from", "2000-01-01", "--to", "2000-12-31"]) == 0
    assert "0 entries" in capsys.readouterr().out


def test_a_pinned_signer_or_this_installation_is_accepted_and_a_wrong_fingerprint_refused(
    tmp_path, capsys, demo_paths, memory_keyring, private_data_dir
):
    package = demo(tmp_path)
    signer = json.loads(package.with_name("pseudodesk-demo.manifest.json").read_text())["signature"]["signer"]
    assert main(["inspect", str(package), "--signer", signer]) == 0
    assert main(["signers", "add", "not-a-fingerprint", "--name", "x", "--yes"]) == 4
    assert "is not an installation fingerprint" in capsys.readouterr().err
    assert main(["signers", "add", signer, "--name", "Partner"]) == 2  # no terminal, no --yes: not added
    assert main(["signers", "remove", signer]) == 4
    from pseudodesk.core.audit.log import read_entries

    events = [e["event"] for _, e, _ in read_entries(private_data_dir / "audit.jsonl") if e]
    assert "signer.added" not in events
