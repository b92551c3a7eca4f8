"""What a file is by its first bytes: an OLE compound file (XLS, or a password-protected
workbook) or a ZIP package (XLSX, XLSM, XLSB, ODS).
"""

from __future__ import annotations

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


ZIP_MAGIC = b"PK\x03\x04"
