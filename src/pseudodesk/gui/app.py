"""The pseudodesk window (minimal for now): which agreement and which spreadsheet are loaded.

A thin shell over the core: it opens a profile and a spreadsheet through
``pseudodesk.core`` and shows what will leave, what will be stripped, and a preview
of the rows through :class:`SourceTableModel`, a lazy adapter over the core table.
The guided Load -> Map -> Check -> Export flow builds on this window.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pseudodesk import __version__
from pseudodesk.core.errors import PseudodeskError
from pseudodesk.core.mapping import SourceMapping, load_mapping, suggest_mapping
from pseudodesk.core.profile import Profile, load_profile
from pseudodesk.core.readers import read_table
from pseudodesk.core.resources import DEMO_MAPPING, DEMO_SPREADSHEET, EXAMPLE_PROFILE, resource_path
from pseudodesk.core.table import SourceTable

AnyIndex = QModelIndex | QPersistentModelIndex


class SourceTableModel(QAbstractTableModel):
    """Rows of a core SourceTable, fetched lazily in chunks as the view scrolls."""

    CHUNK = 200

    def __init__(self, table: SourceTable, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._table = table
        self._rows: list[list[str]] = []
        self._lines: list[int] = []
        self._source: Iterator[tuple[int, list[str]]] | None = table.iter_rows()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._table.header)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole) and index.isValid():
            return self._rows[index.row()][index.column()]
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._table.header[section]
        return str(self._lines[section])  # the row number the user sees in Excel / the CSV line

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: N802
        return not parent.isValid() and self._source is not None

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: N802
        if self._source is None:
            return
        chunk: list[tuple[int, list[str]]] = []
        for item in self._source:
            chunk.append(item)
            if len(chunk) >= self.CHUNK:
                break
        else:
            self._source = None
        if chunk:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(chunk) - 1)
            self._lines.extend(line for line, _ in chunk)
            self._rows.extend(row for _, row in chunk)
            self.endInsertRows()


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("pseudodesk")
        self.resize(1100, 700)
        self.profile: Profile | None = None
        self.table: SourceTable | None = None
        self.mapping: SourceMapping | None = None

        central = QWidget()
        layout = QVBoxLayout(central)
        summary = QGroupBox("What is loaded")
        form = QFormLayout(summary)
        self.agreement_label = QLabel("No agreement profile loaded")
        self.profile_label = QLabel("")
        self.key_label = QLabel("")
        self.file_label = QLabel("No spreadsheet loaded")
        self.outputs_label = QLabel("")
        self.stripped_label = QLabel("")
        bold = QFont()
        bold.setBold(True)
        self.agreement_label.setFont(bold)
        self.file_label.setFont(bold)
        for label in (self.agreement_label, self.profile_label, self.key_label, self.file_label,
                      self.outputs_label, self.stripped_label):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Agreement:", self.agreement_label)
        form.addRow("Profile file:", self.profile_label)
        form.addRow("Project key:", self.key_label)
        form.addRow("Spreadsheet:", self.file_label)
        form.addRow("Will leave:", self.outputs_label)
        form.addRow("Stripped:", self.stripped_label)
        layout.addWidget(summary)
        layout.addWidget(QLabel("Preview of the spreadsheet as read (row numbers as in the file):"))
        self.view = QTableView()
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 8)
        layout.addWidget(self.view, stretch=1)
        self.setCentralWidget(central)

        menu = self.menuBar().addMenu("&File")
        open_sheet = QAction("Open &spreadsheet...", self)
        open_sheet.setShortcut(QKeySequence.StandardKey.Open)
        open_sheet.triggered.connect(self._choose_spreadsheet)
        open_profile = QAction("Open agreement &profile...", self)
        open_profile.triggered.connect(self._choose_profile)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        for action in (open_sheet, open_profile, quit_action):
            menu.addAction(action)
        self.statusBar().showMessage(f"pseudodesk {__version__}")

    # --- loading ---------------------------------------------------------------------

    def load_profile(self, path: Path) -> None:
        self.profile = load_profile(path)
        self._refresh()

    def load_spreadsheet(self, path: Path, *, sheet: str | None = None, header_row: int = 1,
                         mapping: SourceMapping | None = None) -> None:
        self.table = read_table(path, sheet=sheet, header_row=header_row)
        self.mapping = mapping
        model = SourceTableModel(self.table, self.view)
        model.fetchMore()  # the first rows, so column widths fit real values
        self.view.setModel(model)
        self.view.resizeColumnsToContents()
        for column in range(model.columnCount()):
            self.view.setColumnWidth(column, min(self.view.columnWidth(column), 260))
        self._refresh()

    def _refresh(self) -> None:
        p, t = self.profile, self.table
        if p is not None:
            review = f", review date {p.review_date:%d/%m/%Y}" if p.review_date else ""
            self.agreement_label.setText(f"{p.name} (version {p.version}{review})")
            self.profile_label.setText(str(p.path) if p.path else "")
            if p.key.fingerprint:
                self.key_label.setText(f"{p.key.id or '(id not set)'}, fingerprint {p.key.fingerprint}")
            else:
                self.key_label.setText("not bound to a key yet (the key custodian adds its id and fingerprint)")
        if t is not None:
            where = f", sheet '{t.sheet}'" if t.sheet else ""
            self.file_label.setText(f"{t.path.name}{where}: {t.row_count:,} rows, {len(t.header)} columns "
                                    f"(header on row {t.header_row})")
            self.file_label.setToolTip(str(t.path))
        if p is None or t is None:
            return
        mapping = self.mapping or suggest_mapping(p, t.header, t.preview(200))
        outputs = []
        for f in p.output_fields:
            sources = ", ".join(f"'{mapping.columns.get(s, '(not mapped)')}'" for s in f.sources)
            verb = "pseudonym of" if f.role == "pseudonym" else "from"
            outputs.append(f"{f.name} ({verb} {sources})")
        self.outputs_label.setText("; ".join(outputs))
        stripped = mapping.stripped_columns(p, t.header)
        self.stripped_label.setText(", ".join(stripped) if stripped else "nothing")

    def _choose_spreadsheet(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Open spreadsheet", "", "Spreadsheets (*.csv *.tsv *.txt *.xlsx *.xlsm *.xlsb *.xls *.ods)")
        if name:
            self._guarded(lambda: self.load_spreadsheet(Path(name)))

    def _choose_profile(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open agreement profile", "", "Agreement profiles (*.toml)")
        if name:
            self._guarded(lambda: self.load_profile(Path(name)))

    def _guarded(self, action: object) -> None:
        try:
            action()  # type: ignore[operator]
        except PseudodeskError as error:
            QMessageBox.warning(self, "pseudodesk", str(error))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pseudodesk", description="pseudodesk desktop app")
    parser.add_argument("--demo", action="store_true", help="open the bundled demo spreadsheet and example profile")
    parser.add_argument("--profile", type=Path, help="agreement profile to open")
    parser.add_argument("--input", type=Path, help="spreadsheet to open")
    parser.add_argument("--screenshot", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="open, draw once and exit (installer self-check)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("pseudodesk")
    window = MainWindow()
    try:
        if args.demo:
            mapping = load_mapping(resource_path(*DEMO_MAPPING))
            window.load_profile(resource_path(*EXAMPLE_PROFILE))
            window.load_spreadsheet(resource_path(*DEMO_SPREADSHEET), sheet=mapping.sheet, mapping=mapping)
            window.statusBar().showMessage("Demo: synthetic people, example Lincolnshire LCP Scorecard profile")
        if args.profile:
            window.load_profile(args.profile)
        if args.input:
            window.load_spreadsheet(args.input)
    except PseudodeskError as error:
        QMessageBox.warning(window, "pseudodesk", str(error))
    window.show()
    if args.screenshot or args.smoke:
        def finish() -> None:
            if args.screenshot:
                window.grab().save(str(args.screenshot))
            app.quit()

        QTimer.singleShot(500, finish)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
