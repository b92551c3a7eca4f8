"""Check what an IT department relies on in the MSI: its version, its identity and its upgrade rules.

    python installer/msi_check.py dist/pseudodesk-1.2.3.msi [--version 1.2.3.57] [--max-mb 100]

Reads the MSI's own tables (``msiinfo export`` from msitools on Linux, Python's ``msilib`` on
Windows), so it checks the built file, not the source:

- Property: ProductVersion is this build's file version (installer/versioning.py), UpgradeCode
  is pseudodesk's fixed one, ProductCode is a fresh GUID, ALLUSERS is 1 (per machine), and the
  upgrade properties are secure (passed to the per-machine part of the install).
- Upgrade, LaunchCondition and InstallExecuteSequence, read the way Windows Installer reads
  them: an installed older release, or another build of this release, is found and removed
  (RemoveExistingProducts); an installed newer release is found and the install is refused
  with a message (a launch condition, so it is in the log of a silent install).
- CustomAction and InstallExecuteSequence: the installed pseudodesk-cli's self-test runs after
  InstallFiles, deferred, on install only, and its failure fails (and rolls back) the install.
- Size: the MSI is no bigger than its budget (MAX_MSI_MB, or ``--max-mb``) in megabytes (10^6 bytes).

Exit status 0 when every check holds, 1 otherwise (each failure printed). bootstrap.py build
runs it on the wixl MSI; the Windows workflow runs it on the MSI that WiX v3 makes.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

UPGRADE_CODE = "{3C5E2A8B-1F4D-4B6A-9E2C-7D8F0A1B2C3D}"  # pseudodesk's, for ever (installer/pseudodesk.wxs)
# The largest MSI allowed, in MB (10^6 bytes), per operating system that builds it (docs/deployment.md,
# "Size"): WiX v3 on Windows (LZX) packs the Windows folder; wixl on Linux packs the larger Linux
# folder with weaker compression, so its budget only guards against growth.
MAX_MSI_MB = {"win32": 100, "linux": 210}
_GUID = re.compile(r"\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}")
ONLY_DETECT = 0x2  # Upgrade.Attributes bits (Windows Installer's Upgrade table)
MIN_INCLUSIVE = 0x100
MAX_INCLUSIVE = 0x200
LANGUAGES_EXCLUSIVE = 0x400

Table = list[dict[str, str]]


def read_table(msi: Path, name: str) -> Table:
    """The rows of table ``name`` as column -> text ("" for a null)."""
    if shutil.which("msiinfo"):
        return _parse_export(
            subprocess.run(["msiinfo", "export", str(msi), name], check=True, capture_output=True, text=True).stdout
        )
    if sys.platform == "win32":
        return _msilib_table(msi, name)
    raise SystemExit("msi_check: needs msiinfo (apt-get install msitools) or Windows' msilib")


def _parse_export(text: str) -> Table:
    """An ``msiinfo export`` (.idt) text: column names, column types, the table's name, then rows."""
    lines = text.splitlines()
    if len(lines) < 3:
        return []
    columns = lines[0].split("\t")
    rows = []
    for line in lines[3:]:
        cells = line.split("\t")
        rows.append(dict(zip(columns, cells + [""] * (len(columns) - len(cells)))))
    return rows


def _msilib_table(msi: Path, name: str) -> Table:  # pragma: no cover - Windows only
    import msilib  # Windows' own MSI API (Python 3.11 and 3.12)

    database = msilib.OpenDatabase(str(msi), msilib.MSIDBOPEN_READONLY)
    try:
        view = database.OpenView(f"SELECT * FROM `{name}`")
    except msilib.MSIError:  # the table does not exist in this MSI
        return []
    view.Execute(None)
    info = view.GetColumnInfo(msilib.MSICOLINFO_NAMES)
    columns = [info.GetString(i + 1) for i in range(info.GetFieldCount())]
    rows = []
    while True:
        try:
            record = view.Fetch()
        except msilib.MSIError:
            break
        if record is None:
            break
        rows.append({c: ("" if record.IsNull(i + 1) else record.GetString(i + 1)) for i, c in enumerate(columns)})
    view.Close()
    return rows


def _triple(version: str) -> tuple[int, int, int]:
    """What Windows Installer compares of a version: its first three parts."""
    parts = [int(p) for p in version.split(".")] + [0, 0, 0]
    return parts[0], parts[1], parts[2]


@dataclass(frozen=True)
class Tables:
    properties: dict[str, str]
    upgrade: Table
    launch: Table
    sequence: Table
    custom_actions: Table = field(default_factory=list)
    files: Table = field(default_factory=list)

    @classmethod
    def of(cls, msi: Path) -> Tables:
        return cls(
            {row["Property"]: row["Value"] for row in read_table(msi, "Property")},
            read_table(msi, "Upgrade"),
            read_table(msi, "LaunchCondition"),
            read_table(msi, "InstallExecuteSequence"),
            read_table(msi, "CustomAction"),
            read_table(msi, "File"),
        )


def installing_over(tables: Tables, installed: str) -> str:
    """What this MSI does on a PC where pseudodesk ``installed`` (another ProductCode) is present,
    as Windows Installer decides it: "replaces", "refuses: <message>" or "installs beside it"."""
    found: set[str] = set()
    removes = False
    version = _triple(installed)
    for row in tables.upgrade:
        if row["UpgradeCode"].upper() != tables.properties.get("UpgradeCode", "").upper():
            continue
        attributes = int(row["Attributes"] or 0)
        if row["VersionMin"]:
            low = _triple(row["VersionMin"])
            if version < low or (version == low and not attributes & MIN_INCLUSIVE):
                continue
        if row["VersionMax"]:
            high = _triple(row["VersionMax"])
            if version > high or (version == high and not attributes & MAX_INCLUSIVE):
                continue
        found.add(row["ActionProperty"])
        removes = removes or not attributes & ONLY_DETECT
    for row in tables.launch:
        match = re.fullmatch(r"\s*NOT\s+(\w+)\s*", row["Condition"])
        if match is None:
            return f"cannot tell: launch condition {row['Condition']!r} is not of the form NOT PROPERTY"
        if match.group(1) in found:
            return f"refuses: {row['Description']}"
    if removes:
        return "replaces"
    return "installs beside it"


def problems(tables: Tables, expected_version: str) -> list[str]:
    """Every way the MSI's tables fall short (empty when it is deployable)."""
    found: list[str] = []
    p = tables.properties
    if p.get("ProductVersion") != expected_version:
        found.append(f"ProductVersion is {p.get('ProductVersion')!r}, expected {expected_version!r}")
    if p.get("UpgradeCode", "").upper() != UPGRADE_CODE:
        found.append(f"UpgradeCode is {p.get('UpgradeCode')!r}, expected pseudodesk's {UPGRADE_CODE}")
    code = p.get("ProductCode", "").upper()
    if not _GUID.fullmatch(code) or code == UPGRADE_CODE:
        found.append(f"ProductCode {p.get('ProductCode')!r} is not a GUID of its own")
    if p.get("ALLUSERS") != "1":
        found.append(f"ALLUSERS is {p.get('ALLUSERS')!r}, expected 1 (a per-machine install)")
    secure = set(p.get("SecureCustomProperties", "").split(";"))
    for row in tables.upgrade:
        if row["ActionProperty"] not in secure:
            found.append(f"{row['ActionProperty']} is not in SecureCustomProperties")
        if row["Language"] or int(row["Attributes"] or 0) & LANGUAGES_EXCLUSIVE:
            found.append(f"the Upgrade row for {row['ActionProperty']} is limited to languages {row['Language']!r}")
    actions = {row["Action"]: int(row["Sequence"] or 0) for row in tables.sequence}
    order = (
        "FindRelatedProducts",
        "LaunchConditions",
        "InstallInitialize",
        "RemoveExistingProducts",
        "InstallFinalize",
    )
    missing = [action for action in order if action not in actions]
    if missing:
        found.append(f"InstallExecuteSequence has no {', '.join(missing)}")
    elif [actions[action] for action in order] != sorted(actions[action] for action in order):
        found.append(
            "InstallExecuteSequence must find related products, check the launch conditions, then remove the "
            "old version inside the install's transaction (between InstallInitialize and InstallFinalize)"
        )
    a, b, c = _triple(expected_version)
    cases = {
        "an older release": ("0.0.1" if (a, b, c) > (0, 0, 1) else None, "replaces"),
        "an earlier patch": (f"{a}.{b}.{c - 1}" if c else None, "replaces"),
        "another build of this release": (f"{a}.{b}.{c}.0", "replaces"),
        "a newer patch": (f"{a}.{b}.{c + 1}", "refuses"),
        "a newer release": (f"{a}.{b + 1}.0", "refuses"),
    }
    for case, (installed, expected) in cases.items():
        if installed is None:
            continue
        outcome = installing_over(tables, installed)
        if not outcome.startswith(expected):
            found.append(f"over {case} ({installed}) the MSI {outcome}; it must say it {expected}")
        elif expected == "refuses" and "newer" not in outcome.lower():
            found.append(f"refusing {case}, the message does not say a newer version is installed: {outcome}")
    return found


EXE_FROM_INSTALLED_FILE = 0x12  # CustomAction.Type: base type 18, a program the install put in place
TYPE_BASE = 0x3F
CONTINUE = 0x40  # the exit code is ignored
IN_SCRIPT = 0x400  # deferred: runs in the install's transaction (a failure rolls it back)
NO_IMPERSONATE = 0x800  # as the installer service, not the user


def selftest_problems(tables: Tables) -> list[str]:
    """The installed pseudodesk-cli's self-test must run after the files are in place, inside the
    install's transaction, on install only, and its failure must fail the install."""
    cli = {
        row["File"]
        for row in tables.files
        if row["FileName"].split("|")[-1] in ("pseudodesk-cli.exe", "pseudodesk-cli")
    }
    actions = [
        row
        for row in tables.custom_actions
        if row["Source"] in cli
        and int(row["Type"] or 0) & TYPE_BASE == EXE_FROM_INSTALLED_FILE
        and row["Target"].split()[:1] == ["selftest"]
    ]
    if not actions:
        return ["no custom action runs the installed pseudodesk-cli selftest"]
    found = []
    action = actions[0]
    kind = int(action["Type"])
    if kind & CONTINUE:
        found.append(
            f"{action['Action']} ignores the self-test's exit code: a failed self-test would not fail the install"
        )
    if not kind & IN_SCRIPT or not kind & NO_IMPERSONATE:
        found.append(f"{action['Action']} must be deferred and not impersonate (type {kind})")
    steps = {row["Action"]: row for row in tables.sequence}
    step = steps.get(action["Action"])
    if step is None:
        return [*found, f"{action['Action']} is not in InstallExecuteSequence"]
    number = int(step["Sequence"] or 0)
    if (
        not int(steps.get("InstallFiles", {}).get("Sequence") or 0)
        < number
        < int(steps.get("InstallFinalize", {}).get("Sequence") or 0)
    ):
        found.append(f"{action['Action']} must run after InstallFiles and before InstallFinalize")
    if "REMOVE" not in step["Condition"]:
        found.append(f"{action['Action']} would also run when uninstalling (condition {step['Condition']!r})")
    return found


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from versioning import file_version

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("msi", type=Path)
    parser.add_argument("--version", default=None, help="expected ProductVersion (default: this build's)")
    platform = "win32" if sys.platform == "win32" else "linux"
    parser.add_argument("--max-mb", type=float, default=MAX_MSI_MB[platform], help="largest size allowed, in MB")
    args = parser.parse_args(argv)
    expected = args.version or file_version()
    tables = Tables.of(args.msi)
    found = problems(tables, expected) + selftest_problems(tables)
    size = args.msi.stat().st_size
    if size > args.max_mb * 1_000_000:
        found.append(f"the MSI is {size / 1e6:.1f} MB, over the {args.max_mb:g} MB allowed")
    p = tables.properties
    print(f"{args.msi.name}: {p.get('ProductName')} {p.get('ProductVersion')}, {size / 1e6:.1f} MB")
    print(f"  UpgradeCode {p.get('UpgradeCode')}  ProductCode {p.get('ProductCode')}")
    for installed in ("0.0.1", expected, "999.0.0"):
        print(f"  installed over {installed}: {installing_over(tables, installed)}")
    for problem in found:
        print(f"  PROBLEM: {problem}")
    print("MSI check: " + ("ok" if not found else f"{len(found)} problem(s)"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
