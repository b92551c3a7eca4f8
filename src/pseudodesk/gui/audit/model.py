"""The audit log's entries as a Qt table model, the proxy that sorts and filters them, and the table view."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from pseudodesk.core.audit.listing import (
    SEQ,
    SUMMARY,
    TABLE_COLUMNS,
    TIME,
    AuditSelection,
    Entry,
    column_text,
    entry_tooltip,
)
from pseudodesk.core.audit.log import AuditVerification

AnyIndex = QModelIndex | QPersistentModelIndex

SORT_ROLE = Qt.ItemDataRole.UserRole + 1

_PROBLEM_ROW = QColor("#fdecea")
_PROBLEM_TEXT = QColor("#222222")


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

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,  # noqa: N802
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
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


def entries_table(proxy: AuditFilterProxy) -> QTableView:
    """The entries, sortable by any column (in log order at first), one whole row selected at a time."""
    table = QTableView()
    table.setTabKeyNavigation(False)  # Tab leaves the table; arrow keys move within it
    table.setModel(proxy)
    table.setAccessibleName("Audit log entries")
    table.setSortingEnabled(True)
    table.sortByColumn(SEQ, Qt.SortOrder.AscendingOrder)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return table
