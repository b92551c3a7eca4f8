"""pseudodesk-cli policy: what this computer's machine policy enforces (docs/deployment.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pseudodesk.cli.common import EXIT_BLOCKED, EXIT_OK, EXIT_USAGE
from pseudodesk.core.errors import ExportError

COMMANDS = {"policy"}


def add_parsers(sub: Any) -> None:
    sub.add_parser("policy", help="what this computer's machine policy (set by IT) allows, and its folders")


def run(args: argparse.Namespace) -> int:
    if args.command == "policy":
        return _policy()
    return EXIT_USAGE


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
