"""One family of errors whose messages a partner can act on.

Every error the core raises on purpose is a :class:`PseudodeskError`. Front ends show
``str(error)`` to the user as it is, and map the family to an exit code (see
``pseudodesk.cli.main``). Messages name the file, the key or the setting at fault and
never contain a data value, a key, a salt or a passphrase.
"""

from __future__ import annotations

from pathlib import Path


class PseudodeskError(Exception):
    """Base of every error pseudodesk raises deliberately."""


class Cancelled(PseudodeskError):
    """The user asked to stop; nothing was left behind."""

    def __init__(self, message: str = "Cancelled: nothing was written.") -> None:
        super().__init__(message)


# --- reading spreadsheets -------------------------------------------------------------


class ReaderError(PseudodeskError):
    """A spreadsheet cannot be read as the user expects."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path.name}: {problem}")


class SourceChanged(ReaderError):
    """A pass over the file saw other rows than the load did (it was saved meanwhile)."""


class SourceNotFound(ReaderError):
    """The file does not exist (or is not a file)."""


class EmptyFile(ReaderError):
    """The file has no bytes, or nothing but blank lines."""


class NoHeader(ReaderError):
    """The chosen header row is missing or has no column names."""


class NotASpreadsheet(ReaderError):
    """The bytes are not the format the name says (corrupt, truncated or other data)."""


class UnsupportedFormat(ReaderError):
    """The file extension is not one pseudodesk reads."""


class PasswordRequired(ReaderError):
    """The workbook is encrypted and no password was given."""


class WrongPassword(ReaderError):
    """The password given does not open the workbook."""


class SheetNotFound(ReaderError):
    """The sheet asked for is not in the workbook."""


class EncodingProblem(ReaderError):
    """The text is in an encoding pseudodesk will not guess (e.g. UTF-8 mixed with Windows-1252)."""


class RaggedRows(ReaderError):
    """Rows have more cells than the header names; those cells would be lost."""

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


class PackageError(PseudodeskError):
    """An exported package cannot be inspected or opened."""


# --- checks -----------------------------------------------------------------------------


class ChecksBlockExport(PseudodeskError):
    """The checks found what the agreement does not allow to leave; nothing was exported."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("Nothing was exported: " + " Also: ".join(reasons))
