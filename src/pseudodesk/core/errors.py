"""One family of errors whose messages a partner can act on.

Every error the core raises on purpose is a :class:`PseudodeskError`. Front ends show
``str(error)`` to the user as it is, and map the family to an exit code (see
``pseudodesk.cli.main``). Messages name the file, the key or the setting at fault and
never contain a data value, a key, a salt or a passphrase.
"""

from __future__ import annotations

from pathlib import Path


class PseudodeskError(Exception):
    """Base of every error pseudodesk raises deliberately.

    ``str(error)`` is for the person at this PC. What goes anywhere else (the audit log, a
    manifest, a report that travels) is :meth:`facts`: the error's kind, and its message only
    when the message cannot hold text taken from a cell (``quotes_cells`` false).
    """

    quotes_cells = False  # whether str(self) may hold a value or a header cell of the source

    def facts(self) -> dict[str, object]:
        """What may be recorded about this error outside this PC: never text taken from a cell."""
        recorded: dict[str, object] = {"error": type(self).__name__}
        if not self.quotes_cells:
            recorded["reason"] = str(self)[:500]
        return recorded


class Cancelled(PseudodeskError):
    """The user asked to stop; nothing was left behind."""

    def __init__(self, message: str = "Cancelled: nothing was written.") -> None:
        super().__init__(message)


# --- reading spreadsheets -------------------------------------------------------------


class ReaderError(PseudodeskError):
    """A spreadsheet cannot be read as the user expects."""

    quotes_cells = True  # a reader's message may name header cells or quote what it found

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path.name}: {problem}")


class SourceChanged(ReaderError):
    """A pass over the file saw other rows than the load did (it was saved meanwhile)."""

    quotes_cells = False  # names the file, sheet or lines, never a cell


class SourceNotFound(ReaderError):
    """The file does not exist (or is not a file)."""

    quotes_cells = False  # names the file, sheet or lines, never a cell


class EmptyFile(ReaderError):
    """The file has no bytes, or nothing but blank lines."""

    quotes_cells = False  # names the file, sheet or lines, never a cell


class NoHeader(ReaderError):
    """The chosen header row is missing or has no column names."""


class HeaderIsData(NoHeader):
    """The chosen header row holds values (a person), not column names."""

    def __init__(self, path: Path | str, row: int, cells: list[tuple[int, str]]) -> None:
        self.row = row
        self.cells = cells  # (1-based column position, what the cell looks like)
        shown = "; ".join(f"column {column} holds {kind}" for column, kind in cells[:5])
        more = f" and {len(cells) - 5} more" if len(cells) > 5 else ""
        super().__init__(
            path,
            f"row {row} looks like a person's data, not column names ({shown}{more}). Used as the "
            "header, that person would be left out of the export and their values would name the "
            "columns. Choose the row that holds the column names; if the file has no such row, "
            "add one in Excel first. Nothing was exported.",
        )

    def facts(self) -> dict[str, object]:
        return {
            "error": type(self).__name__,
            "row": self.row,
            "cells": [{"column": column, "looks_like": kind} for column, kind in self.cells],
        }


class NotASpreadsheet(ReaderError):
    """The bytes are not the format the name says (corrupt, truncated or other data)."""


class UnsupportedFormat(ReaderError):
    """The file extension is not one pseudodesk reads."""

    quotes_cells = False  # names the file, sheet or lines, never a cell


class PasswordRequired(ReaderError):
    """The workbook is encrypted and no password was given."""

    quotes_cells = False  # names the file, sheet or lines, never a cell


class WrongPassword(ReaderError):
    """The password given does not open the workbook."""

    quotes_cells = False  # names the file, sheet or lines, never a cell


class SheetNotFound(ReaderError):
    """The sheet asked for is not in the workbook."""

    quotes_cells = False  # names the file, sheet or lines, never a cell


class EncodingProblem(ReaderError):
    """The text is in an encoding pseudodesk will not guess (e.g. UTF-8 mixed with Windows-1252)."""

    quotes_cells = False  # names the file, sheet or lines, never a cell


class RaggedRows(ReaderError):
    """Rows have more cells than the header names; those cells would be lost."""

    quotes_cells = False  # names the file, sheet or lines, never a cell

    def __init__(self, path: Path | str, lines: list[int], total: int) -> None:
        self.lines = lines
        self.total = total
        shown = ", ".join(str(n) for n in lines[:10])
        more = f" and {total - 10} more" if total > 10 else ""
        super().__init__(
            path,
            f"{total} row(s) have more cells than the header has column names "
            f"(line(s) {shown}{more}). Fix or name the extra columns and try again; "
            "nothing was processed.",
        )


# --- agreement profile and mapping ----------------------------------------------------


class ProfileError(PseudodeskError):
    """The agreement profile is malformed; ``where`` names the TOML key at fault."""

    def __init__(self, source: str, where: str, problem: str) -> None:
        self.source = source
        self.where = where
        self.problem = problem
        location = f" at '{where}'" if where else ""
        super().__init__(f"Agreement profile {source}{location}: {problem}")


class MappingError(PseudodeskError):
    """The source mapping does not fit the profile or the spreadsheet."""

    quotes_cells = True  # it names the file's columns, which may be anything


# --- keys ----------------------------------------------------------------------------


class KeyProblem(PseudodeskError):
    """A pseudonymisation key is missing, unreadable, wrong or unavailable."""


class NoKeyringBackend(KeyProblem):
    """No OS keyring is usable on this machine."""


# --- export ---------------------------------------------------------------------------


class ExportError(PseudodeskError):
    """The encrypted output cannot be written as asked."""


class OutputExists(ExportError):
    """The output file exists and overwriting was not requested."""


class NotApproved(ExportError):
    """The profile was not installed from an agreement package and the person did not confirm the risk."""


class PackageError(PseudodeskError):
    """An exported package cannot be inspected or opened."""


# --- checks -----------------------------------------------------------------------------


class ChecksBlockExport(PseudodeskError):
    """The checks found what the agreement does not allow to leave; nothing was exported."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("Nothing was exported: " + " Also: ".join(reasons))
