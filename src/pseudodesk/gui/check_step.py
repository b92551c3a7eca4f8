"""Step 3, Check: every value checked against the agreement's conventions, shown plainly.

The report is the core's :class:`~pseudodesk.core.check.report.CheckReport` from
:func:`pseudodesk.core.run.check.check` (the same code path as the export): per-field bars
of valid / normalised / invalid / empty, the problems with row numbers and reasons, the
decisions taken (e.g. dates read day-first), identifiers found in kept columns, and what
the agreement's row policy does. Problems can be saved as CSV (it holds source values,
so it stays on this computer).
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from pseudodesk.core.check.report import ACTIONS, CheckReport
from pseudodesk.core.check.risk import RiskReport
from pseudodesk.core.package.reports import LOCAL_ONLY, report_to_csv, report_to_html, risk_to_html
from pseudodesk.core.run.check import assess, check
from pseudodesk.gui import widgets
from pseudodesk.gui.errors import show_error
from pseudodesk.gui.generalisation_panel import GeneralisationPanel
from pseudodesk.gui.jobs import Cancel, JobBridge, Progress
from pseudodesk.gui.models import FieldStatsModel, ProblemsModel
from pseudodesk.gui.session import Session

AnyIndex = QModelIndex | QPersistentModelIndex
# valid, normalised, invalid, empty: colour-blind-safe (Okabe-Ito) and with text counts beside them
BAR_COLOURS = (QColor("#009E73"), QColor("#56B4E9"), QColor("#D55E00"), QColor("#C8C8C8"))


class BarDelegate(QStyledItemDelegate):
    """Paints a field's valid / normalised / invalid / empty shares as one stacked bar."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        counts = index.data(FieldStatsModel.BAR_ROLE)
        if not counts:
            super().paint(painter, option, index)
            return
        total = sum(counts) or 1
        rect: QRect = option.rect.adjusted(4, 5, -4, -5)  # type: ignore[attr-defined]
        x = rect.left()
        painter.save()
        for count, colour in zip(counts, BAR_COLOURS):
            width = round(rect.width() * count / total)
            if count and width == 0:
                width = 2  # a single invalid value is still visible
            painter.fillRect(QRect(x, rect.top(), width, rect.height()), colour)
            x += width
        painter.restore()


class CheckStep(QWidget):
    title = "Check"

    def __init__(self, session: Session, bridge: JobBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.bridge = bridge
        self.risk: RiskReport | None = None
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.run_button = QPushButton("&Run checks")
        self.run_button.setAccessibleName("Run checks")
        self.run_button.clicked.connect(self.run_checks)
        top.addWidget(self.run_button)
        self.summary_label = QLabel("Checks have not run yet.")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary_label.setAccessibleName("Check summary")
        top.addWidget(self.summary_label, stretch=1)
        layout.addLayout(top)

        legend = QLabel(
            " ".join(
                f"<span style='color:{c.name()};'>&#9632;</span> {name}"
                for c, name in zip(
                    BAR_COLOURS, ("valid", "normalised (changed to the agreement's form)", "invalid", "empty")
                )
            )
        )
        legend.setAccessibleName("Bar colours")
        legend.setWordWrap(True)  # on a narrow window it wraps rather than making the step scroll sideways
        layout.addWidget(legend)
        self.fields_view = QTableView()
        self.fields_view.setTabKeyNavigation(False)  # Tab leaves the table; arrow keys move within it
        self.fields_view.setAccessibleName("Results per field")
        self.fields_view.setItemDelegateForColumn(FieldStatsModel.BAR_COLUMN, BarDelegate(self.fields_view))
        self.fields_view.verticalHeader().setVisible(False)
        self.fields_view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.fields_view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        layout.addWidget(self.fields_view, stretch=2)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Check details")
        self.problems_view = QTableView()
        self.problems_view.setTabKeyNavigation(False)  # Tab leaves the table; arrow keys move within it
        self.problems_view.setAccessibleName("Problems, identical ones grouped")
        self.problems_view.setWordWrap(False)
        self.problems_view.verticalHeader().setVisible(False)
        self.problems_view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.problems_view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.findings_list = QListWidget()
        self.findings_list.setAccessibleName("Identifiers found in kept columns")
        self.notes_list = QListWidget()
        self.notes_list.setAccessibleName("Decisions and notes")
        self.notes_list.setWordWrap(True)
        self.risk_view = QTextBrowser()
        self.risk_view.setAccessibleName("Re-identification risk")
        self.risk_view.document().setDefaultStyleSheet(
            "h2 { font-size: large; } th { text-align: left; } th, td { padding: 2px 10px 2px 0; }"
        )
        self.tabs.addTab(self.problems_view, "&Problems")
        self.tabs.addTab(self.findings_list, "&Identifiers in kept columns")
        self.tabs.addTab(self.notes_list, "&Decisions and notes")
        # The risk report (verdict in words first), and under it the generalisations that
        # would meet k, one of which can be written into a copy of the profile.
        self.generalisations = GeneralisationPanel()
        risk_tab = QWidget()
        risk_layout = QVBoxLayout(risk_tab)
        risk_layout.setContentsMargins(0, 0, 0, 0)
        risk_layout.addWidget(self.risk_view, stretch=1)
        risk_layout.addWidget(self.generalisations)
        self.tabs.addTab(risk_tab, "Re-identification ris&k")
        layout.addWidget(self.tabs, stretch=3)

        bottom = QHBoxLayout()
        self.save_csv_button = QPushButton("Save problems as C&SV…")
        self.save_csv_button.setAccessibleName("Save problems as CSV")
        self.save_csv_button.clicked.connect(self.choose_csv_destination)
        self.save_html_button = QPushButton("Save report as HT&ML…")
        self.save_html_button.setAccessibleName("Save the check report as HTML")
        self.save_html_button.clicked.connect(self.choose_html_destination)
        local = QLabel(LOCAL_ONLY)
        local.setWordWrap(True)
        local.setStyleSheet("color: #555;")
        bottom.addWidget(self.save_csv_button)
        bottom.addWidget(self.save_html_button)
        bottom.addWidget(local, stretch=1)
        layout.addLayout(bottom)
        session.report_changed.connect(self._show_report)
        self._show_report()

    # --- running -----------------------------------------------------------------------

    def run_checks(self) -> None:
        s = self.session
        if self.bridge.busy or not s.ready_to_check:
            if not s.ready_to_check:
                self.summary_label.setText(s.mapping_problem() or "Load a spreadsheet first.")
            return
        profile, table, mapping = s.profile, s.table, s.mapping
        assert profile is not None and table is not None and mapping is not None
        self.summary_label.setText("Checking…")
        with_risk = bool(profile.quasi_identifiers())
        key = s.state_key()

        def work(progress: Progress, cancel: Cancel) -> tuple[CheckReport, RiskReport | None]:
            if with_risk:
                risk, report = assess(profile, table, mapping, progress=progress, cancel=cancel)
                return report, risk
            return check(profile, table, mapping, progress=progress, cancel=cancel), None

        self.bridge.start(
            f"checking {table.path.name}",
            work,
            on_done=lambda outcome: self._checked(outcome, key),
            on_cancelled=lambda: self.summary_label.setText("Checks cancelled."),
        )

    def _checked(self, outcome: tuple[CheckReport, RiskReport | None], key: object) -> None:
        report, risk = outcome
        if key != self.session.state_key():  # the file, agreement or mapping changed meanwhile
            self.summary_label.setText("The file, agreement or mapping changed while checking: check again.")
            return
        self.risk = risk
        self.session.set_report(report, key)

    # --- showing -----------------------------------------------------------------------

    def _show_report(self) -> None:
        report = self.session.report
        for button in (self.save_csv_button, self.save_html_button):
            button.setEnabled(report is not None)
        self.run_button.setEnabled(self.session.ready_to_check and not self.bridge.busy)
        if report is None:
            self.risk = None
            self.risk_view.clear()
            self.generalisations.show_options(None, None)
            self.fields_view.setModel(None)
            self.problems_view.setModel(None)
            self.findings_list.clear()
            self.notes_list.clear()
            self.summary_label.setText(
                "Checks have not run yet."
                if self.session.ready_to_check
                else "Load a spreadsheet and map its columns first."
            )
            return
        self.summary_label.setText(summary_html(report))
        fields = FieldStatsModel(report, self.fields_view)
        self.fields_view.setModel(fields)
        header = self.fields_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(FieldStatsModel.BAR_COLUMN, QHeaderView.ResizeMode.Fixed)
        header.setStretchLastSection(True)
        self.fields_view.setColumnWidth(FieldStatsModel.BAR_COLUMN, self.fontMetrics().horizontalAdvance("M") * 16)
        problems = ProblemsModel(report, self.problems_view)
        self.problems_view.setModel(problems)
        self.problems_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.problems_view.horizontalHeader().setStretchLastSection(True)
        self.tabs.setTabText(0, f"&Problems ({problems.listed:,} in {problems.rowCount():,} group(s))")
        self.findings_list.clear()
        for finding in report.findings:
            self.findings_list.addItem(
                f"Row {finding.line}, {finding.field}: looks like {finding.kind.replace('_', ' ')}"
            )
        self.tabs.setTabText(1, f"&Identifiers in kept columns ({report.identifiers_found:,})")
        self.notes_list.clear()
        for note in notes(report):
            self.notes_list.addItem(note)
        risk = self.risk if self.risk is not None and self.risk.records == report.rows_written else None
        if risk is None:
            self.risk_view.setHtml(
                "<p>No risk report: the profile names no quasi-identifiers (a kept date of "
                "birth, postcode, gender or ethnicity).</p>"
            )
            self.generalisations.show_options(None, None)
            self.tabs.setTabText(3, "Re-identification ris&k")
        else:
            self.risk_view.setHtml(risk_to_html(risk))
            self.generalisations.show_options(self.session.profile, risk)
            at_risk = f"{risk.records_at_risk:,} could be picked out" if risk.records_at_risk else "no one picked out"
            self.tabs.setTabText(3, f"Re-identification ris&k ({at_risk})")

    def choose_csv_destination(self) -> None:
        path = widgets.ask_save_path(self, "Save problems as CSV", self._beside_source("problems.csv"), "CSV (*.csv)")
        if path is not None:
            self.save_csv(path)

    def choose_html_destination(self) -> None:
        path = widgets.ask_save_path(
            self, "Save check report", self._beside_source("check-report.html"), "HTML (*.html)"
        )
        if path is not None:
            self.save_html(path)

    def _beside_source(self, suffix: str) -> str:
        table = self.session.table
        return str(table.path.with_name(f"{table.path.stem}.{suffix}")) if table else suffix

    def save_csv(self, path: Path) -> None:
        self._write(path, report_to_csv(self._report()))

    def save_html(self, path: Path) -> None:
        profile = self.session.profile
        title = f"Check report: {profile.name if profile else ''}"
        self._write(path, report_to_html(self._report(), title, self.risk))

    def _report(self) -> CheckReport:
        assert self.session.report is not None
        return self.session.report

    def _write(self, path: Path, text: str) -> None:
        try:
            Path(path).write_text(text, encoding="utf-8-sig" if Path(path).suffix == ".csv" else "utf-8")
        except OSError as error:
            show_error(self, error, doing=f"saving {Path(path).name}")

    def set_busy(self, busy: bool) -> None:
        self.run_button.setEnabled(not busy and self.session.ready_to_check)
        for button in (self.save_csv_button, self.save_html_button):
            button.setEnabled(not busy and self.session.report is not None)


def summary_html(report: CheckReport) -> str:
    blocking = report.blocking_reasons()
    policy = f"The agreement's policy for an invalid value: <i>{ACTIONS[report.policy]}</i>."
    counts = (
        f"{report.rows:,} rows checked, {report.invalid_values:,} invalid value(s), "
        f"{report.rows_excluded:,} row(s) excluded, {report.rows_written:,} row(s) will be sent."
    )
    if blocking:
        reasons = "".join(f"<li>{html.escape(r)}</li>" for r in blocking)
        verdict = f"<b style='color:#a33;'>Export blocked until fixed:</b><ul>{reasons}</ul>"
    elif report.invalid_values:
        verdict = "<b style='color:#8a5a00;'>Ready to export, with problems:</b> see the list below."
    else:
        verdict = "<b style='color:#1a6b2a;'>Ready to export:</b> every value fits the agreement."
    return f"{verdict}<br>{counts}<br>{policy}"


def notes(report: CheckReport) -> list[str]:
    out: list[str] = []
    for f in report.fields.values():
        if f.decision:
            out.append(f"{f.label} ('{f.column}'): {f.decision}")
        if f.notices:
            out.append(
                f"{f.label}: {len(f.notices):,} value(s) normalised under an assumption "
                f"(first: row {f.notices[0].line}, {f.notices[0].reason})"
            )
    for name, blank in report.blank_outputs.items():
        if blank:
            out.append(f"{name}: {blank:,} cell(s) sent blank (their source value was empty or invalid)")
    if report.stripped_columns:
        out.append(f"Stripped (never leave): {', '.join(report.stripped_columns)}")
    for issue in report.source_issues:
        out.append(f"File: {issue.message}")
    if report.truncated:
        out.append(
            f"{report.truncated:,} further problem(s) counted but not listed (the list stops at 100,000 per field)"
        )
    return out
