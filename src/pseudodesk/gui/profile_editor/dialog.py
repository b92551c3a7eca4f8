"""The profile editor dialog itself (see :mod:`pseudodesk.gui.profile_editor` for what it does)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QDate, QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from pseudodesk.core.agreement.authoring import (
    ON_INVALID_EXPLANATIONS,
    DraftField,
    ProfileDraft,
    draft_from_columns,
    output_option,
)
from pseudodesk.core.agreement.model import Profile
from pseudodesk.core.agreement.profile_text import write_profile
from pseudodesk.core.agreement.validate import draft_warnings, validate_draft
from pseudodesk.core.conventions import CONVENTIONS
from pseudodesk.core.errors import ProfileError
from pseudodesk.core.files import slug
from pseudodesk.gui import widgets
from pseudodesk.gui.errors import show_error
from pseudodesk.gui.profile_editor.fields import (
    COL_COLUMN,
    HEADERS,
    ROW_PROPERTY,
    RowControls,
    fill_form,
    make_row,
    row_enabled,
    size_columns,
)
from pseudodesk.gui.widgets import OpenPath, SavePath, buddy_label

PROFILE_FILTER = "Agreement profiles (*.toml)"
CERTIFICATE_FILTER = "Certificates (*.crt *.cer *.pem *.der);;All files (*)"
ON_INVALID_CHOICES = (("blank", "Send it blank"), ("exclude", "Leave the row out"), ("block", "Stop the export"))


class ProfileEditorDialog(QDialog):
    """Make an agreement profile from a spreadsheet's columns and save it as a TOML file."""

    profile_saved = Signal(object)  # the Path written

    def __init__(self, header: tuple[str, ...], sample_rows: list[list[str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("profile_editor")
        self.setWindowTitle("Create an agreement profile")
        self.setAccessibleName("Create an agreement profile")
        self.draft: ProfileDraft = draft_from_columns(header, sample_rows)
        self.saved_path: Path | None = None
        self.saved_profile: Profile | None = None
        self.save_folder: Path = Path.home()
        self.ask_open_path: OpenPath = widgets.ask_open_path  # a test may put its own in their place
        self.ask_save_path: SavePath = widgets.ask_save_path
        self.rows: list[RowControls] = []
        self._build()
        self._fill_table()
        self._update_status()
        self._fix_tab_order()
        self._fit_to_screen()

    # --- building ----------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Tick the columns the agreement lets leave and say how each one leaves. Unticked columns "
            "are stripped. The rows are the export's columns, in order."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(self._agreement_box())

        fields_label = QLabel("Output &fields")
        fields_label.setStyleSheet("font-weight: bold")
        layout.addWidget(fields_label)
        self.table = QTableWidget(0, len(HEADERS), self)
        self.table.setObjectName("fields_table")
        self.table.setAccessibleName("Output fields: one row per spreadsheet column")
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab moves through the row's controls instead
        self.table.setWordWrap(False)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        fields_label.setBuddy(self.table)
        layout.addWidget(self.table, 1)

        below = QHBoxLayout()
        self.summary_label = QLabel()
        self.summary_label.setObjectName("summary_label")
        below.addWidget(self.summary_label, 1)
        self.up_button = QPushButton("Move &up")
        self.up_button.setAccessibleName("Move the selected field up")
        self.down_button = QPushButton("Move d&own")
        self.down_button.setAccessibleName("Move the selected field down")
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button.clicked.connect(lambda: self.move_selected(1))
        below.addWidget(self.up_button)
        below.addWidget(self.down_button)
        layout.addLayout(below)
        self.warnings_label = QLabel()
        self.warnings_label.setObjectName("warnings_label")
        self.warnings_label.setWordWrap(True)
        self.warnings_label.setStyleSheet("color: #8a4b00")
        self.warnings_label.setAccessibleName("Warnings")
        layout.addWidget(self.warnings_label)

        bottom = QHBoxLayout()
        bottom.addWidget(self._recipient_box(), 1)
        bottom.addWidget(self._checks_box(), 1)
        layout.addLayout(bottom)

        self.buttons = QDialogButtonBox(self)
        self.save_button = QPushButton("&Save profile…")
        self.save_button.setObjectName("save_button")
        self.save_button.setAccessibleName("Save profile")
        self.save_button.setDefault(True)
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName("Cancel")
        self.save_button.clicked.connect(self._save_clicked)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _agreement_box(self) -> QGroupBox:
        box = QGroupBox("Agreement")
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.name_edit = QLineEdit(self.draft.name)
        self.name_edit.setObjectName("name_edit")
        self.name_edit.setPlaceholderText("e.g. Essex early help pilot extract")
        self.name_edit.setAccessibleName("Agreement name")
        form.addRow(buddy_label("Agreement &name:", self.name_edit), self.name_edit)
        self.version_edit = QLineEdit(self.draft.version)
        self.version_edit.setObjectName("version_edit")
        self.version_edit.setAccessibleName("Agreement version")
        self.description_edit = QLineEdit(self.draft.description)
        self.description_edit.setObjectName("description_edit")
        self.description_edit.setPlaceholderText("What the extract is for (optional)")
        self.description_edit.setAccessibleName("Purpose of the agreement")
        self.parties_edit = QPlainTextEdit("\n".join(self.draft.parties))
        self.parties_edit.setObjectName("parties_edit")
        self.parties_edit.setPlaceholderText("The organisations party to the agreement, one per line")
        self.parties_edit.setAccessibleName("Parties to the agreement, one per line")
        self.parties_edit.setTabChangesFocus(True)
        lines = self.parties_edit.fontMetrics().lineSpacing()
        margin = int(self.parties_edit.document().documentMargin())
        self.parties_edit.setFixedHeight(lines * 2 + 2 * (self.parties_edit.frameWidth() + margin) + 4)
        self.review_check = QCheckBox("Revie&w by:")
        self.review_check.setObjectName("review_check")
        self.review_check.setAccessibleName("The agreement has a review date")
        self.review_edit = QDateEdit()
        self.review_edit.setObjectName("review_edit")
        self.review_edit.setCalendarPopup(True)
        self.review_edit.setDisplayFormat("dd/MM/yyyy")
        self.review_edit.setAccessibleName("Review date")
        review_tip = "After this date runs are refused until someone confirms the agreement is still in force."
        self.review_check.setToolTip(review_tip)
        self.review_edit.setToolTip(review_tip)
        review = self.draft.review_date
        self.review_check.setChecked(review is not None)
        if review is not None:
            self.review_edit.setDate(QDate(review.year, review.month, review.day))
        self.review_edit.setEnabled(review is not None)
        self.review_check.toggled.connect(self.review_edit.setEnabled)
        row = QHBoxLayout()
        row.addWidget(self.version_edit, 1)
        row.addSpacing(self.fontMetrics().horizontalAdvance("MM"))
        row.addWidget(self.review_check)
        row.addWidget(self.review_edit)
        row.addWidget(QLabel("(runs are refused after it)"), 1)
        form.addRow(buddy_label("&Version:", self.version_edit), row)
        form.addRow(buddy_label("&Description:", self.description_edit), self.description_edit)
        form.addRow(buddy_label("Pa&rties:", self.parties_edit), self.parties_edit)
        return box

    def _recipient_box(self) -> QGroupBox:
        box = QGroupBox("Recipient")
        layout = QVBoxLayout(box)
        self.passphrase_radio = QRadioButton("Pass&phrase: a 7-Zip AES-256 archive")
        self.passphrase_radio.setObjectName("passphrase_radio")
        self.passphrase_radio.setAccessibleName("Recipient opens the export with a passphrase")
        self.certificate_radio = QRadioButton("Cer&tificate: encrypted to the recipient's certificate")
        self.certificate_radio.setObjectName("certificate_radio")
        self.certificate_radio.setAccessibleName("Recipient opens the export with their certificate's private key")
        self.recipient_group = QButtonGroup(self)
        self.recipient_group.addButton(self.passphrase_radio)
        self.recipient_group.addButton(self.certificate_radio)
        layout.addWidget(self.passphrase_radio)
        layout.addWidget(self.certificate_radio)
        row = QHBoxLayout()
        row.setContentsMargins(24, 0, 0, 0)
        self.certificate_edit = QLineEdit(";".join(str(c) for c in self.draft.certificates))
        self.certificate_edit.setObjectName("certificate_edit")
        self.certificate_edit.setPlaceholderText("Certificate file (.crt, .pem, .der)")
        self.certificate_edit.setAccessibleName("Recipient certificate file")
        self.browse_button = QPushButton("&Browse…")
        self.browse_button.setAccessibleName("Choose the recipient certificate file")
        self.browse_button.clicked.connect(self._browse_certificate)
        row.addWidget(self.certificate_edit, 1)
        row.addWidget(self.browse_button)
        layout.addLayout(row)
        self.recipient_note = QLabel()
        self.recipient_note.setWordWrap(True)
        layout.addWidget(self.recipient_note)
        layout.addStretch(1)
        (self.certificate_radio if self.draft.recipient_mode == "certificate" else self.passphrase_radio).setChecked(
            True
        )
        self.certificate_radio.toggled.connect(self._recipient_changed)
        self.certificate_edit.textChanged.connect(self._update_status)
        self._recipient_changed()
        return box

    def _checks_box(self) -> QGroupBox:
        box = QGroupBox("Checks")
        form = QFormLayout(box)
        self.on_invalid_combo = QComboBox()
        self.on_invalid_combo.setObjectName("on_invalid_combo")
        self.on_invalid_combo.setAccessibleName("What happens to an invalid value")
        for value, text in ON_INVALID_CHOICES:
            self.on_invalid_combo.addItem(text, value)
            index = self.on_invalid_combo.count() - 1
            self.on_invalid_combo.setItemData(index, ON_INVALID_EXPLANATIONS[value], Qt.ItemDataRole.ToolTipRole)
        self.on_invalid_combo.setCurrentIndex(self.on_invalid_combo.findData(self.draft.on_invalid))
        form.addRow(buddy_label("On &invalid values:", self.on_invalid_combo), self.on_invalid_combo)
        self.on_invalid_note = QLabel()
        self.on_invalid_note.setObjectName("on_invalid_note")
        self.on_invalid_note.setWordWrap(True)
        form.addRow(self.on_invalid_note)
        self.on_invalid_combo.currentIndexChanged.connect(self._on_invalid_changed)
        self._on_invalid_changed()
        self.scan_check = QCheckBox("Sc&an kept text for identifiers (NHS numbers, emails, phone numbers…)")
        self.scan_check.setObjectName("scan_check")
        self.scan_check.setAccessibleName("Scan kept free-text fields for direct identifiers and block the export")
        self.scan_check.setChecked(self.draft.scan_identifiers)
        form.addRow(self.scan_check)
        return box

    # --- the table --------------------------------------------------------------------------

    def _fill_table(self) -> None:
        """(Re)build the rows from ``self.draft.fields``, whose order is the export's."""
        self.rows = []
        self.table.clearContents()
        self.table.setRowCount(len(self.draft.fields))
        for r, f in enumerate(self.draft.fields):
            self.rows.append(self._make_row(r, f))
        size_columns(self.table, self.fontMetrics())

    def _make_row(self, r: int, f: DraftField) -> RowControls:
        row = make_row(self.table, r, f, self.palette().placeholderText())
        for widget in row.widgets():
            widget.setProperty(ROW_PROPERTY, r)
            widget.installEventFilter(self)
        row.include.toggled.connect(lambda on, row=row: self._include_changed(row, on))
        row.name.textChanged.connect(lambda text, row=row: self._name_changed(row, text))
        row.role.currentIndexChanged.connect(lambda _=0, row=row: self._role_changed(row))
        row.convention.currentIndexChanged.connect(lambda _=0, row=row: self._convention_changed(row))
        row.form.currentIndexChanged.connect(lambda _=0, row=row: self._form_changed(row))
        return row

    def _include_changed(self, row: RowControls, on: bool) -> None:
        row.field.include = on
        row_enabled(row)
        self._update_status()

    def _name_changed(self, row: RowControls, text: str) -> None:
        row.field.name = text.strip()
        self._update_status()

    def _role_changed(self, row: RowControls) -> None:
        row.field.role = str(row.role.currentData())
        fill_form(row)
        row_enabled(row)
        self._update_status()

    def _convention_changed(self, row: RowControls) -> None:
        source = row.field.source
        source.convention = str(row.convention.currentData())
        source.options = {}
        row.convention.setToolTip(CONVENTIONS[source.convention].description)
        fill_form(row)
        row_enabled(row)
        self._update_status()

    def _form_changed(self, row: RowControls) -> None:
        spec = output_option(row.field.source.convention)
        if spec is not None:
            row.field.source.options = {spec.name: str(row.form.currentData())}

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.FocusIn:
            r = watched.property(ROW_PROPERTY)
            if isinstance(r, int) and 0 <= r < self.table.rowCount():
                self.table.selectRow(r)
        return super().eventFilter(watched, event)

    def move_selected(self, step: int) -> None:
        """Move the selected row (an output column) up (-1) or down (+1) in the export's order."""
        r = self.table.currentRow()
        target = r + step
        if r < 0 or not 0 <= target < len(self.draft.fields):
            return
        fields = self.draft.fields
        fields[r], fields[target] = fields[target], fields[r]
        self._fill_table()
        self._fix_tab_order()
        self.table.selectRow(target)
        self.table.setCurrentCell(target, COL_COLUMN)
        (self.up_button if step < 0 else self.down_button).setFocus()
        self._update_status()

    # --- the rest of the form ---------------------------------------------------------------

    def _recipient_changed(self) -> None:
        certificate = self.certificate_radio.isChecked()
        self.certificate_edit.setEnabled(certificate)
        self.browse_button.setEnabled(certificate)
        self.recipient_note.setText(
            "Only the holder of the certificate's private key can open the export (openssl cms)."
            if certificate
            else "pseudodesk makes a new passphrase for each export and shows it once. Send it separately "
            "from the file, for example by phone."
        )
        self._update_status()

    def _on_invalid_changed(self) -> None:
        self.on_invalid_note.setText(ON_INVALID_EXPLANATIONS[str(self.on_invalid_combo.currentData())])

    def _browse_certificate(self) -> None:
        path = self.ask_open_path(self, "Choose the recipient's certificate", CERTIFICATE_FILTER)
        if path is not None:
            self.certificate_edit.setText(str(path))

    def _update_status(self) -> None:
        leaving = sum(1 for f in self.draft.fields if f.include)
        total = len(self.draft.fields)
        self.summary_label.setText(f"{leaving} of {total} columns leave; the other {total - leaving} are stripped.")
        warnings = draft_warnings(self.current_draft()) if self.rows else []
        self.warnings_label.setText("\n".join(f"⚠ {w}" for w in warnings))
        self.warnings_label.setVisible(bool(warnings))

    def _fix_tab_order(self) -> None:
        chain: list[QWidget] = [
            self.name_edit,
            self.version_edit,
            self.review_check,
            self.review_edit,
            self.description_edit,
            self.parties_edit,
        ]
        for row in self.rows:
            chain.extend(row.widgets())
        chain += [
            self.up_button,
            self.down_button,
            self.passphrase_radio,
            self.certificate_radio,
            self.certificate_edit,
            self.browse_button,
            self.on_invalid_combo,
            self.scan_check,
            self.save_button,
            self.cancel_button,
        ]
        for first, second in zip(chain, chain[1:]):
            QWidget.setTabOrder(first, second)

    def _fit_to_screen(self) -> None:
        """Wide enough for the whole table when the screen allows; never larger than the screen."""
        head = self.table.horizontalHeader()
        table_width = sum(head.sectionSize(c) for c in range(len(HEADERS)))
        layout = self.layout()
        margins = layout.contentsMargins().left() + layout.contentsMargins().right() if layout is not None else 0
        width = max(
            self.sizeHint().width(),
            table_width + 2 * self.table.frameWidth() + self.table.verticalScrollBar().sizeHint().width() + margins,
        )
        height = self.sizeHint().height() + 4 * self.fontMetrics().lineSpacing()
        screen = self.screen()
        if screen is not None:
            available = screen.availableGeometry()
            width, height = min(width, available.width()), min(height, available.height())
        self.resize(width, height)

    # --- the result ---------------------------------------------------------------------------

    def current_draft(self) -> ProfileDraft:
        """The draft as the controls now say (the rows update it as they change)."""
        d = self.draft
        d.name = self.name_edit.text().strip()
        d.version = self.version_edit.text().strip()
        d.description = self.description_edit.text().strip()
        d.parties = [line.strip() for line in self.parties_edit.toPlainText().splitlines() if line.strip()]
        if self.review_check.isChecked():
            day = self.review_edit.date()
            d.review_date = day.toPython()  # type: ignore[assignment]
        else:
            d.review_date = None
        d.recipient_mode = "certificate" if self.certificate_radio.isChecked() else "passphrase"
        text = self.certificate_edit.text().strip()
        d.certificates = (
            [Path(p.strip()) for p in text.split(";") if p.strip()] if d.recipient_mode == "certificate" else []
        )
        d.on_invalid = str(self.on_invalid_combo.currentData())
        d.scan_identifiers = self.scan_check.isChecked()
        return d

    def save_to(self, path: Path | str, *, overwrite: bool = True) -> Path:
        """Check the draft through the core and write it to ``path`` atomically; raises ProfileError etc."""
        path = Path(path)
        self.saved_profile = write_profile(self.current_draft(), path, overwrite=overwrite)
        self.saved_path = path
        self.profile_saved.emit(path)
        return path

    def _save_clicked(self) -> None:
        draft = self.current_draft()
        try:
            validate_draft(draft)  # before asking where: a broken draft never gets as far as a file name
        except ProfileError as error:
            show_error(self, error, doing="saving the profile")
            return
        stem = slug(draft.name, fallback="agreement-profile")
        chosen = self.ask_save_path(
            self, "Save the agreement profile", self.save_folder / f"{stem}.toml", PROFILE_FILTER
        )
        if chosen is None:
            return
        overwrite = True  # the save dialog has asked before replacing that file
        if chosen.suffix.lower() != ".toml":
            chosen, overwrite = chosen.with_name(chosen.name + ".toml"), False  # a name nobody confirmed
        try:
            self.save_to(chosen, overwrite=overwrite)
        except Exception as error:  # noqa: BLE001 (the one failure path: shown, and logged when unexpected)
            show_error(self, error, doing="saving the profile")
            return
        self.save_folder = chosen.parent
        self.accept()


def open_profile_editor(
    header: Sequence[str], sample_rows: list[list[str]], parent: QWidget | None = None
) -> ProfileEditorDialog:
    """Open the dialog window-modally (``open()``, not a blocking ``exec()``) and return it."""
    dialog = ProfileEditorDialog(tuple(header), sample_rows, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
