"""The Keys window's dialogs for key files: what opens a ``.pdkey`` file being imported, and how
one being exported is protected. Each gathers the plain values of one operation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from pseudodesk.core.fingerprint import normalise_fingerprint
from pseudodesk.core.keys.info import KeyInfo
from pseudodesk.core.keys.overview import MIN_PASSPHRASE, fingerprint_is_complete
from pseudodesk.core.package.crypto.sevenzip import generate_passphrase
from pseudodesk.gui import widgets
from pseudodesk.gui.keys.model import fingerprint_font, fit_dialog, no_auto_default, selectable, wide_enough, wrapped
from pseudodesk.gui.widgets import OpenPath, buddy_label

KEY_FILE_FILTER = "pseudodesk key files (*.pdkey);;All files (*)"
CERTIFICATE_FILTER = "Certificates (*.crt *.cer *.pem *.der);;All files (*)"
PRIVATE_KEY_FILTER = "Private keys (*.pem *.key);;All files (*)"


class ImportKeyDialog(QDialog):
    """Asks for the fingerprint the custodian read out, and what opens the file."""

    groups = 4  # of four characters in the fingerprint asked for: a key's

    def __init__(
        self, path: Path, metadata: dict[str, Any], parent: QWidget | None = None, *, open_path: OpenPath | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Import {path.name}")
        self.setAccessibleName("Import key file")
        self.path = path
        self.protection = str(metadata.get("protection"))
        # An OpenPseudonymiser salt's fingerprint has five groups (four in files made before
        # salt fingerprints were slow to test; those are accepted too)
        self.legacy_groups = 4 if metadata.get("kind") == "op-salt" else None
        if self.legacy_groups:
            self.groups = 5
        self._open_path = open_path if open_path is not None else widgets.ask_open_path
        layout = QVBoxLayout(self)

        agreement = f" for the agreement '{metadata['agreement']}'" if metadata.get("agreement") else ""
        self.summary_label = selectable(
            wrapped(
                f"{path.name} says it holds the key '{metadata.get('name', '')}' ({metadata.get('key_id', '')})"
                f"{agreement}. These details are checked when the file is opened.",
                "About the file",
            )
        )
        layout.addWidget(self.summary_label)

        form = QFormLayout()
        self.fingerprint_edit = QLineEdit()
        self.fingerprint_edit.setFont(fingerprint_font(14))
        self.fingerprint_edit.setPlaceholderText("-".join(["XXXX"] * self.groups))
        wide_enough(self.fingerprint_edit, "-".join(["XXXX"] * self.groups))
        self.fingerprint_edit.setAccessibleName("Fingerprint read out by the key custodian")
        self.fingerprint_edit.setAccessibleDescription(
            "Type the fingerprint as the custodian reads it out over the phone"
        )
        form.addRow(
            buddy_label("&Fingerprint read out by the custodian:", self.fingerprint_edit), self.fingerprint_edit
        )
        self.fingerprint_help = wrapped(
            "Type it as the key custodian reads it out over the phone, not from a message sent with the "
            "file: that is what shows the file is the custodian's and has not been swapped.",
            "Why the fingerprint is asked for",
        )
        form.addRow(self.fingerprint_help)

        self.passphrase_edit = QLineEdit()
        self.passphrase_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase_edit.setAccessibleName("Passphrase of the key file")
        self.show_passphrase_check = QCheckBox("S&how")
        self.show_passphrase_check.setAccessibleName("Show the passphrase")
        self.show_passphrase_check.toggled.connect(
            lambda shown: self.passphrase_edit.setEchoMode(
                QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
            )
        )
        passphrase_row = QHBoxLayout()
        passphrase_row.addWidget(self.passphrase_edit, stretch=1)
        passphrase_row.addWidget(self.show_passphrase_check)

        self.certificate_edit = QLineEdit()
        self.certificate_edit.setAccessibleName("Your certificate file")
        self.certificate_button = QPushButton("&Browse…")
        self.certificate_button.setAccessibleName("Choose your certificate file")
        self.certificate_button.clicked.connect(
            lambda: self._browse(self.certificate_edit, "Your certificate", CERTIFICATE_FILTER)
        )
        certificate_row = QHBoxLayout()
        certificate_row.addWidget(self.certificate_edit, stretch=1)
        certificate_row.addWidget(self.certificate_button)
        self.private_key_edit = QLineEdit()
        self.private_key_edit.setAccessibleName("Your private key file")
        self.private_key_button = QPushButton("B&rowse…")
        self.private_key_button.setAccessibleName("Choose your private key file")
        self.private_key_button.clicked.connect(
            lambda: self._browse(self.private_key_edit, "Your certificate's private key", PRIVATE_KEY_FILTER)
        )
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
            form.addRow(
                wrapped(
                    "This file is wrapped to partners' certificates: give yours and its private key.",
                    "About certificate-wrapped files",
                )
            )
            form.addRow(buddy_label("Your &certificate:", self.certificate_edit), certificate_row)
            form.addRow(buddy_label("Its private &key:", self.private_key_edit), private_key_row)
            form.addRow(
                buddy_label("Private key pass&word:", self.private_key_password_edit), self.private_key_password_edit
            )
        layout.addLayout(form)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.addButton("&Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setAccessibleName("Import")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        no_auto_default(self.certificate_button, self.private_key_button)
        for edit in (self.fingerprint_edit, self.passphrase_edit, self.certificate_edit, self.private_key_edit):
            edit.textChanged.connect(self._validate)
        self._validate()
        fit_dialog(self, 80)

    def _browse(self, edit: QLineEdit, caption: str, file_filter: str) -> None:
        path = self._open_path(self, caption, file_filter)
        if path is not None:
            edit.setText(str(path))

    def _validate(self) -> None:
        if self.protection == "passphrase":
            opened = bool(self.passphrase_edit.text())
        else:
            opened = bool(self.certificate_edit.text().strip()) and bool(self.private_key_edit.text().strip())
        typed = self.fingerprint_edit.text()
        complete = fingerprint_is_complete(typed, self.groups) or bool(
            self.legacy_groups and fingerprint_is_complete(typed, self.legacy_groups)
        )
        self.ok_button.setEnabled(opened and complete)

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

    def opening(self) -> dict[str, Any]:
        """What opens the sealed file, as the keyword arguments ``import_file`` and
        ``install_agreement`` take (passphrase, or certificate and private key)."""
        return {
            "passphrase": self.passphrase(),
            "certificate": self.certificate(),
            "private_key": self.private_key(),
            "private_key_password": self.private_key_password(),
        }

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
            intro += (
                f" This key is retired (replaced by {info.replaced_by}): export it only so old "
                "pseudonyms can be re-identified; new exports use the new key."
            )
        self.intro_label = wrapped(intro, "What will be exported")
        layout.addWidget(self.intro_label)
        fingerprint_row = QHBoxLayout()
        fingerprint_caption = QLabel("Fingerprint to read out to the partner:")
        self.fingerprint_label = selectable(QLabel(info.fingerprint))
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
        wide_enough(self.passphrase_edit, "XXXX-XXXX-XXXX-XXXX-XXXX-XXXX")
        self.passphrase_edit.setAccessibleName("Passphrase for the key file")
        self.passphrase_edit.setAccessibleDescription(
            f"A generated passphrase; you may type your own of at least {MIN_PASSPHRASE} characters"
        )
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
        self.passphrase_warning = wrapped(
            "Send this passphrase to the partner by a different route from the key file (for example read it "
            "out over the phone, never in the same email). pseudodesk does not keep it: note it now.",
            "Warning about the passphrase",
        )
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
        no_auto_default(
            self.generate_button,
            self.copy_passphrase_button,
            self.add_certificate_button,
            self.remove_certificate_button,
        )

        self.passphrase_radio.toggled.connect(self._protection_changed)
        self.passphrase_edit.textChanged.connect(self._validate)
        self.certificate_list.model().rowsInserted.connect(self._validate)
        self.certificate_list.model().rowsRemoved.connect(self._validate)
        self.generate_passphrase()
        self._protection_changed(True)
        fit_dialog(self, 85)

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
