"""No traceback ever reaches the person at the PC: a full or unwritable folder, a code page that
cannot show a column's name, SIGTERM from a scheduler, a missing audit log."""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pseudodesk.cli.main import main
from pseudodesk.core.audit.log import LOG_NAME, read_entries
from pseudodesk.core.keys.store import KeyStore
from tests.helpers import PASSPHRASE_PROFILE

ROOT = Path(__file__).resolve().parents[2]


def setup(tmp_path: Path, rows: int = 6, header: str = "Name,NHS No,Sex") -> list[str]:
    (tmp_path / "pilot.toml").write_text(PASSPHRASE_PROFILE.format(policy="blank"), encoding="utf-8")
    nhs = ["9434765919", "4505577104"]
    lines = [header, *(f"Person {i},{nhs[i % 2]},{'FM'[i % 2]}" for i in range(rows))]
    (tmp_path / "people.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ["--profile", str(tmp_path / "pilot.toml"), "--input", str(tmp_path / "people.csv")]


def test_a_full_disk_is_a_message_and_an_audited_failure(tmp_path, capsys, memory_keyring, monkeypatch):
    key = KeyStore().create("Pilot key")
    source = setup(tmp_path)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out" / ".pilot.7z.x.partial"))

    monkeypatch.setattr("pseudodesk.core.run.export.write_7z", full)
    argv = ["run", "--accept-unapproved-profile", *source, "--out", str(tmp_path / "out"), "--key", key.id]
    assert main([*argv, "--name", "pilot"]) == 5
    err = capsys.readouterr().err
    assert "disk is full" in err and "Traceback" not in err and "Nothing was exported" in err
    assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True
    entries = [e for _, e, _ in read_entries(KeyStore().directory / LOG_NAME) if e]
    assert [e["event"] for e in entries if e["event"].startswith("export")] == ["export.started", "export.failed"]
    assert entries[-1]["details"]["error"] == "ExportError"


def test_an_output_folder_that_is_a_file_is_a_message(tmp_path, capsys, memory_keyring):
    key = KeyStore().create("Pilot key")
    source = setup(tmp_path)
    (tmp_path / "out").write_text("not a folder")
    argv = ["run", "--accept-unapproved-profile", *source, "--out", str(tmp_path / "out"), "--key", key.id]
    assert main(argv) == 5
    err = capsys.readouterr().err
    assert "pseudodesk: " in err and "is a file, not a folder" in err and "Traceback" not in err


def test_a_column_name_the_code_page_cannot_show_is_printed(tmp_path):
    source = setup(tmp_path, header="Imię,NHS No,Płeć")
    env = {**os.environ, "PYTHONIOENCODING": "cp1252", "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "pseudodesk.cli", "check", *source, "--no-report"],
        env=env,
        capture_output=True,
        cwd=str(tmp_path),
        timeout=120,
    )
    err = done.stderr.decode("utf-8")
    out = done.stdout.decode("utf-8")  # strict: every byte on both streams is UTF-8
    assert "Traceback" not in err and done.returncode in (0, 3, 6), err
    assert "Płeć" in err  # redirected output is UTF-8: the name arrives whole
    assert "gender ('Płeć', gender)" in out and "stripped (not in the agreement, not exported): Imię" in out


class _Console(io.TextIOWrapper):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        (io.TextIOWrapper, "Imię\n".encode()),  # redirected to a file or a pipe: UTF-8 whatever the code page
        (_Console, b"Imi?\n"),  # a cp1252 console keeps its code page; what it cannot show is replaced
    ],
)
def test_every_stream_prints_a_name_the_code_page_cannot_show(monkeypatch, stream, expected):
    from pseudodesk.cli.common import safe_output

    streams = {name: stream(io.BytesIO(), encoding="cp1252", newline="\n") for name in ("stdout", "stderr")}
    for name, wrapper in streams.items():
        monkeypatch.setattr(sys, name, wrapper)
    safe_output()
    print("Imię")
    print("Imię", file=sys.stderr)
    for wrapper in streams.values():
        wrapper.flush()
        assert wrapper.buffer.getvalue() == expected


def test_a_missing_audit_log_does_not_verify(tmp_path, capsys, memory_keyring):
    from pseudodesk.core.keys.installation import installation_signer

    installation_signer(KeyStore())  # an installation with a key but no log yet
    assert main(["audit", "verify"]) == 6
    assert "there is no audit log" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX; Windows stops with a console event")
def test_sigterm_stops_a_run_like_ctrl_c(tmp_path):
    source = setup(tmp_path, rows=600_000)
    ring = tmp_path / "ring"
    data = tmp_path / "data"
    code = f"""
import sys
sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "src")!r}]
import keyring
from tests.core.test_reliability import folder_keyring
keyring.set_keyring(folder_keyring({str(ring)!r}))
from pseudodesk.core.keys.store import KeyStore
key = KeyStore().create("Pilot key")
from pseudodesk.cli.main import main
sys.exit(main(["run", "--accept-unapproved-profile", *{source!r}, "--out", {str(tmp_path / "out")!r},
               "--key", key.id, "--name", "big"]))
"""
    env = {**os.environ, "PSEUDODESK_DATA_DIR": str(data)}
    child = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any((data / "exports-in-progress").glob("*.json")):
        time.sleep(0.05)
    time.sleep(0.3)
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err.decode()
    assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True
    events = [json.loads(line)["event"] for line in (data / LOG_NAME).read_text().splitlines()]
    assert events[-2:] == ["export.started", "export.cancelled"]


def test_an_export_that_cannot_be_recorded_is_removed_then_recorded_as_interrupted(
    tmp_path, capsys, memory_keyring, monkeypatch
):
    from pseudodesk.core.keys.installation import AuditTrail

    key = KeyStore().create("Pilot key")
    source = setup(tmp_path)
    real = AuditTrail.record

    def full_data_folder(self, event, details):
        if event == "export":
            raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
        return real(self, event, details)

    monkeypatch.setattr(AuditTrail, "record", full_data_folder)
    argv = ["run", "--accept-unapproved-profile", *source, "--out", str(tmp_path / "out"), "--key", key.id]
    assert main([*argv, "--name", "pilot"]) == 5
    err = capsys.readouterr().err
    assert "could not be recorded in the audit log" in err and "removed" in err
    assert list((tmp_path / "out").iterdir()) == []  # no export nobody can account for
    monkeypatch.setattr(AuditTrail, "record", real)  # space was freed
    assert main(["audit", "verify"]) == 0
    assert "was stopped part-way" in capsys.readouterr().err
    events = [e["event"] for _, e, _ in read_entries(KeyStore().directory / LOG_NAME) if e]
    assert events[-3:] == ["export.started", "export.interrupted", "audit.verified"]


def _export(tmp_path: Path, key_id: str, name: str) -> None:
    source = setup(tmp_path)
    argv = ["run", "--accept-unapproved-profile", *source, "--out", str(tmp_path / "out"), "--key", key_id]
    assert main([*argv, "--name", name]) == 0


@pytest.mark.parametrize("cut", [1, 2, 5])
def test_entries_cut_from_the_end_of_the_log_are_detected(tmp_path, capsys, memory_keyring, cut):
    key = KeyStore().create("Pilot key")
    for name in ("one", "two", "three"):
        _export(tmp_path, key.id, name)
    log = KeyStore().directory / LOG_NAME
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:-cut]))  # the newest entries deleted, the chain still whole
    capsys.readouterr()
    assert main(["audit", "verify"]) == 6
    out = capsys.readouterr().out
    assert "audit log BROKEN" in out and "removed from the end" in out and "count kept in the key store" in out


def test_the_manifests_anchor_the_log_when_the_keyring_count_is_lost(tmp_path, capsys, memory_keyring):
    key = KeyStore().create("Pilot key")
    for name in ("one", "two"):
        _export(tmp_path, key.id, name)
    memory_keyring.store = {k: v for k, v in memory_keyring.store.items() if "audit-head" not in k[1]}
    log = KeyStore().directory / LOG_NAME
    entries = [e for _, e, _ in read_entries(log) if e]
    second_started = next(e for e in entries if e["event"] == "export.started" and e["details"]["output"] == "two.7z")
    log.write_bytes(b"".join(log.read_bytes().splitlines(keepends=True)[: second_started["seq"] - 1]))
    capsys.readouterr()
    assert main(["audit", "verify", "--log", str(log)]) == 0  # the log alone looks whole
    capsys.readouterr()
    assert main(["audit", "verify", "--log", str(log), "--manifests", str(tmp_path / "out")]) == 6
    assert "the manifest two.manifest.json shows entry" in capsys.readouterr().out


def test_the_ig_report_prints_the_head_of_the_log(tmp_path, capsys, memory_keyring):
    key = KeyStore().create("Pilot key")
    _export(tmp_path, key.id, "one")
    log = KeyStore().directory / LOG_NAME
    last = log.read_bytes().splitlines()[-1]
    assert main(["audit", "report", "--html", str(tmp_path / "r.html")]) == 0
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    import hashlib

    assert f"<code>{hashlib.sha256(last).hexdigest()}</code>" in page and "Head of the log" in page
