"""The Audit window's widgets, built and laid out (its behaviour is in
:mod:`pseudodesk.gui.audit.window`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from pseudodesk.gui.audit.filters import AuditFilterBox
from pseudodesk.gui.audit.model import AuditEntriesModel, AuditFilterProxy, entries_table

if TYPE_CHECKING:
    from pseudodesk.gui.audit.window import AuditWindow

    _Base = AuditWindow
else:
    _Base = object


class AuditLayout(_Base):
    """Builds the widgets of :class:`~pseudodesk.gui.audit.window.AuditWindow` (mixed into it)."""

    def _build(self) -> None:
        self.banner = QLabel()
        self.banner.setObjectName("verification_banner")
        self.banner.setTextFormat(Qt.TextFormat.PlainText)  # problem details quote the log: never rich text
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setAccessibleName("Verification status")

        self.refresh_button = self._button(
            "&Refresh", "Read the audit log again", "Read the log again and check it (F5)"
        )
        self.verify_button = self._button(
            "&Verify and record",
            "Verify the audit log and record the verification",
            "Check every signature and the hash chain, and record the "
            "verification in the log (as pseudodesk-cli audit verify does)",
        )
        self.pinned_verify_button = self._button(
            "Verify against pinned &key\u2026",
            "Verify the audit log against a pinned installation key",
            "Check the log against an installation-key.json you kept (pseudodesk-cli audit public-key)",
        )
        self.inspect_button = self._button(
            "&Inspect a package\u2026",
            "Inspect an exported package",
            "Check an exported package's manifest signature and hashes, and optionally its content",
        )
        actions = QHBoxLayout()
        for button in (self.refresh_button, self.verify_button, self.pinned_verify_button, self.inspect_button):
            actions.addWidget(button)
        actions.addStretch(1)

        self.filters = AuditFilterBox()
        f = self.filters  # the window keeps its names for the filter controls
        self.search_edit, self.event_combo, self.agreement_combo = f.search_edit, f.event_combo, f.agreement_combo
        self.operator_combo, self.from_check, self.from_date = f.operator_combo, f.from_check, f.from_date
        self.to_check, self.to_date, self.clear_filters_button = f.to_check, f.to_date, f.clear_filters_button
        self.count_label = f.count_label

        self.model = AuditEntriesModel(self)
        self.proxy = AuditFilterProxy(self.model, self)
        self.table = entries_table(self.proxy)
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

        self.csv_button = self._button(
            "E&xport CSV\u2026",
            "Export the listed entries as CSV",
            "The entries shown, as pseudodesk-cli audit report --csv writes them",
        )
        self.pdf_button = self._button(
            "Save report as P&DF\u2026",
            "Save the audit report as PDF",
            "The verification status and the entries shown, one section per export",
        )
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
        layout.addWidget(self.filters)
        layout.addWidget(splitter, 1)
        layout.addLayout(outputs)
        self.setCentralWidget(central)

        order: list[QWidget] = [
            self.refresh_button,
            self.verify_button,
            self.pinned_verify_button,
            self.inspect_button,
            self.search_edit,
            self.event_combo,
            self.agreement_combo,
            self.operator_combo,
            self.from_check,
            self.from_date,
            self.to_check,
            self.to_date,
            self.clear_filters_button,
            self.table,
            self.details_view,
            self.csv_button,
            self.pdf_button,
            self.print_button,
        ]
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
