"""The profile editor's table of output fields: one row per spreadsheet column, with the controls
that say whether it leaves, under which name, how (pseudonym or kept as checked) and in which form.

The dialog builds each row with :func:`make_row` and connects its controls; :func:`fill_form`
and :func:`row_enabled` follow the row's choices.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QFontMetrics
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from pseudodesk.core.agreement.authoring import (
    DraftField,
    convention_choices,
    convention_label,
    option_choice_label,
    output_option,
)
from pseudodesk.core.conventions import CONVENTIONS

ROLE_CHOICES = (
    (
        "pseudonym",
        "Pseudonym",
        "Replaced by a pseudonym: HMAC-SHA256 of the checked value under the project key. "
        "Partners with the same key get the same pseudonym for the same person; nobody can reverse it.",
    ),
    (
        "keep",
        "Keep as checked",
        "Sent as the convention checks and normalises it (for example a date of birth as DD/MM/YYYY).",
    ),
)

COL_INCLUDE, COL_COLUMN, COL_SAMPLES, COL_NAME, COL_ROLE, COL_CONVENTION, COL_FORM = range(7)
HEADERS = (
    "Include",
    "Spreadsheet column",
    "Sample values",
    "Output name",
    "How it leaves",
    "Convention",
    "Output form",
)
ROW_PROPERTY = "profile_row"  # widget property: the table row a cell widget belongs to


@dataclass
class RowControls:
    """The controls of one table row (one spreadsheet column)."""

    field: DraftField
    include: QCheckBox
    name: QLineEdit
    role: QComboBox
    convention: QComboBox
    form: QComboBox

    def widgets(self) -> list[QWidget]:
        return [self.include, self.name, self.role, self.convention, self.form]


def make_row(table: QTableWidget, r: int, f: DraftField, sample_colour: QBrush) -> RowControls:
    """Put the controls for ``f`` in row ``r`` of ``table``, set as the draft says (not yet connected)."""
    column = f.column or f.source.label
    include = QCheckBox()
    include.setChecked(f.include)
    include.setAccessibleName(f"Include {column}")
    include.setToolTip("Ticked: this column leaves, as set in this row. Unticked: stripped.")
    holder = QWidget()
    box = QHBoxLayout(holder)
    box.setContentsMargins(0, 0, 0, 0)
    box.setAlignment(Qt.AlignmentFlag.AlignCenter)
    box.addWidget(include)
    table.setCellWidget(r, COL_INCLUDE, holder)

    item = QTableWidgetItem(column)
    item.setToolTip(f"Column '{column}' of the spreadsheet")
    table.setItem(r, COL_COLUMN, item)
    samples = QTableWidgetItem(", ".join(f.samples))
    samples.setToolTip("\n".join(f.samples) or "(no values in the sample)")
    samples.setForeground(sample_colour)
    table.setItem(r, COL_SAMPLES, samples)

    name = QLineEdit(f.name)
    name.setAccessibleName(f"Output name for {column}")
    name.setToolTip("The column header in the export")
    table.setCellWidget(r, COL_NAME, name)

    role = QComboBox()
    role.setAccessibleName(f"How {column} leaves")
    for value, text, tip in ROLE_CHOICES:
        role.addItem(text, value)
        role.setItemData(role.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
    role.setCurrentIndex(role.findData(f.role))
    table.setCellWidget(r, COL_ROLE, role)

    convention = QComboBox()
    convention.setAccessibleName(f"Convention for {column}")
    for conv_name in convention_choices():
        convention.addItem(convention_label(conv_name), conv_name)
        convention.setItemData(convention.count() - 1, CONVENTIONS[conv_name].description, Qt.ItemDataRole.ToolTipRole)
    convention.setCurrentIndex(convention.findData(f.source.convention))
    convention.setToolTip(CONVENTIONS[f.source.convention].description)
    table.setCellWidget(r, COL_CONVENTION, convention)

    form = QComboBox()
    form.setAccessibleName(f"Output form for {column}")
    table.setCellWidget(r, COL_FORM, form)

    row = RowControls(f, include, name, role, convention, form)
    fill_form(row)
    row_enabled(row)
    return row


def fill_form(row: RowControls) -> None:
    """The output form choices of the row's convention (or what it outputs, when there is no choice)."""
    source = row.field.source
    spec = output_option(source.convention)
    row.form.blockSignals(True)
    row.form.clear()
    if spec is None:
        pseudonym = row.field.role == "pseudonym"
        row.form.addItem("64-character pseudonym" if pseudonym else CONVENTIONS[source.convention].output_format, "")
        row.form.setToolTip("This convention has one output form")
    else:
        for choice in spec.choices:
            row.form.addItem(option_choice_label(source.convention, choice), choice)
        row.form.setCurrentIndex(max(0, row.form.findData(source.options.get(spec.name, spec.default))))
        row.form.setToolTip(spec.help[:1].upper() + spec.help[1:])
    row.form.blockSignals(False)
    row.form.setProperty("has_choice", spec is not None)


def row_enabled(row: RowControls) -> None:
    on = row.field.include
    for widget in (row.name, row.role, row.convention):
        widget.setEnabled(on)
    row.form.setEnabled(on and bool(row.form.property("has_choice")))


def size_columns(table: QTableWidget, metrics: QFontMetrics) -> None:
    """Columns wide enough for their controls and headers; sample values are cut short (with a tooltip)."""
    head = table.horizontalHeader()
    head.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    head.setStretchLastSection(True)
    pad = 2 * metrics.horizontalAdvance("M")
    for c, title in enumerate(HEADERS):
        width = metrics.horizontalAdvance(title) + pad
        if c in (COL_COLUMN, COL_SAMPLES):
            table.resizeColumnToContents(c)
            width = max(width, table.columnWidth(c))
        else:
            for r in range(table.rowCount()):
                widget = table.cellWidget(r, c)
                if widget is not None:
                    width = max(width, widget.sizeHint().width() + 4)
        if c == COL_COLUMN:
            width = min(width, metrics.horizontalAdvance("M") * 14)
        if c == COL_SAMPLES:
            width = min(width, metrics.horizontalAdvance("M") * 16)
        table.setColumnWidth(c, width)
    table.resizeRowsToContents()
