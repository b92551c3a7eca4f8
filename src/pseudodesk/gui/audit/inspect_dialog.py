"""Inspecting an exported package: which package (and, optionally, how to decrypt it), and the
outcome of :func:`~pseudodesk.core.package.manifest.inspect_package`'s checks. The Audit window
runs the inspection; this dialog gathers its inputs and shows its result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pseudodesk.core.package.inspection import Inspection, describe_manifest
from pseudodesk.gui import widgets

PACKAGE_FILTER = "pseudodesk packages (*.csv.p7m *.7z *.manifest.json);;All files (*)"
INSPECT_DIALOG_CHARS = 120  # the inspect dialog's initial width, in average characters


class InspectDialog(QDialog):
    """Which package to inspect (and, optionally, how to decrypt it), and the checks' outcome."""

    inspect_requested = Signal()  # the user asked to inspect what the fields say

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Inspect a package")
        self.setObjectName("inspect_dialog")

        self.package_edit = QLineEdit()
        self.package_edit.setAccessibleName("Package file")
        self.package_edit.setPlaceholderText("the .csv.p7m or .7z file, or its .manifest.json")
        self.package_button = QPushButton("Choose &file\u2026")
        self.package_button.setAccessibleName("Choose the package file")
        self.signer_edit = QLineEdit()
        self.signer_edit.setAccessibleName("Sender's installation key fingerprint (optional)")
        self.signer_edit.setPlaceholderText("optional: the fingerprint the sender gave you, to pin it")
        self.certificate_edit = QLineEdit()
        self.certificate_edit.setAccessibleName("Recipient certificate (optional, for .csv.p7m)")
        self.certificate_edit.setPlaceholderText("optional, for .csv.p7m")
        self.certificate_button = QPushButton("Choose c&ertificate\u2026")
        self.certificate_button.setAccessibleName("Choose the recipient certificate")
        self.private_key_edit = QLineEdit()
        self.private_key_edit.setAccessibleName("Certificate's private key (optional, for .csv.p7m)")
        self.private_key_edit.setPlaceholderText("optional, PEM, for .csv.p7m")
        self.private_key_button = QPushButton("Choose private-key fi&le\u2026")
        self.private_key_button.setAccessibleName("Choose the private key file")
        self.passphrase_edit = QLineEdit()
        self.passphrase_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase_edit.setAccessibleName("Package passphrase (optional, for .7z)")
        self.passphrase_edit.setPlaceholderText("optional, for .7z")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        rows: list[tuple[str, QLineEdit, QPushButton | None]] = [
            ("&Package:", self.package_edit, self.package_button),
            ("Sender's installation &key:", self.signer_edit, None),
            ("&Certificate:", self.certificate_edit, self.certificate_button),
            ("Private ke&y:", self.private_key_edit, self.private_key_button),
            ("Pa&ssphrase:", self.passphrase_edit, None),
        ]
        for text, edit, button in rows:
            label = QLabel(text)
            label.setBuddy(edit)
            if button is None:
                form.addRow(label, edit)
            else:
                line = QHBoxLayout()
                line.addWidget(edit, 1)
                line.addWidget(button)
                form.addRow(label, line)

        hint = QLabel(
            "Without a certificate and private key (.csv.p7m) or the passphrase (.7z), inspection checks "
            "the manifest's signature and the encrypted file's SHA-256. With them it also decrypts the "
            "package in memory and checks its content; nothing decrypted is kept or written."
        )
        hint.setWordWrap(True)
        self.inspect_button = QPushButton("&Inspect")
        self.inspect_button.setAccessibleName("Inspect the package")
        self.inspect_button.setDefault(True)

        self.status_label = QLabel("Choose a package to inspect.")
        self.status_label.setObjectName("inspection_status")
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName("Inspection result")
        self.manifest_label = QLabel("")
        self.manifest_label.setTextFormat(Qt.TextFormat.PlainText)
        self.manifest_label.setWordWrap(True)
        self.manifest_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.manifest_label.setAccessibleName("What the manifest describes")
        self.checks_view = QTableWidget(0, 3)
        self.checks_view.setHorizontalHeaderLabels(["Result", "Check", "Detail"])
        self.checks_view.setWordWrap(True)
        self.checks_view.setAlternatingRowColors(True)
        self.checks_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.checks_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.checks_view.verticalHeader().setVisible(False)
        self.checks_view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.checks_view.setAccessibleName("Inspection checks")
        header = self.checks_view.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setAccessibleName("Close")
        buttons.rejected.connect(self.reject)
        buttons.addButton(self.inspect_button, QDialogButtonBox.ButtonRole.ActionRole)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.status_label)
        layout.addWidget(self.manifest_label)
        layout.addWidget(self.checks_view, 1)
        layout.addWidget(buttons)

        self.setTabOrder(self.package_edit, self.package_button)
        self.setTabOrder(self.package_button, self.signer_edit)
        self.setTabOrder(self.signer_edit, self.certificate_edit)
        self.setTabOrder(self.certificate_edit, self.certificate_button)
        self.setTabOrder(self.certificate_button, self.private_key_edit)
        self.setTabOrder(self.private_key_edit, self.private_key_button)
        self.setTabOrder(self.private_key_button, self.passphrase_edit)
        self.setTabOrder(self.passphrase_edit, self.inspect_button)
        self.setTabOrder(self.inspect_button, self.checks_view)
        self.setTabOrder(self.checks_view, self.close_button)

        self.package_button.clicked.connect(self._choose_package)
        self.certificate_button.clicked.connect(self._choose_certificate)
        self.private_key_button.clicked.connect(self._choose_private_key)
        self.inspect_button.clicked.connect(self.inspect_requested)
        size = self.sizeHint()
        self.resize(max(size.width(), self.fontMetrics().averageCharWidth() * INSPECT_DIALOG_CHARS), size.height())

    # --- inputs --------------------------------------------------------------------------

    def set_inputs(
        self,
        package: Path,
        pinned_fingerprint: str | None,
        certificate: Path | None,
        private_key: Path | None,
        passphrase: str | None,
    ) -> None:
        self.package_edit.setText(str(package))
        self.signer_edit.setText(pinned_fingerprint or "")
        self.certificate_edit.setText(str(certificate) if certificate else "")
        self.private_key_edit.setText(str(private_key) if private_key else "")
        self.passphrase_edit.setText(passphrase or "")

    def inputs(self) -> dict[str, Any]:
        """The fields as :meth:`AuditWindow.inspect` takes them (empty optional fields are None)."""

        def path(edit: QLineEdit) -> Path | None:
            return Path(edit.text().strip()) if edit.text().strip() else None

        return {
            "path": path(self.package_edit),
            "pinned_fingerprint": self.signer_edit.text().strip() or None,
            "certificate": path(self.certificate_edit),
            "private_key": path(self.private_key_edit),
            "passphrase": self.passphrase_edit.text() or None,
        }

    def _choose(self, edit: QLineEdit, title: str, filters: str) -> None:
        start = edit.text() or QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        path = widgets.ask_open_path(self, title, filters, start)
        if path is not None:
            edit.setText(path.as_posix())  # as the file dialog names it: forward slashes on Windows too

    def _choose_package(self) -> None:
        self._choose(self.package_edit, "Choose a package to inspect", PACKAGE_FILTER)

    def _choose_certificate(self) -> None:
        self._choose(
            self.certificate_edit, "Choose your certificate", "Certificates (*.crt *.cer *.pem);;All files (*)"
        )

    def _choose_private_key(self) -> None:
        self._choose(
            self.private_key_edit, "Choose the certificate's private key", "PEM files (*.pem *.key);;All files (*)"
        )

    # --- outcome -------------------------------------------------------------------------

    def show_running(self, package: Path) -> None:
        self.status_label.setText(f"Inspecting {package.name}\u2026")
        self.manifest_label.setText("")
        self.status_label.setStyleSheet("")
        self.checks_view.setRowCount(0)

    def show_failure(self, package: Path) -> None:
        self.status_label.setText(f"{package.name} could not be inspected.")

    def show_inspection(self, inspection: Inspection) -> None:
        self.checks_view.setRowCount(len(inspection.checks))
        for row, check in enumerate(inspection.checks):
            result = "\u2713 passed" if check.ok else "\u2717 FAILED"
            for column, text in enumerate((result, check.name, check.detail)):
                item = QTableWidgetItem(text)
                item.setToolTip(check.detail)
                if column == 0:
                    item.setForeground(QBrush(QColor("#1b5e20" if check.ok else "#b71c1c")))
                self.checks_view.setItem(row, column, item)
        verdict = (
            "\u2713 Package verified: every check passed."
            if inspection.ok
            else f"\u2717 Package NOT verified: {sum(not c.ok for c in inspection.checks)} check(s) failed."
        )
        self.status_label.setText(f"{inspection.encrypted.name}: {verdict}")
        self.status_label.setStyleSheet("color:#1b5e20;" if inspection.ok else "color:#b71c1c;")
        self.manifest_label.setText(describe_manifest(inspection.manifest))
