"""The audit report written from the Audit window: printed (to a printer or an A4 PDF) through a
:class:`QTextDocument`, or listed as CSV.

The HTML and the CSV are the core's :func:`~pseudodesk.core.audit.listing.listing_to_html` and
:func:`~pseudodesk.core.audit.listing.listing_to_csv`, the same report as
``pseudodesk-cli audit report``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QPageSize, QTextDocument
from PySide6.QtPrintSupport import QPrinter

from pseudodesk.core.audit.listing import Entry, listing_to_csv
from pseudodesk.core.audit.log import AuditError

REPORT_TITLE = "pseudodesk audit report"


def print_report(printer: QPrinter, html: str, parent: QObject) -> None:
    """Render ``html`` on ``printer`` (a real printer, or a PDF file)."""
    document = QTextDocument(parent)
    document.setHtml(html)
    document.setMetaInformation(QTextDocument.MetaInformation.DocumentTitle, REPORT_TITLE)
    try:
        document.print_(printer)
    finally:
        document.deleteLater()


def write_pdf(html: str, path: Path, parent: QObject) -> Path:
    """Write ``html`` as an A4 PDF file; :class:`AuditError` before printing when ``path`` cannot be written."""
    try:
        with path.open("wb"):
            pass
    except OSError as error:
        raise AuditError(f"Cannot write the report to {path}: {error.strerror or error}.") from None
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    printer.setDocName(REPORT_TITLE)
    printer.setCreator("pseudodesk")
    print_report(printer, html, parent)
    return path


def write_csv(entries: list[Entry], path: Path) -> Path:
    """Write ``entries`` as CSV (UTF-8 with a byte order mark, for Excel)."""
    try:
        path.write_text(listing_to_csv(entries), encoding="utf-8-sig")
    except OSError as error:
        raise AuditError(f"Cannot write the listing to {path}: {error.strerror or error}.") from None
    return path
