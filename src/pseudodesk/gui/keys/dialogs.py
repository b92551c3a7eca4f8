"""The Keys window's dialogs that make, rotate and delete a key; those for key files are in
:mod:`pseudodesk.gui.keys.keyfile_dialogs`. Each gathers the plain values of one operation."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from pseudodesk.core.errors import KeyProblem, PseudodeskError
from pseudodesk.core.keys.info import KeyInfo
from pseudodesk.core.keys.overview import read_key_file
from pseudodesk.core.transform.openpseudonymiser import WEAKER_WARNING, salt_from_encrypted_file
from pseudodesk.gui import widgets
from pseudodesk.gui.errors import show_error
from pseudodesk.gui.keys.model import fit_dialog, no_auto_default, selectable, wide_enough, wrapped
from pseudodesk.gui.widgets import OpenPath, buddy_label

SALT_FILE_FILTER = "OpenPseudonymiser salt files (*.EncryptedSalt);;All files (*)"


class NewKeyDialog(QDialog):
    """Asks for a new key's name, agreement and expiry; or for an OpenPseudonymiser salt."""

    def __init__(self, parent: QWidget | None = None, *, open_path: OpenPath | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New key")
        self.setAccessibleName("New key")
        self._open_path = open_path if open_path is not None else widgets.ask_open_path
        layout = QVBoxLayout(self)

        self.key_radio = QRadioButton("&Project key (256 random bits, made now)")
        self.salt_radio = QRadioButton("OpenPseudonymiser &salt (only to link with OpenPseudonymiser users)")
        self.key_radio.setAccessibleName("Kind: new project key")
        self.salt_radio.setAccessibleName("Kind: OpenPseudonymiser salt")
        self.key_radio.setChecked(True)
        self.kind_group = QButtonGroup(self)
        self.kind_group.addButton(self.key_radio)
        self.kind_group.addButton(self.salt_radio)
        layout.addWidget(self.key_radio)
        layout.addWidget(self.salt_radio)

        form = QFormLayout()
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("for example LCP Scorecard 2026")
        self.name_edit.setAccessibleName("Name")
        self.agreement_edit = QLineEdit()
        self.agreement_edit.setPlaceholderText("optional: the data sharing agreement it serves")
        self.agreement_edit.setAccessibleName("Agreement (optional)")
        self.expires_check = QCheckBox("E&xpires on")
        self.expires_check.setAccessibleName("Expires")
        self.expires_check.setToolTip(
            "The agreement's review date: after it the key is only used once you "
            "confirm the agreement is still in force"
        )
        self.expires_edit = QDateEdit()
        self.expires_edit.setCalendarPopup(True)
        self.expires_edit.setDisplayFormat("yyyy-MM-dd")
        self.expires_edit.setMinimumDate(QDate.currentDate())
        self.expires_edit.setDate(QDate.currentDate().addYears(1))
        self.expires_edit.setEnabled(False)
        self.expires_edit.setAccessibleName("Expiry date")
        self.expires_check.toggled.connect(self.expires_edit.setEnabled)
        expiry_row = QHBoxLayout()
        expiry_row.addWidget(self.expires_check)
        expiry_row.addWidget(self.expires_edit, stretch=1)
        form.addRow("&Name:", self.name_edit)
        form.addRow("A&greement:", self.agreement_edit)
        form.addRow("Expiry:", expiry_row)
        layout.addLayout(form)

        self.salt_box = QGroupBox("OpenPseudonymiser salt")
        salt_layout = QVBoxLayout(self.salt_box)
        salt_row = QHBoxLayout()
        self.salt_edit = QLineEdit()
        self.salt_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.salt_edit.setAccessibleName("Salt")
        salt_label = QLabel("Sal&t:")
        salt_label.setBuddy(self.salt_edit)
        self.salt_file_button = QPushButton("&From .EncryptedSalt file…")
        self.salt_file_button.setAccessibleName("Read the salt from an .EncryptedSalt file")
        self.salt_file_button.clicked.connect(self._choose_salt_file)
        salt_row.addWidget(salt_label)
        salt_row.addWidget(self.salt_edit, stretch=1)
        salt_row.addWidget(self.salt_file_button)
        salt_layout.addLayout(salt_row)
        self.salt_warning = wrapped(WEAKER_WARNING, "Warning about OpenPseudonymiser salts")
        salt_layout.addWidget(self.salt_warning)
        self.salt_box.setVisible(False)
        layout.addWidget(self.salt_box)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.addButton("&Create", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setAccessibleName("Create")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        no_auto_default(self.salt_file_button)

        self.salt_radio.toggled.connect(self._kind_changed)
        self.name_edit.textChanged.connect(self._validate)
        self.salt_edit.textChanged.connect(self._validate)
        self._validate()
        fit_dialog(self, 70)
        self.name_edit.setFocus()  # typing at once goes into the name

    def _kind_changed(self, salt: bool) -> None:
        self.salt_box.setVisible(salt)
        self.ok_button.setText("&Add salt" if salt else "&Create")
        self._validate()
        fit_dialog(self, 70)

    def _validate(self) -> None:
        ok = bool(self.name_edit.text().strip()) and (self.kind() == "project-key" or bool(self.salt_edit.text()))
        self.ok_button.setEnabled(ok)

    def _choose_salt_file(self) -> None:
        path = self._open_path(self, "Open an OpenPseudonymiser salt file", SALT_FILE_FILTER)
        if path is None:
            return
        try:
            self.salt_edit.setText(salt_from_encrypted_file(read_key_file(path)))
        except ValueError as exc:
            show_error(self, KeyProblem(f"{path.name}: {exc}"), doing="reading the salt file")
        except PseudodeskError as exc:
            show_error(self, exc, doing="reading the salt file")

    def kind(self) -> str:
        return "op-salt" if self.salt_radio.isChecked() else "project-key"

    def name(self) -> str:
        return self.name_edit.text().strip()

    def agreement(self) -> str:
        return self.agreement_edit.text().strip()

    def expires(self) -> dt.date | None:
        if not self.expires_check.isChecked():
            return None
        value = self.expires_edit.date().toPython()
        assert isinstance(value, dt.date)
        return value

    def salt(self) -> str | None:
        return self.salt_edit.text() if self.kind() == "op-salt" else None

    def clear_secrets(self) -> None:
        self.salt_edit.clear()


class RotateKeyDialog(QDialog):
    """Explains what rotating does and asks to go ahead."""

    def __init__(self, info: KeyInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Rotate key?")
        self.setAccessibleName("Rotate key")
        self.info = info
        layout = QVBoxLayout(self)
        self.explanation = selectable(
            wrapped(
                f"Rotate '{info.name}' ({info.id})?\n\n"
                "A new key is made for the same agreement. The old key is retired: it stays on this computer "
                "for re-identification only, and new exports with it are refused.\n\n"
                "Afterwards, put the new key's id and fingerprint in the agreement profile and pack the agreement "
                "again for each partner (Tools > Pack agreement): installing it keeps their old key, retired, "
                "for re-identification.",
                "What rotating does",
            )
        )
        layout.addWidget(self.explanation)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.confirm_button = self.buttons.addButton("&Rotate key", QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm_button.setAccessibleName("Rotate key")
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName("Cancel")
        cancel.setDefault(True)
        self.confirm_button.setAutoDefault(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        fit_dialog(self, 70)


class DeleteKeyDialog(QDialog):
    """Explains that deleting is final and asks for the key id to be typed, as the CLI does."""

    def __init__(self, info: KeyInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Delete key?")
        self.setAccessibleName("Delete key")
        self.info = info
        layout = QVBoxLayout(self)
        what = "salt" if info.kind == "op-salt" else "key"
        self.explanation = selectable(
            wrapped(
                f"Delete '{info.name}' ({info.id}) from this computer?\n\n"
                f"This cannot be undone. Pseudonyms made with this {what} can never be re-created or "
                "re-identified on this computer again, and exports that need it will be refused. Only a copy "
                "held by the key custodian could restore it.",
                "What deleting does",
            )
        )
        layout.addWidget(self.explanation)
        form = QFormLayout()
        self.confirm_edit = QLineEdit()
        self.confirm_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.confirm_edit.setPlaceholderText(info.id)
        self.confirm_edit.setAccessibleName(f"Type the key id {info.id} to confirm")
        wide_enough(self.confirm_edit, info.id)
        form.addRow(buddy_label(f"&Type the key id ({info.id}) to confirm:", self.confirm_edit), self.confirm_edit)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.confirm_button = self.buttons.addButton("&Delete key", QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm_button.setAccessibleName("Delete key")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.confirm_edit.textChanged.connect(lambda text: self.confirm_button.setEnabled(text.strip() == info.id))
        self.confirm_button.setEnabled(False)
        fit_dialog(self, 70)
