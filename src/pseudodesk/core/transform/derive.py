"""Outputs computed from their sources: pseudonyms, OpenPseudonymiser digests, validNHS, and
the coarsening a profile asks for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from pseudodesk.core.agreement.model import DisclosureRules, OutputField
from pseudodesk.core.conventions.generalise import (
    ETHNICITY_LEVELS,
    generalise_dob,
    generalise_ethnicity,
    generalise_postcode,
)
from pseudodesk.core.transform import openpseudonymiser as op
from pseudodesk.core.transform.openpseudonymiser import valid_nhs
from pseudodesk.core.transform.pseudonym import Pseudonymiser


def coarsener(field_: OutputField, rules: DisclosureRules, today: dt.date) -> Callable[[str], str]:
    """The function that turns a kept value into the coarser one the profile sends instead."""
    if field_.categories:
        table = field_.categories
        return lambda value: table.get(value, "Other")
    if field_.generalise in ("sector", "district", "area"):
        return lambda value: generalise_postcode(value, field_.generalise)
    if field_.generalise in ETHNICITY_LEVELS:
        return lambda value: generalise_ethnicity(value, field_.generalise)
    reference = rules.reference_date or today
    return lambda value: generalise_dob(value, field_.generalise, reference=reference, bands=rules.age_bands)


class Derive:
    """An output computed from its sources' checked values and raw text, entry by entry."""

    # Whether an entry with some (not all) sources empty is still computed; otherwise it
    # needs every source usable.
    partial_inputs = False

    def __call__(self, values: list[str], raws: list[str]) -> str:
        raise NotImplementedError

    def many(self, values: list[list[str]], raws: list[list[str]], count: int) -> list[str]:
        """``values[j][i]``/``raws[j][i]``: source ``j`` of entry ``i``."""
        return [self([v[i] for v in values], [r[i] for r in raws]) for i in range(count)]


class PseudonymDerive(Derive):
    """HMAC pseudonyms; entries with the same normalised values are hashed once, in one fast loop."""

    def __init__(self, pseudonymiser: Pseudonymiser) -> None:
        self.pseudonymiser = pseudonymiser

    def __call__(self, values: list[str], raws: list[str]) -> str:
        return self.pseudonymiser(values)

    def many(self, values: list[list[str]], raws: list[list[str]], count: int) -> list[str]:
        messages = self.pseudonymiser.messages(values, count)
        unique = dict.fromkeys(messages)
        if len(unique) == len(messages):  # the usual case: each entry is a different value already
            return self.pseudonymiser.many_messages(messages)
        digests = dict(zip(unique, self.pseudonymiser.many_messages(list(unique))))
        return [digests[m] for m in messages]


class OpDerive(Derive):
    """OpenPseudonymiser's digest over the raw text of the columns, under their labels.

    Like OpenPseudonymiser, an empty column adds nothing to the joined text, so a row
    with some inputs empty gets the digest the original gives it (partial_inputs); the
    plan leaves a row with every input empty without one.
    """

    partial_inputs = True

    def __init__(self, field: OutputField, sources: Sequence[tuple[str, str]], salt: str) -> None:
        """``sources``: (source field id, spreadsheet column) of each column the digest reads.

        Raises LabelOrderError before any row is read when the labels cannot be put in
        OpenPseudonymiser's order (or two of them are the same label to it).
        """
        self.labelled = [(field.labels.get(fid, column), fid == field.nhs_source) for fid, column in sources]
        op.label_order([label for label, _ in self.labelled])
        self.salt = salt

    def __call__(self, values: list[str], raws: list[str]) -> str:
        labelled = {label: op.nhs_digits(raw) if is_nhs else raw for (label, is_nhs), raw in zip(self.labelled, raws)}
        return op.digest(labelled, self.salt)


class ValidNhsDerive(Derive):
    """OpenPseudonymiser's validNHS column from the raw NHS number ("-1" when none is mapped)."""

    def __call__(self, values: list[str], raws: list[str]) -> str:
        return valid_nhs(raws[0]) if raws else "-1"
