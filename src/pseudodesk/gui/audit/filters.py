"""The Audit window's filter box: free text, event, agreement, operator and a date range.

It turns its controls into an :class:`~pseudodesk.core.audit.listing.AuditSelection`
(:meth:`AuditFilterBox.selection`), offers what the log holds (:meth:`AuditFilterBox.offer`)
and clears itself without signalling (:meth:`AuditFilterBox.reset`); the window connects
its controls and applies the selection to the table, the report and the CSV.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
)

from pseudodesk.core.audit.listing import AuditSelection, Entry, filter_choices
from pseudodesk.gui.widgets import buddy_label


def _combo(accessible: str) -> QComboBox:
    combo = QComboBox()
    combo.setAccessibleName(accessible)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(12)
    return combo


def _date_edit(accessible: str) -> QDateEdit:
    edit = QDateEdit(QDate.currentDate())
    edit.setAccessibleName(accessible)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd/MM/yyyy")
    edit.setEnabled(False)
    return edit


class AuditFilterBox(QGroupBox):
    """What the audit table, the printed report and the CSV list."""

    def __init__(self) -> None:
        super().__init__("Filter (the report and CSV list what is shown)")
        self.search_edit = QLineEdit()
        self.search_edit.setAccessibleName("Search entries")
        self.search_edit.setPlaceholderText("text in any column, e.g. a file name or fingerprint")
        self.search_edit.setClearButtonEnabled(True)
        self.event_combo = _combo("Event type")
        self.agreement_combo = _combo("Agreement")
        self.operator_combo = _combo("Operator")
        self.from_check = QCheckBox("&From:")
        self.from_check.setAccessibleName("Only entries from a date")
        self.from_date = _date_edit("First day")
        self.to_check = QCheckBox("&To:")
        self.to_check.setAccessibleName("Only entries up to a date")
        self.to_date = _date_edit("Last day")
        self.clear_filters_button = QPushButton("C&lear filters")
        self.clear_filters_button.setAccessibleName("Clear all filters")
        self.clear_filters_button.setToolTip("Show every entry")
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
        self.setLayout(grid)

    def offer(self, entries: Sequence[Entry]) -> None:
        """Offer the events, agreements and operators of ``entries``, keeping what is chosen, and
        move the dates not in use to the first and last day of the log."""
        offered = filter_choices(entries)
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
            for check, edit, day in (
                (self.from_check, self.from_date, offered.first),
                (self.to_check, self.to_date, offered.last),
            ):
                if not check.isChecked():
                    edit.blockSignals(True)
                    edit.setDate(QDate(day.year, day.month, day.day))
                    edit.blockSignals(False)

    def selection(self) -> AuditSelection:
        """What the controls select."""

        def day(check: QCheckBox, edit: QDateEdit) -> dt.date | None:
            if not check.isChecked():
                return None
            chosen = edit.date()
            return dt.date(chosen.year(), chosen.month(), chosen.day())

        return AuditSelection(
            since=day(self.from_check, self.from_date),
            until=day(self.to_check, self.to_date),
            agreement=self.agreement_combo.currentData(),
            operator=self.operator_combo.currentData(),
            event=self.event_combo.currentData(),
            text=self.search_edit.text().strip(),
        )

    def reset(self) -> None:
        """Select everything again, without a signal for each control."""
        for widget in (
            self.search_edit,
            self.event_combo,
            self.agreement_combo,
            self.operator_combo,
            self.from_check,
            self.to_check,
        ):
            widget.blockSignals(True)
        self.search_edit.clear()
        for combo in (self.event_combo, self.agreement_combo, self.operator_combo):
            combo.setCurrentIndex(0)
        for check, edit in ((self.from_check, self.from_date), (self.to_check, self.to_date)):
            check.setChecked(False)
            edit.setEnabled(False)
        for widget in (
            self.search_edit,
            self.event_combo,
            self.agreement_combo,
            self.operator_combo,
            self.from_check,
            self.to_check,
        ):
            widget.blockSignals(False)
