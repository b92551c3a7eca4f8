"""Set up a development environment from the lock file and run the app or the tests.

Needs nothing but Python 3.11+ (standard library only). Used by the two commands at
the top of README.md and by .ci/run:

    python3 installer/bootstrap.py app      # set up .venv, open the window on the demo data
    python3 installer/bootstrap.py test     # set up .venv, run every check headless
    python3 installer/bootstrap.py bench    # the performance benchmark (docs/performance.md)
    python3 installer/bootstrap.py build    # dist/pseudodesk/ (PyInstaller) + frozen smoke + MSI checks

What "test" runs, in order (any failure makes the exit status non-zero):
  1. import-linter: pseudodesk.core and pseudodesk.cli never import Qt, and the core is
     layered one way (read < ... < run; docs/development.md, "Architecture");
  2. mypy on pseudodesk.core;
  3. ruff check, then ruff format --check, over src, tests, installer, benchmarks and
     tools (.venv's ruff, configured in pyproject.toml's [tool.ruff]);
  4. the whole pytest suite (tests/core, tests/cli, tests/gui, tests/installer) with Qt offscreen, less
     the tests marked performance (pyproject.toml's addopts deselects them);
  5. tests/core and tests/cli again in a second environment (.venv-noqt) built from
     the same lock file without PySide6, proving the headless twin needs no Qt.
Then, apart: the tests marked performance (pytest -m performance), which assert on
elapsed wall-clock time and so depend on the machine and its load. Their failure is
printed as a warning and does NOT make the exit status non-zero.
Before the tests it also builds .venv-pycanon (tests/pycanon/requirements.lock) on Python
3.11 and 3.12, for the k-anonymity cross-check against pycanon.

Environments are rebuilt only when requirements.lock or pyproject.toml change.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

from versioning import file_version, release_version  # installer/versioning.py, beside this file

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
LINTED = ["src", "tests", "installer", "benchmarks", "tools"]  # what ruff checks
QT_PACKAGES = {"pyside6-essentials", "pyside6", "pyside6-addons", "shiboken6", "pytest-qt"}


def _bin(env: Path, name: str) -> Path:
    if os.name == "nt":
        return env / "Scripts" / (name + ".exe")
    return env / "bin" / name


def _lock_without_qt() -> str:
    """The lock file with the Qt packages' entries removed (entries are blank-line free blocks)."""
    out: list[str] = []
    skipping = False
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            name = line.split("==", 1)[0].strip().lower()
            skipping = name in QT_PACKAGES
        elif line.startswith("#"):
            skipping = False
        if not skipping:
            out.append(line)
    return "\n".join(out) + "\n"


def _lock_pins(text: str) -> set[str]:
    """The entries' first lines (name, version and environment marker) of a lock file."""
    return {
        line.rstrip(" \\")
        for line in text.splitlines()
        if line and not line[0].isspace() and not line.startswith("#") and "==" in line
    }


def _extra_entries(lock: Path, base: str) -> str:
    """The entries of ``lock`` that ``base`` does not already pin under the same marker
    (pip refuses a requirement given twice)."""
    taken = _lock_pins(base)
    out: list[str] = []
    skipping = False
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            skipping = line.rstrip(" \\") in taken  # the same pin under the same marker
        elif line.startswith("#"):
            skipping = False
        if not skipping:
            out.append(line)
    return "\n".join(out) + "\n"


def _bench_lock() -> str:
    """The app's lock (without Qt) plus benchmarks/requirements.lock's other entries."""
    base = _lock_without_qt()
    return base + _extra_entries(ROOT / "benchmarks" / "requirements.lock", base)


def _ensure_env(env: Path, *, with_qt: bool, lock_text: str | None = None, project: bool = True) -> Path:
    """Create or refresh a virtual environment; returns its Python."""
    if lock_text is None:
        lock_text = LOCK.read_text(encoding="utf-8") if with_qt else _lock_without_qt()
    stamp_value = hashlib.sha256(lock_text.encode() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = env / "pseudodesk-lock.sha256"
    python = _bin(env, "python")
    if python.exists() and stamp.exists() and stamp.read_text().strip() == stamp_value:
        return python
    print(f"[bootstrap] preparing {env.name} from requirements.lock ...", flush=True)
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(env)
    lock_file = env / "requirements.lock"
    lock_file.write_text(lock_text, encoding="utf-8")
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "install", "--require-hashes", "-r", str(lock_file)], check=True)
    # The project itself: editable, no dependency resolution (everything is pinned above),
    # no build isolation (hatchling comes from the lock, so no unpinned download).
    if project:
        subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", "-e", str(ROOT)], check=True)
    if not with_qt:
        # Belt and braces: prove the environment really has no Qt.
        probe = subprocess.run(
            [str(python), "-c", "import importlib.util,sys; sys.exit(importlib.util.find_spec('PySide6') is not None)"]
        )
        if probe.returncode != 0:
            raise SystemExit("[bootstrap] .venv-noqt unexpectedly contains PySide6")
    stamp.write_text(stamp_value)
    return python


def _step(title: str, cmd: list[str], env: dict[str, str] | None = None) -> bool:
    print(f"\n[bootstrap] === {title} ===", flush=True)
    result = subprocess.run(cmd, cwd=ROOT, env=env)
    ok = result.returncode == 0
    print(f"[bootstrap] {title}: {'ok' if ok else f'FAILED (exit {result.returncode})'}", flush=True)
    return ok


def _warning_step(title: str, cmd: list[str], env: dict[str, str] | None = None) -> str:
    """A step whose failure is only a warning: its line for the summary."""
    print(f"\n[bootstrap] === {title} ===", flush=True)
    code = subprocess.run(cmd, cwd=ROOT, env=env).returncode
    if code == 0:
        line = f"ok     {title}"
    elif code == 5:  # pytest: no test selected (e.g. extra arguments that pick none of them)
        line = f"none   {title}: no test selected"
    else:
        line = f"WARN   {title}: failed (exit {code}); a warning, not counted in the exit status"
    print(f"[bootstrap] {line}", flush=True)
    return line


def run_tests(extra: list[str]) -> int:
    python = _ensure_env(ROOT / ".venv", with_qt=True)
    if sys.version_info < (3, 13):
        # The k-anonymity cross-check against pycanon (tests/core/test_pycanon_agreement.py). pycanon
        # pins numpy 2.0.2, which has wheels only up to Python 3.12; newer Pythons skip that test.
        _ensure_env(
            ROOT / ".venv-pycanon",
            with_qt=False,
            project=False,
            lock_text=(ROOT / "tests" / "pycanon" / "requirements.lock").read_text(encoding="utf-8"),
        )
    headless = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUTF8="1")
    results = {
        "import contracts": _step(
            "import contracts (core and cli are Qt-free; the core is layered one way)",
            [str(_bin(ROOT / ".venv", "lint-imports"))],
        ),
        "mypy": _step("mypy on pseudodesk.core", [str(python), "-m", "mypy"]),
        "ruff check": _step("ruff check (lint)", [str(_bin(ROOT / ".venv", "ruff")), "check", *LINTED]),
        "ruff format --check": _step(
            "ruff format --check (layout)", [str(_bin(ROOT / ".venv", "ruff")), "format", "--check", *LINTED]
        ),
        "pytest": _step("pytest: whole suite, Qt offscreen", [str(python), "-m", "pytest", *extra], env=headless),
    }
    noqt_python = _ensure_env(ROOT / ".venv-noqt", with_qt=False)
    results["pytest without Qt"] = _step(
        "pytest: tests/core and tests/cli in an environment without PySide6",
        [
            str(noqt_python),
            "-m",
            "pytest",
            "-p",
            "no:pytestqt",
            "-W",
            "ignore::pytest.PytestConfigWarning",
            "tests/core",
            "tests/cli",
            *extra,
        ],
        env=headless,
    )
    # Wall-clock limits depend on the machine and its load: a slow run is worth a warning,
    # not a failed test command.
    performance = _warning_step(
        "pytest -m performance: wall-clock limits (a failure only warns)",
        [str(python), "-m", "pytest", "-m", "performance", *extra],
        env=headless,
    )
    print("\n[bootstrap] summary:")
    for name, ok in results.items():
        print(f"  {'ok    ' if ok else 'FAILED'} {name}")
    print(f"  {performance}")
    return 0 if all(results.values()) else 1


def run_app(extra: list[str]) -> int:
    python = _ensure_env(ROOT / ".venv", with_qt=True)
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    ):
        print(
            "[bootstrap] no screen found (DISPLAY is not set). On a Linux machine without a desktop,\n"
            "            run:  xvfb-run -a python3 installer/bootstrap.py app",
            file=sys.stderr,
        )
        return 1
    return subprocess.run([str(python), "-m", "pseudodesk.gui", "--demo", *extra], cwd=ROOT).returncode


def take_screenshots(extra: list[str]) -> int:
    """docs/screenshots from a real window (under Xvfb at 1280x900 when there is no screen),
    then every step again at 150% scaling on a 1024x768 screen."""
    python = _ensure_env(ROOT / ".venv", with_qt=True)
    script = [str(python), str(ROOT / "tools" / "take_screenshots.py"), *extra]
    prefix: list[str] = []
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        xvfb = shutil.which("xvfb-run")
        if xvfb is None:
            print("[bootstrap] screenshots need a screen or xvfb-run (apt-get install xvfb xauth)", file=sys.stderr)
            return 1
        prefix = [xvfb, "-a", "-s", "-screen 0 1280x900x24"]
    first = subprocess.run([*prefix, *script], cwd=ROOT).returncode
    small = [prefix[0], "-a", "-s", "-screen 0 1024x768x24"] if prefix else []  # a small laptop at 150%
    scaled = subprocess.run(
        [*small, *script, "--only-scaled"], cwd=ROOT, env=dict(os.environ, QT_SCALE_FACTOR="1.5")
    ).returncode
    return first or scaled


def run_benchmark(extra: list[str]) -> int:
    """benchmarks/run.py in .venv-bench (the app without Qt, plus pyarrow, pandas, openpyxl, matplotlib)."""
    python = _ensure_env(ROOT / ".venv-bench", with_qt=False, lock_text=_bench_lock())
    return subprocess.run([str(python), str(ROOT / "benchmarks" / "run.py"), *extra], cwd=ROOT).returncode


# `python -c _SAYS PROGRAM TEXT`: PROGRAM --version prints exactly TEXT.
_SAYS = (
    "import subprocess, sys; out = subprocess.run([sys.argv[1], '--version'], capture_output=True, text=True)"
    ".stdout.strip(); print(out); sys.exit(out != sys.argv[2])"
)


def build(extra: list[str]) -> int:
    """The onedir folder from installer/pseudodesk.spec, then the frozen self-test and demo."""
    lock = (
        LOCK.read_text(encoding="utf-8")
        + "\n"
        + _extra_entries(ROOT / "installer" / "requirements-build.lock", LOCK.read_text(encoding="utf-8"))
    )
    python = _ensure_env(ROOT / ".venv-build", with_qt=True, lock_text=lock)
    done = subprocess.run(
        [
            str(python),
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--distpath",
            str(ROOT / "dist"),
            "--workpath",
            str(ROOT / "build"),
            str(ROOT / "installer" / "pseudodesk.spec"),
            *extra,
        ],
        cwd=ROOT,
    )
    if done.returncode:
        return done.returncode
    folder = ROOT / "dist" / "pseudodesk"
    cli = folder / ("pseudodesk-cli.exe" if os.name == "nt" else "pseudodesk-cli")
    gui = folder / ("pseudodesk.exe" if os.name == "nt" else "pseudodesk")
    smoke_env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    results = {
        "frozen selftest": _step(
            "frozen pseudodesk-cli selftest", [str(cli), "selftest", "--log", str(ROOT / "build" / "selftest.log")]
        ),
        "frozen demo": _step(
            "frozen pseudodesk-cli demo", [str(cli), "demo", "--out", str(ROOT / "build" / "frozen-demo")]
        ),
        "frozen window": _step(
            "frozen window, --demo --smoke offscreen", [str(gui), "--demo", "--smoke"], env=smoke_env
        ),
    }
    results["bundle: size budget, left-out parts"] = _step(
        "bundle check: size, file count, biggest parts, nothing left out has come back",
        [sys.executable, str(ROOT / "installer" / "bundle_check.py"), str(folder)],
    )
    results["PE files: the release job signs each"] = _step(
        "PE files and whether the release job signs each (none on Linux; the Windows workflow lists them)",
        [sys.executable, str(ROOT / "installer" / "pe_files.py"), str(folder)],
    )
    version = release_version()
    results["frozen version is pyproject's"] = _step(
        f"frozen pseudodesk-cli --version says {version}",
        [sys.executable, "-c", _SAYS, str(cli), f"pseudodesk {version}"],
    )
    wixl = shutil.which("wixl")
    if wixl is not None:
        msi = ROOT / "dist" / f"pseudodesk-{version}.msi"
        results["MSI: version, upgrades, size (wixl, msiinfo)"] = (
            _step("WiX file list", [str(python), str(ROOT / "installer" / "wix_files.py"), str(folder)])
            # wixl wants source paths relative to where it runs (the repository)
            and _step(
                "wixl",
                [
                    wixl,
                    "-a",
                    "x64",
                    "-D",
                    f"Version={file_version()}",
                    "-D",
                    f"SourceDir={folder.relative_to(ROOT).as_posix()}",
                    "-o",
                    str(msi),
                    str(ROOT / "installer" / "pseudodesk.wxs"),
                ],
            )
            and _step(
                "MSI check: Property and Upgrade tables, what it does over older and newer versions",
                [sys.executable, str(ROOT / "installer" / "msi_check.py"), str(msi)],
            )
        )
    elif os.environ.get("CI") and sys.platform.startswith("linux"):  # Windows CI checks the WiX v3 MSI instead
        results["MSI: version, upgrades, size (wixl, msiinfo)"] = False
        print("[bootstrap] wixl is missing (apt-get install wixl msitools); CI must check the MSI source", flush=True)
    print("\n[bootstrap] build summary:")
    for name, ok in results.items():
        print(f"  {'ok    ' if ok else 'FAILED'} {name}")
    return 0 if all(results.values()) else 1


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - any python3 may run this file; say why it stops
        print("pseudodesk needs Python 3.11 or newer", file=sys.stderr)
        return 2
    if not argv or argv[0] not in {"app", "test", "setup", "screenshots", "bench", "build"}:
        print(__doc__)
        return 2
    command, extra = argv[0], argv[1:]
    if command == "test":
        return run_tests(extra)
    if command == "app":
        return run_app(extra)
    if command == "screenshots":
        return take_screenshots(extra)
    if command == "bench":
        return run_benchmark(extra)
    if command == "build":
        return build(extra)
    _ensure_env(ROOT / ".venv", with_qt=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
