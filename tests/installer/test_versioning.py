"""One version source (pyproject.toml) and a build number for CI builds (installer/versioning.py)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import versioning

import pseudodesk

ROOT = Path(__file__).resolve().parents[2]
RELEASE = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_the_app_reports_pyprojects_version():
    assert versioning.release_version() == RELEASE == pseudodesk.__version__


def test_the_build_number_comes_from_ci():
    assert versioning.build_number({}) == 0
    assert versioning.build_number({"GITHUB_RUN_NUMBER": "412"}) == 412
    assert versioning.build_number({"GITHUB_RUN_NUMBER": "412", "PSEUDODESK_BUILD_NUMBER": "7"}) == 7
    assert versioning.file_version({"GITHUB_RUN_NUMBER": "412"}) == f"{RELEASE}.412"
    assert versioning.file_version_tuple({"PSEUDODESK_BUILD_NUMBER": "65535"})[3] == 65535


@pytest.mark.parametrize("number", ["65536", "-1", "12a", "1.5"])
def test_a_build_number_windows_cannot_hold_is_refused(number):
    with pytest.raises(versioning.VersionError, match="build number"):
        versioning.build_number({"PSEUDODESK_BUILD_NUMBER": number})


@pytest.mark.parametrize("version", ["1.2", "1.2.3.4", "1.2.3rc1", "256.0.0", "1.256.0", "1.0.65536"])
def test_a_version_windows_installer_cannot_hold_is_refused(tmp_path, version):
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "pseudodesk"\nversion = "{version}"\n')
    with pytest.raises(versioning.VersionError):
        versioning.release_version(tmp_path / "pyproject.toml")


def test_no_other_file_states_the_version():
    """Bumping the version is one edit: no installer source, workflow or module repeats it."""
    literal = re.compile(rf"(?<![\d.]){re.escape(RELEASE)}(?![\d.])")
    places = [
        ROOT / "src" / "pseudodesk" / "__init__.py",
        ROOT / "installer" / "pseudodesk.iss",
        ROOT / "installer" / "pseudodesk.wxs",
        ROOT / "installer" / "pseudodesk.spec",
        ROOT / "installer" / "bootstrap.py",
        *(ROOT / ".github" / "workflows").glob("*.yml"),
    ]
    repeating = [p.relative_to(ROOT).as_posix() for p in places if literal.search(p.read_text(encoding="utf-8"))]
    assert repeating == []


def test_the_per_user_setup_makes_the_selftest_count():
    """No ISCC on Linux (the Windows workflow compiles the script): the script must run the self-test
    where its exit code is read, log it, and give setup a failing exit code."""
    script = (ROOT / "installer" / "pseudodesk.iss").read_text(encoding="utf-8")
    run_section = script.split("[Run]", 1)[1].split("\n[", 1)[0]
    assert "selftest" not in run_section  # a [Run] entry's exit code is ignored
    code = script.split("[Code]", 1)[1]
    assert "'selftest --log \"' + LogFile + '\"'" in code and "ewWaitUntilTerminated, ResultCode" in code
    assert "function GetCustomSetupExitCode(): Integer;" in code and "SelfTestFailedExitCode = 10;" in code
