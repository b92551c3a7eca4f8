"""Ethnicity: every scheme partners use, mapped through one crosswalk (data/ethnicity.toml).

Recognised everywhere: LCP Scorecard numbers 1-20, DfE main and extended codes, NHS ethnic
category letters, ONS 2021 (and 2011) census wordings, common descriptions. Codes of two
characters belong to two schemes at once: ``A1`` is a police self-defined code (Indian) and
an NHS local code (a kind of White British); ``NS`` is police "not stated" and an NHS local
code under N. Like a date column's day/month order, the column decides: values only one
scheme writes (``W1``, ``O9`` for police; ``CA``, ``H1`` for NHS local codes) settle it,
and the ``coded`` option records a person's decision. A column that shows neither, or both,
has its two-character codes reported, never guessed.

Bare numbers are LCP codes unless the column is police- or NHS-coded: in a column of NHS
letters, ``9`` is the withdrawn NHS code for "not stated" and 0-8 the 1991 NHS codes, not
LCP 1-9, so they are reported (10-20 can only be LCP codes). Officer-observed IC codes are recognised and
refused: they record how a person appeared to an officer, not the person's own ethnicity,
and no self-defined code can be derived from them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pseudodesk.core.conventions.base import (
    EMPTY,
    Checked,
    ColumnContext,
    ColumnRule,
    OptionSpec,
    ascii_form,
    invalid,
    settled,
)
from pseudodesk.core.conventions.codes import read_data

ETHNICITY_OPTIONS = (
    OptionSpec(
        "target",
        ("lcp", "dfe", "nhs"),
        "lcp",
        "output codes: LCP Scorecard 1-20, DfE main codes (WBRI...), or NHS 2001 letters",
    ),
    OptionSpec(
        "coded",
        ("auto", "lcp", "nhs", "police"),
        "auto",
        "the column's codes: decided from its values, LCP numbers 1-20, NHS letters (local two-character "
        "codes read as their national parent), or police self-defined codes (16+1 and 18+1)",
    ),
)

NHS_LETTERS = frozenset("ABCDEFGHJKLMNPRSZ")  # NHS Data Dictionary ETHNIC CATEGORY national codes
_POLICE_LETTERS = frozenset("WMABO")  # first letters of the police self-defined codes
_TWO = re.compile(r"^[A-Z][A-Z0-9]$")
_LOSSY_NOTE = "value(s) mapped to a broader group (the agreement's codes have no exact match)"


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


@dataclass(frozen=True)
class Crosswalk:
    """data/ethnicity.toml read once: categories by LCP code and every way of writing them."""

    categories: dict[int, EthnicCategory]
    index: dict[str, int]  # folded spelling -> LCP code (scheme-free spellings only)
    ambiguous: dict[str, tuple[int, ...]]
    police: dict[str, int]  # police self-defined code -> LCP code
    police_ambiguous: dict[str, tuple[int, ...]]
    police_covers_more: frozenset[str]
    officer_observed: frozenset[str]
    nhs_parent: dict[str, int]  # NHS national letter -> LCP code
    nhs_local_not_read: frozenset[str]  # two-character codes an NHS column does not read as local codes


@functools.cache
def crosswalk() -> Crosswalk:
    data = read_data("ethnicity.toml")
    categories: dict[int, EthnicCategory] = {}
    index: dict[str, int] = {}

    def add(spelling: str, code: int) -> None:
        key = fold(spelling)
        if index.get(key, code) != code:
            raise ValueError(f"ethnicity.toml: '{spelling}' maps to both {index[key]} and {code}")
        index[key] = code

    nhs_parent: dict[str, int] = {}
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
            if len(item["nhs"]) == 1:
                nhs_parent[item["nhs"]] = code
    ambiguous = {fold(k): tuple(v) for k, v in data["ambiguous"].items()}
    overlap = set(ambiguous) & set(index)
    if overlap:
        raise ValueError(f"ethnicity.toml: spellings both mapped and ambiguous: {sorted(overlap)}")
    police = data["police_self_defined"]
    return Crosswalk(
        categories,
        index,
        ambiguous,
        {k: int(v) for k, v in police["codes"].items()},
        {k: tuple(v) for k, v in police["ambiguous"].items()},
        frozenset(police["covers_more"]),
        frozenset(data["police_officer_observed"]["codes"]),
        nhs_parent,
        frozenset(data["nhs_local"]["not_read"]),
    )


def _scheme_of(code: str, walk: Crosswalk) -> str:
    """Which scheme a two-character code (upper case) can only belong to: 'police', 'nhs',
    'both' (A1, M2, NS...) or '' (neither)."""
    police = code in walk.police or code in walk.police_ambiguous
    nhs = code[0] in NHS_LETTERS
    return "both" if police and nhs else "police" if police else "nhs" if nhs else ""


class EthnicityRule(ColumnRule):
    needs_survey = True

    def __init__(self, options: Mapping[str, Any], context: ColumnContext) -> None:
        super().__init__(options, context)
        self._walk = crosswalk()
        self._police_seen = self._nhs_seen = False

    # --- survey ------------------------------------------------------------------------

    def observe(self, raw: str) -> None:
        text = ascii_form(raw)
        key = fold(text).upper() if isinstance(text, str) else ""
        # Police-only codes (W1, O9...) and NHS national letters settle the column. NHS-only
        # two-character codes do not: a two-letter word ("No", "NK") would look like one.
        if _TWO.match(key) and _scheme_of(key, self._walk) == "police":
            self._police_seen = True
        elif key in NHS_LETTERS:
            self._nhs_seen = True

    def scheme(self) -> str:
        """The column's codes: 'lcp', 'nhs', 'police', 'mixed' (NHS and police codes both seen)
        or 'undecided' (no value shows; bare numbers are then LCP codes)."""
        coded = str(self.options["coded"])
        if coded != "auto":
            return coded
        if self._police_seen and self._nhs_seen:
            return "mixed"
        return "police" if self._police_seen else "nhs" if self._nhs_seen else "undecided"

    def decision(self) -> str:
        scheme = self.scheme()
        source = {
            "lcp": "numbers read as LCP codes (set by the profile or the user)",
            "nhs": "read as NHS codes: local two-character codes as their national letter, numbers not read",
            "police": "read as police self-defined codes; numbers not read",
            "mixed": "the column mixes NHS and police codes: two-character codes such as A1 were not guessed",
            "undecided": "numbers read as LCP codes",
        }[scheme]
        if self.options["coded"] == "auto" and scheme in ("nhs", "police"):
            source += " (decided from codes only that scheme writes)"
        text = f"written as {self.options['target'].upper()} codes; {source}"
        notes = [f"{count} {what}" for what, count in sorted(self.notes.items())]
        return text + ("; " + "; ".join(notes) if notes else "")

    # --- checking ------------------------------------------------------------------------

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

    def _settle(self, code: int, raw: str, reason: str = "") -> Checked:
        value, lossy = self._output(self._walk.categories[code])
        reason = reason or lossy
        if reason.startswith("lossy"):
            self.notes[_LOSSY_NOTE] += 1
        return settled(value, raw, reason)

    def _coded(self, key: str, raw: str) -> Checked | None:
        """A bare number, an IC code or a two-character code, read under the column's scheme;
        None when the value is none of these (or a number read as an LCP code)."""
        upper = key.upper()
        if upper.isdigit() and upper != "99":
            return self._number(int(upper))
        if upper in self._walk.officer_observed:
            return invalid(
                "an officer-observed code (IC1-IC9: how the person appeared to an officer), not the person's own "
                "ethnicity; no self-defined code can be derived from it"
            )
        return self._two_characters(upper, raw) if _TWO.match(upper) else None

    def _number(self, number: int) -> Checked | None:
        """0-9 in NHS data are the 1991 NHS codes (9: not stated, withdrawn); 10-20 are only LCP."""
        scheme = self.scheme()
        if scheme not in ("police", "mixed") and not (scheme == "nhs" and number <= 9):
            return None
        codes = {"nhs": "NHS", "police": "police"}.get(scheme, "NHS and police")
        return invalid(
            f"a number in a column of {codes} codes: not read as an LCP code (in NHS data 9 was the "
            "withdrawn code for not stated, 0-8 the 1991 codes); choose the column's codes in the mapping"
        )

    def _two_characters(self, code: str, raw: str) -> Checked | None:
        walk, scheme = self._walk, self.scheme()
        owner = _scheme_of(code, walk)
        if owner == "both":
            if scheme not in ("nhs", "police"):
                return invalid(
                    "a two-character code that is both a police code and an NHS local code; not guessed: "
                    "choose the column's codes in the mapping"
                )
            owner = scheme
        if owner == "police" and scheme != "nhs":
            if code in walk.police_ambiguous:
                codes = ", ".join(str(c) for c in walk.police_ambiguous[code])
                return invalid(f"ambiguous: the police code could be any of LCP codes {codes}; not guessed")
            lossy = code in walk.police_covers_more and self.options["target"] != "nhs"
            reason = "lossy: police code W9 (16+1) also covers Gypsy, Irish Traveller and Roma (LCP 3, 4)"
            return self._settle(walk.police[code], raw, reason if lossy else "")
        if owner == "nhs" and scheme == "nhs":
            if code in walk.nhs_local_not_read:
                return invalid(
                    "could be an NHS local code or an abbreviation (not known, not stated, not applicable); not guessed"
                )
            self.notes["NHS local code(s) read as their national category"] += 1
            return self._settle(walk.nhs_parent[code[0]], raw)
        if owner == "nhs" and scheme in ("undecided", "lcp"):
            if fold(code) in walk.index:
                return None  # a spelling of its own: looked up as one
            return invalid(
                "looks like an NHS local code (a national letter and one more character): read only in a column "
                "of NHS codes; choose the column's codes in the mapping"
            )
        return invalid("not a code of the column's scheme")

    def check(self, raw: str) -> Checked:
        text = ascii_form(raw)
        if isinstance(text, Checked):
            return text
        key = fold(text)
        if not key:
            return EMPTY
        coded = self._coded(key, raw)
        if coded is not None:
            return coded
        if key in self._walk.ambiguous:
            codes = ", ".join(str(c) for c in self._walk.ambiguous[key])
            return invalid(f"ambiguous: could be any of LCP codes {codes}; not guessed")
        code = self._walk.index.get(key)
        if code is None:
            return invalid("not a recognised ethnicity code or description")
        category = self._walk.categories[code]
        reason = ""
        if key == fold(category.nhs or "") and category.covers_more and self.options["target"] != "nhs":
            reason = "lossy: NHS code C also covers Traveller of Irish heritage and Gypsy/Roma (LCP 3, 4)"
        return self._settle(code, raw, reason)
