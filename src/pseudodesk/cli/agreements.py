"""pseudodesk-cli agreement: pack (the key custodian), install, list and available (a partner).

``available`` lists the packages in the machine policy's ``agreements_folder`` (where IT puts
them); ``install NAME`` takes a bare file name from that folder when no such file is here.

A package's secrets are never printed. The only secret shown is a passphrase ``pack``
generated, once, to be given to the partner by another route than the file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pseudodesk.cli.common import EXIT_BLOCKED, EXIT_OK, EXIT_USAGE, ask_secret, ask_text, iso_date
from pseudodesk.cli.keys import KEYFILE_ENV, store
from pseudodesk.core.errors import OutputExists
from pseudodesk.core.files import atomic_output
from pseudodesk.core.keys.agreement_package import (
    AGREEMENT_SUFFIX,
)
from pseudodesk.core.keys.agreements import (
    install_agreement,
    installed_agreements,
    pack_agreement,
    package_lines,
    read_agreement_file,
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("agreement", help="agreement packages: pack for a partner, install, list")
    actions = p.add_subparsers(dest="agreement_command", required=True, metavar="ACTION")
    k = actions.add_parser("pack", help="(key custodian) sign a profile, its certificates and its key for a partner")
    k.add_argument("--profile", required=True, type=Path, help="the agreement profile (.toml); names the key")
    k.add_argument("--out", required=True, type=Path, help=f"the {AGREEMENT_SUFFIX} file to write")
    k.add_argument(
        "--partner-certificate",
        type=Path,
        action="append",
        metavar="CERT",
        help="wrap the key to this partner certificate (repeatable); default: a generated passphrase",
    )
    k.add_argument("--ask-passphrase", action="store_true", help=f"type the passphrase ({KEYFILE_ENV})")
    k.add_argument(
        "--valid-from", type=iso_date, metavar="YYYY-MM-DD", help="first day the agreement applies (default: today)"
    )
    k.add_argument("--package-version", type=int, help="the package's version (default: from the packages made before)")
    i = actions.add_parser("install", help="install an agreement package from your key custodian")
    i.add_argument("file", type=Path, help=f"the {AGREEMENT_SUFFIX} file, or its name in IT's agreements folder")
    i.add_argument(
        "--fingerprint", metavar="FP", help="the custodian's fingerprint, as read out by phone (asked when omitted)"
    )
    i.add_argument("--certificate", type=Path, metavar="CERT", help="your certificate, for a package wrapped to it")
    i.add_argument("--private-key", type=Path, metavar="KEY", help="your certificate's private key (PEM)")
    i.add_argument("--local-store", action="store_true", help="keep the key in the passphrase-protected local store")
    actions.add_parser("list", help="the agreements installed on this computer")
    actions.add_parser("available", help="the agreement packages in the agreements folder IT set (machine policy)")


def run(args: argparse.Namespace) -> int:
    if args.agreement_command == "pack":
        return _pack(args)
    if args.agreement_command == "install":
        return _install(args)
    if args.agreement_command == "list":
        return _list()
    if args.agreement_command == "available":
        return _available()
    return EXIT_USAGE


def _package_path(given: Path) -> Path:
    """``given``, or the file of that name in the policy's agreements folder when ``given`` is a bare
    name that is not a file here."""
    from pseudodesk.core.policy import machine_policy

    folder = machine_policy().folder("agreements_folder")
    if given.exists() or folder is None or given.name != str(given):
        return given
    for candidate in (folder / given.name, folder / (given.name + AGREEMENT_SUFFIX)):
        if candidate.is_file():
            print(f"from IT's agreements folder: {candidate}", file=sys.stderr)
            return candidate
    return given


def _available() -> int:
    from pseudodesk.core.errors import PseudodeskError
    from pseudodesk.core.policy import machine_policy

    policy = machine_policy()
    folder = policy.folder("agreements_folder")
    if folder is None:
        reason = f"it cannot be used: {policy.problem}" if policy.problem else "it does not set agreements_folder"
        print(f"pseudodesk: IT has not given an agreements folder (machine policy: {reason}).", file=sys.stderr)
        return EXIT_USAGE
    try:
        packages = sorted(folder.glob("*" + AGREEMENT_SUFFIX))
    except OSError as error:
        print(f"pseudodesk: the agreements folder {folder} cannot be read ({error.strerror}).", file=sys.stderr)
        return EXIT_BLOCKED
    print(f"agreements folder: {folder}")
    if not packages:
        print(f"  no {AGREEMENT_SUFFIX} package in it yet")
    for path in packages:
        try:
            _, package = read_agreement_file(path)
        except PseudodeskError as error:
            print(f"{path.name}: NOT USABLE: {error}")
            continue
        print(f"{path.name}: {package.agreement}, version {package.version}")
        print(f"  valid from {package.valid_from} to the review date {package.review_date}")
        print(f"  custodian: {package.custodian_fingerprint}")
        print(f'  install:   pseudodesk-cli agreement install "{path.name}"')
    return EXIT_OK


def _pack(args: argparse.Namespace) -> int:
    if args.out.exists():
        raise OutputExists(f"{args.out} already exists; choose another name.")
    passphrase = None
    generated = False
    if not args.partner_certificate:
        from pseudodesk.core.package.crypto.sevenzip import generate_passphrase

        generated = not args.ask_passphrase
        passphrase = generate_passphrase() if generated else ask_secret("Passphrase for the package", KEYFILE_ENV)
    data, package = pack_agreement(
        store(),
        args.profile,
        passphrase=passphrase,
        partner_certificates=args.partner_certificate or (),
        valid_from=args.valid_from,
        version=args.package_version,
    )
    with atomic_output(args.out) as f:  # whole or not at all, never over an existing file
        f.write(data)
    print(f"wrote {args.out}")
    for line in package_lines(package):
        print(f"  {line}")
    if generated:
        print("passphrase (shown once; give it to the partner by another route than the file, e.g. by phone):")
        print(f"  {passphrase}")
    print(f"custodian fingerprint to read out to the partner: {package.custodian_fingerprint}")
    return EXIT_OK


def _install(args: argparse.Namespace) -> int:
    args.file = _package_path(args.file)
    data, package = read_agreement_file(args.file)
    fingerprint = args.fingerprint
    if not fingerprint:
        if not sys.stdin.isatty():
            print(
                "pseudodesk: installing needs the custodian's fingerprint as read out by phone: run in a "
                "terminal, or pass --fingerprint FP.",
                file=sys.stderr,
            )
            return EXIT_USAGE
        print(f"{args.file.name} verifies; it says:", file=sys.stderr)
        for line in package_lines(package):
            print(f"  {line}", file=sys.stderr)
        print(
            f"\nIt was signed by the custodian key with the fingerprint\n\n    {package.custodian_fingerprint}\n",
            file=sys.stderr,
        )
        answer = ask_text("Is this the fingerprint the key custodian read out to you? Type yes to install")
        if (answer or "").lower() not in ("y", "yes"):
            print("Not installed. Call the key custodian back before using this file.", file=sys.stderr)
            return EXIT_BLOCKED
        fingerprint = package.custodian_fingerprint
    passphrase = None
    if package.protection == "passphrase":
        passphrase = ask_secret(f"Passphrase for {args.file.name}", KEYFILE_ENV)
    installed = install_agreement(
        store(local=args.local_store),
        package,
        confirm_fingerprint=fingerprint,
        passphrase=passphrase,
        certificate=args.certificate,
        private_key=args.private_key,
        source=args.file.name,
    )
    print(f"installed {installed.name}, version {installed.version}")
    print(f"  profile: {installed.profile_path}")
    print(f"  key:     {installed.key_id}  fingerprint {installed.key_fingerprint}")
    if installed.salt_id:
        print(f"  salt:    {installed.salt_id}")
    if installed.replaced_key:
        print(
            f"  {installed.replaced_key} is retired: it still serves re-identification of pseudonyms made "
            "before, not new exports"
        )
    print(f'Run exports with --agreement "{installed.name}"', file=sys.stderr)
    return EXIT_OK


def _list() -> int:
    items = installed_agreements(store())
    if not items:
        print(
            "No agreement is installed on this computer. Install the package your key custodian sent: "
            "pseudodesk-cli agreement install FILE",
            file=sys.stderr,
        )
    for a in items:
        notes = [" EXPIRED" if a.expired() else "", "" if a.intact else " PROFILE CHANGED SINCE INSTALLED"]
        print(f"{a.name}  (version {a.version}){''.join(notes)}")
        print(f"  custodian:   {a.custodian_fingerprint}")
        print(f"  key:         {a.key_id}  fingerprint {a.key_fingerprint}")
        if a.salt_id:
            print(f"  salt:        {a.salt_id}")
        print(f"  valid:       from {a.valid_from}, review date {a.review_date}")
        print(f"  installed:   {a.installed}")
        print(f"  profile:     {a.profile_path}")
        print(f"               SHA-256 {a.profile_sha256}")
    return EXIT_OK
