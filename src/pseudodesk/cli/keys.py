"""pseudodesk-cli keys: create, list, show, fingerprint, export, import, rotate, delete, import-salt.

Secrets are never printed. The only secret this command ever shows is a passphrase it
generated for a key file, once, to be sent to the partner by another route.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pseudodesk.cli.common import EXIT_OK, EXIT_USAGE, ask_secret, ask_text, iso_date
from pseudodesk.core.errors import KeyProblem
from pseudodesk.core.keys.info import KeyInfo
from pseudodesk.core.keys.store import KeyStore

STORE_ENV = "PSEUDODESK_STORE_PASSPHRASE"
KEYFILE_ENV = "PSEUDODESK_KEYFILE_PASSPHRASE"


def store(*, local: bool = False) -> KeyStore:
    return KeyStore(
        vault_passphrase=lambda: ask_secret("Passphrase of the local key store", STORE_ENV), prefer_local=local
    )


def add_parser(sub: Any) -> None:
    p = sub.add_parser("keys", help="project keys: create, share, rotate and delete")
    keys = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    c = keys.add_parser("create", help="create a new 256-bit project key")
    c.add_argument("--name", required=True, help="a name, e.g. the agreement it serves")
    c.add_argument("--agreement", default="", help="the agreement's name")
    c.add_argument("--expires", type=iso_date, help="expiry, the agreement's review date (YYYY-MM-DD)")
    c.add_argument(
        "--local-store",
        action="store_true",
        help=f"keep it in the passphrase-protected local key store, not the OS keyring ({STORE_ENV})",
    )
    keys.add_parser("list", help="the keys on this computer (metadata only)")
    for name, text in (("show", "a key's details"), ("fingerprint", "a key's fingerprint only (for scripts)")):
        keys.add_parser(name, help=text).add_argument("key_id")
    e = keys.add_parser("export", help="write a .pdkey file for a partner")
    e.add_argument("key_id")
    e.add_argument("--out", required=True, type=Path, help="the .pdkey file to write")
    e.add_argument(
        "--certificate",
        type=Path,
        action="append",
        help="wrap to this partner certificate (repeatable); default: a generated passphrase",
    )
    e.add_argument("--ask-passphrase", action="store_true", help="type the passphrase instead of generating one")
    i = keys.add_parser("import", help="import a .pdkey file from the key custodian")
    i.add_argument("file", type=Path)
    i.add_argument("--fingerprint", help="the fingerprint the custodian read out (asked for when omitted)")
    i.add_argument("--certificate", type=Path, help="your certificate, for a file wrapped to it")
    i.add_argument("--private-key", type=Path, help="your certificate's private key (PEM)")
    i.add_argument("--local-store", action="store_true", help="keep it in the passphrase-protected local key store")
    r = keys.add_parser("rotate", help="replace a key with a new one; the old one is retired")
    r.add_argument("key_id")
    r.add_argument("--expires", type=iso_date, help="expiry of the new key (default: the old key's)")
    d = keys.add_parser("delete", help="delete a key from this computer (asks you to confirm)")
    d.add_argument("key_id")
    d.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    s = keys.add_parser("import-salt", help="store an OpenPseudonymiser salt (for the compatible mode only)")
    s.add_argument("--name", required=True)
    s.add_argument("--salt-file", type=Path, help="an OpenPseudonymiser .EncryptedSalt file (default: type the salt)")
    s.add_argument("--local-store", action="store_true")


def _describe(k: KeyInfo) -> list[str]:
    lines = [
        f"id:          {k.id}",
        f"name:        {k.name}",
        f"fingerprint: {k.fingerprint}",
        f"kind:        {k.kind}",
        f"status:      {k.status}",
    ]
    if k.agreement:
        lines.append(f"agreement:   {k.agreement}")
    lines.append(f"created:     {k.created}")
    if k.expires:
        lines.append(f"expires:     {k.expires}" + ("  (EXPIRED)" if k.expired() else ""))
    if k.rotated_from:
        lines.append(f"replaces:    {k.rotated_from}")
    if k.replaced_by:
        lines.append(f"replaced by: {k.replaced_by} on {k.retired[:10]}")
    where = "the OS keyring" if k.store == "keyring" else "the local passphrase-protected key store"
    lines.append(f"held in:     {where}")
    return lines


def run(args: argparse.Namespace) -> int:
    command = args.keys_command
    if command == "create":
        info = store(local=args.local_store).create(args.name, agreement=args.agreement, expires=args.expires)
        print(info.id)
        print(f"fingerprint: {info.fingerprint}", file=sys.stderr)
        print(
            "Stored on this computer only. Put the id and fingerprint in the agreement profile's [key] table.",
            file=sys.stderr,
        )
        return EXIT_OK
    keys = store()
    if command == "list":
        items = keys.keys()
        if not items:
            print("No keys on this computer. Create one with: pseudodesk-cli keys create --name NAME", file=sys.stderr)
        for k in items:
            expiry = f"expires {k.expires}" if k.expires else "no expiry"
            print(f"{k.id}  {k.fingerprint}  {k.status:<7}  {expiry:<18}  {k.name}")
        return EXIT_OK
    if command == "show":
        print("\n".join(_describe(keys.info(args.key_id))))
        return EXIT_OK
    if command == "fingerprint":
        print(keys.info(args.key_id).fingerprint)
        return EXIT_OK
    if command == "export":
        return _export(keys, args)
    if command == "import":
        return _import(store(local=args.local_store), args)
    if command == "rotate":
        new = keys.rotate(args.key_id, expires=args.expires)
        print(new.id)
        print(
            f"fingerprint: {new.fingerprint}\n{args.key_id} is retired: it still serves re-identification, "
            "not new exports. Export the new key to each partner and update the profile.",
            file=sys.stderr,
        )
        return EXIT_OK
    if command == "delete":
        info = keys.info(args.key_id)
        if not args.yes:
            typed = ask_text(f"Deleting {info.id} ({info.name}) cannot be undone. Type the key id to confirm")
            if typed != info.id:
                print("Not deleted.", file=sys.stderr)
                return EXIT_USAGE
        keys.delete(info.id)
        print(f"deleted {info.id}", file=sys.stderr)
        return EXIT_OK
    if command == "import-salt":
        return _import_salt(store(local=args.local_store), args)
    return EXIT_USAGE


def _export(keys: KeyStore, args: argparse.Namespace) -> int:
    if args.out.exists():
        raise KeyProblem(f"{args.out} already exists; choose another name.")
    if args.certificate:
        data = keys.export_to_certificates(args.key_id, args.certificate)
        args.out.write_bytes(data)
        print(f"wrote {args.out}: only the holders of the certificate(s) can open it", file=sys.stderr)
        return EXIT_OK
    from pseudodesk.core.package.crypto.sevenzip import generate_passphrase

    generated = not args.ask_passphrase
    passphrase = generate_passphrase() if generated else ask_secret("Passphrase for the key file", KEYFILE_ENV)
    args.out.write_bytes(keys.export_with_passphrase(args.key_id, passphrase))
    print(f"wrote {args.out}", file=sys.stderr)
    if generated:
        print("passphrase (shown once; give it to the partner by another route than the file, e.g. by phone):")
        print(f"  {passphrase}")
    print(f"fingerprint to read out to the partner: {keys.info(args.key_id).fingerprint}")
    return EXIT_OK


def _import(keys: KeyStore, args: argparse.Namespace) -> int:
    import json

    data = args.file.read_bytes()
    try:
        protection = json.loads(data).get("protection")
    except (ValueError, AttributeError):
        protection = None
    passphrase = ask_secret(f"Passphrase for {args.file.name}", KEYFILE_ENV) if protection == "passphrase" else None
    fingerprint = args.fingerprint or ask_text(
        "Fingerprint read out by the key custodian (groups of four: XXXX-XXXX-...)"
    )
    if not fingerprint:
        raise KeyProblem("Importing a key needs the fingerprint the custodian read out (--fingerprint).")
    info = keys.import_file(
        data,
        confirm_fingerprint=fingerprint,
        passphrase=passphrase,
        certificate=args.certificate,
        private_key=args.private_key,
        source=args.file.name,
    )
    print(info.id)
    print(
        f"imported {info.id} ({info.name}), fingerprint {info.fingerprint}: it matches the one you were given",
        file=sys.stderr,
    )
    return EXIT_OK


def _import_salt(keys: KeyStore, args: argparse.Namespace) -> int:
    from pseudodesk.core.transform.openpseudonymiser import WEAKER_WARNING, salt_from_encrypted_file

    if args.salt_file:
        try:
            salt = salt_from_encrypted_file(args.salt_file.read_bytes())
        except ValueError as exc:
            raise KeyProblem(f"{args.salt_file.name}: {exc}") from None
    else:
        salt = ask_secret("OpenPseudonymiser salt", "PSEUDODESK_OP_SALT")
    info = keys.create(args.name, kind="op-salt", secret=salt.encode("utf-8"))
    print(info.id)
    print(f"warning: {WEAKER_WARNING}", file=sys.stderr)
    return EXIT_OK
