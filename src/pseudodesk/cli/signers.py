"""pseudodesk-cli signers: the partner installations whose packages this recipient accepts."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pseudodesk.cli.common import EXIT_OK, EXIT_USAGE

COMMANDS = {"signers"}


def add_parser(sub: Any) -> None:
    p = sub.add_parser("signers", help="the partner installations whose packages you accept (recipients)")
    actions = p.add_subparsers(dest="signers_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="vouch for a partner installation, after confirming its fingerprint")
    add.add_argument("fingerprint", help="the partner's installation fingerprint (pseudodesk-cli audit public-key)")
    add.add_argument("--name", required=True, help="whose installation it is (organisation and team)")
    add.add_argument("--yes", action="store_true", help="you confirmed the fingerprint with the partner by phone")
    actions.add_parser("list", help="the installations you accept packages from")
    remove = actions.add_parser("remove", help="stop accepting packages from an installation")
    remove.add_argument("fingerprint")


def run(args: argparse.Namespace) -> int:
    from pseudodesk.cli.keys import store
    from pseudodesk.core.fingerprint import normalise_fingerprint
    from pseudodesk.core.keys.signers import add_signer, known_signers, remove_signer

    keys = store()
    if args.signers_command == "list":
        for fingerprint, name in sorted(known_signers(keys).items(), key=lambda item: item[1]):
            print(f"{fingerprint}  {name}")
        return EXIT_OK
    if args.signers_command == "remove":
        remove_signer(keys, args.fingerprint)
        print(f"removed {normalise_fingerprint(args.fingerprint)}")
        return EXIT_OK
    if not args.yes:
        if not sys.stdin.isatty():
            print("pseudodesk: confirm the fingerprint with the partner by phone, then add --yes", file=sys.stderr)
            return EXIT_USAGE
        shown = normalise_fingerprint(args.fingerprint)
        answer = input(f"Did {args.name} read you the fingerprint {shown} over the phone? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("not added", file=sys.stderr)
            return EXIT_USAGE
    printed = add_signer(keys, args.fingerprint, args.name)
    print(f"packages signed by {printed} ({args.name}) are now accepted")
    return EXIT_OK
