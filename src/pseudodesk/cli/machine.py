"""This computer: pseudodesk-cli policy (what the machine policy enforces, docs/deployment.md) and
selftest (the cryptography proved here; the installers run it with --log)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pseudodesk.cli.common import EXIT_BLOCKED, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE
from pseudodesk.core.errors import ExportError

COMMANDS = {"policy", "retire"}


def add_parsers(sub: Any) -> None:
    sub.add_parser("policy", help="what this computer's machine policy (set by IT) allows, and its folders")
    r = sub.add_parser(
        "retire",
        help="retiring this PC: hand the audit log over to the IG lead, then remove this user's pseudodesk "
        "keys, data and settings (lists them and changes nothing without --yes)",
    )
    r.add_argument("--audit-to", type=Path, metavar="FOLDER", help="where the audit log is handed over (needed)")
    r.add_argument("--yes", action="store_true", help="remove them: the keys cannot be recovered from this PC")
    r.add_argument(
        "--accept-unverified-audit",
        action="store_true",
        help="remove them although the audit log does not verify (the IG lead has the copy)",
    )


def run(args: argparse.Namespace) -> int:
    if args.command == "policy":
        return _policy()
    if args.command == "retire":
        return _retire(args)
    return EXIT_USAGE


def _retire(args: argparse.Namespace) -> int:
    from pseudodesk.cli.keys import store
    from pseudodesk.core.host import machine_name, os_user
    from pseudodesk.core.keys.retire import hand_over_audit, plan_retirement, remove_installation

    keys = store()
    plan = plan_retirement(keys)
    print(f"pseudodesk on {machine_name()} for {os_user()}: this removes")
    print("\n".join(f"  {line}" for line in plan.lines()))
    if not args.yes:
        print(
            "Nothing was changed. Export every key still needed elsewhere first (pseudodesk-cli keys export), "
            "then run again with --audit-to FOLDER --yes."
        )
        return EXIT_OK
    if plan.audit_log and args.audit_to is None:
        print("pseudodesk: give --audit-to FOLDER: the audit log is handed over before anything is removed.",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    if plan.audit_log:
        handover = hand_over_audit(keys, args.audit_to)
        if handover.recorded:
            print(f"note: the retirement could not be recorded in the audit log ({handover.recorded})")
        print(f"audit log handed over to {handover.folder}: {handover.entries:,} entries")
        for name, digest in handover.files.items():
            print(f"  {name}  SHA-256 {digest}")
        if not handover.verified:
            print("  the log does NOT verify: " + "; ".join(handover.problems[:3]))
            if not args.accept_unverified_audit:
                print(
                    "Nothing was removed: give the folder to the IG lead. To remove all the same: "
                    "--accept-unverified-audit",
                    file=sys.stderr,
                )
                return EXIT_BLOCKED
    for line in remove_installation(keys, plan):
        print(line)
    print("Done. Uninstall pseudodesk itself from Apps and features (or msiexec /x) if it is no longer needed.")
    return EXIT_OK


def _policy() -> int:
    from pseudodesk.core.policy import machine_policy

    policy = machine_policy()
    print("\n".join(policy.lines()))
    return EXIT_BLOCKED if policy.problem else EXIT_OK


def warn_unusable_policy() -> None:
    """At start: a policy file that cannot be used is said once, before anything it refuses."""
    from pseudodesk.core.policy import machine_policy

    policy = machine_policy()
    if policy.problem:
        print(
            f"pseudodesk: this computer's policy ({policy.path}) cannot be used: {policy.problem}. Exports "
            "under unapproved profiles, key imports and the demo are refused until IT corrects it.",
            file=sys.stderr,
        )


def default_output_folder() -> Path:
    """``run``'s folder when --out is not given: the policy's default_output_folder, or a usage error."""
    from pseudodesk.core.policy import machine_policy

    folder = machine_policy().folder("default_output_folder")
    if folder is None:
        raise ExportError("No output folder: give --out FOLDER (this computer's policy sets no default_output_folder).")
    print(f"output folder: {folder} (the machine policy's default_output_folder)", file=sys.stderr)
    return folder


def append_selftest_log(path: Path, lines: list[str], ok: bool) -> None:
    """Append a self-test's lines to ``path`` (the installers pass one: IT reads why an install
    failed there). A log that cannot be written is said on stderr; it never changes the result."""
    import datetime as dt

    from pseudodesk import __version__
    from pseudodesk.core.host import machine_name

    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    head = f"{stamp} pseudodesk {__version__} self-test on {machine_name()} ({sys.executable}): "
    body = "\n".join(f"  {line}" for line in lines)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(head + ("passed" if ok else "FAILED") + "\n" + body + "\n")
    except OSError as error:
        print(f"pseudodesk: the self-test log {path} cannot be written ({error.strerror}).", file=sys.stderr)


def selftest(log: Path | None) -> int:
    """pseudodesk-cli selftest [--log FILE]: the installers run it, and fail the install when it fails."""
    from pseudodesk.core.run.selftest import run_selftest

    result = run_selftest()
    status = {True: "ok    ", False: "FAILED"}
    lines = [
        f"{status[c.ok] if c.essential or c.ok else 'note  '} {c.name} ({c.seconds * 1000:.0f} ms): {c.detail}"
        for c in result.checks
    ]
    verdict = "passed" if result.ok else "FAILED: do not export with this installation"
    lines.append(f"self-test {verdict} in {result.seconds:.2f} s")
    print("\n".join(lines))
    if log is not None:
        append_selftest_log(log, lines, result.ok)
    return EXIT_OK if result.ok else EXIT_INTERNAL
