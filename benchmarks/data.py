"""Deterministic synthetic extracts for the benchmark: the same bytes for the same row count.

Twelve columns as a trust's or a county's extract has them: names, two address lines,
postcode, date of birth in mixed formats (day-first, ISO, and 'DD-Mon-YYYY'), gender in
several spellings, ethnicity codes and words, NHS number (999 test range, valid check
digits, with and without spaces), and four attributes. About 0.5% of values are
invalid so the checks have work to do. No real person's data.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

HEADER = [
    "Forename",
    "Surname",
    "Address 1",
    "Address 2",
    "Postcode",
    "Date of Birth",
    "Sex",
    "Ethnicity",
    "NHS No",
    "School",
    "Service",
    "Referral Reason",
]
FORENAMES = [
    "Amelia",
    "Oliver",
    "Isla",
    "George",
    "Ava",
    "Noah",
    "Mia",
    "Arthur",
    "Ivy",
    "Leo",
    "Freya",
    "Harry",
    "Lily",
    "Oscar",
    "Sophia",
    "Jack",
    "Grace",
    "Muhammad",
    "Evie",
    "Theo",
]
SURNAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Khan",
]
STREETS = ["High Street", "Station Road", "Church Lane", "Mill Road", "Victoria Road", "Green Lane", "Park Avenue"]
AREAS = ["LN", "PE", "NG", "DN", "B", "M", "SW", "E", "G", "CF"]
SEXES = ["M", "F", "Male", "Female", "m", "f", "Boy", "Girl"]
ETHNICITIES = ["1", "2", "5", "10", "15", "17", "WBRI", "WOTH", "AIND", "White - British"]
SCHOOLS = ["St Botolph's C of E", "Riverside Primary", "Castle Academy", "Priory School", "Home educated"]
SERVICES = ["Early Help", "Youth Service", "School Nursing", "CAMHS", "Family Support"]
REASONS = ["Attendance", "Wellbeing", "Transition", "Speech and language", "Housing"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
SEED = 20261121


def nhs_number(rng: random.Random) -> str:
    while True:
        digits = [9, 9, 9] + [rng.randrange(10) for _ in range(6)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1))) % 11
        if check == 11:
            check = 0
        if check != 10:
            text = "".join(map(str, digits)) + str(check)
            return f"{text[:3]} {text[3:6]} {text[6:]}" if rng.random() < 0.5 else text


def postcode(rng: random.Random) -> str:
    area = rng.choice(AREAS)
    inward = f"{rng.randrange(10)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    text = f"{area}{rng.randrange(1, 20)} {inward}"
    return text if rng.random() < 0.8 else text.lower().replace(" ", "")


def birth_date(rng: random.Random) -> str:
    day = dt.date(2006, 1, 1) + dt.timedelta(days=rng.randrange(19 * 365))
    style = rng.random()
    if style < 0.6:
        return f"{day:%d/%m/%Y}"
    if style < 0.85:
        return day.isoformat()
    return f"{day.day:02d}-{MONTHS[day.month - 1]}-{day.year}"


def row(rng: random.Random) -> list[str]:
    values = [
        rng.choice(FORENAMES),
        rng.choice(SURNAMES),
        f"{rng.randrange(1, 200)} {rng.choice(STREETS)}",
        "" if rng.random() < 0.7 else "Flat " + str(rng.randrange(1, 20)),
        postcode(rng),
        birth_date(rng),
        rng.choice(SEXES),
        rng.choice(ETHNICITIES),
        nhs_number(rng),
        rng.choice(SCHOOLS),
        rng.choice(SERVICES),
        rng.choice(REASONS),
    ]
    if rng.random() < 0.005:
        values[8] = values[8][:-1] + str((int(values[8][-1]) + 1) % 10)  # wrong check digit
    return values


def _quote(value: str) -> str:
    return f'"{value}"' if "," in value or '"' in value else value


def write_csv(path: Path, rows: int, seed: int = SEED) -> Path:
    """``rows`` data rows after the header; identical bytes for identical arguments."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(HEADER) + "\r\n")
        block: list[str] = []
        for _ in range(rows):
            block.append(",".join(_quote(v) for v in row(rng)) + "\r\n")
            if len(block) >= 10_000:
                f.writelines(block)
                block = []
        f.writelines(block)
    return path


def write_xlsx(path: Path, rows: int, seed: int = SEED, columns: int = 10) -> Path:
    """The first ``columns`` columns as an XLSX workbook (XlsxWriter, constant memory)."""
    import xlsxwriter

    rng = random.Random(seed)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("People")
    sheet.write_row(0, 0, HEADER[:columns])
    for r in range(1, rows + 1):
        sheet.write_row(r, 0, row(rng)[:columns])
    workbook.close()
    return path
