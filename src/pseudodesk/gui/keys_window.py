"""The Keys window: a thin shell over the core key store (:class:`pseudodesk.core.keys.store.KeyStore`).

It lists the project keys (and OpenPseudonymiser salts) held on this computer, shows
the selected key's fingerprint large enough to read out over the phone, and offers the
key custodian's and partners' operations, as the CLI's ``pseudodesk-cli keys`` does:

- **New key...**: a new 256-bit project key (name, optional agreement and expiry), or an
  OpenPseudonymiser salt typed in or read from an ``.EncryptedSalt`` file;
- **Import...**: a ``.pdkey`` file, which is only accepted with the fingerprint the
  custodian read out, and the file's passphrase or the partner's certificate and key;
- **Export...**: a ``.pdkey`` file sealed with a generated passphrase (to be sent by
  another route than the file) or wrapped to recipient certificates, written atomically;
- **Rotate...**: a new key for the same agreement; the old one is retired and kept for
  re-identification only;
- **Delete...**: after typing the key id, as the CLI asks: pseudonyms made with the key
  can then never be re-created or re-identified on this computer.

Every operation is a public method taking plain values (``create_key``, ``add_salt``,
``import_key``, ``export_key``, ``rotate_key``, ``delete_key``); the buttons gather
those values with small dialogs opened with ``open()`` (never a blocking ``exec()``) and
call them. The work runs through the application's one :class:`~pseudodesk.gui.jobs.JobBridge`
(scrypt makes sealing and opening key files take up to a second); failures go to
:func:`~pseudodesk.gui.errors.show_error`. File pickers are the injectable attributes
``ask_open_path`` and ``ask_save_path`` (by default the shared dialogs of :mod:`pseudodesk.gui.widgets`).

Secrets (keys, salts, passphrases) only ever pass through memory: they are never put
in QSettings, logged, or written anywhere but into the sealed key file.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QDate, QItemSelection, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QButtonGroup,
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pseudodesk.core.errors import Cancelled, KeyProblem, PseudodeskError
from pseudodesk.core.files import atomic_output
from pseudodesk.core.fingerprint import normalise_fingerprint
from pseudodesk.core.keys.overview import (
    FINGERPRINT_COLUMN,
    KEY_COLUMNS,
    MIN_PASSPHRASE,
    STATUS_COLUMN,
    dates_text,
    export_instructions,
    fingerprint_is_complete,
    held_text,
    key_file_name,
    key_row,
    keyfile_metadata,
    kind_text,
    read_key_file,
    status_description,
    status_tooltip,
)
from pseudodesk.core.keys.store import KeyInfo, KeyStore
from pseudodesk.core.package.export import generate_passphrase
from pseudodesk.core.transform.openpseudonymiser import WEAKER_WARNING, salt_from_encrypted_file
from pseudodesk.gui import widgets
from pseudodesk.gui.errors import show_error
from pseudodesk.gui.jobs import Cancel, JobBridge, Progress
from pseudodesk.gui.widgets import OpenPath, SavePath, buddy_label

AnyIndex = QModelIndex | QPersistentModelIndex

KEY_FILE_FILTER = "pseudodesk key files (*.pdkey);;All files (*)"
CERTIFICATE_FILTER = "Certificates (*.crt *.cer *.pem *.der);;All files (*)"
PRIVATE_KEY_FILTER = "Private keys (*.pem *.key);;All files (*)"
SALT_FILE_FILTER = "OpenPseudonymiser salt files (*.EncryptedSalt);;All files (*)"


# --- small helpers ---------------------------------------------------------------------------


def fingerprint_font(point_size: int = 20) -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSize(point_size)
    return font


def _selectable(label: QLabel, *, keyboard: bool = False) -> QLabel:
    flags = Qt.TextInteractionFlag.TextSelectableByMouse
    if keyboard:
        flags |= Qt.TextInteractionFlag.TextSelectableByKeyboard
    label.setTextInteractionFlags(flags)
    return label


def _wrapped(text: str = "", accessible: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    if accessible:
        label.setAccessibleName(accessible)
    return label


def _fit(dialog: QWidget, chars: int) -> None:
    """Size a dialog to its contents, at least ``chars`` average characters wide, with wrapped text whole.

    The layout keeps enforcing its own minimum size (no explicit minimum is set), and the
    height is computed for the chosen width, so word-wrapped labels are not cut at any scale.
    """
    layout = dialog.layout()
    assert layout is not None
    layout.activate()
    width = max(layout.sizeHint().width(), dialog.fontMetrics().averageCharWidth() * chars)
    height = dialog.heightForWidth(width) if layout.hasHeightForWidth() else layout.sizeHint().height()
    dialog.resize(width, max(height, layout.minimumSize().height()))


def _wide_enough(edit: QLineEdit, sample: str) -> None:
    """A line edit wide enough to show ``sample`` whole in its own font."""
    edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance(sample + "MM"))


def _no_auto_default(*buttons: QPushButton) -> None:
    """Enter in a field or the table must not press a button that was not meant."""
    for button in buttons:
        button.setAutoDefault(False)
        button.setDefault(False)


# --- the table -------------------------------------------------------------------------------


class KeyTableModel(QAbstractTableModel):
    """The key store's metadata (``KeyStore.keys()``), one row per key; never the keys themselves."""

    STRETCH_COLUMNS = (0, 3)  # name and agreement: free text, elided when the window is narrow

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._keys: list[KeyInfo] = []

    def set_keys(self, keys: Sequence[KeyInfo]) -> None:
        self.beginResetModel()
        self._keys = list(keys)
        self.endResetModel()

    def keys(self) -> list[KeyInfo]:
        return list(self._keys)

    def key_at(self, row: int) -> KeyInfo | None:
        return self._keys[row] if 0 <= row < len(self._keys) else None

    def row_of(self, key_id: str) -> int:
        for row, info in enumerate(self._keys):
            if info.id == key_id:
                return row
        return -1

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(self._keys)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(KEY_COLUMNS)

    def cell_text(self, info: KeyInfo, column: int) -> str:
        return key_row(info)[column]

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        info = self.key_at(index.row()) if index.isValid() else None
        if info is None:
            return None
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.cell_text(info, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return status_tooltip(info) if column == STATUS_COLUMN else self.cell_text(info, column)
        if role == Qt.ItemDataRole.FontRole and column == FINGERPRINT_COLUMN:
            return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        if role == Qt.ItemDataRole.FontRole and info.status == "retired":
            font = QFont()
            font.setItalic(True)
            return font
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return KEY_COLUMNS[section]
        return None


# --- dialogs ---------------------------------------------------------------------------------


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
        self.expires_check.setToolTip("The agreement's review date: after it the key is only used once you "
                                      "confirm the agreement is still in force")
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
        self.salt_warning = _wrapped(WEAKER_WARNING, "Warning about OpenPseudonymiser salts")
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
        _no_auto_default(self.salt_file_button)

        self.salt_radio.toggled.connect(self._kind_changed)
        self.name_edit.textChanged.connect(self._validate)
        self.salt_edit.textChanged.connect(self._validate)
        self._validate()
        _fit(self, 70)

    def _kind_changed(self, salt: bool) -> None:
        self.salt_box.setVisible(salt)
        self.ok_button.setText("&Add salt" if salt else "&Create")
        self._validate()
        _fit(self, 70)

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


class ImportKeyDialog(QDialog):
    """Asks for the fingerprint the custodian read out, and what opens the file."""

    def __init__(self, path: Path, metadata: dict[str, Any], parent: QWidget | None = None, *,
                 open_path: OpenPath | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Import {path.name}")
        self.setAccessibleName("Import key file")
        self.path = path
        self.protection = str(metadata.get("protection"))
        self._open_path = open_path if open_path is not None else widgets.ask_open_path
        layout = QVBoxLayout(self)

        agreement = f" for the agreement '{metadata['agreement']}'" if metadata.get("agreement") else ""
        self.summary_label = _selectable(_wrapped(
            f"{path.name} says it holds the key '{metadata.get('name', '')}' ({metadata.get('key_id', '')})"
            f"{agreement}. These details are checked when the file is opened.", "About the file"))
        layout.addWidget(self.summary_label)

        form = QFormLayout()
        self.fingerprint_edit = QLineEdit()
        self.fingerprint_edit.setFont(fingerprint_font(14))
        self.fingerprint_edit.setPlaceholderText("XXXX-XXXX-XXXX-XXXX")
        _wide_enough(self.fingerprint_edit, "XXXX-XXXX-XXXX-XXXX")
        self.fingerprint_edit.setAccessibleName("Fingerprint read out by the key custodian")
        self.fingerprint_edit.setAccessibleDescription(
            "Type the fingerprint as the custodian reads it out over the phone")
        form.addRow(buddy_label("&Fingerprint read out by the custodian:", self.fingerprint_edit), self.fingerprint_edit)
        self.fingerprint_help = _wrapped(
            "Type it as the key custodian reads it out over the phone, not from a message sent with the "
            "file: that is what shows the file is the custodian's and has not been swapped.",
            "Why the fingerprint is asked for")
        form.addRow(self.fingerprint_help)

        self.passphrase_edit = QLineEdit()
        self.passphrase_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase_edit.setAccessibleName("Passphrase of the key file")
        self.show_passphrase_check = QCheckBox("S&how")
        self.show_passphrase_check.setAccessibleName("Show the passphrase")
        self.show_passphrase_check.toggled.connect(
            lambda shown: self.passphrase_edit.setEchoMode(
                QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password))
        passphrase_row = QHBoxLayout()
        passphrase_row.addWidget(self.passphrase_edit, stretch=1)
        passphrase_row.addWidget(self.show_passphrase_check)

        self.certificate_edit = QLineEdit()
        self.certificate_edit.setAccessibleName("Your certificate file")
        self.certificate_button = QPushButton("&Browse…")
        self.certificate_button.setAccessibleName("Choose your certificate file")
        self.certificate_button.clicked.connect(
            lambda: self._browse(self.certificate_edit, "Your certificate", CERTIFICATE_FILTER))
        certificate_row = QHBoxLayout()
        certificate_row.addWidget(self.certificate_edit, stretch=1)
        certificate_row.addWidget(self.certificate_button)
        self.private_key_edit = QLineEdit()
        self.private_key_edit.setAccessibleName("Your private key file")
        self.private_key_button = QPushButton("B&rowse…")
        self.private_key_button.setAccessibleName("Choose your private key file")
        self.private_key_button.clicked.connect(
            lambda: self._browse(self.private_key_edit, "Your certificate's private key", PRIVATE_KEY_FILTER))
        private_key_row = QHBoxLayout()
        private_key_row.addWidget(self.private_key_edit, stretch=1)
        private_key_row.addWidget(self.private_key_button)
        self.private_key_password_edit = QLineEdit()
        self.private_key_password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.private_key_password_edit.setPlaceholderText("only if the private key file has one")
        self.private_key_password_edit.setAccessibleName("Password of the private key (optional)")

        if self.protection == "passphrase":
            form.addRow(buddy_label("&Passphrase (sent to you separately):", self.passphrase_edit), passphrase_row)
        else:
            form.addRow(_wrapped("This file is wrapped to partners' certificates: give yours and its private "
                                 "key.", "About certificate-wrapped files"))
            form.addRow(buddy_label("Your &certificate:", self.certificate_edit), certificate_row)
            form.addRow(buddy_label("Its private &key:", self.private_key_edit), private_key_row)
            form.addRow(buddy_label("Private key pass&word:", self.private_key_password_edit),
                        self.private_key_password_edit)
        layout.addLayout(form)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.addButton("&Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setAccessibleName("Import")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        _no_auto_default(self.certificate_button, self.private_key_button)
        for edit in (self.fingerprint_edit, self.passphrase_edit, self.certificate_edit, self.private_key_edit):
            edit.textChanged.connect(self._validate)
        self._validate()
        _fit(self, 80)

    def _browse(self, edit: QLineEdit, caption: str, file_filter: str) -> None:
        path = self._open_path(self, caption, file_filter)
        if path is not None:
            edit.setText(str(path))

    def _validate(self) -> None:
        if self.protection == "passphrase":
            opened = bool(self.passphrase_edit.text())
        else:
            opened = bool(self.certificate_edit.text().strip()) and bool(self.private_key_edit.text().strip())
        self.ok_button.setEnabled(opened and fingerprint_is_complete(self.fingerprint_edit.text()))

    def fingerprint(self) -> str:
        return normalise_fingerprint(self.fingerprint_edit.text())

    def passphrase(self) -> str | None:
        return self.passphrase_edit.text() if self.protection == "passphrase" else None

    def certificate(self) -> Path | None:
        text = self.certificate_edit.text().strip()
        return Path(text) if self.protection == "certificate" and text else None

    def private_key(self) -> Path | None:
        text = self.private_key_edit.text().strip()
        return Path(text) if self.protection == "certificate" and text else None

    def private_key_password(self) -> str | None:
        return (self.private_key_password_edit.text() or None) if self.protection == "certificate" else None

    def clear_secrets(self) -> None:
        self.passphrase_edit.clear()
        self.private_key_password_edit.clear()


class ExportKeyDialog(QDialog):
    """Chooses how a key file is protected: a (generated) passphrase or recipient certificates."""

    def __init__(self, info: KeyInfo, parent: QWidget | None = None, *, open_path: OpenPath | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Export {info.name}")
        self.setAccessibleName("Export key file")
        self.info = info
        self._open_path = open_path if open_path is not None else widgets.ask_open_path
        layout = QVBoxLayout(self)

        intro = f"Write a key file holding '{info.name}' ({info.id}) for a partner."
        if info.status == "retired":
            intro += (f" This key is retired (replaced by {info.replaced_by}): export it only so old "
                      "pseudonyms can be re-identified; new exports use the new key.")
        self.intro_label = _wrapped(intro, "What will be exported")
        layout.addWidget(self.intro_label)
        fingerprint_row = QHBoxLayout()
        fingerprint_caption = QLabel("Fingerprint to read out to the partner:")
        self.fingerprint_label = _selectable(QLabel(info.fingerprint))
        self.fingerprint_label.setFont(fingerprint_font(16))
        self.fingerprint_label.setAccessibleName("Fingerprint to read out")
        fingerprint_row.addWidget(fingerprint_caption)
        fingerprint_row.addWidget(self.fingerprint_label, stretch=1)
        layout.addLayout(fingerprint_row)

        self.passphrase_radio = QRadioButton("Protect it with a &passphrase")
        self.passphrase_radio.setAccessibleName("Protect with a passphrase")
        self.certificate_radio = QRadioButton("Wrap it to the partners' c&ertificates")
        self.certificate_radio.setAccessibleName("Wrap to recipient certificates")
        self.passphrase_radio.setChecked(True)
        self.protection_group = QButtonGroup(self)
        self.protection_group.addButton(self.passphrase_radio)
        self.protection_group.addButton(self.certificate_radio)

        layout.addWidget(self.passphrase_radio)
        self.passphrase_box = QWidget()
        passphrase_layout = QVBoxLayout(self.passphrase_box)
        passphrase_layout.setContentsMargins(self.fontMetrics().averageCharWidth() * 3, 0, 0, 0)
        row = QHBoxLayout()
        self.passphrase_edit = QLineEdit()
        self.passphrase_edit.setFont(fingerprint_font(14))
        _wide_enough(self.passphrase_edit, "XXXX-XXXX-XXXX-XXXX-XXXX-XXXX")
        self.passphrase_edit.setAccessibleName("Passphrase for the key file")
        self.passphrase_edit.setAccessibleDescription(
            f"A generated passphrase; you may type your own of at least {MIN_PASSPHRASE} characters")
        self.generate_button = QPushButton("&Generate another")
        self.generate_button.setAccessibleName("Generate another passphrase")
        self.generate_button.clicked.connect(self.generate_passphrase)
        self.copy_passphrase_button = QPushButton("Cop&y passphrase")
        self.copy_passphrase_button.setAccessibleName("Copy the passphrase")
        self.copy_passphrase_button.clicked.connect(self.copy_passphrase)
        row.addWidget(self.passphrase_edit, stretch=1)
        row.addWidget(self.generate_button)
        row.addWidget(self.copy_passphrase_button)
        passphrase_layout.addLayout(row)
        self.passphrase_warning = _wrapped(
            "Send this passphrase to the partner by a different route from the key file (for example read it "
            "out over the phone, never in the same email). pseudodesk does not keep it: note it now.",
            "Warning about the passphrase")
        warning_font = self.passphrase_warning.font()
        warning_font.setBold(True)
        self.passphrase_warning.setFont(warning_font)
        passphrase_layout.addWidget(self.passphrase_warning)
        layout.addWidget(self.passphrase_box)

        layout.addWidget(self.certificate_radio)
        self.certificate_box = QWidget()
        certificate_layout = QHBoxLayout(self.certificate_box)
        certificate_layout.setContentsMargins(self.fontMetrics().averageCharWidth() * 3, 0, 0, 0)
        self.certificate_list = QListWidget()
        self.certificate_list.setAccessibleName("Recipient certificates")
        self.certificate_list.setMinimumHeight(self.fontMetrics().height() * 4)
        self.certificate_list.setMaximumHeight(self.fontMetrics().height() * 8)
        certificate_buttons = QVBoxLayout()
        self.add_certificate_button = QPushButton("&Add certificate…")
        self.add_certificate_button.setAccessibleName("Add a recipient certificate")
        self.add_certificate_button.clicked.connect(self._choose_certificate)
        self.remove_certificate_button = QPushButton("Re&move")
        self.remove_certificate_button.setAccessibleName("Remove the selected certificate")
        self.remove_certificate_button.clicked.connect(self._remove_certificate)
        certificate_buttons.addWidget(self.add_certificate_button)
        certificate_buttons.addWidget(self.remove_certificate_button)
        certificate_buttons.addStretch(1)
        certificate_layout.addWidget(self.certificate_list, stretch=1)
        certificate_layout.addLayout(certificate_buttons)
        layout.addWidget(self.certificate_box)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.addButton("E&xport…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setAccessibleName("Export: choose where to save the key file")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        _no_auto_default(self.generate_button, self.copy_passphrase_button, self.add_certificate_button,
                         self.remove_certificate_button)

        self.passphrase_radio.toggled.connect(self._protection_changed)
        self.passphrase_edit.textChanged.connect(self._validate)
        self.certificate_list.model().rowsInserted.connect(self._validate)
        self.certificate_list.model().rowsRemoved.connect(self._validate)
        self.generate_passphrase()
        self._protection_changed(True)
        _fit(self, 85)

    def _protection_changed(self, passphrase: bool) -> None:
        self.passphrase_box.setEnabled(passphrase)
        self.certificate_box.setEnabled(not passphrase)
        self._validate()

    def _validate(self) -> None:
        if self.passphrase_radio.isChecked():
            ok = len(self.passphrase_edit.text()) >= MIN_PASSPHRASE
        else:
            ok = self.certificate_list.count() > 0
        self.ok_button.setEnabled(ok)
        self.remove_certificate_button.setEnabled(self.certificate_list.count() > 0)

    def _choose_certificate(self) -> None:
        path = self._open_path(self, "Recipient certificate", CERTIFICATE_FILTER)
        if path is not None:
            self.add_certificates([path])

    def _remove_certificate(self) -> None:
        row = self.certificate_list.currentRow()
        self.certificate_list.takeItem(row if row >= 0 else self.certificate_list.count() - 1)

    def generate_passphrase(self) -> None:
        self.passphrase_edit.setText(generate_passphrase())

    def copy_passphrase(self) -> None:
        QApplication.clipboard().setText(self.passphrase_edit.text())

    def add_certificates(self, paths: Sequence[Path]) -> None:
        self.certificate_radio.setChecked(True)
        for path in paths:
            self.certificate_list.addItem(str(path))

    def passphrase(self) -> str | None:
        return self.passphrase_edit.text() if self.passphrase_radio.isChecked() else None

    def certificates(self) -> list[Path]:
        if self.passphrase_radio.isChecked():
            return []
        return [Path(self.certificate_list.item(i).text()) for i in range(self.certificate_list.count())]

    def clear_secrets(self) -> None:
        self.passphrase_edit.clear()


class RotateKeyDialog(QDialog):
    """Explains what rotating does and asks to go ahead."""

    def __init__(self, info: KeyInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Rotate key?")
        self.setAccessibleName("Rotate key")
        self.info = info
        layout = QVBoxLayout(self)
        self.explanation = _selectable(_wrapped(
            f"Rotate '{info.name}' ({info.id})?\n\n"
            "A new key is made for the same agreement. The old key is retired: it stays on this computer "
            "for re-identification only, and new exports with it are refused.\n\n"
            "Afterwards, export the new key to each partner, read them its fingerprint, and put the new "
            "key's id and fingerprint in the agreement profile.", "What rotating does"))
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
        _fit(self, 70)


class DeleteKeyDialog(QDialog):
    """Explains that deleting is final and asks for the key id to be typed, as the CLI does."""

    def __init__(self, info: KeyInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Delete key?")
        self.setAccessibleName("Delete key")
        self.info = info
        layout = QVBoxLayout(self)
        what = "salt" if info.kind == "op-salt" else "key"
        self.explanation = _selectable(_wrapped(
            f"Delete '{info.name}' ({info.id}) from this computer?\n\n"
            f"This cannot be undone. Pseudonyms made with this {what} can never be re-created or "
            "re-identified on this computer again, and exports that need it will be refused. Only a copy "
            "held by the key custodian could restore it.", "What deleting does"))
        layout.addWidget(self.explanation)
        form = QFormLayout()
        self.confirm_edit = QLineEdit()
        self.confirm_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.confirm_edit.setPlaceholderText(info.id)
        self.confirm_edit.setAccessibleName(f"Type the key id {info.id} to confirm")
        _wide_enough(self.confirm_edit, info.id)
        form.addRow(buddy_label(f"&Type the key id ({info.id}) to confirm:", self.confirm_edit), self.confirm_edit)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.confirm_button = self.buttons.addButton("&Delete key", QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm_button.setAccessibleName("Delete key")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.confirm_edit.textChanged.connect(
            lambda text: self.confirm_button.setEnabled(text.strip() == info.id))
        self.confirm_button.setEnabled(False)
        _fit(self, 70)


# --- the window ------------------------------------------------------------------------------


class KeyDetails(QGroupBox):
    """The selected key's details, its fingerprint large enough to read out, and a copy button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Selected key", parent)
        self.setAccessibleName("Selected key")
        layout = QVBoxLayout(self)
        fingerprint_row = QHBoxLayout()
        self.fingerprint_label = _selectable(QLabel("—"), keyboard=True)
        self.fingerprint_label.setFont(fingerprint_font(20))
        self.fingerprint_label.setAccessibleName("Fingerprint")
        self.fingerprint_label.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # reachable with Tab, to read or select
        self.fingerprint_label.setToolTip("Read this out to partners over the phone; it names the key "
                                          "without revealing it")
        self.copy_button = QPushButton("&Copy fingerprint")
        self.copy_button.setAccessibleName("Copy fingerprint")
        fingerprint_caption = QLabel("Fingerprint:")
        fingerprint_caption.setBuddy(self.fingerprint_label)
        fingerprint_row.addWidget(fingerprint_caption)
        fingerprint_row.addWidget(self.fingerprint_label, stretch=1)
        fingerprint_row.addWidget(self.copy_button)
        layout.addLayout(fingerprint_row)

        form = QFormLayout()
        self.name_label = QLabel()
        self.id_label = QLabel()
        self.status_label = QLabel()
        self.agreement_label = QLabel()
        self.dates_label = QLabel()
        self.held_label = QLabel()
        rows = (("Name:", self.name_label), ("Id:", self.id_label), ("Status:", self.status_label),
                ("Agreement:", self.agreement_label), ("Dates:", self.dates_label), ("Held in:", self.held_label))
        for caption, label in rows:
            label.setWordWrap(True)
            _selectable(label)
            label.setAccessibleName(caption.rstrip(":"))
            form.addRow(caption, label)
        layout.addLayout(form)
        self.show_key(None)

    def show_key(self, info: KeyInfo | None) -> None:
        self.copy_button.setEnabled(info is not None)
        if info is None:
            self.fingerprint_label.setText("—")
            self.fingerprint_label.setAccessibleDescription("No key selected")
            for label in (self.id_label, self.status_label, self.agreement_label, self.dates_label, self.held_label):
                label.setText("")
            self.name_label.setText("Select a key in the list to see its details.")
            return
        self.fingerprint_label.setText(info.fingerprint)
        self.fingerprint_label.setAccessibleDescription(" ".join(info.fingerprint.replace("-", " ")))
        self.name_label.setText(f"{info.name} ({kind_text(info)})")
        self.id_label.setText(info.id)
        self.status_label.setText(status_description(info))
        self.agreement_label.setText(info.agreement or "(none given)")
        self.dates_label.setText(dates_text(info))
        self.held_label.setText(held_text(info))


class KeysWindow(QDialog):
    """The keys held on this computer and what the custodian and partners do with them."""

    keys_changed = Signal()                 # a key was created, imported, rotated or deleted
    selected_key_changed = Signal(str)      # the selected key's id ("" when none)
    key_exported = Signal(str, str)         # key id, path of the written .pdkey file

    def __init__(self, store: KeyStore, bridge: JobBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.bridge = bridge
        self.ask_open_path: OpenPath = widgets.ask_open_path  # a test may put its own in their place
        self.ask_save_path: SavePath = widgets.ask_save_path
        self.new_key_dialog: NewKeyDialog | None = None
        self.import_dialog: ImportKeyDialog | None = None
        self.export_dialog: ExportKeyDialog | None = None
        self.rotate_dialog: RotateKeyDialog | None = None
        self.delete_dialog: DeleteKeyDialog | None = None
        self.export_done_box: QMessageBox | None = None
        self._working_text = ""

        self.setWindowTitle("Keys — pseudodesk")
        self.setAccessibleName("Keys")
        layout = QVBoxLayout(self)
        self.intro_label = _wrapped(
            "Project keys turn identifiers into pseudonyms. They are held on this computer only, in the OS "
            "keyring (or a passphrase-protected local key store), never in a plain file. Share a key with a "
            "partner as a key file, and read its fingerprint out to them over the phone.",
            "About keys")
        layout.addWidget(self.intro_label)

        table_caption = QLabel("&Keys on this computer:")
        layout.addWidget(table_caption)
        self.model = KeyTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        table_caption.setBuddy(self.table)
        self.table.setAccessibleName("Keys on this computer")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table, arrow keys move within it
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for column in KeyTableModel.STRETCH_COLUMNS:  # long free text shares what is left, elided
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(self.fontMetrics().averageCharWidth() * 8)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setMinimumHeight(self.fontMetrics().height() * 7)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.empty_label = _wrapped(
            "No keys on this computer yet. A key custodian creates one with New key; a partner imports the "
            "key file the custodian sent with Import.", "No keys yet")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.table, stretch=1)
        layout.addWidget(self.empty_label, stretch=1)  # in the table's place while there are no keys

        self.details = KeyDetails()
        self.details.copy_button.clicked.connect(self.copy_fingerprint)
        layout.addWidget(self.details)

        self.status_label = _selectable(_wrapped("", "Status"))
        layout.addWidget(self.status_label)

        buttons = QHBoxLayout()
        self.new_button = QPushButton("&New key…")
        self.import_button = QPushButton("&Import…")
        self.export_button = QPushButton("&Export…")
        self.rotate_button = QPushButton("&Rotate…")
        self.delete_button = QPushButton("&Delete…")
        self.close_button = QPushButton("C&lose")
        accessible = {self.new_button: ("New key", "Create a new project key or add an OpenPseudonymiser salt"),
                      self.import_button: ("Import key file", "Import a .pdkey key file from the key custodian"),
                      self.export_button: ("Export key file", "Write the selected key to a .pdkey file for a partner"),
                      self.rotate_button: ("Rotate key", "Replace the selected key with a new one; the old one "
                                           "is retired"),
                      self.delete_button: ("Delete key", "Delete the selected key from this computer"),
                      self.close_button: ("Close", "Close the keys window")}
        for button, (name, tip) in accessible.items():
            button.setAccessibleName(name)
            button.setToolTip(tip)
        _no_auto_default(*accessible, self.details.copy_button)
        for button in (self.new_button, self.import_button, self.export_button, self.rotate_button,
                       self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

        self.new_button.clicked.connect(self.new_key_clicked)
        self.import_button.clicked.connect(self.import_clicked)
        self.export_button.clicked.connect(self.export_clicked)
        self.rotate_button.clicked.connect(self.rotate_clicked)
        self.delete_button.clicked.connect(self.delete_clicked)
        self.close_button.clicked.connect(self.close)
        self.bridge.busy_changed.connect(self._busy_changed)

        order: list[QWidget] = [self.table, self.details.fingerprint_label, self.details.copy_button,
                                self.new_button, self.import_button, self.export_button, self.rotate_button,
                                self.delete_button, self.close_button]
        for first, second in zip(order, order[1:]):
            QWidget.setTabOrder(first, second)

        metrics = self.fontMetrics()
        self.resize(metrics.averageCharWidth() * 150, metrics.height() * 34)
        self.refresh()

    # --- what is shown -----------------------------------------------------------------

    def refresh(self, select: str | None = None) -> None:
        """Re-read the key list; keep (or move to ``select``) the selection."""
        keep = select if select is not None else self.selected_key_id()
        try:
            keys = self.store.keys()
        except PseudodeskError as error:
            keys = []
            self.status_label.setText(str(error))
            show_error(self, error, doing="reading the key list")
        self.model.set_keys(keys)
        self.table.setVisible(bool(keys))
        self.details.setVisible(bool(keys))
        self.empty_label.setVisible(not keys)
        row = self.model.row_of(keep) if keep else -1
        if row < 0 and keys:
            row = 0
        if row >= 0:
            self.table.selectRow(row)
        else:
            self._selection_changed()
        self._update_buttons()

    def keys(self) -> list[KeyInfo]:
        """The keys as listed (metadata only)."""
        return self.model.keys()

    def selected_key(self) -> KeyInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.key_at(rows[0].row()) if rows else None

    def selected_key_id(self) -> str:
        info = self.selected_key()
        return info.id if info else ""

    def select_key(self, key_id: str) -> bool:
        row = self.model.row_of(key_id)
        if row >= 0:
            self.table.selectRow(row)
        return row >= 0

    def copy_fingerprint(self) -> None:
        info = self.selected_key()
        if info is not None:
            QApplication.clipboard().setText(info.fingerprint)
            self.status_label.setText(f"Copied the fingerprint of {info.id} ({info.fingerprint}).")

    def _selection_changed(self, selected: QItemSelection | None = None, deselected: QItemSelection | None = None,
                           ) -> None:
        info = self.selected_key()
        self.details.show_key(info)
        self._update_buttons()
        self.selected_key_changed.emit(info.id if info else "")

    def _update_buttons(self) -> None:
        info = self.selected_key()
        idle = not self.bridge.busy
        project_key = info is not None and info.kind == "project-key"
        self.new_button.setEnabled(idle)
        self.import_button.setEnabled(idle)
        self.export_button.setEnabled(idle and project_key)
        self.rotate_button.setEnabled(idle and project_key and info is not None and info.status == "active")
        self.delete_button.setEnabled(idle and info is not None)
        self.details.copy_button.setEnabled(info is not None)

    def _busy_changed(self, busy: bool) -> None:
        self._update_buttons()
        if busy:
            self._working_text = f"Working: {self.bridge.description}…"
            self.status_label.setText(self._working_text)
        elif self.status_label.text() == self._working_text:
            self.status_label.setText("")  # the job's own outcome (if it is ours) follows

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt API)
        """Re-read the list each time the window is shown: the CLI may have changed it meanwhile."""
        if not self.bridge.busy:
            self.refresh()
        super().showEvent(event)

    # --- running operations --------------------------------------------------------------
    #
    # What runs on the worker holds the key store and plain values, never this window: the
    # bridge's worker may drop the last reference to what it was given, and a widget must
    # only ever be destroyed on the GUI thread. The callbacks reach the window through a
    # weak reference for the same reason (and do nothing if it has gone).

    def _run(self, description: str, doing: str, work: Callable[[Cancel], Any],
             on_done: Callable[[KeysWindow, Any], None]) -> bool:
        """Run ``work(cancel)`` through the job bridge, then ``on_done(window, result)`` on the GUI
        thread; failures are shown with ``doing``. False (and a message) if another job is running."""
        if self.bridge.busy:
            box = QMessageBox(QMessageBox.Icon.Information, "Busy",
                              f"pseudodesk is still busy ({self.bridge.description}). Try again when it has "
                              "finished.", QMessageBox.StandardButton.Ok, self)
            box.setObjectName("busy_dialog")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            return False
        window_ref = weakref.ref(self)

        def job(progress: Progress, cancel: Cancel) -> Any:
            progress(0.0, description)
            result = work(cancel)
            progress(1.0, description)
            return result

        def done(result: Any) -> None:
            window = window_ref()
            if window is not None:
                on_done(window, result)

        def failed(error: BaseException) -> None:
            window = window_ref()
            if window is None:
                show_error(None, error, doing=doing)
                return
            window.refresh()
            window.status_label.setText(f"Could not finish {doing}.")
            show_error(window, error, doing=doing)

        def cancelled() -> None:
            window = window_ref()
            if window is not None:
                window.refresh()
                window.status_label.setText("Cancelled: nothing was changed.")

        self.bridge.start(description, job, on_done=done, on_error=failed, on_cancelled=cancelled)
        return True

    def create_key(self, name: str, agreement: str = "", expires: dt.date | None = None) -> bool:
        """Create a new project key (in the background); False if another job is running."""
        store = self.store

        def done(window: KeysWindow, info: KeyInfo) -> None:
            window.refresh(select=info.id)
            window.status_label.setText(f"Created {info.id} ({info.name}), fingerprint {info.fingerprint}. Put its "
                                        "id and fingerprint in the agreement profile's [key] table.")
            window.keys_changed.emit()

        return self._run("Creating a key", "creating the key",
                         lambda cancel: store.create(name, agreement=agreement, expires=expires), done)

    def add_salt(self, name: str, salt: str, agreement: str = "", expires: dt.date | None = None) -> bool:
        """Store an OpenPseudonymiser salt (for the compatible mode only)."""
        store = self.store
        secret = salt.encode("utf-8")

        def done(window: KeysWindow, info: KeyInfo) -> None:
            window.refresh(select=info.id)
            window.status_label.setText(f"Added the OpenPseudonymiser salt {info.id} ({info.name}).")
            window.keys_changed.emit()

        return self._run("Storing a salt", "storing the salt",
                         lambda cancel: store.create(name, agreement=agreement, expires=expires, kind="op-salt",
                                                     secret=secret), done)

    def import_key(self, path: Path, fingerprint: str, *, passphrase: str | None = None,
                   certificate: Path | None = None, private_key: Path | None = None,
                   private_key_password: str | None = None) -> bool:
        """Import a .pdkey file; ``fingerprint`` is the one the custodian read out."""
        store, path = self.store, Path(path)

        def work(cancel: Cancel) -> KeyInfo:
            return store.import_file(read_key_file(path), confirm_fingerprint=fingerprint, passphrase=passphrase,
                                     certificate=certificate, private_key=private_key,
                                     private_key_password=private_key_password, source=path.name)

        def done(window: KeysWindow, info: KeyInfo) -> None:
            window.refresh(select=info.id)
            window.status_label.setText(f"Imported {info.id} ({info.name}). Its fingerprint {info.fingerprint} "
                                        "matches the one you were given.")
            window.keys_changed.emit()

        return self._run(f"Opening {path.name}", f"importing {path.name}", work, done)

    def export_key(self, key_id: str, path: Path, *, passphrase: str | None = None,
                   certificates: Sequence[Path] | None = None, overwrite: bool = False) -> bool:
        """Write ``key_id`` to a .pdkey file at ``path`` (atomically), sealed with ``passphrase``
        or wrapped to ``certificates`` (exactly one of them)."""
        if (passphrase is None) == (not certificates):
            raise ValueError("export_key needs either a passphrase or certificates")
        store, path = self.store, Path(path)
        certs = [Path(c) for c in certificates or []]

        def work(cancel: Cancel) -> str:
            if passphrase is not None:
                data = store.export_with_passphrase(key_id, passphrase)
            else:
                data = store.export_to_certificates(key_id, certs)
            if cancel():
                raise Cancelled()
            with atomic_output(path, overwrite=overwrite) as f:
                f.write(data)
            return store.info(key_id).fingerprint

        def done(window: KeysWindow, fingerprint: str) -> None:
            window.refresh()
            window.status_label.setText(f"Wrote {path.name}.")
            window._show_export_done(path, fingerprint, passphrase, len(certs))
            window.key_exported.emit(key_id, str(path))

        return self._run(f"Writing {path.name}", f"exporting {key_id}", work, done)

    def rotate_key(self, key_id: str, expires: dt.date | None = None) -> bool:
        """Replace ``key_id`` by a new key for the same agreement; the old one is retired."""
        store = self.store

        def done(window: KeysWindow, new: KeyInfo) -> None:
            window.refresh(select=new.id)
            window.status_label.setText(f"{key_id} is retired: it still serves re-identification, not new "
                                        f"exports. The new key is {new.id}, fingerprint {new.fingerprint}: export "
                                        "it to each partner and update the agreement profile.")
            window.keys_changed.emit()

        return self._run("Rotating a key", f"rotating {key_id}", lambda cancel: store.rotate(key_id, expires=expires),
                         done)

    def delete_key(self, key_id: str) -> bool:
        """Delete ``key_id`` from this computer (no question asked: the button asks first)."""
        store = self.store

        def done(window: KeysWindow, info: KeyInfo) -> None:
            window.refresh()
            window.status_label.setText(f"Deleted {info.id} ({info.name}) from this computer.")
            window.keys_changed.emit()

        return self._run("Deleting a key", f"deleting {key_id}", lambda cancel: store.delete(key_id), done)

    def _show_export_done(self, path: Path, fingerprint: str, passphrase: str | None, recipients: int) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Key file written",
                          export_instructions(path, fingerprint, passphrase, recipients),
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("export_done_dialog")
        box.setAccessibleName("Key file written")
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(lambda: setattr(self, "export_done_box", None))
        self.export_done_box = box
        box.open()

    # --- buttons: gather values with dialogs, then call the operations ----------------------

    def new_key_clicked(self) -> None:
        dialog = NewKeyDialog(self, open_path=lambda parent, caption, f: self.ask_open_path(parent, caption, f))
        self.new_key_dialog = dialog

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                salt = dialog.salt()
                if salt is not None:
                    self.add_salt(dialog.name(), salt, dialog.agreement(), dialog.expires())
                else:
                    self.create_key(dialog.name(), dialog.agreement(), dialog.expires())
            self._discard(dialog, "new_key_dialog")

        dialog.finished.connect(finished)
        dialog.open()

    def import_clicked(self) -> None:
        path = self.ask_open_path(self, "Import a key file", KEY_FILE_FILTER)
        if path is None:
            return
        try:
            metadata = keyfile_metadata(read_key_file(path), path.name)
        except PseudodeskError as error:
            show_error(self, error, doing=f"opening {path.name}")
            return
        dialog = ImportKeyDialog(path, metadata, self,
                                 open_path=lambda parent, caption, f: self.ask_open_path(parent, caption, f))
        self.import_dialog = dialog

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                self.import_key(path, dialog.fingerprint(), passphrase=dialog.passphrase(),
                                certificate=dialog.certificate(), private_key=dialog.private_key(),
                                private_key_password=dialog.private_key_password())
            self._discard(dialog, "import_dialog")

        dialog.finished.connect(finished)
        dialog.open()

    def export_clicked(self) -> None:
        info = self.selected_key()
        if info is None:
            return
        dialog = ExportKeyDialog(info, self,
                                 open_path=lambda parent, caption, f: self.ask_open_path(parent, caption, f))
        self.export_dialog = dialog

        def finished(result: int) -> None:
            passphrase, certificates = dialog.passphrase(), dialog.certificates()
            self._discard(dialog, "export_dialog")
            if result != QDialog.DialogCode.Accepted:
                return
            suggested = Path.home() / key_file_name(info)
            path = self.ask_save_path(self, "Save the key file", suggested, KEY_FILE_FILTER)
            if path is None:
                self.status_label.setText("Not exported: no file was chosen.")
                return
            if not path.suffix:
                path = path.with_suffix(".pdkey")
            # The save dialog has already asked before replacing an existing file.
            self.export_key(info.id, path, passphrase=passphrase, certificates=certificates or None, overwrite=True)

        dialog.finished.connect(finished)
        dialog.open()

    def rotate_clicked(self) -> None:
        info = self.selected_key()
        if info is None:
            return
        dialog = RotateKeyDialog(info, self)
        self.rotate_dialog = dialog

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                self.rotate_key(info.id)
            self._discard(dialog, "rotate_dialog")

        dialog.finished.connect(finished)
        dialog.open()

    def delete_clicked(self) -> None:
        info = self.selected_key()
        if info is None:
            return
        dialog = DeleteKeyDialog(info, self)
        self.delete_dialog = dialog

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted and dialog.confirm_edit.text().strip() == info.id:
                self.delete_key(info.id)
            else:
                self.status_label.setText(f"Not deleted: {info.id} is still on this computer.")
            self._discard(dialog, "delete_dialog")

        dialog.finished.connect(finished)
        dialog.open()

    def _discard(self, dialog: QDialog, attribute: str) -> None:
        clear = getattr(dialog, "clear_secrets", None)
        if clear is not None:
            clear()
        if getattr(self, attribute) is dialog:
            setattr(self, attribute, None)
        dialog.deleteLater()


__all__ = [
    "DeleteKeyDialog",
    "ExportKeyDialog",
    "ImportKeyDialog",
    "KeyDetails",
    "KeyTableModel",
    "KeysWindow",
    "NewKeyDialog",
    "RotateKeyDialog",
    "fingerprint_is_complete",
    "keyfile_metadata",
]
