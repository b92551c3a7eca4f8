"""Mapping suggestions: which profile field each source column feeds, with a confidence.

Two kinds of evidence, combined so the user confirms rather than types:
- the header: the profile's own field id, label and aliases (strongest), then the
  catalogue's usual headers for each convention ("D.O.B.", "Post Code", "Sex");
- the values: a sample is checked by every convention distinctive enough to be
  recognised from values alone; a column whose sampled values are 95% valid NHS
  numbers is an NHS number whatever its header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pseudodesk.core.agreement.model import Profile
from pseudodesk.core.conventions import CONVENTIONS, Status
from pseudodesk.core.read.table import SourceTable

VALUE_THRESHOLD = 0.95
MIN_VALUES = 5


@dataclass(frozen=True)
class ColumnSuggestion:
    column: str
    field_id: str | None  # the profile source field it should feed, if any
    convention: str | None  # the catalogue convention its header or values look like
    confidence: float  # 0..1
    reason: str
    # What the suggestion rests on, strongest first: "profile" (the header is one of the field's
    # own names), "header" (a usual header of the convention), "values" (the values alone),
    # "none". A suggestion from values alone must be confirmed by a person before an export.
    evidence: str = "none"

    @property
    def needs_confirming(self) -> bool:
        return self.field_id is not None and self.evidence == "values"


EVIDENCE_RANK = {"profile": 2, "header": 1, "values": 0, "none": -1}


def squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


def _header_convention(header: str) -> str | None:
    key = squash(header)
    for name, conv in CONVENTIONS.items():
        if any(squash(h) == key for h in conv.headers):
            return name
    return None


def value_convention(values: list[str]) -> tuple[str, float] | None:
    """The convention most of the values satisfy (share >= 95%), or None."""
    values = [v for v in values if v.strip()]
    if len(values) < MIN_VALUES:
        return None
    all_digits = all(v.strip().isdigit() and len(v.strip()) <= 2 for v in values)
    best: tuple[str, float] | None = None
    for name, conv in CONVENTIONS.items():
        if not conv.suggest_from_values:
            continue
        if all_digits and name in ("gender", "ethnicity"):
            continue  # small numeric codes are not evidence of any one scheme
        rule = conv.rule()
        if rule.needs_survey:
            for v in values:
                rule.observe(v)
        ok = sum(1 for v in values if rule.check(v).status in (Status.VALID, Status.NORMALISED))
        share = ok / len(values)
        if share >= VALUE_THRESHOLD and (best is None or share > best[1]):
            best = (name, share)
    return best


def suggest_for_table(profile: Profile, table: SourceTable, sample_rows: int = 500) -> list[ColumnSuggestion]:
    return suggest_columns(profile, table.header, table.preview(sample_rows))


def suggest_columns(
    profile: Profile, header: tuple[str, ...], sample: list[list[str]] | None = None
) -> list[ColumnSuggestion]:
    """One suggestion per source column, from its header and (when given) sampled values."""
    sample = sample or []
    by_alias: dict[str, str] = {}
    for sf in profile.source_fields:
        for candidate in (sf.id, sf.label, *sf.aliases):
            by_alias.setdefault(squash(candidate), sf.id)
    out: list[ColumnSuggestion] = []
    for index, column in enumerate(header):
        values = [row[index] for row in sample if index < len(row)]
        field_id = by_alias.get(squash(column))
        header_conv = _header_convention(column)
        by_values = value_convention(values)
        if field_id:
            conv = profile.source_field(field_id).base_convention.name
            confidence, reason = 0.95, f"header matches the profile's '{profile.source_field(field_id).label}'"
            if by_values and by_values[0] == conv:
                confidence, reason = 0.99, reason + f"; {by_values[1]:.0%} of sampled values are valid {conv}"
            out.append(ColumnSuggestion(column, field_id, conv, confidence, reason, "profile"))
            continue
        if by_values:
            conv, share = by_values
            target = _field_for(profile, conv)
            reason = f"{share:.0%} of sampled values are valid {conv}"
            evidence = "values"
            if header_conv == conv:
                reason, evidence = reason + "; the header agrees", "header"
            else:
                reason += "; the header does not say so: confirm it"
            out.append(ColumnSuggestion(column, target, conv, min(share, 0.98), reason, evidence))
            continue
        if header_conv:
            out.append(
                ColumnSuggestion(
                    column,
                    _field_for(profile, header_conv),
                    header_conv,
                    0.7,
                    f"header looks like {header_conv}",
                    "header",
                )
            )
            continue
        out.append(ColumnSuggestion(column, None, None, 0.0, "no match: stripped unless you map it"))
    return out


def _field_for(profile: Profile, convention: str) -> str | None:
    for sf in profile.source_fields:
        if sf.base_convention.name == convention:
            return sf.id
    return None
