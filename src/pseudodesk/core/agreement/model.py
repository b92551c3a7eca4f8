"""What an agreement profile says, as frozen dataclasses: its source fields and conventions,
its output fields and their roles, the recipient, the key, the checks, disclosure rules and
aggregate output.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pseudodesk.core.conventions import (
    ColumnContext,
    ColumnRule,
    Convention,
)

PROFILE_FORMAT = "pseudodesk-profile/1"


ROLES = ("pseudonym", "keep", "openpseudonymiser", "valid_nhs")


ON_INVALID = ("blank", "exclude", "block")


IDENTIFIER_KINDS = ("nhs_number", "email", "uk_phone", "postcode", "upn", "uln", "person_name")


CODING_OPTION = "coded"  # the convention option that names a column's input coding


@dataclass(frozen=True)
class SourceField:
    """An item of the agreement that a source column supplies (e.g. the NHS number)."""

    id: str
    label: str
    convention: str  # as named in the profile: a catalogue name or a pack's name
    required: bool = True
    aliases: tuple[str, ...] = ()
    base: Convention | None = field(default=None, repr=False, compare=False)
    options: dict[str, Any] = field(default_factory=dict)  # pack options overlaid with the field's own
    # The input codings the IG lead accepts for this field (the convention's "coded" option,
    # e.g. gender: "none" for words such as M/F, "nhs_stated" for NHS codes 1/2/9); a partner
    # picks one of them in the mapping. Empty: only the profile's own options.
    codings: tuple[str, ...] = ()

    @property
    def base_convention(self) -> Convention:
        assert self.base is not None
        return self.base

    def rule(self, context: ColumnContext | None = None, *, coding: str | None = None) -> ColumnRule:
        """A fresh column rule for this field (one per column per run); ``coding`` is the input
        coding the mapping chose among :attr:`codings`."""
        options = self.options if coding is None else {**self.options, CODING_OPTION: coding}
        return self.base_convention.rule(options, context)


@dataclass(frozen=True)
class OutputField:
    """A column of the exported CSV, in profile order."""

    name: str
    role: str  # "pseudonym" or "keep"
    sources: tuple[str, ...]  # source field ids; exactly one for "keep"
    description: str = ""
    allow_identifiers: tuple[str, ...] = ()  # identifier kinds this kept field may contain
    labels: dict[str, str] = field(default_factory=dict)  # openpseudonymiser: source id -> column label hashed under
    nhs_source: str = ""  # openpseudonymiser: the source field reduced to its digits
    generalise: str = ""  # keep fields: dob/date to month_year, year, age, age_band; postcode to sector...
    categories: dict[str, str] = field(default_factory=dict)  # keep fields: value -> coarser group


@dataclass(frozen=True)
class Recipient:
    mode: str  # "certificate" or "passphrase"
    certificates: tuple[Path, ...] = ()


@dataclass(frozen=True)
class KeyRef:
    id: str = ""
    fingerprint: str = ""
    salt_id: str = ""  # an OpenPseudonymiser salt in the key store, for openpseudonymiser fields


@dataclass(frozen=True)
class Checks:
    on_invalid: str = "blank"  # "blank", "exclude" or "block"
    scan_identifiers: bool = True
    # A field with more invalid values than this share of its non-empty ones blocks the export
    # whatever on_invalid says: the column is probably the wrong one, or in another coding.
    max_invalid_share: float = 0.05


@dataclass(frozen=True)
class DisclosureRules:
    """[disclosure]: which output fields a motivated intruder could know, and the smallest class allowed."""

    quasi_identifiers: tuple[str, ...] = ()  # output field names; empty: chosen by convention
    k: int = 5
    reference_date: dt.date | None = None  # for ages and age bands; None: the day of the run
    age_bands: tuple[tuple[int, int], ...] = ((0, 4), (5, 10), (11, 15), (16, 19), (20, 24))
    enforce: bool = False  # the export blanks quasi-identifier values until every class has k records
    # The pseudonym output field whose distinct values are the people a class size counts; None:
    # the first pseudonym field; "": rows are counted.
    person: str | None = None
    # enforce: at most this share of the records may be suppressed whole (all their
    # quasi-identifiers blanked) before the export is refused.
    max_suppressed_share: float = 0.0
    # What happens to a record suppressed whole: "blank" (sent with every quasi-identifier
    # blank) or "exclude" (left out of the export, counted in the report and the manifest).
    suppressed_records: str = "blank"
    # Kept output fields whose values must not be learnt from a class (l-diversity is reported).
    sensitive: tuple[str, ...] = ()
    # The number of people in the population the extract is drawn from (journalist and marketer
    # risk); None: the extract is taken as the whole population.
    population: int | None = None
    # enforce: once a person's field is sent blank under the agreement, every later release
    # from this installation sends it blank too (run/release_history.py).
    consistent_releases: bool = False


@dataclass(frozen=True)
class AggregateOutput:
    """[aggregate]: send counts by these output fields instead of rows, with small numbers suppressed."""

    dimensions: tuple[str, ...]
    rule: str = "threshold"  # or "nhs_digital"
    threshold: int = 10  # threshold rule: counts from 1 to this are suppressed
    # Every suppressed count's feasible range (the linear-programming audit) is at least this
    # wide; None: the largest count the rule suppresses (threshold, or 7 for nhs_digital).
    protection_level: int | None = None


QUASI_IDENTIFIER_CONVENTIONS = ("dob", "date", "gender", "postcode", "ethnicity")
PERSON_ROLES = ("pseudonym", "openpseudonymiser")  # output fields that can name a person


@dataclass(frozen=True)
class Profile:
    name: str
    version: str
    parties: tuple[str, ...]
    review_date: dt.date | None
    key: KeyRef
    recipient: Recipient
    source_fields: tuple[SourceField, ...]
    output_fields: tuple[OutputField, ...]
    metadata: dict[str, Any] = field(default_factory=dict)
    checks: Checks = field(default_factory=Checks)
    disclosure: DisclosureRules = field(default_factory=DisclosureRules)
    aggregate: AggregateOutput | None = None
    packs: tuple[str, ...] = ()
    sha256: str = ""
    path: Path | None = None

    def source_field(self, field_id: str) -> SourceField:
        for f in self.source_fields:
            if f.id == field_id:
                return f
        raise KeyError(field_id)

    @property
    def output_names(self) -> list[str]:
        return [f.name for f in self.output_fields]

    def quasi_identifiers(self) -> list[str]:
        """The output fields the risk report groups records by: the profile's [disclosure] list,
        else every kept field whose convention is a date of birth, date, gender, postcode or
        ethnicity, except a field declared sensitive."""
        if self.disclosure.quasi_identifiers:
            return list(self.disclosure.quasi_identifiers)
        return [
            o.name
            for o in self.output_fields
            if o.role == "keep"
            and o.name not in self.disclosure.sensitive
            and self.source_field(o.sources[0]).base_convention.name in QUASI_IDENTIFIER_CONVENTIONS
        ]

    def person_field(self) -> str:
        """The output field naming a person, whose distinct values class sizes and table counts
        count: [disclosure] person, else the first pseudonym field; "" when rows are counted."""
        if self.disclosure.person is not None:
            return self.disclosure.person
        return next((o.name for o in self.output_fields if o.role in PERSON_ROLES), "")

    def used_source_ids(self) -> list[str]:
        """Source field ids that feed at least one output field, in first-use order."""
        seen: dict[str, None] = {}
        for f in self.output_fields:
            for s in f.sources:
                seen.setdefault(s, None)
        return list(seen)
