"""The audit report for IG leads: a filtered listing as CSV, and as printable HTML with one section per export."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pseudodesk.core.audit.log import AuditVerification, read_entries


@dataclass(frozen=True)
class AuditFilter:
    since: dt.date | None = None
    until: dt.date | None = None
    agreement: str | None = None
    operator: str | None = None

    def describe(self) -> str:
        parts = []
        if self.since:
            parts.append(f"from {self.since:%d/%m/%Y}")
        if self.until:
            parts.append(f"to {self.until:%d/%m/%Y}")
        if self.agreement:
            parts.append(f"agreement '{self.agreement}'")
        if self.operator:
            parts.append(f"operator '{self.operator}'")
        return ", ".join(parts) or "all entries"

    def accepts(self, entry: dict[str, Any]) -> bool:
        day = dt.datetime.fromisoformat(entry["time"]).date()
        if self.since and day < self.since:
            return False
        if self.until and day > self.until:
            return False
        if self.agreement and entry.get("details", {}).get("agreement") != self.agreement:
            return False
        return not (self.operator and entry.get("user") != self.operator)


def audit_listing(path: Path, selection: AuditFilter) -> list[dict[str, Any]]:
    return [e for _, e, _ in read_entries(path) if e is not None and selection.accepts(e)]


def entry_summary(entry: dict[str, Any]) -> str:
    """One line saying what an audit entry records (the report, the CSV and the Audit window use it)."""
    d = entry.get("details", {})
    event = entry["event"]
    if event == "export":
        return (
            f"{d.get('rows_written', 0):,} rows from {d.get('source_file')} to {d.get('output')} "
            f"({d.get('method')}), key {d.get('key_fingerprint')}"
        )
    if event in ("export.failed", "export.cancelled"):
        return f"{d.get('source_file')}: {d.get('reason', 'cancelled by the user')}"
    if event == "reidentify":
        return (
            f"{d.get('pseudonyms_matched', 0):,} of {d.get('pseudonyms_asked', 0):,} pseudonyms matched "
            f"in {d.get('source_file')}"
        )
    if event.startswith("key."):
        key_id = d.get("key_id") or d.get("new", {}).get("key_id")
        return f"{key_id} {d.get('name', '')} {d.get('fingerprint', '')}".strip()
    if event == "audit.verified":
        return "log verified" if d.get("ok") else f"log BROKEN: {'; '.join(d.get('problems', [])[:2])}"
    if event == "profile.changed":
        return f"profile now {str(d.get('profile_sha256'))[:12]}..., was {str(d.get('previous_sha256'))[:12]}..."
    return ""


def listing_to_csv(entries: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["seq", "time (UTC)", "event", "operator", "machine", "agreement", "summary"])
    for e in entries:
        w.writerow(
            [
                e["seq"],
                e["time"],
                e["event"],
                e.get("user", ""),
                e.get("machine", ""),
                e.get("details", {}).get("agreement", ""),
                entry_summary(e),
            ]
        )
    return out.getvalue()


def listing_to_html(entries: list[dict[str, Any]], verification: AuditVerification, selection: AuditFilter) -> str:
    e = html.escape
    status = (
        f'<p class="ok">Log verified: {verification.entries:,} entries, every signature valid, chain '
        f"unbroken (installation key {e(verification.signer)}).</p>"
        if verification.ok
        else '<div class="bad"><strong>The log does not verify:</strong><ul>'
        + "".join(f"<li>{e(str(p))}</li>" for p in verification.problems[:20])
        + "</ul></div>"
    )
    parts = [
        f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>pseudodesk audit report</title>
<style>body{{font-family:Segoe UI,Arial,sans-serif;margin:2em;color:#222}} table{{border-collapse:collapse;margin:.4em 0 1.2em}}
th,td{{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}} th{{background:#f0f0f0;width:14em}}
.ok{{background:#e8f5e9;border:1px solid #2e7d32;padding:.6em}} .bad{{background:#fdecea;border:1px solid #c62828;padding:.6em}}
section{{page-break-inside:avoid;border-top:2px solid #444;margin-top:1.5em}} h2{{font-size:1.1em}}</style></head><body>
<h1>pseudodesk audit report</h1>
<p>Selection: {e(selection.describe())}. Produced {dt.datetime.now():%d/%m/%Y %H:%M}.</p>{status}"""
    ]
    exports = [x for x in entries if x["event"] == "export"]
    parts.append(f"<p>{len(exports)} export(s), {len(entries) - len(exports)} other event(s).</p>")
    for x in exports:
        d = x["details"]
        rows = [
            ("When", f"{x['local_time']} (UTC {x['time']})"),
            ("Operator", f"{x.get('user')} on {x.get('machine')}"),
            ("Agreement", f"{d.get('agreement')} {d.get('agreement_version', '')}"),
            ("Profile SHA-256", d.get("profile_sha256")),
            ("Source file", d.get("source_file")),
            ("Output", f"{d.get('output')} + {d.get('manifest')}"),
            (
                "Rows",
                f"{d.get('rows_read', 0):,} read, {d.get('rows_written', 0):,} written, "
                f"{d.get('rows_excluded', 0):,} excluded; {d.get('invalid_values', 0):,} invalid values",
            ),
            ("Columns sent", ", ".join(d.get("columns", []))),
            ("Columns stripped", ", ".join(d.get("stripped_columns", []))),
            ("Key", f"{d.get('key_id')} ({d.get('key_fingerprint')})"),
            ("Encryption", f"{d.get('method')} to {', '.join(d.get('recipients', [])) or 'a passphrase'}"),
            ("Encrypted file SHA-256", d.get("encrypted_sha256")),
            ("Manifest signed by", d.get("manifest_signer")),
            ("Audit entry", f"#{x['seq']}"),
        ]
        parts.append(
            f"<section><h2>Export #{x['seq']}: {e(str(d.get('output')))}</h2><table>"
            + "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in rows)
            + "</table></section>"
        )
    others = [x for x in entries if x["event"] != "export"]
    if others:
        parts.append(
            "<section><h2>Other events</h2><table><tr><th>#</th><th>When (UTC)</th><th>Event</th>"
            "<th>Operator</th><th>Summary</th></tr>"
        )
        parts += [
            f"<tr><td>{x['seq']}</td><td>{e(x['time'])}</td><td>{e(x['event'])}</td><td>{e(str(x.get('user')))}</td>"
            f"<td>{e(entry_summary(x))}</td></tr>"
            for x in others
        ]
        parts.append("</table></section>")
    parts.append("</body></html>")
    return "\n".join(parts)
