"""Step 4, Export: project key, recipient, output folder, Run; then what was written.

The export is :func:`pseudodesk.core.run.export.run` on the job bridge (the demo uses
:func:`pseudodesk.core.run.demo` pieces: an ephemeral key and the DEMO certificate). The
result names the files written, the counts and the key fingerprint; in passphrase mode
it shows the generated passphrase once, with a copy button and the warning to send it
by another route. The passphrase is never saved anywhere by pseudodesk.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QStandardPaths, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pseudodesk.core.keys.approval import UNAPPROVED, UNAPPROVED_RISK, approval_of
from pseudodesk.core.keys.installation import AuditTrail
from pseudodesk.core.keys.store import KeyExpired, KeyStore
from pseudodesk.core.policy import machine_policy
from pseudodesk.core.run.demo import demo_signer_and_audit, ephemeral_demo_key
from pseudodesk.core.run.export import ExportOptions, RunResult, run
from pseudodesk.gui.errors import show_error
from pseudodesk.gui.jobs import JobBridge
from pseudodesk.gui.map_step import describe_recipient
from pseudodesk.gui.session import Session
from pseudodesk.gui.widgets import buddy_label

DEMO_KEY = "__demo__"
FOLDER_SETTING = "export/folder"


def default_output_folder() -> Path:
    """The machine policy's default_output_folder, else "pseudodesk exports" in the person's Documents."""
    if (folder := machine_policy().folder("default_output_folder")) is not None:
        return folder
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents or Path.home()) / "pseudodesk exports"


class ExportStep(QWidget):
    title = "Export"
    keys_requested = Signal()
    check_requested = Signal()  # the checks of this file have not run: step 3 runs them

    def __init__(
        self, session: Session, bridge: JobBridge, parent: QWidget | None = None, *, selftest_failed: bool = False
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.bridge = bridge
        self.selftest_failed = selftest_failed
        self.result: RunResult | None = None
        self.policy = machine_policy()
        layout = QVBoxLayout(self)

        what = QGroupBox("What will be sent")
        what_layout = QVBoxLayout(what)
        self.what_label = QLabel("")
        self.what_label.setWordWrap(True)
        self.what_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.what_label.setAccessibleName("What will be sent")
        what_layout.addWidget(self.what_label)
        layout.addWidget(what)

        settings = QGroupBox("Export settings")
        form = QFormLayout(settings)
        key_row = QHBoxLayout()
        self.key_combo = QComboBox()
        self.key_combo.setAccessibleName("Project key")
        self.key_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.keys_button = QPushButton("&Keys…")
        self.keys_button.setAccessibleName("Manage project keys")
        self.keys_button.clicked.connect(self.keys_requested)
        key_row.addWidget(self.key_combo, stretch=1)
        key_row.addWidget(self.keys_button)
        form.addRow(buddy_label("Project ke&y:", self.key_combo), key_row)
        self.recipient_label = QLabel("")
        self.recipient_label.setWordWrap(True)
        self.recipient_label.setAccessibleName("Recipient")
        form.addRow("Recipient:", self.recipient_label)
        folder_row = QHBoxLayout()
        self.folder_edit = QLineEdit(str(QSettings().value(FOLDER_SETTING, str(default_output_folder()))))
        self.folder_edit.setAccessibleName("Output folder")
        self.browse_button = QPushButton("Bro&wse…")
        self.browse_button.setAccessibleName("Choose the output folder")
        self.browse_button.clicked.connect(self.choose_folder)
        folder_row.addWidget(self.folder_edit, stretch=1)
        folder_row.addWidget(self.browse_button)
        form.addRow(buddy_label("Output fo&lder:", self.folder_edit), folder_row)
        self.review_check = QCheckBox("")
        self.review_check.setAccessibleName("Confirm the agreement is still in force")
        self.review_check.toggled.connect(self._update_ready)
        form.addRow("", self.review_check)
        self.approval_check = QCheckBox("")
        self.approval_check.setAccessibleName("Confirm the export under an unapproved profile")
        self.approval_check.toggled.connect(self._update_ready)
        self.approval_label = QLabel("")
        self.approval_label.setWordWrap(True)
        self.approval_label.setAccessibleName("Whether the profile is approved")
        form.addRow("Approval:", self.approval_label)
        form.addRow("", self.approval_check)
        layout.addWidget(settings)

        run_row = QHBoxLayout()
        self.export_button = QPushButton("&Export encrypted file")
        self.export_button.setAccessibleName("Export the encrypted file")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        self.ready_label = QLabel("")
        self.ready_label.setWordWrap(True)
        self.ready_label.setAccessibleName("Export readiness")
        self.check_button = QPushButton("&Go to the checks")
        self.check_button.setAccessibleName("Go to step 3 and check this file")
        self.check_button.clicked.connect(self.check_requested)
        run_row.addWidget(self.export_button)
        run_row.addWidget(self.ready_label, stretch=1)
        run_row.addWidget(self.check_button)
        layout.addLayout(run_row)

        self.result_box = QGroupBox("Result")
        result_layout = QVBoxLayout(self.result_box)
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.setAccessibleName("Export result")
        result_layout.addWidget(self.result_label)
        self.passphrase_frame = QFrame()
        passphrase_layout = QVBoxLayout(self.passphrase_frame)
        passphrase_layout.setContentsMargins(0, 0, 0, 0)
        warning = QLabel(
            "<b>Passphrase for the recipient.</b> Send it by a different route from the file "
            "(for example read it out by phone). pseudodesk does not keep it: copy it now."
        )
        warning.setWordWrap(True)
        passphrase_layout.addWidget(warning)
        passphrase_row = QHBoxLayout()
        self.passphrase_edit = QLineEdit()
        self.passphrase_edit.setReadOnly(True)
        self.passphrase_edit.setAccessibleName("Generated passphrase")
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSizeF(mono.pointSizeF() * 1.3)
        self.passphrase_edit.setFont(mono)
        self.copy_button = QPushButton("Co&py passphrase")
        self.copy_button.setAccessibleName("Copy the passphrase")
        self.copy_button.clicked.connect(self.copy_passphrase)
        passphrase_row.addWidget(self.passphrase_edit, stretch=1)
        passphrase_row.addWidget(self.copy_button)
        passphrase_layout.addLayout(passphrase_row)
        result_layout.addWidget(self.passphrase_frame)
        self.open_folder_button = QPushButton("&Open folder")
        self.open_folder_button.setAccessibleName("Open the output folder")
        self.open_folder_button.clicked.connect(self.open_folder)
        open_row = QHBoxLayout()
        open_row.addWidget(self.open_folder_button)
        open_row.addStretch(1)
        result_layout.addLayout(open_row)
        self.result_box.setVisible(False)
        layout.addWidget(self.result_box)
        layout.addStretch(1)

        for signal in (session.profile_changed, session.mapping_changed, session.table_changed):
            signal.connect(self.refresh)
        self.refresh()

    # --- state ----------------------------------------------------------------------

    def refresh(self) -> None:
        s = self.session
        if s.last_result is None:  # another spreadsheet or agreement since: that result is not this export's
            self.result_box.setVisible(False)
            self.result = None
        profile = s.profile
        if s.table is not None and profile is not None and s.mapping is not None:
            mapping = s.mapping
            outputs = []
            for f in profile.output_fields:
                sources = ", ".join(f"'{mapping.columns.get(x, '(not mapped)')}'" for x in f.sources)
                verb = "pseudonym of" if f.role in ("pseudonym", "openpseudonymiser") else "from"
                outputs.append(f"<b>{f.name}</b> ({verb} {sources})")
            stripped = mapping.stripped_columns(profile, s.table.header)
            rows = "all rows" if s.table.row_count < 0 else f"{s.table.row_count:,} rows"
            self.what_label.setText(
                f"From <b>{s.table.path.name}</b>, {rows}: "
                + ", ".join(outputs)
                + f".<br>Stripped, never sent: {', '.join(stripped) or 'nothing'}."
            )
        else:
            self.what_label.setText("Load a spreadsheet and choose its agreement profile first.")
        self.recipient_label.setText(describe_recipient(profile) if profile else "")
        self._fill_keys()
        overdue = bool(profile and profile.review_date and profile.review_date < dt.date.today())
        self.review_check.setVisible(overdue and not s.demo)
        if overdue and profile and profile.review_date:
            self.review_check.setText(
                f"The agreement was due for review on {profile.review_date:%d/%m/%Y}. I confirm it is still in force."
            )
        self._show_approval()
        self._update_ready()

    def _show_approval(self) -> None:
        s = self.session
        self.policy = machine_policy()
        unapproved = s.profile is not None and not s.demo and not s.approval.approved
        allowed = self.policy.allow_unapproved_exports and not self.policy.problem
        self.approval_check.setVisible(unapproved and allowed)
        if s.profile is None:
            text, colour = "", ""
        elif s.demo:
            text, colour = "Demo: synthetic data, recorded as a demo export.", "#555"
        elif s.approval.approved:
            text = (
                f"\u2713 Approved: installed from the agreement package (version {s.approval.package_version}, "
                f"custodian {s.approval.custodian_fingerprint})."
            )
            colour = "#1b5e20"
        else:
            text, colour = f"\u26a0 NOT APPROVED. {UNAPPROVED_RISK}", "#b71c1c"
            self.approval_check.setText("My IG lead approved this profile itself: export it, recorded as unapproved.")
        self.approval_label.setText(text)
        self.approval_label.setStyleSheet(f"color:{colour};" if colour else "")

    def _fill_keys(self) -> None:
        current = self.key_combo.currentData()
        self.key_combo.clear()
        if self.session.demo:
            self.key_combo.addItem("DEMO key (random, forgotten when pseudodesk closes)", DEMO_KEY)
        try:
            keys = [k for k in KeyStore().keys() if k.kind == "project-key" and k.status == "active"]
        except Exception:  # noqa: BLE001 (an unreadable keys.json is reported when exporting)
            keys = []
        for k in keys:
            expired = " (expired)" if k.expired() else ""
            self.key_combo.addItem(f"{k.name}: {k.id}, fingerprint {k.fingerprint}{expired}", k.id)
        profile = self.session.profile
        wanted = (profile.key.id if profile and profile.key.id else None) or current  # the agreement's own key first
        position = self.key_combo.findData(wanted) if wanted else -1
        if position >= 0:
            self.key_combo.setCurrentIndex(position)
        if self.key_combo.count() == 0:
            self.key_combo.addItem(
                "No project key on this computer: install the agreement package (File > Install agreement…)", None
            )

    def problem(self) -> str:
        """Why the export cannot start ("" when it can)."""
        s = self.session
        if self.selftest_failed:
            return "The start-up self-test failed, so exports are switched off (see the red banner)."
        if s.table is None:
            return "Load a spreadsheet first (step 1)."
        if s.table.row_count < 0:
            return "Still reading the whole spreadsheet…"
        if s.profile is None:
            return "Choose the agreement first (step 2)."
        mapping_problem = s.mapping_problem()
        if mapping_problem:
            return "The columns are not mapped yet (step 2)."
        if self.key_combo.currentData() is None:
            return "Choose a project key: install the agreement package your IG lead sent (File > Install agreement…)."
        if self.review_check.isVisible() and not self.review_check.isChecked():
            return "Confirm the agreement is still in force."
        if not s.demo and not s.approval.approved:
            if self.policy.problem or not self.policy.allow_unapproved_exports:
                return (
                    "This computer's policy allows exports only under an agreement installed from its package: "
                    "install the package your IG lead sent (File > Install agreement…) and choose it at step 2."
                )
            if not self.approval_check.isChecked():
                return (
                    "This profile is not approved: install the agreement package and choose it at step 2, "
                    "or confirm below that your IG lead approved this profile."
                )
        if not self.folder_edit.text().strip():
            return "Choose an output folder."
        if not s.report_current:
            return "Check this file first (step 3): the export follows the checks of exactly this file and mapping."
        if s.report is not None and s.report.blocking_reasons():
            return "The checks found problems that stop this export (step 3)."
        return ""

    def _update_ready(self) -> None:
        problem = self.problem()
        s = self.session
        self.check_button.setVisible(s.ready_to_check and not s.report_current and not self.selftest_failed)
        self.export_button.setEnabled(not problem and not self.bridge.busy)
        self.ready_label.setText(problem or "Ready. The file is encrypted before it touches the disk.")

    def set_busy(self, busy: bool) -> None:
        busy_widgets = (self.key_combo, self.keys_button, self.folder_edit, self.browse_button, self.review_check)
        for widget in (*busy_widgets, self.approval_check):
            widget.setEnabled(not busy)
        self._update_ready()

    # --- actions --------------------------------------------------------------------

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def start_export(self, *, accept_expired_key: bool = False) -> None:
        if self.bridge.busy or self.problem():
            return
        s = self.session
        profile, table, mapping = s.profile, s.table, s.mapping
        assert profile is not None and table is not None and mapping is not None
        key_choice = self.key_combo.currentData()
        out_dir = Path(self.folder_edit.text().strip()).expanduser()
        demo = s.demo
        accept_expired = demo or self.review_check.isChecked()
        unapproved_accepted = not self.approval_check.isHidden() and self.approval_check.isChecked()
        key = s.state_key()
        QSettings().setValue(FOLDER_SETTING, str(out_dir))
        self.result_box.setVisible(False)

        def work(progress: Any, cancel: Any) -> RunResult:
            out_dir.mkdir(parents=True, exist_ok=True)
            if key_choice == DEMO_KEY:
                key = ephemeral_demo_key()
                signer, audit = demo_signer_and_audit()
                approval = UNAPPROVED  # synthetic data: a demo export, exempt
            else:
                store = KeyStore()
                key = store.load(str(key_choice), accept_expired=accept_expired_key)
                audit = AuditTrail(store)
                signer = audit.signer
                approval = approval_of(store, profile)  # as it is now, not as it was at the Map step
            options = ExportOptions(
                approval=approval,
                unapproved_accepted=unapproved_accepted,
                accept_expired=accept_expired,
                allow_demo_recipient=demo,
                expired_key_accepted=accept_expired_key,
                demo=demo,
            )
            return run(
                profile,
                table,
                mapping,
                key,
                out_dir,
                options,
                signer=signer,
                audit=audit,
                progress=progress,
                cancel=cancel,
            )

        self.ready_label.setText("Exporting…")
        self.bridge.start(
            f"exporting {table.path.name}",
            work,
            on_done=lambda result: self._done(result, key),
            on_error=self._failed,
            on_cancelled=self._cancelled,
        )

    def _done(self, result: RunResult, key: object = None) -> None:
        self.result = result
        report = result.report
        manifest = result.manifest.name if result.manifest else "(none)"
        blanked = "".join(f"{line}.<br>" for line in _protection_lines(result))
        method = (
            "locked so that only the recipient can open it, with their certificate's private key"
            if result.method == "cms"
            else "a locked 7-Zip archive: the recipient opens it with 7-Zip and the passphrase below"
        )
        self.result_label.setText(
            f"<b style='color:#1a6b2a;'>Exported.</b> Written to <b>{result.output.parent}</b>:"
            f"<ul><li>{result.output.name} (encrypted: {method})</li>"
            f"<li>{manifest} (signed manifest: send it with the file)</li></ul>"
            + (
                f"Counts sent instead of rows: {len(result.aggregate.row_keys):,} x "
                f"{len(result.aggregate.column_keys):,} cells from {report.rows_written:,} rows, "
                f"{result.aggregate.primary + result.aggregate.secondary:,} suppressed.<br>"
                if result.aggregate is not None
                else ""
            )
            + f"{result.rows_read:,} rows read, {report.rows_written:,} "
            f"{'counted' if result.aggregate else 'written'}, "
            f"{report.rows_excluded:,} excluded, "
            f"{report.invalid_values:,} invalid value(s) sent blank or excluded.<br>{blanked}"
            f"Project key {result.key_id}, fingerprint <b>{result.key_fingerprint}</b>. "
            f"Took {result.seconds:.1f} s."
        )
        self.passphrase_frame.setVisible(result.passphrase is not None)
        self.passphrase_edit.setText(result.passphrase or "")
        self.copy_button.setText("Co&py passphrase")
        self.result_box.setVisible(True)
        self.session.last_result = result
        self.session.set_report(report, key)
        self.session.exported.emit(result)
        self._update_ready()
        self.ready_label.setText("Exported. Pressing Export again writes a second, separately named package.")

    def _failed(self, error: BaseException) -> None:
        self._update_ready()
        if isinstance(error, KeyExpired):
            box = QMessageBox(
                QMessageBox.Icon.Question,
                "Project key expired",
                f"{error}\n\nUse it for this export anyway?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                self,
            )
            box.setObjectName("key_expired_dialog")
            box.setDefaultButton(QMessageBox.StandardButton.No)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.button(QMessageBox.StandardButton.Yes).clicked.connect(
                lambda: self.start_export(accept_expired_key=True)
            )
            box.open()
            return
        show_error(self, error, doing="exporting")

    def _cancelled(self) -> None:
        self.ready_label.setText("Cancelled: nothing was written.")
        self.export_button.setEnabled(not self.problem())

    def copy_passphrase(self) -> None:
        QGuiApplication.clipboard().setText(self.passphrase_edit.text())
        self.copy_button.setText("Copied")

    def open_folder(self) -> None:
        if self.result is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.result.output.parent)))


def _protection_lines(result: RunResult) -> list[str]:
    """What was blanked or left out so that nobody can be picked out, in counts."""
    report, lines = result.report, []
    if report.suppressed:
        values = ", ".join(f"{name} {n:,}" for name, n in report.suppressed.items())
        lines.append(f"Blanked so nobody can be picked out by their date of birth, postcode and the like: {values}")
    if report.history_suppressed:
        lines.append(f"{report.history_suppressed:,} value(s) blanked because earlier releases blanked them")
    if report.records_suppressed:
        left_out = result.rows_read - report.rows_written - report.rows_excluded
        how = f"{left_out:,} left out, the rest sent with every such field blank" if left_out else "fields blanked"
        lines.append(f"{report.records_suppressed:,} record(s) suppressed whole ({how})")
    return lines
