"""Measure the built folder and fail when it outgrows its budget or takes back what was left out.

    python installer/bundle_check.py dist/pseudodesk [--max-mib N]

Prints the folder's size (MiB, 2^20 bytes) and file count, the biggest top-level parts and
the biggest files, then checks:

- the size is within the budget for this operating system (BUDGET_MIB; ``--max-mib`` overrides);
- nothing the spec leaves out is back (LEFT_OUT: Qt's network and TLS pieces, translations,
  Arrow Flight and the S3 file system...): a new dependency or a PyInstaller hook that brings
  them back fails the build rather than shipping silently.

bootstrap.py build runs it on Linux and Windows. Standard library only.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

MIB = 1 << 20
# The folder's budget per operating system. Windows is the folder that ships (docs/deployment.md,
# "Size"). The Linux folder (the CI build) also carries what Windows provides itself: ICU's data
# (Qt on Linux, 37 MiB), the C++ runtime, X11, fontconfig, glib and CUPS libraries (about 40 MiB).
BUDGET_MIB = {"win32": 200, "linux": 305, "darwin": 305}
_SEP = r"[/\\]"
LEFT_OUT = {
    "Qt's network module": r"(^|[/\\])(lib)?Qt6?Network",
    "Qt's TLS and network-information plugins": (
        rf"PySide6{_SEP}(Qt{_SEP})?plugins{_SEP}(tls|networkinformation){_SEP}"
    ),
    "Qt's translations": rf"PySide6{_SEP}(Qt{_SEP})?translations{_SEP}",
    "Qt's software OpenGL and Direct3D compiler": r"(^|[/\\])(opengl32sw|d3dcompiler_\d+)\.dll$",
    "Arrow Flight (network RPC)": r"(^|[/\\])(lib)?arrow_(python_)?flight|pyarrow[/\\]_flight\.",
    "Arrow's cloud file systems (S3, GCS, HDFS, Azure)": (
        r"(^|[/\\])(lib)?arrow_s3|pyarrow[/\\]_(s3fs|gcsfs|hdfs|azurefs)\."
    ),
    "Arrow's C++ headers": rf"pyarrow{_SEP}include{_SEP}",
    "HTTP clients and CA bundles (requests, urllib3, certifi)": (
        rf"(^|[/\\])(requests|urllib3|certifi|charset_normalizer){_SEP}"
    ),
}


def files_of(folder: Path) -> list[tuple[int, str]]:
    """(size, path relative to the folder) of every regular file; symbolic links are not counted."""
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            found.append((path.stat().st_size, path.relative_to(folder).as_posix()))
    return found


def parts(files: list[tuple[int, str]]) -> dict[str, int]:
    """Bytes per top-level part: the package folder under _internal (``pyarrow``, ``PySide6``), else the file."""
    sizes: dict[str, int] = {}
    for size, name in files:
        pieces = name.split("/")
        key = "/".join(pieces[:2]) if pieces[0] == "_internal" and len(pieces) > 2 else name
        sizes[key] = sizes.get(key, 0) + size
    return sizes


def problems(files: list[tuple[int, str]], budget_mib: float) -> list[str]:
    found = []
    total = sum(size for size, _ in files)
    if total > budget_mib * MIB:
        found.append(f"the folder is {total / MIB:.1f} MiB, over its budget of {budget_mib:g} MiB")
    for what, pattern in LEFT_OUT.items():
        back = sorted(name for _, name in files if re.search(pattern, name, re.IGNORECASE))
        if back:
            more = f" and {len(back) - 3} more" if len(back) > 3 else ""
            found.append(f"left out, but back in the folder: {what} ({', '.join(back[:3])}{more})")
    return found


def report(folder: Path, files: list[tuple[int, str]], top: int = 12) -> str:
    total = sum(size for size, _ in files)
    lines = [f"{folder}: {total / MIB:.1f} MiB in {len(files):,} files"]
    lines.append("  biggest parts:")
    for name, size in sorted(parts(files).items(), key=lambda item: -item[1])[:top]:
        lines.append(f"    {size / MIB:7.1f} MiB  {name}")
    lines.append("  biggest files:")
    for size, name in sorted(files, reverse=True)[:top]:
        lines.append(f"    {size / MIB:7.1f} MiB  {name}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("folder", type=Path, nargs="?", default=Path("dist/pseudodesk"))
    parser.add_argument("--max-mib", type=float, default=None, help="the budget (default: this OS's)")
    args = parser.parse_args(argv)
    platform = "linux" if sys.platform.startswith("linux") else sys.platform
    budget = args.max_mib if args.max_mib is not None else BUDGET_MIB.get(platform, BUDGET_MIB["linux"])
    files = files_of(args.folder)
    print(report(args.folder, files))
    found = problems(files, budget)
    for problem in found:
        print(f"  PROBLEM: {problem}")
    print(f"bundle check (budget {budget:g} MiB): " + ("ok" if not found else f"{len(found)} problem(s)"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
