"""The audit window for information-governance leads.

A thin shell over the core: it reads this installation's audit log with
:func:`pseudodesk.core.audit.log.read_entries`, checks it with
:func:`~pseudodesk.core.audit.log.verify_log` (and, on *Verify*, records the verification
as ``pseudodesk-cli audit verify`` does), lists the entries in a filterable table, and
writes the same report as ``pseudodesk-cli audit report``
(:func:`~pseudodesk.core.audit.listing.listing_to_csv` and
:func:`~pseudodesk.core.audit.listing.listing_to_html`, printed to PDF or a printer
through a :class:`QTextDocument`). *Inspect a package* runs
:func:`~pseudodesk.core.package.manifest.inspect_package`, exactly as ``pseudodesk-cli inspect``.

Reading and verifying a long log, and decrypting a package, run on the app's one
:class:`~pseudodesk.gui.jobs.JobBridge`; a job asked for while another runs waits for it.
Nothing here verifies anything itself.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    QStandardPaths,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QBrush, QCloseEvent, QColor, QKeySequence, QPageSize, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pseudodesk.core.audit.listing import (
    AGREEMENT,
    EVENT,
    OPERATOR,
    SEQ,
    SUMMARY,
    TABLE_COLUMNS,
    TIME,
    AuditSelection,
    Entry,
    LoadedLog,
    column_text,
    entry_tooltip,
    filter_choices,
    listing_to_csv,
    listing_to_html,
    read_and_verify,
    verification_banner,
    verification_details,
)
from pseudodesk.core.audit.log import AuditError, AuditTrail, AuditVerification
from pseudodesk.core.errors import PseudodeskError
from pseudodesk.core.package.manifest import Inspection, inspect_package
from pseudodesk.gui import widgets
from pseudodesk.gui.errors import show_error
from pseudodesk.gui.jobs import QueuedJobs
from pseudodesk.gui.widgets import buddy_label

if TYPE_CHECKING:
    from pseudodesk.core.keys.store import KeyStore
    from pseudodesk.gui.jobs import Cancel, JobBridge, Progress

AnyIndex = QModelIndex | QPersistentModelIndex

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
PACKAGE_FILTER = "pseudodesk packages (*.csv.p7m *.7z *.manifest.json);;All files (*)"
INSPECT_DIALOG_CHARS = 120  # the inspect dialog's initial width, in average characters

_BANNER_STYLES = {
    "ok": "background:#e8f5e9; color:#1b5e20; border:1px solid #2e7d32;",
    "bad": "background:#fdecea; color:#8e1b1b; border:1px solid #c62828;",
    "unknown": "background:#fff8e1; color:#5d4300; border:1px solid #b28704;",
    "none": "background:#f0f0f0; color:#222222; border:1px solid #9e9e9e;",
}
_PROBLEM_ROW = QColor("#fdecea")
_PROBLEM_TEXT = QColor("#222222")


# --- models --------------------------------------------------------------------------------


class AuditEntriesModel(QAbstractTableModel):
    """The log's entries (plain dicts, as the core reads them), one row each, in log order."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._entries: list[Entry] = []
        self._lines: list[int] = []
        self._problems: dict[int, list[str]] = {}

    @property
    def entries(self) -> list[Entry]:
        return list(self._entries)

    def entry(self, row: int) -> Entry:
        return self._entries[row]

    def set_entries(self, entries: list[Entry], lines: list[int], verification: AuditVerification | None) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self._lines = list(lines)
        self._problems = {}
        for problem in verification.problems if verification else []:
            self._problems.setdefault(problem.line, []).append(str(problem))
        self.endResetModel()

    def append_entry(self, entry: Entry) -> None:
        row = len(self._entries)
        self.beginInsertRows(QModelIndex(), row, row)
        self._entries.append(entry)
        self._lines.append((self._lines[-1] if self._lines else 0) + 1)
        self.endInsertRows()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(TABLE_COLUMNS)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        entry = self._entries[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return column_text(entry, column)
        if role == SORT_ROLE:
            if column == SEQ:
                return int(entry["seq"])
            if column == TIME:
                return entry["time"]
            return column_text(entry, column).casefold()
        if role == Qt.ItemDataRole.ToolTipRole:
            line = self._lines[index.row()]
            return entry_tooltip(entry, line, summary=column == SUMMARY, problems=self._problems.get(line, []))
        if self._lines[index.row()] in self._problems:
            if role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(_PROBLEM_ROW)
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(_PROBLEM_TEXT)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return TABLE_COLUMNS[section]
        return None


class AuditFilterProxy(QSortFilterProxyModel):
    """Sorts the entries and keeps those the window's :class:`AuditSelection` accepts."""

    def __init__(self, source: AuditEntriesModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._selection = AuditSelection()
        self.setSourceModel(source)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    @property
    def selection(self) -> AuditSelection:
        return self._selection

    def set_selection(self, selection: AuditSelection) -> None:
        if selection == self._selection:
            return
        if hasattr(self, "beginFilterChange"):  # Qt 6.9+
            self.beginFilterChange()
            self._selection = selection
            self.endFilterChange()
        else:
            self._selection = selection
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:  # noqa: N802
        return self._selection.accepts(self._source.entry(source_row))


# --- inspecting a package ------------------------------------------------------------------


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

        hint = QLabel("Without a certificate and private key (.csv.p7m) or the passphrase (.7z), inspection checks "
                      "the manifest's signature and the encrypted file's SHA-256. With them it also decrypts the "
                      "package in memory and checks its content; nothing decrypted is kept or written.")
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

    def set_inputs(self, package: Path, pinned_fingerprint: str | None, certificate: Path | None,
                   private_key: Path | None, passphrase: str | None) -> None:
        self.package_edit.setText(str(package))
        self.signer_edit.setText(pinned_fingerprint or "")
        self.certificate_edit.setText(str(certificate) if certificate else "")
        self.private_key_edit.setText(str(private_key) if private_key else "")
        self.passphrase_edit.setText(passphrase or "")

    def inputs(self) -> dict[str, Any]:
        """The fields as :meth:`AuditWindow.inspect` takes them (empty optional fields are None)."""
        def path(edit: QLineEdit) -> Path | None:
            return Path(edit.text().strip()) if edit.text().strip() else None

        return {"path": path(self.package_edit), "pinned_fingerprint": self.signer_edit.text().strip() or None,
                "certificate": path(self.certificate_edit), "private_key": path(self.private_key_edit),
                "passphrase": self.passphrase_edit.text() or None}

    def _choose(self, edit: QLineEdit, title: str, filters: str) -> None:
        start = edit.text() or QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        path = widgets.ask_open_path(self, title, filters, start)
        if path is not None:
            edit.setText(path.as_posix())  # as the file dialog names it: forward slashes on Windows too

    def _choose_package(self) -> None:
        self._choose(self.package_edit, "Choose a package to inspect", PACKAGE_FILTER)

    def _choose_certificate(self) -> None:
        self._choose(self.certificate_edit, "Choose your certificate",
                     "Certificates (*.crt *.cer *.pem);;All files (*)")

    def _choose_private_key(self) -> None:
        self._choose(self.private_key_edit, "Choose the certificate's private key",
                     "PEM files (*.pem *.key);;All files (*)")

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
        verdict = ("\u2713 Package verified: every check passed." if inspection.ok else
                   f"\u2717 Package NOT verified: {sum(not c.ok for c in inspection.checks)} check(s) failed.")
        self.status_label.setText(f"{inspection.encrypted.name}: {verdict}")
        self.status_label.setStyleSheet("color:#1b5e20;" if inspection.ok else "color:#b71c1c;")
        self.manifest_label.setText(describe_manifest(inspection.manifest))


def describe_manifest(manifest: dict[str, Any]) -> str:
    """What a manifest says, in one paragraph (as ``pseudodesk-cli inspect`` prints it)."""
    if not manifest:
        return ""
    try:
        output = manifest.get("output", {})
        operator = manifest.get("operator", {})
        key = manifest.get("key", {}).get("fingerprint", "?")
        return (f"{manifest.get('agreement', {}).get('name', '?')}: {int(output.get('rows', 0)):,} rows, columns "
                f"{', '.join(map(str, output.get('columns', [])))}; key {key}; "
                f"made by {operator.get('user', '?')} on {operator.get('machine', '?')} at "
                f"{manifest.get('created', {}).get('local', '?')}")
    except (AttributeError, TypeError, ValueError):
        return "The manifest is not in the expected shape."


# --- the window ----------------------------------------------------------------------------


class AuditWindow(QMainWindow):
    """The audit log as a filterable table, its verification, package inspection and the printable report."""

    entries_changed = Signal(int)            # the log was (re)read or grew: number of entries listed
    selection_changed = Signal(object)       # the filter changed: the new AuditSelection
    verification_changed = Signal(object)    # the log's verification changed: AuditVerification, or None
    inspection_changed = Signal(object)      # a package was inspected: its Inspection (without plaintext)

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
        self.setWindowTitle("pseudodesk \u2014 Audit log")
        self.setObjectName("audit_window")
        self._build()
        self._connect()
        self._set_busy(self.bridge.busy)
        self._show_verification(None, "Reading the audit log\u2026", "none")
        self.refresh()

    # --- building ------------------------------------------------------------------------

    def _build(self) -> None:
        self.banner = QLabel()
        self.banner.setObjectName("verification_banner")
        self.banner.setTextFormat(Qt.TextFormat.PlainText)  # problem details quote the log: never rich text
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setAccessibleName("Verification status")

        self.refresh_button = self._button("&Refresh", "Read the audit log again",
                                           "Read the log again and check it (F5)")
        self.verify_button = self._button("&Verify and record", "Verify the audit log and record the verification",
                                          "Check every signature and the hash chain, and record the "
                                          "verification in the log (as pseudodesk-cli audit verify does)")
        self.pinned_verify_button = self._button("Verify against pinned &key\u2026",
                                                 "Verify the audit log against a pinned installation key",
                                                 "Check the log against an installation-key.json you kept "
                                                 "(pseudodesk-cli audit public-key)")
        self.inspect_button = self._button("&Inspect a package\u2026", "Inspect an exported package",
                                           "Check an exported package's manifest signature and hashes, and "
                                           "optionally its content")
        actions = QHBoxLayout()
        for button in (self.refresh_button, self.verify_button, self.pinned_verify_button, self.inspect_button):
            actions.addWidget(button)
        actions.addStretch(1)

        self.search_edit = QLineEdit()
        self.search_edit.setAccessibleName("Search entries")
        self.search_edit.setPlaceholderText("text in any column, e.g. a file name or fingerprint")
        self.search_edit.setClearButtonEnabled(True)
        self.event_combo = self._combo("Event type")
        self.agreement_combo = self._combo("Agreement")
        self.operator_combo = self._combo("Operator")
        self.from_check = QCheckBox("&From:")
        self.from_check.setAccessibleName("Only entries from a date")
        self.from_date = self._date_edit("First day")
        self.to_check = QCheckBox("&To:")
        self.to_check.setAccessibleName("Only entries up to a date")
        self.to_date = self._date_edit("Last day")
        self.clear_filters_button = self._button("C&lear filters", "Clear all filters", "Show every entry")
        self.count_label = QLabel()
        self.count_label.setAccessibleName("Entries shown")

        grid = QGridLayout()
        grid.addWidget(buddy_label("&Search:", self.search_edit), 0, 0)
        grid.addWidget(self.search_edit, 0, 1, 1, 3)
        grid.addWidget(buddy_label("&Event:", self.event_combo), 0, 4)
        grid.addWidget(self.event_combo, 0, 5)
        grid.addWidget(buddy_label("&Agreement:", self.agreement_combo), 1, 0)
        grid.addWidget(self.agreement_combo, 1, 1, 1, 3)
        grid.addWidget(buddy_label("&Operator:", self.operator_combo), 1, 4)
        grid.addWidget(self.operator_combo, 1, 5)
        grid.addWidget(self.from_check, 2, 0)
        grid.addWidget(self.from_date, 2, 1)
        grid.addWidget(self.to_check, 2, 2)
        grid.addWidget(self.to_date, 2, 3)
        dates_end = QHBoxLayout()
        dates_end.addWidget(self.clear_filters_button)
        dates_end.addStretch(1)
        dates_end.addWidget(self.count_label)
        grid.addLayout(dates_end, 2, 4, 1, 2)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        grid.setColumnStretch(5, 2)
        filters = QGroupBox("Filter (the report and CSV list what is shown)")
        filters.setLayout(grid)

        self.model = AuditEntriesModel(self)
        self.proxy = AuditFilterProxy(self.model, self)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setAccessibleName("Audit log entries")
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(SEQ, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.details_view = QPlainTextEdit()
        self.details_view.setReadOnly(True)
        self.details_view.setAccessibleName("Selected entry in full")
        self.details_view.setPlaceholderText("Select an entry to see it in full, as it is in the log.")
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details_view)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)

        self.csv_button = self._button("E&xport CSV\u2026", "Export the listed entries as CSV",
                                       "The entries shown, as pseudodesk-cli audit report --csv writes them")
        self.pdf_button = self._button("Save report as P&DF\u2026", "Save the audit report as PDF",
                                       "The verification status and the entries shown, one section per export")
        self.print_button = self._button("&Print\u2026", "Print the audit report", "Print the audit report")
        outputs = QHBoxLayout()
        self.log_label = QLabel(f"Log: {self.log_path}")
        self.log_label.setTextFormat(Qt.TextFormat.PlainText)
        self.log_label.setWordWrap(True)
        self.log_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.log_label.setAccessibleName("Audit log file")
        outputs.addWidget(self.log_label, 1)
        for button in (self.csv_button, self.pdf_button, self.print_button):
            outputs.addWidget(button)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.banner)
        layout.addLayout(actions)
        layout.addWidget(filters)
        layout.addWidget(splitter, 1)
        layout.addLayout(outputs)
        self.setCentralWidget(central)

        order: list[QWidget] = [self.refresh_button, self.verify_button, self.pinned_verify_button,
                                self.inspect_button, self.search_edit, self.event_combo, self.agreement_combo,
                                self.operator_combo, self.from_check, self.from_date, self.to_check, self.to_date,
                                self.clear_filters_button, self.table, self.details_view, self.csv_button,
                                self.pdf_button, self.print_button]
        for first, second in zip(order, order[1:]):
            self.setTabOrder(first, second)

        refresh_action = QAction("Refresh", self)
        refresh_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        refresh_action.triggered.connect(self._refresh_clicked)
        search_action = QAction("Search", self)
        search_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Find))
        search_action.triggered.connect(self._focus_search)
        self.addActions([refresh_action, search_action])

        width = self.fontMetrics().averageCharWidth()
        self.resize(max(self.sizeHint().width(), 175 * width), max(self.sizeHint().height(), 45 * width * 2))

    def _button(self, text: str, accessible: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(accessible)
        button.setToolTip(tip)
        return button

    def _combo(self, accessible: str) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(accessible)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(12)
        return combo

    def _date_edit(self, accessible: str) -> QDateEdit:
        edit = QDateEdit(QDate.currentDate())
        edit.setAccessibleName(accessible)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("dd/MM/yyyy")
        edit.setEnabled(False)
        return edit

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

    def refresh(self) -> None:
        """Read the log again and verify it (in the background); nothing is recorded."""
        log = self.log_path
        self._jobs.start("reading the audit log",
                         lambda progress, cancel: read_and_verify(log, None, progress, cancel),
                         self._loaded, self._load_failed)

    def verify(self, public_key_file: Path | None = None) -> None:
        """Verify the log (against ``public_key_file``, an installation-key.json kept earlier, if given)
        and record the verification in the log, as ``pseudodesk-cli audit verify`` does."""
        log = self.log_path
        self._jobs.start("verifying the audit log",
                         lambda progress, cancel: read_and_verify(log, public_key_file, progress, cancel),
                         self._verified, self._load_failed)

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
        self._show_verification(self.verification, "The audit log could not be read or verified: see the message.",
                                "unknown")
        show_error(self, error, doing="reading and verifying the audit log")

    def _show_verification(self, verification: AuditVerification | None, text: str, state: str) -> None:
        self.banner.setText(text)
        self.banner.setAccessibleDescription(text)
        self.banner.setProperty("state", state)
        self.banner.setStyleSheet(f"QLabel#verification_banner {{ {_BANNER_STYLES[state]} padding:0.5em; }}")
        self.verification_changed.emit(verification)

    # --- filters -------------------------------------------------------------------------

    def _fill_filter_choices(self) -> None:
        offered = filter_choices(self.model.entries)
        choices = (
            (self.event_combo, "All events", offered.events),
            (self.agreement_combo, "All agreements", offered.agreements),
            (self.operator_combo, "All operators", offered.operators),
        )
        for combo, everything, values in choices:
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(everything, None)
            for value in values:
                combo.addItem(value, value)
            found = combo.findData(current) if current is not None else 0
            combo.setCurrentIndex(max(found, 0))
            combo.blockSignals(False)
        if offered.first is not None and offered.last is not None:
            for check, edit, day in ((self.from_check, self.from_date, offered.first),
                                     (self.to_check, self.to_date, offered.last)):
                if not check.isChecked():
                    edit.blockSignals(True)
                    edit.setDate(QDate(day.year, day.month, day.day))
                    edit.blockSignals(False)

    def _apply_filters(self) -> None:
        def day(check: QCheckBox, edit: QDateEdit) -> dt.date | None:
            if not check.isChecked():
                return None
            chosen = edit.date()
            return dt.date(chosen.year(), chosen.month(), chosen.day())

        selection = AuditSelection(since=day(self.from_check, self.from_date), until=day(self.to_check, self.to_date),
                                   agreement=self.agreement_combo.currentData(),
                                   operator=self.operator_combo.currentData(),
                                   event=self.event_combo.currentData(), text=self.search_edit.text().strip())
        changed = selection != self.proxy.selection
        self.proxy.set_selection(selection)
        total = self.model.rowCount()
        shown = self.proxy.rowCount()
        self.count_label.setText(f"Showing {shown:,} of {total:,} entries" if shown != total else f"{total:,} entries")
        if changed:
            self.selection_changed.emit(selection)

    def clear_filters(self) -> None:
        for widget in (self.search_edit, self.event_combo, self.agreement_combo, self.operator_combo,
                       self.from_check, self.to_check):
            widget.blockSignals(True)
        self.search_edit.clear()
        for combo in (self.event_combo, self.agreement_combo, self.operator_combo):
            combo.setCurrentIndex(0)
        for check, edit in ((self.from_check, self.from_date), (self.to_check, self.to_date)):
            check.setChecked(False)
            edit.setEnabled(False)
        for widget in (self.search_edit, self.event_combo, self.agreement_combo, self.operator_combo,
                       self.from_check, self.to_check):
            widget.blockSignals(False)
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

    def inspect(self, path: Path, *, pinned_fingerprint: str | None = None, certificate: Path | None = None,
                private_key: Path | None = None, passphrase: str | None = None) -> None:
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
            result = inspect_package(path, pinned_fingerprint=pinned_fingerprint, certificate=certificate,
                                     private_key=private_key, passphrase=passphrase, progress=progress,
                                     cancel=cancel)
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
        self._print_html(printer, self.report_html())

    def _print_html(self, printer: QPrinter, html: str) -> None:
        document = QTextDocument(self)
        document.setHtml(html)
        document.setMetaInformation(QTextDocument.MetaInformation.DocumentTitle, "pseudodesk audit report")
        try:
            document.print_(printer)
        finally:
            document.deleteLater()

    def save_pdf(self, path: Path) -> Path:
        """Write the report (what the filter shows, and the verification status) as a PDF file."""
        path = Path(path)
        html = self.report_html()  # fails before touching the file
        try:
            with path.open("wb"):
                pass
        except OSError as error:
            raise AuditError(f"Cannot write the report to {path}: {error.strerror or error}.") from None
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(path))
        printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        printer.setDocName("pseudodesk audit report")
        printer.setCreator("pseudodesk")
        self._print_html(printer, html)
        return path

    def export_csv(self, path: Path) -> Path:
        """Write what the filter shows as CSV, as ``pseudodesk-cli audit report --csv`` does."""
        path = Path(path)
        try:
            path.write_text(listing_to_csv(self.selected_entries()), encoding="utf-8-sig")
        except OSError as error:
            raise AuditError(f"Cannot write the listing to {path}: {error.strerror or error}.") from None
        return path

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
        path = widgets.ask_open_path(self, "Choose the pinned installation key",
                                     "Installation keys (installation-key*.json *.json);;All files (*)",
                                     self._documents())
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
        path = self._save_as("Export the listed entries as CSV", f"pseudodesk-audit-{dt.date.today():%Y-%m-%d}.csv",
                             "CSV files (*.csv)", ".csv")
        if path is not None:
            self._write(lambda: self.export_csv(path), f"exporting the audit listing to {path.name}")

    def _pdf_clicked(self) -> None:
        path = self._save_as("Save the audit report as PDF",
                             f"pseudodesk-audit-report-{dt.date.today():%Y-%m-%d}.pdf", "PDF files (*.pdf)", ".pdf")
        if path is not None:
            self._write(lambda: self.save_pdf(path), f"saving the audit report to {path.name}")

    def _print_clicked(self) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName("pseudodesk audit report")
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
