"""Counts by dimensions with small-number suppression, as agreements publish them.

Two rules from the agreements and NHS guidance (../shared/reference/conventions.md):

- **threshold** (LCP Scorecard): a count from 1 to ``threshold`` (10) is shown as suppressed.
  Then *secondary* suppression: wherever a row or a column of a two-way table (totals
  included in what is published) has exactly one suppressed cell, that cell could be worked
  out by subtracting the others from the total, so the smallest other non-zero cell of that
  row or column is suppressed too (a zero only when nothing else is left to hide); repeated
  until no published sum, totals included, has exactly one unknown part.
- **nhs_digital**: counts 1-7 shown as ``*``, every other count rounded to the nearest 5,
  totals computed from the unrounded counts before they are rounded (so they may not add up).

Cells are keyed by a tuple of dimension values. A table of more than two dimensions is
treated as a two-way table of (first dimension) by (all the others together), which is how
it is laid out for publication.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

SUPPRESSED = "*"
RULES = ("threshold", "nhs_digital")


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
    secondary: int = 0  # cells suppressed so the small ones cannot be worked out

    def csv_rows(self) -> list[list[str]]:
        """Header row, one row per first-dimension value, and a Total row and column."""
        header = [self.dimensions[0]] + [" / ".join(c) for c in self.column_keys] + ["Total"]
        rows = [header]
        for r in self.row_keys:
            rows.append([r] + [self.cells[(r, c)] for c in self.column_keys] + [self.row_totals[r]])
        rows.append(["Total"] + [self.column_totals[c] for c in self.column_keys] + [self.grand_total])
        return rows


def count(records: Iterable[Sequence[str]]) -> Counter[tuple[str, ...]]:
    return Counter(tuple(r) for r in records)


def _grid(
    counts: Counter[tuple[str, ...]],
) -> tuple[list[str], list[tuple[str, ...]], dict[tuple[str, tuple[str, ...]], int]]:
    rows = sorted({key[0] for key in counts})
    columns = sorted({tuple(key[1:]) for key in counts})
    grid = {(r, c): 0 for r in rows for c in columns}
    for key, n in counts.items():
        grid[(key[0], tuple(key[1:]))] += n
    return rows, columns, grid


def publish(
    counts: Counter[tuple[str, ...]], dimensions: list[str], rule: str, *, threshold: int = 10
) -> PublishedTable:
    """The table as it may be published under ``rule``."""
    if rule not in RULES:
        raise ValueError(f"unknown suppression rule {rule!r}")
    if not dimensions:
        raise ValueError("at least one dimension is needed")
    rows, columns, grid = _grid(counts)
    table = PublishedTable(list(dimensions), rows, columns)
    row_sum = {r: sum(grid[(r, c)] for c in columns) for r in rows}
    column_sum = {c: sum(grid[(r, c)] for r in rows) for c in columns}
    grand = sum(row_sum.values())
    if rule == "nhs_digital":
        table.cells = {key: _nhs(n) for key, n in grid.items()}
        table.primary = sum(1 for n in grid.values() if 1 <= n <= 7)
        table.row_totals = {r: _nhs(n) for r, n in row_sum.items()}
        table.column_totals = {c: _nhs(n) for c, n in column_sum.items()}
        table.grand_total = _nhs(grand)
        return table
    values: dict[Item, int] = {("cell", r, c): n for (r, c), n in grid.items()}
    values.update({("row", r, ()): n for r, n in row_sum.items()})
    values.update({("column", "", c): n for c, n in column_sum.items()})
    values[("grand", "", ())] = grand
    hidden = {item for item, n in values.items() if 1 <= n <= threshold}
    table.primary = sum(1 for item in hidden if item[0] == "cell")
    table.secondary = _secondary(values, _lines(rows, columns), hidden)
    shown = {item: (SUPPRESSED if item in hidden else str(n)) for item, n in values.items()}
    table.cells = {(r, c): shown[("cell", r, c)] for r in rows for c in columns}
    table.row_totals = {r: shown[("row", r, ())] for r in rows}
    table.column_totals = {c: shown[("column", "", c)] for c in columns}
    table.grand_total = shown[("grand", "", ())]
    return table


Item = tuple[
    str, str, tuple[str, ...]
]  # ("cell", row, column), ("row", row, ()), ("column", "", column), ("grand", ...)


def _lines(rows: list[str], columns: list[tuple[str, ...]]) -> list[tuple[list[Item], Item]]:
    """Every published sum: each row and column of cells against its total, and the row totals
    and column totals against the grand total."""
    lines: list[tuple[list[Item], Item]] = [([("cell", r, c) for c in columns], ("row", r, ())) for r in rows]
    lines += [([("cell", r, c) for r in rows], ("column", "", c)) for c in columns]
    lines.append(([("row", r, ()) for r in rows], ("grand", "", ())))
    lines.append(([("column", "", c) for c in columns], ("grand", "", ())))
    return lines


def _nhs(n: int) -> str:
    if 1 <= n <= 7:
        return SUPPRESSED
    return str(5 * round(n / 5))


def _secondary(values: dict[Item, int], lines: list[tuple[list[Item], Item]], hidden: set[Item]) -> int:
    """Hide more until no published sum has exactly one unknown part; returns how many were added.

    The part hidden is the smallest non-zero visible one of the line; only when every visible part
    is zero is a zero hidden (a published zero next to one hidden cell would give that cell away),
    and failing that the line's total.
    """
    added = 0
    changed = True
    while changed:
        changed = False
        for parts, total in lines:
            unknown = sum(1 for part in parts if part in hidden) + (total in hidden)
            if unknown != 1:
                continue
            visible = [part for part in parts if part not in hidden]
            candidates = [part for part in visible if values[part] > 0] or visible
            if candidates:
                hidden.add(min(candidates, key=lambda part: (values[part], part)))
            elif total not in hidden:
                hidden.add(total)  # every part is already unknown but one: hide the sum itself
            else:
                continue
            added += 1
            changed = True
    return added


def derivable_cells(table: PublishedTable) -> list[tuple[str, tuple[str, ...]]]:
    """Suppressed cells an intruder can work out by subtraction from what is published: any sum
    with exactly one unknown part gives that part away, which may give away the next, and so on.
    The secondary suppression must leave this empty."""
    known: dict[Item, bool] = {
        ("cell", r, c): table.cells[(r, c)] != SUPPRESSED for r in table.row_keys for c in table.column_keys
    }
    known.update({("row", r, ()): table.row_totals[r] != SUPPRESSED for r in table.row_keys})
    known.update({("column", "", c): table.column_totals[c] != SUPPRESSED for c in table.column_keys})
    known[("grand", "", ())] = table.grand_total != SUPPRESSED
    lines = _lines(table.row_keys, table.column_keys)
    changed = True
    while changed:
        changed = False
        for parts, total in lines:
            unknown = [item for item in [*parts, total] if not known[item]]
            if len(unknown) == 1:
                known[unknown[0]] = True
                changed = True
    return [
        (r, c)
        for r in table.row_keys
        for c in table.column_keys
        if table.cells[(r, c)] == SUPPRESSED and known[("cell", r, c)]
    ]
