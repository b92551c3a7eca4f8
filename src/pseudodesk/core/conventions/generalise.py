"""Coarser forms of a value: a date of birth as month and year, year, 5-year band of birth
years, age or age band; a postcode as sector, district or area; an ethnicity code as its group.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from pseudodesk.core.conventions.ethnicity import crosswalk, fold
from pseudodesk.core.conventions.places import postcode_area, postcode_district, postcode_sector

DEFAULT_AGE_BANDS = ((0, 4), (5, 10), (11, 15), (16, 19), (20, 24))
_UK_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


DOB_LEVELS = ("month_year", "year", "year_band", "age", "age_band")


ETHNICITY_LEVELS = ("group",)


_MONTH_YEAR = re.compile(r"^(\d{2})/(\d{4})$")
_YEAR = re.compile(r"^(\d{4})$")


POSTCODE_LEVELS = ("sector", "district", "area")


def parse_output_date(value: str) -> dt.date | None:
    """A date as the date conventions write it (DD/MM/YYYY or YYYY-MM-DD)."""
    if m := _UK_DATE.match(value):
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := _ISO_DATE.match(value):
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def age_on(born: dt.date, reference: dt.date) -> int:
    return reference.year - born.year - ((reference.month, reference.day) < (born.month, born.day))


def band_of(age: int, bands: Iterable[tuple[int, int]]) -> str:
    for low, high in bands:
        if low <= age <= high:
            return f"{low}-{high}"
    return "other"


def generalise_dob(
    value: str, level: str, *, reference: dt.date, bands: Iterable[tuple[int, int]] = DEFAULT_AGE_BANDS
) -> str:
    """DD/MM/YYYY (or ISO) to month and year ("03/2011"), year, age in whole years, or age band."""
    born = parse_output_date(value)
    if born is None and level in ("year", "year_band"):
        # Already coarser (a profile sending month and year, or year): coarsened further.
        if m := _MONTH_YEAR.match(value) or _YEAR.match(value):
            return _year_band(int(m.group(m.lastindex or 1))) if level == "year_band" else m.group(m.lastindex or 1)
    if born is None:
        return value  # blank or unreadable: stays as it is (its own class)
    if level == "month_year":
        return f"{born.month:02d}/{born.year}"
    if level == "year":
        return str(born.year)
    if level == "year_band":
        return _year_band(born.year)
    age = age_on(born, reference)
    if level == "age":
        return str(age)
    if level == "age_band":
        return band_of(age, bands)
    raise ValueError(f"unknown date of birth generalisation {level!r}")


def generalise_postcode(value: str, level: str) -> str:
    """SW1A 2AA to its sector (SW1A 2), district (SW1A) or area (SW)."""
    if not value:
        return value
    if level == "sector":
        return postcode_sector(value)
    if level == "district":
        return postcode_district(value)
    if level == "area":
        return postcode_area(value)
    raise ValueError(f"unknown postcode generalisation {level!r}")


def _year_band(year: int) -> str:
    """Five birth years together, starting at a multiple of 5: 2010-2014. The bands do not move
    with the date of the run, so monthly releases band everyone alike."""
    low = year - year % 5
    return f"{low}-{low + 4}"


# LCP codes 1-20 by group (the ONS five groups, Chinese with Asian as in the 2011 census; the two
# "not known" codes together).
_ETHNIC_GROUPS = {
    **dict.fromkeys(range(1, 6), "White"),
    **dict.fromkeys(range(6, 10), "Mixed"),
    **dict.fromkeys((10, 11, 12, 13, 17), "Asian"),
    **dict.fromkeys(range(14, 17), "Black"),
    18: "Other",
    19: "Not known",
    20: "Not known",
}


def generalise_ethnicity(value: str, level: str = "group") -> str:
    """An ethnicity code as written (LCP 1-20, DfE main code, NHS letter) to its group: White,
    Mixed, Asian, Black, Other or Not known. A value that is no known code stays as it is."""
    if level != "group":
        raise ValueError(f"unknown ethnicity generalisation {level!r}")
    if not value:
        return value
    code = crosswalk().index.get(fold(value))
    return _ETHNIC_GROUPS[code] if code is not None else value
