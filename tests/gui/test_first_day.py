"""A partner's whole first day in the window: install the agreement package their IG lead sent
(comparing the custodian fingerprint read out by phone), load the spreadsheet, export. No
custodian control is visible and no command line is needed; the export is recorded as made
under the approved agreement and its pseudonyms equal the custodian's."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from pseudodesk.core.keys.agreements import pack_agreement
from pseudodesk.core.keys.installation import installation_signer
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.transform.pseudonym import pseudonym
from pseudodesk.gui import widgets
from pseudodesk.gui.window import MainWindow
from tests.core.test_agreements import PROFILE, Party
from tests.helpers import certificate, decrypt_cms, parse_csv

WAIT = 30_000
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def package(tmp_path):
    """What the IG lead sends: one .pdagreement, a passphrase and a fingerprint read out by phone."""
    custodian = Party(tmp_path / "custodian")
    _, county_key = certificate(tmp_path / "certs", "county")
    with custodian.active() as store:
        key = store.create("Families First 2026", agreement="Families First", expires=dt.date(2099, 12, 31))
        (tmp_path / "profiles").mkdir()
        profile = tmp_path / "profiles" / "families.toml"
        profile.write_text(
            PROFILE.format(
                version="1", review="2099-12-31", key_id=key.id, fingerprint=key.fingerprint, salt="", extra=""
            ),
            encoding="utf-8",
        )
        data, _ = pack_agreement(store, profile, passphrase=PASSPHRASE)
        fingerprint = installation_signer(store).fingerprint
        secret = store.load(key.id)
    path = tmp_path / "families-first.pdagreement"
    path.write_bytes(data)
    return {"path": path, "fingerprint": fingerprint, "key": secret, "county_key": county_key}


@pytest.fixture
def window(qtbot, memory_keyring):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.bridge.shutdown()


def visible(name: str):
    return next((w for w in QApplication.topLevelWidgets() if w.objectName() == name and w.isVisible()), None)


def pilot_profile(tmp_path: Path) -> Path:
    """A profile made on the partner's PC (no key named), beside the custodian's for its certificate."""
    path = tmp_path / "profiles" / "pilot.toml"
    text = PROFILE.format(version="1", review="2099-12-31", key_id="", fingerprint="", salt="", extra="")
    path.write_text(text.replace('id = ""\nfingerprint = ""\n', ""), encoding="utf-8")
    return path


def open_pilot(qtbot, w: MainWindow, tmp_path: Path) -> Path:
    """A pilot key, a two-row referrals file loaded and the loose pilot profile chosen for it."""
    KeyStore().create("Pilot key")
    profile = pilot_profile(tmp_path)
    source = tmp_path / "referrals.csv"
    source.write_text("NHS No,Sex\n9434765919,F\n4505577104,M\n", encoding="utf-8")
    w.load_step.open_file(source)
    qtbot.waitUntil(lambda: not w.bridge.busy and w.session.table is not None, timeout=WAIT)
    w.map_step.open_profile(profile)
    return profile


def checked(qtbot, w: MainWindow) -> None:
    w.go_to(2)  # the Check step checks this file; Export waits for it
    qtbot.waitUntil(lambda: not w.bridge.busy and w.session.report_current, timeout=WAIT)


def menu_action(window: MainWindow, text: str):
    for menu_action in window.menuBar().actions():
        for action in menu_action.menu().actions():
            if action.text().replace("&", "") == text:
                return action
    raise AssertionError(f"no menu item {text}")


def test_a_partners_first_day(qtbot, window, package, tmp_path, monkeypatch):
    w = window
    # partner staff see no custodian control
    assert not w.custodian_action.isChecked() and not w.pack_action.isVisible()
    assert "No agreement chosen" in w.map_step.profile_label.text()
    assert w.map_step.agreement_combo.currentText().startswith("None yet: install the agreement package")

    # File > Install agreement...
    monkeypatch.setattr(widgets, "ask_open_path", lambda *args, **kwargs: package["path"])
    menu_action(w, "Install agreement…").trigger()
    qtbot.waitUntil(lambda: visible("install_agreement_dialog") is not None, timeout=WAIT)
    dialog = visible("install_agreement_dialog")
    summary = dialog.summary_label.text()
    assert "Families First" in summary and "version 1" in summary and "county" in summary
    assert package["fingerprint"] not in " ".join(label.text() for label in dialog.findChildren(QLabel))

    # a fingerprint misheard on the phone: refused, and the right one is never shown
    wrong = "0000-1111-2222-3333-4444"
    qtbot.keyClicks(dialog.fingerprint_edit, wrong)
    qtbot.keyClicks(dialog.passphrase_edit, PASSPHRASE)
    assert "not the fingerprint of whoever signed" in dialog.match_label.text()
    assert package["fingerprint"] not in dialog.match_label.text()
    assert not dialog.ok_button.isEnabled()
    dialog.fingerprint_edit.clear()
    qtbot.keyClicks(dialog.fingerprint_edit, package["fingerprint"].lower().replace("-", " "))  # as typed
    assert "matches the custodian" in dialog.match_label.text() and dialog.ok_button.isEnabled()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: visible("agreement_installed_dialog") is not None, timeout=WAIT)
    done = visible("agreement_installed_dialog")
    assert "'Families First' version 1 is installed" in done.text()
    done.close()

    # the Map step has chosen the installed agreement, approved
    assert w.session.approval.approved and w.session.approval.custodian_fingerprint == package["fingerprint"]
    assert w.map_step.agreement_combo.currentText() == "Families First (version 1)"
    assert "Approved: installed from the agreement package" in w.map_step.profile_label.text()

    # load the spreadsheet and go through the steps with Next
    source = tmp_path / "referrals.csv"
    source.write_text("NHS No,Sex,Name\n9434765919,F,Ann\n4505577104,M,Bob\n", encoding="utf-8")
    w.load_step.open_file(source)
    qtbot.waitUntil(lambda: not w.bridge.busy and w.session.table is not None, timeout=WAIT)
    for _ in range(3):
        assert w.next_button.isEnabled()
        qtbot.mouseClick(w.next_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not w.bridge.busy, timeout=WAIT)
    step = w.export_step
    assert w.pages.currentWidget() is step
    assert "Approved" in step.approval_label.text() and step.approval_check.isHidden()
    assert step.key_combo.currentData() == package["key"].id
    step.folder_edit.setText(str(tmp_path / "out"))
    assert step.export_button.isEnabled(), step.ready_label.text()
    qtbot.mouseClick(step.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.bridge.busy and step.result is not None, timeout=WAIT)

    result = step.result
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))["manifest"]
    assert manifest["agreement"]["approval"]["approved"] is True
    assert manifest["agreement"]["approval"]["custodian_fingerprint"] == package["fingerprint"]
    rows = parse_csv(decrypt_cms(result.output, package["county_key"]).lstrip(b"\xef\xbb\xbf"))
    assert rows[0] == ["PERSON_ID", "SEX"]
    assert rows[1][0] == pseudonym(package["key"], "PERSON_ID", ["9434765919"])  # the custodian's pseudonyms
    assert "Name" not in rows[0] and all("Ann" not in cell for row in rows for cell in row)
    assert not [box for box in QApplication.topLevelWidgets() if isinstance(box, QMessageBox) and box.isVisible()]


def test_an_unapproved_profile_needs_a_tick_and_a_policy_can_forbid_it(
    qtbot, window, package, tmp_path, machine_policy_file
):
    w = window
    open_pilot(qtbot, w, tmp_path)
    assert not w.session.approval.approved and "Not approved" in w.map_step.profile_label.text()
    checked(qtbot, w)
    w.go_to(3)
    step = w.export_step
    step.folder_edit.setText(str(tmp_path / "out"))
    assert "NOT APPROVED" in step.approval_label.text() and not step.approval_check.isHidden()
    assert not step.export_button.isEnabled() and "not approved" in step.ready_label.text()
    step.approval_check.setChecked(True)
    assert step.export_button.isEnabled(), step.ready_label.text()

    machine_policy_file.write_text("allow_unapproved_exports = false\n", encoding="utf-8")
    step.refresh()
    assert step.approval_check.isHidden() and not step.export_button.isEnabled()
    assert "policy allows exports only under an agreement installed" in step.ready_label.text()


def test_a_damaged_package_opened_with_pseudodesk_is_refused(qtbot, window, package, tmp_path):
    data = bytearray(package["path"].read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged = tmp_path / "damaged.pdagreement"
    damaged.write_bytes(bytes(data))
    window.open_file(damaged)  # as the file association or a drop hands it over
    qtbot.waitUntil(lambda: visible("error_dialog") is not None, timeout=WAIT)
    box = visible("error_dialog")
    assert box.windowTitle() in ("Do not install this agreement package", "Cannot use this agreement")
    assert visible("install_agreement_dialog") is None and not (KeyStore().directory / "agreements").exists()
    box.close()


def test_the_custodian_packs_an_agreement_in_custodian_mode(qtbot, window, tmp_path, monkeypatch):
    from pseudodesk.core.keys.agreements import read_agreement_file

    w = window
    key = KeyStore().create("Families First 2026", agreement="Families First", expires=dt.date(2099, 12, 31))
    certificate(tmp_path / "certs", "county")
    (tmp_path / "profiles").mkdir()
    profile = tmp_path / "profiles" / "families.toml"
    profile.write_text(
        PROFILE.format(version="1", review="2099-12-31", key_id=key.id, fingerprint=key.fingerprint, salt="", extra=""),
        encoding="utf-8",
    )
    assert not w.pack_action.isVisible()
    w.custodian_action.trigger()
    assert w.pack_action.isVisible()
    w.pack_action.trigger()
    dialog = visible("pack_agreement_dialog")
    assert dialog is not None and not dialog.ok_button.isEnabled()
    dialog.profile_edit.setText(str(profile))
    assert dialog.ok_button.isEnabled() and dialog.passphrase_radio.isChecked()
    out = tmp_path / "for-school-a.pdagreement"
    monkeypatch.setattr(widgets, "ask_save_path", lambda *args, **kwargs: out)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: visible("agreement_packed_dialog") is not None, timeout=WAIT)
    box = visible("agreement_packed_dialog")
    _, package = read_agreement_file(out)
    assert package.agreement == "Families First" and package.protection == "passphrase"
    assert f"Custodian fingerprint: {package.custodian_fingerprint}" in box.informativeText()
    assert "Passphrase (shown once): " in box.informativeText()
    box.close()
    w.custodian_action.trigger()
    assert not w.pack_action.isVisible()


def test_the_last_result_goes_when_the_agreement_changes(qtbot, window, package, tmp_path, monkeypatch):
    w = window
    profile = open_pilot(qtbot, w, tmp_path)
    checked(qtbot, w)
    w.go_to(3)
    step = w.export_step
    step.folder_edit.setText(str(tmp_path / "out"))
    step.approval_check.setChecked(True)
    qtbot.mouseClick(step.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.bridge.busy and step.result is not None, timeout=WAIT)
    assert not step.result_box.isHidden()
    w.map_step.open_profile(profile)  # chosen again: a new export to make
    assert step.result_box.isHidden() and step.result is None


def test_an_export_stopped_by_a_crash_is_undone_and_said_at_the_next_start(qtbot, memory_keyring, tmp_path):
    from pseudodesk.core.audit.log import LOG_NAME, read_entries
    from pseudodesk.core.keys.installation import AuditTrail

    store = KeyStore()
    out = tmp_path / "out"
    out.mkdir()
    (out / ".pilot.7z.abc123.partial").write_bytes(b"half an export")
    _, pending = AuditTrail(store).begin_export(
        "e1", {"export_id": "e1", "output": "pilot.7z"}, out / "pilot.7z", out / "pilot.manifest.json"
    )
    pending.release()  # the process died here: its marker stays
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    try:
        qtbot.waitUntil(lambda: visible("interrupted_export_dialog") is not None, timeout=WAIT)
        box = visible("interrupted_export_dialog")
        assert "pilot.7z" in box.text() and "Export again" in box.text()
        box.close()
        assert list(out.iterdir()) == []
        events = [e["event"] for _, e, _ in read_entries(store.directory / LOG_NAME) if e]
        assert events[-2:] == ["export.started", "export.interrupted"]
    finally:
        w.bridge.shutdown()
