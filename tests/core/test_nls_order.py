"""Windows word-sort order of OpenPseudonymiser's digest labels (transform/nls_order).

Expected orders come from:
- Wine's conformance tests of CompareStringA with LOCALE_SYSTEM_DEFAULT and no flags
  (dlls/kernel32/tests/locale.c, ``comparestringa_data`` and ``test_CompareStringA``),
  which run against real Windows and record what it returns;
- Microsoft's CompareOptions / StringSorter documentation: in a word sort "the hyphen and
  the apostrophe are treated differently ... so that coop and co-op stay together", and
  every other non-alphanumeric character comes before any alphanumeric one;
- [MS-UCODEREF] 3.1.5.2: primary weights first, then diacritic, then case, then the
  special weights of hyphen and apostrophe;
- Mono's CompareInfoTest.GetSortKey* (run against .NET on Windows): the weights .NET
  puts in sort keys, and the position encoding of .NET Framework 2.0's special weights.
"""

from __future__ import annotations

import pytest

from pseudodesk.core.errors import PseudodeskError
from pseudodesk.core.transform.nls_order import LabelOrderError, sort_key, word_sorted


def compare(a: str, b: str) -> int:
    ka, kb = sort_key(a), sort_key(b)
    return (ka > kb) - (ka < kb)


# (first, second, CompareStringA's answer as -1/0/1), from Wine's tests run on Windows
WINE_VECTORS = [
    ("EndDialog", "_Property", 1),
    ("osp_vba.sreg0070", "_IEWWBrowserComp", 1),
    ("r", "\\", 1),
    ("osp_vba.sreg0031", "OriginalDatabase", 1),
    ("AAA", "aaa", 1),
    ("AAA", "aab", -1),
    ("AAA", "Aab", -1),
    (".AAA", "Aab", -1),
    (".AAA", "A.ab", -1),
    ("aa", "AB", -1),
    ("aa", "Aab", -1),
    ("aB", "Aab", 1),
    ("Ba", "bab", -1),
    ("{100}{83}{71}{71}{71}", "Global_DataAccess_JRO", -1),
    ("a", "{", 1),
    ("A", "{", 1),
    ("3.5", "4.0", -1),
    ("3.520.4403.2", "4.0.2927.10", -1),
    ("-o", "/m", 1),  # word sort: the hyphen is not weighed first, "o" > "/m"
    ("/m", "-o", -1),
    ("'o", "/m", 1),
    ("/m", "'o", -1),
    ("a-", "a", 1),  # the hyphen's special weight still tells them apart
    ("a'", "a", 1),
    ("'o", "-o", -1),  # apostrophe before hyphen
    ("'", "-", -1),
    ("`o", "/m", 1),
    ("/m", "`o", -1),
    ("`o", "-m", -1),
    ("-m", "`o", 1),
    ("#", ".", -1),
    ("_", ".", 1),
]


@pytest.mark.parametrize(("a", "b", "expected"), WINE_VECTORS)
def test_matches_windows_compare_string(a, b, expected):
    assert compare(a, b) == expected


def test_hyphen_and_apostrophe_keep_words_together():
    # documented word-sort example: coop and co-op side by side, before "cop";
    # "co_op" is a symbol in the primary key, so it sorts before every "coo..." label
    assert word_sorted(["cop", "co-op", "co_op", "Coop", "coop", "co'op"]) == [
        "co_op",
        "coop",
        "co'op",
        "co-op",
        "Coop",
        "cop",
    ]


def test_labels_told_apart_only_by_hyphen_position_are_refused():
    # modern Windows and .NET Framework 2.0's tables order these two ways round
    with pytest.raises(LabelOrderError, match="where a hyphen or apostrophe"):
        word_sorted(["c-oop", "co-op"])
    with pytest.raises(LabelOrderError, match="where a hyphen or apostrophe"):
        word_sorted(["+-+)", "-+-+)", "x"])
    # the character, not its position, decides here: the same on every version
    assert word_sorted(["co-op", "co'op"]) == ["co'op", "co-op"]
    assert word_sorted(["++)", "+-+-)", "+-+)"]) == ["++)", "+-+)", "+-+-)"]
    assert word_sorted(["--start", "--"]) == ["--", "--start"]


def test_weights_equal_those_dotnet_puts_in_its_sort_keys():
    # Mono's CompareInfoTest.GetSortKey* (run against .NET on Windows): primary (SM, AW),
    # diacritic and case weights of these strings
    assert sort_key("A-B-C")[:3] == (b"\x0e\x02\x0e\x09\x0e\x0a", b"", b"\x12\x12\x12")
    assert sort_key("e\u0301")[1] == b"\x0e" and sort_key("\u00e9")[1] == b"\x0e"
    assert sort_key("e\u0302")[1] == b"\x12"
    assert sort_key("e\u0308")[1] == b"\x13"
    assert sort_key("c\u00f4te")[:2] == (b"\x0e\x0a\x0e\x7c\x0e\x99\x0e\x21", b"\x02\x12")
    assert sort_key("cot\u00e9")[1] == b"\x02\x02\x02\x0e"
    assert sort_key("-")[3][2] == 0x82  # the hyphen's AW (130), as in .NET's key of "-"


def test_symbols_then_digits_then_letters():
    assert word_sorted(["a", "1", "_", " ", "~", "+", "Z", "0", "="]) == [" ", "_", "~", "+", "=", "0", "1", "a", "Z"]
    # ASCII symbols in table order: ASCII order, with + < = > after ~
    symbols = list(' !"#$%&()*,./:;?@[\\]^_`{|}~+<=>')
    assert word_sorted(sorted(symbols, reverse=True)) == symbols


def test_case_is_tertiary_lower_first():
    assert word_sorted(["NHSNumber", "DOB", "dob2", "b", "B", "a", "Dob"]) == [
        "a",
        "b",
        "B",
        "Dob",
        "DOB",
        "dob2",
        "NHSNumber",
    ]
    assert word_sorted(["DOB", "dob", "Dob"]) == ["dob", "Dob", "DOB"]


def test_digits_inside_labels_compare_digit_by_digit():
    assert word_sorted(["field10", "field2", "field1", "Field1"]) == ["field1", "Field1", "field10", "field2"]


def test_accents_are_secondary_and_case_tertiary():
    # English order: accents weigh left to right (not French order), after letters, before case
    assert word_sorted(["côté", "Cote", "côte", "coté", "cote"]) == ["cote", "Cote", "coté", "côte", "côté"]
    assert word_sorted(["résumé", "resume", "Résumé", "resumes"]) == ["resume", "résumé", "Résumé", "resumes"]
    # acute < grave < circumflex < diaeresis < tilde < ring < cedilla
    assert word_sorted(["ç", "å", "ã", "ä", "â", "à", "á", "a"]) == ["a", "á", "à", "â", "ä", "ã", "å", "ç"]
    assert compare("e", "é") == -1 and compare("é", "f") == -1 and compare("É", "é") == 1


def test_precomposed_and_decomposed_are_the_same_label():
    assert sort_key("caf\u00e9") == sort_key("cafe\u0301")
    with pytest.raises(LabelOrderError, match="same label"):
        word_sorted(["caf\u00e9", "cafe\u0301"])


@pytest.mark.parametrize(
    "label", ["Straße", "Æthelred", "Øre", "naïve\u0331", "£paid", "tab\there", "日付", "x\u00a0y"]
)
def test_refuses_characters_it_does_not_place(label):
    with pytest.raises(LabelOrderError, match="does not reproduce") as caught:
        sort_key(label)
    assert isinstance(caught.value, PseudodeskError)
    assert caught.value.quotes_cells  # a label may be a header cell: never recorded in clear
    assert "U+" in str(caught.value)


def test_every_printable_ascii_and_latin1_letter_is_placed():
    placed = [chr(c) for c in range(0x20, 0x7F)] + [chr(c) for c in range(0xC0, 0x100) if chr(c) not in "ÆÐ×ØÞßæð÷øþ"]
    keys = {sort_key(c) for c in placed}
    assert len(keys) == len(placed)  # no two characters weigh the same
