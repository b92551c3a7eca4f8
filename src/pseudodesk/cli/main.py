"""pseudodesk-cli: the headless twin of the window.

Exit codes (docs/cli.md):
  0  success
  1  unexpected internal error (a bug: please report it)
  2  wrong command-line usage
  3  bad input: the spreadsheet, profile or mapping cannot be used
  4  key problem: no keyring, key missing, wrong key for the agreement
  5  export problem: output exists, certificate unusable, folder not writable
  6  a check failed: the checks block the export (invalid values under the 'block'
     policy, or identifiers in columns that leave unchanged), or a package or the
     audit log does not verify
  130 cancelled (Ctrl-C); nothing was left behind

Progress goes to stderr; results go to stdout. No data value, key or passphrase is
ever written to a log; the generated passphrase (7-Zip mode) is printed once to stdout.
"""

from __future__ import annotations

import argparse
import errno
import getpass
import os
import sys
from pathlib import Path

from pseudodesk import __version__
from pseudodesk.cli import agreements as agreements_cli
from pseudodesk.cli import audit as audit_cli
from pseudodesk.cli import keys as keys_cli
from pseudodesk.cli import linkage as linkage_cli
from pseudodesk.cli import machine as machine_cli
from pseudodesk.cli import packages as packages_cli
from pseudodesk.cli import signers as signers_cli
from pseudodesk.cli.common import (
    EXIT_BLOCKED,
    EXIT_CANCELLED,
    EXIT_EXPORT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    PASSWORD_ENV,
    CancelFlag,
    ProgressLine,
    capped,
    exit_code_for,
    flag_hint,
    line_numbers,
    recover_interrupted,
    safe_output,
)
from pseudodesk.cli.printing import print_report, print_result
from pseudodesk.core.errors import KeyProblem, PasswordRequired, PseudodeskError, ReaderError
from pseudodesk.core.keys.agreements import installed_profile


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pseudodesk-cli",
        description="Pseudonymise a spreadsheet under an information-sharing agreement and export it encrypted.",
        epilog="Exit codes: 0 ok, 2 usage, 3 bad input, 4 key problem, 5 export problem, "
        "6 a check failed (export blocked, package or audit log does not verify), 130 cancelled.",
    )
    parser.add_argument("--version", action="version", version=f"pseudodesk {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def source_args(p: argparse.ArgumentParser) -> None:
        which = p.add_mutually_exclusive_group(required=True)
        which.add_argument(
            "--agreement", metavar="NAME", help="an agreement installed from a package (see 'agreement list')"
        )
        which.add_argument(
            "--profile", type=Path, help="an agreement profile file (.toml); unapproved unless it is an installed one"
        )
        p.add_argument("--input", required=True, type=Path, help="spreadsheet: CSV, XLSX, XLSM, XLSB, XLS or ODS")
        p.add_argument("--sheet", help="worksheet name (default: the mapping's, else the first visible sheet)")
        p.add_argument(
            "--header-row",
            type=int,
            help="row holding the column names, as Excel numbers it (default: the mapping's, else found "
            "among the first 20 rows from the agreement's column names)",
        )
        p.add_argument("--mapping", type=Path, help="source mapping file (.toml); default: suggest from the headers")
        p.add_argument("--save-mapping", type=Path, metavar="FILE", help="save the mapping used, for next time")
        p.add_argument(
            "--ask-password", action="store_true", help=f"prompt for the workbook password (or set {PASSWORD_ENV})"
        )

    p_run = sub.add_parser("run", help="run a profile over a spreadsheet and write the encrypted export")
    source_args(p_run)
    p_run.add_argument("--out", type=Path, help="folder for the encrypted file (default: the policy's, if IT set one)")
    p_run.add_argument("--key", help="project key id (default: the profile's key.id)")
    p_run.add_argument("--name", help="output file name without extension (default: <agreement>_<date-time>)")
    p_run.add_argument("--overwrite", action="store_true", help="replace an existing output file of the same name")
    p_run.add_argument(
        "--accept-expired-agreement", action="store_true", help="run although the agreement's review date has passed"
    )
    p_run.add_argument(
        "--accept-expired-key",
        action="store_true",
        help="use the key although its expiry (the agreement's review date) has passed",
    )
    p_run.add_argument("--salt", help="OpenPseudonymiser salt id (default: the profile's key.salt_id)")
    p_run.add_argument(
        "--accept-suggested-mapping",
        action="store_true",
        help="export although some columns were matched from their values alone (no --mapping); "
        "the manifest and the audit log record which",
    )
    p_run.add_argument(
        "--accept-unapproved-profile",
        action="store_true",
        help="export under a profile not installed from an agreement package (your IG lead approved it "
        "otherwise); the manifest and the audit log record it as unapproved",
    )
    p_run.add_argument("--batch-size", type=int, default=10_000, help=argparse.SUPPRESS)

    p_check = sub.add_parser("check", help="check every value against the profile without exporting anything")
    source_args(p_check)
    p_check.add_argument(
        "--report-dir", type=Path, help="folder for the HTML and CSV check reports (default: beside the spreadsheet)"
    )
    p_check.add_argument("--no-report", action="store_true", help="print the summary only; write no report files")

    p_risk = sub.add_parser(
        "risk",
        help="re-identification risk: equivalence classes over the quasi-identifiers of what the export would send",
    )
    source_args(p_risk)
    p_risk.add_argument("--k", type=int, help="smallest class allowed (default: the profile's [disclosure] k, else 5)")

    p_self = sub.add_parser("selftest", help="prove this installation's cryptography works (known answers, in memory)")
    p_self.add_argument("--log", type=Path, help="also append the result to this file (the installers' record)")

    p_demo = sub.add_parser("demo", help="run the bundled demo spreadsheet through the example profile")
    p_demo.add_argument(
        "--out",
        type=Path,
        default=Path("pseudodesk-demo-output"),
        help="folder for the demo output (default: ./pseudodesk-demo-output)",
    )

    keys_cli.add_parser(sub)
    agreements_cli.add_parser(sub)
    audit_cli.add_parser(sub)
    packages_cli.add_parsers(sub)
    signers_cli.add_parser(sub)
    linkage_cli.add_parsers(sub, source_args)
    machine_cli.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    safe_output()
    args = build_parser().parse_args(argv)
    try:
        if args.command not in ("selftest", "policy"):
            machine_cli.warn_unusable_policy()
            recover_interrupted(keys_cli.store())
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "check":
            return _cmd_check(args)
        if args.command == "demo":
            return _cmd_demo(args)
        if args.command == "risk":
            return _cmd_risk(args)
        if args.command == "selftest":
            return machine_cli.selftest(args.log)
        if args.command == "keys":
            return keys_cli.run(args)
        if args.command == "agreement":
            return agreements_cli.run(args)
        if args.command == "audit":
            return audit_cli.run(args)
        for module in (packages_cli, signers_cli, machine_cli):
            if args.command in module.COMMANDS:
                return module.run(args)
        if args.command in linkage_cli.COMMANDS:
            return linkage_cli.run(args, _open_source)
    except PseudodeskError as error:
        hint = flag_hint(error)
        print(f"pseudodesk: {capped(str(error))}" + (f" {hint}" if hint else ""), file=sys.stderr)
        return exit_code_for(error)
    except OSError as error:  # a folder or file the computer refused: never a traceback
        where = f" ({error.filename})" if error.filename else ""
        full = " The disk is full: free some space." if error.errno == errno.ENOSPC else ""
        print(
            f"pseudodesk: the computer refused: {error.strerror or type(error).__name__}{where}.{full}",
            file=sys.stderr,
        )
        return EXIT_EXPORT
    except MemoryError:
        print("pseudodesk: this computer ran out of memory; nothing was exported.", file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        print("pseudodesk: cancelled; nothing was written.", file=sys.stderr)
        return EXIT_CANCELLED
    return EXIT_USAGE


def _open_source(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from pseudodesk.core.agreement.header import check_header, find_header_row
    from pseudodesk.core.agreement.mapping import load_mapping, save_mapping, suggest_mapping
    from pseudodesk.core.agreement.profile import load_profile
    from pseudodesk.core.read.dispatch import read_table
    from pseudodesk.core.read.sample import first_rows

    profile = load_profile(args.profile or installed_profile(keys_cli.store(), args.agreement))
    mapping = load_mapping(args.mapping) if args.mapping else None
    sheet = args.sheet or (mapping.sheet if mapping else None)
    header_row = args.header_row or (mapping.header_row if mapping else None)
    password = os.environ.get(PASSWORD_ENV)
    if args.ask_password:
        if not sys.stdin.isatty():
            raise ReaderError(
                args.input,
                f"--ask-password needs a terminal to type the password in; when running unattended, "
                f"put the password in the environment variable {PASSWORD_ENV} instead",
            )
        password = getpass.getpass(f"Password for {args.input.name}: ")

    def opened(read):  # type: ignore[no-untyped-def]
        nonlocal password
        try:
            return read(password)
        except PasswordRequired:
            if not sys.stdin.isatty():
                raise
            password = getpass.getpass(f"{args.input.name} is password-protected. Password: ")
            return read(password)

    if header_row is None:
        rows = opened(lambda secret: first_rows(args.input, sheet=sheet, password=secret))
        choice = find_header_row(rows, profile, args.input)
        header_row = choice.row
        print(f"header row: {choice.row} ({choice.reason}); choose another with --header-row", file=sys.stderr)
    table = opened(lambda secret: read_table(args.input, sheet=sheet, header_row=header_row, password=secret))
    check_header(profile, table)  # before any column name is printed or recorded
    if mapping is None:
        from pseudodesk.core.agreement.suggest import suggest_for_table

        suggestions = {s.column: s for s in suggest_for_table(profile, table)}
        mapping = suggest_mapping(profile, table.header, table.preview(500))
        for fid, column in mapping.columns.items():
            hint = suggestions[column]
            flag = "NEEDS CONFIRMING, from the values alone" if fid in mapping.unconfirmed else "suggested"
            print(f"mapping: '{column}' -> {fid} ({flag}, {hint.confidence:.0%}: {hint.reason})", file=sys.stderr)
        for column, fid in mapping.passed_over:
            print(
                f"warning: column '{column}' is one of the names of {fid}, but {fid} is "
                + (f"mapped to '{mapping.columns[fid]}'" if fid in mapping.columns else "not mapped")
                + f" and '{column}' will be stripped; check the mapping (--mapping)",
                file=sys.stderr,
            )
    if args.save_mapping:
        from dataclasses import replace

        save_mapping(replace(mapping, sheet=table.sheet, header_row=table.header_row), args.save_mapping)
        print(f"mapping saved to {args.save_mapping}", file=sys.stderr)
    for issue in table.issues:
        lines = f" (lines {line_numbers(issue.lines)})" if issue.lines else ""
        print(f"note: {issue.message}{lines}", file=sys.stderr)
    return profile, table, mapping


def _cmd_check(args: argparse.Namespace) -> int:
    from pseudodesk.core.package.reports import LOCAL_ONLY, report_to_csv, report_to_html
    from pseudodesk.core.run.check import check

    profile, table, mapping = _open_source(args)
    cancel = CancelFlag()
    cancel.install()
    risk = None
    if profile.quasi_identifiers():
        from pseudodesk.core.run.check import assess

        risk, report = assess(profile, table, mapping, progress=ProgressLine(), cancel=cancel)
    else:
        report = check(profile, table, mapping, progress=ProgressLine(), cancel=cancel)
    print_report(report)
    if risk is not None:
        print(
            f"re-identification risk: {risk.records_at_risk:,} of {risk.records:,} records in classes smaller "
            f"than k = {risk.k} (details in the HTML report and 'pseudodesk-cli risk')",
            file=sys.stdout,
        )
    if not args.no_report:
        folder = args.report_dir or table.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{table.path.stem}.check-report"
        html_path, csv_path = folder / f"{stem}.html", folder / f"{stem}.csv"
        title = f"pseudodesk check: {table.path.name} under {profile.name}"
        html_path.write_text(report_to_html(report, title, risk), encoding="utf-8")
        csv_path.write_text(report_to_csv(report), encoding="utf-8-sig")
        print(f"report: {html_path}\nproblems: {csv_path}", file=sys.stdout)
        print(f"note: {LOCAL_ONLY}", file=sys.stderr)
    blocking = report.blocking_reasons()
    if blocking:
        for reason in blocking:
            print(f"the export would be blocked: {reason}", file=sys.stdout)
        return EXIT_BLOCKED
    print(f"the export may go ahead: {report.rows_written:,} of {report.rows:,} rows would be written", file=sys.stdout)
    return EXIT_OK


def _cmd_risk(args: argparse.Namespace) -> int:
    from pseudodesk.core.check.risk import risk_lines
    from pseudodesk.core.run.check import assess

    if args.k is not None and args.k < 2:
        print("pseudodesk: --k must be 2 or more", file=sys.stderr)
        return EXIT_USAGE
    profile, table, mapping = _open_source(args)
    cancel = CancelFlag()
    cancel.install()
    risk, _ = assess(profile, table, mapping, k=args.k, progress=ProgressLine(), cancel=cancel)
    print("\n".join(risk_lines(risk)))
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from pseudodesk.core.run.export import ExportOptions, run

    if args.batch_size < 1:
        print("pseudodesk: --batch-size must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    args.out = args.out or machine_cli.default_output_folder()
    profile, table, mapping = _open_source(args)
    key_id = args.key or profile.key.id
    if not key_id:
        raise KeyProblem(
            f"The profile {profile.path.name if profile.path else profile.name} names no key; "
            "pass --key KEY_ID (see 'pseudodesk-cli keys list')."
        )
    store = keys_cli.store()
    info = store.info(key_id)
    if info.expired() and args.accept_expired_key:
        print(
            f"warning: key {key_id} expired on {info.expires}; used because you confirmed the agreement "
            "is still in force (--accept-expired-key)",
            file=sys.stderr,
        )
    key = store.load(key_id, purpose="export", accept_expired=args.accept_expired_key)
    salt = None
    if any(f.role == "openpseudonymiser" for f in profile.output_fields):
        from pseudodesk.core.transform.openpseudonymiser import WEAKER_WARNING

        print(f"warning: {WEAKER_WARNING}", file=sys.stderr)
        salt_id = args.salt or profile.key.salt_id
        if not salt_id:
            raise KeyProblem("This profile has OpenPseudonymiser fields: name the salt with --salt or key.salt_id.")
        salt = store.load_salt(salt_id)
    from pseudodesk.core.keys.approval import approval_of

    approval = approval_of(store, profile)
    print(f"agreement: {profile.name} ({approval.describe()})", file=sys.stderr)
    cancel = CancelFlag()
    cancel.install()
    from pseudodesk.core.keys.installation import AuditTrail

    trail = AuditTrail(store)
    options = ExportOptions(
        name=args.name,
        overwrite=args.overwrite,
        accept_expired=args.accept_expired_agreement,
        batch_size=args.batch_size,
        salt=salt,
        accept_suggested_mapping=args.accept_suggested_mapping,
        expired_key_accepted=info.expired() and args.accept_expired_key,
        approval=approval,
        unapproved_accepted=args.accept_unapproved_profile,
    )
    result = run(
        profile,
        table,
        mapping,
        key,
        args.out,
        options,
        signer=trail.signer,
        audit=trail,
        progress=ProgressLine(),
        cancel=cancel,
    )
    print_result(result)
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from pseudodesk.core.resources import DEMO_PRIVATE_KEY, resource_path
    from pseudodesk.core.run.demo import run_demo

    cancel = CancelFlag()
    cancel.install()
    result = run_demo(args.out, overwrite=True, progress=ProgressLine(), cancel=cancel)
    print_result(result)
    key_path = resource_path(*DEMO_PRIVATE_KEY)
    print("\nThis is a DEMO: the key was ephemeral and the demo recipient's private key is public.")
    print("Open the demo output with:")
    print(
        f"  openssl cms -decrypt -binary -inform DER -in {result.output} \\\n"
        f"      -inkey {key_path} -out demo-output.csv"
    )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
