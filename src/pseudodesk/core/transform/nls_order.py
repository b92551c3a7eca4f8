"""Windows' culture-aware string order ("word sort"), as OpenPseudonymiser sorts its labels.

OpenPseudonymiser 0.9.7 keys its digest columns in a ``SortedList<string, ...>`` built with
the default comparer (``Processor.cs``: ``new SortedList<string, string>()``), i.e.
``string.CompareTo``: ``CultureInfo.CurrentCulture.CompareInfo.Compare(a, b,
CompareOptions.None)``. The program is a .NET Framework 4 WPF application, so on Windows
that is ``CompareStringEx`` with no flags under the user's locale (en-GB for the partners;
English uses the default table with no exceptions): the NLS "word sort" of
[MS-UCODEREF] 3.1.5.2 (GetWindowsSortKey, CompareSortKey) over the Windows Sorting
Weight Table.

How a label is weighed. The rules are those two documents' and Wine's reimplementation of
CompareStringEx (``dlls/kernelbase/locale.c``); the test vectors in
tests/core/test_nls_order.py come from Wine's conformance tests, which run on Windows
(``dlls/kernel32/tests/locale.c``), and from Mono's sort-key tests, which ran on .NET
(``CompareInfoTest.GetSortKey*``: the letter, accent and case weights below are the ones
.NET puts in its sort keys). The order of ASCII symbols among themselves that no vector
covers rests on the Windows Sorting Weight Table as transcribed here.

- Each character has a script member (SM), an alphanumeric weight (AW), a diacritic
  weight (DW) and a case weight (CW). Letters, digits and symbols put (SM, AW) in the
  primary key, DW in the diacritic key, CW in the case key.
- Primary keys compare first, byte by byte, a shorter key that is a prefix of the other
  first; then diacritic keys, then case keys (each without its trailing 2s, the "no
  accent"/"lower case" weight), then the special key.
- Script members order whole classes: symbols (SM 7: space and most ASCII punctuation,
  then SM 8: ``+ < = >``) before digits (SM 13) before Latin letters (SM 14). Within a
  class the table's AW order applies; for ASCII symbols that is ASCII order apart from
  ``+ < = >``, which come after ``~``.
- Hyphen-minus and apostrophe are "punctuation" (SM 6): in a word sort they add nothing
  to the primary key ("coop" and "co-op" sort together). Each adds to the special key
  its position, its AW (apostrophe before hyphen) and its case/diacritic byte, so a
  label with one sorts right after the same label without it. How the position is
  written differs between versions: modern Windows (Wine's reimplementation) writes
  0xFFFF minus the number of primary weights before it, so an earlier hyphen sorts
  later; .NET Framework 2.0's own tables wrote 0x8000 + 4n + 7 (Mono's sort-key tests
  run on .NET), so an earlier hyphen sorts first. Two labels whose order only that
  position decides ("co-op" and "c-oop") are therefore refused (:func:`word_sorted`).
- Case is a tertiary difference: lower case (CW 2) before upper case (CW 18), only when
  letters and accents are otherwise equal ("aa" < "AB" < "Aab"... see the tests).
- Accents are a secondary difference: a Latin-1 letter with an accent has its base
  letter's primary weight and the accent's DW: acute 0x0E, circumflex 0x12 and
  diaeresis 0x13 as in .NET's sort keys; grave 0x0F, tilde 0x19, ring 0x1A and cedilla
  0x1C as in Mono's reimplementation of the table (``create-mscompat-collation-table.cs``).
  A precomposed letter and its decomposed spelling compare equal (Wine's tests), so
  labels are composed (NFC) first.

What is implemented: printable ASCII (U+0020..U+007E) and the Latin-1 letters that are a
base letter plus one accent (À..Ý and à..ÿ except Æ Ð Ø Þ ß æ ð ø þ, which the table
treats as expansions or letters of their own: Æ has the sort key of "AE", yet .NET
Framework 2.0's Compare did not hold them equal, so their place depends on the version).
Any other character is refused with :class:`LabelOrderError` rather than given a guessed
place: a guessed place could order the columns differently from OpenPseudonymiser and
every digest would silently differ.
"""

from __future__ import annotations

import unicodedata

from pseudodesk.core.errors import PseudodeskError

_PUNCTUATION, _SYMBOL_1, _SYMBOL_2, _DIGIT, _LATIN = 6, 7, 8, 13, 14
_NO_MARK = 2  # DW of a character without an accent; also CW of lower case and of non-letters
_UPPER = 18  # CW of an upper-case letter

# Symbols in the table's order within their script member (the AW values are this module's
# own; only their order matters to a comparison).
_SYMBOL_1_ORDER = ' !"#$%&()*,./:;?@[\\]^_`{|}~'
_SYMBOL_2_ORDER = "+<=>"
_PUNCTUATION_AW = {"'": 128, "-": 130}
# Latin letters A..Z: the table's AW values (they leave room for letters between them).
_LETTER_AW = (
    0x02, 0x09, 0x0A, 0x1A, 0x21, 0x23, 0x25, 0x2C, 0x32, 0x35, 0x36, 0x48, 0x51,
    0x70, 0x7C, 0x7E, 0x89, 0x8A, 0x91, 0x99, 0x9F, 0xA2, 0xA4, 0xA6, 0xA7, 0xA9,
)  # fmt: skip
# Combining accents that occur in Latin-1 letters, and the DW the letter gets.
_ACCENT_DW = {
    "\u0301": 0x0E,  # acute
    "\u0300": 0x0F,  # grave
    "\u0302": 0x12,  # circumflex
    "\u0308": 0x13,  # diaeresis
    "\u0303": 0x19,  # tilde
    "\u030a": 0x1A,  # ring above
    "\u0327": 0x1C,  # cedilla
}

# character -> (SM, AW, DW, CW)
_WEIGHTS: dict[str, tuple[int, int, int, int]] = {}
for _i, _c in enumerate(_SYMBOL_1_ORDER):
    _WEIGHTS[_c] = (_SYMBOL_1, 2 + _i, _NO_MARK, _NO_MARK)
for _i, _c in enumerate(_SYMBOL_2_ORDER):
    _WEIGHTS[_c] = (_SYMBOL_2, 2 + _i, _NO_MARK, _NO_MARK)
for _c, _aw in _PUNCTUATION_AW.items():
    _WEIGHTS[_c] = (_PUNCTUATION, _aw, _NO_MARK, _NO_MARK)
for _i in range(10):
    _WEIGHTS[str(_i)] = (_DIGIT, 3 + _i, _NO_MARK, _NO_MARK)
for _i, _aw in enumerate(_LETTER_AW):
    _WEIGHTS[chr(ord("a") + _i)] = (_LATIN, _aw, _NO_MARK, _NO_MARK)
    _WEIGHTS[chr(ord("A") + _i)] = (_LATIN, _aw, _NO_MARK, _UPPER)
for _code in range(0xC0, 0x100):
    _parts = unicodedata.normalize("NFD", chr(_code))
    if len(_parts) == 2 and _parts[0] in _WEIGHTS and _parts[1] in _ACCENT_DW:
        _sm, _aw, _, _cw = _WEIGHTS[_parts[0]]
        _WEIGHTS[chr(_code)] = (_sm, _aw, _ACCENT_DW[_parts[1]], _cw)

SortKey = tuple[bytes, bytes, bytes, bytes]


class LabelOrderError(PseudodeskError):
    """A digest label pseudodesk cannot place in OpenPseudonymiser's order."""

    quotes_cells = True  # a label may be a header cell of the source


def sort_key(label: str) -> SortKey:
    """The word-sort key of ``label``: (primary, diacritic, case, special) weights.

    Python compares these tuples exactly as CompareStringEx compares the strings.
    """
    primary = bytearray()
    diacritic = bytearray()
    case = bytearray()
    special = bytearray()
    for position, char in enumerate(unicodedata.normalize("NFC", label), start=1):
        weights = _WEIGHTS.get(char)
        if weights is None:
            raise LabelOrderError(
                f"The digest label {label!r} has the character {char!r} (U+{ord(char):04X}, position "
                f"{position}), whose place in OpenPseudonymiser's label order pseudodesk does not reproduce "
                "(it does for ASCII letters, digits, spaces and punctuation and for accented Latin-1 letters). "
                "The order decides every digest: agree a label without it with the other organisation and "
                "set it in the profile's labels for this field."
            )
        sm, aw, dw, cw = weights
        if sm == _PUNCTUATION:
            where = 0xFFFF - len(primary) // 2
            special += bytes((where >> 8, where & 0xFF, aw, cw | (dw << 3)))
            continue
        primary += bytes((sm, aw))
        diacritic.append(dw)
        case.append(cw)
    return bytes(primary), bytes(diacritic).rstrip(b"\x02"), bytes(case).rstrip(b"\x02"), bytes(special)


def word_sorted(labels: list[str]) -> list[str]:
    """``labels`` in Windows word-sort order; refuses two labels the order holds equal.

    OpenPseudonymiser's SortedList throws on such a pair (its Add refuses a key the
    comparer finds equal to one already there), so no digest of theirs can be matched.
    """
    keyed = sorted((sort_key(label), label) for label in labels)
    for i, (key_a, a) in enumerate(keyed):
        for key_b, b in keyed[i + 1 :]:
            if key_a == key_b:
                raise LabelOrderError(
                    f"The digest labels {a!r} and {b!r} are the same label to OpenPseudonymiser's order "
                    "(which would refuse them): give the columns different labels in the profile."
                )
            if key_a[:3] == key_b[:3] and _decided_by_position(key_a[3], key_b[3]):
                raise LabelOrderError(
                    f"The digest labels {a!r} and {b!r} differ only in where a hyphen or apostrophe "
                    "stands, and Windows and .NET versions order such labels differently: give the "
                    "columns labels that differ otherwise, agreed with the other organisation."
                )
    return [label for _, label in keyed]


def _decided_by_position(special_a: bytes, special_b: bytes) -> bool:
    """Whether the first difference of two special keys is a position (not a character)."""
    for at in range(0, min(len(special_a), len(special_b)), 4):
        if special_a[at : at + 4] != special_b[at : at + 4]:
            return special_a[at : at + 2] != special_b[at : at + 2]
    return False
