"""Coded categories: gender and ethnicity, mapped through data files (data/*.toml)."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any

from pseudodesk.core.conventions.base import (
    EMPTY,
    Checked,
    ColumnContext,
    ColumnRule,
    OptionSpec,
    invalid,
    settled,
)


@functools.cache
def read_data(name: str) -> dict[str, Any]:
    text = resources.files("pseudodesk.core.conventions").joinpath("data", name).read_text(encoding="utf-8")
    return tomllib.loads(text)


# --- gender -------------------------------------------------------------------------------

GENDER_OPTIONS = (
    OptionSpec(
        "target",
        ("MF", "MFU", "iso5218", "nhs_stated"),
        "MF",
        "output codes: M/F (LCP), M/F/U (DfE), ISO/IEC 5218, or NHS Person Stated Gender",
    ),
    OptionSpec(
        "coded",
        ("none", "iso5218", "nhs_stated", "nhs_identity"),
        "none",
        "the column holds numeric codes of this scheme (only then are 1 and 2 read)",
    ),
)

_CATEGORY_WORDS = {
    "male": "male",
    "female": "female",
    "not_known": "not known",
    "not_stated": "not stated",
    "indeterminate": "indeterminate",
    "not_applicable": "not applicable",
    "non_binary": "non-binary",
    "other": "other",
}


CODING_NAMES = {  # the input codings a gender or ethnicity column may be declared in, as a partner reads them
    "none": "words (M, F, Male, Female...)",
    "iso5218": "ISO/IEC 5218 codes (0, 1, 2, 9)",
    "nhs_stated": "NHS person stated gender codes (1, 2, 9, X)",
    "nhs_identity": "NHS gender identity codes",
    "auto": "decided from the column's values",
    "lcp": "LCP Scorecard numbers (1 to 20)",
    "nhs": "NHS ethnic category letters (A to Z, with local two-character codes)",
    "police": "police self-defined codes (W1, M1, A1, B1, O9, NS...)",
}


TARGET_NAMES = {  # how a gender column is written in the export, as a partner reads it
    "MF": "M or F",
    "MFU": "M, F or U",
    "iso5218": "ISO/IEC 5218 codes (0, 1, 2, 9)",
    "nhs_stated": "NHS person stated gender codes (1, 2, 9, X)",
}


class GenderRule(ColumnRule):
    def __init__(self, options: Mapping[str, Any], context: ColumnContext) -> None:
        super().__init__(options, context)
        data = read_data("gender.toml")
        self._spellings = {s: cat for cat, words in data["spellings"].items() for s in words}
        coded = self.options["coded"]
        self._codes: dict[str, str] = {k.casefold(): v for k, v in data["coded"].get(coded, {}).items()}
        self._target: dict[str, str] = data["targets"][self.options["target"]]

    def decision(self) -> str:
        coded = self.options["coded"]
        source = (
            f"numbers read as {CODING_NAMES.get(coded, coded)}"
            if coded != "none"
            else "numbers such as 1 and 2 are not read, since the agreement does not say which codes they are"
        )
        target = TARGET_NAMES.get(self.options["target"], self.options["target"])
        return f"written as {target}; {source}"

    def check(self, raw: str) -> Checked:
        key = " ".join(raw.split()).casefold()
        if not key:
            return EMPTY
        category = self._codes.get(key) or self._spellings.get(key)
        if category is None:
            if key.isdigit():
                return invalid(
                    "a numeric code, read only when the column's coding is declared (ISO 5218 or NHS); "
                    "sex is never guessed"
                )
            return invalid("not a recognised spelling of male or female (sex is never inferred from titles or names)")
        value = self._target.get(category)
        if value is None:
            target = TARGET_NAMES.get(self.options["target"], self.options["target"])
            return invalid(
                f"'{_CATEGORY_WORDS[category]}' cannot be written as {target}: the agreement has no code for it"
            )
        return settled(value, raw)
