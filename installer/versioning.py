"""The version every build artefact carries, from its one source: pyproject.toml's [project] version.

    python installer/versioning.py          # prints version=, build=, file_version= (for $GITHUB_OUTPUT)

- release version: ``major.minor.patch`` exactly as pyproject.toml says (``1.2.3``); the app
  shows it, manifests and audit entries record it.
- build number: ``PSEUDODESK_BUILD_NUMBER``, else GitHub Actions' ``GITHUB_RUN_NUMBER``, else 0
  (a build on a developer's PC). At most 65535: Windows version resources and Windows
  Installer hold each part in 16 bits.
- file version: ``major.minor.patch.build`` (``1.2.3.57``): the executables' version resource,
  the MSI's ProductVersion and the Inno Setup installer's version. Windows Installer compares
  only the first three parts, so two builds of one release are the same version to it; the
  MSI's Upgrade table (installer/pseudodesk.wxs) therefore replaces an installed build of the
  same release and refuses only a newer release.

Standard library only: bootstrap.py and the PyInstaller spec import it, the workflow runs it.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD_NUMBER_ENV = ("PSEUDODESK_BUILD_NUMBER", "GITHUB_RUN_NUMBER")
_RELEASE = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_LIMIT = 65535  # each part of a Windows file version or of an MSI ProductVersion's build part


class VersionError(ValueError):
    """The version or the build number cannot go into a Windows version."""


def release_version(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """``major.minor.patch`` from pyproject.toml; refused unless it is three numbers Windows can hold."""
    import tomllib  # here, so that bootstrap.py can say which Python it needs before failing on an older one

    version = str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
    match = _RELEASE.fullmatch(version)
    if match is None:
        raise VersionError(f"pyproject.toml's version {version!r} is not major.minor.patch (three numbers)")
    # Windows Installer: major at most 255, minor at most 255, build (our patch) at most 65535.
    major, minor, patch = (int(part) for part in match.groups())
    if major > 255 or minor > 255 or patch > _LIMIT:
        raise VersionError(f"{version}: Windows Installer allows at most 255.255.65535")
    return version


def build_number(environ: dict[str, str] | None = None) -> int:
    """The CI build number (0 for a local build)."""
    environ = dict(os.environ) if environ is None else environ
    for name in BUILD_NUMBER_ENV:
        text = environ.get(name, "").strip()
        if text:
            if not text.isdigit() or int(text) > _LIMIT:
                raise VersionError(f"{name}={text!r}: a build number is a whole number from 0 to {_LIMIT}")
            return int(text)
    return 0


def file_version(environ: dict[str, str] | None = None, pyproject: Path = ROOT / "pyproject.toml") -> str:
    """``major.minor.patch.build``: the executables', the MSI's and the setup's version."""
    return f"{release_version(pyproject)}.{build_number(environ)}"


def file_version_tuple(environ: dict[str, str] | None = None) -> tuple[int, int, int, int]:
    a, b, c, d = (int(part) for part in file_version(environ).split("."))
    return a, b, c, d


def main() -> int:
    print(f"version={release_version()}")
    print(f"build={build_number()}")
    print(f"file_version={file_version()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
