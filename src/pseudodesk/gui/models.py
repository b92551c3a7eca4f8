"""Qt models: thin adapters over core objects, never copies into QStandardItemModel.

- :class:`SourceTableModel`: the rows of a core ``SourceTable``, fetched lazily in chunks
  as the view scrolls (Orange3's ``TablePreviewModel``), so a million-row file previews
  at once.
- :class:`MappingModel`: one row per source column; which profile field it feeds (the
  editable choice), the field's convention and how confident the suggestion was.
- :class:`FieldStatsModel` and :class:`ProblemsModel`: the core check report.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from pseudodesk.core.agreement.mapping import SourceMapping
from pseudodesk.core.agreement.model import Profile
from pseudodesk.core.agreement.suggest import ColumnSuggestion
from pseudodesk.core.check.report import CheckReport, FieldStats, ProblemGroup, grouped_problems
from pseudodesk.core.conventions import get_convention
from pseudodesk.core.read.table import SourceTable

AnyIndex = QModelIndex | QPersistentModelIndex
DISPLAY = Qt.ItemDataRole.DisplayRole
TOOLTIP = Qt.ItemDataRole.ToolTipRole
EDIT = Qt.ItemDataRole.EditRole
STRIPPED = "(stripped: does not leave)"


class SourceTableModel(QAbstractTableModel):
    """Rows of a core SourceTable, fetched lazily in chunks as the view scrolls."""

    CHUNK = 200

    def __init__(self, table: SourceTable, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._table = table
        self._rows: list[list[str]] = []
        self._lines: list[int] = []
        self._source: Iterator[tuple[int, list[str]]] | None = table.iter_rows()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._table.header)

    def data(self, index: AnyIndex, role: int = DISPLAY) -> object:
        if role in (DISPLAY, TOOLTIP) and index.isValid():
            return self._rows[index.row()][index.column()]
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> object:  # noqa: N802
        if role != DISPLAY:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._table.header[section]
        return str(self._lines[section])  # the row number the user sees in Excel / the CSV line

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: N802
        return not parent.isValid() and self._source is not None

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: N802
        if self._source is None:
            return
        chunk: list[tuple[int, list[str]]] = []
        for item in self._source:
            chunk.append(item)
            if len(chunk) >= self.CHUNK:
                break
        else:
            self._source = None
        if chunk:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(chunk) - 1)
            self._lines.extend(line for line, _ in chunk)
            self._rows.extend(row for _, row in chunk)
            self.endInsertRows()


class ListTableModel(QAbstractTableModel):
    """A read-only table over a Python list: one item a row, the columns named in COLUMNS."""

    COLUMNS: tuple[str, ...] = ()

    def __init__(self, items: list[Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items = items

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> object:  # noqa: N802
        if role == DISPLAY and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section]
        return None


class MappingModel(ListTableModel):
    """Source columns and the profile field each one feeds; the Field column is editable.

    The convention is the agreement's for that field (the profile fixes it, so partners
    cannot send dates in another format by accident); the suggestion's own reading of the
    values is shown beside it so a mismatch is visible.
    """

    COLUMNS = ("Spreadsheet column", "Sample values", "Feeds field", "Checked as", "Confidence", "Leaves as")
    FIELD_COLUMN = 2
    mapping_changed = Signal()

    def __init__(
        self,
        profile: Profile,
        header: tuple[str, ...],
        sample: list[list[str]],
        suggestions: list[ColumnSuggestion],
        mapping: SourceMapping,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(list(header), parent)
        self.profile = profile
        self.header = header
        self._samples = [self._sample(sample, i) for i in range(len(header))]
        self._suggestions = {s.column: s for s in suggestions}
        self._mapping = mapping
        self._labels = {sf.id: sf.label for sf in profile.source_fields}

    @staticmethod
    def _sample(rows: list[list[str]], index: int) -> str:
        seen: list[str] = []
        for row in rows:
            value = row[index].strip() if index < len(row) else ""
            if value and value not in seen:
                seen.append(value)
            if len(seen) == 3:
                break
        return ", ".join(seen)

    @property
    def mapping(self) -> SourceMapping:
        return self._mapping

    def field_choices(self) -> list[tuple[str, str]]:
        """(field id or "", text) for the combo box; "" strips the column."""
        used = set(self.profile.used_source_ids())
        labels = [sf.label for sf in self.profile.source_fields if sf.id in used]
        return [("", STRIPPED)] + [
            (sf.id, sf.label if labels.count(sf.label) == 1 else f"{sf.label} ({sf.id})")
            for sf in self.profile.source_fields
            if sf.id in used
        ]

    def field_of(self, column: str) -> str:
        for fid, col in self._mapping.columns.items():
            if col == column:
                return fid
        return ""

    def set_field(self, row: int, field_id: str) -> None:
        column = self.header[row]
        columns = {fid: col for fid, col in self._mapping.columns.items() if col != column and fid != field_id}
        if field_id:
            columns[field_id] = column
        ordered = {sf.id: columns[sf.id] for sf in self.profile.source_fields if sf.id in columns}
        suggested = frozenset(f for f in self._mapping.suggested if ordered.get(f) == self._mapping.columns.get(f))
        unconfirmed = frozenset(f for f in self._mapping.unconfirmed if f in suggested and f != field_id)
        self._mapping = replace(self._mapping, columns=ordered, suggested=suggested, unconfirmed=unconfirmed)
        self.dataChanged.emit(self.index(0, 0), self.index(len(self.header) - 1, len(self.COLUMNS) - 1))
        self.mapping_changed.emit()

    def unmapped_required(self) -> list[str]:
        return [
            self.profile.source_field(fid).label
            for fid in self.profile.used_source_ids()
            if self.profile.source_field(fid).required and fid not in self._mapping.columns
        ]

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and index.column() == self.FIELD_COLUMN:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: AnyIndex, role: int = DISPLAY) -> object:
        if not index.isValid():
            return None
        column = self.header[index.row()]
        fid = self.field_of(column)
        suggestion = self._suggestions.get(column)
        c = index.column()
        if role == EDIT and c == self.FIELD_COLUMN:
            return fid
        if role == Qt.ItemDataRole.ForegroundRole and not fid:
            return QBrush(QColor("#6b6b6b"))
        if role == Qt.ItemDataRole.BackgroundRole and fid and fid in self._mapping.unconfirmed:
            return QBrush(QColor("#fff3cd"))  # amber: a guess a person has not confirmed
        if role == TOOLTIP and c == 4 and suggestion is not None:
            return suggestion.reason
        if role not in (DISPLAY, TOOLTIP):
            return None
        if c == 0:
            return column
        if c == 1:
            return self._samples[index.row()]
        if c == self.FIELD_COLUMN:
            return dict(self.field_choices()).get(fid, fid) if fid else STRIPPED
        if c == 3:
            if not fid:
                return ""
            field = self.profile.source_field(fid)
            seen = suggestion.convention if suggestion else None
            words = field.base_convention.plain_name
            if seen and seen != field.base_convention.name:
                words = f"{words} (but the values look like {plain_name(seen)})"
            # the convention's id (lcp_dob) is for the details: the tooltip
            return (
                f"{words}\n\n{field.base_convention.description} (convention {field.convention})"
                if role == TOOLTIP
                else words
            )
        if c == 4:
            if not fid:
                return ""
            if fid not in self._mapping.suggested:
                return "chosen (not a guess)"
            if fid in self._mapping.unconfirmed:
                return "NEEDS CONFIRMING: guessed from the values alone"
            return f"{suggestion.confidence:.0%} suggested" if suggestion else "suggested"
        if c == 5:
            if not fid:
                return "nothing"
            outs = [
                f"{o.name} ({'pseudonym' if o.role == 'pseudonym' else o.role})"
                for o in self.profile.output_fields
                if fid in o.sources
            ]
            return ", ".join(outs)
        return None


class FieldStatsModel(ListTableModel):
    """One row per checked field: counts per status, the decision taken, and a bar (painted by a delegate)."""

    COLUMNS = ("Field", "Column", "Checked as", "Result", "Valid", "Normalised", "Invalid", "Empty", "Decision")
    BAR_COLUMN = 3
    BAR_ROLE = Qt.ItemDataRole.UserRole + 1

    def __init__(self, report: CheckReport, parent: QObject | None = None) -> None:
        fields: list[FieldStats] = list(report.fields.values())
        super().__init__(fields, parent)

    def data(self, index: AnyIndex, role: int = DISPLAY) -> object:
        if not index.isValid():
            return None
        f: FieldStats = self._items[index.row()]
        c = index.column()
        counts = f.counts
        if role == self.BAR_ROLE and c == self.BAR_COLUMN:
            return (counts["valid"], counts["normalised"], counts["invalid"], counts["empty"])
        if role == Qt.ItemDataRole.TextAlignmentRole and 4 <= c <= 7:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == TOOLTIP and c == self.BAR_COLUMN:
            return (
                f"{counts['valid']:,} valid, {counts['normalised']:,} normalised, "
                f"{counts['invalid']:,} invalid, {counts['empty']:,} empty"
            )
        if role not in (DISPLAY, TOOLTIP):
            return None
        if role == TOOLTIP and c == 2:
            return f"convention {f.convention}"
        values: tuple[object, ...] = (
            f.label,
            f.column,
            f.checked_as or f.convention,
            "",
            f"{counts['valid']:,}",
            f"{counts['normalised']:,}",
            f"{counts['invalid']:,}",
            f"{counts['empty']:,}",
            f.decision,
        )
        return values[c]


class ProblemsModel(ListTableModel):
    """The report's problems, identical ones (one column, one reason) grouped on one line with
    their count and first rows; raw values stay on this screen (the saved CSV lists every one)."""

    COLUMNS = ("First rows", "Column", "Field", "Problem", "How many", "Values (this screen only)", "What happens")

    def __init__(self, report: CheckReport, parent: QObject | None = None) -> None:
        super().__init__(grouped_problems(report), parent)
        self._labels = {fid: stats.label for fid, stats in report.fields.items()}  # "NHS number", not its id

    @property
    def listed(self) -> int:
        """The problems in all the groups."""
        return sum(group.count for group in self._items)

    def data(self, index: AnyIndex, role: int = DISPLAY) -> object:
        if not index.isValid() or role not in (DISPLAY, TOOLTIP):
            return None
        g: ProblemGroup = self._items[index.row()]
        rows = ", ".join(str(n) for n in g.lines) + (", …" if g.count > len(g.lines) else "")
        values = ", ".join(g.examples) + (
            f" and {g.different - len(g.examples):,} more" if g.different > len(g.examples) else ""
        )
        field = self._labels.get(g.field_id) or g.field_id
        return (rows, g.column, field, g.reason, f"{g.count:,}", values, g.action)[index.column()]


def plain_name(convention: str) -> str:
    """A catalogue convention's name in a partner's words; the id itself when it is not one."""
    try:
        return get_convention(convention).plain_name
    except KeyError:  # not a catalogue name: shown as it is
        return convention
