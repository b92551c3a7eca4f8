"""What the Keys window shows of the keys (the table's model, the selected key's details) and
the small widget helpers the window and its dialogs share."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont, QFontDatabase, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pseudodesk.core.keys.info import KeyInfo
from pseudodesk.core.keys.overview import (
    FINGERPRINT_COLUMN,
    KEY_COLUMNS,
    STATUS_COLUMN,
    dates_text,
    held_text,
    key_row,
    kind_text,
    status_description,
    status_tooltip,
)

AnyIndex = QModelIndex | QPersistentModelIndex


# --- small helpers ---------------------------------------------------------------------------


def fingerprint_font(point_size: int = 20) -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSize(point_size)
    return font


def selectable(label: QLabel, *, keyboard: bool = False) -> QLabel:
    flags = Qt.TextInteractionFlag.TextSelectableByMouse
    if keyboard:
        flags |= Qt.TextInteractionFlag.TextSelectableByKeyboard
    label.setTextInteractionFlags(flags)
    return label


def wrapped(text: str = "", accessible: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    if accessible:
        label.setAccessibleName(accessible)
    return label


def fit_dialog(dialog: QWidget, chars: int) -> None:
    """Size a dialog to its contents, at least ``chars`` average characters wide, with wrapped text whole.

    The layout keeps enforcing its own minimum size (no explicit minimum is set), and the
    height is computed for the chosen width, so word-wrapped labels are not cut at any scale.
    """
    layout = dialog.layout()
    assert layout is not None
    layout.activate()
    width = max(layout.sizeHint().width(), dialog.fontMetrics().averageCharWidth() * chars)
    height = dialog.heightForWidth(width) if layout.hasHeightForWidth() else layout.sizeHint().height()
    dialog.resize(width, max(height, layout.minimumSize().height()))


def wide_enough(edit: QLineEdit, sample: str) -> None:
    """A line edit wide enough to show ``sample`` whole in its own font."""
    edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance(sample + "MM"))


def no_auto_default(*buttons: QPushButton) -> None:
    """Enter in a field or the table must not press a button that was not meant."""
    for button in buttons:
        button.setAutoDefault(False)
        button.setDefault(False)


# --- the table -------------------------------------------------------------------------------


class KeyTableModel(QAbstractTableModel):
    """The key store's metadata (``KeyStore.keys()``), one row per key; never the keys themselves."""

    STRETCH_COLUMNS = (0, 3)  # name and agreement: free text, elided when the window is narrow

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._keys: list[KeyInfo] = []

    def set_keys(self, keys: Sequence[KeyInfo]) -> None:
        self.beginResetModel()
        self._keys = list(keys)
        self.endResetModel()

    def keys(self) -> list[KeyInfo]:
        return list(self._keys)

    def key_at(self, row: int) -> KeyInfo | None:
        return self._keys[row] if 0 <= row < len(self._keys) else None

    def row_of(self, key_id: str) -> int:
        for row, info in enumerate(self._keys):
            if info.id == key_id:
                return row
        return -1

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(self._keys)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(KEY_COLUMNS)

    def cell_text(self, info: KeyInfo, column: int) -> str:
        return key_row(info)[column]

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        info = self.key_at(index.row()) if index.isValid() else None
        if info is None:
            return None
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.cell_text(info, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return status_tooltip(info) if column == STATUS_COLUMN else self.cell_text(info, column)
        if role == Qt.ItemDataRole.FontRole and column == FINGERPRINT_COLUMN:
            return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        if role == Qt.ItemDataRole.FontRole and info.status == "retired":
            font = QFont()
            font.setItalic(True)
            return font
        return None

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,  # noqa: N802
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return KEY_COLUMNS[section]
        return None


def key_table(model: KeyTableModel, metrics: QFontMetrics) -> QTableView:
    """The key list: whole rows, one at a time, read-only; free text elided, never wrapped."""
    table = QTableView()
    table.setModel(model)
    table.setAccessibleName("Keys on this computer")
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setTabKeyNavigation(False)  # Tab leaves the table, arrow keys move within it
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    for column in KeyTableModel.STRETCH_COLUMNS:  # long free text shares what is left, elided
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
    header.setStretchLastSection(False)
    header.setMinimumSectionSize(metrics.averageCharWidth() * 8)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.setMinimumHeight(metrics.height() * 7)
    return table


# --- the selected key ------------------------------------------------------------------------


class KeyDetails(QGroupBox):
    """The selected key's details, its fingerprint large enough to read out, and a copy button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Selected key", parent)
        self.setAccessibleName("Selected key")
        layout = QVBoxLayout(self)
        fingerprint_row = QHBoxLayout()
        self.fingerprint_label = selectable(QLabel("—"), keyboard=True)
        self.fingerprint_label.setFont(fingerprint_font(20))
        self.fingerprint_label.setAccessibleName("Fingerprint")
        self.fingerprint_label.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # reachable with Tab, to read or select
        self.fingerprint_label.setToolTip(
            "Read this out to partners over the phone; it names the key without revealing it"
        )
        self.copy_button = QPushButton("&Copy fingerprint")
        self.copy_button.setAccessibleName("Copy fingerprint")
        fingerprint_caption = QLabel("Fingerprint:")
        fingerprint_caption.setBuddy(self.fingerprint_label)
        fingerprint_row.addWidget(fingerprint_caption)
        fingerprint_row.addWidget(self.fingerprint_label, stretch=1)
        fingerprint_row.addWidget(self.copy_button)
        layout.addLayout(fingerprint_row)

        form = QFormLayout()
        self.name_label = QLabel()
        self.id_label = QLabel()
        self.status_label = QLabel()
        self.agreement_label = QLabel()
        self.dates_label = QLabel()
        self.held_label = QLabel()
        rows = (
            ("Name:", self.name_label),
            ("Id:", self.id_label),
            ("Status:", self.status_label),
            ("Agreement:", self.agreement_label),
            ("Dates:", self.dates_label),
            ("Held in:", self.held_label),
        )
        for caption, label in rows:
            label.setWordWrap(True)
            selectable(label)
            label.setAccessibleName(caption.rstrip(":"))
            form.addRow(caption, label)
        layout.addLayout(form)
        self.show_key(None)

    def show_key(self, info: KeyInfo | None) -> None:
        self.copy_button.setEnabled(info is not None)
        if info is None:
            self.fingerprint_label.setText("—")
            self.fingerprint_label.setAccessibleDescription("No key selected")
            for label in (self.id_label, self.status_label, self.agreement_label, self.dates_label, self.held_label):
                label.setText("")
            self.name_label.setText("Select a key in the list to see its details.")
            return
        self.fingerprint_label.setText(info.fingerprint)
        self.fingerprint_label.setAccessibleDescription(" ".join(info.fingerprint.replace("-", " ")))
        self.name_label.setText(f"{info.name} ({kind_text(info)})")
        self.id_label.setText(info.id)
        self.status_label.setText(status_description(info))
        self.agreement_label.setText(info.agreement or "(none given)")
        self.dates_label.setText(dates_text(info))
        self.held_label.setText(held_text(info))
