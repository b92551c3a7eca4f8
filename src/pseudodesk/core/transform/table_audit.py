"""What an intruder can work out from a published count table: a linear-programming audit.

A published table is a grid of cells with a total for each row, each column and the whole
table. Some entries are hidden (``*``). An intruder who adds and subtracts every published
number cleverly learns, for each hidden entry, the smallest and the largest value it can take
in any table consistent with everything published. Statistical offices audit tables this
way (tau-ARGUS and sdcTable call it the attacker problem); this module does the same with
the HiGHS linear-programming solver: for each hidden entry it solves two linear programs,
minimising and maximising that entry over

- one variable per cell, never below 0 (a count), without an upper limit when hidden;
- what each published cell says: exactly its number under the ``threshold`` rule; under the
  ``nhs_digital`` rule a number rounded to the nearest 5 says "between 2 below and 2 above"
  (a published ``0`` means exactly 0);
- what each published row, column and grand total says, the same way.

A hidden cell is assumed to be any count from 0 upwards: a ``*`` may hide a small count or a
larger one hidden to protect a small one, and the published table does not say which.

The variables are real numbers. For a two-way table with its margins this loses nothing:
the constraints form a network matrix, so with whole-number limits every extreme point is a
whole-number table, and the real-valued minimum and maximum are whole numbers that some
table of counts reaches.

Entries are addressed on the *extended grid*: rows ``0..R-1`` and the totals row ``R``,
columns ``0..C-1`` and the totals column ``C``; ``(r, C)`` is row r's total and ``(R, C)``
the grand total.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pseudodesk.core.progress import Cancel, raise_if_cancelled

SUPPRESSED = "*"
INFINITY = math.inf
Position = tuple[int, int]
Bounds = tuple[float, float]


def published_bounds(text: str, rule: str) -> Bounds | None:
    """What one published entry tells an intruder: its lowest and highest possible count, or
    None when it is hidden."""
    if text == SUPPRESSED:
        return None
    n = int(text)
    if rule == "nhs_digital" and n > 0:
        return float(n - 2), float(n + 2)  # rounded to the nearest 5: n-2 .. n+2 round to n
    return float(n), float(n)


class TableAuditor:
    """The intruder's linear program for one table; entries can be hidden one by one (each
    only widens what the intruder cannot pin down) and any hidden entry's range asked for."""

    def __init__(self, shown: Sequence[Sequence[str]], rule: str) -> None:
        import highspy
        import numpy as np

        self._np = np
        self._highspy = highspy
        self.rows = len(shown) - 1
        self.columns = len(shown[0]) - 1
        self.rule = rule
        rows, columns = self.rows, self.columns
        self._bounds: dict[Position, Bounds | None] = {
            (i, j): published_bounds(shown[i][j], rule) for i in range(rows + 1) for j in range(columns + 1)
        }
        lower = np.zeros(rows * columns)
        upper = np.full(rows * columns, highspy.kHighsInf)
        for i in range(rows):
            for j in range(columns):
                known = self._bounds[(i, j)]
                if known is not None:
                    lower[self._var(i, j)], upper[self._var(i, j)] = known
        # Constraint rows: each row total, each column total, the grand total (in that order).
        starts = [0]
        index: list[int] = []
        for i in range(rows):
            index.extend(self._var(i, j) for j in range(columns))
            starts.append(len(index))
        for j in range(columns):
            index.extend(self._var(i, j) for i in range(rows))
            starts.append(len(index))
        index.extend(range(rows * columns))
        starts.append(len(index))
        row_lower = np.full(rows + columns + 1, -highspy.kHighsInf)
        row_upper = np.full(rows + columns + 1, highspy.kHighsInf)
        for position in self._totals():
            known = self._bounds[position]
            if known is not None:
                row_lower[self._row(position)], row_upper[self._row(position)] = known
        lp = highspy.HighsLp()
        lp.num_col_ = rows * columns
        lp.num_row_ = rows + columns + 1
        lp.col_cost_ = np.zeros(rows * columns)
        lp.col_lower_ = lower
        lp.col_upper_ = upper
        lp.row_lower_ = row_lower
        lp.row_upper_ = row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.ones(len(index))
        # The plain solver class (exported, untyped): the wrapper with Python callbacks prints
        # a banner on stdout, which would mix with the command line's output.
        self._highs = getattr(highspy, "_Highs", highspy.Highs)()
        self._highs.setOptionValue("output_flag", False)
        # One thread: these programs are small, and HiGHS's worker threads outlive the solve;
        # still running when the interpreter exits, they can abort it (std::terminate).
        self._highs.setOptionValue("threads", 1)
        self._highs.passModel(lp)
        self._cost_set: list[int] = []

    def _var(self, i: int, j: int) -> int:
        return i * self.columns + j

    def _totals(self) -> list[Position]:
        return [(i, self.columns) for i in range(self.rows)] + [(self.rows, j) for j in range(self.columns + 1)]

    def _row(self, position: Position) -> int:
        i, j = position
        if j == self.columns and i < self.rows:
            return i
        if i == self.rows and j < self.columns:
            return self.rows + j
        return self.rows + self.columns

    def _members(self, position: Position) -> list[int]:
        """The cells whose sum the entry is."""
        i, j = position
        rows = range(self.rows) if i == self.rows else (i,)
        columns = range(self.columns) if j == self.columns else (j,)
        return [self._var(r, c) for r in rows for c in columns]

    def hidden(self, position: Position) -> bool:
        return self._bounds[position] is None

    def hide(self, position: Position) -> None:
        """The entry is published as ``*`` from now on."""
        if self._bounds[position] is None:
            return
        self._bounds[position] = None
        i, j = position
        inf = self._highspy.kHighsInf
        if i < self.rows and j < self.columns:
            self._highs.changeColBounds(self._var(i, j), 0.0, inf)
        else:
            self._highs.changeRowBounds(self._row(position), -inf, inf)

    def range(self, position: Position) -> Bounds:
        """The smallest and largest value the entry can take in any table of counts consistent
        with everything published."""
        np = self._np
        members = self._members(position)
        if self._cost_set:
            self._highs.changeColsCost(
                len(self._cost_set), np.array(self._cost_set, dtype=np.int32), np.zeros(len(self._cost_set))
            )
        self._highs.changeColsCost(len(members), np.array(members, dtype=np.int32), np.ones(len(members)))
        self._cost_set = members
        low = self._solve(maximise=False)
        high = self._solve(maximise=True)
        return low, high

    def _solve(self, *, maximise: bool) -> float:
        highspy = self._highspy
        self._highs.changeObjectiveSense(highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize)
        self._highs.run()
        status = self._highs.getModelStatus()
        if status == highspy.HighsModelStatus.kUnbounded:
            return INFINITY
        if status != highspy.HighsModelStatus.kOptimal:
            if status == highspy.HighsModelStatus.kUnboundedOrInfeasible:
                return INFINITY
            raise ValueError(f"the published table is inconsistent ({self._highs.modelStatusToString(status)})")
        value = float(self._highs.getInfo().objective_function_value)
        return float(round(value)) if abs(value - round(value)) < 1e-6 else value


def audit_grid(shown: Sequence[Sequence[str]], rule: str, *, cancel: Cancel | None = None) -> dict[Position, Bounds]:
    """Every hidden entry of an extended grid of published text with its feasible range."""
    auditor = TableAuditor(shown, rule)
    ranges: dict[Position, Bounds] = {}
    for i, row in enumerate(shown):
        for j, text in enumerate(row):
            if text == SUPPRESSED:
                raise_if_cancelled(cancel)
                ranges[(i, j)] = auditor.range((i, j))
    return ranges
