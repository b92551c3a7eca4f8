"""The Keys window: create, copy, export, import (with fingerprint confirmation), rotate, delete.

Every operation goes through the job bridge, so each test waits for the bridge to be idle
and the bridge is shut down when the test ends. Dialogs are opened with ``open()``; the
tests fill in their public widgets and press their buttons. File pickers are injected.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QDateEdit,
    QLabel,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from pseudodesk.core.keys.overview import fingerprint_is_complete
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.gui.jobs import JobBridge
from pseudodesk.gui.keys import KeysWindow

TIMEOUT = 20_000  # ms: scrypt takes up to a second per key file on a slow CI machine


@pytest.fixture
def bridge() -> Iterator[JobBridge]:
    bridge = JobBridge()
    yield bridge
    bridge.shutdown()


@pytest.fixture
def store(memory_keyring, private_data_dir: Path) -> KeyStore:
    return KeyStore(directory=private_data_dir)


@pytest.fixture
def window(qtbot, store: KeyStore, bridge: JobBridge) -> KeysWindow:
    window = KeysWindow(store, bridge)
    qtbot.addWidget(window)
    return window


def wait_idle(qtbot, bridge: JobBridge) -> None:
    qtbot.waitUntil(lambda: not bridge.busy, timeout=TIMEOUT)


def error_text(widget: QWidget) -> str:
    box = widget.findChild(QMessageBox, "error_dialog")
    return box.text() if box is not None else ""


def fresh_partner(tmp_path: Path, memory_keyring, qtbot, bridge: JobBridge) -> tuple[KeyStore, KeysWindow]:
    """Another computer: its own data directory and an empty keyring."""
    memory_keyring.store = {}
    partner = KeyStore(directory=tmp_path / "partner-data")
    partner_window = KeysWindow(partner, bridge)
    qtbot.addWidget(partner_window)
    return partner, partner_window


def table_texts(window: KeysWindow, column: int) -> list[str]:
    model = window.table.model()
    return [model.data(model.index(row, column)) for row in range(model.rowCount())]


# --- create, show, copy --------------------------------------------------------------------


def test_created_key_is_listed_with_its_fingerprint_shown_large(qtbot, window, store, bridge):
    assert window.empty_label.isVisibleTo(window) and not window.table.isVisibleTo(window)
    with qtbot.waitSignal(window.keys_changed, timeout=TIMEOUT):
        assert window.create_key("LCP Scorecard", "LCP agreement", dt.date(2030, 3, 31))
    wait_idle(qtbot, bridge)
    [info] = store.keys()
    assert (info.name, info.agreement, info.expires) == ("LCP Scorecard", "LCP agreement", "2030-03-31")
    assert window.table.isVisibleTo(window)
    row = [window.model.data(window.model.index(0, c)) for c in range(window.model.columnCount())]
    assert row == [
        "LCP Scorecard",
        info.id,
        "project key",
        "LCP agreement",
        "active",
        info.created[:10],
        "2030-03-31",
        info.fingerprint,
    ]
    assert window.selected_key_id() == info.id
    label = window.details.fingerprint_label
    assert label.text() == info.fingerprint
    assert label.font().pointSize() == 20
    assert label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    assert info.id in window.status_label.text()


def test_new_key_dialog_gathers_name_agreement_and_expiry(qtbot, window, store, bridge):
    window.new_button.click()
    dialog = window.new_key_dialog
    assert dialog is not None and dialog.isVisible()
    assert not dialog.ok_button.isEnabled()  # no name yet
    qtbot.keyClicks(dialog.name_edit, "Youth Justice 2026")
    dialog.agreement_edit.setText("YJ agreement")
    assert not dialog.expires_edit.isEnabled()
    dialog.expires_check.setChecked(True)
    dialog.expires_edit.setDate(QDate(2031, 4, 1))
    assert dialog.ok_button.isEnabled()
    dialog.ok_button.click()
    wait_idle(qtbot, bridge)
    [info] = store.keys()
    assert (info.name, info.agreement, info.expires, info.kind) == (
        "Youth Justice 2026",
        "YJ agreement",
        "2031-04-01",
        "project-key",
    )
    assert table_texts(window, 7) == [info.fingerprint]


def test_cancelling_the_new_key_dialog_creates_nothing(qtbot, window, store):
    window.new_button.click()
    dialog = window.new_key_dialog
    dialog.name_edit.setText("Not wanted")
    dialog.reject()
    assert not window.bridge.busy and store.keys() == []


def test_copy_fingerprint_puts_it_on_the_clipboard(qtbot, window, store, bridge):
    window.create_key("A")
    wait_idle(qtbot, bridge)
    window.create_key("B")
    wait_idle(qtbot, bridge)
    first, second = store.keys()
    QApplication.clipboard().setText("something else")
    window.select_key(first.id)
    window.details.copy_button.click()
    assert QApplication.clipboard().text() == first.fingerprint
    window.select_key(second.id)
    assert window.details.fingerprint_label.text() == second.fingerprint
    window.details.copy_button.click()
    assert QApplication.clipboard().text() == second.fingerprint


def test_buttons_that_do_not_apply_are_disabled(qtbot, window, store, bridge):
    for button in (window.export_button, window.rotate_button, window.delete_button, window.details.copy_button):
        assert not button.isEnabled()  # nothing to select
    assert window.new_button.isEnabled() and window.import_button.isEnabled()
    window.create_key("Key")
    wait_idle(qtbot, bridge)
    assert all(b.isEnabled() for b in (window.export_button, window.rotate_button, window.delete_button))
    window.table.clearSelection()
    assert window.selected_key() is None
    assert not window.export_button.isEnabled() and not window.delete_button.isEnabled()
    assert window.details.fingerprint_label.text() == "—"

    release = threading.Event()
    bridge.start("Another job", lambda progress, cancel: release.wait(10))
    window.select_key(store.keys()[0].id)
    assert not any(
        b.isEnabled()
        for b in (
            window.new_button,
            window.import_button,
            window.export_button,
            window.rotate_button,
            window.delete_button,
        )
    )
    assert window.details.copy_button.isEnabled()  # copying needs no job
    assert "Another job" in window.status_label.text()
    assert window.create_key("Second") is False  # one job at a time: told, not crashed
    assert window.findChild(QMessageBox, "busy_dialog") is not None
    release.set()
    wait_idle(qtbot, bridge)
    assert window.new_button.isEnabled() and window.rotate_button.isEnabled()
    assert window.status_label.text() == "" and len(store.keys()) == 1


def test_showing_the_window_rereads_keys_changed_elsewhere(qtbot, window, store):
    assert window.keys() == []
    made_by_cli = store.create("Made with pseudodesk-cli")
    window.show()
    qtbot.waitExposed(window)
    assert [k.id for k in window.keys()] == [made_by_cli.id]


# --- export and import ------------------------------------------------------------------------


def test_export_with_generated_passphrase_then_import_on_another_computer(
    qtbot, window, store, bridge, memory_keyring, tmp_path, private_data_dir
):
    window.create_key("LCP Scorecard", "LCP agreement")
    wait_idle(qtbot, bridge)
    [info] = store.keys()
    secret = memory_keyring.store[("pseudodesk", info.id)]
    target = tmp_path / "out" / "lcp.pdkey"
    window.ask_save_path = lambda parent, caption, suggested, file_filter: target

    window.export_button.click()
    dialog = window.export_dialog
    assert dialog.passphrase_radio.isChecked()
    assert dialog.fingerprint_label.text() == info.fingerprint
    passphrase = dialog.passphrase_edit.text()
    assert len(passphrase) >= 24 and "by a different route" in dialog.passphrase_warning.text()
    dialog.copy_passphrase_button.click()
    assert QApplication.clipboard().text() == passphrase
    with qtbot.waitSignal(window.key_exported, timeout=TIMEOUT) as exported:
        dialog.ok_button.click()
    wait_idle(qtbot, bridge)
    assert exported.args == [info.id, str(target)]
    assert target.exists() and not list(target.parent.glob(".*.partial"))
    done = window.export_done_box
    assert done is not None and passphrase in done.text() and info.fingerprint in done.text()

    # the passphrase and the key never reach a file in plain: not the data dir, not the key file
    for path in [*private_data_dir.rglob("*"), target]:
        if path.is_file():
            content = path.read_bytes()
            assert passphrase.encode() not in content, path
            assert secret.split(":", 1)[1].encode() not in content, path

    partner, partner_window = fresh_partner(tmp_path, memory_keyring, qtbot, bridge)
    partner_window.ask_open_path = lambda parent, caption, file_filter: target
    partner_window.import_button.click()
    imported = partner_window.import_dialog
    assert imported.protection == "passphrase"
    assert imported.passphrase_edit.echoMode() == QLineEdit.EchoMode.Password
    assert not imported.certificate_edit.isVisibleTo(imported)
    imported.passphrase_edit.setText(passphrase)
    assert not imported.ok_button.isEnabled()  # no fingerprint yet
    qtbot.keyClicks(imported.fingerprint_edit, info.fingerprint.lower().replace("-", " "))  # as read out
    assert imported.ok_button.isEnabled()
    with qtbot.waitSignal(partner_window.keys_changed, timeout=TIMEOUT):
        imported.ok_button.click()
    wait_idle(qtbot, bridge)
    [copy] = partner.keys()
    assert (copy.id, copy.fingerprint, copy.name) == (info.id, info.fingerprint, "LCP Scorecard")
    assert table_texts(partner_window, 7) == [info.fingerprint]
    assert partner_window.details.fingerprint_label.text() == info.fingerprint
    assert error_text(partner_window) == ""


def test_export_suggests_a_file_name_made_from_the_key_name(qtbot, window, store, bridge):
    names = ["LCP Scorecard / 2026", "a" * 39 + " and more", "???"]
    for name in names:
        window.create_key(name)
        wait_idle(qtbot, bridge)
    suggested = []

    def ask_save_path(parent, caption, suggestion, file_filter):
        suggested.append(suggestion)
        return None  # cancelled

    window.ask_save_path = ask_save_path
    for info in store.keys():
        window.select_key(info.id)
        window.export_button.click()
        window.export_dialog.ok_button.click()
        assert window.status_label.text() == "Not exported: no file was chosen."
    ids = {info.name: info.id for info in store.keys()}
    assert [path.name for path in suggested] == [
        f"lcp-scorecard-2026-{ids[names[0]]}.pdkey",
        f"{'a' * 39}--{ids[names[1]]}.pdkey",  # cut at 40 characters, after the "-"
        f"{ids[names[2]]}.pdkey",  # nothing left of the name: the id alone
    ]
    assert {path.parent for path in suggested} == {Path.home()}


def test_import_with_a_wrong_fingerprint_is_refused_and_nothing_imported(
    qtbot, window, store, bridge, memory_keyring, tmp_path
):
    window.create_key("LCP Scorecard")
    wait_idle(qtbot, bridge)
    [info] = store.keys()
    target = tmp_path / "lcp.pdkey"
    passphrase = "correct horse battery staple"
    window.export_key(info.id, target, passphrase=passphrase)
    wait_idle(qtbot, bridge)

    partner, partner_window = fresh_partner(tmp_path, memory_keyring, qtbot, bridge)
    wrong = "0000-1111-2222-3333" if info.fingerprint != "0000-1111-2222-3333" else "4444-5555-6666-7777"
    partner_window.import_key(target, wrong, passphrase=passphrase)
    wait_idle(qtbot, bridge)
    assert "does not match" in error_text(partner_window)
    assert partner.keys() == [] and partner_window.keys() == []
    assert ("pseudodesk", info.id) not in memory_keyring.store


def test_import_with_a_wrong_passphrase_is_refused(qtbot, window, store, bridge, memory_keyring, tmp_path):
    window.create_key("LCP Scorecard")
    wait_idle(qtbot, bridge)
    [info] = store.keys()
    target = tmp_path / "lcp.pdkey"
    window.export_key(info.id, target, passphrase="correct horse battery staple")
    wait_idle(qtbot, bridge)
    partner, partner_window = fresh_partner(tmp_path, memory_keyring, qtbot, bridge)
    partner_window.import_key(target, info.fingerprint, passphrase="incorrect horse battery staple")
    wait_idle(qtbot, bridge)
    assert error_text(partner_window).startswith("Wrong passphrase for lcp.pdkey")
    assert partner.keys() == []


def test_a_file_that_is_not_a_key_file_is_refused_before_asking_anything(qtbot, window, tmp_path):
    junk = tmp_path / "junk.pdkey"
    junk.write_text("not json")
    window.ask_open_path = lambda parent, caption, file_filter: junk
    window.import_button.click()
    assert window.import_dialog is None
    assert error_text(window) == "junk.pdkey is not a pseudodesk key file."


def test_import_dialog_needs_a_whole_fingerprint():
    assert fingerprint_is_complete("7f3a 91c2 0b4e d8a1")
    assert fingerprint_is_complete("7F3A-91C2-0B4E-D8A1")
    assert not fingerprint_is_complete("7F3A-91C2-0B4E")
    assert not fingerprint_is_complete("7F3A-91C2-0B4E-D8A1-0000")
    assert not fingerprint_is_complete("ZZZZ-91C2-0B4E-D8A1")


def test_a_salt_file_asks_for_five_groups_and_takes_an_older_four(qtbot, tmp_path):
    from pseudodesk.gui.keys.keyfile_dialogs import ImportKeyDialog

    meta = {"protection": "passphrase", "kind": "op-salt", "name": "OP salt", "key_id": "k1"}
    dialog = ImportKeyDialog(tmp_path / "salt.pdkey", meta)
    qtbot.addWidget(dialog)
    assert dialog.fingerprint_edit.placeholderText() == "XXXX-XXXX-XXXX-XXXX-XXXX"
    dialog.passphrase_edit.setText("A" * 30)
    for typed, ready in [("C91F-44B5-AF87-9074", True), ("C91F-44B5-AF87-9074-FFB2", True), ("C91F-44B5", False)]:
        dialog.fingerprint_edit.setText(typed)
        assert dialog.ok_button.isEnabled() is ready, typed
    key_dialog = ImportKeyDialog(tmp_path / "key.pdkey", {**meta, "kind": "project-key"})
    qtbot.addWidget(key_dialog)
    key_dialog.passphrase_edit.setText("A" * 30)
    key_dialog.fingerprint_edit.setText("C91F-44B5-AF87-9074-FFB2")
    assert not key_dialog.ok_button.isEnabled()


def test_export_to_demo_certificate_and_import_with_demo_private_key(
    qtbot, window, store, bridge, memory_keyring, tmp_path, demo_paths
):
    window.create_key("LCP Scorecard", "LCP agreement")
    wait_idle(qtbot, bridge)
    [info] = store.keys()
    target = tmp_path / "lcp-wrapped.pdkey"
    window.ask_save_path = lambda parent, caption, suggested, file_filter: target
    window.ask_open_path = lambda parent, caption, file_filter: demo_paths["certificate"]

    window.export_button.click()
    dialog = window.export_dialog
    assert not dialog.add_certificate_button.isEnabled()  # the passphrase is the default
    dialog.certificate_radio.click()
    assert not dialog.ok_button.isEnabled()  # no certificate yet
    dialog.add_certificate_button.click()
    assert dialog.certificate_radio.isChecked() and dialog.certificate_list.count() == 1
    assert dialog.passphrase() is None and dialog.certificates() == [demo_paths["certificate"]]
    dialog.ok_button.click()
    wait_idle(qtbot, bridge)
    assert target.exists()
    assert "certificate" in window.export_done_box.text()
    assert error_text(window) == ""

    partner, partner_window = fresh_partner(tmp_path, memory_keyring, qtbot, bridge)
    picks = iter([target, demo_paths["certificate"], demo_paths["private_key"]])
    partner_window.ask_open_path = lambda parent, caption, file_filter: next(picks)
    partner_window.import_button.click()
    imported = partner_window.import_dialog
    assert imported.protection == "certificate"
    assert imported.certificate_edit.isVisibleTo(imported) and not imported.passphrase_edit.isVisibleTo(imported)
    imported.certificate_button.click()
    imported.private_key_button.click()
    assert imported.certificate() == demo_paths["certificate"]
    assert imported.private_key() == demo_paths["private_key"]
    imported.fingerprint_edit.setText(info.fingerprint)
    imported.ok_button.click()
    wait_idle(qtbot, bridge)
    assert error_text(partner_window) == ""
    assert [(k.id, k.fingerprint) for k in partner.keys()] == [(info.id, info.fingerprint)]
    assert table_texts(partner_window, 7) == [info.fingerprint]


def test_export_refuses_to_replace_a_file_unless_asked(qtbot, window, store, bridge, tmp_path):
    window.create_key("Key")
    wait_idle(qtbot, bridge)
    target = tmp_path / "existing.pdkey"
    target.write_text("keep me")
    window.export_key(store.keys()[0].id, target, passphrase="correct horse battery staple")
    wait_idle(qtbot, bridge)
    assert "already exists" in error_text(window)
    assert target.read_text() == "keep me"


# --- rotate and delete -----------------------------------------------------------------------


def test_rotate_after_confirmation_retires_the_old_key(qtbot, window, store, bridge):
    window.create_key("LCP Scorecard", "LCP agreement", dt.date(2030, 1, 1))
    wait_idle(qtbot, bridge)
    [old] = store.keys()
    window.rotate_button.click()
    dialog = window.rotate_dialog
    assert "retired" in dialog.explanation.text() and "re-identification only" in dialog.explanation.text()
    with qtbot.waitSignal(window.keys_changed, timeout=TIMEOUT):
        dialog.confirm_button.click()
    wait_idle(qtbot, bridge)
    retired, new = store.keys()
    assert (retired.id, retired.status, new.status) == (old.id, "retired", "active")
    assert table_texts(window, 4) == ["retired", "active"]
    assert table_texts(window, 1) == [old.id, new.id]
    assert window.selected_key_id() == new.id  # the new key is selected, to export to partners
    window.select_key(old.id)
    assert not window.rotate_button.isEnabled()  # a retired key cannot be rotated again
    assert "re-identification only" in window.details.status_label.text()


def test_cancelled_rotation_changes_nothing(qtbot, window, store, bridge):
    window.create_key("Key")
    wait_idle(qtbot, bridge)
    window.rotate_button.click()
    window.rotate_dialog.reject()
    assert not bridge.busy
    assert [k.status for k in store.keys()] == ["active"]


def test_delete_only_after_typing_the_key_id(qtbot, window, store, bridge):
    window.create_key("Keep")
    wait_idle(qtbot, bridge)
    window.create_key("Doomed")
    wait_idle(qtbot, bridge)
    keep, doomed = store.keys()
    window.select_key(doomed.id)
    window.delete_button.click()
    dialog = window.delete_dialog
    assert "can never be re-created or re-identified" in dialog.explanation.text()
    assert not dialog.confirm_button.isEnabled()
    dialog.confirm_edit.setText(keep.id)  # the wrong key's id does not confirm
    assert not dialog.confirm_button.isEnabled()
    dialog.confirm_edit.setText(doomed.id)
    assert dialog.confirm_button.isEnabled()
    with qtbot.waitSignal(window.keys_changed, timeout=TIMEOUT):
        dialog.confirm_button.click()
    wait_idle(qtbot, bridge)
    assert [k.id for k in store.keys()] == [keep.id]
    assert table_texts(window, 1) == [keep.id]
    assert doomed.id in window.status_label.text()


def test_cancelled_delete_keeps_the_key(qtbot, window, store, bridge):
    window.create_key("Keep")
    wait_idle(qtbot, bridge)
    window.delete_button.click()
    window.delete_dialog.reject()
    assert not bridge.busy and len(store.keys()) == 1
    assert "Not deleted" in window.status_label.text()


# --- OpenPseudonymiser salts -------------------------------------------------------------------


def test_salt_is_added_with_a_warning_and_cannot_be_exported_or_rotated(qtbot, window, store, bridge):
    window.new_button.click()
    dialog = window.new_key_dialog
    assert not dialog.salt_box.isVisibleTo(dialog)
    dialog.salt_radio.setChecked(True)
    assert dialog.salt_box.isVisibleTo(dialog) and "weaker" in dialog.salt_warning.text()
    dialog.name_edit.setText("OP link")
    assert not dialog.ok_button.isEnabled()  # no salt yet
    assert dialog.salt_edit.echoMode() == QLineEdit.EchoMode.Password
    dialog.salt_edit.setText("mackerel")
    dialog.ok_button.click()
    wait_idle(qtbot, bridge)
    [info] = store.keys()
    assert info.kind == "op-salt" and store.load_salt(info.id) == "mackerel"
    assert table_texts(window, 2) == ["OpenPseudonymiser salt"]
    assert not window.export_button.isEnabled() and not window.rotate_button.isEnabled()
    assert window.delete_button.isEnabled()


# --- accessibility ---------------------------------------------------------------------------


def test_tab_reaches_the_buttons_in_order(qtbot, window, bridge):
    window.create_key("Key")
    wait_idle(qtbot, bridge)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    window.table.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.table)
    seen: list[QWidget] = []
    for _ in range(12):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
    expected = [
        window.details.fingerprint_label,
        window.details.copy_button,
        window.new_button,
        window.import_button,
        window.export_button,
        window.rotate_button,
        window.delete_button,
        window.close_button,
        window.table,
    ]
    assert seen[: len(expected)] == expected


def test_every_control_is_named_and_buttons_have_mnemonics(qtbot, window, bridge, tmp_path):
    window.create_key("Key")
    wait_idle(qtbot, bridge)
    window.new_button.click()
    window.export_button.click()
    window.delete_button.click()
    window.rotate_button.click()
    dialogs = [window, window.new_key_dialog, window.export_dialog, window.delete_dialog, window.rotate_dialog]
    for widget in dialogs:
        controls = [
            w
            for w in widget.findChildren(QWidget)
            if isinstance(w, (QAbstractButton, QLineEdit, QAbstractItemView, QDateEdit))
            and w.focusPolicy() != Qt.FocusPolicy.NoFocus
            and w.parent() is not None
            and not isinstance(w.parent(), QDateEdit)
        ]
        assert controls
        unnamed = [f"{type(w).__name__} {getattr(w, 'text', lambda: '')()}" for w in controls if not w.accessibleName()]
        assert unnamed == [], widget.windowTitle()
    for button in (
        window.new_button,
        window.import_button,
        window.export_button,
        window.rotate_button,
        window.delete_button,
        window.close_button,
        window.details.copy_button,
    ):
        assert "&" in button.text()
    mnemonics = [
        b.text()[b.text().index("&") + 1].lower()
        for b in (
            window.new_button,
            window.import_button,
            window.export_button,
            window.rotate_button,
            window.delete_button,
            window.close_button,
            window.details.copy_button,
        )
    ]
    assert len(set(mnemonics)) == len(mnemonics)
    for dialog in dialogs[1:]:
        dialog.reject()


def test_wrapped_text_is_never_cut_off(qtbot, window, bridge, tmp_path):
    """Dialogs size themselves for their wrapped text (as at 150% scaling: fonts grow, layouts follow)."""
    window.create_key("A key with a rather long name for a data sharing agreement", "An agreement " * 6)
    wait_idle(qtbot, bridge)
    window.show()
    window.new_button.click()
    window.new_key_dialog.salt_radio.setChecked(True)  # the OpenPseudonymiser warning appears
    window.export_button.click()
    window.delete_button.click()
    window.rotate_button.click()
    target = tmp_path / "k.pdkey"
    target.write_text('{"format": "pseudodesk-key/1", "protection": "certificate", "name": "x", "key_id": "y"}')
    window.ask_open_path = lambda parent, caption, file_filter: target
    window.import_button.click()
    dialogs = [
        window,
        window.new_key_dialog,
        window.export_dialog,
        window.delete_dialog,
        window.rotate_dialog,
        window.import_dialog,
    ]
    QApplication.processEvents()
    for dialog in dialogs:
        assert dialog.isVisible()
        for label in dialog.findChildren(QLabel):
            if label.isVisible() and label.wordWrap() and label.text():
                assert label.height() >= label.heightForWidth(label.width()), (dialog.windowTitle(), label.text())
            elif label.isVisible() and label.text():
                assert label.width() >= label.sizeHint().width() - 1 or label.wordWrap(), label.text()
        for edit in dialog.findChildren(QLineEdit):
            if edit.isVisible() and edit.minimumWidth():
                assert edit.width() >= edit.minimumWidth()
    for dialog in dialogs[1:]:
        dialog.reject()
