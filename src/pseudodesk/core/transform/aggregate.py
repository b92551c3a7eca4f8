"""Counts by dimensions with small-number suppression, audited as an intruder would attack them.

Two rules from the agreements and NHS guidance (../shared/reference/conventions.md):

- **threshold** (LCP Scorecard): a count from 1 to ``threshold`` (10), cell or total, is
  shown as ``*`` (primary suppression); every other count is shown as it is.
- **nhs_digital**: a count from 1 to 7 is shown as ``*``; every other count is rounded to the
  nearest 5, totals computed from the unrounded counts before they are rounded (so they may
  not add up).

Then, under either rule, *complementary* suppression: the table as published is audited by
linear programming (:mod:`.table_audit`): for every hidden count, the smallest and largest
value it can take in any table of counts consistent with every published cell and total.
While some hidden count's range is narrower than the protection level (by default the
largest count the rule hides: 10, or 7), more counts are hidden: the cheapest rectangle of
four entries (the hidden one, one more in its row, one more in its column, and the fourth
corner; a total counts as an entry of the grid) along which the counts can shift by at least
the protection level while staying counts. Cheapest means: fewest totals, then fewest
published zeros, then the smallest sum of the counts hidden; when no rectangle allows the
whole shift, the widest is hidden and the audit runs again. Each rectangle only ever widens
what the intruder cannot pin down, so the loop ends with every hidden count protected; the
audit, not the rectangle, decides.

Cells are keyed by a tuple of dimension values. A table of more than two dimensions is
treated as a two-way table of (first dimension) by (all the others together), which is how
it is laid out for publication.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pseudodesk.core.progress import Cancel, raise_if_cancelled
from pseudodesk.core.transform.table_audit import SUPPRESSED, Position, TableAuditor, audit_grid

RULES = ("threshold", "nhs_digital")
NHS_DIGITAL_LIMIT = 7  # nhs_digital: counts from 1 to this are shown as *

__all__ = ["RULES", "SUPPRESSED", "PublishedTable", "audit", "count", "exposed", "publish"]

Item = tuple[
    str, str, tuple[str, ...]
]  # ("cell", row, column), ("row", row, ()), ("column", "", column), ("grand", "", ())


@dataclass
class PublishedTable:
    """Rows by columns of published cells (text), with row, column and grand totals."""

    dimensions: list[str]
    row_keys: list[str]
    column_keys: list[tuple[str, ...]]
    cells: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)
    row_totals: dict[str, str] = field(default_factory=dict)
    column_totals: dict[tuple[str, ...], str] = field(default_factory=dict)
    grand_total: str = ""
    primary: int = 0  # cells suppressed for being small
    secondary: int = 0  # cells and totals suppressed so the small ones cannot be narrowed down
    rule: str = "threshold"
    protection_level: int = 10  # every hidden count's feasible range is at least this wide

    def csv_rows(self) -> list[list[str]]:
        """Header row, one row per first-dimension value, and a Total row and column."""
        header = [self.dimensions[0]] + [" / ".join(c) for c in self.column_keys] + ["Total"]
        rows = [header]
        for r in self.row_keys:
            rows.append([r] + [self.cells[(r, c)] for c in self.column_keys] + [self.row_totals[r]])
        rows.append(["Total"] + [self.column_totals[c] for c in self.column_keys] + [self.grand_total])
        return rows

    def grid(self) -> list[list[str]]:
        """The extended grid of published text (:mod:`.table_audit`): cells, then each row's
        total; the last row holds the column totals and the grand total."""
        return [row[1:] for row in self.csv_rows()[1:]]

    def item(self, position: Position) -> Item:
        i, j = position
        rows, columns = len(self.row_keys), len(self.column_keys)
        if i < rows and j < columns:
            return ("cell", self.row_keys[i], self.column_keys[j])
        if i < rows:
            return ("row", self.row_keys[i], ())
        if j < columns:
            return ("column", "", self.column_keys[j])
        return ("grand", "", ())


def count(records: Iterable[Sequence[str]]) -> Counter[tuple[str, ...]]:
    return Counter(tuple(r) for r in records)


def default_protection_level(rule: str, threshold: int = 10) -> int:
    """The narrowest range a hidden count may be left in when the profile names none: the
    largest count the rule hides."""
    return NHS_DIGITAL_LIMIT if rule == "nhs_digital" else threshold


def _extended(counts: Counter[tuple[str, ...]]) -> tuple[list[str], list[tuple[str, ...]], list[list[int]]]:
    rows = sorted({key[0] for key in counts})
    columns = sorted({tuple(key[1:]) for key in counts})
    row_at = {r: i for i, r in enumerate(rows)}
    column_at = {c: j for j, c in enumerate(columns)}
    grid = [[0] * (len(columns) + 1) for _ in range(len(rows) + 1)]
    for key, n in counts.items():
        i, j = row_at[key[0]], column_at[tuple(key[1:])]
        grid[i][j] += n
        grid[i][-1] += n
        grid[-1][j] += n
        grid[-1][-1] += n
    return rows, columns, grid


def publish(
    counts: Counter[tuple[str, ...]],
    dimensions: list[str],
    rule: str,
    *,
    threshold: int = 10,
    protection_level: int | None = None,
    cancel: Cancel | None = None,
) -> PublishedTable:
    """The table as it may be published under ``rule``, audited and protected."""
    if rule not in RULES:
        raise ValueError(f"unknown suppression rule {rule!r}")
    if not dimensions:
        raise ValueError("at least one dimension is needed")
    level = default_protection_level(rule, threshold) if protection_level is None else protection_level
    if level < 1:
        raise ValueError("the protection level must be 1 or more")
    rows, columns, values = _extended(counts)
    limit = NHS_DIGITAL_LIMIT if rule == "nhs_digital" else threshold
    height, width = len(rows), len(columns)
    hidden = {(i, j) for i in range(height + 1) for j in range(width + 1) if 1 <= values[i][j] <= limit}
    primary = sum(1 for i, j in hidden if i < height and j < width)
    shown = [[_shown(n, rule) for n in line] for line in values]
    for i, j in hidden:
        shown[i][j] = SUPPRESSED
    added = _protect(values, shown, hidden, rule, level, cancel)
    for i, j in hidden:
        shown[i][j] = SUPPRESSED
    table = PublishedTable(list(dimensions), rows, columns, rule=rule, protection_level=level)
    table.cells = {(r, c): shown[i][j] for i, r in enumerate(rows) for j, c in enumerate(columns)}
    table.row_totals = {r: shown[i][width] for i, r in enumerate(rows)}
    table.column_totals = {c: shown[height][j] for j, c in enumerate(columns)}
    table.grand_total = shown[height][width]
    table.primary = primary
    table.secondary = added
    return table


def _shown(n: int, rule: str) -> str:
    return str(5 * round(n / 5)) if rule == "nhs_digital" else str(n)


def _protect(
    values: list[list[int]],
    shown: list[list[str]],
    hidden: set[Position],
    rule: str,
    level: int,
    cancel: Cancel | None,
) -> int:
    """Hide more entries until the audit finds every hidden one protected; returns how many."""
    auditor = TableAuditor(shown, rule)
    verified: set[Position] = set()
    added = 0
    while True:
        failing = None
        for position in sorted(hidden - verified, key=lambda p: (values[p[0]][p[1]], p)):
            raise_if_cancelled(cancel)
            low, high = auditor.range(position)
            if high - low >= level - 1e-9:
                verified.add(position)
            else:
                failing = position
                break
        if failing is None:
            return added
        more = _complement(values, hidden, failing, level)
        for position in more:
            hidden.add(position)
            auditor.hide(position)
        added += len(more)


def _complement(values: list[list[int]], hidden: set[Position], target: Position, level: int) -> list[Position]:
    """The entries to hide so ``target`` can shift by ``level``: among the rectangles that hide
    something new, those hiding the fewest totals; of these the cheapest that allows the shift,
    else the widest. When every rectangle is hidden already, the smallest published entry in the
    target's row or column (or anywhere)."""
    rows, columns = len(values), len(values[0])
    ti, tj = target

    def total(position: Position) -> bool:
        return position[0] == rows - 1 or position[1] == columns - 1

    def sign(position: Position) -> int:
        """-1 for a row or column total, +1 for a cell or the grand total (a total of totals)."""
        return (-1 if position[0] == rows - 1 else 1) * (-1 if position[1] == columns - 1 else 1)

    best: tuple[tuple[float, ...], list[Position]] | None = None
    for i in range(rows):
        if i == ti:
            continue
        for j in range(columns):
            if j == tj:
                continue
            corners = [target, (ti, j), (i, tj), (i, j)]
            # Shifting the target by t shifts the corner in the other row, or the other column,
            # by -t and the fourth corner by +t, every other entry staying put; a row or column
            # total moves with its cells, so it flips that sign (the grand total flips it twice).
            up: list[int] = []
            down: list[int] = []
            for position in corners:
                moved = (1 if position[0] == ti else -1) * (1 if position[1] == tj else -1)
                moved *= sign(position) * sign(target)
                (up if moved > 0 else down).append(values[position[0]][position[1]])
            # A cell with its row, column and grand totals moves alone: nothing goes down.
            shift = min(up) + (min(down) if down else math.inf)
            new = [p for p in corners if p not in hidden]
            if not new:
                continue
            cost = (
                sum(1 for p in new if total(p)),
                0 if shift >= level else 1,
                -shift if shift < level else 0,
                sum(1 for p in new if values[p[0]][p[1]] == 0),
                sum(values[p[0]][p[1]] for p in new),
                len(new),
                i,
                j,
            )
            if best is None or cost < best[0]:
                best = (cost, new)
    if best is not None and best[1]:
        return best[1]
    published = [
        (i, j) for i in range(rows) for j in range(columns) if (i, j) not in hidden and (i == ti or j == tj)
    ] or [(i, j) for i in range(rows) for j in range(columns) if (i, j) not in hidden]
    if not published:
        return []
    return [min(published, key=lambda p: (total(p), values[p[0]][p[1]], p))]


def audit(table: PublishedTable, *, cancel: Cancel | None = None) -> dict[Item, tuple[float, float]]:
    """Each suppressed cell and total of a published table with the smallest and largest count an
    intruder can work out for it from the published text alone (:mod:`.table_audit`)."""
    return {
        table.item(position): bounds for position, bounds in audit_grid(table.grid(), table.rule, cancel=cancel).items()
    }


def exposed(table: PublishedTable, level: int | None = None) -> list[Item]:
    """Suppressed entries whose feasible range is narrower than ``level`` (the table's own
    protection level when None). Publication leaves this empty."""
    wanted = table.protection_level if level is None else level
    return [item for item, (low, high) in audit(table).items() if high - low < wanted]
