"""Source mapping: which column of this spreadsheet feeds which source field of the profile.

Kept apart from the profile so one agreement serves partners with different
spreadsheets, and saved as a small TOML file so next month's extract reuses it::

    mapping_format = "pseudodesk-mapping/1"
    profile = "Lincolnshire LCP Scorecard"

    [source]          # optional: how to open the spreadsheet
    sheet = "People"
    header_row = 1

    [columns]         # source field id = column header in the spreadsheet
    nhs_number = "NHS No"
    dob = "Date of Birth"

    [codings]         # optional: the input coding of a column, among those the profile accepts
    gender = "nhs_stated"

Every column not mapped to a source field that some output field uses is stripped.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from pseudodesk.core.agreement.model import Profile
from pseudodesk.core.agreement.suggest import EVIDENCE_RANK, suggest_columns
from pseudodesk.core.errors import MappingError

MAPPING_FORMAT = "pseudodesk-mapping/1"


@dataclass(frozen=True)
class SourceMapping:
    columns: dict[str, str]  # source field id -> column header
    profile_name: str = ""
    sheet: str | None = None
    header_row: int | None = None
    suggested: frozenset[str] = field(default_factory=frozenset)  # ids filled by suggestion, not by a person
    # field id -> the input coding of its column, one of the profile's accepted codings for it
    codings: dict[str, str] = field(default_factory=dict)
    # ids suggested from the values alone (no header names the field): a person confirms them
    # before an export, or the export is told to accept them (and records that it did)
    unconfirmed: frozenset[str] = field(default_factory=frozenset)
    # (column, field id): columns whose header is one of a field's names but that feed another
    # field or none; a partner is told, since such a column is not stripped silently
    passed_over: tuple[tuple[str, str], ...] = ()

    def confirmed(self) -> SourceMapping:
        """This mapping with every suggestion confirmed by the person using it."""
        return replace(self, unconfirmed=frozenset())

    def resolve(self, profile: Profile, header: tuple[str, ...]) -> dict[str, int]:
        """Source field id -> column index; raises MappingError when the mapping does not fit."""
        index = {name: i for i, name in enumerate(header)}
        problems: list[str] = []
        if self.profile_name and self.profile_name != profile.name:
            problems.append(
                f"it was made for the agreement '{self.profile_name}', not '{profile.name}': "
                "use the mapping saved for this agreement, or make one for it"
            )
        resolved: dict[str, int] = {}
        for fid in profile.used_source_ids():
            sf = profile.source_field(fid)
            column = self.columns.get(fid)
            if column is None:
                if sf.required:
                    problems.append(f"'{sf.label}' ({fid}) is not mapped to any column")
                continue
            if column not in index:
                problems.append(f"'{sf.label}' ({fid}) is mapped to column '{column}', which this file does not have")
                continue
            resolved[fid] = index[column]
        for fid, coding in self.codings.items():
            known = next((s for s in profile.source_fields if s.id == fid), None)
            if known is None:
                continue  # named below with the other unknown ids
            if coding not in known.codings:
                accepted = ", ".join(known.codings) if known.codings else "none but its own"
                problems.append(
                    f"'{known.label}' ({fid}) is set to the coding '{coding}', which the agreement does not "
                    f"accept for it (it accepts: {accepted}); a mapping cannot widen what the agreement allows"
                )
        unknown = sorted((set(self.columns) | set(self.codings)) - {s.id for s in profile.source_fields})
        if unknown:
            problems.append(f"the mapping names source fields the profile does not have: {', '.join(unknown)}")
        if problems:
            columns = ", ".join(f"'{h}'" for h in header)
            raise MappingError(
                "The source mapping does not fit this file:\n  - "
                + "\n  - ".join(problems)
                + f"\nThe file's columns are: {columns}"
            )
        return resolved

    def stripped_columns(self, profile: Profile, header: tuple[str, ...]) -> list[str]:
        """Columns of the file that will not leave (names only), in file order."""
        used = {self.columns[f] for f in profile.used_source_ids() if f in self.columns}
        return [h for h in header if h not in used]


def suggest_mapping(profile: Profile, header: tuple[str, ...], sample: list[list[str]] | None = None) -> SourceMapping:
    """The most likely column for each source field, from headers and (when given) values.

    Each column feeds at most one field; for each field the most confident column wins.
    See :mod:`pseudodesk.core.agreement.suggest` for the evidence and confidences.
    """

    suggestions = suggest_columns(profile, header, sample)
    candidates = sorted(
        (s for s in suggestions if s.field_id),
        key=lambda s: (-EVIDENCE_RANK[s.evidence], -s.confidence),
    )  # a header naming the field always beats a guess from values, however sure
    columns: dict[str, str] = {}
    evidence: dict[str, str] = {}
    for s in candidates:
        assert s.field_id is not None
        if s.field_id not in columns and s.column not in columns.values():
            columns[s.field_id] = s.column
            evidence[s.field_id] = s.evidence
    ordered = {sf.id: columns[sf.id] for sf in profile.source_fields if sf.id in columns}
    passed_over = tuple(
        (s.column, s.field_id)
        for s in suggestions
        if s.field_id and s.evidence == "profile" and ordered.get(s.field_id) != s.column
    )
    return SourceMapping(
        ordered,
        profile.name,
        suggested=frozenset(ordered),
        unconfirmed=frozenset(fid for fid in ordered if evidence[fid] == "values"),
        passed_over=passed_over,
    )


def load_mapping(path: Path | str) -> SourceMapping:
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"Mapping file {path.name}: the file does not exist (looked for {path})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"Mapping file {path.name}: not valid TOML ({exc})") from None
    if doc.get("mapping_format") != MAPPING_FORMAT:
        raise MappingError(f"Mapping file {path.name}: 'mapping_format' must be \"{MAPPING_FORMAT}\"")
    columns = doc.get("columns")
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise MappingError(f"Mapping file {path.name}: [columns] must map source field ids to column names")
    codings = doc.get("codings", {})
    if not isinstance(codings, dict) or not all(isinstance(v, str) for v in codings.values()):
        raise MappingError(f"Mapping file {path.name}: [codings] must map source field ids to coding names")
    source = doc.get("source", {})
    sheet = source.get("sheet")
    header_row = source.get("header_row")
    if header_row is not None and (not isinstance(header_row, int) or header_row < 1):
        raise MappingError(f"Mapping file {path.name}: 'source.header_row' must be a whole number, 1 or more")
    return SourceMapping(dict(columns), str(doc.get("profile", "")), sheet, header_row, codings=dict(codings))


def save_mapping(mapping: SourceMapping, path: Path | str) -> None:
    import tomli_w

    doc: dict[str, object] = {"mapping_format": MAPPING_FORMAT, "profile": mapping.profile_name}
    source: dict[str, object] = {}
    if mapping.sheet is not None:
        source["sheet"] = mapping.sheet
    if mapping.header_row is not None:
        source["header_row"] = mapping.header_row
    if source:
        doc["source"] = source
    doc["columns"] = dict(mapping.columns)
    if mapping.codings:
        doc["codings"] = dict(mapping.codings)
    Path(path).write_text(tomli_w.dumps(doc), encoding="utf-8")
