"""The machine policy: what IT allows on this computer, for every user of it (docs/deployment.md).

One TOML file in the operating system's machine-wide configuration folder, which users of
a locked-down PC cannot write:

- Windows: ``%ProgramData%\\pseudodesk\\policy.toml``
- macOS: ``/Library/Application Support/pseudodesk/policy.toml``
- Linux and others: ``/etc/pseudodesk/policy.toml``

No file means no restriction. A file that cannot be read, is not TOML, or holds a setting
this version does not know is refused as a whole: every restricted action is then refused
with a message naming the file, because guessing what IT meant would fail open. The
location is not taken from the environment, so a user cannot point it elsewhere.
"""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pseudodesk.core.errors import PseudodeskError

POLICY_NAME = "policy.toml"

# setting -> what it allows when true (the default); docs/deployment.md lists them for IT
SETTINGS = {
    "allow_unapproved_exports": "exports under a profile that was not installed from an agreement package",
    "allow_key_import": "importing a key or salt file on its own, outside an agreement package",
}


class PolicyForbids(PseudodeskError):
    """The machine policy does not allow this, or cannot be read (so nothing it governs is allowed)."""


@dataclass(frozen=True)
class Policy:
    allow_unapproved_exports: bool = True
    allow_key_import: bool = True
    path: Path | None = None  # the file it came from; None when there is none
    problem: str = ""  # why the file could not be used: then nothing it governs is allowed

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


def policy_path() -> Path:
    """Where the machine policy lives on this operating system."""
    if sys.platform == "win32":
        return Path(os.environ.get("ProgramData") or r"C:\ProgramData") / "pseudodesk" / POLICY_NAME
    if sys.platform == "darwin":
        return Path("/Library/Application Support/pseudodesk") / POLICY_NAME
    return Path("/etc/pseudodesk") / POLICY_NAME


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
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        return Policy(path=path, problem=f"it has settings this version does not know: {', '.join(unknown)}")
    wrong = sorted(name for name, value in settings.items() if not isinstance(value, bool))
    if wrong:
        return Policy(path=path, problem=f"{', '.join(wrong)} must be true or false")
    return Policy(path=path, **settings)
