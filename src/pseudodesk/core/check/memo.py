"""Each distinct value checked once: dictionary-encoded columns and the per-column memory of verdicts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow.compute as pc

from pseudodesk.core.conventions import Checked, ColumnRule
from pseudodesk.core.conventions.base import STATUS_CODES


def distinct(column: Any) -> tuple[Any, list[str], np.ndarray]:
    """The distinct values of a text column in first-seen order (as Arrow and as Python strings),
    and each row's index into them."""
    encoded = pc.dictionary_encode(column)
    uniques = encoded.dictionary
    return uniques, uniques.to_pylist(), encoded.indices.to_numpy(zero_copy_only=False)


def every_cell(column: Any) -> tuple[Any, list[str], np.ndarray]:
    """No dictionary: one entry per row (what a check without memory sees)."""
    values = column.to_pylist()
    return column, values, np.arange(len(values), dtype=np.int32)


def combine(codes: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rows coded in several columns -> one code per distinct combination, and the combinations
    (one row per combination: its index in each column)."""
    stacked = np.stack([np.asarray(c, dtype=np.int64) for c in codes], axis=1)
    if not len(stacked):
        return np.zeros(0, dtype=np.int64), np.zeros((0, len(codes)), dtype=np.int64)
    members, inverse = np.unique(stacked, axis=0, return_inverse=True)
    return inverse.reshape(-1), members


class MemoCheck:
    """``rule.check`` with a per-column memory: each distinct raw value is checked once.

    Extracts repeat themselves (a gender column has a handful of spellings, a date column a
    few thousand dates), so most values are a dictionary look-up. Rules are deterministic
    once their survey is done; the only side effect a check has, counting an assumption in
    ``rule.notes`` for the report, is recorded with the value and replayed on every hit, so
    the report is the same as without the memory. The memory is bounded: past ``limit``
    distinct values (a column of unique NHS numbers) it stops remembering new ones; with
    ``limit`` 0 the pipeline checks every cell (tests compare the two).
    """

    def __init__(self, rule: ColumnRule, limit: int = 100_000) -> None:
        self.rule = rule
        self.limit = limit
        self._memory: dict[str, tuple[_Verdict, tuple[str, ...]]] = {}  # raw -> verdict, notes it counted

    def __call__(self, raw: str) -> Checked:
        value, code, reason, plain = self._checked([raw], [1])[0]
        return Checked(value, _STATUSES[code], reason, plain)

    def many(self, raw: list[str], counts: Sequence[int], column: Any = None) -> _Results:
        """Check distinct values, value ``k`` standing for ``counts[k]`` cells of the column.

        ``column`` is the same values as an Arrow array: the rule's kernel (if it has one)
        settles what it can at once; the rest go through ``rule.check`` and this memory.
        The report's assumption counts come out as if every cell had been checked.
        """
        size = len(raw)
        verdicts = self.rule.check_many(column) if column is not None and size else None
        handled = verdicts.handled if verdicts is not None else np.zeros(size, dtype=bool)
        rest = np.flatnonzero(~handled).tolist()
        if verdicts is not None and not rest:  # the kernel settled every value
            return _Results(
                _as_list(verdicts.values),
                np.asarray(verdicts.status, dtype=np.int8),
                _as_list(verdicts.reasons),
                np.asarray(verdicts.plain, dtype=bool),
            )
        values_a = np.empty(size, dtype=object)
        reasons_a = np.empty(size, dtype=object)
        status = np.empty(size, dtype=np.int8)
        plain_a = np.empty(size, dtype=bool)
        if verdicts is not None:
            values_a[handled] = verdicts.values
            reasons_a[handled] = verdicts.reasons
            status[handled] = verdicts.status
            plain_a[handled] = verdicts.plain
        if rest:
            values, codes, reasons, plain = zip(*self._checked([raw[k] for k in rest], [counts[k] for k in rest]))
            values_a[rest] = values
            reasons_a[rest] = reasons
            status[rest] = codes
            plain_a[rest] = plain
        return _Results(values_a.tolist(), status, reasons_a.tolist(), plain_a)

    def _checked(self, values: list[str], counts: Sequence[int]) -> list[_Verdict]:
        memory, rule = self._memory, self.rule
        remembered = memory.get
        out: list[_Verdict] = []
        append = out.append
        for raw, count in zip(values, counts):
            hit = remembered(raw)
            if hit is not None:
                verdict, noted = hit
                for note in noted:
                    rule.notes[note] += count
                append(verdict)
                continue
            kept, rule.notes = rule.notes, Counter()  # what this one check counts, on its own
            try:
                result = rule.check(raw)
            finally:
                fresh, rule.notes = rule.notes, kept
            for note, n in fresh.items():
                kept[note] += n * count
            verdict = (result.value, _KIND[result.status], result.reason, result.plain)
            if len(memory) < self.limit:
                memory[raw] = (verdict, tuple(k for k, n in fresh.items() for _ in range(n)))
            append(verdict)
        return out


def _as_list(items: Any) -> list[str]:
    return items.tolist() if isinstance(items, np.ndarray) else list(items)


_Verdict = tuple[str, int, str, bool]  # a Checked as (value, status code, reason, plain)


@dataclass
class _Results:
    """Checks of a column's distinct values, as columns: value, status code, reason, plain."""

    values: list[str]
    status: np.ndarray
    reasons: list[str]
    plain: np.ndarray


_KIND = STATUS_CODES


_STATUSES = {code: status for status, code in STATUS_CODES.items()}
