"""Regenerate the committed workbook fixtures (run from the repository root).

    .venv/bin/python tests/data/make_fixtures.py

people.xlsx is written by XlsxWriter (formula cells carry cached values, as Excel
writes them); people.xls and people.ods are that workbook re-saved by LibreOffice
(`soffice --headless --convert-to`), so the XLS and ODS readers are tested on files a
real spreadsheet application wrote. Needs LibreOffice (Debian: libreoffice-calc-nogui).

The expected contents are in tests/core/test_readers_workbooks.py (EXPECTED_ROWS).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent


def write_people_xlsx(path: Path, *, date_1904: bool = False) -> None:
    wb = xlsxwriter.Workbook(str(path), {"date_1904": date_1904})
    wb.set_properties({"created": dt.datetime(2026, 11, 21)})
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws = wb.add_worksheet("Extract")
    ws.write(0, 0, "Monthly extract: November")  # a title row above the header
    ws.write_row(2, 0, ["NHS No", "Code", "DOB", "Score", "Double", "Name"])
    ws.write_number(3, 0, 9434765919)
    ws.write_string(3, 1, "01234")
    ws.write_datetime(3, 2, dt.datetime(1973, 11, 29), date_fmt)
    ws.write_number(3, 3, 0.5)
    ws.write_formula(3, 4, "=D4*2", None, 1)
    ws.write_string(3, 5, "O'Brien, Seán")
    ws.write_string(4, 0, "450 557 7104")
    ws.write_string(4, 1, "00007")
    ws.write_string(4, 2, "29/02/2000")
    ws.write_number(4, 3, 1234.25)
    ws.write_formula(4, 4, "=D5*2", None, 2468.5)
    ws.write_string(4, 5, '=HYPERLINK("x")')  # text that looks like a formula stays text
    ws.write_number(5, 0, 4505577104)
    ws.write_string(5, 1, "")
    ws.write_datetime(5, 2, dt.datetime(2008, 12, 31), date_fmt)
    ws.write_number(5, 3, -3)
    ws.write_formula(5, 4, "=D6*2", None, -6)
    ws.write_string(5, 5, "Zoë")
    other = wb.add_worksheet("Second sheet")
    other.write_row(0, 0, ["Ref", "Value"])
    other.write_row(1, 0, ["A1", 10])
    wb.close()


def main() -> None:
    write_people_xlsx(HERE / "people.xlsx")
    write_people_xlsx(HERE / "people-1904.xlsx", date_1904=True)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise SystemExit("LibreOffice is needed for people.xls and people.ods")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, filt in (("xls", "xls:MS Excel 97"), ("ods", "ods")):
            subprocess.run(
                [
                    soffice,
                    "--headless",
                    f"-env:UserInstallation=file://{tmp}/profile",
                    "--convert-to",
                    filt,
                    "--outdir",
                    tmp,
                    str(HERE / "people.xlsx"),
                ],
                check=True,
            )
            shutil.copy(Path(tmp) / f"people.{fmt}", HERE / f"people.{fmt}")
    print("fixtures written")


if __name__ == "__main__":
    main()
