"""pseudodesk-cli reidentify and linkage-test."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pseudodesk.cli.common import EXIT_OK, CancelFlag, ProgressLine
from pseudodesk.core.errors import ExportError, KeyProblem

COMMANDS = {"reidentify", "linkage-test"}


def add_parsers(sub: Any, source_args: Callable[[argparse.ArgumentParser], None]) -> None:
    r = sub.add_parser("reidentify", help="find your own records behind pseudonyms the platform sent back")
    source_args(r)
    r.add_argument("--pseudonyms", required=True, type=Path, help="file of pseudonyms (CSV/workbook column or a list)")
    r.add_argument("--column", help="the column of --pseudonyms holding them (default: the first)")
    r.add_argument("--field", required=True, help="the profile's pseudonym field they came from, e.g. PERSON_ID")
    r.add_argument("--key", help="project key id (default: the profile's); its retired predecessors are tried too")
    r.add_argument("--out", required=True, type=Path, help="local CSV of the matching source rows")
    r.add_argument("--overwrite", action="store_true")
    t = sub.add_parser("linkage-test", help="the check value partners compare before real data moves")
    t.add_argument("--key", required=True, help="project key id")


def run(args: argparse.Namespace, open_source: Callable[[argparse.Namespace], Any]) -> int:
    from pseudodesk.cli.keys import store

    keys = store()
    if args.command == "linkage-test":
        from pseudodesk.core.run.linkage import linkage_selftest

        key = keys.load(args.key, purpose="reidentify")
        result = linkage_selftest(key)
        print(f"linkage check value: {result.check_value}")
        print(
            f"key {key.id}, fingerprint {result.key_fingerprint}; {result.rows} synthetic people; "
            f"fields {', '.join(result.fields)}",
            file=sys.stderr,
        )
        print(
            "Read the check value to your partners: equal values mean the same key and the same rules.", file=sys.stderr
        )
        return EXIT_OK
    return _reidentify(args, open_source, keys)


def _reidentify(args: argparse.Namespace, open_source: Callable[[argparse.Namespace], Any], keys: Any) -> int:
    from pseudodesk.core.keys.installation import record
    from pseudodesk.core.run.linkage import key_report, read_pseudonym_list, reidentify

    if args.out.exists() and not args.overwrite:
        raise ExportError(f"{args.out} already exists; choose another name or pass --overwrite.")
    profile, table, mapping = open_source(args)
    key_id = args.key or profile.key.id
    if not key_id:
        raise KeyProblem("Name the project key with --key (or key.id in the profile).")
    lineage = keys.lineage(key_id)
    project_keys = [keys.load(k.id, purpose="reidentify") for k in lineage]
    pseudonyms = read_pseudonym_list(args.pseudonyms, args.column)
    cancel = CancelFlag()
    cancel.install()
    result = reidentify(
        profile, table, mapping, project_keys, args.field, pseudonyms, progress=ProgressLine(), cancel=cancel
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(["pseudonym", "key_id", "source_row", *result.header])
        for m in result.matches:
            writer.writerow([m.pseudonym, m.key_id, m.line, *m.row])
    record(
        keys,
        "reidentify",
        {
            "agreement": profile.name,
            "profile_sha256": profile.sha256,
            "field": args.field,
            "source_file": table.path.name,
            "pseudonyms_asked": result.asked,
            "pseudonyms_matched": result.matched_pseudonyms,
            "rows_matched": len(result.matches),
            "keys": [k.id for k in lineage],
            "matched_by_key": result.matched_by_key,
        },
    )
    print(
        f"{result.matched_pseudonyms:,} of {result.asked:,} pseudonyms matched {len(result.matches):,} row(s) "
        f"of {table.path.name}; {len(result.unmatched):,} not found"
    )
    lines, warnings = key_report(result, lineage, keys.keys())
    for line in lines:
        print(f"  {line}")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"matches written to {args.out}: they identify people, keep them inside your organisation")
    return EXIT_OK
