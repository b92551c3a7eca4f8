"""What the user has chosen so far in the window: one spreadsheet, one profile, one mapping.

Plain state plus snake_case signals that say what changed; the steps read it and the
main window connects the signals in one place. Nothing here is saved anywhere: a
workbook password lives only in memory for as long as the file is open.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from pseudodesk.core.agreement.mapping import SourceMapping, suggest_mapping
from pseudodesk.core.agreement.model import Profile
from pseudodesk.core.agreement.suggest import ColumnSuggestion, suggest_columns
from pseudodesk.core.check.report import CheckReport
from pseudodesk.core.errors import MappingError
from pseudodesk.core.keys.approval import UNAPPROVED, Approval
from pseudodesk.core.read.table import SourceTable

SAMPLE_ROWS = 200


class Session(QObject):
    table_changed = Signal()
    profile_changed = Signal()
    mapping_changed = Signal()
    report_changed = Signal()
    exported = Signal(object)  # RunResult

    def __init__(self, *, demo: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.demo = demo
        self.table: SourceTable | None = None
        self.sample: list[list[str]] = []
        self.profile: Profile | None = None
        self.approval: Approval = UNAPPROVED  # the profile's: installed from an agreement package, unchanged
        self.mapping: SourceMapping | None = None
        self.suggestions: list[ColumnSuggestion] = []
        self.report: CheckReport | None = None
        self.report_key: object = None  # state_key() of what the report checked
        self.last_result: object | None = None

    # --- changes ---------------------------------------------------------------------

    def set_table(self, table: SourceTable, mapping: SourceMapping | None = None) -> None:
        self.table = table
        self.sample = table.preview(SAMPLE_ROWS)
        self.report = None
        self.last_result = None
        self.table_changed.emit()
        self._remap(mapping)

    def clear_table(self) -> None:
        """No spreadsheet: a file that failed to load replaces the one before it, never silently keeps it."""
        self.table = None
        self.sample = []
        self.report = None
        self.last_result = None
        self.table_changed.emit()
        self._remap(None)

    def set_profile(
        self, profile: Profile, mapping: SourceMapping | None = None, *, approval: Approval = UNAPPROVED
    ) -> None:
        self.profile = profile
        self.approval = approval
        self.report = None
        self.last_result = None
        self.profile_changed.emit()
        self._remap(mapping)

    def set_mapping(self, mapping: SourceMapping) -> None:
        self.mapping = mapping
        self.report = None
        self.mapping_changed.emit()
        self.report_changed.emit()

    def set_report(self, report: CheckReport | None, key: object = None) -> None:
        """The checks' report for the state ``key`` (:meth:`state_key` when they started); a report
        for a state since changed (another file, sheet, header row, agreement or mapping) is dropped."""
        key = self.state_key() if key is None else key
        if report is not None and key != self.state_key():
            return
        self.report = report
        self.report_key = key
        self.report_changed.emit()

    def state_key(self) -> object:
        """What the checks depend on: this table (a reload is another), this profile's bytes, this mapping."""
        if self.table is None or self.profile is None or self.mapping is None:
            return None
        m = self.mapping
        mapping = (
            tuple(sorted(m.columns.items())),
            tuple(sorted(m.codings.items())),
            tuple(sorted(m.unconfirmed)),
            m.sheet,
            m.header_row,
        )
        return (id(self.table), self.table.row_count, self.profile.sha256, id(self.profile), mapping)

    @property
    def report_current(self) -> bool:
        """The checks ran, to the end, for exactly this file, agreement and mapping."""
        return self.report is not None and self.report_key == self.state_key()

    def _remap(self, mapping: SourceMapping | None) -> None:
        if self.profile is None or self.table is None:
            self.mapping = None
            self.suggestions = []
        else:
            self.suggestions = suggest_columns(self.profile, self.table.header, self.sample)
            self.mapping = mapping or suggest_mapping(self.profile, self.table.header, self.sample)
        self.mapping_changed.emit()
        self.report_changed.emit()

    # --- state of each step ------------------------------------------------------------

    def mapping_problem(self) -> str:
        """Why the mapping cannot be used yet ("" when it can)."""
        if self.profile is None:
            return "Choose the agreement (or install its package: File > Install agreement…)."
        if self.table is None or self.mapping is None:
            return "Load a spreadsheet first."
        try:
            self.mapping.resolve(self.profile, self.table.header)
        except MappingError as error:
            return str(error)
        if self.mapping.unconfirmed:
            guessed = ", ".join(
                f"'{self.mapping.columns[f]}' -> {self.profile.source_field(f).label}"
                for f in sorted(self.mapping.unconfirmed)
            )
            return (
                f"confirm the columns matched from their values alone ({guessed}): no header names those "
                "fields, and a wrong guess would send the wrong data. Choose the field yourself, or press "
                "Confirm guesses."
            )
        return ""

    @property
    def ready_to_check(self) -> bool:
        """A whole file (not just its preview), a profile, and a mapping that fits."""
        return (
            self.table is not None
            and self.table.row_count >= 0
            and self.profile is not None
            and not self.mapping_problem()
        )
