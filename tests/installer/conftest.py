"""The installer's scripts (installer/*.py) are plain scripts, not a package: import them by name."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import require_tool

INSTALLER = Path(__file__).resolve().parents[2] / "installer"
if str(INSTALLER) not in sys.path:
    sys.path.insert(0, str(INSTALLER))


@pytest.fixture
def tiny_msi(tmp_path: Path) -> Callable[[str], Path]:
    """Build an MSI with wixl from the real installer/pseudodesk.wxs over a stand-in onedir folder
    (two executables and one file in _internal): the tables pseudodesk's MSI really gets, in a second."""
    if sys.platform == "win32":  # wixl is msitools' (Linux); the Windows workflow checks the WiX v3 MSI
        pytest.skip("wixl builds the MSI on Linux only")
    wixl = require_tool("wixl")
    require_tool("msiinfo")
    import wix_files

    (tmp_path / "installer").mkdir()
    for name in ("pseudodesk.wxs", "pseudodesk.ico"):
        shutil.copy(INSTALLER / name, tmp_path / "installer" / name)
    folder = tmp_path / "pseudodesk"
    (folder / "_internal").mkdir(parents=True)
    for name in ("pseudodesk.exe", "pseudodesk-cli.exe", "_internal/library.dll"):
        (folder / name).write_bytes(b"MZ stand-in for " + name.encode())
    files, refs = wix_files.wxi(folder)
    (tmp_path / "installer" / "files.wxi").write_text(files, encoding="utf-8")
    (tmp_path / "installer" / "components.wxi").write_text(refs, encoding="utf-8")

    def build(version: str, name: str = "pseudodesk.msi") -> Path:
        out = tmp_path / name
        subprocess.run(
            [wixl, "-a", "x64", "-D", f"Version={version}", "-D", "SourceDir=pseudodesk", "-o", str(out),
             "installer/pseudodesk.wxs"],
            cwd=tmp_path, check=True, capture_output=True,
        )  # fmt: skip
        return out

    return build
