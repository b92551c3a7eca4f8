"""pseudodesk-cli audit: verify the log; show this installation's public signing key."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pseudodesk.cli.common import EXIT_BLOCKED, EXIT_OK, iso_date
from pseudodesk.core.audit.log import AuditError

EXIT_AUDIT_BROKEN = EXIT_BLOCKED  # documented in docs/cli.md: 6 means "a check failed"


def add_parser(sub: Any) -> None:
    p = sub.add_parser("audit", help="the tamper-evident audit log")
    audit = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    v = audit.add_parser("verify", help="check every signature and the hash chain")
    v.add_argument("--log", type=Path, help="the log to verify (default: this user's)")
    v.add_argument(
        "--manifests",
        type=Path,
        metavar="DIR",
        help="also check the log against the manifests of this installation's exports in DIR (and below)",
    )
    v.add_argument(
        "--public-key",
        type=Path,
        help="installation-key.json pinned earlier by the IG lead (default: the one beside the log)",
    )
    audit.add_parser("public-key", help="print this installation's public signing key, to pin it elsewhere")
    r = audit.add_parser("report", help="the audit report for IG leads, as CSV and printable HTML")
    r.add_argument("--from", dest="since", type=iso_date, help="first day (YYYY-MM-DD)")
    r.add_argument("--to", dest="until", type=iso_date, help="last day (YYYY-MM-DD)")
    r.add_argument("--agreement", help="only this agreement (its name)")
    r.add_argument("--operator", help="only this operating-system user")
    r.add_argument("--csv", type=Path, help="write the listing as CSV here")
    r.add_argument("--html", type=Path, help="write the printable report here")
    r.add_argument("--log", type=Path, help="the log (default: this user's)")


def run(args: argparse.Namespace) -> int:
    from pseudodesk.cli.keys import store
    from pseudodesk.core.audit.log import (
        INSTALLATION_FILE,
        LOG_NAME,
        installation_public_key,
        unfinished_exports,
        verify_log,
    )
    from pseudodesk.core.keys.installation import check_recorded_head, record
    from pseudodesk.core.keys.pending import PENDING_FOLDER

    keys = store()
    if args.audit_command == "public-key":
        path = keys.directory / INSTALLATION_FILE
        if not path.exists():
            raise AuditError("This installation has no signing key yet (it is made with the first audit entry).")
        print(path.read_text(encoding="utf-8").strip())
        return EXIT_OK
    log = args.log or keys.directory / LOG_NAME
    if args.audit_command == "report":
        return _report(args, log)
    pinned = args.public_key or log.parent
    found = installation_public_key(pinned)
    if found is None:
        raise AuditError(f"No installation public key found in {pinned}: give --public-key.")
    public, fingerprint = found
    if not log.exists():
        print(f"pseudodesk: there is no audit log at {log}: nothing can be verified.", file=sys.stderr)
        return EXIT_AUDIT_BROKEN
    result = verify_log(log, public, fingerprint)
    if args.log is None:
        check_recorded_head(keys, result)
    for manifest in sorted(args.manifests.rglob("*.manifest.json")) if args.manifests else []:
        _check_manifest(result, log, manifest)
    running = {p.stem for p in (log.parent / PENDING_FOLDER).glob("*.json")} if args.log is None else set()
    unfinished = [e for e in unfinished_exports(log) if e["details"].get("export_id") not in running]
    if result.ok:
        print(
            f"audit log OK: {result.entries:,} entries, every signature valid (installation key {fingerprint}), "
            "chain unbroken"
        )
    else:
        first = result.problems[0]
        print(f"audit log BROKEN at line {first.line}: {first.kind}: {first.detail}")
        for problem in result.problems[1:]:
            print(f"  also {problem}")
    for entry in unfinished:
        d = entry["details"]
        print(
            f"export NOT COMPLETED: entry {entry['seq']} started {d.get('output')} at {entry['time']} and no "
            "outcome is recorded; check that folder for an export nobody can account for"
        )
    if args.log is None:
        record(
            keys,
            "audit.verified",
            {
                "entries": result.entries,
                "ok": result.ok,
                "problems": [str(p) for p in result.problems[:20]],
                "unfinished_exports": [e["seq"] for e in unfinished],
            },
        )
    return EXIT_OK if result.ok and not unfinished else EXIT_AUDIT_BROKEN


def _check_manifest(result: Any, log: Path, path: Path) -> None:
    """A manifest signed by this installation names the audit entry its export started at:
    the log must still hold that entry, unchanged."""
    import json

    from pseudodesk.core.audit.log import check_head

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        checkpoint = doc["manifest"].get("audit") or {}
        signer = doc["signature"]["signer"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return  # not a pseudodesk manifest: inspect says so
    if signer == result.signer and checkpoint.get("started_seq"):
        check_head(
            result, log, int(checkpoint["started_seq"]), str(checkpoint["started_sha256"]), f"the manifest {path.name}"
        )


def _report(args: argparse.Namespace, log: Path) -> int:
    from pseudodesk.core.audit.listing import AuditFilter, audit_listing, listing_to_csv, listing_to_html
    from pseudodesk.core.audit.log import installation_public_key, verify_log

    found = installation_public_key(log.parent)
    if found is None or not log.exists():
        raise AuditError(f"There is no audit log (with its installation key) at {log}.")
    verification = verify_log(log, *found)
    selection = AuditFilter(args.since, args.until, args.agreement, args.operator)
    entries = audit_listing(log, selection)
    if args.csv:
        args.csv.write_text(listing_to_csv(entries), encoding="utf-8-sig")
    if args.html:
        args.html.write_text(listing_to_html(entries, verification, selection), encoding="utf-8")
    exports = sum(1 for e in entries if e["event"] == "export")
    print(
        f"{len(entries):,} entries ({exports:,} exports) for {selection.describe()}; log "
        + ("verified" if verification.ok else f"BROKEN at line {verification.problems[0].line}")
    )
    return EXIT_OK if verification.ok else EXIT_AUDIT_BROKEN
