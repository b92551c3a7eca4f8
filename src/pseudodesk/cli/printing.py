"""What the command line prints after a check or an export: counts, reasons, row numbers and
where the files went; never a value from the spreadsheet."""

from __future__ import annotations

import sys
from typing import TextIO


def print_report(report, out: TextIO | None = None) -> None:  # type: ignore[no-untyped-def]
    """The check summary. Raw values are never printed: row numbers and reasons only."""
    out = out or sys.stdout
    print(f"rows checked: {report.rows:,}", file=out)
    for stats in report.fields.values():
        c = stats.counts
        print(
            f"  {stats.label} ('{stats.column}', {stats.convention}): {c['valid']:,} valid, "
            f"{c['normalised']:,} normalised, {c['invalid']:,} invalid, {c['empty']:,} empty",
            file=out,
        )
        if stats.decision:
            print(f"      decision: {stats.decision}", file=out)
        for p in stats.problems[:5]:
            print(f"      row {p.line}: {p.reason}", file=out)
        if stats.invalid > 5:
            print(f"      ... and {stats.invalid - 5:,} more invalid value(s)", file=out)
    for f in report.findings[:10]:
        print(f"  identifier found: row {f.line}, column '{f.field}': {f.kind.replace('_', ' ')}", file=out)
    if report.identifiers_found > 10:
        print(f"  ... and {report.identifiers_found - 10:,} more identifier(s)", file=out)
    blanks = {k: v for k, v in report.blank_outputs.items() if v}
    if blanks:
        print(
            "  output cells left blank (missing or invalid source value): "
            + ", ".join(f"{k} {v:,}" for k, v in blanks.items()),
            file=out,
        )
    if report.rows_excluded:
        print(f"  rows excluded by the policy: {report.rows_excluded:,}", file=out)
    if report.stripped_columns:
        print(f"stripped (not in the agreement, not exported): {', '.join(report.stripped_columns)}", file=out)


def print_result(result, out: TextIO | None = None) -> None:  # type: ignore[no-untyped-def]
    out = out or sys.stdout
    print_report(result.report, out)
    print(f"columns: {', '.join(result.columns)}", file=out)
    if result.aggregate is not None:
        table = result.aggregate
        print(
            f"counts sent instead of rows: {len(table.row_keys):,} x {len(table.column_keys):,} cells with totals, "
            f"from {result.report.rows_written:,} rows; {table.primary:,} small count(s) suppressed, "
            f"{table.secondary:,} more so that, from everything published together, each suppressed "
            f"count could still be anything in a range at least {table.protection_level} wide",
            file=out,
        )
    else:
        excluded = result.report.rows_excluded
        left_out = result.rows_read - result.rows_written - excluded  # records suppressed whole, left out
        notes = [f"{excluded:,} excluded by the agreement's policy, listed in the check report"] if excluded else []
        if left_out:
            notes.append(f"{left_out:,} left out so nobody can be picked out")
        note = "; ".join(notes) or "every source row; none dropped"
        print(f"rows written: {result.rows_written:,} ({note})", file=out)
    if result.report.suppressed:
        blanked = ", ".join(f"{name} {n:,}" for name, n in result.report.suppressed.items())
        print(
            f"values blanked so every combination of quasi-identifiers is shared by at least k records: {blanked}",
            file=out,
        )
    if result.report.records_suppressed:
        print(
            f"records suppressed whole (every quasi-identifier blanked, or left out where the agreement says so): "
            f"{result.report.records_suppressed:,}",
            file=out,
        )
    print(f"key: {result.key_id}  fingerprint {result.key_fingerprint}", file=out)
    print(f"encrypted file: {result.output}", file=out)
    print(f"  SHA-256 {result.output_sha256}", file=out)
    if result.manifest:
        print(f"signed manifest: {result.manifest}", file=out)
    if result.method == "7z":
        print("passphrase (shown once; send it separately from the file, e.g. by phone):", file=out)
        print(f"  {result.passphrase}", file=out)
    else:
        print("  encrypted with AES-256 to the recipient certificate(s):", file=out)
        for fp in result.recipient_fingerprints:
            print(f"    SHA-256 {fp}", file=out)
