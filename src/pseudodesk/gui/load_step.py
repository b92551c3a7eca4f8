"""Step 1, Load: open a spreadsheet (dialog or drag and drop), choose sheet and header row,
give the password of a protected workbook, and see the first rows at once.

Reading runs on the job bridge (counting a million CSV rows takes a moment); the preview
is a :class:`~pseudodesk.gui.models.SourceTableModel` that fetches rows as the view scrolls.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pseudodesk.core.agreement.header import find_header_row
from pseudodesk.core.agreement.mapping import SourceMapping
from pseudodesk.core.agreement.model import Profile
from pseudodesk.core.errors import NoHeader, PasswordRequired, WrongPassword
from pseudodesk.core.read.dispatch import CSV_SUFFIXES, WORKBOOK_SUFFIXES, read_table
from pseudodesk.core.read.sample import first_rows
from pseudodesk.core.read.table import SourceIssue, SourceTable
from pseudodesk.gui import widgets
from pseudodesk.gui.errors import show_error
from pseudodesk.gui.jobs import JobBridge
from pseudodesk.gui.models import SourceTableModel
from pseudodesk.gui.session import Session
from pseudodesk.gui.widgets import buddy_label

SPREADSHEET_FILTER = "Spreadsheets (*.csv *.tsv *.txt *.xlsx *.xlsm *.xlsb *.xls *.ods);;All files (*)"
READABLE = tuple(CSV_SUFFIXES) + tuple(WORKBOOK_SUFFIXES)


PREVIEW_FIRST_BYTES = 2_000_000  # CSVs larger than this show their first rows before the whole-file read
PAINT_GRACE = 0.3  # seconds the whole-file read waits so the preview paints first


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class PasswordDialog(QDialog):
    """Asks for a workbook's password; the text is never stored beyond this read."""

    def __init__(self, file_name: str, wrong: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Password-protected workbook")
        self.setObjectName("password_dialog")
        layout = QVBoxLayout(self)
        text = (
            f"The password for {file_name} was not right. Try again."
            if wrong
            else f"{file_name} is protected with a password. Type the password to open it."
        )
        message = QLabel(text)
        message.setWordWrap(True)
        layout.addWidget(message)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Workbook password")
        self.show_check = QCheckBox("S&how")
        self.show_check.setAccessibleName("Show the password")
        self.show_check.toggled.connect(
            lambda shown: self.password.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        )
        row = QHBoxLayout()
        row.addWidget(self.password, stretch=1)
        row.addWidget(self.show_check)
        layout.addLayout(row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 60)  # the title whole
        self.password.setFocus()


class DropArea(QLabel):
    """A visible target for dragging a spreadsheet in from Explorer."""

    file_dropped = Signal(Path)

    def __init__(self) -> None:
        super().__init__("Drag a spreadsheet here (CSV, XLSX, XLS, ODS)\nor use Open spreadsheet…")
        self.setAcceptDrops(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumHeight(self.fontMetrics().height() * 4)
        self.setStyleSheet("QLabel { border: 2px dashed #8a8a8a; border-radius: 6px; color: #444; padding: 8px; }")
        self.setAccessibleName("Drop a spreadsheet here")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if dropped_file(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        path = dropped_file(event)
        if path is not None:
            event.acceptProposedAction()
            self.file_dropped.emit(path)


def dropped_file(event: QDragEnterEvent | QDropEvent) -> Path | None:
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    for url in urls:
        if url.isLocalFile():
            return Path(url.toLocalFile())
    return None


class LoadStep(QWidget):
    title = "Load"

    def __init__(self, session: Session, bridge: JobBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.bridge = bridge
        self._password: str | None = None
        self._pending_mapping: SourceMapping | None = None
        self._attempt: tuple[Path, str | None] | None = None  # a file that failed to load, to retry

        layout = QVBoxLayout(self)
        intro = QLabel(
            "<b>Load the spreadsheet</b> of people you will send. It is only read: pseudodesk never changes it."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        row = QHBoxLayout()
        self.open_button = QPushButton("&Open spreadsheet…")
        self.open_button.setAccessibleName("Open spreadsheet")
        self.open_button.clicked.connect(self.choose_file)
        row.addWidget(self.open_button)
        self.drop_area = DropArea()
        self.drop_area.file_dropped.connect(self.open_file)
        row.addWidget(self.drop_area, stretch=1)
        layout.addLayout(row)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.file_label = QLabel("No spreadsheet loaded")
        self.file_label.setWordWrap(True)
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.file_label.setAccessibleName("Loaded spreadsheet")
        form.addRow("Spreadsheet:", self.file_label)
        self.sheet_combo = QComboBox()
        self.sheet_combo.setAccessibleName("Worksheet")
        self.sheet_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.sheet_combo.setMinimumContentsLength(16)
        self.sheet_combo.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.sheet_combo.setEnabled(False)
        self.sheet_combo.activated.connect(self._reload)
        form.addRow(buddy_label("&Worksheet:", self.sheet_combo), self.sheet_combo)
        self.header_spin = QSpinBox()
        self.header_spin.setRange(1, 1_048_576)
        self.header_spin.setMaximumWidth(self.header_spin.fontMetrics().horizontalAdvance("0") * 14)
        self.header_spin.setAccessibleName("Header row number")
        self.header_spin.setToolTip("The row that holds the column names (row 1 unless the sheet has a title above)")
        self.header_spin.setEnabled(False)
        self.header_spin.editingFinished.connect(self._header_row_changed)
        form.addRow(buddy_label("Header &row:", self.header_spin), self.header_spin)
        self.notes_label = QLabel("")
        self.notes_label.setWordWrap(True)
        self.notes_label.setAccessibleName("Notes about the file")
        form.addRow("Notes:", self.notes_label)
        layout.addLayout(form)

        preview_label = QLabel("&Preview (row numbers as in the file; scroll to read more):")
        layout.addWidget(preview_label)
        self.view = QTableView()
        self.view.setTabKeyNavigation(False)  # Tab leaves the table; arrow keys move between cells
        self.view.setAccessibleName("Spreadsheet preview")
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 8)
        preview_label.setBuddy(self.view)
        layout.addWidget(self.view, stretch=1)
        session.table_changed.connect(self._show_table)

    # --- actions -----------------------------------------------------------------------

    def choose_file(self) -> None:
        path = widgets.ask_open_path(self, "Open spreadsheet", SPREADSHEET_FILTER)
        if path is not None:
            self.open_file(path)

    def open_file(
        self,
        path: Path,
        *,
        sheet: str | None = None,
        header_row: int | None = None,
        mapping: SourceMapping | None = None,
        password: str | None = None,
    ) -> None:
        """Read ``path`` in the background; the table arrives through the session. Without
        ``header_row`` the header is found among the first rows (and the Notes say which)."""
        if self.bridge.busy:
            return
        self._password = password
        self._pending_mapping = mapping
        self._read(Path(path), sheet, header_row)

    def _read(self, path: Path, sheet: str | None, header_row: int | None, *, preview_first: bool = True) -> None:
        """Read in the background. A large CSV is read twice: its first rows at once (the
        preview shows within a second), then the whole file (row count, shape, encoding)."""
        password = self._password
        quick = preview_first and path.suffix.lower() in CSV_SUFFIXES and _size(path) > PREVIEW_FIRST_BYTES
        # After a preview, the worker first waits while the GUI thread paints the new rows: a
        # table view asks the Python model for every visible cell, and each of those thousands of
        # calls would otherwise wait for the GIL behind the reading worker (measured: a 560 ms
        # freeze on a million-row file; none with the pause).
        grace = 0.0 if preview_first else PAINT_GRACE

        profile = self.session.profile

        def work(progress: object, cancel: object) -> SourceTable:
            time.sleep(grace)
            row, note = header_row, None
            if row is None:
                row, note = _found_header_row(path, sheet, password, profile)
            table = read_table(path, sheet=sheet, header_row=row, password=password, preview_only=quick)
            if note is not None:
                table.issues.insert(0, note)
            return table

        self.bridge.start(
            f"reading {path.name}",
            work,
            on_done=lambda table: self._loaded(table, quick),
            on_error=lambda error: self._failed(path, sheet, header_row, error),
        )

    def _loaded(self, table: SourceTable, preview: bool = False) -> None:
        self._attempt = None
        if preview:
            self.session.set_table(table, self._pending_mapping)
            self._read(table.path, table.sheet, table.header_row, preview_first=False)
            return
        mapping = (
            self.session.mapping if self._pending_mapping is None and self._same_file(table) else self._pending_mapping
        )
        self.session.set_table(table, mapping)
        self._pending_mapping = None

    def _same_file(self, table: SourceTable) -> bool:
        """The whole-file read that follows a preview keeps the mapping the preview suggested."""
        shown = self.session.table
        return shown is not None and shown.row_count < 0 and shown.path == table.path and shown.header == table.header

    def _failed(self, path: Path, sheet: str | None, header_row: int | None, error: BaseException) -> None:
        if isinstance(error, (PasswordRequired, WrongPassword)):
            dialog = PasswordDialog(path.name, isinstance(error, WrongPassword), self)

            def retry() -> None:
                self._password = dialog.password.text()
                self._read(path, sheet, header_row)

            dialog.accepted.connect(retry)
            dialog.open()
            return
        # The header row can be changed before a load succeeds: a title row taken for the header
        # makes the rows below look ragged, and the fix is a row number, not another file.
        self._attempt = (path, sheet)
        self.header_spin.setEnabled(True)
        if header_row is not None:
            self.header_spin.setValue(header_row)
        previous = self.session.table
        if previous is not None:
            self.session.clear_table()  # never left looking as if the failed file were the one loaded
        self.file_label.setText(
            f"<b>{path.name}</b> could not be read with these settings. Change the header row above "
            "(the row that holds the column names) and press Enter, or open another file."
            + (f" {previous.path.name}, loaded before, is no longer loaded." if previous is not None else "")
        )
        show_error(self, error, doing=f"reading {path.name}")

    def _reload(self) -> None:
        if self.bridge.busy:
            return
        table = self.session.table
        sheet = self.sheet_combo.currentText() or None
        if self._attempt is not None and (table is None or table.path != self._attempt[0]):
            path, attempted_sheet = self._attempt
            self._read(path, attempted_sheet if sheet is None else sheet, self.header_spin.value())
            return
        if table is None:
            return
        if sheet != table.sheet or self.header_spin.value() != table.header_row:
            self._read(table.path, sheet, self.header_spin.value())

    def _header_row_changed(self) -> None:
        self._reload()

    # --- showing ---------------------------------------------------------------------

    def _show_table(self) -> None:
        table = self.session.table
        if table is None:  # nothing loaded (a later file failed): no preview, sheet or notes of another
            self.view.setModel(None)
            self.sheet_combo.clear()
            self.notes_label.setText("none")
            return
        where = f", sheet '{table.sheet}'" if table.sheet else ""
        protected = " (password-protected)" if table.encrypted else ""
        rows = "counting rows…" if table.row_count < 0 else f"{table.row_count:,} rows"
        self.file_label.setText(f"<b>{table.path.name}</b>{protected}{where}: {rows}, {len(table.header)} columns")
        self.file_label.setToolTip(str(table.path))
        self.sheet_combo.blockSignals(True)
        self.sheet_combo.clear()
        self.sheet_combo.addItems(list(table.sheet_names))
        if table.sheet:
            self.sheet_combo.setCurrentText(table.sheet)
        self.sheet_combo.setEnabled(len(table.sheet_names) > 1)
        self.sheet_combo.blockSignals(False)
        self.header_spin.setEnabled(True)
        self.header_spin.setValue(table.header_row)
        notes = [issue.message for issue in table.issues]
        self.notes_label.setText(
            "\n".join(notes[:6]) + (f"\n… and {len(notes) - 6} more" if len(notes) > 6 else "") if notes else "none"
        )
        model = SourceTableModel(table, self.view)
        model.fetchMore()
        self.view.setModel(model)
        self.view.resizeColumnsToContents()
        for column in range(model.columnCount()):
            self.view.setColumnWidth(column, min(self.view.columnWidth(column), 260))

    def set_busy(self, busy: bool) -> None:
        for widget in (self.open_button, self.sheet_combo, self.header_spin):
            widget.setEnabled(not busy and (widget is self.open_button or self.session.table is not None))
        if not busy and self.session.table is not None:
            self.sheet_combo.setEnabled(len(self.session.table.sheet_names) > 1)
        self.drop_area.setAcceptDrops(not busy)


def _found_header_row(
    path: Path, sheet: str | None, password: str | None, profile: Profile | None
) -> tuple[int, SourceIssue]:
    """The header row found among the first rows, and the note that says which and why."""
    try:
        choice = find_header_row(first_rows(path, sheet=sheet, password=password), profile, path)
    except NoHeader:
        return 1, SourceIssue(
            "assumption",
            "no row of column names was found among the first 20 rows; row 1 is used. If row 1 is a "
            "person, add a row of column names in Excel first, or set the header row above.",
        )
    return choice.row, SourceIssue(
        "assumption",
        f"header row {choice.row} chosen: {choice.reason}. Change it above if that is not the row of column names.",
    )
