"""pseudodesk-cli inspect and decrypt: exported packages, for IG leads and recipients."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pseudodesk.cli.common import EXIT_BLOCKED, EXIT_OK, ask_secret
from pseudodesk.core.errors import ExportError, OutputExists
from pseudodesk.core.package.inspection import describe_manifest

COMMANDS = {"inspect", "decrypt"}
PASSPHRASE_ENV = "PSEUDODESK_PACKAGE_PASSPHRASE"


def add_parsers(sub: Any) -> None:
    for name, text in (
        ("inspect", "verify an exported package (manifest signature, hashes, content)"),
        ("decrypt", "open a package you are the recipient of, after verifying its manifest"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("package", type=Path, help="the .csv.p7m or .7z file, or its .manifest.json")
        p.add_argument(
            "--signer",
            help="the sender's installation fingerprint, to pin it (default: the installations you "
            "accept: 'pseudodesk-cli signers list')",
        )
        p.add_argument("--certificate", type=Path, help="your certificate (for .csv.p7m)")
        p.add_argument("--private-key", type=Path, help="your certificate's private key, PEM (for .csv.p7m)")
        p.add_argument("--ask-passphrase", action="store_true", help=f"for .7z (or set {PASSPHRASE_ENV})")
        if name == "decrypt":
            p.add_argument("--out", required=True, type=Path, help="where to write the CSV")
            p.add_argument("--overwrite", action="store_true")


def run(args: argparse.Namespace) -> int:
    from pseudodesk.core.files import atomic_output
    from pseudodesk.core.package.inspection import Inspection, inspect_package

    passphrase = None
    if args.package.name.endswith(".7z") and (args.ask_passphrase or args.command == "decrypt"):
        passphrase = ask_secret(f"Passphrase for {args.package.name}", PASSPHRASE_ENV)
    known = None
    if not args.signer:  # the list of installations this recipient vouches for decides
        from pseudodesk.cli.keys import store
        from pseudodesk.core.keys.signers import known_signers

        known = known_signers(store())
    means: dict[str, Any] = dict(
        pinned_fingerprint=args.signer,
        known_signers=known,
        certificate=args.certificate,
        private_key=args.private_key,
        passphrase=passphrase,
    )
    result: Inspection | None = None
    if args.command == "decrypt":
        if args.out.exists() and not args.overwrite:
            raise ExportError(f"{args.out} already exists; choose another name or pass --overwrite.")
        # The CSV is written to a temporary file beside --out while it is decrypted and checked
        # (memory does not grow with the package), renamed into place only if everything
        # verified, deleted otherwise.
        try:
            with atomic_output(args.out, overwrite=args.overwrite) as f:
                result = inspect_package(args.package, sink=f, **means)
                if not (result.ok and result.decrypted):
                    raise _NotVerified()
        except _NotVerified:
            pass
        except OutputExists:  # --out appeared while decrypting: show what was checked, then refuse
            if result is not None:
                _print_checks(result)
            raise
    else:
        result = inspect_package(args.package, **means)
    assert result is not None
    _print_checks(result)
    if args.command == "inspect":
        if result.manifest:
            print(describe_manifest(result.manifest))
        print("package verified" if result.ok else "package NOT verified")
        return EXIT_OK if result.ok else EXIT_BLOCKED
    if not (result.ok and result.decrypted):
        print("not decrypted: the package did not verify", file=sys.stderr)
        return EXIT_BLOCKED
    print(f"decrypted to {args.out}: it holds pseudonymised personal data; keep it as the agreement requires")
    return EXIT_OK


def _print_checks(result: Any) -> None:
    for check in result.checks:
        print(f"  {'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")


class _NotVerified(Exception):
    """Leaves decrypt's atomic output, so that its temporary file is deleted."""
