"""The window driven as partner staff drive it: the header row is found below titles and can be
changed when a load fails, guessed mappings wait for a person, and the Check step's state says
whether the export is blocked (red), has problems (amber) or is clean (green)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from pseudodesk.gui.window import BLOCKED, DONE, PROBLEMS, MainWindow
from tests.helpers import PASSPHRASE_PROFILE

WAIT = 30_000
NHS = ["9434765919", "4505577104", "9995522950", "9992499559"]


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.bridge.shutdown()


def idle(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.bridge.busy, timeout=WAIT)


def close_error_dialogs() -> int:
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    for box in boxes:
        box.close()
    return len(boxes)


def profile_file(tmp_path: Path) -> Path:
    path = tmp_path / "pilot.toml"
    path.write_text(PASSPHRASE_PROFILE.format(policy="blank"), encoding="utf-8")
    return path


def extract(tmp_path: Path, header: str = "Name,NHS No,Sex", *, above=(), sexes=None) -> Path:
    sexes = sexes or ["F", "M"] * 15
    rows = [f"Person {i},{NHS[i % 4]},{sex}" for i, sex in enumerate(sexes)]
    path = tmp_path / "extract.csv"
    path.write_text("\n".join([*above, header, *rows]) + "\n", encoding="utf-8")
    return path


def test_the_header_row_is_found_below_titles_and_said(qtbot, window, tmp_path):
    window.map_step.open_profile(profile_file(tmp_path))
    window.load_step.open_file(extract(tmp_path, above=["Early Help referrals", "Extracted 01/11/2026", ""]))
    idle(qtbot, window)
    table = window.session.table
    assert table is not None and table.header_row == 4 and table.header[1] == "NHS No"
    assert window.load_step.header_spin.value() == 4
    assert "header row 4 chosen" in window.load_step.notes_label.text()


def test_the_header_row_can_be_changed_after_a_failed_load(qtbot, window, tmp_path):
    path = extract(tmp_path, above=["Referrals for November"])
    window.load_step.open_file(path, header_row=1)  # the title row taken for the header: rows look ragged
    idle(qtbot, window)
    assert close_error_dialogs() == 1 and window.session.table is None
    spin = window.load_step.header_spin
    assert spin.isEnabled() and "could not be read" in window.load_step.file_label.text()
    spin.setValue(2)
    spin.editingFinished.emit()
    idle(qtbot, window)
    assert window.session.table is not None and window.session.table.header_row == 2


def test_a_column_matched_from_its_values_alone_waits_for_a_person(qtbot, window, tmp_path):
    window.load_step.open_file(extract(tmp_path, header="Name,Ref,Sex"))  # NHS numbers under "Ref"
    idle(qtbot, window)
    window.map_step.open_profile(profile_file(tmp_path))
    idle(qtbot, window)
    window.go_to(1)
    session = window.session
    assert session.mapping.unconfirmed == {"nhs_number"}
    model = window.map_step.model
    row = list(model.header).index("Ref")
    assert model.index(row, 4).data() == "NEEDS CONFIRMING: guessed from the values alone"
    assert not window.next_button.isEnabled() and "confirm the columns" in window.next_button.toolTip()
    assert "Confirm guesses" in window.map_step.status_label.text()
    qtbot.mouseClick(window.map_step.confirm_button, Qt.MouseButton.LeftButton)
    assert not session.mapping.unconfirmed and session.mapping.columns["nhs_number"] == "Ref"
    assert window.next_button.isEnabled() and not window.map_step.confirm_button.isEnabled()


def test_choosing_the_field_yourself_confirms_it(qtbot, window, tmp_path):
    window.load_step.open_file(extract(tmp_path, header="Name,Ref,Sex"))
    idle(qtbot, window)
    window.map_step.open_profile(profile_file(tmp_path))
    idle(qtbot, window)
    model = window.map_step.model
    model.set_field(list(model.header).index("Ref"), "nhs_number")
    assert not window.session.mapping.unconfirmed


@pytest.mark.parametrize(
    ("sexes", "state"),
    [(["F", "M"] * 15, DONE), (["F", "M"] * 15 + ["Q"], PROBLEMS), (["1", "2"] * 15, BLOCKED)],
)
def test_the_check_step_is_green_amber_or_red(qtbot, window, tmp_path, sexes, state):
    window.load_step.open_file(extract(tmp_path, sexes=sexes))
    idle(qtbot, window)
    window.map_step.open_profile(profile_file(tmp_path))
    window.go_to(2)
    idle(qtbot, window)
    assert window.step_state(2) == state


def test_an_accepted_input_coding_is_chosen_in_the_map_step(qtbot, window, tmp_path):
    profile = tmp_path / "coded.toml"
    profile.write_text(
        PASSPHRASE_PROFILE.format(policy="blank").replace(
            'aliases = ["Sex"]', 'aliases = ["Sex"]\ncodings = ["none", "nhs_stated"]'
        ),
        encoding="utf-8",
    )
    window.load_step.open_file(extract(tmp_path, sexes=["1", "2"] * 15))
    idle(qtbot, window)
    window.map_step.open_profile(profile)
    window.go_to(2)
    idle(qtbot, window)
    assert window.step_state(2) == BLOCKED
    assert "these codings for it: none, nhs_stated" in window.check_step.summary_label.text()
    window.go_to(1)
    combo = window.map_step.coding_combos["gender"]
    assert window.map_step.codings_box.isVisible() and combo.currentData() == "none"
    combo.setCurrentIndex(combo.findData("nhs_stated"))
    combo.activated.emit(combo.currentIndex())
    assert window.session.mapping.codings == {"gender": "nhs_stated"}
    window.go_to(2)
    idle(qtbot, window)
    assert window.step_state(2) == DONE


def test_a_second_column_named_for_a_field_is_not_stripped_without_a_word(qtbot, window, tmp_path):
    path = tmp_path / "two.csv"
    rows = [f"Person {i},{NHS[i % 4]},{NHS[(i + 1) % 4]},{'FM'[i % 2]}" for i in range(20)]
    path.write_text("Name,NHS No,nhs_number,Sex\n" + "\n".join(rows) + "\n", encoding="utf-8")
    window.load_step.open_file(path)
    idle(qtbot, window)
    window.map_step.open_profile(profile_file(tmp_path))
    idle(qtbot, window)
    text = window.map_step.status_label.text()
    assert "is one of the names of" in text and "will be stripped" in text


def test_partner_staff_see_no_custodian_action_until_custodian_mode(qtbot, window, memory_keyring):
    from PySide6.QtCore import QSettings

    from pseudodesk.gui.window import CUSTODIAN_SETTING

    assert not window.custodian_action.isChecked()
    window.show_keys()
    keys = window._keys_window
    assert keys.import_button.isVisible()
    hidden = (keys.new_button, keys.export_button, keys.rotate_button, keys.delete_button)
    assert not any(button.isVisible() for button in hidden)
    window.custodian_action.trigger()  # Tools > Custodian mode
    assert all(button.isVisible() for button in hidden)
    assert QSettings().value(CUSTODIAN_SETTING, type=bool) is True  # remembered
    window.custodian_action.trigger()
    assert not any(button.isVisible() for button in hidden)
    keys.close()


def test_a_file_that_fails_to_load_does_not_leave_the_previous_one_loaded(qtbot, window, tmp_path):
    window.load_step.open_file(extract(tmp_path))
    idle(qtbot, window)
    assert window.session.table is not None
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"this is not a workbook")
    window.load_step.open_file(broken)
    idle(qtbot, window)
    assert close_error_dialogs() == 1
    assert window.session.table is None and window.step_state(0) == ""
    assert "extract.csv, loaded before, is no longer loaded" in window.load_step.file_label.text()
    model = window.load_step.view.model()
    assert model is None or model.rowCount() == 0  # no preview of the old file


@pytest.mark.parametrize("size", [(1366, 768), (1024, 768), (910, 512), (683, 512)])  # the last two: 150% scaling
def test_every_step_is_usable_in_a_small_window(qtbot, size):
    """A laptop at 1366x768 or 1024x768, at 100% or 150% scaling (logical pixels): the window fits,
    Back, Next and Cancel stay inside it, and each step scrolls rather than being cut."""
    from PySide6.QtCore import QPoint, QRect

    w = MainWindow(demo=True)
    qtbot.addWidget(w)
    w.show()
    w.open_demo()
    idle(qtbot, w)
    hint = w.minimumSizeHint()
    assert hint.width() <= size[0] and hint.height() <= size[1], (hint.width(), hint.height())
    w.resize(*size)
    qtbot.waitUntil(lambda: (w.width(), w.height()) == size)
    inside = QRect(QPoint(0, 0), w.size())
    for index in range(4):
        w.go_to(index)
        idle(qtbot, w)
        for button in (w.back_button, w.next_button):
            corner = button.mapTo(w, QPoint(button.width() - 1, button.height() - 1))
            assert inside.contains(button.mapTo(w, QPoint(0, 0))) and inside.contains(corner), (index, button.text())
        area = w.pages.currentIndex()
        assert w.pages.widget(area) is w.steps[index]
    w.go_to(2)
    idle(qtbot, w)
    scroll = w.pages.currentWidget().parentWidget().parentWidget()
    assert scroll.horizontalScrollBar().maximum() == 0  # the Check step's words wrap: no sideways scrolling
    w.bridge.shutdown()


def test_a_long_progress_message_never_widens_the_window(qtbot):
    """A phase's name ("Searching the generalisations ...") is cut to the room it has; it once
    widened the window past a 150% laptop screen and pushed Next out of reach."""
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.resize(683, 512)
    qtbot.waitUntil(lambda: w.width() == 683)
    message = "Measuring re-identification risk over every combination of the quasi-identifiers " * 3
    w._show_progress(True)
    w._progress_changed(0.5, message)
    qtbot.wait(50)
    assert w.width() == 683 and w.minimumSizeHint().width() <= 683
    assert w.progress_label.text() == message and w.progress_label.toolTip() == message
    w.bridge.shutdown()


def test_the_window_opens_no_larger_than_the_screen(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    room = w.screen().availableGeometry()
    assert w.width() <= room.width() and w.height() <= room.height()
    w.bridge.shutdown()


def test_the_status_bar_never_shows_an_old_message(qtbot, window, tmp_path):
    window.load_step.open_file(extract(tmp_path))
    idle(qtbot, window)
    assert "Next: choose the agreement" in window.statusBar().currentMessage()
    window.go_to(1)
    assert window.statusBar().currentMessage() == ""
    assert window.version_label.text().startswith("pseudodesk ")  # the version stays


def test_the_focused_field_has_a_clear_frame(qtbot, window):
    from pseudodesk.gui.app import application

    sheet = application().styleSheet()
    assert "QLineEdit:focus" in sheet and "2px solid" in sheet
    assert "QSpinBox:focus" not in sheet  # number boxes keep their native arrows


SCALED = """
import sys
from PySide6.QtCore import QPoint, QRect
from pseudodesk.gui.app import application
from pseudodesk.gui.window import MainWindow
app = application()
w = MainWindow(demo=True)
w.show()
w.open_demo()
while w.bridge.busy:
    app.processEvents()
hint = w.minimumSizeHint()
failures = []
for size in ((910, 512), (683, 512)):  # 1366x768 and 1024x768 screens at 150%, in logical pixels
    if hint.width() > size[0] or hint.height() > size[1]:
        failures.append(f"minimum {hint.width()}x{hint.height()} over {size}")
    w.resize(*size)
    for _ in range(50):
        app.processEvents()
    inside = QRect(QPoint(0, 0), w.size())
    for index in range(4):
        w.go_to(index)
        app.processEvents()
        for b in (w.back_button, w.next_button):
            if not inside.contains(b.mapTo(w, QPoint(b.width() - 1, b.height() - 1))):
                failures.append(f"{b.text()} outside at {size}, step {index + 1}")
w.bridge.shutdown()
print("; ".join(failures) or "ok")
"""


def test_every_step_is_usable_at_150_percent(tmp_path):
    """The same, in a window really scaled by 1.5 (QT_SCALE_FACTOR, as Windows display scaling)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "QT_SCALE_FACTOR": "1.5", "QT_QPA_PLATFORM": "offscreen"}
    env.update(PSEUDODESK_DATA_DIR=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
    done = subprocess.run([sys.executable, "-c", SCALED], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "ok", done.stdout
