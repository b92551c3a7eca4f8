"""The Audit window itself (see :mod:`pseudodesk.gui.audit` for what it does)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, QStandardPaths, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QMainWindow,
    QWidget,
)

from pseudodesk.core.audit.listing import (
    AGREEMENT,
    EVENT,
    OPERATOR,
    SEQ,
    TIME,
    AuditSelection,
    Entry,
    LoadedLog,
    listing_to_html,
    read_and_verify,
    verification_banner,
    verification_details,
)
from pseudodesk.core.audit.log import AuditError, AuditVerification
from pseudodesk.core.errors import PseudodeskError
from pseudodesk.core.keys.installation import AuditTrail, check_recorded_head
from pseudodesk.core.keys.signers import known_signers
from pseudodesk.core.package.inspection import Inspection, inspect_package
from pseudodesk.gui import widgets
from pseudodesk.gui.audit.inspect_dialog import PACKAGE_FILTER, InspectDialog
from pseudodesk.gui.audit.layout import AuditLayout
from pseudodesk.gui.audit.report import REPORT_TITLE, print_report, write_csv, write_pdf
from pseudodesk.gui.errors import show_error
from pseudodesk.gui.jobs import QueuedJobs

if TYPE_CHECKING:
    from pseudodesk.core.keys.store import KeyStore
    from pseudodesk.gui.jobs import Cancel, JobBridge, Progress

_BANNER_STYLES = {
    "ok": "background:#e8f5e9; color:#1b5e20; border:1px solid #2e7d32;",
    "bad": "background:#fdecea; color:#8e1b1b; border:1px solid #c62828;",
    "unknown": "background:#fff8e1; color:#5d4300; border:1px solid #b28704;",
    "none": "background:#f0f0f0; color:#222222; border:1px solid #9e9e9e;",
}


class AuditWindow(AuditLayout, QMainWindow):
    """The audit log as a filterable table, its verification, package inspection and the printable report."""

    entries_changed = Signal(int)  # the log was (re)read or grew: number of entries listed
    selection_changed = Signal(object)  # the filter changed: the new AuditSelection
    verification_changed = Signal(object)  # the log's verification changed: AuditVerification, or None
    inspection_changed = Signal(object)  # a package was inspected: its Inspection (without plaintext)

    def __init__(self, store: KeyStore, bridge: JobBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.bridge = bridge
        self.trail = AuditTrail(store)
        self.log_path = self.trail.path
        self.loaded: LoadedLog | None = None
        self.last_inspection: Inspection | None = None
        self._inspect_dialog: InspectDialog | None = None
        self._jobs = QueuedJobs(self, bridge)
        self.setWindowTitle("Audit log")
        self.setObjectName("audit_window")
        self._build()
        self._connect()
        self._set_busy(self.bridge.busy)
        self._show_verification(None, "Reading the audit log\u2026", "none")
        self.refresh()

    def _connect(self) -> None:
        self.refresh_button.clicked.connect(self._refresh_clicked)
        self.verify_button.clicked.connect(self._verify_clicked)
        self.pinned_verify_button.clicked.connect(self._pinned_verify_clicked)
        self.inspect_button.clicked.connect(self._inspect_clicked)
        self.csv_button.clicked.connect(self._csv_clicked)
        self.pdf_button.clicked.connect(self._pdf_clicked)
        self.print_button.clicked.connect(self._print_clicked)
        self.clear_filters_button.clicked.connect(self.clear_filters)
        self.search_edit.textChanged.connect(self._apply_filters)
        for combo in (self.event_combo, self.agreement_combo, self.operator_combo):
            combo.currentIndexChanged.connect(self._apply_filters)
        for check, edit in ((self.from_check, self.from_date), (self.to_check, self.to_date)):
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self._apply_filters)
            edit.dateChanged.connect(self._apply_filters)
        self.table.selectionModel().selectionChanged.connect(self._show_selected)
        self.bridge.busy_changed.connect(self._set_busy)
        self.bridge.progress_changed.connect(self._show_progress)

    # --- state ---------------------------------------------------------------------------

    @property
    def verification(self) -> AuditVerification | None:
        """The last verification of the log, or None if it has not been (or cannot be) verified."""
        return self.loaded.verification if self.loaded else None

    @property
    def busy(self) -> bool:
        """Whether a job of this window runs or waits for the bridge."""
        return self._jobs.busy

    @property
    def selection(self) -> AuditSelection:
        return self.proxy.selection

    def selected_entries(self) -> list[Entry]:
        """The entries the filter shows, in log order: what the report, the PDF and the CSV list."""
        selection = self.selection
        return [entry for entry in self.model.entries if selection.accepts(entry)]

    # --- jobs ----------------------------------------------------------------------------

    def _set_busy(self, busy: bool) -> None:
        for button in (self.refresh_button, self.verify_button, self.pinned_verify_button, self.inspect_button):
            button.setEnabled(not busy)
        if self._inspect_dialog is not None:
            self._inspect_dialog.inspect_button.setEnabled(not busy)
        if not busy:
            self.statusBar().clearMessage()
            self._jobs.bridge_free()

    def _show_progress(self, fraction: float, message: str) -> None:
        self.statusBar().showMessage(f"{message}\u2026" if fraction < 1.0 else message)

    # --- reading and verifying -----------------------------------------------------------

    def _read(self, public_key_file: Path | None) -> Callable[[Progress, Cancel], LoadedLog]:
        """Read and verify the log, and (for this computer's own log) check it against the count of
        entries kept in the key store, which shows entries cut from its end."""
        log, store = self.log_path, self.store

        def work(progress: Progress, cancel: Cancel) -> LoadedLog:
            loaded = read_and_verify(log, public_key_file, progress, cancel)
            if loaded.verification is not None and public_key_file is None and log.parent == store.directory:
                check_recorded_head(store, loaded.verification)
            return loaded

        return work

    def refresh(self) -> None:
        """Read the log again and verify it (in the background); nothing is recorded."""
        self._jobs.start(
            "reading the audit log",
            self._read(None),
            self._loaded,
            self._load_failed,
        )

    def verify(self, public_key_file: Path | None = None) -> None:
        """Verify the log (against ``public_key_file``, an installation-key.json kept earlier, if given)
        and record the verification in the log, as ``pseudodesk-cli audit verify`` does."""
        self._jobs.start(
            "verifying the audit log",
            self._read(public_key_file),
            self._verified,
            self._load_failed,
        )

    def _loaded(self, loaded: LoadedLog) -> None:
        self.loaded = loaded
        self.model.set_entries(loaded.entries, loaded.lines, loaded.verification)
        self._fill_filter_choices()
        self._apply_filters()
        self._fit_columns()
        self._show_verification(loaded.verification, *verification_banner(loaded))
        has_report = loaded.verification is not None
        for button in (self.csv_button, self.pdf_button, self.print_button):
            button.setEnabled(has_report)
        self.entries_changed.emit(self.model.rowCount())

    def _fit_columns(self) -> None:
        self.table.resizeColumnsToContents()
        limit = self.fontMetrics().averageCharWidth() * 40
        for column in (SEQ, TIME, OPERATOR, EVENT, AGREEMENT):
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), limit))

    def _verified(self, loaded: LoadedLog) -> None:
        self._loaded(loaded)
        verification = loaded.verification
        if verification is None:
            if loaded.exists:
                show_error(self, AuditError(loaded.note), doing="verifying the audit log")
            return
        try:
            entry = self.trail.record("audit.verified", verification_details(verification))
        except PseudodeskError as error:
            show_error(self, error, doing="recording the verification in the audit log")
            return
        self.model.append_entry(entry)
        self._fill_filter_choices()
        self._apply_filters()
        self._fit_columns()
        self.entries_changed.emit(self.model.rowCount())
        self.statusBar().showMessage(f"Verification recorded as entry {entry['seq']}.", 10000)

    def _load_failed(self, error: BaseException) -> None:
        self._show_verification(
            self.verification, "The audit log could not be read or verified: see the message.", "unknown"
        )
        show_error(self, error, doing="reading and verifying the audit log")

    def _show_verification(self, verification: AuditVerification | None, text: str, state: str) -> None:
        self.banner.setText(text)
        self.banner.setAccessibleDescription(text)
        self.banner.setProperty("state", state)
        self.banner.setStyleSheet(f"QLabel#verification_banner {{ {_BANNER_STYLES[state]} padding:0.5em; }}")
        self.verification_changed.emit(verification)

    # --- filters -------------------------------------------------------------------------

    def _fill_filter_choices(self) -> None:
        self.filters.offer(self.model.entries)

    def _apply_filters(self) -> None:
        selection = self.filters.selection()
        changed = selection != self.proxy.selection
        self.proxy.set_selection(selection)
        total = self.model.rowCount()
        shown = self.proxy.rowCount()
        self.count_label.setText(f"Showing {shown:,} of {total:,} entries" if shown != total else f"{total:,} entries")
        if changed:
            self.selection_changed.emit(selection)

    def clear_filters(self) -> None:
        self.filters.reset()
        self._fill_filter_choices()
        self._apply_filters()

    def _show_selected(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.details_view.clear()
            return
        entry = self.model.entry(self.proxy.mapToSource(rows[0]).row())
        self.details_view.setPlainText(json.dumps(entry, indent=2, ensure_ascii=False, sort_keys=True))

    # --- inspecting ----------------------------------------------------------------------

    @property
    def inspect_dialog(self) -> InspectDialog:
        if self._inspect_dialog is None:
            self._inspect_dialog = InspectDialog(self)
            self._inspect_dialog.inspect_requested.connect(self._inspect_from_dialog)
            self._inspect_dialog.inspect_button.setEnabled(not self.bridge.busy)
        return self._inspect_dialog

    def inspect(
        self,
        path: Path,
        *,
        pinned_fingerprint: str | None = None,
        certificate: Path | None = None,
        private_key: Path | None = None,
        passphrase: str | None = None,
    ) -> None:
        """Inspect an exported package (the encrypted file or its manifest) with
        :func:`~pseudodesk.core.package.manifest.inspect_package`, in the background, and show its checks."""
        path = Path(path)
        dialog = self.inspect_dialog
        dialog.set_inputs(path, pinned_fingerprint, certificate, private_key, passphrase)
        dialog.show_running(path)
        dialog.show()
        dialog.raise_()

        def work(progress: Progress, cancel: Cancel) -> Inspection:
            progress(0.0, f"Inspecting {path.name}")
            # Without a pinned key, the installations this one vouches for decide (itself and
            # the partners added with 'pseudodesk-cli signers add').
            known = None if pinned_fingerprint else known_signers(self.store)
            result = inspect_package(
                path,
                pinned_fingerprint=pinned_fingerprint,
                known_signers=known,
                certificate=certificate,
                private_key=private_key,
                passphrase=passphrase,
                progress=progress,
                cancel=cancel,
            )
            progress(1.0, f"Inspected {path.name}")
            return result

        def failed(error: BaseException) -> None:
            dialog.show_failure(path)
            show_error(dialog, error, doing=f"inspecting {path.name}")

        self._jobs.start(f"inspecting {path.name}", work, self._inspected, failed)

    def _inspected(self, inspection: Inspection) -> None:
        self.last_inspection = inspection
        self.inspect_dialog.show_inspection(inspection)
        self.inspection_changed.emit(inspection)

    def _inspect_from_dialog(self) -> None:
        inputs = self.inspect_dialog.inputs()
        path = inputs.pop("path")
        if path is None:
            self.inspect_dialog.status_label.setText("Choose the package (or its manifest) first.")
            return
        self.inspect(path, **inputs)

    # --- the report ----------------------------------------------------------------------

    def report_html(self) -> str:
        """The printable report of what is shown, with the log's verification status at the top."""
        verification = self.verification
        if verification is None:
            note = self.loaded.note if self.loaded else "The log has not been read yet."
            raise AuditError(f"The report needs the log's verification status. {note}")
        return listing_to_html(self.selected_entries(), verification, self.selection)

    def print_to(self, printer: QPrinter) -> None:
        """Render the report on ``printer`` (a real printer, or a PDF file)."""
        print_report(printer, self.report_html(), self)

    def save_pdf(self, path: Path) -> Path:
        """Write the report (what the filter shows, and the verification status) as a PDF file."""
        path = Path(path)
        html = self.report_html()  # fails before touching the file
        return write_pdf(html, path, self)

    def export_csv(self, path: Path) -> Path:
        """Write what the filter shows as CSV, as ``pseudodesk-cli audit report --csv`` does."""
        return write_csv(self.selected_entries(), Path(path))

    # --- buttons -------------------------------------------------------------------------

    def _focus_search(self) -> None:
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    def _refresh_clicked(self) -> None:
        if not self.bridge.busy:
            self.refresh()

    def _verify_clicked(self) -> None:
        self.verify()

    def _pinned_verify_clicked(self) -> None:
        path = widgets.ask_open_path(
            self,
            "Choose the pinned installation key",
            "Installation keys (installation-key*.json *.json);;All files (*)",
            self._documents(),
        )
        if path is not None:
            self.verify(path)

    def _inspect_clicked(self) -> None:
        path = widgets.ask_open_path(self, "Choose a package to inspect", PACKAGE_FILTER, self._documents())
        if path is not None:
            self.inspect(path)

    def _save_as(self, title: str, default: str, filters: str, suffix: str) -> Path | None:
        path = widgets.ask_save_path(self, title, Path(self._documents()) / default, filters)
        if path is None:
            return None
        return path if path.name.lower().endswith(suffix) else path.with_name(path.name + suffix)

    def _csv_clicked(self) -> None:
        path = self._save_as(
            "Export the listed entries as CSV",
            f"pseudodesk-audit-{dt.date.today():%Y-%m-%d}.csv",
            "CSV files (*.csv)",
            ".csv",
        )
        if path is not None:
            self._write(lambda: self.export_csv(path), f"exporting the audit listing to {path.name}")

    def _pdf_clicked(self) -> None:
        path = self._save_as(
            "Save the audit report as PDF",
            f"pseudodesk-audit-report-{dt.date.today():%Y-%m-%d}.pdf",
            "PDF files (*.pdf)",
            ".pdf",
        )
        if path is not None:
            self._write(lambda: self.save_pdf(path), f"saving the audit report to {path.name}")

    def _print_clicked(self) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(REPORT_TITLE)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("Print the audit report")
        # exec(), not open(): Windows shows its native print dialog only from exec().
        if dialog.exec() == QDialog.DialogCode.Accepted:
            try:
                self.print_to(printer)
            except PseudodeskError as error:
                show_error(self, error, doing="printing the audit report")

    def _write(self, write: Callable[[], Path], doing: str) -> None:
        try:
            path = write()
        except PseudodeskError as error:
            show_error(self, error, doing=doing)
            return
        self.statusBar().showMessage(f"Saved {path}", 10000)

    @staticmethod
    def _documents() -> str:
        return QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self._jobs.drop_waiting()  # a job already running finishes on the bridge; its result is dropped
        if self._inspect_dialog is not None:
            self._inspect_dialog.close()
        super().closeEvent(event)
