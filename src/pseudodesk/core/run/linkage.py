"""Linkage: the self-test partners run before real data moves, and source-side re-identification.

Linkage self-test: every partner runs the published synthetic dataset
(resources/linkage/) through the self-test profile with their project key and reads
out one short check value. Equal values prove the same key *and* the same
normalisation rules (a partner on another version, or with another key, differs),
without revealing the key or any pseudonym.

Re-identification: only the source organisation holds the key, so only it can turn
pseudonyms returned by the platform back into its own records, by recomputing
pseudonyms over its own source file with the current and retired keys of the
agreement. Results stay local; every look-up is an audit event (counts only).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from pseudodesk.core.agreement.mapping import SourceMapping, suggest_mapping
from pseudodesk.core.agreement.model import Checks, Profile
from pseudodesk.core.agreement.profile import load_profile
from pseudodesk.core.errors import ChecksBlockExport, MappingError
from pseudodesk.core.fingerprint import grouped
from pseudodesk.core.keys.info import KeyInfo
from pseudodesk.core.package.csv_output import CsvEncoder
from pseudodesk.core.progress import Cancel, Progress, never, no_progress
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.core.read.table import SourceTable
from pseudodesk.core.resources import resource_path
from pseudodesk.core.run.plan import Plan
from pseudodesk.core.transform.pseudonym import ProjectKey

SELFTEST_PROFILE = ("linkage", "linkage-selftest.toml")
SELFTEST_DATA = ("linkage", "linkage-selftest.csv")


@dataclass(frozen=True)
class LinkageSelfTest:
    check_value: str
    rows: int
    fields: list[str]
    key_fingerprint: str


def linkage_selftest(key: ProjectKey) -> LinkageSelfTest:
    """The check value of the published dataset under ``key`` (nothing is written anywhere)."""
    profile = load_profile(resource_path(*SELFTEST_PROFILE))
    table = read_table(resource_path(*SELFTEST_DATA))
    plan = Plan(profile, table, suggest_mapping(profile, table.header, table.preview(100)), key)
    plan.survey(table, 10_000, no_progress, never, 0.0)
    encoder = CsvEncoder(profile.output_names)
    digest = hashlib.sha256()
    for batch in table.iter_batches():
        rows, plain = plan.transform(batch)
        digest.update(encoder.encode(rows, plain))
    report = plan.finish()
    if report.invalid_values:
        raise ChecksBlockExport(
            [
                "the published self-test data did not check cleanly: this installation's rules "
                "differ from the ones the data was made for"
            ]
        )
    raw = digest.hexdigest().upper()[:16]
    return LinkageSelfTest(grouped(raw), report.rows, profile.output_names, key.fingerprint)


@dataclass(frozen=True)
class Match:
    pseudonym: str
    line: int
    key_id: str
    row: list[str] = field(repr=False)


@dataclass
class Reidentification:
    field_name: str
    header: tuple[str, ...]
    matches: list[Match] = field(default_factory=list)
    unmatched: set[str] = field(default_factory=set, repr=False)
    asked: int = 0
    keys_tried: list[str] = field(default_factory=list)  # newest (the current key) first
    matched_by_key: dict[str, int] = field(default_factory=dict)  # key id -> pseudonyms it matched

    @property
    def matched_pseudonyms(self) -> int:
        return len({m.pseudonym for m in self.matches})


def reidentify(
    profile: Profile,
    table: SourceTable,
    mapping: SourceMapping,
    keys: list[ProjectKey],
    field_name: str,
    pseudonyms: Iterable[str],
    *,
    progress: Progress = no_progress,
    cancel: Cancel = never,
) -> Reidentification:
    """Source rows whose pseudonym for ``field_name`` (under any of ``keys``) is in ``pseudonyms``."""
    wanted = {p.strip().upper() for p in pseudonyms if p.strip()}
    names = [f.name for f in profile.output_fields if f.role in ("pseudonym", "openpseudonymiser")]
    if field_name not in names:
        raise MappingError(
            f"'{field_name}' is not a pseudonym field of {profile.name} (its pseudonym fields: "
            f"{', '.join(names) or 'none'})."
        )
    column = profile.output_names.index(field_name)
    # Every row counts here, whatever the export policy, and nothing leaves: no scan, no blocking.
    lenient = replace(profile, checks=Checks(on_invalid="blank", scan_identifiers=False))
    result = Reidentification(field_name, table.header, asked=len(wanted), keys_tried=[k.id for k in keys])
    found: set[str] = set()
    for number, key in enumerate(keys):
        found_here: set[str] = set()
        plan = Plan(lenient, table, mapping, key)
        plan.survey(table, 10_000, no_progress, cancel, 0.0)
        for batch in table.iter_batches():
            rows, _ = plan.transform(batch)
            for line, source_row, out in zip(batch.lines, batch.rows, rows):
                if out[column] in wanted:
                    result.matches.append(Match(out[column], line, key.id, source_row))
                    found_here.add(out[column])
            progress(
                (number + min(plan.report.rows / max(table.row_count, 1), 1.0)) / len(keys),
                f"Key {key.id}: {plan.report.rows:,} rows",
            )
        result.matched_by_key[key.id] = len(found_here)
        found |= found_here
    result.unmatched = wanted - found
    return result


def key_report(result: Reidentification, tried: list[KeyInfo], known: list[KeyInfo]) -> tuple[list[str], list[str]]:
    """(what each key matched, warnings) for a re-identification over ``tried`` (the current key
    first, then the keys it replaced), knowing every key on this computer (``known``).

    After a rotation the pseudonyms the platform sends back were often made with the key
    that was replaced: a look-up that finds nothing under the current key says so, and names
    the retired keys (or other keys of the agreement) that were not tried.
    """
    if not tried:
        return [], []
    current = tried[0]
    lines = []
    for info in tried:
        state = "current key" if info is current else f"retired {info.retired[:10]}" if info.retired else "replaced"
        lines.append(f"key {info.id} ({state}): {result.matched_by_key.get(info.id, 0):,} pseudonym(s) matched")
    warnings = []
    if result.asked and not result.matched_by_key.get(current.id, 0):
        ids = {k.id for k in tried}
        untried = [
            k.id
            for k in known
            if k.kind == "project-key"
            and k.id not in ids
            and (k.status == "retired" or (current.agreement and k.agreement == current.agreement))
        ]
        from_retired = [k.id for k in tried[1:] if result.matched_by_key.get(k.id, 0)]
        if from_retired:
            warnings.append(
                f"nothing matched under the current key {current.id}: every match came from retired key(s) "
                f"{', '.join(from_retired)}, so these pseudonyms were made before the key was rotated"
            )
        if untried:
            warnings.append(
                f"nothing matched under the current key {current.id}"
                + (" or the keys it replaced" if len(tried) > 1 else "")
                + f"; key(s) {', '.join(untried)} on this computer were not tried, as {current.id} does not "
                "replace them: if the pseudonyms may have been made with one of them, run again with --key ID"
            )
    return lines, warnings


def read_pseudonym_list(path: Path, column: str | None = None) -> list[str]:
    """Pseudonyms from a CSV/workbook (the named column, or the only/first column) or a plain list."""
    table = read_table(path)
    if column is not None and column not in table.header:
        raise MappingError(f"{path.name} has no column '{column}' (columns: {', '.join(table.header)}).")
    index = 0 if column is None else table.header.index(column)
    values = [row[index] for _, row in table.iter_rows()]
    if column is None and _looks_like_pseudonym(table.header[0]):
        values.insert(0, table.header[0])  # a plain list without a header
    return values


def _looks_like_pseudonym(text: str) -> bool:
    text = text.strip()
    return len(text) == 64 and all(c in "0123456789ABCDEFabcdef" for c in text)
