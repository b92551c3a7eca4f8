"""pseudodesk-cli retire: the audit log handed over to the IG lead, then this user's keys, data
and settings removed; nothing changes without --yes, or while the log does not verify."""

from __future__ import annotations

import json

import pytest

from pseudodesk.cli.main import main
from pseudodesk.core.audit.log import LOG_NAME
from pseudodesk.core.keys.retire import WindowSettings
from pseudodesk.core.keys.store import KeyStore


@pytest.fixture
def installation(private_data_dir, memory_keyring, tmp_path, monkeypatch):
    """A user with a project key, a salt, a signed audit log and window settings."""
    settings = tmp_path / "config" / "pseudodesk" / "pseudodesk.conf"  # never the real user's (registry) settings
    settings.parent.mkdir(parents=True)
    settings.write_text("[export]\nfolder=/home/someone/exports\n")
    monkeypatch.setattr("pseudodesk.core.keys.retire.window_settings", lambda: WindowSettings(file=settings))
    store = KeyStore()
    key = store.create("Families 2026", agreement="Families")
    salt = store.create("OP salt", kind="op-salt", secret=b"mackerel")
    return {"key": key, "salt": salt, "settings": settings, "ring": memory_keyring, "data": private_data_dir}


def entries_in(ring) -> set[str]:
    return {name for service, name in ring.store if service == "pseudodesk"}


def test_without_yes_it_lists_what_would_go_and_changes_nothing(installation, tmp_path, capsys):
    before = entries_in(installation["ring"])
    assert main(["retire"]) == 0
    out = capsys.readouterr().out
    assert f"project key Families 2026 ({installation['key'].id})" in out
    assert f"salt OP salt ({installation['salt'].id})" in out
    assert "the installation's signing key" in out and "the audit log's entry count" in out
    assert f"window settings: {installation['settings']}" in out and "Nothing was changed." in out
    assert entries_in(installation["ring"]) == before and len(before) == 4
    assert installation["settings"].exists() and (installation["data"] / LOG_NAME).exists()
    assert main(["retire", "--yes"]) == 2  # the audit log goes to the IG lead first
    assert "give --audit-to FOLDER" in capsys.readouterr().err


def test_the_log_is_handed_over_then_keys_data_and_settings_are_removed(installation, tmp_path, capsys):
    assert main(["retire", "--audit-to", str(tmp_path / "ig"), "--yes"]) == 0
    out = capsys.readouterr().out
    assert entries_in(installation["ring"]) == set()
    assert not installation["data"].exists() and not installation["settings"].exists()
    assert f"deleted from the OS keyring: project key Families 2026 ({installation['key'].id})" in out
    (folder,) = (tmp_path / "ig").iterdir()
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.txt",
        "audit-report.csv",
        "audit-report.html",
        "audit.jsonl",
        "installation-key.json",
    ]
    events = [json.loads(line)["event"] for line in (folder / "audit.jsonl").read_text().splitlines()]
    assert events[-1] == "installation.retired" and events.count("key.created") == 2
    assert "When handed over the log verified." in (folder / "README.txt").read_text()
    assert main(["audit", "verify", "--log", str(folder / "audit.jsonl")]) == 0  # the IG lead's check
    assert f"audit log OK: {len(events)} entries" in capsys.readouterr().out


def test_a_log_that_does_not_verify_stops_the_removal(installation, tmp_path, capsys):
    log = installation["data"] / LOG_NAME
    lines = log.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace('"key.created"', '"key.deleted"')
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["retire", "--audit-to", str(tmp_path / "ig"), "--yes"]) == 6
    captured = capsys.readouterr()
    assert "the log does NOT verify" in captured.out and "Nothing was removed" in captured.err
    assert installation["data"].exists() and len(entries_in(installation["ring"])) == 4
    assert main(["retire", "--audit-to", str(tmp_path / "ig2"), "--yes", "--accept-unverified-audit"]) == 0
    assert not installation["data"].exists() and entries_in(installation["ring"]) == set()
    (folder,) = (tmp_path / "ig2").iterdir()
    assert "When handed over the log did NOT verify:" in (folder / "README.txt").read_text()
