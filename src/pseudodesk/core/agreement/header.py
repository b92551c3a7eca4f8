"""The header row: found among the first rows of a sheet, and refused when it holds a person.

Real extracts have a title, a date line or blank rows above the table, and some have no
row of column names at all. Taking the wrong row as the header is the worst silent
mistake there is: the person on it disappears from the export and their NHS number,
date of birth and postcode become "column names", which are recorded in manifests and
audit entries. So:

- :func:`find_header_row` picks the header among the first rows from the agreement's
  own labels and aliases (and the usual headers of each convention), and failing those
  from the shape of the rows (the first row of several names above rows of values);
- :func:`check_header` refuses a header row whose cells are values (a valid NHS
  number, a date, a postcode, an email address, a phone number) or, when no cell names
  anything the agreement knows, a cell that a convention recognises as a value.

Both describe what they found by column position and kind, never by the cells' text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pseudodesk.core.agreement.model import Profile
from pseudodesk.core.agreement.suggest import squash
from pseudodesk.core.conventions import CONVENTIONS, Status
from pseudodesk.core.conventions.identifiers import is_valid_nhs_digits
from pseudodesk.core.conventions.places import is_valid_postcode, normalise_postcode
from pseudodesk.core.conventions.text import EMAIL, uk_phone_digits
from pseudodesk.core.errors import HeaderIsData, NoHeader
from pseudodesk.core.read.table import SourceTable

SEARCHED_ROWS = 20  # how far down a header row is looked for
_DATE = re.compile(r"^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def value_kind(cell: str) -> str | None:
    """What a cell is when it is plainly a value about a person: "an NHS number", "a date",
    "a postcode", "an email address", "a phone number"; None for anything that may name a column."""
    text = cell.strip()
    if not text:
        return None
    digits = "".join(text.split()).replace("-", "")
    if digits.isdigit() and is_valid_nhs_digits(digits):
        return "an NHS number"
    if _is_date(text):
        return "a date"
    if is_valid_postcode(normalise_postcode(text)):
        return "a postcode"
    if EMAIL.match(text):
        return "an email address"
    if uk_phone_digits(text):
        return "a phone number"
    return None


def _is_date(text: str) -> bool:
    m = _DATE.match(text)
    if not m:
        return False
    a, b, c = (int(g) for g in m.groups())
    for year, month, day in ((a, b, c), (c, b, a), (c, a, b)):
        if year < 100:
            year += 1900 if year > 30 else 2000
        try:
            dt.date(year, month, day)
        except ValueError:
            continue
        return True
    return False


_VALUE_KINDS = {
    "dob": "a date",
    "postcode": "a postcode",
    "nhs_number": "an NHS number",
    "upn": "a UPN",
    "uln": "a ULN",
    "email": "an email address",
    "uk_phone": "a phone number",
}


def known_names(profile: Profile | None) -> set[str]:
    """Every header the agreement recognises (squashed): its fields' ids, labels and aliases, and
    the usual headers of every convention ("DOB", "Post Code", "Sex")."""
    names: set[str] = set()
    for sf in profile.source_fields if profile is not None else ():
        names.update(squash(n) for n in (sf.id, sf.label, *sf.aliases))
    for convention in CONVENTIONS.values():
        names.update(squash(h) for h in convention.headers)
    names.discard("")
    return names


def _recognised_values(cells: Sequence[str]) -> list[tuple[int, str]]:
    """Cells a value-recognising convention accepts (what the value-based suggestion would map)."""
    found = []
    for position, cell in enumerate(cells, start=1):
        if not any(ch.isdigit() for ch in cell):
            continue  # words name a column, whatever a code list says
        for name, kind in _VALUE_KINDS.items():
            if CONVENTIONS[name].rule().check(cell).status in (Status.VALID, Status.NORMALISED):
                found.append((position, kind))
                break
    return found


def data_cells(header: Sequence[str], profile: Profile) -> list[tuple[int, str]]:
    """The (1-based column, kind) of header cells that are values rather than names."""
    found = [(position, kind) for position, cell in enumerate(header, start=1) if (kind := value_kind(cell))]
    if found:
        return found
    names = known_names(profile)
    if any(squash(cell) in names for cell in header):
        return []
    return _recognised_values(header)


def check_header(profile: Profile, table: SourceTable) -> None:
    """Refuse a header row that holds a person's values (see the module docstring)."""
    cells = data_cells(table.header, profile)
    if cells:
        raise HeaderIsData(table.path, table.header_row, cells)


@dataclass(frozen=True)
class HeaderChoice:
    row: int  # 1-based: the Excel row, or the CSV record
    names_known: int  # how many of its cells name something the agreement knows
    reason: str  # why this row, in words a partner understands (no cell text)


def find_header_row(rows: Sequence[Sequence[str]], profile: Profile | None, path: Path) -> HeaderChoice:
    """The header among the first :data:`SEARCHED_ROWS` rows (``rows[0]`` is row 1).

    ``profile`` may be None (no agreement chosen yet): the conventions' usual headers are
    then the names looked for. The row with the most cells naming the agreement's fields wins (the first on a tie);
    with no such row, the first row of two or more names (no value among them) that has a
    row of values below it. Raises :class:`NoHeader` when no row looks like column names.
    """
    names = known_names(profile)
    candidates = [
        (i, [c.strip() for c in row]) for i, row in enumerate(rows[:SEARCHED_ROWS]) if any(c.strip() for c in row)
    ]
    best: tuple[int, int] | None = None  # (known names, -row index)
    for i, cells in candidates:
        if any(value_kind(c) for c in cells):
            continue
        known = sum(1 for c in cells if c and squash(c) in names)
        if known and (best is None or known > best[0]):
            best = (known, i)
    if best is not None:
        known, i = best
        return HeaderChoice(
            i + 1, known, f"{known} of its cells are column names the agreement or pseudodesk knows" + _above(i)
        )
    for position, (i, cells) in enumerate(candidates):
        filled = [c for c in cells if c]
        if len(filled) < 2 or any(value_kind(c) or _NUMBER.match(c) for c in filled):
            continue
        below = [cells_below for _, cells_below in candidates[position + 1 : position + 4]]
        if below and all(sum(1 for c in b if c) >= min(2, len(filled)) for b in below):
            return HeaderChoice(i + 1, 0, "the first row of column names above rows of values" + _above(i))
    raise NoHeader(
        path,
        f"none of the first {SEARCHED_ROWS} rows looks like a row of column names (none names a field "
        "of the agreement, and no row of names stands above rows of values). Add a row of column "
        "names in Excel, or choose the header row yourself.",
    )


def _above(index: int) -> str:
    if index == 0:
        return ""
    return f"; the {index} row(s) above it are not read" if index > 1 else "; the row above it is not read"
