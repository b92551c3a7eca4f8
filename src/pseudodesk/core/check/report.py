"""The check report: structured data, and the same as CSV and readable HTML.

The report holds raw source values (so a partner can find and fix them). It is for
the partner's own screen and disk only, never part of the export: files written
from it carry that warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pseudodesk.core.check.scan import Finding
from pseudodesk.core.check.schemes import describe
from pseudodesk.core.conventions import Status
from pseudodesk.core.read.table import SourceIssue

if TYPE_CHECKING:
    pass


ACTIONS = {
    "blank": "value blanked, row kept",
    "exclude": "row excluded",
    "block": "blocks the export until fixed",
}


@dataclass(frozen=True)
class Problem:
    """A value that could not be used. ``raw`` stays local (screen and local report)."""

    line: int
    field_id: str
    column: str
    reason: str
    raw: str = field(repr=False, default="")
    action: str = ""


@dataclass(frozen=True)
class Notice:
    """A value normalised under an assumption the user should see (lossy code, test NHS number...)."""

    line: int
    field_id: str
    column: str
    raw: str = field(repr=False)
    value: str
    reason: str


@dataclass(frozen=True)
class Reject:
    """A row the policy changed: its values blanked, or the row excluded."""

    line: int
    action: str  # "blanked" or "excluded"
    fields: tuple[str, ...]


@dataclass
class FieldStats:
    field_id: str
    label: str
    column: str
    convention: str
    decision: str = ""
    checked_as: str = ""  # the convention in a partner's words (Convention.plain_name)
    codings: tuple[str, ...] = ()  # input codings the agreement accepts for the field (profile `codings`)
    coding: str = ""  # the one the mapping chose
    counts: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Status})
    problems: list[Problem] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    @property
    def invalid(self) -> int:
        return self.counts[Status.INVALID.value]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class CheckReport:
    policy: str = "blank"
    max_invalid_share: float = 0.05  # the agreement's [checks] max_invalid_share
    rows: int = 0
    rows_written: int = 0
    fields: dict[str, FieldStats] = field(default_factory=dict)
    blank_outputs: dict[str, int] = field(default_factory=dict)  # output field -> cells left blank
    stripped_columns: list[str] = field(default_factory=list)
    source_issues: list[SourceIssue] = field(default_factory=list)
    findings: list[Finding] = field(
        default_factory=list
    )  # identifiers not allowed in kept fields (the first MAX_LISTED)
    identifiers_found: int = 0  # all of them, listed or not
    rejects: list[Reject] = field(default_factory=list)  # the first pipeline.MAX_LISTED rows changed
    rows_excluded: int = 0  # rows the policy left out (all counted, listed or not)
    rows_blanked: int = 0  # rows the policy wrote with invalid values blanked
    truncated: int = 0  # problems or notices beyond the per-field limit (counted, not listed)
    suppressed: dict[str, int] = field(default_factory=dict)  # [disclosure] enforce: values blanked per output field
    records_suppressed: int = 0  # [disclosure] enforce: records sent with every quasi-identifier blanked
    history_suppressed: int = 0  # [disclosure] consistent_releases: values blanked because earlier releases did

    @property
    def invalid_values(self) -> int:
        return sum(f.invalid for f in self.fields.values())

    def fields_over_threshold(self) -> list[FieldStats]:
        """Fields whose invalid share of non-empty values passes ``max_invalid_share``."""
        return [
            stats
            for stats in self.fields.values()
            if stats.invalid and stats.invalid > self.max_invalid_share * (stats.total - stats.counts["empty"])
        ]

    def blocking_reasons(self) -> list[str]:
        """Why the export must not happen (empty when it may)."""
        reasons = []
        for stats in self.fields_over_threshold():
            filled = stats.total - stats.counts["empty"]
            looks = describe({p.raw for p in stats.problems})
            reasons.append(
                f"{stats.invalid:,} of {filled:,} values in column '{stats.column}' ({stats.label}) are not valid "
                f"{stats.convention} ({stats.invalid / filled:.0%}; the agreement allows "
                f"{self.max_invalid_share:.0%}); the invalid values {looks}. Check that this is the right "
                "column in the mapping; if it is, the values are in another coding: "
                + (
                    f"the agreement accepts these codings for it: {', '.join(stats.codings)}; choose the one the "
                    "column uses in the Map step (or under [codings] in the mapping file)"
                    if len(stats.codings) > 1
                    else "ask the IG lead whether the agreement accepts it, or recode the column in the source"
                )
            )
        if self.policy == "block" and self.invalid_values:
            first = next(p for f in self.fields.values() for p in f.problems)
            reasons.append(
                f"{self.invalid_values:,} invalid value(s) and the agreement's policy is 'block' "
                f"(first: row {first.line}, column '{first.column}': {first.reason})"
            )
        if self.identifiers_found:
            shown = "; ".join(
                f"row {f.line}, column '{f.field}': {f.kind.replace('_', ' ')}" for f in self.findings[:5]
            )
            found = self.identifiers_found
            more = f" and {found - 5:,} more" if found > 5 else ""
            reasons.append(
                f"{found:,} identifier(s) found in kept columns ({shown}{more}); "
                "remove them from the source or ask the IG lead to allow them in the profile"
            )
        return reasons


FIRST_LINES = 5  # row numbers shown per group of identical problems


@dataclass(frozen=True)
class ProblemGroup:
    """Identical problems (one column, one reason) as one line: how many, and where the first are."""

    field_id: str
    column: str
    reason: str
    action: str
    count: int  # of the problems listed (each field lists its first MAX_LISTED)
    lines: tuple[int, ...]  # the first FIRST_LINES row numbers
    examples: tuple[str, ...]  # the first different raw values: for the screen at this PC only
    different: int  # how many different raw values the group has


def grouped_problems(report: CheckReport) -> list[ProblemGroup]:
    """The listed problems grouped by column and reason, in the order their first row comes."""
    groups: dict[tuple[str, str], list[Problem]] = {}
    for stats in report.fields.values():
        for problem in stats.problems:
            groups.setdefault((problem.column, problem.reason), []).append(problem)
    out = []
    for (column, reason), problems in groups.items():
        problems.sort(key=lambda p: p.line)
        values = tuple(dict.fromkeys(p.raw for p in problems))
        first = problems[0]
        out.append(
            ProblemGroup(
                first.field_id,
                column,
                reason,
                first.action,
                len(problems),
                tuple(p.line for p in problems[:FIRST_LINES]),
                values[:3],
                len(values),
            )
        )
    return sorted(out, key=lambda g: g.lines[0])
