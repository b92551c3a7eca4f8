"""Workbook readers (XLSX, XLS, ODS via calamine), password-protected workbooks and bad files."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pseudodesk.core import errors
from pseudodesk.core.read.cells import cell_text
from pseudodesk.core.read.dispatch import list_sheets, read_table
from tests.helpers import DATA, encrypt_xlsx

# What Excel shows for tests/data/people.* (see tests/data/make_fixtures.py).
EXPECTED_HEADER = ("NHS No", "Code", "DOB", "Score", "Double", "Name")
EXPECTED_ROWS = [
    (4, ["9434765919", "01234", "1973-11-29", "0.5", "1", "O'Brien, Seán"]),
    (5, ["450 557 7104", "00007", "29/02/2000", "1234.25", "2468.5", '=HYPERLINK("x")']),
    (6, ["4505577104", "", "2008-12-31", "-3", "-6", "Zoë"]),
]


@pytest.mark.parametrize("name", ["people.xlsx", "people-1904.xlsx", "people.xls", "people.ods"])
def test_workbook_cells_read_as_excel_shows_them(name):
    table = read_table(DATA / name, header_row=3)
    assert table.sheet == "Extract"
    assert table.sheet_names == ("Extract", "Second sheet")
    assert table.header == EXPECTED_HEADER
    # numbers that are identifiers stay whole, leading zeros survive in text cells,
    # date cells become ISO text (also in the 1904 date system), formulas give cached values
    assert list(table.iter_rows()) == EXPECTED_ROWS
    assert table.row_count == 3


def test_xlsm_is_read_like_xlsx(tmp_path):
    shutil.copy(DATA / "people.xlsx", tmp_path / "people.xlsm")
    assert list(read_table(tmp_path / "people.xlsm", header_row=3).iter_rows()) == EXPECTED_ROWS


def test_user_picks_the_sheet():
    table = read_table(DATA / "people.xlsx", sheet="Second sheet")
    assert table.header == ("Ref", "Value")
    assert list(table.iter_rows()) == [(2, ["A1", "10"])]
    assert list_sheets(DATA / "people.ods") == ["Extract", "Second sheet"]


def test_unknown_sheet_names_the_sheets():
    with pytest.raises(errors.SheetNotFound, match="no sheet named 'Nope'; the sheets are: Extract, Second sheet"):
        read_table(DATA / "people.xlsx", sheet="Nope")


def test_header_row_that_is_blank():
    with pytest.raises(errors.NoHeader, match="row 2 of sheet 'Extract' is blank"):
        read_table(DATA / "people.xlsx", header_row=2)


def test_header_row_past_the_end_of_the_sheet():
    with pytest.raises(errors.NoHeader, match="has no row 40"):
        read_table(DATA / "people.xls", header_row=40)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (9434765919.0, "9434765919"),
        (9434765919, "9434765919"),
        (0.1 + 0.2, "0.3"),  # Excel shows 15 significant digits
        (1e20, "1E+20"),
        (True, "TRUE"),
        (None, ""),
        (-0.5, "-0.5"),
    ],
)
def test_cell_text(value, text):
    assert cell_text(value) == text


def test_password_protected_workbook_opens_in_memory(tmp_path):
    protected = tmp_path / "protected.xlsx"
    encrypt_xlsx(DATA / "people.xlsx", protected, "Corr3ct horse")
    before = set(tmp_path.iterdir())
    table = read_table(protected, header_row=3, password="Corr3ct horse")
    assert table.encrypted is True
    assert list(table.iter_rows()) == EXPECTED_ROWS
    assert set(tmp_path.iterdir()) == before  # nothing decrypted to disk


def test_password_protected_workbook_without_password(tmp_path):
    protected = tmp_path / "protected.xlsx"
    encrypt_xlsx(DATA / "people.xlsx", protected, "secret")
    with pytest.raises(errors.PasswordRequired, match="protected.xlsx: the workbook is password-protected"):
        read_table(protected)


def test_password_protected_workbook_with_wrong_password(tmp_path):
    protected = tmp_path / "protected.xlsx"
    encrypt_xlsx(DATA / "people.xlsx", protected, "secret")
    with pytest.raises(errors.WrongPassword, match="protected.xlsx: the password does not open this workbook"):
        read_table(protected, password="Secret")


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".ods", ".xlsm"])
def test_binary_junk_with_a_spreadsheet_extension(tmp_path, suffix):
    junk = tmp_path / f"junk{suffix}"
    junk.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(errors.NotASpreadsheet, match=f"junk{suffix}: "):
        read_table(junk)


def test_truncated_xlsx_is_not_a_spreadsheet(tmp_path):
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes((DATA / "people.xlsx").read_bytes()[:1500])
    with pytest.raises(errors.NotASpreadsheet, match="cut.xlsx: the workbook cannot be read"):
        read_table(cut)


def test_empty_workbook_file(tmp_path):
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    with pytest.raises(errors.EmptyFile, match="empty.xlsx: the file is empty"):
        read_table(empty)


def test_workbook_with_an_empty_sheet(tmp_path):
    import xlsxwriter

    path = tmp_path / "blank-sheet.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Empty")
    wb.close()
    with pytest.raises(errors.EmptyFile, match="sheet 'Empty' is empty"):
        read_table(path)


def test_workbook_ragged_cells_beyond_the_header(tmp_path):
    import xlsxwriter

    path = tmp_path / "ragged.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.write_row(0, 0, ["a", "b"])
    ws.write_row(1, 0, ["1", "2"])
    ws.write_row(2, 0, ["3", "4", "stray"])
    wb.close()
    with pytest.raises(errors.RaggedRows) as info:
        read_table(path)
    assert info.value.lines == [3]


def test_workbook_opened_from_memory_leaves_file_untouched(tmp_path):
    copy = tmp_path / "people.xlsx"
    copy.write_bytes((DATA / "people.xlsx").read_bytes())
    before = copy.read_bytes()
    read_table(copy, header_row=3)
    assert copy.read_bytes() == before


def _sheet(tmp_path: Path, monkeypatch, fast: bool, rows: dict[int, list]) -> Path:
    """An XLSX of these rows (0-based row index: cells), read by fastexcel's columns when
    ``fast``, else by python-calamine's rows."""
    import xlsxwriter

    from pseudodesk.core.read import xlsx_arrow as xlsx_columns

    if not fast:
        monkeypatch.setattr(xlsx_columns, "read_columns", lambda *a, **k: None)
    path = tmp_path / "sheet.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    for index, cells in rows.items():
        ws.write_row(index, 0, cells)
    wb.close()
    return path


@pytest.mark.parametrize("fast", [True, False])  # fastexcel's columns, python-calamine's rows
def test_workbook_blank_and_short_rows_are_all_counted(tmp_path, monkeypatch, fast):
    # rows 3 to 1502 blank
    table = read_table(_sheet(tmp_path, monkeypatch, fast, {0: ["a", "b"], 1: ["1", "2"], 1502: ["3", "4"]}))
    assert table.row_count == 2
    (blank,) = [i for i in table.issues if i.kind == "blank_rows"]
    assert blank.message == "1,500 completely blank row(s) skipped (the first 1,000 listed)"
    assert blank.lines[0] == 3 and len(blank.lines) == 1000


def _rewrite_sheet(path: Path, change) -> None:
    """Rewrite the first worksheet's XML of an XLSX in place."""
    import zipfile

    with zipfile.ZipFile(path) as old:
        parts = {info.filename: old.read(info.filename) for info in old.infolist()}
    name = "xl/worksheets/sheet1.xml"
    parts[name] = change(parts[name])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for part, data in parts.items():
            new.writestr(part, data)


def _people_with(tmp_path: Path, stray: str | None, styled: str | None = None, rows: int = 20) -> Path:
    import xlsxwriter

    path = tmp_path / "stray.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.write_row(0, 0, ["NHS No", "Sex"])
    for r in range(1, rows + 1):
        ws.write_row(r, 0, [f"94347659{r:02d}", "F"])
    if stray:
        ws.write_string(stray, " ")  # a space typed far away: Excel shows nothing there
    if styled:
        ws.write_blank(styled, None, wb.add_format({"bold": True}))  # formatting only, no value
    wb.close()
    return path


@pytest.mark.parametrize("fast", [True, False])
def test_a_stray_value_in_the_last_cell_of_the_sheet_is_refused_not_a_crash(tmp_path, monkeypatch, fast):
    """A space in XFD1048576 made calamine ask for a 512 GiB grid: the process aborted with no
    message (a failed allocation in Rust). The grid is measured before calamine reads."""
    from pseudodesk.core.read import xlsx_arrow as xlsx_columns

    if not fast:
        monkeypatch.setattr(xlsx_columns, "read_columns", lambda *a, **k: None)
    path = _people_with(tmp_path, "XFD1048576", rows=1)
    with pytest.raises(errors.NotASpreadsheet) as info:
        read_table(path)
    message = str(info.value)
    assert "(furthest right and down: XFD1048576)" in message and "1,048,576 rows by 16,384 columns" in message
    assert "Delete those cells" in message


@pytest.mark.parametrize("dimension", [True, False])  # Excel's <dimension>, or none: every cell reference is read
def test_the_far_cells_are_named_and_formatting_alone_does_not_count(tmp_path, monkeypatch, dimension):
    import re

    from pseudodesk.core.read import xlsx_arrow as xlsx_columns

    monkeypatch.setattr(xlsx_columns, "MAX_GRID_CELLS", 10_000)
    strip = (lambda xml: xml) if dimension else (lambda xml: re.sub(rb"<dimension[^>]*/>", b"", xml))
    spread = _people_with(tmp_path, "XFD2")
    _rewrite_sheet(spread, strip)
    with pytest.raises(
        errors.NotASpreadsheet, match=r"21 rows by 16,384 columns.*furthest right: XFD2; furthest down: A21\)"
    ):
        read_table(spread)
    styled = _people_with(tmp_path, None, styled="XFD5000")  # a grid of 80 million by its dimension
    _rewrite_sheet(styled, strip)
    table = read_table(styled)
    assert table.header == ("NHS No", "Sex") and table.row_count == 20


def _with_formulas(tmp_path: Path) -> Path:
    import xlsxwriter

    path = tmp_path / "formulas.xlsx"
    wb = xlsxwriter.Workbook(str(path))  # asks Excel to recalculate on opening, as it always does
    ws = wb.add_worksheet("S")
    ws.write_row(0, 0, ["NHS No", "Name"])
    ws.write_row(1, 0, ["9434765919", "Ann"])
    ws.write_formula(2, 0, '="4505577104"')  # saved result: 0 (xlsxwriter cannot calculate)
    ws.write_formula(2, 1, '=B2&"e"')
    wb.close()
    return path


@pytest.mark.parametrize("fast", [True, False])
def test_formulas_never_calculated_are_refused_naming_a_cell(tmp_path, monkeypatch, fast):
    """openpyxl and report generators save formulas without results: calamine read them as
    empty, and a row of them was reported as a blank row skipped. Excel shows values there."""
    import re

    from pseudodesk.core.read import xlsx_arrow as xlsx_columns

    if not fast:
        monkeypatch.setattr(xlsx_columns, "read_columns", lambda *a, **k: None)
    path = _with_formulas(tmp_path)
    _rewrite_sheet(path, lambda xml: re.sub(rb"(</f>)<v>[^<]*</v>", rb"\1", xml))
    with pytest.raises(errors.NotASpreadsheet, match=r"cell A3 holds a formula whose result was never saved"):
        read_table(path)


@pytest.mark.parametrize("fast", [True, False])
def test_saved_results_of_a_workbook_that_asks_to_be_recalculated_are_read_with_a_warning(tmp_path, monkeypatch, fast):
    from pseudodesk.core.read import xlsx_arrow as xlsx_columns

    if not fast:
        monkeypatch.setattr(xlsx_columns, "read_columns", lambda *a, **k: None)
    table = read_table(_with_formulas(tmp_path))
    assert table.reader == "calamine"  # the column path declines this sheet either way
    assert list(table.iter_rows()) == [(2, ["9434765919", "Ann"]), (3, ["0", "0"])]  # what the file holds
    (warning,) = [i for i in table.issues if "recalculated" in i.message]
    assert warning.kind == "assumption" and "such as A3" in warning.message


def test_a_workbook_without_formulas_gets_no_formula_warning(tmp_path):
    table = read_table(_people_with(tmp_path, None))
    assert not [i for i in table.issues if "formula" in i.message]


@pytest.mark.parametrize(
    ("attribute", "system"),
    [
        (b'date1904="1"', 1904),
        (b"date1904='1'", 1904),
        (b'date1904 = "true"', 1904),
        (b'date1904="0"', 1900),
        (b'dateCompatibility="1"', 1900),
    ],
)
@pytest.mark.parametrize("utf16", [False, True])
def test_the_1904_date_system_is_found_however_the_xml_is_written(attribute, system, utf16):
    """A regex looked for date1904="1" only: other spellings gave dates 1,462 days early."""
    import io
    import zipfile

    from pseudodesk.core.read.date_system import workbook_date_system

    xml = (
        b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><workbookPr ' + attribute + b"/></workbook>"
    )
    if utf16:
        xml = xml.replace(b'encoding="UTF-8"', b'encoding="UTF-16"').decode().encode("utf-16")
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("xl/workbook.xml", xml)
    assert workbook_date_system(package.getvalue()) == system


def _people_xls_in_1904(tmp_path: Path) -> Path:
    """tests/data/people.xls (LibreOffice) with its DATEMODE record set, as Excel saves a workbook
    in the 1904 date system."""
    import struct

    import olefile

    path = tmp_path / "people-1904.xls"
    shutil.copy(DATA / "people.xls", path)
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        stream = bytearray(ole.openstream("Workbook").read())
        at = 0
        while struct.unpack_from("<H", stream, at)[0] != 0x0022:
            at += 4 + struct.unpack_from("<H", stream, at + 2)[0]
        assert stream[at + 4 : at + 6] == b"\x00\x00"
        stream[at + 4 : at + 6] = b"\x01\x00"
        ole.write_stream("Workbook", bytes(stream))
    return path


def test_an_xls_in_the_1904_date_system_is_known_as_one(tmp_path):
    """Was read as 1900 whatever DATEMODE said: a DOB column of plain serial numbers came out
    1,462 days (four years) early, without a word."""
    assert read_table(DATA / "people.xls", header_row=3).date_system == 1900
    table = read_table(_people_xls_in_1904(tmp_path), header_row=3)
    assert table.date_system == 1904
    # calamine reads the same cell serials from 1904 too: the two agree on every date cell
    later = [
        str(dt.date.fromisoformat(row[2]) + dt.timedelta(days=1462)) if row[2][:4].isdigit() else row[2]
        for _, row in EXPECTED_ROWS
    ]
    assert [row[2] for _, row in table.iter_rows()] == later


def _ods_with_null_date(tmp_path: Path, null_date: str | None) -> Path:
    import zipfile

    path = tmp_path / "people.ods"
    with zipfile.ZipFile(DATA / "people.ods") as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "content.xml" and null_date is not None:
                marker = b"<table:iteration "
                assert marker in data
                data = data.replace(marker, f'<table:null-date table:date-value="{null_date}"/>'.encode() + marker)
            target.writestr(item, data)
    return path


@pytest.mark.parametrize(("null_date", "system"), [("1904-01-01", 1904), ("1899-12-30", 1900), (None, 1900)])
def test_an_ods_counting_from_1904_is_known_as_one(tmp_path, null_date, system):
    table = read_table(_ods_with_null_date(tmp_path, null_date), header_row=3)
    assert table.date_system == system
    assert list(table.iter_rows()) == EXPECTED_ROWS  # ODS date cells are ISO dates in the file either way


def _xlsb_record(kind: int, body: bytes) -> bytes:
    def varint(value: int) -> bytes:
        out = bytearray()
        while True:
            out.append(value & 0x7F | (0x80 if value > 0x7F else 0))
            value >>= 7
            if not value:
                return bytes(out)

    return varint(kind) + varint(len(body)) + body


@pytest.mark.parametrize(("flags", "system"), [(1, 1904), (0, 1900), (0x20, 1900), (0x21, 1904)])
def test_an_xlsb_in_the_1904_date_system_is_known_as_one(flags, system):
    import io
    import struct
    import zipfile

    from pseudodesk.core.read.date_system import workbook_date_system

    name = "Book".encode("utf-16-le")
    # BrtBeginBook, BrtFileVersion (a body long enough to need a two-byte size), BrtWbProp
    book = (
        _xlsb_record(0x83, b"")
        + _xlsb_record(0x80, bytes(200))
        + _xlsb_record(0x99, struct.pack("<II", flags, 0) + struct.pack("<I", len(name) // 2) + name)
    )
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("xl/workbook.bin", book)
    assert workbook_date_system(package.getvalue()) == system


@pytest.mark.parametrize("data", [b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), b"PK\x03\x04 not a zip"])
def test_a_damaged_workbook_counts_as_1900_and_is_left_to_the_reader(data):
    from pseudodesk.core.read.date_system import workbook_date_system

    assert workbook_date_system(data) == 1900


@pytest.mark.parametrize("fast", [True, False])  # fastexcel's columns, python-calamine's rows
def test_workbook_rows_of_only_whitespace_are_blank_rows(tmp_path, monkeypatch, fast):
    """A row of cells holding only spaces looks blank and was kept as an all-empty record."""
    table = read_table(
        _sheet(
            tmp_path,
            monkeypatch,
            fast,
            {
                0: ["id", "name", "n"],
                1: ["1", "Ann", 5],
                2: [" ", "\u00a0\u3000"],
                3: ["\t", "", 0],  # a number is a value, even 0
                4: ["  ", " Bob"],
            },
        )
    )
    assert list(table.iter_rows()) == [(2, ["1", "Ann", "5"]), (4, ["\t", "", "0"]), (5, ["  ", " Bob", ""])]
    assert table.row_count == 3
    (blank,) = [i for i in table.issues if i.kind == "blank_rows"]
    assert blank.lines == (3,)


def test_a_hidden_worksheet_behind_a_chart_sheet_is_the_default(tmp_path):
    """With a chart sheet first and the data's worksheet hidden, the chart was picked and the
    load said "sheet 'Chart1' is empty"."""
    import xlsxwriter

    path = tmp_path / "chart-first.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    chartsheet = wb.add_chartsheet("Chart1")
    ws = wb.add_worksheet("Data")
    ws.write_row(0, 0, ["name", "n"])
    ws.write_row(1, 0, ["Ann", 3])
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=Data!$B$2:$B$2"})
    chartsheet.set_chart(chart)
    chartsheet.activate()
    ws.hide()
    wb.close()
    table = read_table(path)
    assert table.sheet == "Data"
    assert list(table.iter_rows()) == [(2, ["Ann", "3"])]
    (note,) = table.issues
    assert note.kind == "assumption" and "'Data'" in note.message and "hidden" in note.message
    with pytest.raises(errors.EmptyFile, match="sheet 'Chart1' is empty"):
        read_table(path, sheet="Chart1")  # chosen by name, it is still read (and is empty)


@pytest.mark.parametrize(
    "data",
    [
        b"NHS No\tName\r\n9434765919\tAnn\r\n",
        b"\xef\xbb\xbfNHS No,Name\r\n9434765919,Ann\r\n",
        "NHS No\tName\r\n9434765919\tAnn\r\n".encode("utf-16"),
    ],
)
def test_delimited_text_named_xls_is_read_as_csv(tmp_path, data):
    """Case-management systems "export to Excel" as text named .xls; Excel opens it. It was
    refused with calamine's "Cannot detect file format"."""
    from pseudodesk.core.read.dispatch import list_sheets

    path = tmp_path / "export.xls"
    path.write_bytes(data)
    table = read_table(path)
    assert table.format == "csv"
    assert table.header == ("NHS No", "Name")
    assert list(table.iter_rows()) == [(2, ["9434765919", "Ann"])]
    assert "really delimited text" in table.issues[0].message
    assert list_sheets(path) == []


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"<html><body><table><tr><td>NHS No</td></tr></table></body></html>", "a web page (HTML)"),
        (b"\r\n<!DOCTYPE html>\n<html>", "a web page (HTML)"),
        (
            b'<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">',
            "an Excel 2003 XML spreadsheet",
        ),
    ],
)
def test_a_web_page_or_xml_named_xls_is_refused_with_what_to_do(tmp_path, data, kind):
    path = tmp_path / "export.xls"
    path.write_bytes(data)
    with pytest.raises(errors.NotASpreadsheet) as info:
        read_table(path)
    assert f"really {kind}" in str(info.value) and "save it as" in str(info.value)


@pytest.mark.parametrize("value", ["#SPILL!", "#CALC!", "#BLOCKED!"])
def test_an_error_value_calamine_does_not_know_is_named_with_its_cell(tmp_path, value):
    """calamine refuses the whole sheet over newer Excel's error values; the message said only
    "Unsupported cell error value", not where or what to do."""
    import xlsxwriter

    path = tmp_path / "spill.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.write_row(0, 0, ["NHS No", "n"])
    ws.write_row(1, 0, ["9434765919", 1])
    ws.write_formula(2, 1, '=FILTER(A1:A2,A1:A2<>"")', None, value)
    wb.close()

    def with_error_cell(xml: bytes) -> bytes:  # as Excel saves an error result: t="e"
        assert xml.count(b' t="str">') == 1
        return xml.replace(b' t="str">', b' t="e">')

    _rewrite_sheet(path, with_error_cell)
    with pytest.raises(errors.NotASpreadsheet) as info:
        read_table(path)
    message = str(info.value)
    assert f"cell B3 holds Excel's error value {value}" in message and "paste the sheet as values" in message


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (dt.timedelta(minutes=-30), "-0:30:00"),
        (dt.timedelta(hours=-25, seconds=-5), "-25:00:05"),
        (dt.timedelta(seconds=59.6), "0:01:00"),
        (dt.timedelta(seconds=3599.4), "0:59:59"),
        (dt.timedelta(days=1, hours=2), "26:00:00"),
    ],
)
def test_durations_read_as_hours_minutes_seconds(value, text):
    """A negative duration was an hour out (-0:30 read -1:30:00) and seconds were truncated."""
    assert cell_text(value) == text


# --- declared grids of every workbook format, measured before reading (core/read/grid.py) ----------

ODS_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    "<office:body><office:spreadsheet>"
    '<table:table table:name="Small"><table:table-row><table:table-cell office:value-type="string">'
    "<text:p>x</text:p></table:table-cell></table:table-row></table:table>"
    '<table:table table:name="People"><table:table-row>'
    '<table:table-cell office:value-type="string"><text:p>NHS No</text:p></table:table-cell>'
    '<table:table-cell office:value-type="string"><text:p>Sex</text:p></table:table-cell>'
    '<table:table-cell table:number-columns-repeated="16000"/></table:table-row>'
    '<table:table-row table:number-rows-repeated="{rows}">'
    '<table:table-cell office:value-type="string"><text:p>9434765919</text:p></table:table-cell>'
    '<table:table-cell office:value-type="string" table:number-columns-repeated="{columns}"><text:p>F</text:p>'
    "</table:table-cell></table:table-row>"
    '<table:table-row table:number-rows-repeated="1048000">'
    '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    "</table:table></office:spreadsheet></office:body></office:document-content>"
)


def _ods(tmp_path: Path, rows: int, columns: int) -> Path:
    path = tmp_path / "repeated.ods"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", ODS_CONTENT.format(rows=rows, columns=columns))
        z.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
            'manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.'
            'oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" '
            'manifest:media-type="text/xml"/></manifest:manifest>',
        )
    return path


def test_repeated_ods_rows_and_cells_within_the_limit_read_as_written(tmp_path):
    table = read_table(_ods(tmp_path, rows=30, columns=1), sheet="People")
    assert table.header == ("NHS No", "Sex") and table.row_count == 30  # the empty repeats make nothing
    rows = [r for b in table.iter_batches(100) for r in b.rows]
    assert rows[0] == ["9434765919", "F"] and rows[-1] == ["9434765919", "F"]


def test_a_tiny_ods_declaring_a_huge_grid_is_refused_in_bounded_memory(tmp_path):
    """A 1 KB ODS repeating a row a million times across thousands of columns took gigabytes in
    calamine (which makes every sheet when it opens an ODS). Measured first, it is refused, in a
    process whose address space is limited to 1.5 GB."""
    path = _ods(tmp_path, rows=1_000_000, columns=2_000)
    assert path.stat().st_size < 2_000
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))\n"
        "from pathlib import Path\n"
        "from pseudodesk.core.read.dispatch import read_table\n"
        "from pseudodesk.core.errors import NotASpreadsheet\n"
        "try:\n"
        f"    read_table(Path({str(path)!r}))\n"
        "except NotASpreadsheet as e:\n"
        "    print(e); sys.exit(3)\n"
    )
    resource = pytest.importorskip("resource")
    assert resource  # POSIX only: the limit is what shows memory stays bounded
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr[-2000:]
    assert "sheet 'People' has values spread over 1,000,001 rows by 2,001 columns" in done.stdout


def _xlsb(tmp_path: Path, first_row: int, last_row: int, first_col: int, last_col: int) -> bytes:
    import struct

    def record(kind: int, payload: bytes) -> bytes:
        head = bytes([kind]) if kind < 0x80 else bytes([(kind & 0x7F) | 0x80, kind >> 7])
        size, sized = len(payload), b""
        while True:
            byte = size & 0x7F
            size >>= 7
            sized += bytes([byte | (0x80 if size else 0)])
            if not size:
                break
        return head + sized + payload

    def wide(text: str) -> bytes:
        return struct.pack("<I", len(text)) + text.encode("utf-16-le")

    workbook = record(156, struct.pack("<II", 0, 1) + wide("rId1") + wide("People"))
    sheet = record(129, b"") + record(148, struct.pack("<4I", first_row, last_row, first_col, last_col))
    sheet += record(145, b"")
    rels = (
        b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="worksheet" Target="worksheets/sheet1.bin"/></Relationships>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("xl/workbook.bin", workbook)
        z.writestr("xl/_rels/workbook.bin.rels", rels)
        z.writestr("xl/worksheets/sheet1.bin", sheet)
    return out.getvalue()


def test_an_xlsb_sheet_declaring_a_huge_used_range_is_refused(tmp_path):
    from pseudodesk.core.read.grid import check_xlsb_grid
    from pseudodesk.core.read.xlsx_arrow import TooSpread

    check_xlsb_grid(_xlsb(tmp_path, 0, 999_999, 0, 19), "People")  # a million rows by 20 columns: fine
    with pytest.raises(TooSpread) as spread:
        check_xlsb_grid(_xlsb(tmp_path, 0, 1_048_575, 0, 16_383), "People")
    assert (spread.value.rows, spread.value.columns, spread.value.right) == (1_048_576, 16_384, "XFD1")
    check_xlsb_grid(_xlsb(tmp_path, 0, 1_048_575, 0, 16_383), "Another sheet")  # not the sheet read


def test_single_quoted_cell_references_do_not_hide_a_far_cell(tmp_path, monkeypatch):
    import re

    from pseudodesk.core.read import xlsx_arrow as xlsx_columns

    monkeypatch.setattr(xlsx_columns, "MAX_GRID_CELLS", 10_000)
    spread = _people_with(tmp_path, "XFD2")

    def single_quotes(xml: bytes) -> bytes:
        xml = re.sub(rb"<dimension[^>]*/>", b"", xml)
        return re.sub(rb'c r="([A-Z]+\d+)"', rb"c r='\1'", xml)

    _rewrite_sheet(spread, single_quotes)
    with pytest.raises(errors.NotASpreadsheet, match=r"16,384 columns.*furthest right: XFD2"):
        read_table(spread)
