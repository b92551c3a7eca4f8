"""The main window: the guided Load -> Map -> Check -> Export flow with a visible step list.

Each step is a page over the shared :class:`~pseudodesk.gui.session.Session`; the step
list shows each one's state (done, needs attention) and the user moves back and forward
freely. One :class:`~pseudodesk.gui.jobs.JobBridge` runs all background work; while it
runs, a progress bar and Cancel button show at the bottom and the window stays
responsive. Signals are connected here, in one place.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from pseudodesk import __version__
from pseudodesk.core.agreement.mapping import SourceMapping, load_mapping
from pseudodesk.core.agreement.model import Profile
from pseudodesk.core.keys.agreement_package import AGREEMENT_SUFFIX
from pseudodesk.core.keys.agreements import InstalledAgreement
from pseudodesk.core.keys.installation import AuditTrail
from pseudodesk.core.keys.pending import PENDING_FOLDER
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.resources import DEMO_MAPPING, DEMO_SPREADSHEET, resource_path
from pseudodesk.core.run.demo import demo_profile
from pseudodesk.core.run.selftest import SelfTestResult
from pseudodesk.gui.agreements import AgreementInstaller, AgreementPacker
from pseudodesk.gui.check_step import CheckStep
from pseudodesk.gui.errors import show_error
from pseudodesk.gui.export_step import ExportStep
from pseudodesk.gui.jobs import JobBridge
from pseudodesk.gui.load_step import LoadStep, dropped_file
from pseudodesk.gui.map_step import MapStep
from pseudodesk.gui.session import Session
from pseudodesk.gui.widgets import ElidedLabel, StepPages

DONE, ATTENTION, TODO = "done", "needs attention", ""
CUSTODIAN_SETTING = "custodian_mode"  # QSettings: the key custodian's actions shown
PROBLEMS, BLOCKED = "ready, with problems", "blocked"  # the Check step: amber, red
STEP_HINTS = (
    "Open the spreadsheet you will send.",
    "Choose the agreement and check which column feeds which field.",
    "See every value checked against the agreement.",
    "Write the encrypted file and its signed manifest.",
)


class MainWindow(QMainWindow):
    def __init__(self, *, demo: bool = False, selftest: SelfTestResult | None = None) -> None:
        super().__init__()
        self.setObjectName("main_window")
        self.setWindowTitle("DEMO" if demo else "")  # Qt adds the application's name: "DEMO — pseudodesk"
        self.resize(1180, 780)  # then fitted to the screen (_fit_to_screen)
        self.setAcceptDrops(True)
        self.session = Session(demo=demo, parent=self)
        self.bridge = JobBridge(self)
        self._close_when_idle = False
        self._keys_window: QWidget | None = None
        self._audit_window: QWidget | None = None
        self._help_windows: dict[str, QWidget] = {}
        self.installer = AgreementInstaller(self, self.bridge)  # File > Install agreement..., or a file opened
        self.packer = AgreementPacker(self, self.bridge)  # Tools > Pack agreement..., custodian mode

        self.load_step = LoadStep(self.session, self.bridge)
        self.map_step = MapStep(self.session, self.bridge)
        self.check_step = CheckStep(self.session, self.bridge)
        self.export_step = ExportStep(
            self.session, self.bridge, selftest_failed=selftest is not None and not selftest.ok
        )
        self.steps: list[LoadStep | MapStep | CheckStep | ExportStep] = [
            self.load_step,
            self.map_step,
            self.check_step,
            self.export_step,
        ]

        central = QWidget()
        outer = QVBoxLayout(central)
        self.demo_banner = QLabel(
            "<b>DEMO</b>: synthetic people, an example profile, a random DEMO key and a DEMO recipient "
            "certificate whose private key is public. Never use demo mode for real data."
        )
        self.demo_banner.setObjectName("demo_banner")
        self.demo_banner.setWordWrap(True)
        self.demo_banner.setStyleSheet(
            "QLabel#demo_banner { background: #ffd23f; color: #000; padding: 6px; border: 1px solid #c9a100; }"
        )
        self.demo_banner.setAccessibleName("Demo mode warning")
        self.demo_banner.setVisible(demo)
        outer.addWidget(self.demo_banner)
        self.selftest = selftest
        failures = selftest.failures() if selftest is not None else []
        self.selftest_banner = QLabel(
            "<b>Self-test failed: exports are switched off.</b> "
            + "; ".join(f"{c.name}: {c.detail}" for c in failures)
            + " Ask your IT support to reinstall pseudodesk (Help, About shows the version)."
        )
        self.selftest_banner.setObjectName("selftest_banner")
        self.selftest_banner.setWordWrap(True)
        self.selftest_banner.setStyleSheet(
            "QLabel#selftest_banner { background: #fdecea; color: #000; padding: 6px; border: 1px solid #c62828; }"
        )
        self.selftest_banner.setAccessibleName("Self-test failure")
        self.selftest_banner.setVisible(bool(failures))
        outer.addWidget(self.selftest_banner)

        body = QHBoxLayout()
        self.step_list = QListWidget()
        self.step_list.setAccessibleName("Steps")
        self.step_list.setIconSize(QSize(20, 20))
        self.step_list.setSpacing(4)
        font = self.step_list.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.step_list.setFont(font)
        for number, step in enumerate(self.steps, start=1):
            item = QListWidgetItem(f"{number}. {step.title}")
            item.setToolTip(STEP_HINTS[number - 1])
            self.step_list.addItem(item)
        self.step_list.setFixedWidth(max(self.step_list.sizeHintForColumn(0) + 150, 210))
        body.addWidget(self.step_list)
        self.pages = StepPages()
        self.pages.default_button = lambda: (
            self.export_step.export_button if self.pages.currentWidget() is self.export_step else self.next_button
        )
        for step in self.steps:
            self.pages.add_step(step)
        body.addWidget(self.pages, stretch=1)
        outer.addLayout(body, stretch=1)

        bottom = QHBoxLayout()
        self.back_button = QPushButton("◀ &Back")
        self.back_button.setAccessibleName("Previous step")
        self.next_button = QPushButton("Ne&xt ▶")
        self.next_button.setAccessibleName("Next step")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setAccessibleName("Progress")
        self.progress.setTextVisible(True)
        self.progress_label = ElidedLabel("")
        self.progress_label.setAccessibleName("What is happening")
        self.cancel_button = QPushButton("&Cancel")
        self.cancel_button.setAccessibleName("Cancel the running job")
        bottom.addWidget(self.back_button)
        bottom.addStretch(1)
        bottom.addWidget(self.progress_label, stretch=1)
        bottom.addWidget(self.progress, stretch=1)
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(self.next_button)
        outer.addLayout(bottom)
        self.setCentralWidget(central)
        self._show_progress(False)
        self._build_menus()
        self._connect()
        for button in central.findChildren(QPushButton):
            button.setAutoDefault(True)  # Enter presses the focused button, as Space does
        self.go_to(0)
        self.refresh_steps()
        # The version stays at the right; messages on the left are about now, and go with the step.
        self.version_label = QLabel(f"pseudodesk {__version__}" + (" — DEMO mode" if demo else ""))
        self.statusBar().addPermanentWidget(self.version_label)
        self._restore_window_state()
        self._fit_to_screen()
        QTimer.singleShot(0, self._recover_interrupted)

    def _fit_to_screen(self) -> None:
        """Never larger than the screen it opens on (a laptop at 1366x768, or at 150% scaling);
        the steps scroll rather than push Back and Next out of reach."""
        screen = self.screen()
        if screen is None:
            return
        room = screen.availableGeometry()
        width, height = min(self.width(), room.width() - 16), min(self.height(), room.height() - 40)
        if (width, height) != (self.width(), self.height()):
            self.resize(max(width, 320), max(height, 240))
            self.move(room.topLeft())

    def _recover_interrupted(self) -> None:
        """Undo (and record) exports a crash or a shutdown stopped part-way, and say so."""
        if self.session.demo or not any((KeyStore().directory / PENDING_FOLDER).glob("*.json")):
            return
        try:
            found = AuditTrail(KeyStore()).recover_interrupted()
        except Exception as error:  # noqa: BLE001 (shown; the next start tries again)
            show_error(self, error, doing="undoing an export that was stopped part-way")
            return
        if found:
            self.recovered_box = QMessageBox(
                QMessageBox.Icon.Warning,
                "An export was not completed",
                "\n\n".join(x.describe() for x in found),
                QMessageBox.StandardButton.Ok,
                self,
            )
            self.recovered_box.setObjectName("interrupted_export_dialog")
            self.recovered_box.open()

    # --- wiring (one place) --------------------------------------------------------------

    def _connect(self) -> None:
        s = self.session
        self.step_list.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.pages.currentChanged.connect(self._page_shown)
        self.back_button.clicked.connect(lambda: self.go_to(self.pages.currentIndex() - 1))
        self.next_button.clicked.connect(lambda: self.go_to(self.pages.currentIndex() + 1))
        self.cancel_button.clicked.connect(self.cancel_job)
        self.bridge.busy_changed.connect(self._busy_changed)
        self.bridge.progress_changed.connect(self._progress_changed)
        for signal in (s.table_changed, s.profile_changed, s.mapping_changed, s.report_changed, s.exported):
            signal.connect(self.refresh_steps)
        for signal in (s.table_changed, s.profile_changed, s.mapping_changed):
            signal.connect(self._update_next)
        s.table_changed.connect(self._table_loaded)
        s.profile_changed.connect(self.export_step.refresh)
        s.report_changed.connect(self.export_step._update_ready)
        self.export_step.keys_requested.connect(self.show_keys)
        self.export_step.check_requested.connect(lambda: self.go_to(2))
        self.map_step.install_requested.connect(self.installer.choose)
        self.installer.installed.connect(self._agreement_installed)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "Install &agreement…", self.installer.choose)
        self._action(file_menu, "Open &spreadsheet…", self.load_step.choose_file, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Open agreement &profile file (not approved)…", self.map_step.choose_profile)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        tools = self.menuBar().addMenu("&Tools")
        self._action(tools, "Project &keys…", self.show_keys)
        self.custodian_action = self._action(
            tools, "&Custodian mode (create, rotate and share keys)", self._set_custodian
        )
        self.custodian_action.setCheckable(True)
        self.custodian_action.setChecked(QSettings().value(CUSTODIAN_SETTING, False, type=bool))
        self.pack_action = self._action(tools, "&Pack agreement for a partner…", self.packer.choose)
        self.pack_action.setVisible(self.custodian_action.isChecked())
        self._action(tools, "&Audit log…", self.show_audit)
        help_menu = self.menuBar().addMenu("&Help")
        self._action(
            help_menu, "&User guide", lambda: self.show_guide("user-guide.md"), QKeySequence.StandardKey.HelpContents
        )
        self._action(help_menu, "&Information governance guide", lambda: self.show_guide("ig-guide.md"))
        help_menu.addSeparator()
        self._action(help_menu, "&About pseudodesk", self.show_about)

    def _action(
        self, menu: object, text: str, slot: object, shortcut: QKeySequence.StandardKey | None = None
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)  # type: ignore[attr-defined]
        return action

    # --- navigation --------------------------------------------------------------------

    def go_to(self, index: int) -> None:
        index = max(0, min(index, len(self.steps) - 1))
        self.step_list.setCurrentRow(index)
        self.pages.setCurrentIndex(index)

    def _page_shown(self, index: int) -> None:
        self.statusBar().clearMessage()  # a message about another step is old news here
        self.back_button.setEnabled(index > 0)
        self._update_next()
        if self.step_list.currentRow() != index:
            self.step_list.setCurrentRow(index)
        if (
            self.pages.widget(index) is self.check_step
            and self.session.report is None
            and self.session.ready_to_check
            and not self.bridge.busy
        ):
            self.check_step.run_checks()  # the Check step shows results, not an empty page
        if self.pages.widget(index) is self.export_step:
            self.export_step.refresh()

    def _table_loaded(self) -> None:
        if self.pages.currentWidget() is self.load_step and self.session.profile is None:
            self.statusBar().showMessage("Loaded. Next: choose the agreement (step 2).", 15_000)

    def _update_next(self) -> None:
        """Next is off at the last step, and at the Map step until the mapping can be used
        (every needed field mapped, every guess from values alone confirmed)."""
        index = self.pages.currentIndex()
        problem = self.session.mapping_problem() if self.pages.widget(index) is self.map_step else ""
        self.next_button.setEnabled(index < len(self.steps) - 1 and not problem)
        self.next_button.setDefault(index < len(self.steps) - 1)  # drawn as the step's default
        self.next_button.setToolTip(f"First {problem}" if problem else "")

    def step_state(self, index: int) -> str:
        s = self.session
        if index == 0:
            return DONE if s.table is not None else TODO
        if index == 1:
            if s.profile is None or s.table is None:
                return TODO
            return ATTENTION if s.mapping_problem() else DONE
        if index == 2:
            if s.report is None:
                return TODO
            if s.report.blocking_reasons():
                return BLOCKED
            return PROBLEMS if s.report.invalid_values or s.report.rows_excluded else DONE
        return DONE if s.last_result is not None else TODO

    def refresh_steps(self) -> None:
        style = self.style()
        icons = {
            DONE: style.standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton),
            ATTENTION: style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning),
            PROBLEMS: style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning),
            BLOCKED: style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical),
            TODO: QIcon(),
        }
        for index, step in enumerate(self.steps):
            state = self.step_state(index)
            item = self.step_list.item(index)
            item.setIcon(icons[state])
            item.setText(f"{index + 1}. {step.title}" + (f"\n    {state}" if state else ""))
            item.setData(
                Qt.ItemDataRole.AccessibleTextRole,
                f"Step {index + 1}, {step.title}" + (f", {state}" if state else ", not done yet"),
            )
            item.setData(Qt.ItemDataRole.UserRole, state)

    # --- jobs -----------------------------------------------------------------------------

    def _busy_changed(self, busy: bool) -> None:
        self._show_progress(busy)
        for step in self.steps:
            step.set_busy(busy)
        if busy:
            self.cancel_button.setEnabled(True)
            self.cancel_button.setText("&Cancel")
        elif self._close_when_idle:
            self.close()

    def _show_progress(self, busy: bool) -> None:
        for widget in (self.progress, self.progress_label, self.cancel_button):
            widget.setVisible(busy)
        if not busy:
            self.progress.setValue(0)

    def _progress_changed(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.progress_label.setText(message)

    def cancel_job(self) -> None:
        self.bridge.cancel()
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Stopping…")
        self.progress_label.setText("Stopping: nothing will be left behind…")

    # --- loading from the command line ------------------------------------------------------

    def open_demo(self) -> None:
        mapping = load_mapping(resource_path(*DEMO_MAPPING))
        self.open(demo_profile(), resource_path(*DEMO_SPREADSHEET), mapping=mapping)

    def open(self, profile: Profile | None, spreadsheet: Path | None, *, mapping: SourceMapping | None = None) -> None:
        if profile is not None:
            self.session.set_profile(profile)
        if spreadsheet is not None:
            sheet = mapping.sheet if mapping else None
            header_row = mapping.header_row if mapping else None  # None: found among the first rows
            self.load_step.open_file(spreadsheet, sheet=sheet, header_row=header_row, mapping=mapping)

    # --- other windows -------------------------------------------------------------------

    def _set_custodian(self, on: bool) -> None:
        """The key custodian's actions on or off; remembered for the next start."""
        QSettings().setValue(CUSTODIAN_SETTING, bool(on))
        self.pack_action.setVisible(bool(on))
        if self._keys_window is not None:
            self._keys_window.set_custodian(bool(on))

    def show_keys(self) -> None:
        from pseudodesk.gui.keys import KeysWindow  # loaded on first use, not at start-up

        if self._keys_window is None:
            window = KeysWindow(KeyStore(), self.bridge, self, custodian=self.custodian_action.isChecked())
            keys_changed = getattr(window, "keys_changed", None)
            if keys_changed is not None:
                keys_changed.connect(self.export_step.refresh)
            self._keys_window = window
        self._keys_window.show()
        self._keys_window.raise_()
        self._keys_window.activateWindow()

    def show_audit(self) -> None:
        from pseudodesk.gui.audit import AuditWindow  # loaded on first use, not at start-up

        if self._audit_window is None:
            self._audit_window = AuditWindow(KeyStore(), self.bridge, self)
            self._audit_window.setWindowFlag(Qt.WindowType.Window, True)
        self._audit_window.show()
        self._audit_window.raise_()
        self._audit_window.activateWindow()

    def show_guide(self, name: str) -> None:
        from pseudodesk.gui.about import GuideWindow  # loaded on first use, not at start-up

        window = self._help_windows.get(name)
        if window is None:
            window = GuideWindow(name, self)
            self._help_windows[name] = window
        window.show()
        window.raise_()

    def show_about(self) -> None:
        from pseudodesk.gui.about import AboutDialog  # loaded on first use, not at start-up

        AboutDialog(self).open()

    # --- drag and drop, settings, closing -----------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if dropped_file(event) is not None and not self.bridge.busy:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        path = dropped_file(event)
        if path is not None:
            event.acceptProposedAction()
            self.open_file(path)

    def open_file(self, path: Path) -> None:
        """A file given to the window (dropped, or opened with pseudodesk): an agreement package is
        installed, anything else is loaded as the spreadsheet."""
        if path.suffix.lower() == AGREEMENT_SUFFIX:
            self.installer.open(path)
        else:
            self.go_to(0)
            self.load_step.open_file(path)

    def _agreement_installed(self, agreement: InstalledAgreement) -> None:
        self.map_step.use_installed(agreement.profile_path)
        self.export_step.refresh()  # its key is now on this computer

    def _restore_window_state(self) -> None:
        settings = QSettings()
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.bridge.busy:
            if not self._close_when_idle:
                box = QMessageBox(
                    QMessageBox.Icon.Question,
                    "Stop and close?",
                    f"pseudodesk is {self.bridge.description}. Stop it and close? Nothing half-written is left behind.",
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                    self,
                )
                box.setObjectName("confirm_close_dialog")
                box.setDefaultButton(QMessageBox.StandardButton.No)
                box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
                box.button(QMessageBox.StandardButton.Yes).clicked.connect(self._stop_and_close)
                box.open()
            event.ignore()
            return
        settings = QSettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        self.bridge.shutdown()
        for window in (self._keys_window, self._audit_window, *self._help_windows.values()):
            if window is not None:
                window.close()
        event.accept()

    def _stop_and_close(self) -> None:
        self._close_when_idle = True
        self.cancel_job()
