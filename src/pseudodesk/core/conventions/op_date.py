"""OpenPseudonymiser's date convention: a date rounded down as CryptoLib 0.9.7 rounds it, so
digests over dates match the original program's.
"""

from __future__ import annotations

import datetime as dt
import re

from pseudodesk.core.conventions.base import EMPTY, Checked, ascii_identifier, invalid, settled

_ROUND_DOWN_FORMS = (
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), (1, 2, 3)),
    (re.compile(r"^(\d{2})/(\d{2})/(\d{2}|\d{4})$"), (3, 2, 1)),
    (re.compile(r"^(\d{2})\.(\d{2})\.(\d{2}|\d{4})$"), (3, 2, 1)),
)


def round_down_date(raw: str) -> str | None:
    """'Process as date': any accepted form to yyyy0101; None when the form is not accepted."""
    text = raw.strip()
    for pattern, (y, m, d) in _ROUND_DOWN_FORMS:
        match = pattern.match(text)
        if not match:
            continue
        year_text = match.group(y)
        year = int(year_text)
        if len(year_text) == 2:  # .NET's default two-digit year window: 00-29 -> 20xx
            year += 2000 if year <= 29 else 1900
        try:
            dt.date(year, int(match.group(m)), int(match.group(d)))
        except ValueError:
            return None
        return f"{year:04d}0101"
    return None


@ascii_identifier
def check_op_date(raw: str) -> Checked:
    if not raw.strip():
        return EMPTY
    value = round_down_date(raw)
    if value is None:
        return invalid(
            "not a date OpenPseudonymiser rounds down (yyyyMMdd, dd/MM/yy, dd/MM/yyyy, dd.MM.yy, "
            "dd.MM.yyyy); reported instead of passed through"
        )
    return settled(value, raw, plain=True)
