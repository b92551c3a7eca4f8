"""What every pseudodesk-cli command shares: exit codes, progress, Ctrl-C, secret prompts."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import signal
import sys
import threading
from types import FrameType
from typing import TextIO

from pseudodesk.core.audit.log import AuditError
from pseudodesk.core.errors import (
    Cancelled,
    ChecksBlockExport,
    ExportError,
    KeyProblem,
    MappingError,
    NoHeader,
    NotApproved,
    OutputExists,
    PasswordRequired,
    ProfileError,
    PseudodeskError,
    ReaderError,
    SheetNotFound,
    WrongPassword,
)
from pseudodesk.core.keys.agreement_package import AgreementPackageInvalid, AgreementRefused
from pseudodesk.core.keys.installation import AuditTrail
from pseudodesk.core.keys.pending import PENDING_FOLDER
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.policy import PolicyForbids

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_KEY = 4
EXIT_EXPORT = 5
EXIT_BLOCKED = 6
EXIT_CANCELLED = 130
PASSWORD_ENV = "PSEUDODESK_WORKBOOK_PASSWORD"


def flag_hint(error: PseudodeskError) -> str:
    """The command-line flag that fixes ``error``, in words to append to its message ("" if none)."""
    if isinstance(error, NoHeader):
        return "Choose the header row with --header-row N (the row number as Excel shows it)."
    if isinstance(error, SheetNotFound):
        return "Choose the sheet with --sheet NAME."
    if isinstance(error, OutputExists):
        return "Choose another name with --name, or replace it with --overwrite."
    if isinstance(error, NotApproved):
        return "(To confirm it: --accept-unapproved-profile.)"
    if isinstance(error, (PasswordRequired, WrongPassword)):
        return f"Give the workbook's password with --ask-password, or in the environment variable {PASSWORD_ENV}."
    return ""


def exit_code_for(error: PseudodeskError) -> int:
    if isinstance(error, Cancelled):
        return EXIT_CANCELLED
    if isinstance(error, AuditError):  # the audit log cannot be read or written, or does not verify
        return EXIT_BLOCKED
    if isinstance(error, (NotApproved, PolicyForbids)):  # an export or import the partner may not make
        return EXIT_BLOCKED
    if isinstance(error, AgreementPackageInvalid):  # altered, cut short, wrongly signed, another custodian
        return EXIT_BLOCKED
    if isinstance(error, AgreementRefused):  # sound, but expired, not yet valid or not newer
        return EXIT_BAD_INPUT
    if isinstance(error, (ReaderError, ProfileError, MappingError)):
        return EXIT_BAD_INPUT
    if isinstance(error, KeyProblem):
        return EXIT_KEY
    if isinstance(error, ExportError):
        return EXIT_EXPORT
    if isinstance(error, ChecksBlockExport):
        return EXIT_BLOCKED
    return EXIT_INTERNAL


class ProgressLine:
    """Progress on stderr: one rewritten line on a terminal, a line per 10% otherwise."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last_decile = -1

    def __call__(self, fraction: float, message: str) -> None:
        if self.tty:
            self.stream.write(f"\r{fraction:6.1%}  {message:<60}")
            if fraction >= 1.0:
                self.stream.write("\n")
            self.stream.flush()
            return
        decile = int(fraction * 10)
        if decile != self.last_decile:
            self.last_decile = decile
            print(f"{fraction:6.1%}  {message}", file=self.stream, flush=True)


class CancelFlag:
    """Ctrl-C sets the flag; the pipeline stops at the next batch and cleans up."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self) -> bool:
        return self.event.is_set()

    def install(self) -> None:
        def handler(signum: int, frame: FrameType | None) -> None:
            if self.event.is_set():
                raise KeyboardInterrupt  # second Ctrl-C: stop now (atomic writes still clean up)
            self.event.set()
            print("\nCancelling... (press Ctrl-C again to stop at once)", file=sys.stderr, flush=True)

        signal.signal(signal.SIGINT, handler)
        # Stopped by the system or a scheduler (SIGTERM): the same clean stop, at the next batch.
        signal.signal(signal.SIGTERM, handler)


def iso_date(text: str) -> dt.date:
    """A command-line date, YYYY-MM-DD (argparse type)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date written YYYY-MM-DD") from None


def ask_secret(prompt: str, env: str) -> str:
    """A passphrase from the environment variable ``env`` (for scripts) or typed at the terminal."""
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise KeyProblem(f"{prompt} is needed: run in a terminal, or set {env} for a script.")
    return getpass.getpass(f"{prompt}: ")


def ask_text(prompt: str) -> str | None:
    """A line typed at the terminal, or None when there is no terminal."""
    if not sys.stdin.isatty():
        return None
    return input(f"{prompt}: ").strip()


MESSAGE_LIMIT = 2_000  # characters of an error message printed (a message can name many columns)


def line_numbers(lines: tuple[int, ...] | list[int], limit: int = 10) -> str:
    """Line numbers for a message: the first ``limit``, then how many more."""
    shown = ", ".join(str(n) for n in lines[:limit])
    return shown + (f" and {len(lines) - limit} more" if len(lines) > limit else "")


def capped(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + " ... (message shortened)"


def safe_output() -> None:
    """Never fail to print: output redirected to a file or a pipe is UTF-8 whatever the Windows
    code page; a console keeps its encoding, with what it cannot show replaced."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            if stream.isatty():
                reconfigure(errors="replace")
            else:
                reconfigure(encoding="utf-8", errors="replace")
        except (OSError, ValueError):
            pass


def recover_interrupted(store: KeyStore) -> None:
    """Undo (and record) exports a crash or a kill stopped part-way (core/keys/pending.py)."""
    if not any((store.directory / PENDING_FOLDER).glob("*.json")):
        return
    try:
        for interrupted in AuditTrail(store).recover_interrupted():
            print(f"pseudodesk: {interrupted.describe()}", file=sys.stderr)
    except PseudodeskError as error:  # e.g. no keyring to sign the record: say so, and go on
        print(f"pseudodesk: an interrupted export could not be undone yet: {error}", file=sys.stderr)
