"""The residual identifier scan's one-pattern prefilter finds exactly what the six patterns find."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pseudodesk.core.check import scan
from pseudodesk.core.check.scan import find_identifiers

KINDS = ("nhs_number", "uln", "email", "uk_phone", "postcode", "upn", "person_name")
PIECES = [
    "943 476 5919",
    "9434765919",
    "9276308686",
    "jo@example.org",
    "07911 123456",
    "+44 (0)1522 552222",
    "0044 1522 552222",
    "LN1 1YL",
    "ln11yl",
    "SW1A 2AA",
    "B801200005001",
    "Ann",
    "29/11/1973",
    "1234567890",
    "AB12 3",
    "@",
    "+",
    "-",
    " ",
    "0",
    "1",
    "9",
    "A",
    "x",
    ".",
    "(",
]


def _reference(value, skip, names):
    with pytest.MonkeyPatch.context() as m:
        m.setattr(scan, "_any_candidate", lambda skip: None)  # the six patterns, each searched
        return find_identifiers(value, skip, names)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES) | st.text(alphabet="0123456789 AZaz@.+-()", max_size=6), max_size=8),
    st.frozensets(st.sampled_from(KINDS)),
    st.booleans(),
)
def test_prefiltered_scan_equals_the_full_scan(pieces, skip, with_names):
    value = "".join(pieces)
    names = ("Ann",) if with_names else ()
    assert find_identifiers(value, skip, names) == _reference(value, skip, names)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("call 07911 123456", "uk_phone"),
        ("at LN1 1YL", "postcode"),
        ("B801200005001", "upn"),
        ("9276308686", "uln"),
        ("jo@example.org", "email"),
        ("943 476 5919", "nhs_number"),
    ],
)
def test_each_kind_passes_the_prefilter(value, kind):
    assert [k for k, _ in find_identifiers(value)] == [kind]
    assert find_identifiers(value, frozenset({kind})) == []


def test_clean_values_are_settled_by_one_search():
    calls = []
    real = scan._NHS

    class Spy:
        def finditer(self, value):
            calls.append(value)
            return real.finditer(value)

    pattern = scan._any_candidate(frozenset({"postcode"}))
    assert pattern is not None and not pattern.search("29/11/1973") and not pattern.search("LN1 1YL")
    original, scan._NHS = scan._NHS, Spy()
    try:
        assert find_identifiers("29/11/1973", frozenset({"postcode"})) == []
        assert calls == []  # the per-kind patterns were not run
        find_identifiers("ring 07911 123456", frozenset({"postcode"}))
        assert calls == ["ring 07911 123456"]
    finally:
        scan._NHS = original
