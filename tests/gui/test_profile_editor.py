"""Creating an agreement profile in the window: proposed rows, choices by mouse and keys, the saved file, a run."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QComboBox, QDialog, QLabel, QMessageBox, QWidget

from pseudodesk.core.agreement.mapping import suggest_mapping
from pseudodesk.core.agreement.profile import load_profile
from pseudodesk.core.errors import ProfileError
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.core.resources import resource_path
from pseudodesk.core.transform.pseudonym import pseudonym
from pseudodesk.gui.profile_editor import ProfileEditorDialog
from pseudodesk.gui.profile_editor.fields import COL_COLUMN, RowControls
from tests.helpers import run


@pytest.fixture(scope="module")
def demo_table():
    return read_table(resource_path("demo", "demo-people.xlsx"))


@pytest.fixture
def dialog(qtbot, demo_table):
    dlg = ProfileEditorDialog(demo_table.header, demo_table.preview(200))
    qtbot.addWidget(dlg)
    dlg.resize(1280, 720)
    dlg.show()
    qtbot.waitExposed(dlg)
    return dlg


def row(dlg: ProfileEditorDialog, column: str) -> RowControls:
    (found,) = [r for r in dlg.rows if r.field.column == column]
    return found


def choose(qtbot, combo: QComboBox, data: str) -> None:
    """Pick a combo box entry with the keyboard, as a person would: focus it, then arrow keys."""
    combo.setFocus()
    target = combo.findData(data)
    assert target >= 0, data
    key = Qt.Key.Key_Down if target > combo.currentIndex() else Qt.Key.Key_Up
    for _ in range(abs(target - combo.currentIndex())):
        qtbot.keyClick(combo, key)
    assert combo.currentData() == data


def click(qtbot, button: QAbstractButton) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=button.rect().center())


def test_rows_are_proposed_from_the_spreadsheet(dialog, demo_table):
    assert len(dialog.rows) == len(demo_table.header) == dialog.table.rowCount()
    nhs, dob, forename = row(dialog, "NHS No"), row(dialog, "Date of Birth"), row(dialog, "Forename")
    assert nhs.include.isChecked() and nhs.role.currentData() == "pseudonym" and nhs.name.text() == "PERSON_ID"
    assert nhs.convention.currentText() == "NHS number"
    assert dob.include.isChecked() and dob.role.currentText() == "Keep as checked"
    assert dob.convention.currentData() in ("dob", "date") and dob.form.currentText() == "DD/MM/YYYY"
    assert not forename.include.isChecked() and not forename.name.isEnabled()  # stripped until ticked
    assert dialog.table.item(0, COL_COLUMN).text() == "NHS No"  # the pseudonym is the export's first column
    samples = dialog.table.item(dialog.rows.index(nhs), COL_COLUMN + 1).text()
    assert samples.startswith("999 552 2950")
    assert dialog.summary_label.text() == "5 of 15 columns leave; the other 10 are stripped."
    assert dialog.passphrase_radio.isChecked() and not dialog.certificate_edit.isEnabled()
    assert dialog.review_check.isChecked()
    assert dialog.review_edit.date().toPython() > dt.date.today()
    assert not dialog.warnings_label.isVisibleTo(dialog)


def make_pilot_choices(qtbot, dlg: ProfileEditorDialog) -> None:
    """Tick, untick, rename and re-choose by mouse and keyboard."""
    dlg.name_edit.setFocus()
    qtbot.keyClicks(dlg.name_edit, "Essex early help pilot")
    dlg.version_edit.clear()
    qtbot.keyClicks(dlg.version_edit, "2025-1")
    dlg.parties_edit.setFocus()
    qtbot.keyClicks(dlg.parties_edit, "Essex County Council")
    qtbot.keyClick(dlg.parties_edit, Qt.Key.Key_Return)
    qtbot.keyClicks(dlg.parties_edit, "Essex Police")
    forename = row(dlg, "Forename")
    click(qtbot, forename.include)  # tick: the forename now leaves ...
    assert forename.name.isEnabled()
    assert forename.form.currentData() == "match_key"  # ... as a pseudonym of its match key
    choose(qtbot, row(dlg, "Sex").form, "MFU")
    choose(qtbot, row(dlg, "Date of Birth").form, "YYYY-MM-DD")
    choose(qtbot, row(dlg, "Postcode").form, "sector")
    sex = row(dlg, "Sex")
    sex.name.selectAll()
    qtbot.keyClicks(sex.name, "SEX")
    click(qtbot, row(dlg, "Ethnicity").include)  # untick: ethnicity is stripped
    choose(qtbot, dlg.on_invalid_combo, "exclude")
    assert dlg.on_invalid_note.text().startswith("A row with an invalid value is left out")


def test_choices_made_in_the_window_are_what_the_file_says(qtbot, dialog, tmp_path):
    make_pilot_choices(qtbot, dialog)
    assert dialog.summary_label.text() == "5 of 15 columns leave; the other 10 are stripped."
    path = dialog.save_to(tmp_path / "pilot.toml")
    assert dialog.saved_path == path
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Agreement profile: Essex early help pilot.\n# Made in the pseudodesk window")
    profile = load_profile(path)
    assert profile == dialog.saved_profile
    assert (profile.name, profile.version) == ("Essex early help pilot", "2025-1")
    assert profile.parties == ("Essex County Council", "Essex Police")
    assert profile.review_date == dialog.review_edit.date().toPython()
    assert [(o.name, o.role) for o in profile.output_fields] == [
        ("PERSON_ID", "pseudonym"),
        ("POSTCODE", "keep"),
        ("DOB", "keep"),
        ("SEX", "keep"),
        ("FORENAME", "pseudonym"),
    ]
    conventions = {o.name: profile.source_field(o.sources[0]) for o in profile.output_fields}
    assert conventions["PERSON_ID"].convention == "nhs_number"
    assert conventions["PERSON_ID"].aliases == ("NHS No",)
    assert (conventions["DOB"].convention, conventions["DOB"].options) == ("dob", {"output": "YYYY-MM-DD"})
    assert conventions["POSTCODE"].options == {"output": "sector"}
    assert conventions["FORENAME"].options == {"output": "match_key"}
    assert conventions["SEX"].options == {"target": "MFU"}
    assert "ETHNICITY" not in profile.output_names and profile.checks.on_invalid == "exclude"
    assert profile.recipient.mode == "passphrase"


def test_the_profile_made_in_the_window_runs_end_to_end(qtbot, dialog, demo_table, tmp_path, memory_keyring):
    make_pilot_choices(qtbot, dialog)
    profile = load_profile(dialog.save_to(tmp_path / "pilot.toml"))
    store = KeyStore()
    key = store.load(store.create("Essex pilot", agreement=profile.name).id)
    mapping = suggest_mapping(profile, demo_table.header, demo_table.preview(200))
    result = run(profile, demo_table, mapping, key, tmp_path / "out")
    assert result.method == "7z" and result.passphrase
    with (
        tempfile.TemporaryDirectory() as tmp,
        __import__("py7zr").SevenZipFile(result.output, "r", password=result.passphrase) as archive,
    ):
        archive.extractall(path=tmp)
        (member,) = Path(tmp).iterdir()
        rows = list(csv.reader(io.StringIO(member.read_bytes().decode("utf-8"), newline="")))
    assert rows[0] == ["PERSON_ID", "POSTCODE", "DOB", "SEX", "FORENAME"]
    assert len(rows) - 1 + result.report.rows_excluded == demo_table.row_count  # none dropped silently
    source = {name: value for name, value in zip(demo_table.header, demo_table.preview(1)[0])}
    first = dict(zip(rows[0], rows[1]))
    nhs = re.sub(r"\D", "", source["NHS No"])
    assert first["PERSON_ID"] == pseudonym(key, "PERSON_ID", [nhs])
    assert first["FORENAME"] == pseudonym(key, "FORENAME", [source["Forename"].upper()])
    assert first["POSTCODE"] == source["Postcode"].rsplit(" ", 1)[0] + " " + source["Postcode"][-3]  # sector
    day, month, year = re.split(r"\D", source["Date of Birth"])
    assert first["DOB"] == f"{year}-{month}-{day}"
    assert {r[3] for r in rows[1:]} <= {"M", "F", "U", ""} and "U" in {r[3] for r in rows[1:]}
    assert source["Forename"] not in {c for r in rows for c in r}


def test_save_button_asks_where_writes_and_closes(qtbot, dialog, tmp_path):
    asked = []

    def ask_save_path(parent, caption, suggested, file_filter):
        asked.append(suggested.name)
        return tmp_path / "essex-pilot"  # typed without the extension

    dialog.ask_save_path = ask_save_path
    dialog.name_edit.setText("Essex pilot")
    with qtbot.waitSignal(dialog.profile_saved) as saved:
        click(qtbot, dialog.save_button)
    assert asked == ["essex-pilot.toml"]
    assert saved.args == [tmp_path / "essex-pilot.toml"] and dialog.saved_path == tmp_path / "essex-pilot.toml"
    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()
    assert load_profile(dialog.saved_path).name == "Essex pilot"


def test_a_broken_draft_shows_the_problem_and_asks_for_no_file(qtbot, dialog, tmp_path):
    dialog.ask_save_path = lambda *args: pytest.fail("asked for a file name for a broken profile")
    click(qtbot, dialog.save_button)  # no agreement name yet
    box = dialog.findChild(QMessageBox, "error_dialog")
    assert box is not None and "agreement name" in box.text() and "is empty" in box.text()
    assert dialog.isVisible() and dialog.saved_path is None and list(tmp_path.iterdir()) == []
    box.close()


def test_clashing_output_names_are_refused(qtbot, dialog, tmp_path):
    dialog.name_edit.setText("Pilot")
    dob = row(dialog, "Date of Birth")
    dob.name.selectAll()
    qtbot.keyClicks(dob.name, "person_id")
    with pytest.raises(ProfileError, match="also used by output field 1"):
        dialog.save_to(tmp_path / "pilot.toml")
    assert not (tmp_path / "pilot.toml").exists()


def test_keeping_an_identifier_warns(qtbot, dialog):
    choose(qtbot, row(dialog, "NHS No").role, "keep")
    assert dialog.warnings_label.isVisibleTo(dialog)
    assert "'PERSON_ID' sends nhs number values as they are" in dialog.warnings_label.text()
    assert row(dialog, "NHS No").form.currentText() == "10 digits, no spaces"  # what a kept NHS number looks like


def test_certificate_recipient_is_written_relative_to_the_profile(qtbot, dialog, tmp_path):
    cert = tmp_path / "certs" / "recipient.crt"
    cert.parent.mkdir()
    cert.write_bytes(resource_path("demo", "demo-recipient.crt").read_bytes())
    dialog.ask_open_path = lambda parent, caption, file_filter: cert
    dialog.name_edit.setText("Pilot")
    click(qtbot, dialog.certificate_radio)
    assert dialog.certificate_edit.isEnabled() and dialog.browse_button.isEnabled()
    click(qtbot, dialog.browse_button)
    assert dialog.certificate_edit.text() == str(cert)
    assert "DEMO certificate" in dialog.warnings_label.text()
    profile = load_profile(dialog.save_to(tmp_path / "profiles" / "pilot.toml"))
    assert profile.recipient.mode == "certificate"
    assert [c.resolve() for c in profile.recipient.certificates] == [cert.resolve()]
    assert '"../certs/recipient.crt"' in (tmp_path / "profiles" / "pilot.toml").read_text(encoding="utf-8")


def test_rows_move_to_set_the_export_order(qtbot, dialog, tmp_path):
    dialog.name_edit.setText("Pilot")
    row(dialog, "Date of Birth").name.setFocus()  # focusing a row's control selects the row
    assert dialog.table.currentRow() == 2
    click(qtbot, dialog.up_button)
    click(qtbot, dialog.up_button)
    assert dialog.table.item(0, COL_COLUMN).text() == "Date of Birth" and dialog.table.currentRow() == 0
    click(qtbot, dialog.up_button)  # already first: nothing happens
    click(qtbot, dialog.down_button)
    assert [r.field.column for r in dialog.rows[:3]] == ["NHS No", "Date of Birth", "Postcode"]
    assert load_profile(dialog.save_to(tmp_path / "p.toml")).output_names[:3] == ["PERSON_ID", "DOB", "POSTCODE"]


def _focusable(dlg: QWidget) -> list[QWidget]:
    return [
        w
        for w in dlg.findChildren(QWidget)
        if w.focusPolicy() & Qt.FocusPolicy.TabFocus
        and w.isVisibleTo(dlg)
        and not w.objectName().startswith("qt_")
        and w.parent() is not None
        and not isinstance(w.parent(), QComboBox)
    ]


def test_every_control_is_named_reachable_and_has_its_own_mnemonic(qtbot, dialog):
    controls = _focusable(dialog)
    unnamed = [
        f"{type(w).__name__} {w.objectName()}"
        for w in controls
        if not w.accessibleName()
        and not isinstance(w, (QLabel,))
        and w is not dialog.table.viewport()
        and type(w).__name__ not in ("QScrollBar", "QAbstractScrollArea")
    ]
    assert unnamed == []
    texts = [
        w.text()
        for w in dialog.findChildren(QLabel) + dialog.findChildren(QAbstractButton)
        if w.isVisibleTo(dialog) and "&" in w.text().replace("&&", "")
    ]
    letters = [t[t.index("&") + 1].casefold() for t in texts]
    assert len(letters) >= 14 and len(set(letters)) == len(letters), sorted(zip(letters, texts))
    # Tab goes from the agreement, through every row's controls in order, to the buttons
    chain, widget = [], dialog.name_edit
    for _ in range(200):
        chain.append(widget)
        widget = widget.nextInFocusChain()
        if widget is dialog.name_edit:
            break
    order = [w for w in chain if w.isEnabled() and w in controls]
    first_row = dialog.rows[0]
    assert order.index(dialog.name_edit) < order.index(dialog.version_edit) < order.index(first_row.include)
    assert order.index(first_row.include) < order.index(first_row.name) < order.index(first_row.convention)
    assert order.index(first_row.convention) < order.index(dialog.rows[1].include)
    assert order.index(dialog.rows[1].form) < order.index(dialog.rows[2].include)  # a form with choices
    assert order.index(dialog.rows[-1].include) < order.index(dialog.passphrase_radio) < order.index(dialog.save_button)


def test_nothing_is_cut_off(qtbot, dialog):
    for w in dialog.findChildren(QAbstractButton) + dialog.findChildren(QLabel):
        if w.isVisibleTo(dialog) and w.text() and not (isinstance(w, QLabel) and w.wordWrap()):
            assert w.width() >= w.sizeHint().width(), w.text()
    for r, controls in enumerate(dialog.rows):
        for c, widget in enumerate(controls.widgets()):
            cell = widget.parentWidget() if c == 0 else widget
            assert cell.width() >= widget.sizeHint().width() or widget is controls.form, (r, c)
        assert dialog.table.rowHeight(r) >= controls.role.sizeHint().height()
