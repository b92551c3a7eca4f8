"""Installing an agreement package (File > Install agreement..., or a ``.pdagreement`` opened
with pseudodesk): the partner's whole set-up, in one dialog.

The package is verified (signature and structure) before the dialog opens. The dialog shows
what it holds and asks for the custodian's fingerprint **as read out by phone**; it says
whether what was typed matches the custodian who signed the file, and never shows the
expected value. Installing runs :func:`~pseudodesk.core.keys.agreements.install_agreement`
on the job bridge; a refusal changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from pseudodesk.core.fingerprint import normalise_fingerprint
from pseudodesk.core.keys.agreement_package import AGREEMENT_SUFFIX, AgreementPackage
from pseudodesk.core.keys.agreements import (
    InstalledAgreement,
    install_agreement,
    installed_agreements,
    package_recipients,
    read_agreement_file,
)
from pseudodesk.core.keys.overview import fingerprint_is_complete
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.policy import machine_policy
from pseudodesk.core.progress import Cancel, Progress
from pseudodesk.gui import widgets
from pseudodesk.gui.errors import show_error
from pseudodesk.gui.jobs import JobBridge
from pseudodesk.gui.keys.keyfile_dialogs import ImportKeyDialog
from pseudodesk.gui.keys.model import fit_dialog, wide_enough

PACKAGE_FILTER = f"Agreement packages (*{AGREEMENT_SUFFIX});;All files (*)"
CUSTODIAN_GROUPS = 5  # an installation's fingerprint: XXXX-XXXX-XXXX-XXXX-XXXX


def package_summary(path: Path, package: AgreementPackage) -> str:
    """What the install dialog says about a verified package (names, dates, never a secret)."""
    recipients = "; ".join(package_recipients(package)) or "a passphrase-protected 7z file"
    salt = " and an OpenPseudonymiser salt" if package.salt_id else ""
    return (
        f"<b>{package.agreement}</b>, version {package.version}<br>"
        f"Valid from {package.valid_from:%d/%m/%Y} to the review date {package.review_date:%d/%m/%Y}<br>"
        f"Exports go to: {recipients}<br>"
        f"Holds the project key {package.key_id}{salt}, sealed for you<br>"
        f"{path.name} is intact and signed; the fingerprint below shows whose signature it is."
    )


class InstallAgreementDialog(ImportKeyDialog):
    """The key file dialog's fields (fingerprint, passphrase or certificate), for a whole agreement."""

    groups = CUSTODIAN_GROUPS

    def __init__(self, path: Path, package: AgreementPackage, parent: QWidget | None = None, **kwargs: Any) -> None:
        self.package = package
        super().__init__(path, {"protection": package.protection}, parent, **kwargs)
        self.setWindowTitle(f"Install agreement: {package.agreement}")
        self.setAccessibleName("Install agreement")
        self.setObjectName("install_agreement_dialog")
        self.summary_label.setText(package_summary(path, package))
        self.summary_label.setAccessibleName("What the package holds")
        self.fingerprint_edit.setPlaceholderText("XXXX-XXXX-XXXX-XXXX-XXXX")
        self.fingerprint_edit.setAccessibleName("Custodian fingerprint read out by phone")
        self.fingerprint_help.setText(
            "Ring your key custodian (or IG lead) on a number you already know and type the fingerprint "
            "they read out, not one sent with the file: that is what shows the package is theirs."
        )
        self.match_label = widgets.buddy_label("", self.fingerprint_edit)
        self.match_label.setWordWrap(True)
        self.match_label.setAccessibleName("Whether the fingerprint matches")
        self.match_label.setMinimumHeight(self.match_label.fontMetrics().lineSpacing() * 3)  # room for the warning
        wide_enough(self.fingerprint_edit, "XXXX XXXX XXXX XXXX XXXX")
        self.layout().insertWidget(self.layout().count() - 1, self.match_label)  # type: ignore[union-attr]
        self.ok_button.setText("&Install")
        self.ok_button.setAccessibleName("Install")
        self._validate()
        fit_dialog(self, 96)

    def matches(self) -> bool:
        return normalise_fingerprint(self.fingerprint_edit.text()) == self.package.custodian_fingerprint

    def _validate(self) -> None:
        super()._validate()
        if not hasattr(self, "match_label"):
            return  # still being built
        complete = fingerprint_is_complete(self.fingerprint_edit.text(), self.groups)
        if not complete:
            self.match_label.setText("")
        elif self.matches():
            self.match_label.setText("\u2713 This matches the custodian who signed the package.")
            self.match_label.setStyleSheet("color:#1b5e20;")
        else:
            self.match_label.setText(
                "\u2717 This is not the fingerprint of whoever signed this package. Check what you typed; "
                "if it is right, do not install the package: ring the custodian back on a number you know."
            )
            self.match_label.setStyleSheet("color:#b71c1c;")
        self.ok_button.setEnabled(self.ok_button.isEnabled() and self.matches())


class AgreementInstaller(QObject):
    """Asks for a package file, verifies it, shows the dialog and installs it on the job bridge."""

    installed = Signal(object)  # InstalledAgreement

    def __init__(self, parent: QWidget, bridge: JobBridge) -> None:
        super().__init__(parent)
        self.window = parent
        self.bridge = bridge
        self.dialog: InstallAgreementDialog | None = None
        self.done_box: QMessageBox | None = None

    def choose(self) -> None:
        start = machine_policy().folder("agreements_folder") or ""  # where IT puts the packages, if it says
        path = widgets.ask_open_path(self.window, "Install agreement package", PACKAGE_FILTER, start)
        if path is not None:
            self.open(path)

    def open(self, path: Path) -> None:
        """Verify ``path`` and, if it is sound, ask to install it."""
        try:
            _, package = read_agreement_file(path)
        except Exception as error:  # noqa: BLE001 (shown as a message; unexpected ones are logged)
            show_error(self.window, error, doing=f"opening the agreement package {Path(path).name}")
            return
        self.dialog = InstallAgreementDialog(path, package, self.window)
        self.dialog.accepted.connect(lambda: self._install(path, package))
        self.dialog.open()

    def _install(self, path: Path, package: AgreementPackage) -> None:
        dialog = self.dialog
        assert dialog is not None
        fingerprint, opening = dialog.fingerprint(), dialog.opening()
        dialog.clear_secrets()
        if self.bridge.busy:
            self.done_box = QMessageBox(
                QMessageBox.Icon.Information,
                "Busy",
                f"pseudodesk is still busy ({self.bridge.description}). Install the agreement again when it "
                "has finished; nothing was installed.",
                QMessageBox.StandardButton.Ok,
                self.window,
            )
            self.done_box.open()
            return

        def work(progress: Progress, cancel: Cancel) -> tuple[InstalledAgreement, int | None]:
            progress(0.0, f"Installing {package.agreement}")
            store = KeyStore()
            before = {a.name: a.version for a in installed_agreements(store)}.get(package.agreement)
            return install_agreement(
                store,
                package,
                confirm_fingerprint=fingerprint,
                source=path.name,
                **opening,
            ), before

        self.bridge.start(
            f"Installing {package.agreement}",
            work,
            on_done=self._installed,
            on_error=lambda error: self._failed(error, f"installing {path.name}"),
        )

    def _failed(self, error: BaseException, doing: str) -> None:
        show_error(self.window, error, doing=doing)

    def _installed(self, outcome: tuple[InstalledAgreement, int | None]) -> None:
        agreement, before = outcome
        if before is None:
            replaced = ""
        elif before == agreement.version:
            replaced = " It was installed already: what was missing or changed has been restored."
        else:
            rotated = (
                ", and its new key replaces the old one (kept for re-identification)" if agreement.replaced_key else ""
            )
            replaced = f" It replaces version {before}{rotated}."
        self.done_box = QMessageBox(
            QMessageBox.Icon.Information,
            "Agreement installed",
            f"'{agreement.name}' version {agreement.version} is installed, with its key, and chosen at the "
            f"Map step.{replaced} Load your spreadsheet and export as usual: the export will be recorded "
            "as made under this approved agreement.",
            QMessageBox.StandardButton.Ok,
            self.window,
        )
        self.done_box.setObjectName("agreement_installed_dialog")
        self.done_box.open()
        self.installed.emit(agreement)
