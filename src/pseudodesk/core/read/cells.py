"""The text of one workbook cell as Excel shows it: numbers without a spurious .0, dates as
YYYY-MM-DD, times and durations as h:mm:ss.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def cell_text(value: Any) -> str:
    """A workbook cell as the text Excel shows in the formula bar (see module docstring)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15g}".replace("e+", "E+").replace("e-", "E-")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.timedelta):
        total = round(value.total_seconds())  # to the second shown, as Excel's [h]:mm:ss rounds
        hours, rem = divmod(abs(total), 3600)  # divmod of a negative total gave -0:30 as -1:30:00
        return f"{'-' if total < 0 else ''}{hours}:{rem // 60:02d}:{rem % 60:02d}"
    return str(value)
