"""Which date system a workbook uses (1900 or 1904), read from XLSX, XLS (DATEMODE), XLSB
(BrtWbProp) and ODS (null-date).
"""

from __future__ import annotations

import io
from typing import IO, Any

from pseudodesk.core.read.magic import OLE_MAGIC, ZIP_MAGIC

BIFF_DATEMODE, BIFF_EOF = 0x0022, 0x000A


def workbook_date_system(data: bytes) -> int:
    """1904 when the workbook counts date serial numbers from 1 January 1904, else 1900.

    Date *cells* come out of calamine as dates either way; the system matters for numbers
    that are dates without a date format (a DOB column of plain serials), which the date
    rules convert (`conventions.dates.excel_serial_to_date`). Each format keeps it its own way:
    XLSX/XLSM `<workbookPr date1904>`, XLSB the BrtWbProp record's fDate1904 bit, XLS the
    DATEMODE record, ODS a `<table:null-date>` of 1904-01-01 (LibreOffice's serial 0 is then
    1904-01-01, as in Excel's 1904 system). Anything unreadable here is left to calamine to
    refuse and counts as 1900.
    """
    if data.startswith(OLE_MAGIC):
        return _biff_date_system(data)
    if not data.startswith(ZIP_MAGIC):
        return 1900
    import zipfile
    from xml.etree import ElementTree

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            if "xl/workbook.xml" in names:
                return _xlsx_date_system(ElementTree.fromstring(z.read("xl/workbook.xml")))
            if "xl/workbook.bin" in names:
                return _xlsb_date_system(z.read("xl/workbook.bin"))
            if "content.xml" in names:
                with z.open("content.xml") as content:
                    return _ods_date_system(content)
    except (zipfile.BadZipFile, ElementTree.ParseError, OSError, EOFError, ValueError):
        pass
    return 1900


def _xlsx_date_system(root: Any) -> int:
    # Parsed, not searched: a regex missed date1904='1', date1904 = "1" and UTF-16 XML.
    for element in root.iter():
        if element.tag.rpartition("}")[2] == "workbookPr":
            return 1904 if element.get("date1904", "").strip().lower() in ("1", "true") else 1900
    return 1900


XLSB_WB_PROP = 0x0099  # BrtWbProp ([MS-XLSB] 2.4.820): flags first, bit 0 fDate1904


def _biff_date_system(data: bytes) -> int:
    """XLS (BIFF5/8): the DATEMODE record of the workbook globals, before their EOF record."""
    import struct

    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            name = next((n for n in ("Workbook", "Book") if ole.exists(n)), None)
            if name is None:
                return 1900
            stream = ole.openstream(name)
            while len(head := stream.read(4)) == 4:
                kind, size = struct.unpack("<HH", head)
                body = stream.read(size)
                if kind == BIFF_DATEMODE:
                    return 1904 if body[:2] == b"\x01\x00" else 1900
                if kind == BIFF_EOF:
                    break
    except (OSError, ValueError, struct.error):  # olefile raises OSError for damaged files
        pass
    return 1900


def _xlsb_varint(data: bytes, at: int, most: int) -> tuple[int, int]:
    value = shift = 0
    for i in range(most):
        byte = data[at + i]
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at + i + 1
    return value, at + most


def _xlsb_date_system(data: bytes) -> int:
    """XLSB: BrtWbProp in workbook.bin (records: a type of up to 2 and a size of up to 4
    7-bit bytes, then the body)."""
    at = 0
    try:
        while at < len(data):
            kind, at = _xlsb_varint(data, at, 2)
            size, at = _xlsb_varint(data, at, 4)
            if kind == XLSB_WB_PROP:
                return 1904 if size >= 4 and data[at] & 1 else 1900
            at += size
    except IndexError:
        pass
    return 1900


def _ods_date_system(content: IO[bytes]) -> int:
    """ODS: `<table:null-date table:date-value>` in the calculation settings, which come before
    the first table (so only the document's start is parsed)."""
    from xml.etree import ElementTree

    table = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    for _, element in ElementTree.iterparse(content, events=("start",)):
        if element.tag == f"{{{table}}}null-date":
            return 1904 if element.get(f"{{{table}}}date-value", "").startswith("1904-01-01") else 1900
        if element.tag == f"{{{table}}}table":
            break
    return 1900
