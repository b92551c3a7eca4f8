"""The guided flow driven as a person would: clicks and key presses, real files, real encryption."""

from __future__ import annotations

import csv
import io
import subprocess
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QComboBox, QDialog, QMessageBox, QPushButton, QWidget

from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.gui.models import SourceTableModel
from pseudodesk.gui.window import ATTENTION, BLOCKED, DONE, MainWindow
from tests.helpers import PASSPHRASE_PROFILE, ROWS, decrypt_cms, encrypt_xlsx, fixture

WAIT = 30_000


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.bridge.shutdown()


@pytest.fixture
def demo_window(qtbot):
    w = MainWindow(demo=True)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.bridge.shutdown()


def idle(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.bridge.busy, timeout=WAIT)


def error_dialogs() -> list[QMessageBox]:
    return [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.objectName() == "error_dialog" and w.isVisible()
    ]


def run_checks(qtbot, w: MainWindow) -> None:
    """Show the Check step, which checks this file, and wait for its report."""
    w.go_to(2)
    qtbot.waitUntil(lambda: not w.bridge.busy and w.session.report_current, timeout=WAIT * 4)


def click(qtbot, button: QPushButton) -> None:
    assert button.isEnabled(), f"{button.text()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def type_into(qtbot, widget: QWidget, text: str) -> None:
    widget.setFocus()
    widget.selectAll()  # type: ignore[attr-defined]
    qtbot.keyClick(widget, Qt.Key.Key_Delete)
    qtbot.keyClicks(widget, text)


def profile_file(tmp_path: Path, policy: str = "blank") -> Path:
    path = tmp_path / "pilot.toml"
    path.write_text(PASSPHRASE_PROFILE.format(policy=policy), encoding="utf-8")
    return path


def people_csv(tmp_path: Path, rows: list[tuple[str, str]]) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(
        "Name,NHS No,Sex\n" + "".join(f"Person {i},{n},{s}\n" for i, (n, s) in enumerate(rows)), encoding="utf-8"
    )
    return path


def test_demo_by_clicks_to_a_file_openssl_decrypts(qtbot, demo_window, tmp_path, memory_keyring, demo_paths):
    w = demo_window
    assert w.demo_banner.isVisible() and "DEMO" in w.windowTitle()
    w.open_demo()
    idle(qtbot, w)
    assert w.step_state(0) == DONE and w.step_state(1) == DONE
    assert "600 rows" in w.load_step.file_label.text()
    click(qtbot, w.next_button)
    assert w.pages.currentWidget() is w.map_step
    assert "Every field the agreement needs is mapped" in w.map_step.status_label.text()
    click(qtbot, w.next_button)  # Check runs by itself when first shown
    idle(qtbot, w)
    assert w.pages.currentWidget() is w.check_step
    assert "600 rows checked" in w.check_step.summary_label.text()
    assert w.check_step.fields_view.model().rowCount() == 5
    click(qtbot, w.next_button)
    assert w.pages.currentWidget() is w.export_step
    step = w.export_step
    assert step.key_combo.currentText().startswith("DEMO key")
    out = tmp_path / "out"
    type_into(qtbot, step.folder_edit, str(out))
    click(qtbot, step.export_button)
    idle(qtbot, w)
    assert not error_dialogs()
    assert step.result_box.isVisible() and "Exported." in step.result_label.text()
    assert not step.passphrase_frame.isVisible()  # certificate mode: no passphrase to pass on
    encrypted = sorted(out.glob("*.csv.p7m"))
    assert len(encrypted) == 1 and (out / (encrypted[0].name.removesuffix(".csv.p7m") + ".manifest.json")).exists()
    plain = decrypt_cms(encrypted[0], demo_paths["private_key"])
    rows = list(csv.reader(io.StringIO(plain.decode("utf-8"), newline="")))
    assert rows[0] == ["PERSON_ID", "DOB", "GENDER", "POST CODE", "ETHNICITY"]
    assert len(rows) == 601
    assert w.step_state(3) == DONE
    assert step.result.key_fingerprint in step.result_label.text()


def test_protected_workbook_with_a_stored_key_and_passphrase(qtbot, window, tmp_path, memory_keyring, demo_paths):
    w = window
    protected = tmp_path / "protected.xlsx"
    encrypt_xlsx(demo_paths["spreadsheet"], protected, "Tr0ub4dor&3")
    info = KeyStore().create("Pilot key", agreement="Pilot extract")
    w.export_step.refresh()
    w.load_step.open_file(protected)
    qtbot.waitUntil(lambda: _visible_dialog("password_dialog") is not None, timeout=WAIT)
    dialog = _visible_dialog("password_dialog")
    qtbot.keyClicks(dialog.password, "wrong")
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: (d := _visible_dialog("password_dialog")) is not None and d is not dialog, timeout=WAIT)
    dialog = _visible_dialog("password_dialog")
    qtbot.keyClicks(dialog.password, "Tr0ub4dor&3")
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    idle(qtbot, w)
    assert "(password-protected)" in w.load_step.file_label.text()
    w.map_step.open_profile(profile_file(tmp_path))
    assert w.step_state(1) == DONE
    run_checks(qtbot, w)
    w.go_to(3)
    w.export_step.approval_check.setChecked(True)  # a loose profile: confirmed as unapproved
    step = w.export_step
    assert step.key_combo.currentData() == info.id
    type_into(qtbot, step.folder_edit, str(tmp_path / "out"))
    qtbot.keyClick(step.export_button, Qt.Key.Key_Space)
    idle(qtbot, w)
    assert step.passphrase_frame.isVisible()
    passphrase = step.passphrase_edit.text()
    assert len(passphrase) >= 20
    click(qtbot, step.copy_button)
    assert QApplication.clipboard().text() == passphrase
    (archive,) = (tmp_path / "out").glob("*.7z")
    from pseudodesk.core.package.inspection import decrypt_bytes

    rows = list(csv.reader(io.StringIO(decrypt_bytes(archive, passphrase=passphrase).decode("utf-8"), newline="")))
    assert rows[0] == ["PERSON_ID", "SEX"] and len(rows) == 601
    from pseudodesk.core.audit.log import read_entries
    from pseudodesk.core.keys.installation import AuditTrail

    events = [e["event"] for _, e, _ in read_entries(AuditTrail(KeyStore()).path) if e]
    assert "export" in events
    settings = Path(QSettings().fileName()).read_text(encoding="utf-8")
    assert passphrase not in settings and "Tr0ub4dor" not in settings  # window state only


def _visible_dialog(name: str) -> QDialog | None:
    for widget in QApplication.topLevelWidgets():
        if widget.objectName() == name and widget.isVisible():
            return widget  # type: ignore[return-value]
    return None


def _csv_rows(n: int) -> list[tuple[str, str]]:
    return [("943 476 5919", "F")] * n


def start_large_export(qtbot, w: MainWindow, tmp_path: Path, started_at: int) -> Path:
    """A 300,000-row export under way (progress past ``started_at`` of 1000); returns its folder."""
    KeyStore().create("Pilot key")
    w.load_step.open_file(people_csv(tmp_path, _csv_rows(300_000)))
    idle(qtbot, w)
    w.map_step.open_profile(profile_file(tmp_path))
    run_checks(qtbot, w)
    w.go_to(3)
    w.export_step.approval_check.setChecked(True)  # a loose profile: confirmed as unapproved
    out = tmp_path / "out"
    w.export_step.folder_edit.setText(str(out))
    click(qtbot, w.export_step.export_button)
    qtbot.waitUntil(lambda: w.progress.value() > started_at, timeout=WAIT)
    return out


def test_cancel_mid_run_leaves_nothing(qtbot, window, tmp_path, memory_keyring):
    w = window
    out = start_large_export(qtbot, w, tmp_path, 100)
    assert w.cancel_button.isVisible()
    click(qtbot, w.cancel_button)
    idle(qtbot, w)
    assert "Cancelled" in w.export_step.ready_label.text()
    assert list(out.iterdir()) == []
    assert not error_dialogs()


@pytest.mark.performance
def test_cancel_mid_run_stops_within_a_second(qtbot, window, tmp_path, memory_keyring):
    w = window
    start_large_export(qtbot, w, tmp_path, 100)
    started = time.monotonic()
    click(qtbot, w.cancel_button)
    idle(qtbot, w)
    assert time.monotonic() - started < 1.0


def test_closing_during_a_run_asks_then_shuts_down_cleanly(qtbot, tmp_path, memory_keyring):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    out = start_large_export(qtbot, w, tmp_path, 50)
    w.close()
    assert w.isVisible()  # not without asking
    qtbot.waitUntil(lambda: _visible_dialog("confirm_close_dialog") is not None)
    box = _visible_dialog("confirm_close_dialog")
    assert isinstance(box, QMessageBox)
    click(qtbot, box.button(QMessageBox.StandardButton.Yes))
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=WAIT)
    assert not w.bridge.busy and list(out.iterdir()) == []


def test_corrupt_file_is_explained_not_a_traceback(qtbot, window, tmp_path):
    (tmp_path / "junk.xlsx").write_bytes(b"this is not a workbook")
    window.load_step.open_file(tmp_path / "junk.xlsx")
    idle(qtbot, window)
    (box,) = error_dialogs()
    assert box.windowTitle() == "Cannot read the spreadsheet"
    assert box.text().startswith("junk.xlsx: this is not a valid .xlsx workbook")
    assert "Traceback" not in box.text()
    assert window.session.table is None and window.step_state(0) == ""
    box.close()


def test_no_key_on_this_computer_says_what_to_do(qtbot, window, tmp_path, memory_keyring):
    w = window
    w.load_step.open_file(people_csv(tmp_path, _csv_rows(3)))
    idle(qtbot, w)
    w.map_step.open_profile(profile_file(tmp_path))
    w.go_to(3)
    assert not w.export_step.export_button.isEnabled()
    assert "Choose a project key" in w.export_step.ready_label.text()


def test_key_whose_secret_is_missing_is_reported(qtbot, window, tmp_path, memory_keyring):
    w = window
    info = KeyStore().create("Pilot key")
    memory_keyring.store.clear()  # the key is listed but its secret is gone from the keyring
    w.load_step.open_file(people_csv(tmp_path, _csv_rows(3)))
    idle(qtbot, w)
    w.map_step.open_profile(profile_file(tmp_path))
    run_checks(qtbot, w)
    w.go_to(3)
    w.export_step.approval_check.setChecked(True)  # a loose profile: confirmed as unapproved
    w.export_step.folder_edit.setText(str(tmp_path / "out"))
    assert w.export_step.key_combo.currentData() == info.id
    click(qtbot, w.export_step.export_button)
    idle(qtbot, w)
    (box,) = error_dialogs()
    assert box.windowTitle() == "Problem with the project key"
    assert "secret is missing" in box.text()
    assert list((tmp_path / "out").iterdir()) == []
    box.close()


def test_blocked_export_shows_why_and_writes_nothing(qtbot, window, tmp_path, memory_keyring):
    w = window
    KeyStore().create("Pilot key")
    w.load_step.open_file(people_csv(tmp_path, [("943 476 5919", "F"), ("123", "M"), ("4505577104", "Q")]))
    idle(qtbot, w)
    w.map_step.open_profile(profile_file(tmp_path, policy="block"))
    w.go_to(3)  # straight to Export, skipping Check: it waits for the checks of this file
    w.export_step.approval_check.setChecked(True)  # a loose profile: confirmed as unapproved
    w.export_step.folder_edit.setText(str(tmp_path / "out"))
    assert not w.export_step.export_button.isEnabled()
    assert "Check this file first (step 3)" in w.export_step.ready_label.text()
    w.go_to(2)
    idle(qtbot, w)
    assert "Export blocked until fixed" in w.check_step.summary_label.text()
    assert w.step_state(2) == BLOCKED  # red: not merely "needs attention"
    assert w.check_step.problems_view.model().rowCount() == 2
    w.go_to(3)
    assert not w.export_step.export_button.isEnabled()
    assert "problems that stop this export" in w.export_step.ready_label.text()
    assert not (tmp_path / "out").exists()


def test_the_export_waits_for_the_checks_of_exactly_this_file(qtbot, window, tmp_path, memory_keyring):
    w = window
    KeyStore().create("Pilot key")
    w.load_step.open_file(people_csv(tmp_path, _csv_rows(3)))
    idle(qtbot, w)
    w.map_step.open_profile(profile_file(tmp_path))
    run_checks(qtbot, w)
    w.go_to(3)
    w.export_step.approval_check.setChecked(True)
    w.export_step.folder_edit.setText(str(tmp_path / "out"))
    assert w.export_step.export_button.isEnabled(), w.export_step.ready_label.text()
    other = tmp_path / "other"
    other.mkdir()
    w.load_step.open_file(people_csv(other, _csv_rows(5)))  # another file, opened from step 4
    idle(qtbot, w)
    w.go_to(3)
    assert not w.export_step.export_button.isEnabled() and w.export_step.result_box.isHidden()
    assert "Check this file first" in w.export_step.ready_label.text()
    assert not w.export_step.check_button.isHidden()
    click(qtbot, w.export_step.check_button)  # straight to step 3, which checks this file
    assert w.pages.currentWidget() is w.check_step
    run_checks(qtbot, w)
    w.go_to(3)
    assert w.export_step.export_button.isEnabled(), w.export_step.ready_label.text()
    assert w.export_step.check_button.isHidden()


def test_check_problems_saved_as_csv(qtbot, window, tmp_path, memory_keyring):
    w = window
    w.load_step.open_file(people_csv(tmp_path, [("943 476 5919", "F"), ("123", "M")]))
    idle(qtbot, w)
    w.map_step.open_profile(profile_file(tmp_path))
    w.go_to(2)
    idle(qtbot, w)
    target = tmp_path / "problems.csv"
    w.check_step.save_csv(target)
    text = target.read_text(encoding="utf-8-sig")
    assert "123" in text and "NHS No" in text


def test_mapping_changed_with_the_combo_box_and_saved(qtbot, window, tmp_path, memory_keyring):
    from pseudodesk.core.agreement.mapping import load_mapping

    w = window
    w.load_step.open_file(people_csv(tmp_path, _csv_rows(3)))
    idle(qtbot, w)
    w.map_step.open_profile(profile_file(tmp_path))
    model = w.map_step.model
    assert model is not None and model.field_of("Sex") == "gender"
    view = w.map_step.view
    index = model.index(2, model.FIELD_COLUMN)  # the Sex column feeds... nothing, by the user's choice
    view.setCurrentIndex(index)
    view.edit(index)
    combo = view.viewport().findChild(QComboBox)
    assert combo is not None and combo.itemText(0).startswith("(stripped")
    combo.setCurrentIndex(combo.findData(""))
    combo.activated.emit(combo.currentIndex())  # what a click on the item sends
    assert w.session.mapping.columns == {"nhs_number": "NHS No"}
    assert w.step_state(1) == ATTENTION
    assert "'gender' not mapped" in w.map_step.status_label.text()
    model.set_field(2, "gender")
    assert w.step_state(1) == DONE
    w.map_step.save_mapping(tmp_path / "people.mapping.toml")
    saved = load_mapping(tmp_path / "people.mapping.toml")
    assert saved.columns == {"nhs_number": "NHS No", "gender": "Sex"} and saved.profile_name == "Pilot extract"


def test_drop_a_file_on_the_window_loads_it(qtbot, window, tmp_path):
    path = people_csv(tmp_path, _csv_rows(5))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(event)
    idle(qtbot, window)
    assert window.session.table is not None and window.session.table.path == path


def test_step_list_works_by_keyboard(qtbot, window):
    window.step_list.setFocus()
    qtbot.keyClick(window.step_list, Qt.Key.Key_Down)
    assert window.pages.currentWidget() is window.map_step
    qtbot.keyClick(window.step_list, Qt.Key.Key_End)
    assert window.pages.currentWidget() is window.export_step
    window.back_button.setFocus()
    qtbot.keyClick(window.back_button, Qt.Key.Key_Space)
    assert window.pages.currentWidget() is window.check_step
    assert window.back_button.shortcut().toString() == "Alt+B"  # &Back


def test_every_control_has_an_accessible_name_or_visible_text(qtbot, demo_window):
    from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QSpinBox, QTableView

    idle(qtbot, demo_window)
    unnamed = []
    for page in demo_window.steps:
        for widget in page.findChildren(QWidget):
            if (
                isinstance(widget, (QComboBox, QLineEdit, QSpinBox, QTableView))
                and widget.parent() is not None
                and not isinstance(widget.parent(), (QComboBox, QSpinBox))
            ):
                if not widget.accessibleName():
                    unnamed.append(f"{type(widget).__name__} on {page.title}")
            if (
                isinstance(widget, QAbstractButton)
                and not isinstance(widget.parent(), QTableView)
                and not (widget.accessibleName() or widget.text())
            ):
                unnamed.append(f"{type(widget).__name__} on {page.title}")
    assert unnamed == []


def test_window_size_remembered(qtbot, tmp_path):
    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    first.resize(first.minimumSizeHint().width(), 430)  # inside the offscreen 800x600 screen
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    assert second.height() == 430  # not the default 780 (the width is clamped to the 800-pixel screen)
    second.close()


def test_about_lists_versions_and_licences(qtbot, window):
    from pseudodesk.gui.about import AboutDialog

    dialog = AboutDialog(window)
    qtbot.addWidget(dialog)
    table = dialog.components
    rows = {table.item(r, 0).text(): table.item(r, 3).text() for r in range(table.rowCount())}
    assert rows["PySide6-Essentials"].startswith("LGPL") and rows["py7zr"].startswith("LGPL")
    assert rows["cryptography"].startswith("Apache-2.0")
    assert all(table.item(r, 2).text() for r in range(table.rowCount()))


def test_help_menu_opens_both_guides(qtbot, window):
    for name, heading in (("user-guide.md", "export"), ("ig-guide.md", "profile")):
        window.show_guide(name)
        browser = window._help_windows[name].browser
        text = browser.toPlainText()
        assert heading in text.lower() and "is missing from this installation" not in text
    from PySide6.QtGui import QTextImageFormat

    from pseudodesk.gui.about import fit_images

    document = window._help_windows["user-guide.md"].browser.document()
    assert fit_images(document, 10_000) == 0  # already fitted: every screenshot is at most 840 wide
    widths = [
        QTextImageFormat(f.charFormat()).width()
        for b in _blocks(document)
        for f in _fragments(b)
        if f.charFormat().isImageFormat()
    ]
    assert 840 in widths and all(w <= 840 for w in widths)  # 0: narrow enough, shown at its own size


def _blocks(document):
    block = document.begin()
    while block.isValid():
        yield block
        block = block.next()


def _fragments(block):
    it = block.begin()
    while not it.atEnd():
        yield it.fragment()
        it += 1


def test_unexpected_error_is_logged_without_data_and_shown_with_a_reference(qtbot, window):
    from pseudodesk.gui.errors import log_path, show_error

    try:
        int("943 476 5919")
    except ValueError as error:
        box = show_error(window, error, doing="testing")
    assert "Reference: PD-" in box.text() and "943 476 5919" not in box.text()
    reference = box.text().split("Reference: ")[1].split()[0]
    log = log_path().read_text(encoding="utf-8")
    assert reference in log and "ValueError" in log and "test_flow.py" in log
    assert "943 476 5919" not in log
    box.close()


def test_preview_model_fetches_lazily_and_shows_text_as_read(qtbot, demo_paths):
    table = read_table(demo_paths["spreadsheet"])
    model = SourceTableModel(table)
    assert model.rowCount() == 0 and model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert model.rowCount() == SourceTableModel.CHUNK  # a chunk, not the whole file
    first = table.preview(1)[0]
    assert [model.data(model.index(0, c)) for c in range(model.columnCount())] == first
    assert model.headerData(0, Qt.Orientation.Vertical) == "2"  # the spreadsheet's row number
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    assert model.rowCount() == 600


def test_smoke_mode_opens_and_exits(tmp_path):
    """What the installer and CI run: a separate process that opens the demo, draws and exits."""
    import os
    import sys

    shot = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "pseudodesk.gui", "--demo", "--smoke", "--screenshot", str(shot)],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert shot.stat().st_size > 10_000


def test_shortcut_letters_are_unique_on_each_step(qtbot, demo_window):
    """Alt+letter must press one control: no clash within a step, with the window's buttons or the menus."""
    import re

    from PySide6.QtWidgets import QAbstractButton, QLabel, QTabWidget

    def letter(text: str) -> str | None:
        found = re.search(r"&([^&\s])", text)
        return found.group(1).lower() if found else None

    w = demo_window
    common = [a.text() for a in w.menuBar().actions()] + [
        b.text() for b in (w.back_button, w.next_button, w.cancel_button)
    ]
    for page in w.steps:
        texts = list(common)
        texts += [b.text() for b in page.findChildren(QAbstractButton)]
        texts += [label.text() for label in page.findChildren(QLabel) if label.buddy() is not None]
        for tabs in page.findChildren(QTabWidget):
            texts += [re.sub(r"\(.*\)", "", tabs.tabText(i)) for i in range(tabs.count())]
        letters = [letter(t) for t in texts if letter(t)]
        clashes = {x for x in letters if letters.count(x) > 1}
        assert not clashes, f"{page.title}: shortcut letters used twice: {sorted(clashes)} in {texts}"


def test_tab_order_follows_the_export_step_top_to_bottom(qtbot, demo_window):
    w = demo_window
    idle(qtbot, w)
    w.go_to(3)
    step = w.export_step
    order = []
    widget = step.key_combo
    for _ in range(5):
        order.append(widget)
        widget = widget.nextInFocusChain()
        while widget.focusPolicy() == Qt.FocusPolicy.NoFocus or not widget.isVisible():
            widget = widget.nextInFocusChain()
    assert order == [step.key_combo, step.keys_button, step.folder_edit, step.browse_button, step.export_button]


def test_check_step_shows_the_reidentification_risk(qtbot, demo_window, tmp_path):
    w = demo_window
    w.open_demo()
    idle(qtbot, w)
    w.go_to(2)
    idle(qtbot, w)
    tabs = w.check_step.tabs
    assert tabs.tabText(3) == "Re-identification ris&k (600 could be picked out)"
    text = w.check_step.risk_view.toPlainText()
    assert "600 of 600 records (100.0%) are in classes smaller than 11" in text
    # the verdict, in words: the demo agreement does not blank values itself
    assert "600 of 600 records (100%) could be picked out by their DOB, GENDER, POST CODE, ETHNICITY" in text
    assert "may let someone be identified. Tell your IG lead before sending" in text
    assert "POST CODE to district" in text
    assert "prosecutor risk, highest" in text and "marketer risk" in text  # the measures ARX users expect
    assert "no generalisation of DOB, GENDER, POST CODE, ETHNICITY meets k = 11" in text  # 600 synthetic uniques
    assert "Releases that can be linked" in text
    assert w.check_step.generalisations.isHidden()  # nothing to write into the profile
    w.check_step.save_html(tmp_path / "report.html")
    assert "Re-identification risk (k = 11)" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_the_risk_tab_offers_the_best_generalisations_and_writes_one(qtbot, window, tmp_path):
    from pseudodesk.core.agreement.profile import load_profile
    from tests.helpers import PROFILE

    _, table, _ = fixture(tmp_path)
    path = tmp_path / "agreement.toml"
    path.write_text(PROFILE.format(policy="blank", extra=""), encoding="utf-8")
    w = window
    w.session.set_profile(load_profile(path))
    w.load_step.open_file(table.path)
    idle(qtbot, w)
    run_checks(qtbot, w)
    text = w.check_step.risk_view.toPlainText()
    assert "The generalisation that meets k and loses least: POSTCODE as district" in text
    panel = w.check_step.generalisations
    assert not panel.isHidden()
    assert [panel.choice.itemText(i) for i in range(panel.choice.count())] == [
        "1. POSTCODE as district: 0 record(s) suppressed (0.0%), information loss 33%",
        "2. POSTCODE as area: 0 record(s) suppressed (0.0%), information loss 50%",
        "3. DOB as month and year, POSTCODE as district: 0 record(s) suppressed (0.0%), information loss 50%",
    ]
    assert panel.suggested_path() == tmp_path / "agreement-generalised.toml"
    panel.choice.setCurrentIndex(2)
    copy = panel.write_copy(panel.suggested_path())
    assert copy is not None and "Written to" in panel.status.text()
    sent = {o.name: o.generalise for o in load_profile(tmp_path / "agreement-generalised.toml").output_fields}
    assert (sent["DOB"], sent["POSTCODE"], sent["SEX"]) == ("month_year", "district", "")


def export_under_disclosure(qtbot, w, tmp_path, rows, extra):
    """Load rows under a loose profile with these [disclosure] lines, check, and export."""
    profile, table, _ = fixture(tmp_path, rows, extra=extra)
    KeyStore().create("Pilot key")
    w.session.set_profile(profile)
    w.load_step.open_file(table.path)
    idle(qtbot, w)
    run_checks(qtbot, w)
    w.go_to(3)
    w.export_step.approval_check.setChecked(True)  # a loose profile: confirmed as unapproved
    w.export_step.folder_edit.setText(str(tmp_path / "out"))
    click(qtbot, w.export_step.export_button)
    idle(qtbot, w)
    return w.export_step.result_label.text()


def test_export_result_says_which_values_were_blanked_for_k(qtbot, window, tmp_path, memory_keyring):
    more = [("01/02/2010", "F", "LN3 3AA"), ("01/02/2010", "F", "LN4 4AA")]
    # Rows counted: the fixture gives 13 rows only 4 NHS numbers (tests/core/test_people.py counts people).
    text = export_under_disclosure(qtbot, window, tmp_path, ROWS + more, 'enforce = true\nperson = ""')
    assert "Blanked so nobody can be picked out" in text
    assert "POSTCODE 6" in text


def test_export_result_counts_records_suppressed_whole_and_left_out(qtbot, window, tmp_path, memory_keyring):
    extra = 'enforce = true\nperson = ""\nmax_suppressed_share = 0.5\nsuppressed_records = "exclude"'
    text = export_under_disclosure(qtbot, window, tmp_path, ROWS, extra)
    result = window.export_step.result
    report = result.report
    assert report.records_suppressed > 0
    left_out = result.rows_read - report.rows_written - report.rows_excluded
    assert left_out == report.records_suppressed
    assert f"{report.records_suppressed:,} record(s) suppressed whole ({left_out:,} left out" in text


def test_a_failed_selftest_is_shown_and_blocks_exports(qtbot, tmp_path, demo_paths):
    from pseudodesk.core.run.selftest import SelfCheck, SelfTestResult

    failed = SelfTestResult(
        [
            SelfCheck("CMS AES-256", False, "ValueError: broken", 0.01),
            SelfCheck("OS keyring", False, "none", 0.01, essential=False),
        ]
    )
    w = MainWindow(demo=True, selftest=failed)
    qtbot.addWidget(w)
    w.show()
    w.open_demo()
    idle(qtbot, w)
    assert w.selftest_banner.isVisible() and "CMS AES-256: ValueError: broken" in w.selftest_banner.text()
    assert "OS keyring" not in w.selftest_banner.text()  # not essential: reported, not blocking
    w.go_to(3)
    assert not w.export_step.export_button.isEnabled()
    assert "self-test failed" in w.export_step.ready_label.text()
    w.bridge.shutdown()


def test_a_passed_selftest_shows_nothing(qtbot):
    from pseudodesk.core.run.selftest import run_selftest

    result = run_selftest()
    assert result.ok
    w = MainWindow(selftest=result)
    qtbot.addWidget(w)
    assert not w.selftest_banner.isVisibleTo(w)
    w.bridge.shutdown()


@pytest.mark.performance
def test_the_selftest_the_window_starts_with_takes_under_three_seconds():
    from pseudodesk.core.run.selftest import run_selftest

    assert run_selftest().seconds < 3.0


def tab_to(qtbot, w: MainWindow, target, limit: int = 60) -> None:
    """Press Tab until ``target`` has the focus (the keyboard's way through the window)."""
    for _ in range(limit):
        if QApplication.focusWidget() is target:
            return
        qtbot.keyClick(QApplication.focusWidget() or w, Qt.Key.Key_Tab)
    raise AssertionError(f"Tab never reached {target.accessibleName() or target}")


def test_the_demo_flow_by_keyboard_alone(qtbot, demo_window, tmp_path):
    """Tab and Enter only: Next through the steps (Tab leaves each table rather than walking its
    cells), the output folder typed, Export pressed with Enter."""
    w = demo_window
    w.open_demo()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    idle(qtbot, w)
    w.step_list.setFocus()
    for step in (w.map_step, w.check_step, w.export_step):
        tab_to(qtbot, w, w.next_button)
        qtbot.keyClick(w.next_button, Qt.Key.Key_Return)
        idle(qtbot, w)
        assert w.pages.currentWidget() is step
    step = w.export_step
    tab_to(qtbot, w, step.folder_edit)
    qtbot.keyClick(step.folder_edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(step.folder_edit, str(tmp_path / "out"))
    tab_to(qtbot, w, step.export_button)
    qtbot.keyClick(step.export_button, Qt.Key.Key_Return)  # Enter presses the focused button
    qtbot.waitUntil(lambda: not w.bridge.busy and step.result is not None, timeout=WAIT)
    assert step.result.output.parent == tmp_path / "out" and step.result.output.exists()


def test_enter_presses_each_steps_default_button(qtbot, demo_window, tmp_path):
    """Enter in a table moves on (Next is the default of steps 1-3); Enter in the header-row
    box only confirms the number; Enter in the output folder field exports (Export is the last
    step's default), as Enter in a save dialog saves."""
    w = demo_window
    w.open_demo()
    idle(qtbot, w)
    w.load_step.header_spin.setFocus()
    qtbot.keyClick(w.load_step.header_spin, Qt.Key.Key_Return)
    idle(qtbot, w)
    assert w.pages.currentWidget() is w.load_step
    assert w.next_button.isDefault()
    for view, step in ((w.load_step.view, w.map_step), (w.map_step.view, w.check_step)):
        view.setFocus()
        qtbot.keyClick(view, Qt.Key.Key_Return)
        idle(qtbot, w)
        assert w.pages.currentWidget() is step
    w.go_to(3)
    idle(qtbot, w)
    assert not w.next_button.isDefault() and w.export_step.export_button.isDefault()
    step = w.export_step
    step.folder_edit.setText(str(tmp_path / "out"))
    step.folder_edit.setFocus()
    qtbot.keyClick(step.folder_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not w.bridge.busy and step.result is not None, timeout=WAIT)
    assert step.result.output.parent == tmp_path / "out" and step.result.output.exists()


def test_tab_leaves_the_tables(qtbot, demo_window):
    w = demo_window
    w.open_demo()
    idle(qtbot, w)
    for index, view in ((0, w.load_step.view), (1, w.map_step.view)):
        w.go_to(index)
        view.setFocus()
        qtbot.keyClick(view, Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is not view, index


def test_visible_words_name_no_convention_ids_and_titles_do_not_repeat_the_name(qtbot, demo_window):
    """Partners read "Date of birth", not "lcp_dob"; Qt adds the application's name to titles."""
    from PySide6.QtWidgets import QAbstractItemView, QLabel

    w = demo_window
    w.open_demo()
    idle(qtbot, w)
    ids = ("lcp_dob", "lcp_gender", "lcp_postcode", "lcp_ethnicity", "nhs_number", "not declared coded", "lossy")
    for index in range(3):
        w.go_to(index)
        idle(qtbot, w)
        page = w.steps[index]
        texts = [label.text() for label in page.findChildren(QLabel) if label.isVisible()]
        for view in page.findChildren(QAbstractItemView):
            model = view.model()
            if model is None or not view.isVisible():
                continue
            for row in range(min(model.rowCount(), 50)):
                texts += [str(model.index(row, c).data() or "") for c in range(model.columnCount())]
        leaked = [t for t in texts for i in ids if i in t]
        assert not leaked, (page.title, leaked[:3])
    assert "pseudodesk" not in w.windowTitle()
    w.show_keys()
    assert "pseudodesk" not in w._keys_window.windowTitle()
    w._keys_window.close()
