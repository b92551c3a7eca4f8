"""The audit report for IG leads: a filtered listing as CSV, and as printable HTML with one section per export.

The Audit window lists the same entries; what it shows that needs no Qt is here too: the
window's filter (:class:`AuditSelection`), one reading of the log with its verification
(:func:`read_and_verify`), the table's cells and tooltips (:func:`column_text`,
:func:`entry_tooltip`), the choices its filters offer (:func:`filter_choices`) and the
verification banner (:func:`verification_banner`).
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pseudodesk.core.audit.log import AuditError, AuditVerification, installation_public_key, read_entries, verify_log
from pseudodesk.core.errors import Cancelled
from pseudodesk.core.package.csv_output import neutralise
from pseudodesk.core.package.inspection import approval_text

Entry = dict[str, Any]


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


def failure_text(details: dict[str, Any]) -> str:
    """Why an export failed, from what its audit entry may hold: the reason when the error's
    text could not quote a cell, else the kind of error and the positions it names."""
    if details.get("reason"):
        return str(details["reason"])
    error = str(details.get("error", "an error"))
    if error == "HeaderIsData":
        kinds = ", ".join(f"column {c.get('column')} {c.get('looks_like')}" for c in details.get("cells", []))
        return f"header row {details.get('row')} held a person's data ({kinds}); nothing was exported"
    return f"{error} (the message named columns or values, so only its kind is recorded); nothing was exported"


def entry_summary(entry: dict[str, Any]) -> str:
    """One line saying what an audit entry records (the report, the CSV and the Audit window use it)."""
    d = entry.get("details", {})
    event = entry["event"]
    if event in ("export", "export.demo"):
        flag = "UNAPPROVED PROFILE, confirmed by the operator: " if event == "export" and unapproved(entry) else ""
        return ("DEMO (synthetic data): " if event == "export.demo" else flag) + (
            f"{d.get('rows_written', 0):,} rows from {d.get('source_file')} to {d.get('output')} "
            f"({d.get('method')}), key {d.get('key_fingerprint')}"
            + (f", for {'; '.join(d['recipient_names'])}" if d.get("recipient_names") else "")
            + (" (key past its expiry, accepted)" if d.get("expired_key_accepted") else "")
        )
    if event == "export.started":
        return f"{d.get('output')} from {d.get('source_file')}: started"
    if event == "export.interrupted":
        removed = ", ".join(d.get("removed", [])) or "nothing had been written"
        return f"{d.get('output')}: stopped part-way (a crash or a shutdown) and undone at the next start ({removed})"
    if event == "audit.repaired":
        return f"an incomplete last line ({d.get('removed_bytes')} bytes) left by a crash was removed"
    if event == "export.cancelled":
        return f"{d.get('source_file')}: cancelled by the user"
    if event == "export.failed":
        return f"{d.get('source_file')}: {failure_text(d)}"
    if event == "reidentify":
        return (
            f"{d.get('pseudonyms_matched', 0):,} of {d.get('pseudonyms_asked', 0):,} pseudonyms matched "
            f"in {d.get('source_file')}"
        )
    if event.startswith("key."):
        key_id = d.get("key_id") or d.get("new", {}).get("key_id")
        return f"{key_id} {d.get('name', '')} {d.get('fingerprint', '')}".strip()
    if event == "agreement.packed":
        return (
            f"version {d.get('package_version')} packed, key {d.get('key_fingerprint')}, "
            f"signed by {d.get('custodian_fingerprint')}"
        )
    if event == "agreement.installed":
        replaced = f", replacing version {d['previous_version']}" if d.get("previous_version") else ""
        return f"version {d.get('package_version')} from custodian {d.get('custodian_fingerprint')}{replaced}"
    if event.startswith("signer."):
        return f"{d.get('fingerprint')} {d.get('name', '')}".strip()
    if event == "audit.verified":
        return "log verified" if d.get("ok") else f"log BROKEN: {'; '.join(d.get('problems', [])[:2])}"
    if event == "profile.changed":
        return f"profile now {str(d.get('profile_sha256'))[:12]}..., was {str(d.get('previous_sha256'))[:12]}..."
    return ""


def unapproved(entry: dict[str, Any]) -> bool:
    """An export under a profile not installed from an agreement package (entries that predate
    approvals say nothing either way, and are not flagged)."""
    approval = entry.get("details", {}).get("approval")
    return isinstance(approval, dict) and not approval.get("approved", True)


def entry_approval(entry: dict[str, Any]) -> str:
    return approval_text(entry.get("details", {}).get("approval"))


def listing_to_csv(entries: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["seq", "time (UTC)", "event", "operator", "machine", "agreement", "summary"])
    for e in entries:
        row = [
            e["seq"],
            e["time"],
            e["event"],
            e.get("user", ""),
            e.get("machine", ""),
            e.get("details", {}).get("agreement", ""),
            entry_summary(e),
        ]
        w.writerow([neutralise(str(cell)) for cell in row])  # opened in Excel: no cell runs as a formula
    return out.getvalue()


def listing_to_html(entries: list[dict[str, Any]], verification: AuditVerification, selection: AuditFilter) -> str:
    e = html.escape
    head = (
        f"<p>Head of the log when this report was made: entry {verification.head_seq:,}, SHA-256 "
        f"<code>{e(verification.head_sha256)}</code>. Keep this page: a log that later lacks this entry, or "
        "holds another one in its place, has been cut or altered.</p>"
    )
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
<p>Selection: {e(selection.describe())}. Produced {dt.datetime.now():%d/%m/%Y %H:%M}.</p>{status}{head}"""
    ]
    exports = [x for x in entries if x["event"] == "export"]
    parts.append(f"<p>{len(exports)} export(s), {len(entries) - len(exports)} other event(s).</p>")
    flagged = [x for x in exports if unapproved(x)]
    if flagged:
        parts.append(
            f'<div class="bad"><strong>{len(flagged)} export(s) under an unapproved profile</strong> (not '
            "installed from an agreement package; the operator confirmed each): "
            + ", ".join(f"#{x['seq']}" for x in flagged)
            + ". Check that what they sent is what the agreement allows.</div>"
        )
    for x in exports:
        d = x["details"]
        recipients = [
            f"{name} ({fp})" if name else fp
            for fp, name in zip(
                d.get("recipients", []), d.get("recipient_names") or [""] * len(d.get("recipients", []))
            )
        ]
        rows = [
            ("When", f"{x['local_time']} (UTC {x['time']})"),
            ("Operator", f"{x.get('user')} on {x.get('machine')}"),
            ("Agreement", f"{d.get('agreement')} {d.get('agreement_version', '')}"),
            ("Approval", entry_approval(x)),
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
            ("Encryption", f"{d.get('method')} to {'; '.join(recipients) or 'a passphrase'}"),
            ("Key past its expiry", "yes, accepted by the operator" if d.get("expired_key_accepted") else "no"),
            ("Encrypted file SHA-256", d.get("encrypted_sha256")),
            ("Manifest signed by", d.get("manifest_signer")),
            ("Audit entry", f"#{x['seq']}"),
        ]
        parts.append(
            f"<section><h2>Export #{x['seq']}: {e(str(d.get('output')))}"
            + (" (UNAPPROVED PROFILE)" if unapproved(x) else "")
            + "</h2><table>"
            + "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in rows)
            + "</table></section>"
        )
    demos = [x for x in entries if x["event"] == "export.demo"]
    if demos:
        parts.append(
            "<section><h2>Demo exports (synthetic data, not under any agreement)</h2><table><tr><th>#</th>"
            "<th>When (UTC)</th><th>Operator</th><th>Summary</th></tr>"
        )
        parts += [
            f"<tr><td>{x['seq']}</td><td>{e(x['time'])}</td><td>{e(str(x.get('user')))}</td>"
            f"<td>{e(entry_summary(x))}</td></tr>"
            for x in demos
        ]
        parts.append("</table></section>")
    others = [x for x in entries if x["event"] not in ("export", "export.demo", "export.started")]
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


# --- what the Audit window shows ---------------------------------------------------------------

TABLE_COLUMNS = ("Seq", "Time (UTC)", "Operator", "Event", "Agreement", "Summary")
SEQ, TIME, OPERATOR, EVENT, AGREEMENT, SUMMARY = range(len(TABLE_COLUMNS))
BANNER_PROBLEMS = 10  # problems listed in the banner; the printed report lists up to 20


@dataclass(frozen=True)
class AuditSelection(AuditFilter):
    """The window's filter: the core's :class:`AuditFilter` (dates, agreement, operator)
    plus an event type and free text, so the printed report says what was selected."""

    event: str | None = None
    text: str = ""

    def describe(self) -> str:
        base = [AuditFilter.describe(self)] if (self.since or self.until or self.agreement or self.operator) else []
        if self.event:
            base.append(f"event '{self.event}'")
        if self.text:
            base.append(f"containing '{self.text}'")
        return ", ".join(base) or "all entries"

    def accepts(self, entry: Entry) -> bool:
        if not super().accepts(entry):
            return False
        if self.event and entry.get("event") != self.event:
            return False
        if entry.get("event") == "export.started" and self.event != "export.started":
            return False  # bookkeeping: its outcome (export, failed, cancelled, interrupted) is what is shown
        return not self.text or self.text.casefold() in search_text(entry)


def display_time(entry: Entry) -> str:
    """The entry's UTC time as a UK reader writes it (dates filter on the UTC day, as the report does)."""
    return dt.datetime.fromisoformat(entry["time"]).strftime("%d/%m/%Y %H:%M:%S")


def agreement_of(entry: Entry) -> str:
    return str(entry.get("details", {}).get("agreement", "") or "")


def search_text(entry: Entry) -> str:
    """What the free-text search looks in: every column shown, and the machine."""
    return " ".join(
        [
            str(entry["seq"]),
            display_time(entry),
            entry["time"],
            str(entry.get("user", "")),
            str(entry.get("machine", "")),
            entry["event"],
            agreement_of(entry),
            entry_summary(entry),
        ]
    ).casefold()


def well_formed(entry: Entry) -> bool:
    """Whether a parsed line has the shape the listing and the report rely on. A line that
    parses but does not (a forged or damaged entry) is left out of the table; verification
    names it."""
    try:
        dt.datetime.fromisoformat(entry["time"])
        entry_summary(entry)
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return isinstance(entry.get("event"), str) and isinstance(entry.get("details", {}), dict)


def column_text(entry: Entry, column: int) -> str:
    """The text of one cell of the window's table (columns as :data:`TABLE_COLUMNS`)."""
    if column == SEQ:
        return str(entry["seq"])
    if column == TIME:
        return display_time(entry)
    if column == OPERATOR:
        return str(entry.get("user", ""))
    if column == EVENT:
        return str(entry["event"])
    if column == AGREEMENT:
        return agreement_of(entry)
    return entry_summary(entry)


def entry_tooltip(entry: Entry, line: int, *, summary: bool, problems: Sequence[str]) -> str:
    """Where an entry is in the log, when and by whom (its summary first when ``summary``),
    then the verification's ``problems`` with its line."""
    lines = [
        f"Entry {entry['seq']} (line {line} of the log)",
        f"Local time: {entry.get('local_time', '')}",
        f"Operator: {entry.get('user', '')} on {entry.get('machine', '')} ({entry.get('app', '')})",
    ]
    if summary:
        lines.insert(0, entry_summary(entry))
    lines += problems
    return "\n".join(lines)


@dataclass(frozen=True)
class FilterChoices:
    """What the window's filters offer for the entries read: every event, agreement and operator
    named, and the first and last day (None when there are no entries)."""

    events: list[str]
    agreements: list[str]
    operators: list[str]
    first: dt.date | None
    last: dt.date | None


def filter_choices(entries: Sequence[Entry]) -> FilterChoices:
    first = dt.datetime.fromisoformat(min(e["time"] for e in entries)).date() if entries else None
    last = dt.datetime.fromisoformat(max(e["time"] for e in entries)).date() if entries else None
    return FilterChoices(
        events=sorted({e["event"] for e in entries}),
        agreements=sorted({a for e in entries if (a := agreement_of(e))}),
        operators=sorted({str(e.get("user", "")) for e in entries} - {""}),
        first=first,
        last=last,
    )


@dataclass
class LoadedLog:
    """One reading of the log: its entries (with their line numbers) and, when it could be
    checked, its verification; ``note`` says why it could not."""

    path: Path
    exists: bool
    entries: list[Entry] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    unreadable: int = 0
    verification: AuditVerification | None = None
    note: str = ""


def read_and_verify(
    log: Path, public_key_file: Path | None, progress: Callable[[float, str], None], cancel: Callable[[], bool]
) -> LoadedLog:
    """Read every entry and verify the log (the window runs it on the job bridge's worker)."""
    result = LoadedLog(log, log.exists())
    if not result.exists:
        result.note = (
            "There is no audit log on this computer yet: it starts with the first key event, "
            "export or re-identification."
        )
        return result
    progress(0.0, "Reading the audit log")
    for count, (number, entry, _) in enumerate(read_entries(log), start=1):
        if count % 1024 == 0 and cancel():
            raise Cancelled("Stopped reading the audit log.")
        if entry is not None and well_formed(entry):
            result.entries.append(entry)
            result.lines.append(number)
        else:
            result.unreadable += 1
    found = installation_public_key(public_key_file or log.parent)
    if found is None:
        if public_key_file is not None:
            raise AuditError(f"No installation public key found in {public_key_file}.")
        result.note = (
            f"The log cannot be verified: there is no installation public key beside it in {log.parent}. "
            "Use \u201cVerify against pinned key\u2026\u201d with the key you kept."
        )
        return result
    progress(0.5, "Verifying every signature and the hash chain")
    result.verification = verify_log(log, *found)
    progress(1.0, "Audit log read and verified")
    return result


def verification_banner(loaded: LoadedLog) -> tuple[str, str]:
    """The banner over the window's table, and its state: "ok", "bad", "unknown" (the log could
    not be verified) or "none" (there is no log yet)."""
    verification = loaded.verification
    if verification is None:
        return loaded.note, "none" if not loaded.exists else "unknown"
    if verification.ok:
        return (
            f"\u2713 Log verified: {verification.entries:,} entries, signed by {verification.signer}; every "
            "signature valid and the chain unbroken."
        ), "ok"
    problems = verification.problems
    lines = [
        f"\u2717 The log does not verify ({len(problems)} problem{'s' if len(problems) != 1 else ''} in "
        f"{verification.entries:,} entries, installation key {verification.signer}):"
    ]
    lines += [f"  {problem}" for problem in problems[:BANNER_PROBLEMS]]
    if len(problems) > BANNER_PROBLEMS:
        lines.append(f"  \u2026 and {len(problems) - BANNER_PROBLEMS} more (highlighted in the table)")
    return "\n".join(lines), "bad"


def verification_details(verification: AuditVerification) -> dict[str, Any]:
    """The details of the ``audit.verified`` entry that records a verification (as ``pseudodesk-cli audit verify``)."""
    return {
        "entries": verification.entries,
        "ok": verification.ok,
        "problems": [str(p) for p in verification.problems[:20]],
    }
