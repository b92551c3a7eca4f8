"""Coded categories: gender and ethnicity, mapped through data files (data/*.toml)."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
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
def _data(name: str) -> dict[str, Any]:
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


CODING_NAMES = {  # the input codings a gender column may be declared in, as a partner reads them
    "none": "words (M, F, Male, Female...)",
    "iso5218": "ISO/IEC 5218 codes (0, 1, 2, 9)",
    "nhs_stated": "NHS person stated gender codes (1, 2, 9, X)",
    "nhs_identity": "NHS gender identity codes",
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
        data = _data("gender.toml")
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


# --- ethnicity ----------------------------------------------------------------------------

ETHNICITY_OPTIONS = (
    OptionSpec(
        "target",
        ("lcp", "dfe", "nhs"),
        "lcp",
        "output codes: LCP Scorecard 1-20, DfE main codes (WBRI...), or NHS 2001 letters",
    ),
)


def fold(text: str) -> str:
    """Case-folded, '&' as 'and', punctuation dropped, spaces collapsed."""
    text = text.casefold().replace("&", " and ")
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


@dataclass(frozen=True)
class EthnicCategory:
    lcp: int
    label: str
    dfe: str
    nhs: str | None
    nhs_lossy: str | None
    covers_more: bool


@functools.cache
def ethnicity_index() -> tuple[dict[int, EthnicCategory], dict[str, int], dict[str, tuple[int, ...]]]:
    """Categories by LCP code, every spelling to its LCP code, and ambiguous spellings."""
    data = _data("ethnicity.toml")
    categories: dict[int, EthnicCategory] = {}
    index: dict[str, int] = {}

    def add(spelling: str, code: int) -> None:
        key = fold(spelling)
        if index.get(key, code) != code:
            raise ValueError(f"ethnicity.toml: '{spelling}' maps to both {index[key]} and {code}")
        index[key] = code

    for item in data["category"]:
        code = int(item["lcp"])
        categories[code] = EthnicCategory(
            code, item["label"], item["dfe"], item.get("nhs"), item.get("nhs_lossy"), bool(item.get("nhs_covers_more"))
        )
        for spelling in [
            str(code),
            f"{code:02d}",
            item["label"],
            item["dfe"],
            *item.get("dfe_extended", []),
            *item.get("ons", []),
            *item.get("also", []),
            *item.get("nhs_also", []),
        ]:
            add(spelling, code)
        if item.get("nhs"):
            add(item["nhs"], code)
    ambiguous = {fold(k): tuple(v) for k, v in data["ambiguous"].items()}
    overlap = set(ambiguous) & set(index)
    if overlap:
        raise ValueError(f"ethnicity.toml: spellings both mapped and ambiguous: {sorted(overlap)}")
    return categories, index, ambiguous


class EthnicityRule(ColumnRule):
    def __init__(self, options: Mapping[str, Any], context: ColumnContext) -> None:
        super().__init__(options, context)
        self._categories, self._index, self._ambiguous = ethnicity_index()
        self._outputs = {self._output(c)[0] for c in self._categories.values()}

    def _output(self, category: EthnicCategory) -> tuple[str, str]:
        target = self.options["target"]
        if target == "lcp":
            return str(category.lcp), ""
        if target == "dfe":
            return category.dfe, ""
        if category.nhs:
            return category.nhs, ""
        assert category.nhs_lossy
        return category.nhs_lossy, f"lossy: LCP {category.lcp} ({category.label}) has no NHS code of its own"

    def decision(self) -> str:
        text = f"written as {self.options['target'].upper()} codes"
        notes = [f"{count} {what}" for what, count in sorted(self.notes.items())]
        return text + ("; " + "; ".join(notes) if notes else "")

    def check(self, raw: str) -> Checked:
        key = fold(raw)
        if not key:
            return EMPTY
        if key in self._ambiguous:
            codes = ", ".join(str(c) for c in self._ambiguous[key])
            return invalid(f"ambiguous: could be any of LCP codes {codes}; not guessed")
        code = self._index.get(key)
        if code is None:
            return invalid("not a recognised ethnicity code or description")
        category = self._categories[code]
        value, lossy = self._output(category)
        reason = lossy
        source_is_nhs_c = key == fold(category.nhs or "") and category.covers_more
        if source_is_nhs_c and self.options["target"] != "nhs":
            reason = "lossy: NHS code C also covers Traveller of Irish heritage and Gypsy/Roma (LCP 3, 4)"
        if reason:
            self.notes["value(s) mapped to a broader group (the agreement's codes have no exact match)"] += 1
        return settled(value, raw, reason)
