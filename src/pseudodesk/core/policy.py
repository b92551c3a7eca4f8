"""The machine policy: what IT allows on this computer, for every user of it (docs/deployment.md).

One TOML file in the operating system's machine-wide configuration folder, which users of
a locked-down PC cannot write:

- Windows: ``%ProgramData%\\pseudodesk\\policy.toml``
- macOS: ``/Library/Application Support/pseudodesk/policy.toml``
- Linux and others: ``/etc/pseudodesk/policy.toml``

It holds switches (SETTINGS: what may be done) and folders (FOLDERS: where things are
offered). No file means no restriction. A file that cannot be read, is not TOML, holds a
setting this version does not know, a switch that is not true or false, or a folder that is
not a full path is refused as a whole: every restricted action is then refused with a
message naming the file, and no folder of it is used, because guessing what IT meant would
fail open. The file's location is not taken from the environment, so a user cannot point it
elsewhere. :meth:`Policy.lines` says what is in force (``pseudodesk-cli policy``, Help >
About).
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pseudodesk.core.errors import PseudodeskError

POLICY_NAME = "policy.toml"

# setting -> what it allows when true (the default); docs/deployment.md lists them for IT
SETTINGS = {
    "allow_unapproved_exports": "exports under a profile that was not installed from an agreement package",
    "allow_key_import": "importing a key or salt file on its own, outside an agreement package",
    "allow_demo": "the demo: the bundled synthetic spreadsheet exported with a DEMO key",
}
# setting -> what the folder is for; not set: the app's own choice
FOLDERS = {
    "agreements_folder": "where IT puts the agreement packages (.pdagreement) this PC's users install",
    "default_output_folder": "the output folder offered for exports until a person chooses another",
}
_WINDOWS_VARIABLE = re.compile(r"%([^%]+)%")


class PolicyForbids(PseudodeskError):
    """The machine policy does not allow this, or cannot be read (so nothing it governs is allowed)."""


@dataclass(frozen=True)
class Policy:
    allow_unapproved_exports: bool = True
    allow_key_import: bool = True
    allow_demo: bool = True
    agreements_folder: Path | None = None
    default_output_folder: Path | None = None
    path: Path | None = None  # the file it came from; None when there is none
    problem: str = ""  # why the file could not be used: then nothing it governs is allowed
    written: frozenset[str] = frozenset()  # the settings the file sets (the rest are defaults)

    def allows(self, setting: str) -> bool:
        """Whether ``setting`` (one of SETTINGS) allows what it governs; never when the file is unusable."""
        return not self.problem and bool(getattr(self, setting))

    def require(self, setting: str, doing: str, instead: str) -> None:
        """Raise :class:`PolicyForbids` unless ``setting`` allows ``doing``; ``instead`` says what to do."""
        if self.problem:
            raise PolicyForbids(
                f"This computer's pseudodesk policy ({self.path}) cannot be used: {self.problem}. "
                f"Until IT corrects it, {doing} is not allowed. {instead}"
            )
        if not getattr(self, setting):
            raise PolicyForbids(
                f"This computer's pseudodesk policy ({self.path}) does not allow {doing} ({setting} = false). {instead}"
            )

    def folder(self, setting: str) -> Path | None:
        """The folder ``setting`` (one of FOLDERS) names; None when not set or when the file is unusable."""
        return None if self.problem else getattr(self, setting)

    def lines(self) -> list[str]:
        """What is in force, one line per setting, for the person at the PC and IT
        (``pseudodesk-cli policy`` and the About box)."""
        if self.path is None:
            return [f"No machine policy ({policy_path()} does not exist): nothing is restricted."]
        if self.problem:
            return [
                f"Machine policy {self.path} cannot be used: {self.problem}.",
                "Until IT corrects it, exports under unapproved profiles, key imports and the demo are refused.",
            ]
        lines = [f"Machine policy {self.path}:"]
        for name, allowed in SETTINGS.items():
            value = getattr(self, name)
            source = "set by IT" if name in self.written else "default"
            verdict = "allowed" if value else "NOT allowed"
            lines.append(f"  {name} = {str(value).lower()} ({source}): {allowed}: {verdict}")
        for name, purpose in FOLDERS.items():
            folder = getattr(self, name)
            lines.append(f"  {name} = {folder if folder else '(not set)'}: {purpose}")
        return lines


def policy_path() -> Path:
    """Where the machine policy lives on this operating system."""
    if sys.platform == "win32":
        return Path(os.environ.get("ProgramData") or r"C:\ProgramData") / "pseudodesk" / POLICY_NAME
    if sys.platform == "darwin":
        return Path("/Library/Application Support/pseudodesk") / POLICY_NAME
    return Path("/etc/pseudodesk") / POLICY_NAME


def _folder(name: str, value: object) -> Path | str:
    """A folder setting as a full path (``%VARIABLE%`` and a leading ``~`` expanded), or why it is not one.
    A ``$`` is left alone: hidden shares (``\\\\server\\exports$``) have one."""
    if not isinstance(value, str) or not value.strip():
        return f"{name} must be a folder written as text, such as '%USERPROFILE%\\Documents\\pseudodesk exports'"
    missing = [m.group(1) for m in _WINDOWS_VARIABLE.finditer(value) if m.group(1) not in os.environ]
    if missing:
        return f"{name} names an environment variable this computer does not have (%{missing[0]}%)"
    text = _WINDOWS_VARIABLE.sub(lambda m: os.environ[m.group(1)], value.strip())
    path = Path(os.path.expanduser(text))
    if not path.is_absolute():
        return f"{name} must be a full path (with a drive or a network share), not {value!r}"
    return path


def machine_policy(path: Path | None = None) -> Policy:
    """The policy in force: read afresh each time, so a change by IT applies at the next action."""
    path = path or policy_path()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Policy()
    except OSError as error:
        return Policy(path=path, problem=f"it cannot be read ({error.strerror or type(error).__name__})")
    try:
        settings = tomllib.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return Policy(path=path, problem=f"it is not valid TOML ({error})")
    unknown = sorted(set(settings) - set(SETTINGS) - set(FOLDERS))
    if unknown:
        return Policy(path=path, problem=f"it has settings this version does not know: {', '.join(unknown)}")
    wrong = sorted(name for name, value in settings.items() if name in SETTINGS and not isinstance(value, bool))
    if wrong:
        return Policy(path=path, problem=f"{', '.join(wrong)} must be true or false")
    values: dict[str, Any] = {name: value for name, value in settings.items() if name in SETTINGS}
    for name in FOLDERS:
        if name in settings:
            folder = _folder(name, settings[name])
            if isinstance(folder, str):
                return Policy(path=path, problem=folder)
            values[name] = folder
    return Policy(path=path, written=frozenset(settings), **values)
