"""Dates and dates of birth, decided per column.

Accepted forms (shared/reference/conventions.md, Dates): ``DD/MM/YYYY`` and ``M/D/YYYY``
with ``/``, ``.`` or ``-``; ISO ``YYYY-MM-DD`` (and ``YYYY/MM/DD``); compact
``YYYYMMDD``; month names (``29-Nov-1973``, ``29 November 1973``, ``Nov 29, 1973``);
two-digit years; Excel serial numbers in the 1900 and 1904 systems; real date cells
(which the readers give as ISO text); a midnight time after any of these.

Day/month order belongs to the column: a first part over 12 anywhere means day
first, a second part over 12 means month first, both means the column is mixed and
its ambiguous values are not guessed; neither means the profile's default order
(``DMY``), reported as an assumption. ``order = "DMY"`` or ``"MDY"`` records a
person's decision and overrides the survey.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
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

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_TIME = re.compile(r"(?:[ T]+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$")
_NUMERIC = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})$")
_YEAR_FIRST = re.compile(r"^(\d{4})([/.\-])(\d{1,2})\2(\d{1,2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^([1-9]\d{0,4})(?:\.(\d+))?$")  # no leading zero: 0 and 090107 are not serials
_DIGITS_ONLY = re.compile(r"^\d+$")
_DAY_MONTH_NAME = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[ \-/.]+([A-Za-z]{3,9})\.?,?[ \-/.]+(\d{4}|\d{2})$")
_MONTH_NAME_DAY = re.compile(r"^([A-Za-z]{3,9})\.?[ \-/.]+(\d{1,2})(?:st|nd|rd|th)?,?[ \-/.]+(\d{4}|\d{2})$")
_ZERO_DATES = re.compile(r"^0{1,2}([/.\-])0{1,2}\1(0{2}|0{4})$")

SERIAL_MAX = 73050  # 2099-12-31 in the 1900 system: a larger number is not a date in real data
YEARS_ALONE = range(1800, 2101)  # a four-digit number read as a year on its own, not a serial
EXCEL_1900_EPOCH = dt.date(1899, 12, 30)
EXCEL_1904_OFFSET = 1462


def _uk(d: dt.date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"  # not strftime: it writes year 1 as "1"


def _iso(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


OUTPUT_FORMATS: dict[str, Callable[[dt.date], str]] = {"DD/MM/YYYY": _uk, "YYYY-MM-DD": _iso}
EARLIEST_PLAUSIBLE_YEAR = 1800
PLACEHOLDERS = {dt.date(1900, 1, 1), dt.date(9999, 12, 31)}
OLDEST_PLAUSIBLE_AGE = 125

OPTIONS = (
    OptionSpec("output", tuple(OUTPUT_FORMATS), "DD/MM/YYYY", "how dates are written in the export"),
    OptionSpec(
        "order",
        ("auto", "DMY", "MDY"),
        "auto",
        "day/month order of 01/02/2003-style dates: decided from the column, or set by a person",
    ),
    OptionSpec("default_order", ("DMY", "MDY"), "DMY", "the order assumed when a column gives no evidence (UK: DMY)"),
    OptionSpec(
        "serial_system",
        ("auto", "1900", "1904"),
        "auto",
        "date system of Excel serial numbers: the workbook's own (auto), or as stated",
    ),
)


def excel_serial_to_date(serial: int, system: int = 1900) -> dt.date | None:
    """Excel serial to a date; None for 60 in the 1900 system (29 Feb 1900 never existed)."""
    if system == 1904:
        return EXCEL_1900_EPOCH + dt.timedelta(days=serial + EXCEL_1904_OFFSET)
    if serial == 60:
        return None
    if serial < 60:
        return dt.date(1899, 12, 31) + dt.timedelta(days=serial)
    return EXCEL_1900_EPOCH + dt.timedelta(days=serial)


class DateRule(ColumnRule):
    needs_survey = True
    is_birth_date = False

    def __init__(self, options: Mapping[str, Any], context: ColumnContext) -> None:
        super().__init__(options, context)
        self._fmt = OUTPUT_FORMATS[self.options["output"]]
        self._day_first_line = 0
        self._month_first_line = 0
        self._numeric = 0
        self._observed = 0
        self._order = str(self.options["order"])  # "auto" until decided
        chosen = self.options["serial_system"]
        self._serial_system = context.date_system if chosen == "auto" else int(chosen)

    # --- survey ------------------------------------------------------------------------

    def observe(self, raw: str) -> None:
        self._observed += 1
        text = ascii_form(raw)
        m = _NUMERIC.match(_strip_time(text.strip())[0]) if isinstance(text, str) else None
        if not m:
            return
        self._numeric += 1
        first, second = int(m.group(1)), int(m.group(3))
        if first > 12 and not self._day_first_line:
            self._day_first_line = self._observed
        if second > 12 and not self._month_first_line:
            self._month_first_line = self._observed

    def _resolved_order(self) -> str:
        if self._order != "auto":
            return self._order
        if self._day_first_line and self._month_first_line:
            return "mixed"
        if self._day_first_line:
            return "DMY"
        if self._month_first_line:
            return "MDY"
        return "default"

    def decision(self) -> str:
        order = self._resolved_order()
        if self.options["order"] != "auto":
            text = f"day/month order set to {order} by the profile or the user"
        elif order == "mixed":
            text = (
                "the column mixes day-first and month-first dates (some start with a number over 12, others "
                "have one in the middle); dates such as 03/04 were not guessed: choose the order"
            )
        elif order == "DMY":
            text = "read day first (DD/MM/YYYY): some dates in the column start with a number over 12"
        elif order == "MDY":
            text = "read month first (MM/DD/YYYY, as in the US): some dates have a number over 12 in the middle"
        elif self._numeric:
            text = (
                f"assumed {self.options['default_order']} (the agreement's default): no value in the column "
                "shows the order"
            )
        else:
            text = "no day/month ambiguity in the column"
        notes = [f"{count} {what}" for what, count in sorted(self.notes.items())]
        if notes:
            text += "; " + "; ".join(notes)
        return text

    # --- checking ------------------------------------------------------------------------

    def check(self, raw: str) -> Checked:
        folded = ascii_form(raw)  # full-width digits read as 0-9; other scripts' digits refused
        if isinstance(folded, Checked):
            return folded
        text = " ".join(folded.split())
        if not text:
            return EMPTY
        body, time_note = _strip_time(text)
        if _ZERO_DATES.match(body):
            return invalid("placeholder (zero date), not a real date")
        parsed = self._parse(body)
        if isinstance(parsed, str):
            return invalid(parsed)
        date, note = parsed
        problem = self._plausibility(date)
        if problem:
            return invalid(problem)
        reasons = [r for r in (note, time_note) if r]
        return settled(self._fmt(date), raw, "; ".join(reasons), plain=True)

    def _parse(self, body: str) -> tuple[dt.date, str] | str:
        if m := _YEAR_FIRST.match(body):
            return _make(int(m.group(1)), int(m.group(3)), int(m.group(4)), "")
        if m := _COMPACT.match(body):
            return _make(int(m.group(1)), int(m.group(2)), int(m.group(3)), "")
        if m := _SERIAL.match(body):
            serial = int(m.group(1))
            if serial in YEARS_ALONE and not m.group(2):
                return "a year on its own, not a full date (a date needs a day and a month)"
            if serial > SERIAL_MAX:
                return "not a date: a number too large to be an Excel date serial (after 2099)"
            date = excel_serial_to_date(serial, self._serial_system)
            if date is None:
                return "Excel serial 60 is 29/02/1900, a day that never existed"
            self.notes[f"Excel serial number(s) read in the {self._serial_system} date system"] += 1
            return date, f"Excel serial {serial} ({self._serial_system} date system)"
        if m := _NUMERIC.match(body):
            first, second, year_text = int(m.group(1)), int(m.group(3)), m.group(4)
            order = self._resolved_order()
            if order == "mixed":
                if first > 12:
                    order = "DMY"
                elif second > 12:
                    order = "MDY"
                else:
                    return "ambiguous day/month order: the column mixes DD/MM and MM/DD dates"
            elif order == "default":
                order = str(self.options["default_order"])
            day, month = (first, second) if order == "DMY" else (second, first)
            year = self._expand_year(year_text, month, day)
            return _make(year, month, day, "")
        named = _month_name_parts(body)
        if named:
            day, month_name, year_text = named
            month_number = MONTHS.get(month_name.casefold())
            if month_number is None:
                return f"'{month_name}' is not an English month name"
            return _make(self._expand_year(year_text, month_number, day), month_number, day, "")
        if _DIGITS_ONLY.match(body):
            if not body.strip("0"):
                return "placeholder (Excel serial 0), not a real date"
            return (
                "digits with no separators that are not YYYYMMDD nor an Excel date serial (a date such as "
                "DDMMYY written without slashes?): not guessed; write it as DD/MM/YYYY"
            )
        return "not a date in any accepted form"

    def _expand_year(self, text: str, month: int, day: int) -> int:
        if len(text) == 4:
            return int(text)
        yy = int(text)
        if self.is_birth_date:
            # a two-digit birth year in the future belongs to the century before
            year = 2000 + yy
            try:
                if dt.date(year, month, day) > self.context.today:
                    year -= 100
            except ValueError:
                if year > self.context.today.year:
                    year -= 100
            rule = "two-digit birth year(s) expanded to the latest year not in the future"
        else:
            year = 2000 + yy if yy < 30 else 1900 + yy  # Excel's pivot
            rule = "two-digit year(s) expanded (00-29 as 20xx, 30-99 as 19xx)"
        self.notes[rule] += 1
        return year

    def _plausibility(self, date: dt.date) -> str:
        if date in PLACEHOLDERS:
            return f"placeholder ({date:%d/%m/%Y}), not a real date"
        if date.year < EARLIEST_PLAUSIBLE_YEAR:
            return f"year {date.year} is not plausible (before {EARLIEST_PLAUSIBLE_YEAR})"
        return ""


class BirthDateRule(DateRule):
    is_birth_date = True

    def _plausibility(self, date: dt.date) -> str:
        problem = super()._plausibility(date)
        if problem:
            return problem.replace("a real date", "a real date of birth")
        if date > self.context.today:
            return f"date of birth in the future ({self._fmt(date)})"
        if self.context.today.year - date.year > OLDEST_PLAUSIBLE_AGE:
            return f"date of birth more than {OLDEST_PLAUSIBLE_AGE} years ago ({self._fmt(date)})"
        return ""


def _month_name_parts(body: str) -> tuple[int, str, str] | None:
    """(day, month name, year text) for '29 Nov 1973' or 'Nov 29, 1973' forms."""
    if m := _DAY_MONTH_NAME.match(body):
        return int(m.group(1)), m.group(2), m.group(3)
    if m := _MONTH_NAME_DAY.match(body):
        return int(m.group(2)), m.group(1), m.group(3)
    return None


def _strip_time(text: str) -> tuple[str, str]:
    m = _TIME.search(text)
    if not m or m.start() == 0:
        return text, ""
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    body = text[: m.start()]
    if (h, mi, s) == (0, 0, 0):
        return body, ""
    return body, "time of day dropped"


def _make(year: int, month: int, day: int, note: str) -> tuple[dt.date, str] | str:
    if not 1 <= month <= 12:
        return f"month {month} does not exist"
    try:
        return dt.date(year, month, day), note
    except ValueError:
        if year < 1:
            return "year 0 does not exist"
        return f"{day:02d}/{month:02d}/{year:04d} does not exist (impossible date)"
