"""Packing an agreement for a partner (Tools > Pack agreement..., custodian mode only).

The dialog gathers what ``pseudodesk-cli agreement pack`` takes: the profile, how the key is
sealed (a passphrase generated now, or the partner's certificate), the first valid day and,
rarely, the package version. :func:`~pseudodesk.core.keys.agreements.pack_agreement` runs on
the job bridge; the file is written whole or not at all. The generated passphrase is shown
once, in the result box, with the custodian fingerprint to read out to the partner.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QDate, QObject
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from pseudodesk.core.files import atomic_output
from pseudodesk.core.keys.agreement_package import AGREEMENT_SUFFIX, AgreementPackage
from pseudodesk.core.keys.agreements import pack_agreement, package_lines
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.package.crypto.sevenzip import generate_passphrase
from pseudodesk.core.progress import Cancel, Progress
from pseudodesk.gui import widgets
from pseudodesk.gui.errors import show_error
from pseudodesk.gui.jobs import JobBridge
from pseudodesk.gui.keys.keyfile_dialogs import CERTIFICATE_FILTER
from pseudodesk.gui.keys.model import fingerprint_font, fit_dialog, no_auto_default, selectable, wrapped
from pseudodesk.gui.widgets import buddy_label

PROFILE_FILTER = "Agreement profiles (*.toml);;All files (*)"


class PackAgreementDialog(QDialog):
    """What to pack and how to seal it for one partner."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Pack agreement for a partner")
        self.setAccessibleName("Pack agreement")
        self.setObjectName("pack_agreement_dialog")
        layout = QVBoxLayout(self)
        layout.addWidget(
            wrapped(
                "One signed file gives a partner the agreement's profile, its recipient certificates and the "
                "project key, sealed for them. The profile must name its key and review date; the key must be "
                "on this computer. Pack once per partner.",
                "About packing",
            )
        )
        form = QFormLayout()
        self.profile_edit = QLineEdit()
        self.profile_edit.setAccessibleName("Agreement profile file")
        browse = QPushButton("&Browse…")
        browse.setAccessibleName("Choose the agreement profile")
        browse.clicked.connect(lambda: self._browse(self.profile_edit, "Agreement profile", PROFILE_FILTER))
        row = QHBoxLayout()
        row.addWidget(self.profile_edit, stretch=1)
        row.addWidget(browse)
        form.addRow(buddy_label("&Profile:", self.profile_edit), row)

        self.passphrase_radio = QRadioButton("a &passphrase made now, which you read out to the partner")
        self.certificate_radio = QRadioButton("the partner's &certificate:")
        self.passphrase_radio.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.passphrase_radio)
        group.addButton(self.certificate_radio)
        self.certificate_edit = QLineEdit()
        self.certificate_edit.setAccessibleName("The partner's certificate file")
        certificate_browse = QPushButton("B&rowse…")
        certificate_browse.setAccessibleName("Choose the partner's certificate")
        certificate_browse.clicked.connect(
            lambda: self._browse(self.certificate_edit, "The partner's certificate", CERTIFICATE_FILTER)
        )
        certificate_row = QHBoxLayout()
        certificate_row.addWidget(self.certificate_radio)
        certificate_row.addWidget(self.certificate_edit, stretch=1)
        certificate_row.addWidget(certificate_browse)
        form.addRow("Seal the key with:", self.passphrase_radio)
        form.addRow("", certificate_row)

        self.valid_from_check = QCheckBox("&Valid from:")
        self.valid_from_check.setToolTip(
            "Leave unticked for today, or for the release already packed when nothing else changed "
            "(so a second partner gets the same version)"
        )
        self.valid_from_edit = QDateEdit(QDate.currentDate())
        self.valid_from_edit.setCalendarPopup(True)
        self.valid_from_edit.setDisplayFormat("dd/MM/yyyy")
        self.valid_from_edit.setAccessibleName("First day the package may be installed")
        self.valid_from_edit.setEnabled(False)
        self.valid_from_check.toggled.connect(self.valid_from_edit.setEnabled)
        valid_row = QHBoxLayout()
        valid_row.addWidget(self.valid_from_edit)
        valid_row.addWidget(QLabel("(unticked: today, or the release already packed)"))
        valid_row.addStretch(1)
        form.addRow(self.valid_from_check, valid_row)
        self.version_spin = QSpinBox()
        self.version_spin.setRange(0, 1_000_000)
        self.version_spin.setSpecialValueText("automatic (the next, or this release again)")
        self.version_spin.setAccessibleName("Package version")
        form.addRow(buddy_label("Package v&ersion:", self.version_spin), self.version_spin)
        layout.addLayout(form)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.addButton("P&ack…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setAccessibleName("Pack")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        no_auto_default(browse, certificate_browse)
        for edit in (self.profile_edit, self.certificate_edit):
            edit.textChanged.connect(self._validate)
        self.certificate_radio.toggled.connect(self._validate)
        self._validate()
        fit_dialog(self, 110)

    def _browse(self, edit: QLineEdit, caption: str, file_filter: str) -> None:
        path = widgets.ask_open_path(self, caption, file_filter)
        if path is not None:
            edit.setText(str(path))
            if edit is self.certificate_edit:
                self.certificate_radio.setChecked(True)

    def _validate(self) -> None:
        ready = bool(self.profile_edit.text().strip())
        if self.certificate_radio.isChecked():
            ready = ready and bool(self.certificate_edit.text().strip())
        self.ok_button.setEnabled(ready)

    def profile(self) -> Path:
        return Path(self.profile_edit.text().strip())

    def certificates(self) -> list[Path]:
        text = self.certificate_edit.text().strip()
        return [Path(text)] if self.certificate_radio.isChecked() and text else []

    def valid_from(self) -> dt.date | None:
        if not self.valid_from_check.isChecked():
            return None  # today, or the last release's date when it is that release again
        value = self.valid_from_edit.date().toPython()
        assert isinstance(value, dt.date)
        return value

    def version(self) -> int | None:
        return self.version_spin.value() or None


class AgreementPacker(QObject):
    """Shows the pack dialog, asks where to save, packs on the job bridge and says what to give the partner."""

    def __init__(self, parent: QWidget, bridge: JobBridge) -> None:
        super().__init__(parent)
        self.window = parent
        self.bridge = bridge
        self.dialog: PackAgreementDialog | None = None
        self.done_box: QMessageBox | None = None

    def choose(self) -> None:
        self.dialog = PackAgreementDialog(self.window)
        self.dialog.accepted.connect(self._save_as)
        self.dialog.open()

    def _save_as(self) -> None:
        dialog = self.dialog
        assert dialog is not None
        profile = dialog.profile()
        suggested = profile.with_name(f"{profile.stem}-partner{AGREEMENT_SUFFIX}")
        out = widgets.ask_save_path(
            self.window, "Save the agreement package", suggested, f"Agreement packages (*{AGREEMENT_SUFFIX})"
        )
        if out is not None:
            self.pack(profile, out, dialog.certificates(), dialog.valid_from(), dialog.version())

    def pack(
        self, profile: Path, out: Path, certificates: list[Path], valid_from: dt.date | None, version: int | None
    ) -> None:
        """Pack ``profile`` into ``out`` (which the save dialog already allowed to be replaced)."""
        passphrase = None if certificates else generate_passphrase()

        def work(progress: Progress, cancel: Cancel) -> AgreementPackage:
            progress(0.0, "Packing the agreement")
            data, package = pack_agreement(
                KeyStore(),
                profile,
                passphrase=passphrase,
                partner_certificates=certificates,
                valid_from=valid_from,
                version=version,
            )
            with atomic_output(out, overwrite=True) as f:  # whole or not at all
                f.write(data)
            return package

        self.bridge.start(
            "Packing the agreement",
            work,
            on_done=lambda package: self._packed(out, package, passphrase),
            on_error=lambda error: self._failed(error, f"packing {profile.name}"),
        )

    def _failed(self, error: BaseException, doing: str) -> None:
        show_error(self.window, error, doing=doing)

    def _packed(self, out: Path, package: AgreementPackage, passphrase: str | None) -> None:
        box = QMessageBox(self.window)
        box.setObjectName("agreement_packed_dialog")
        box.setIcon(QMessageBox.Icon.Information)
        box.setWindowTitle("Agreement packed")
        send = (
            "Send the partner the file. Then ring them and read out the passphrase and the fingerprint "
            "below; never send the passphrase with the file."
            if passphrase
            else "Send the partner the file (only their certificate's private key opens it). Then ring them "
            "and read out the fingerprint below."
        )
        box.setText(f"Wrote {out.name} in {out.parent}.\n\n{send}")
        details = "\n".join(package_lines(package))
        box.setDetailedText(details)
        box.setInformativeText(
            (f"Passphrase (shown once): {passphrase}\n" if passphrase else "")
            + f"Custodian fingerprint: {package.custodian_fingerprint}"
        )
        box.addButton(QMessageBox.StandardButton.Ok)
        label = box.findChild(QLabel, "qt_msgbox_informativelabel")
        if label is not None:  # the passphrase and fingerprint: fixed width, selectable to copy
            label.setFont(fingerprint_font(12))
            selectable(label, keyboard=True)
        self.done_box = box
        box.open()
