"""What a column that fails its convention holds instead, in words that name no value.

A sex column exported as NHS codes (1, 2) under an agreement that expects M/F, or an
ethnicity column of DfE codes under one that expects LCP numbers, fails almost every
value. The checks then say what the values look like: a known code scheme when they all
belong to one ("look like numeric sex codes (1 = male, 2 = female...)"), otherwise their shape
("digits, 1 to 2 characters long"). Neither ever quotes a value, so the description can
go into an error that is recorded outside this PC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

_NHS_ETHNIC = frozenset("ABCDEFGHJKLMNPRSZ")
_DFE_ETHNICITY = frozenset(
    {"WBRI", "WIRI", "WIRT", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN", "ABAN", "AOTH"}
    | {"BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT"}
)  # the DfE school census main ethnicity codes (extended codes are not recognised here)
_POLICE_SELF_DEFINED = frozenset(
    {"W1", "W2", "W3", "W4", "W9", "O1", "O2", "O9", "NS"} | {f"{group}{n}" for group in "MAB" for n in range(1, 10)}
)  # the 16+1 / 18+1 self-defined ethnicity codes used by police forces
_OFFICER_OBSERVED = frozenset({"IC1", "IC2", "IC3", "IC4", "IC5", "IC6", "IC9", "IC0"})
_ONS_WORDS = ("white", "asian", "black", "mixed", "multiple", "caribbean", "african", "other ethnic")


def _codes(values: set[str]) -> set[str]:
    return {v.strip().upper() for v in values if v.strip()}


def _within(allowed: Iterable[str], *, needs: Iterable[str] = ()) -> Callable[[set[str]], bool]:
    allowed_set, needed = frozenset(allowed), frozenset(needs)
    return lambda values: bool(values) and values <= allowed_set and (not needed or bool(values & needed))


_SCHEMES: tuple[tuple[str, Callable[[set[str]], bool]], ...] = (
    (
        "numeric sex codes (1 = male, 2 = female: ISO/IEC 5218 or NHS stated gender)",
        _within({"0", "1", "2", "9"}, needs={"1", "2"}),
    ),
    ("LCP ethnicity numbers (1 to 20)", _within({str(n) for n in range(1, 21)} | {f"{n:02d}" for n in range(1, 10)})),
    ("NHS ethnic category letters (A to H, J to N, P, R, S, Z)", _within(_NHS_ETHNIC | {"99"})),
    ("DfE school census ethnicity codes (such as WBRI, MWBC, AIND)", _within(_DFE_ETHNICITY)),
    ("police self-defined ethnicity codes (the 16+1 codes such as W1, M2, A3, NS)", _within(_POLICE_SELF_DEFINED)),
    ("police officer-observed ethnicity codes (IC1 to IC6)", _within(_OFFICER_OBSERVED)),
)


def known_scheme(values: set[str]) -> str | None:
    """The code scheme every one of these distinct values belongs to, or None."""
    codes = _codes(values)
    for name, belongs in _SCHEMES:
        if belongs(codes):
            return name
    words = [v.casefold() for v in values if v.strip()]
    if words and all(any(w in v for w in _ONS_WORDS) for v in words) and any(":" in v or " or " in v for v in words):
        return "ethnic group wordings from the ONS 2021 census (such as 'White: English, Welsh, ...')"
    return None


def shape_of(values: set[str]) -> str:
    """The values' shape without the values: which kinds of character, how long."""
    texts = [v.strip() for v in values if v.strip()]
    if not texts:
        return "blank"
    kinds = set()
    for text in texts:
        if text.isdigit():
            kinds.add("digits")
        elif text.isalpha():
            kinds.add("letters")
        elif text.replace(" ", "").isalnum():
            kinds.add("letters and digits")
        else:
            kinds.add("text with punctuation")
    shortest, longest = min(map(len, texts)), max(map(len, texts))
    size = (
        f"{shortest} character{'s' if shortest > 1 else ''}"
        if shortest == longest
        else f"{shortest} to {longest} characters"
    )
    return f"{' or '.join(sorted(kinds))}, {size} long, {len(texts):,} different value(s)"


def describe(values: set[str]) -> str:
    """'look like numeric sex codes (...)' or 'are digits, 1 character long, 2 different value(s)'."""
    scheme = known_scheme(values)
    return f"look like {scheme}" if scheme else f"are {shape_of(values)}"
