"""Every Windows program file (PE: .exe, .dll, .pyd...) in the built folder, and whether the release
job signs it.

    python installer/pe_files.py dist/pseudodesk                        # the list, and the check
    python installer/pe_files.py dist/pseudodesk --to-sign build/to-sign.txt   # what the release job signs

A file is a PE file by its content (``MZ``, then ``PE\\0\\0`` where the DOS header points), not by
its name. The release job (.github/workflows/windows.yml, job ``release``) signs exactly the files
``--to-sign`` lists: those whose names end in SIGNED_SUFFIXES. The check fails (exit 1) when a PE
file would not be signed (a wheel shipping a DLL under another name) or when a listed file is not
a PE file (signtool would refuse it): AppLocker and WDAC publisher rules for DLLs then hold for
every file. Outside the folder, the release job also signs the per-user setup (and, through Inno
Setup's SignTool, the uninstaller it writes) and the MSI.

bootstrap.py build runs the check on Linux too, where the folder holds no PE file (ELF instead);
the Windows workflow runs it on the Windows folder. Standard library only.
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

SIGNED_SUFFIXES = (".exe", ".dll", ".pyd")  # the release job's rule (installer/sign.ps1 signs the list)
OUTSIDE_THE_FOLDER = (
    "pseudodesk-<version>-setup.exe (per-user installer; signed by sign.ps1 through Inno Setup's SignTool)",
    "unins000.exe (the uninstaller the setup writes; signed by Inno Setup's SignTool, SignedUninstaller=yes)",
    "pseudodesk-<version>.msi (signed by sign.ps1 after WiX builds it)",
)


def is_pe(path: Path) -> bool:
    """Whether ``path`` is a Windows PE image (executable, DLL, Python extension)."""
    try:
        with path.open("rb") as f:
            header = f.read(64)
            if len(header) < 64 or header[:2] != b"MZ":
                return False
            (offset,) = struct.unpack_from("<I", header, 0x3C)
            f.seek(offset)
            return f.read(4) == b"PE\0\0"
    except OSError:
        return False


def signed_by_release(relative: str) -> bool:
    return relative.lower().endswith(SIGNED_SUFFIXES)


def survey(folder: Path) -> tuple[list[str], list[str], list[str]]:
    """(PE files, files the release job signs, problems), paths relative to ``folder``."""
    pe, to_sign = [], []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        relative = path.relative_to(folder).as_posix()
        if is_pe(path):
            pe.append(relative)
        if signed_by_release(relative):
            to_sign.append(relative)
    problems = [f"{name} is a PE file the release job would not sign" for name in pe if not signed_by_release(name)]
    problems += [
        f"{name} is not a PE file, but the release job would try to sign it" for name in to_sign if name not in pe
    ]
    return pe, to_sign, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("folder", type=Path, nargs="?", default=Path("dist/pseudodesk"))
    parser.add_argument("--to-sign", type=Path, metavar="FILE", help="write the full paths of the files to sign here")
    args = parser.parse_args(argv)
    pe, to_sign, problems = survey(args.folder)
    print(f"{args.folder}: {len(pe)} PE file(s); the release job signs {len(to_sign)}")
    for name in pe:
        print(f"  {'signed    ' if signed_by_release(name) else 'NOT SIGNED'}  {name}")
    if not pe:
        print("  (no PE file: a Linux or macOS build; the Windows workflow lists the Windows folder's)")
    print("outside the folder, the release job also signs:")
    for item in OUTSIDE_THE_FOLDER:
        print(f"  signed      {item}")
    for problem in problems:
        print(f"  PROBLEM: {problem}")
    if args.to_sign is not None:
        args.to_sign.parent.mkdir(parents=True, exist_ok=True)
        lines = [str((args.folder / name).resolve()) for name in to_sign]
        args.to_sign.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    print("PE check: " + ("ok" if not problems else f"{len(problems)} problem(s)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
