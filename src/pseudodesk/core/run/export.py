"""The export: the checked, pseudonymised CSV streamed into its encryption, written atomically
beside its signed manifest.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pseudodesk.core.agreement.mapping import SourceMapping
from pseudodesk.core.agreement.model import Profile
from pseudodesk.core.certificates import certificate_fingerprint, certificate_subject, load_certificates
from pseudodesk.core.check.report import CheckReport
from pseudodesk.core.errors import (
    Cancelled,
    ChecksBlockExport,
    ExportError,
    OutputExists,
    PseudodeskError,
)
from pseudodesk.core.files import Staged, atomic_output, canonical_json, missing_folders, remove_empty, slug
from pseudodesk.core.keys.approval import UNAPPROVED, Approval
from pseudodesk.core.package.crypto.cms import write_cms
from pseudodesk.core.package.crypto.sevenzip import generate_passphrase, write_7z
from pseudodesk.core.package.csv_output import CsvEncoder
from pseudodesk.core.progress import Cancel, Progress, never, no_progress
from pseudodesk.core.read.table import COLUMN_BATCH_ROWS, SourceTable
from pseudodesk.core.run.check import (
    approval_facts,
    check_approval,
    check_key,
    check_mapping_confirmed,
    check_review_date,
    class_counter,
    suppression,
)
from pseudodesk.core.threads import in_background, made_ahead
from pseudodesk.core.transform.pseudonym import ProjectKey

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

    from pseudodesk.core.keys.installation import AuditTrail
    from pseudodesk.core.keys.pending import PendingExport
    from pseudodesk.core.package.signing import Signer
    from pseudodesk.core.transform.aggregate import PublishedTable
from pseudodesk.core.files import file_sha256
from pseudodesk.core.package.manifest import manifest_path_for, sign_manifest
from pseudodesk.core.resources import demo_certificate_fingerprint
from pseudodesk.core.run.manifest_doc import build_manifest
from pseudodesk.core.run.plan import Plan
from pseudodesk.core.transform.aggregate import publish


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
    manifest: Path | None = None
    aggregate: PublishedTable | None = None  # [aggregate] profiles: the counts table that was sent
    accepted_suggestions: tuple[str, ...] = ()  # fields mapped from values alone, accepted unconfirmed
    recipient_names: tuple[str, ...] = ()  # who each recipient certificate names (organisation / name)
    expired_key_accepted: bool = False
    demo: bool = False  # synthetic demo data (ExportOptions.demo)
    approval: dict[str, Any] = field(default_factory=dict)  # approval_facts(options)


@dataclass(frozen=True)
class ExportOptions:
    """How one export is written: everything about it but the data, the key and who signs."""

    name: str | None = None  # the files' stem; by default the agreement's name and the time
    overwrite: bool = False  # replace an export of the same name (never without being asked)
    passphrase: str | None = field(default=None, repr=False)  # 7z: by default one is generated
    accept_expired: bool = False  # the review date has passed and the partner confirmed it is in force
    allow_demo_recipient: bool = False  # the DEMO certificate, whose private key is public (demo only)
    salt: str | None = field(default=None, repr=False)  # OpenPseudonymiser fields: the imported salt
    batch_size: int = COLUMN_BATCH_ROWS
    # Fields the mapping took from their values alone, exported without a person confirming
    # them (the CLI's --accept-suggested-mapping); recorded in the manifest and the audit entry.
    accept_suggested_mapping: bool = False
    # The key's expiry had passed and the person confirmed the agreement is still in force
    # (the CLI's --accept-expired-key); recorded in the manifest and the audit entry.
    expired_key_accepted: bool = False
    # Synthetic demo data: recorded as "export.demo" under "DEMO: <agreement>", never as an
    # export under the real agreement's name (the IG report lists demo exports apart).
    demo: bool = False
    # Whether the profile is the one installed from an agreement package (keys/approval.py).
    # An unapproved profile exports only when the person confirmed the risk (the CLI's
    # --accept-unapproved-profile, the window's tick box) and the machine policy allows it;
    # the manifest, the audit entry and the IG report say which.
    approval: Approval = UNAPPROVED
    unapproved_accepted: bool = False


DEMO_PREFIX = "DEMO: "  # how a demo export names its agreement in the audit log


def output_stem(profile: Profile, when: dt.datetime) -> str:
    return f"{slug(profile.name, fallback='export')}_{when:%Y%m%d-%H%M%S}"


def run(
    profile: Profile,
    table: SourceTable,
    mapping: SourceMapping,
    key: ProjectKey,
    out_dir: Path,
    options: ExportOptions | None = None,
    *,
    signer: Signer,
    audit: AuditTrail | None = None,
    progress: Progress = no_progress,
    cancel: Cancel = never,
) -> RunResult:
    """Run the agreement over the table; write the encrypted file and its signed manifest into ``out_dir``.

    With ``audit``, the export (or its failure or cancellation) is recorded, and a profile
    that differs from the one last used for the same agreement is recorded as changed.
    """
    options = options or ExportOptions()
    stem = options.name or output_stem(profile, dt.datetime.now())
    options = replace(options, name=stem)
    output = Path(out_dir) / (stem + (".csv.p7m" if profile.recipient.mode == "certificate" else ".7z"))
    export_id = secrets.token_hex(8)
    agreement = f"{DEMO_PREFIX}{profile.name}" if options.demo else profile.name
    base = {
        "export_id": export_id,
        "agreement": agreement,
        "agreement_version": profile.version,
        "profile_sha256": profile.sha256,
        "source_file": table.path.name,
        "key_id": key.id,
        "key_fingerprint": key.fingerprint,
        "approval": approval_facts(options.approval, accepted=options.unapproved_accepted, demo=options.demo),
    }
    if audit is not None and not options.demo:
        previous = audit.last_profile_sha256(profile.name)
        if previous and previous != profile.sha256:
            audit.record(
                "profile.changed",
                {"agreement": profile.name, "previous_sha256": previous, "profile_sha256": profile.sha256},
            )
    created = missing_folders(Path(out_dir))  # a run that writes nothing leaves none of them behind
    pending = None
    checkpoint: dict[str, Any] = {}
    try:
        if audit is not None:  # two-phase: keys/pending.py
            started, pending = audit.begin_export(
                export_id,
                {**base, "output": output.name, "manifest": manifest_path_for(output).name},
                output,
                manifest_path_for(output),
            )
            checkpoint = {
                "started_seq": started["seq"],
                "started_sha256": hashlib.sha256(canonical_json(started)).hexdigest(),
            }
        step("started")
        result = _run(
            profile,
            table,
            mapping,
            key,
            output,
            options,
            signer=signer,
            progress=progress,
            cancel=cancel,
            export=(export_id, checkpoint),
        )
    except BaseException as error:
        remove_empty(created)
        if isinstance(error, OSError):
            error = _os_error(error, output)
        if audit is not None and pending is not None:
            try:
                if isinstance(error, (Cancelled, KeyboardInterrupt)):
                    audit.record("export.cancelled", base)
                else:
                    facts = error.facts() if isinstance(error, PseudodeskError) else {"error": type(error).__name__}
                    audit.record("export.failed", {**base, **facts})
            except Exception:  # noqa: BLE001 (the log cannot be written: the marker stays, the next start records it)
                pending.release()
            else:
                pending.finish()
        if isinstance(error, PseudodeskError):
            raise error from None
        raise
    if audit is not None and pending is not None:
        report = result.report
        _record_or_remove(
            audit,
            result,
            pending,
            "export.demo" if options.demo else "export",
            {
                **base,
                "output": result.output.name,
                "manifest": result.manifest.name if result.manifest else "",
                "rows_read": result.rows_read,
                "rows_written": result.rows_written,
                "rows_excluded": report.rows_excluded,
                "invalid_values": report.invalid_values,
                "columns": result.columns,
                "stripped_columns": report.stripped_columns,
                "method": result.method,
                "recipients": result.recipient_fingerprints,
                "recipient_names": list(result.recipient_names),
                "expired_key_accepted": result.expired_key_accepted,
                "csv_sha256": result.csv_sha256,
                "encrypted_sha256": result.output_sha256,
                "accepted_suggestions": list(result.accepted_suggestions),
                "manifest_signer": signer.fingerprint,
            },
        )
    step("recorded")
    return result


def step(name: str) -> None:
    """A step boundary of the export. Tests of crashes (tests/core/test_crashes.py) replace
    :data:`step_hook` to stop the process here; the product never does."""
    step_hook(name)


step_hook: Callable[[str], None] = lambda name: None  # noqa: E731


def _record_or_remove(
    audit: AuditTrail, result: RunResult, pending: PendingExport, event: str, details: dict[str, Any]
) -> None:
    """Record the finished export; if that fails, the export is removed (none exists unrecorded) and
    its marker left for the next start to record as interrupted."""
    try:
        audit.record(event, details)
    except BaseException as error:
        for path in (result.output, result.manifest):
            try:
                if path is not None:
                    path.unlink(missing_ok=True)
            except OSError:
                pass  # the next start undoes what is left
        pending.release()  # the marker stays: the next start records the export as interrupted
        reason = error.facts().get("reason", "") if isinstance(error, PseudodeskError) else ""
        if isinstance(error, OSError):
            reason = error.strerror or type(error).__name__
        raise ExportError(
            f"The export could not be recorded in the audit log ({reason or type(error).__name__}), so it was "
            "removed: nothing was exported. Free space in your user folder (or ask IT), then export again."
        ) from None
    pending.finish()


def _os_error(error: OSError, output: Path) -> ExportError:
    """What the computer refused, as a message a partner can act on (exit 5, audited)."""
    where = Path(error.filename).parent if error.filename else output.parent
    reason = error.strerror or type(error).__name__
    full = " The disk is full: free some space or choose another folder." if error.errno == errno.ENOSPC else ""
    return ExportError(f"Could not write the export in {where} ({reason}).{full} Nothing was exported.")


def _run(
    profile: Profile,
    table: SourceTable,
    mapping: SourceMapping,
    key: ProjectKey,
    output: Path,
    options: ExportOptions,
    *,
    signer: Signer,
    progress: Progress,
    cancel: Cancel,
    export: tuple[str, dict[str, Any]],
) -> RunResult:

    started = time.monotonic()
    batch_size, overwrite, passphrase = options.batch_size, options.overwrite, options.passphrase
    check_approval(options.approval, accepted=options.unapproved_accepted, demo=options.demo)
    check_review_date(profile, accept_expired=options.accept_expired)
    check_key(profile, key)
    check_mapping_confirmed(mapping, accept=options.accept_suggested_mapping)
    plan = Plan(profile, table, mapping, key, salt=options.salt)
    if profile.disclosure.enforce:
        plan.suppress = suppression(profile, table, mapping, batch_size, progress, cancel, key=key, salt=options.salt)
    certificates: list[Certificate] = []
    if profile.recipient.mode == "certificate":
        certificates = load_certificates(profile.recipient.certificates)
        if not options.allow_demo_recipient:
            _refuse_demo_certificate(certificates)
        method = "cms"
    else:
        passphrase = passphrase or generate_passphrase()
        method = "7z"
    stem = options.name or output.name.split(".")[0]
    manifest_file = manifest_path_for(output)
    for path in (output, manifest_file):
        if path.exists() and not overwrite:
            raise OutputExists(
                f"{path.name} already exists in {path.parent}; choose another name or allow overwriting."
            )

    # The manifest's hash of the source file, read on a second thread while the run works
    # (hashlib and file reads release the GIL).
    source_digest = in_background(file_sha256, table.path)
    header = CsvEncoder(profile.output_names).encode([])
    digest = hashlib.sha256()
    total = max(table.row_count, 1)
    progress(0.0, "Reading and checking")
    survey_share = 0.25 if plan.needs_survey else 0.0
    plan.survey(table, batch_size, progress, cancel, survey_share)
    end_share = 0.95

    def csv_chunks() -> Iterator[bytes]:
        """The plaintext CSV, batch by batch; it never reaches the disk unencrypted."""
        digest.update(header)
        yield header
        for batch in table.iter_column_batches(batch_size, plan.columns_needed):
            if cancel():
                raise Cancelled()
            data = plan.encode(batch)
            if cancel():
                raise Cancelled()
            digest.update(data)
            done = plan.report.rows
            progress(
                survey_share + (end_share - survey_share) * min(done / total, 1.0),
                f"Processed {done:,} of {table.row_count:,} rows",
            )
            yield data
        progress(end_share, "Encrypting" if method == "7z" else "Writing the encrypted file")

    def finished_report() -> CheckReport:
        report = plan.finish()
        if report.rows == 0:
            raise ExportError(f"{table.path.name} has a header but no data rows; nothing to export.")
        blocking = report.blocking_reasons()
        if blocking:
            raise ChecksBlockExport(blocking)
        if report.rows_written == 0:
            raise ExportError("Every row was excluded by the checks; nothing to export.")
        return report

    def encrypt(target: IO[bytes], data: bytes | Iterable[bytes]) -> None:
        if method == "cms":
            write_cms(target, data, certificates, cancel=cancel)
        else:
            assert passphrase is not None
            write_7z(target, data, stem + ".csv", passphrase, cancel=cancel)

    columns = profile.output_names
    published = None
    if profile.aggregate is not None:
        # Counts instead of rows: the rows never become CSV; the published table does.

        rule = profile.aggregate
        # With a person field each cell counts distinct people (a person in two cells counts in
        # each, so the totals still add up the cells).
        counts, collect = class_counter(profile, list(rule.dimensions))
        for batch in table.iter_column_batches(batch_size, plan.columns_needed):
            if cancel():
                raise Cancelled()
            collect(plan.transform(batch)[0])
            done = plan.report.rows
            progress(
                survey_share + (0.85 - survey_share) * min(done / total, 1.0),
                f"Counted {done:,} of {table.row_count:,} rows",
            )
        report = finished_report()
        progress(0.85, "Checking that no suppressed count can be worked out")
        published = publish(
            counts.sizes(),
            list(rule.dimensions),
            rule.rule,
            threshold=rule.threshold,
            protection_level=rule.protection_level,
            cancel=cancel,
        )
        lines = published.csv_rows()
        columns = lines[0]
        data = CsvEncoder(columns).encode(lines[1:])
        digest.update(data)
        if cancel():
            raise Cancelled()
        progress(0.9, "Encrypting")
        staged = Staged(output, overwrite=overwrite)
        try:
            encrypt(staged.file, data)
            staged.close()
        except BaseException:
            staged.discard()
            raise
    else:
        # Both methods stream: each batch is encrypted (7z: compressed, then encrypted) as it is
        # made, so memory does not grow with the input; the batches are made on a second thread
        # meanwhile (zlib and AES release the GIL), two at most waiting. The checks' verdict comes
        # at the end, still inside the atomic write: a blocked or cancelled export leaves only a
        # deleted temporary file.
        staged = Staged(output, overwrite=overwrite)
        try:
            encrypt(staged.file, made_ahead(csv_chunks(), name="pseudodesk-csv-batches"))
            report = finished_report()
            staged.close()
        except BaseException:
            staged.discard()
            raise
    try:
        if plan.suppress is not None and plan.suppress.history is not None:
            plan.suppress.history.save()  # before the output is placed: errs towards blanking
        step("encrypted")
        output_sha256, encrypted_size = file_sha256(staged.tmp)
        result = RunResult(
            output=output,
            method=method,
            passphrase=passphrase if method == "7z" else None,
            rows_read=report.rows,
            rows_written=report.rows_written if published is None else len(published.row_keys) + 1,
            columns=columns,
            report=report,
            key_id=key.id,
            key_fingerprint=key.fingerprint,
            recipient_fingerprints=[certificate_fingerprint(c) for c in certificates],
            recipient_names=tuple(certificate_subject(c) for c in certificates),
            expired_key_accepted=options.expired_key_accepted,
            demo=options.demo,
            approval=approval_facts(options.approval, accepted=options.unapproved_accepted, demo=options.demo),
            csv_sha256=digest.hexdigest(),
            output_sha256=output_sha256,
            seconds=0.0,
            aggregate=published,
            accepted_suggestions=tuple(sorted(mapping.unconfirmed)),
        )
        progress(0.95, "Signing the manifest")
        manifest = build_manifest(profile, table, result, source_digest.result(), encrypted_size=encrypted_size)
        manifest.update(export_id=export[0], audit=export[1])
        # The manifest goes in first, then the encrypted file: never an export without its manifest.
        with atomic_output(manifest_file, overwrite=overwrite) as f:
            f.write(sign_manifest(manifest, signer))
        step("manifest placed")
        try:
            staged.commit()
        except BaseException:
            manifest_file.unlink(missing_ok=True)
            raise
        step("output placed")
    except BaseException:
        staged.discard()
        raise
    progress(1.0, "Done")
    return replace(result, manifest=manifest_file, seconds=time.monotonic() - started)


def _refuse_demo_certificate(certificates: list[Certificate]) -> None:

    demo = demo_certificate_fingerprint()
    if demo and any(certificate_fingerprint(c) == demo for c in certificates):
        raise ExportError(
            "This profile encrypts to the DEMO recipient certificate, whose private key is published "
            "with pseudodesk: anyone could open the file. Point recipient.certificates at the real "
            "recipient's certificate, or use 'pseudodesk-cli demo' to try the app."
        )
