"""The run: spreadsheet -> checks -> pseudonyms -> CSV -> encryption -> atomic write.

Data flows one way, in row batches from the start::

    SourceTable.iter_batches -> Plan.transform (check + normalise + pseudonymise + strip)
      -> CsvEncoder -> encryptor -> atomic_output

Every source row gives exactly one output row (nothing is dropped); invalid values
are reported and written blank. The CLI and the GUI both call :func:`run` (and
:func:`check`, its dry twin); neither re-implements a step.

``progress(fraction, message)`` is called with fractions in [0, 1]; ``cancel()`` is
polled between batches and raises :class:`~pseudodesk.core.errors.Cancelled`, after
which nothing is left on disk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pseudodesk.core.conventions import Checked, Status, get_convention
from pseudodesk.core.errors import Cancelled, ExportError, KeyProblem, ProfileError
from pseudodesk.core.export import (
    CsvEncoder,
    atomic_output,
    certificate_fingerprint,
    encrypt_cms,
    generate_passphrase,
    load_certificates,
    write_7z,
)
from pseudodesk.core.mapping import SourceMapping
from pseudodesk.core.profile import Profile
from pseudodesk.core.pseudonym import ProjectKey, Pseudonymiser
from pseudodesk.core.table import RowBatch, SourceIssue, SourceTable

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]
MAX_EXAMPLES = 200  # problems kept per source field for the report


def _no_progress(fraction: float, message: str) -> None:
    return None


def _never() -> bool:
    return False


@dataclass(frozen=True)
class Problem:
    """One value that could not be used. ``raw`` stays in memory for the on-screen report only."""

    line: int
    field_id: str
    column: str
    reason: str
    raw: str = field(repr=False, default="")


@dataclass
class FieldStats:
    field_id: str
    column: str
    convention: str
    checked: bool
    counts: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Status})
    problems: list[Problem] = field(default_factory=list)

    @property
    def invalid(self) -> int:
        return self.counts[Status.INVALID.value]


@dataclass
class CheckReport:
    rows: int = 0
    fields: dict[str, FieldStats] = field(default_factory=dict)
    blank_outputs: dict[str, int] = field(default_factory=dict)  # output field -> rows left blank
    stripped_columns: list[str] = field(default_factory=list)
    source_issues: list[SourceIssue] = field(default_factory=list)


@dataclass(frozen=True)
class RunResult:
    output: Path
    method: str  # "cms" or "7z"
    passphrase: str | None = field(repr=False)
    rows_read: int
    rows_written: int
    columns: list[str]
    report: CheckReport
    key_id: str
    key_fingerprint: str
    recipient_fingerprints: list[str]
    csv_sha256: str
    output_sha256: str
    seconds: float


@dataclass(frozen=True)
class _Column:
    """A source field to check: where it is read from and its convention."""

    field_id: str
    index: int
    column: str
    check: Callable[[str], Checked]


class Plan:
    """The column transforms for one profile over one file's header."""

    def __init__(self, profile: Profile, header: tuple[str, ...], mapping: SourceMapping,
                 key: ProjectKey | None) -> None:
        self.profile = profile
        resolved = mapping.resolve(profile, header)
        self.inputs = [
            _Column(fid, idx, header[idx], get_convention(profile.source_field(fid).convention).check)
            for fid, idx in resolved.items()
        ]
        self.stripped = mapping.stripped_columns(profile, header)
        slot = {c.field_id: i for i, c in enumerate(self.inputs)}
        self.outputs: list[tuple[str, list[int], Pseudonymiser | None]] = []
        for of in profile.output_fields:
            slots = [slot[s] for s in of.sources if s in slot]
            if of.role == "pseudonym":
                if key is None:
                    raise KeyProblem("A project key is needed to compute pseudonyms.")
                self.outputs.append((of.name, slots, Pseudonymiser(key, of.name)))
            else:
                self.outputs.append((of.name, slots, None))

    def new_report(self, table: SourceTable) -> CheckReport:
        report = CheckReport(stripped_columns=list(self.stripped), source_issues=list(table.issues))
        for c in self.inputs:
            conv = get_convention(self.profile.source_field(c.field_id).convention)
            report.fields[c.field_id] = FieldStats(c.field_id, c.column, conv.name, conv.checked)
        report.blank_outputs = {name: 0 for name, _, _ in self.outputs}
        return report

    def transform(self, batch: RowBatch, report: CheckReport) -> tuple[list[list[str]], list[list[bool]]]:
        """Check and transform one batch; returns output rows and their 'plain' flags."""
        out_rows: list[list[str]] = []
        out_plain: list[list[bool]] = []
        stats = [report.fields[c.field_id] for c in self.inputs]
        for line, row in zip(batch.lines, batch.rows):
            checked: list[Checked] = []
            for c, st in zip(self.inputs, stats):
                result = c.check(row[c.index])
                st.counts[result.status.value] += 1
                if result.status is Status.INVALID and len(st.problems) < MAX_EXAMPLES:
                    st.problems.append(Problem(line, c.field_id, c.column, result.reason, row[c.index]))
                checked.append(result)
            values: list[str] = []
            plain: list[bool] = []
            for name, slots, pseudonymiser in self.outputs:
                parts = [checked[s] for s in slots]
                usable = bool(parts) and all(p.status not in (Status.EMPTY, Status.INVALID) for p in parts)
                if not usable:
                    # A pseudonym of a missing value would link every blank record together.
                    values.append("")
                    plain.append(False)
                    report.blank_outputs[name] += 1
                elif pseudonymiser is not None:
                    values.append(pseudonymiser([p.value for p in parts]))
                    plain.append(True)
                else:
                    values.append(parts[0].value)
                    plain.append(parts[0].plain)
            out_rows.append(values)
            out_plain.append(plain)
        report.rows += len(batch.rows)
        return out_rows, out_plain


def check_key(profile: Profile, key: ProjectKey) -> None:
    if profile.key.fingerprint and profile.key.fingerprint != key.fingerprint:
        raise KeyProblem(
            f"The key {key.id} (fingerprint {key.fingerprint}) is not the key this agreement names "
            f"(fingerprint {profile.key.fingerprint}). Use the agreement's key; nothing was exported."
        )


def check_review_date(profile: Profile, *, accept_expired: bool, today: dt.date | None = None) -> None:
    today = today or dt.date.today()
    if profile.review_date and profile.review_date < today and not accept_expired:
        raise ProfileError(
            profile.path.name if profile.path else profile.name, "agreement.review_date",
            f"the agreement was due for review on {profile.review_date:%d/%m/%Y}. Ask your information "
            "governance lead for the reviewed profile, or confirm that the agreement is still in force "
            "(--accept-expired-agreement).",
        )


def check(profile: Profile, table: SourceTable, mapping: SourceMapping, *,
          batch_size: int = 10_000, progress: Progress = _no_progress, cancel: Cancel = _never) -> CheckReport:
    """Validate every value without producing output (the Check step)."""
    plan = Plan(profile, table.header, mapping, key=None if not _needs_key(profile) else _CHECK_ONLY_KEY)
    report = plan.new_report(table)
    total = max(table.row_count, 1)
    for batch in table.iter_batches(batch_size):
        if cancel():
            raise Cancelled()
        plan.transform(batch, report)
        progress(min(report.rows / total, 1.0), f"Checked {report.rows:,} of {table.row_count:,} rows")
    return report


def _needs_key(profile: Profile) -> bool:
    return any(f.role == "pseudonym" for f in profile.output_fields)


# Checking computes pseudonyms too (same code path as the run) but discards them, so a
# throwaway key is enough; it never leaves this process.
_CHECK_ONLY_KEY = ProjectKey("check-only", bytes(32))


def output_stem(profile: Profile, when: dt.datetime) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", profile.name).strip("-").lower() or "export"
    return f"{slug}_{when:%Y%m%d-%H%M%S}"


def run(
    profile: Profile,
    table: SourceTable,
    mapping: SourceMapping,
    key: ProjectKey,
    out_dir: Path,
    *,
    name: str | None = None,
    overwrite: bool = False,
    passphrase: str | None = None,
    accept_expired: bool = False,
    allow_demo_recipient: bool = False,
    batch_size: int = 10_000,
    progress: Progress = _no_progress,
    cancel: Cancel = _never,
) -> RunResult:
    """Run the agreement over the table and write one encrypted file into ``out_dir``."""
    started = time.monotonic()
    check_review_date(profile, accept_expired=accept_expired)
    check_key(profile, key)
    plan = Plan(profile, table.header, mapping, key)
    certificates: list[Certificate] = []
    if profile.recipient.mode == "certificate":
        certificates = load_certificates(profile.recipient.certificates)
        if not allow_demo_recipient:
            _refuse_demo_certificate(certificates)
        method, suffix = "cms", ".csv.p7m"
    else:
        passphrase = passphrase or generate_passphrase()
        method, suffix = "7z", ".7z"
    stem = name or output_stem(profile, dt.datetime.now())
    output = Path(out_dir) / (stem + suffix)
    if output.exists() and not overwrite:
        raise ExportError(f"{output.name} already exists in {output.parent}; choose another name or allow overwriting.")

    report = plan.new_report(table)
    encoder = CsvEncoder(profile.output_names)
    plaintext = io.BytesIO()  # the CSV lives only in memory until it is encrypted
    total = max(table.row_count, 1)
    progress(0.0, "Reading and checking")
    for batch in table.iter_batches(batch_size):
        if cancel():
            raise Cancelled()
        rows, plain = plan.transform(batch, report)
        plaintext.write(encoder.encode(rows, plain))
        progress(0.9 * min(report.rows / total, 1.0), f"Processed {report.rows:,} of {table.row_count:,} rows")
    if report.rows == 0:
        raise ExportError(f"{table.path.name} has a header but no data rows; nothing to export.")
    csv_bytes = plaintext.getvalue() or encoder.encode([])
    if cancel():
        raise Cancelled()
    progress(0.9, "Encrypting")
    with atomic_output(output, overwrite=overwrite) as f:
        if method == "cms":
            f.write(encrypt_cms(csv_bytes, certificates))
        else:
            assert passphrase is not None
            write_7z(f, csv_bytes, stem + ".csv", passphrase)
        if cancel():
            raise Cancelled()
    progress(1.0, "Done")
    return RunResult(
        output=output,
        method=method,
        passphrase=passphrase if method == "7z" else None,
        rows_read=report.rows,
        rows_written=report.rows,
        columns=profile.output_names,
        report=report,
        key_id=key.id,
        key_fingerprint=key.fingerprint,
        recipient_fingerprints=[certificate_fingerprint(c) for c in certificates],
        csv_sha256=hashlib.sha256(csv_bytes).hexdigest(),
        output_sha256=hashlib.sha256(output.read_bytes()).hexdigest(),
        seconds=time.monotonic() - started,
    )


def _refuse_demo_certificate(certificates: list[Certificate]) -> None:
    from pseudodesk.core.resources import demo_certificate_fingerprint

    demo = demo_certificate_fingerprint()
    if demo and any(certificate_fingerprint(c) == demo for c in certificates):
        raise ExportError(
            "This profile encrypts to the DEMO recipient certificate, whose private key is published "
            "with pseudodesk: anyone could open the file. Point recipient.certificates at the real "
            "recipient's certificate, or use 'pseudodesk-cli demo' to try the app."
        )
