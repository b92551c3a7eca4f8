"""Step 2, Map: the agreement profile, and which spreadsheet column feeds which of its fields.

The suggestions come from the core (headers and sampled values, with a confidence); the
user changes a column's field with a combo box. Columns feeding no field are shown as
stripped: they never leave. The mapping can be saved and reused for next month's extract.
"""

from __future__ import annotations

import html
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pseudodesk.core.agreement.mapping import load_mapping, save_mapping, suggest_mapping
from pseudodesk.core.agreement.model import CODING_OPTION, Profile
from pseudodesk.core.agreement.profile import load_profile
from pseudodesk.core.conventions.codes import CODING_NAMES
from pseudodesk.core.errors import MappingError
from pseudodesk.core.keys.agreements import InstalledAgreement, installed_agreements
from pseudodesk.core.keys.approval import approval_of
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.resources import resource_path
from pseudodesk.gui import widgets
from pseudodesk.gui.errors import show_error
from pseudodesk.gui.jobs import JobBridge
from pseudodesk.gui.models import MappingModel
from pseudodesk.gui.session import Session

AnyIndex = QModelIndex | QPersistentModelIndex


class FieldDelegate(QStyledItemDelegate):
    """A combo box of the profile's fields (or "stripped") for the Feeds field column."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: AnyIndex) -> QWidget:  # noqa: N802
        model = index.model()
        assert isinstance(model, MappingModel)
        combo = QComboBox(parent)
        combo.setAccessibleName("Field this column feeds")
        for fid, text in model.field_choices():
            combo.addItem(text, fid)
        combo.activated.connect(lambda _=0: self.commitData.emit(combo))
        return combo

    def setEditorData(self, editor: QWidget, index: AnyIndex) -> None:  # noqa: N802
        assert isinstance(editor, QComboBox)
        position = editor.findData(index.data(Qt.ItemDataRole.EditRole))
        editor.setCurrentIndex(max(position, 0))

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: AnyIndex) -> None:  # noqa: N802
        assert isinstance(editor, QComboBox) and isinstance(model, MappingModel)
        model.set_field(index.row(), str(editor.currentData() or ""))


def describe_recipient(profile: Profile) -> str:
    if profile.recipient.mode == "certificate":
        names = ", ".join(p.name for p in profile.recipient.certificates)
        return f"encrypted to the recipient's certificate ({names})"
    return "encrypted with a passphrase pseudodesk generates (send it to the recipient separately)"


def describe_profile(profile: Profile, *, demo: bool = False) -> str:
    review = f", review date {profile.review_date:%d/%m/%Y}" if profile.review_date else ""
    if demo:
        key = "the DEMO key (random, forgotten when the app closes)"
    elif profile.key.fingerprint:
        key = f"{profile.key.id or '(id not set)'}, fingerprint {profile.key.fingerprint}"
    else:
        key = "not bound to a key (any project key you choose at Export)"
    leaves = ", ".join(f.name for f in profile.output_fields)
    file = f"<br>Profile file: {profile.path}" if profile.path else ""
    return (
        f"<b>{profile.name}</b> (version {profile.version}{review})<br>Leaves: {leaves}<br>"
        f"Output: {describe_recipient(profile)}<br>Project key: {key}{file}"
    )


NO_PROFILE = (
    "No agreement chosen. Choose the agreement your IG lead set you up with; if there is none, install "
    "the agreement package (.pdagreement) they sent you."
)


class MapStep(QWidget):
    title = "Map"
    install_requested = Signal()  # the window's installer asks for the package file

    def __init__(self, session: Session, bridge: JobBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.bridge = bridge
        self.model: MappingModel | None = None
        layout = QVBoxLayout(self)

        agreement = QGroupBox("Agreement")
        agreement_layout = QVBoxLayout(agreement)
        choose_row = QHBoxLayout()
        self.agreement_combo = QComboBox()
        self.agreement_combo.setAccessibleName("Installed agreement")
        self.agreement_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.agreement_combo.activated.connect(self._agreement_chosen)
        self.install_button = QPushButton("&Install agreement…")
        self.install_button.setAccessibleName("Install an agreement package from your IG lead")
        self.install_button.clicked.connect(self.install_requested)
        choose_row.addWidget(widgets.buddy_label("Installe&d agreement:", self.agreement_combo))
        choose_row.addWidget(self.agreement_combo, stretch=1)
        choose_row.addWidget(self.install_button)
        agreement_layout.addLayout(choose_row)
        self.profile_label = QLabel(NO_PROFILE)
        self.profile_label.setWordWrap(True)
        self.profile_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.profile_label.setAccessibleName("Agreement profile")
        agreement_layout.addWidget(self.profile_label)
        buttons = QHBoxLayout()
        self.open_profile_button = QPushButton("Open profile fil&e…")
        self.open_profile_button.setAccessibleName("Open an agreement profile file (not approved)")
        self.open_profile_button.clicked.connect(self.choose_profile)
        self.new_profile_button = QPushButton("&New profile from this spreadsheet…")
        self.new_profile_button.setAccessibleName("Create a new agreement profile from this spreadsheet (not approved)")
        self.new_profile_button.clicked.connect(self.create_profile)
        unapproved = QLabel("Not approved by your IG lead (pilots only):")
        unapproved.setStyleSheet("color:#555;")
        buttons.addWidget(unapproved)
        buttons.addWidget(self.open_profile_button)
        buttons.addWidget(self.new_profile_button)
        buttons.addStretch(1)
        agreement_layout.addLayout(buttons)
        layout.addWidget(agreement)

        columns_label = QLabel(
            "C&olumns: choose the field each column feeds. Columns that feed no field are "
            "stripped and never leave this computer."
        )
        columns_label.setWordWrap(True)
        layout.addWidget(columns_label)
        self.view = QTableView()
        self.view.setAccessibleName("Column mapping")
        self.view.setItemDelegateForColumn(MappingModel.FIELD_COLUMN, FieldDelegate(self.view))
        self.view.setEditTriggers(QTableView.EditTrigger.AllEditTriggers)
        self.view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.view.setTabKeyNavigation(False)  # Tab leaves the table; arrow keys move between cells
        self.view.setStyleSheet("QTableView::item:focus { border: 2px solid #1565c0; }")  # the current cell
        self.view.setWordWrap(False)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 12)
        columns_label.setBuddy(self.view)
        layout.addWidget(self.view, stretch=1)

        self.codings_box = QGroupBox("Input codings the agreement accepts")
        self.codings_form = QFormLayout(self.codings_box)
        self.coding_combos: dict[str, QComboBox] = {}
        self.codings_box.setVisible(False)
        layout.addWidget(self.codings_box)

        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName("Mapping status")
        layout.addWidget(self.status_label)
        row = QHBoxLayout()
        self.suggest_button = QPushButton("Suggest &again")
        self.suggest_button.setAccessibleName("Suggest the mapping again")
        self.suggest_button.clicked.connect(self.suggest_again)
        self.load_mapping_button = QPushButton("&Load mapping…")
        self.load_mapping_button.setAccessibleName("Load a saved mapping")
        self.load_mapping_button.clicked.connect(self.choose_mapping)
        self.save_mapping_button = QPushButton("&Save mapping…")
        self.save_mapping_button.setAccessibleName("Save this mapping")
        self.save_mapping_button.clicked.connect(self.choose_mapping_destination)
        self.confirm_button = QPushButton("Confirm &guesses")
        self.confirm_button.setAccessibleName("Confirm the columns matched from their values alone")
        self.confirm_button.setToolTip("I have looked at the amber rows: each column is the field shown")
        self.confirm_button.clicked.connect(self.confirm_guesses)
        for button in (self.confirm_button, self.suggest_button, self.load_mapping_button, self.save_mapping_button):
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        self.installed: list[InstalledAgreement] = []
        self.refresh_agreements()
        session.profile_changed.connect(self._show_profile)
        session.mapping_changed.connect(self._show_mapping)
        session.table_changed.connect(self._show_mapping)
        self._show_mapping()

    # --- profile -----------------------------------------------------------------------

    def choose_profile(self) -> None:
        start = str(resource_path("profiles")) if self.session.profile is None else ""
        path = widgets.ask_open_path(self, "Open agreement profile", "Agreement profiles (*.toml)", start)
        if path is not None:
            self.open_profile(path)

    def open_profile(self, path: Path) -> None:
        """Open a profile file; it is approved only when it is an installed agreement's, unchanged."""
        try:
            profile = load_profile(path)
            approval = approval_of(KeyStore(), profile)
        except Exception as error:  # noqa: BLE001 (shown, and logged when unexpected)
            show_error(self, error, doing=f"opening the profile {Path(path).name}")
            self._select_installed()
            return
        self.session.set_profile(profile, approval=approval)

    def refresh_agreements(self) -> None:
        """The installed agreements, newest set-up first in the partner's eye: by name."""
        combo = self.agreement_combo
        combo.clear()
        try:
            self.installed = installed_agreements(KeyStore())
        except Exception as error:  # noqa: BLE001 (a damaged record: said here, and refused at export)
            self.installed = []
            combo.addItem(f"The installed agreements cannot be read: {error}", None)
            return
        if not self.installed:
            combo.addItem("None yet: install the agreement package your IG lead sent you", None)
            return
        combo.addItem("Choose the agreement…", None)
        for agreement in self.installed:
            flags = " \u2014 EXPIRED" if agreement.expired() else ""
            flags += "" if agreement.intact else " \u2014 CHANGED SINCE INSTALLED"
            combo.addItem(f"{agreement.name} (version {agreement.version}){flags}", str(agreement.profile_path))
        self._select_installed()

    def use_installed(self, profile_path: Path) -> None:
        """Choose the installed agreement whose profile is ``profile_path`` (just installed, say)."""
        self.refresh_agreements()
        self.open_profile(profile_path)

    def _agreement_chosen(self, index: int) -> None:
        path = self.agreement_combo.itemData(index)
        if path:
            self.open_profile(Path(path))

    def _select_installed(self) -> None:
        profile = self.session.profile
        wanted = str(profile.path) if profile is not None and profile.path and self.session.approval.approved else None
        position = self.agreement_combo.findData(wanted) if wanted else -1
        self.agreement_combo.setCurrentIndex(max(position, 0))

    def create_profile(self) -> None:
        from pseudodesk.gui.profile_editor import ProfileEditorDialog  # a window of its own: loaded on first use

        table = self.session.table
        if table is None:
            show_error(
                self,
                MappingError("Load the spreadsheet first: the new profile starts from its columns."),
                doing="creating a profile",
            )
            return
        dialog = ProfileEditorDialog(table.header, self.session.sample, self)
        dialog.save_folder = table.path.parent  # the profile starts beside the spreadsheet it came from

        def saved() -> None:
            if dialog.saved_path:
                self.open_profile(dialog.saved_path)

        dialog.accepted.connect(saved)
        dialog.open()

    def _show_profile(self) -> None:
        profile = self.session.profile
        if profile is not None:
            self.profile_label.setText(describe_profile(profile, demo=self.session.demo) + self._approval_text())
        self._select_installed()

    def _approval_text(self) -> str:
        s = self.session
        if s.demo:
            return "<br><i>Demo: synthetic data, recorded as a demo export.</i>"
        if s.approval.approved:
            return (
                '<br><span style="color:#1b5e20">\u2713 Approved: installed from the agreement package '
                f"(version {s.approval.package_version}).</span>"
            )
        return (
            '<br><span style="color:#b71c1c">\u26a0 Not approved: this profile was not installed from an '
            "agreement package. An export under it must be confirmed, and is flagged to your IG lead.</span>"
        )

    # --- mapping -----------------------------------------------------------------------

    def _show_mapping(self) -> None:
        s = self.session
        has_both = s.profile is not None and s.table is not None and s.mapping is not None
        for button in (self.suggest_button, self.save_mapping_button, self.load_mapping_button):
            button.setEnabled(has_both)
        self.confirm_button.setEnabled(has_both and bool(s.mapping and s.mapping.unconfirmed))
        self.new_profile_button.setEnabled(s.table is not None)
        if not has_both:
            self.view.setModel(None)
            self.model = None
            self.codings_box.setVisible(False)
            self.status_label.setText(s.mapping_problem())
            return
        assert s.profile is not None and s.table is not None and s.mapping is not None
        if (
            self.model is None
            or self.model.mapping is not s.mapping
            or self.model.profile is not s.profile
            or self.model.header != s.table.header
        ):
            self.model = MappingModel(s.profile, s.table.header, s.sample, s.suggestions, s.mapping, self.view)
            self.model.mapping_changed.connect(self._mapping_edited)
            self.view.setModel(self.model)
            header = self.view.horizontalHeader()
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
            header.setStretchLastSection(True)
            self.view.setColumnWidth(1, 240)
        self._show_codings()
        self._show_status()

    def _show_codings(self) -> None:
        """A choice for each mapped field whose profile accepts several input codings."""
        s = self.session
        assert s.profile is not None and s.mapping is not None
        fields = [
            s.profile.source_field(fid)
            for fid in s.profile.used_source_ids()
            if len(s.profile.source_field(fid).codings) > 1 and fid in s.mapping.columns
        ]
        if [f.id for f in fields] != list(self.coding_combos):
            while self.codings_form.rowCount():
                self.codings_form.removeRow(0)
            self.coding_combos = {}
            for sf in fields:
                combo = QComboBox()
                combo.setAccessibleName(f"Input coding of {sf.label}")
                for coding in sf.codings:
                    combo.addItem(CODING_NAMES.get(coding, coding), coding)
                combo.activated.connect(lambda _=0, fid=sf.id, box=combo: self._coding_chosen(fid, box))
                self.codings_form.addRow(f"{sf.label} ('{s.mapping.columns[sf.id]}'):", combo)
                self.coding_combos[sf.id] = combo
        for sf in fields:
            chosen = s.mapping.codings.get(sf.id) or sf.options.get(CODING_OPTION) or sf.codings[0]
            combo = self.coding_combos[sf.id]
            combo.setCurrentIndex(max(combo.findData(chosen), 0))
        self.codings_box.setVisible(bool(fields))

    def _coding_chosen(self, field_id: str, combo: QComboBox) -> None:
        s = self.session
        if s.mapping is not None:
            s.set_mapping(replace(s.mapping, codings={**s.mapping.codings, field_id: str(combo.currentData())}))

    def _mapping_edited(self) -> None:
        assert self.model is not None
        self.session.set_mapping(self.model.mapping)

    def _show_status(self) -> None:
        s = self.session
        problem = s.mapping_problem()
        if problem:
            missing = self.model.unmapped_required() if self.model else []
            text = (
                "Needs attention: " + ", ".join(f"'{m}'" for m in missing) + " not mapped to any column."
                if missing
                else "Needs attention: " + " ".join(problem.splitlines())
            )
            text = html.escape(text, quote=False)
            self.status_label.setText(f"<span style='color:#a33;'>{text}</span>")
            return
        assert s.profile is not None and s.table is not None and s.mapping is not None
        stripped = s.mapping.stripped_columns(s.profile, s.table.header)
        warnings = "".join(
            f"<br><span style='color:#8a5a00;'>Check: column '{html.escape(column)}' is one of the names of "
            f"'{html.escape(s.profile.source_field(fid).label)}', but "
            + (
                f"that field is fed by '{html.escape(s.mapping.columns[fid])}'"
                if fid in s.mapping.columns
                else "that field is not mapped"
            )
            + " and this column will be stripped.</span>"
            for column, fid in s.mapping.passed_over
            if column in stripped
        )
        self.status_label.setText(
            f"<span style='color:#1a6b2a;'>Every field the agreement needs is mapped.</span> "
            f"{len(stripped)} column(s) will be stripped: {html.escape(', '.join(stripped)) or 'none'}.{warnings}"
        )

    def confirm_guesses(self) -> None:
        """The person confirms every column matched from its values alone."""
        s = self.session
        if s.mapping is not None and s.mapping.unconfirmed:
            s.set_mapping(s.mapping.confirmed())

    def suggest_again(self) -> None:
        s = self.session
        if s.profile is not None and s.table is not None:
            s.set_mapping(suggest_mapping(s.profile, s.table.header, s.sample))

    def choose_mapping(self) -> None:
        path = widgets.ask_open_path(self, "Load mapping", "Mappings (*.toml)")
        if path is not None:
            self.load_mapping(path)

    def load_mapping(self, path: Path) -> None:
        try:
            mapping = load_mapping(path)
        except Exception as error:  # noqa: BLE001
            show_error(self, error, doing=f"loading the mapping {Path(path).name}")
            return
        self.session.set_mapping(mapping)

    def choose_mapping_destination(self) -> None:
        table = self.session.table
        start = str(table.path.with_suffix(".mapping.toml")) if table else ""
        path = widgets.ask_save_path(self, "Save mapping", start, "Mappings (*.toml)")
        if path is not None:
            self.save_mapping(path)

    def save_mapping(self, path: Path) -> None:
        s = self.session
        if s.mapping is None or s.table is None or s.profile is None:
            return
        mapping = replace(s.mapping, profile_name=s.profile.name, sheet=s.table.sheet, header_row=s.table.header_row)
        try:
            save_mapping(mapping, path)
        except OSError as error:
            show_error(self, error, doing=f"saving the mapping to {Path(path).name}")

    def set_busy(self, busy: bool) -> None:
        self.setEnabled(not busy)
