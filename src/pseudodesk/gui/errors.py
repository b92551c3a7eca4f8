"""Every error reaches the user as a message that says what happened and what to do.

Errors pseudodesk raises on purpose (:class:`~pseudodesk.core.errors.PseudodeskError`)
already carry a message a partner can act on; the dialog shows it with a short title
for its kind. Anything else is a bug: it is written to the local log with a reference
and the user sees the reference, never a traceback.

The log never holds data values. An exception's message can quote a cell (Python's
``ValueError`` does), so the log records only the exception's type, the reference and
the stack frames (file, line, function), never ``str(exception)`` or local variables.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from pseudodesk.core.errors import (
    ChecksBlockExport,
    ExportError,
    KeyProblem,
    MappingError,
    NotApproved,
    ProfileError,
    PseudodeskError,
    ReaderError,
)
from pseudodesk.core.keys.agreement_package import AgreementPackageInvalid, AgreementRefused
from pseudodesk.core.keys.store import data_dir
from pseudodesk.core.policy import PolicyForbids

LOG_NAME = "pseudodesk.log"
_logger: logging.Logger | None = None


def log_path() -> Path:
    """The local log: in the user's private pseudodesk data folder, beside the audit log."""
    return data_dir() / "logs" / LOG_NAME


def _log() -> logging.Logger:
    global _logger
    path = log_path()
    if _logger is not None and any(getattr(h, "baseFilename", None) == str(path) for h in _logger.handlers):
        return _logger
    logger = logging.getLogger("pseudodesk.gui")
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    _logger = logger
    return logger


def log_unexpected(error: BaseException, doing: str) -> str:
    """Write an unexpected error to the local log (no data values); returns its reference."""
    reference = f"PD-{dt.datetime.now():%Y%m%d}-{secrets.token_hex(3).upper()}"
    frames = traceback.extract_tb(error.__traceback__)
    stack = "\n".join(f"    {Path(f.filename).name}:{f.lineno} in {f.name}" for f in frames)
    _log().error(
        "%s while %s: %s (message withheld: may quote data)\n%s", reference, doing, type(error).__name__, stack
    )
    return reference


def describe(error: BaseException, doing: str) -> tuple[str, str]:
    """A title and a message for the user; unexpected errors are logged first."""
    if isinstance(error, PseudodeskError):
        title = _TITLES.get(type(error), "")
        if not title:
            for kind, text in _TITLES.items():
                if isinstance(error, kind):
                    title = text
                    break
        return title or "Could not finish", str(error)
    if isinstance(error, OSError) and error.strerror:
        where = f" ({Path(error.filename).name})" if error.filename else ""
        return (
            "Could not use the file",
            f"The computer refused while {doing}: {error.strerror}{where}. Check the "
            "folder exists, you may write to it, and the file is not open in another program.",
        )
    if isinstance(error, MemoryError):
        return (
            "Not enough memory",
            f"This computer ran out of memory while {doing}. Close other programs and try again; nothing was exported.",
        )
    reference = log_unexpected(error, doing)
    return (
        "Something went wrong",
        f"pseudodesk hit an unexpected problem while {doing}. Nothing was "
        f"exported.\n\nReference: {reference}\nThe details (no data values) are in {log_path()}.\n"
        "Please send the reference and that file to your IT support.",
    )


_TITLES: dict[type[BaseException], str] = {
    AgreementPackageInvalid: "Do not install this agreement package",
    AgreementRefused: "Cannot use this agreement",
    NotApproved: "This profile is not approved",
    PolicyForbids: "Not allowed on this computer",
    ReaderError: "Cannot read the spreadsheet",
    ProfileError: "Problem with the agreement profile",
    MappingError: "The columns do not match",
    KeyProblem: "Problem with the project key",
    ChecksBlockExport: "The checks stop this export",
    ExportError: "Could not export",
}


def show_error(parent: QWidget | None, error: BaseException, *, doing: str) -> QMessageBox:
    """Show the error in a window-modal message box (non-blocking: ``open()``, not ``exec()``)."""
    title, text = describe(error, doing)
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("error_dialog")
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAccessibleName(title)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
