"""The manifest of one export: what was read, what was sent, how, under which agreement and
approval, with which key, to whom (docs/audit.md; signed by :func:`~pseudodesk.core.package.manifest.sign_manifest`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from pseudodesk import __version__
from pseudodesk.core.agreement.model import Profile
from pseudodesk.core.files import file_sha256
from pseudodesk.core.host import machine_name, os_user
from pseudodesk.core.package.manifest import MANIFEST_FORMAT
from pseudodesk.core.read.table import SourceTable

if TYPE_CHECKING:
    from pseudodesk.core.run.export import RunResult


def build_manifest(
    profile: Profile,
    table: SourceTable,
    result: RunResult,
    source_digest: tuple[str, int] | None = None,
    *,
    encrypted_size: int | None = None,
) -> dict[str, Any]:
    """The manifest of one export. ``source_digest`` is :func:`file_sha256` of the source file
    when the caller has it already (the pipeline hashes it on a second thread during the run);
    ``encrypted_size`` when the encrypted file is not yet at ``result.output``."""

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    source_sha, source_size = source_digest or file_sha256(table.path)
    encrypted_size = result.output.stat().st_size if encrypted_size is None else encrypted_size
    report = result.report
    return {
        "format": MANIFEST_FORMAT,
        "app": {"name": "pseudodesk", "version": __version__},
        "created": {"utc": now.isoformat(), "local": now.astimezone().isoformat()},
        "operator": {"user": os_user(), "machine": machine_name()},
        "agreement": {
            "name": profile.name,
            "version": profile.version,
            "profile_sha256": profile.sha256,
            "profile_file": profile.path.name if profile.path else "",
            "demo": result.demo,
            "approval": result.approval,
        },
        "source": {
            "file": table.path.name,
            "size": source_size,
            "sha256": source_sha,
            "format": table.format,
            "sheet": table.sheet,
            "header_row": table.header_row,
            "rows": report.rows,
        },
        "output": {
            "file": result.output.name,
            "kind": "rows" if result.aggregate is None else "aggregate",
            "rows": result.rows_written,
            "columns": result.columns,
            "fields": _fields(profile, result),
            "csv_sha256": result.csv_sha256,
            "encrypted_sha256": result.output_sha256,
            "encrypted_size": encrypted_size,
        },
        "checks": {
            "policy": report.policy,
            "rows_excluded": report.rows_excluded,
            "rows_blanked": report.rows_blanked,
            "cells_left_blank": dict(report.blank_outputs),
            "fields": {
                fid: {
                    "column": s.column,
                    "convention": s.convention,
                    "decision": s.decision,
                    **{k: v for k, v in s.counts.items()},
                }
                for fid, s in report.fields.items()
            },
            "identifier_findings": len(report.findings),
        },
        "disclosure": {
            "quasi_identifiers": profile.quasi_identifiers(),
            "k": profile.disclosure.k,
            "enforced": profile.disclosure.enforce,
            "values_suppressed": dict(report.suppressed),
            "records_suppressed": report.records_suppressed,
            "suppressed_records": profile.disclosure.suppressed_records,
            "max_suppressed_share": profile.disclosure.max_suppressed_share,
            "counted_by": profile.person_field() or "rows",
            "consistent_releases": profile.disclosure.consistent_releases,
            "values_suppressed_as_before": report.history_suppressed,
            "generalised": {
                f.name: f.generalise or "categories" for f in profile.output_fields if f.generalise or f.categories
            },
        },
        "aggregate": _aggregate_facts(profile, result),
        "stripped_columns": list(report.stripped_columns),
        "mapping": {
            "accepted_suggestions": list(result.accepted_suggestions),
            "codings": {fid: s.coding for fid, s in report.fields.items() if s.coding},
        },
        "key": {
            "id": result.key_id,
            "fingerprint": result.key_fingerprint,
            "expired_accepted": result.expired_key_accepted,
        },
        "encryption": {
            "method": "cms-aes-256-cbc" if result.method == "cms" else "7z-aes-256",
            "recipients": list(result.recipient_fingerprints),
            "recipient_names": list(result.recipient_names),
        },
        "metadata": dict(profile.metadata),
    }


def _fields(profile: Profile, result: RunResult) -> list[dict[str, Any]]:
    """What each column of the CSV carries, so inspection knows what it may hold."""

    def convention(name: str) -> str:
        f = next(o for o in profile.output_fields if o.name == name)
        return profile.source_field(f.sources[0]).base_convention.name if f.role == "keep" else ""

    if result.aggregate is None:
        return [
            {
                "name": f.name,
                "role": f.role,
                "convention": convention(f.name),
                "allow_identifiers": list(f.allow_identifiers),
            }
            for f in profile.output_fields
        ]
    first = result.aggregate.dimensions[0]
    return [{"name": first, "role": "keep", "convention": convention(first), "allow_identifiers": []}] + [
        {"name": c, "role": "count", "convention": "", "allow_identifiers": []} for c in result.columns[1:]
    ]


def _aggregate_facts(profile: Profile, result: RunResult) -> dict[str, Any]:
    if result.aggregate is None or profile.aggregate is None:
        return {}
    table = result.aggregate
    return {
        "dimensions": list(profile.aggregate.dimensions),
        "rule": profile.aggregate.rule,
        "threshold": profile.aggregate.threshold if profile.aggregate.rule == "threshold" else 7,
        "cells_suppressed": table.primary,
        "cells_suppressed_secondary": table.secondary,
        # Every suppressed count could lie anywhere in a range at least this wide, as a linear
        # program over everything published finds it (docs/profile.md, [aggregate]).
        "protection_level": table.protection_level,
        "audit": "linear-programming",
    }
