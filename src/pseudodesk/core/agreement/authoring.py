"""Agreement profiles made without editing TOML: a draft, its checks, and the file it becomes.

For an ad-hoc pilot extract there is often no profile yet: someone picks the output
fields, their conventions and transformations from the spreadsheet in front of them.
This module is the plain-data half of that (the window's dialog is a thin shell over
it; ``pseudodesk.gui.profile_editor``):

- :class:`ProfileDraft`, :class:`DraftField`, :class:`DraftSource`: a profile being
  made, in plain mutable dataclasses;
- :func:`draft_from_columns` proposes a draft from a spreadsheet's header and a sample
  of its rows (NHS number column -> a pseudonym, date of birth -> kept under ``dob``...);
  columns it does not recognise, and direct identifiers such as names, are proposed
  but not included: everything not ticked is stripped;
- :func:`validate_draft` refuses a draft that would not make a sound profile, with a
  :class:`~pseudodesk.core.errors.ProfileError` naming the field at fault;
- :func:`profile_toml` writes the draft as profile TOML (docs/profile.md), checked by
  reading it back with :func:`~pseudodesk.core.agreement.profile.parse_profile` before it is
  returned; :func:`write_profile` writes it atomically beside nothing half-made.

Writing is deterministic: the same draft gives the same bytes (so the same profile
SHA-256, which runs and audit entries record), whatever the day or the version.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from pseudodesk.core.agreement.profile import (
    IDENTIFIER_KINDS,
    ON_INVALID,
    PROFILE_FORMAT,
    Profile,
    load_profile,
    parse_profile,
)
from pseudodesk.core.agreement.suggest import VALUE_THRESHOLD, squash, value_convention
from pseudodesk.core.conventions import CONVENTIONS, Convention, Status
from pseudodesk.core.conventions.base import OptionSpec
from pseudodesk.core.errors import ExportError, ProfileError
from pseudodesk.core.fingerprint import normalise_fingerprint
from pseudodesk.core.agreement.profile import DisclosureRules
from pseudodesk.core.certificates import certificate_fingerprint, load_certificates
from pseudodesk.core.files import atomic_output
from pseudodesk.core.resources import demo_certificate_fingerprint

__all__ = [
    "CONVENTION_LABELS", "DRAFT_ROLES", "ON_INVALID_EXPLANATIONS", "DraftField", "DraftSource", "ProfileDraft",
    "convention_choices", "convention_label", "describe_field", "draft_from_columns", "draft_from_profile",
    "draft_warnings", "field_id_from_label", "option_choice_label", "output_option", "profile_toml",
    "validate_draft", "write_profile",
]

DRAFT_ROLES = ("pseudonym", "keep")
DRAFT_SOURCE = "(new profile)"  # how a draft is named in messages before it has a file name

#: What a partner reads for each catalogue convention (the catalogue's own words are
#: descriptions, too long for a choice list).
CONVENTION_LABELS: dict[str, str] = {
    "text": "Text",
    "dob": "Date of birth",
    "date": "Date",
    "gender": "Gender",
    "postcode": "Postcode",
    "ethnicity": "Ethnicity",
    "nhs_number": "NHS number",
    "upn": "Unique Pupil Number (UPN)",
    "uln": "Unique Learner Number (ULN)",
    "uprn": "Property reference (UPRN)",
    "email": "Email address",
    "uk_phone": "UK phone number",
    "person_name": "Person's name",
    "op_date": "Date (OpenPseudonymiser form)",
    "address_line": "Address line",
}

#: The setting ``[checks] on_invalid``, in plain English.
ON_INVALID_EXPLANATIONS: dict[str, str] = {
    "blank": "An invalid value is reported and sent as an empty cell; its row still goes.",
    "exclude": "A row with an invalid value is left out of the export and listed in the local report.",
    "block": "Any invalid value stops the export until the spreadsheet is fixed.",
}

_CHOICE_LABELS: dict[tuple[str, str], str] = {
    ("postcode", "full"): "Full postcode (SW1A 2AA)",
    ("postcode", "sector"): "Sector (SW1A 2)",
    ("postcode", "district"): "District (SW1A)",
    ("postcode", "area"): "Area (SW)",
    ("gender", "MF"): "M or F (LCP)",
    ("gender", "MFU"): "M, F or U (DfE)",
    ("gender", "iso5218"): "ISO/IEC 5218 codes",
    ("gender", "nhs_stated"): "NHS stated gender codes",
    ("ethnicity", "lcp"): "LCP codes 1-20",
    ("ethnicity", "dfe"): "DfE main codes (WBRI...)",
    ("ethnicity", "nhs"): "NHS letters (A-Z)",
    ("person_name", "as_written"): "As written",
    ("person_name", "match_key"): "Match key (A-Z only)",
}

# What draft_from_columns proposes for a column recognised as a convention:
# (role, included by default, output name or None to derive it from the header).
# Direct identifiers are pseudonymised; names, addresses, emails and phone numbers are
# recognised but left out until someone ticks them (the agreement rarely needs them).
_PROPOSALS: dict[str, tuple[str, bool, str | None]] = {
    "nhs_number": ("pseudonym", True, "PERSON_ID"),
    "upn": ("pseudonym", True, "PUPIL_ID"),
    "uln": ("pseudonym", True, "LEARNER_ID"),
    "uprn": ("pseudonym", True, "PROPERTY_ID"),
    "dob": ("keep", True, "DOB"),
    "date": ("keep", True, None),
    "gender": ("keep", True, "GENDER"),
    "postcode": ("keep", True, "POSTCODE"),
    "ethnicity": ("keep", True, "ETHNICITY"),
    "email": ("pseudonym", False, "EMAIL_ID"),
    "uk_phone": ("pseudonym", False, "PHONE_ID"),
    "person_name": ("pseudonym", False, None),
    "address_line": ("pseudonym", False, None),
}
# A name that leaves at all leaves as a pseudonym of its match key (A-Z only), so that
# "O'Brien" and "OBRIEN" link.
_PROPOSED_OPTIONS: dict[str, dict[str, str]] = {"person_name": {"output": "match_key"}}
_GENERIC = frozenset({"text", "date"})  # labelled by their column header, not by the convention
_NOT_OFFERED = frozenset({"op_date"})  # OpenPseudonymiser linkage only; written by hand
_OUTPUT_OPTION_NAMES = ("output", "target")
_OPTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FIELD_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
SAMPLES_SHOWN = 3


@dataclass
class DraftSource:
    """An item the agreement needs from the spreadsheet (a profile's ``[[source_fields]]`` entry)."""

    label: str                 # what a partner reads ("NHS number")
    convention: str            # a catalogue convention name
    aliases: list[str] = field(default_factory=list)   # column headers that mean it ("NHS No")
    options: dict[str, str] = field(default_factory=dict)  # the convention's options
    id: str = ""               # the source field id; derived from the label when empty
    required: bool = True

    @property
    def field_id(self) -> str:
        return self.id or field_id_from_label(self.label)


@dataclass
class DraftField:
    """A column of the export (a profile's ``[[output_fields]]`` entry) and what feeds it."""

    name: str                  # the column header in the export
    role: str                  # "pseudonym" or "keep"
    sources: list[DraftSource]  # exactly one for "keep"; one or more for "pseudonym" (order matters)
    include: bool = True       # False: proposed but left out (stripped); not written
    description: str = ""      # written as given, or describe_field() when empty
    allow_identifiers: list[str] = field(default_factory=list)  # kept free text: identifier kinds allowed
    column: str = ""           # the spreadsheet column it was proposed from (not written)
    samples: list[str] = field(default_factory=list)  # a few of that column's values (not written)

    @property
    def source(self) -> DraftSource:
        """The first (for "keep", the only) source."""
        return self.sources[0]


@dataclass
class ProfileDraft:
    """An agreement profile being made; :func:`profile_toml` turns it into the file."""

    name: str = ""
    version: str = "1"
    parties: list[str] = field(default_factory=list)
    review_date: dt.date | None = None
    description: str = ""
    recipient_mode: str = "passphrase"  # or "certificate"
    certificates: list[Path] = field(default_factory=list)  # as on this computer; written relative to the profile
    on_invalid: str = "blank"
    scan_identifiers: bool = True
    key_id: str = ""
    key_fingerprint: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    fields: list[DraftField] = field(default_factory=list)

    def included(self) -> list[DraftField]:
        return [f for f in self.fields if f.include]


# --- words for the window ---------------------------------------------------------------


def convention_label(name: str) -> str:
    return CONVENTION_LABELS.get(name, name)


def convention_choices() -> list[str]:
    """Catalogue conventions offered when making a profile, in catalogue order."""
    return [name for name in CONVENTIONS if name not in _NOT_OFFERED]


def output_option(convention: str) -> OptionSpec | None:
    """The option that chooses a convention's output form (a transformation), if it has one.

    Dates: DD/MM/YYYY or YYYY-MM-DD; postcodes: full or generalised to sector, district,
    area; gender and ethnicity: the agreement's code scheme; names: as written or a match key.
    """
    conv = CONVENTIONS.get(convention)
    if conv is None:
        return None
    for name in _OUTPUT_OPTION_NAMES:
        for spec in conv.options:
            if spec.name == name:
                return spec
    return None


def option_choice_label(convention: str, choice: str) -> str:
    return _CHOICE_LABELS.get((convention, choice), choice)


def field_id_from_label(label: str) -> str:
    """A source field id from a label: ``"Date of Birth"`` -> ``date_of_birth``.

    Accents are dropped, anything but letters and digits becomes one underscore, and
    an id that would not start with a letter is prefixed with ``field_``.
    """
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.casefold()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"field_{slug}".rstrip("_")
    return slug


def describe_field(draft_field: DraftField) -> str:
    """The description written for an output field that has none of its own."""
    labels = " + ".join(s.label for s in draft_field.sources)
    if draft_field.role == "pseudonym":
        return f"Pseudonym of {labels}: HMAC-SHA256 under the project key."
    source = draft_field.source
    spec = output_option(source.convention)
    conv = CONVENTIONS.get(source.convention)
    if spec is not None:
        form = option_choice_label(source.convention, source.options.get(spec.name, spec.default))
    else:
        form = conv.output_format if conv is not None else source.convention
    return f"{source.label}: {form}."


# --- proposing a draft from a spreadsheet ----------------------------------------------------


def draft_from_columns(header: Sequence[str], sample_rows: Sequence[Sequence[str]], *,
                       today: dt.date | None = None) -> ProfileDraft:
    """A proposed draft: one field per spreadsheet column.

    Each column's convention comes from its sampled values (a column of valid NHS
    numbers, whatever its header), else from its header ("D.O.B."). Recognised
    identifiers become pseudonyms, dates of birth, gender, postcodes and ethnicity are
    kept under their conventions; names, addresses, emails, phone numbers and
    unrecognised columns are proposed with ``include=False`` (stripped unless someone
    ticks them). Fields come in the export's usual order: pseudonyms, then kept
    fields, then those left out, each in spreadsheet order. The review date is proposed
    a year from ``today``; the recipient is a passphrase until someone picks a certificate.
    """
    recognised: list[str | None] = []
    samples: list[list[str]] = []
    for index, column in enumerate(header):
        values = [row[index] for row in sample_rows if index < len(row)]
        recognised.append(_column_convention(column, values))
        samples.append(_samples(values))
    counts = Counter(c for c in recognised if c)
    ids: set[str] = set()
    names: set[str] = set()
    fields: list[DraftField] = []
    for column, conv, shown in zip(header, recognised, samples, strict=True):
        role, include, name = _PROPOSALS.get(conv or "", ("keep", False, None))
        if conv and conv not in _GENERIC and counts[conv] == 1:
            label = convention_label(conv)
        else:
            label = column.strip() or f"Column {len(fields) + 1}"
        aliases = [column] if column.strip() and squash(column) != squash(label) else []
        options = dict(_PROPOSED_OPTIONS.get(conv or "", {}))
        source = DraftSource(label, conv or "text", aliases, options, _unique(field_id_from_label(label), ids, "_"))
        output = _unique(name or _output_name(column, len(fields) + 1), names, "_")
        fields.append(DraftField(output, role, [source], include, column=column, samples=shown))
    # the export's columns in the usual order: identifiers' pseudonyms first, then what is
    # kept; then what is left out, in spreadsheet order (stable sort)
    fields.sort(key=lambda f: 2 if not f.include else 0 if f.role == "pseudonym" else 1)
    today = today or dt.date.today()
    return ProfileDraft(review_date=_a_year_after(today), fields=fields)


def _column_convention(column: str, values: list[str]) -> str | None:
    """Values first (a column of NHS numbers is one whatever its header), except that a
    header naming a convention whose rule also accepts the values wins: a "Start Date"
    of valid dates is a date, not a date of birth. Dates are dates of birth only when the
    header says so."""
    key = squash(column)
    by_header = next((name for name, conv in CONVENTIONS.items()
                      if name not in _NOT_OFFERED and any(squash(h) == key for h in conv.headers)), None)
    by_values = value_convention(values)
    if by_values and by_values[0] == "dob" and by_header != "dob" and not any(
            word in key for word in ("birth", "dob")):
        by_values = ("date", by_values[1])  # dates alone do not say whose birthday they are
    if by_values is None or by_header is None or by_header == by_values[0]:
        return by_values[0] if by_values else by_header
    return by_header if _share_valid(by_header, values) >= VALUE_THRESHOLD else by_values[0]


def _share_valid(convention: str, values: list[str]) -> float:
    values = [v for v in values if v.strip()]
    rule = CONVENTIONS[convention].rule()
    if rule.needs_survey:
        for v in values:
            rule.observe(v)
    ok = sum(1 for v in values if rule.check(v).status in (Status.VALID, Status.NORMALISED))
    return ok / len(values) if values else 0.0


def _samples(values: list[str]) -> list[str]:
    shown: list[str] = []
    for value in values:
        value = " ".join(value.split())
        if value and value not in shown:
            shown.append(value)
            if len(shown) == SAMPLES_SHOWN:
                break
    return shown


def _output_name(column: str, position: int) -> str:
    ascii_text = unicodedata.normalize("NFKD", column).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^A-Za-z0-9]+", "_", ascii_text).strip("_").upper()
    return name or f"FIELD_{position}"


def _unique(candidate: str, taken: set[str], joiner: str) -> str:
    name, n = candidate, 2
    while name.casefold() in taken:
        name, n = f"{candidate}{joiner}{n}", n + 1
    taken.add(name.casefold())
    return name


def _a_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def draft_from_profile(profile: Profile) -> ProfileDraft:
    """A draft holding an existing profile, to change and save again.

    Only what a draft can hold: pseudonym and keep fields under catalogue conventions.
    A profile using convention packs, OpenPseudonymiser fields, [disclosure] rules or
    generalised fields is refused rather than silently losing them.
    """
    source = profile.path.name if profile.path else DRAFT_SOURCE
    if profile.packs:
        raise ProfileError(source, "packs", "uses convention packs, which the window cannot edit yet; edit the file")

    if profile.disclosure != DisclosureRules():
        raise ProfileError(source, "disclosure", "has [disclosure] rules, which the window cannot edit yet; edit the file")
    if profile.aggregate is not None:
        raise ProfileError(source, "aggregate", "sends counts ([aggregate]), which the window cannot edit yet; "
                           "edit the file")
    coarse = [of.name for of in profile.output_fields if of.generalise or of.categories]
    if coarse:
        raise ProfileError(source, f"output field {coarse[0]}",
                           "is generalised, which the window cannot edit yet; edit the file")
    sources: dict[str, DraftSource] = {}
    for sf in profile.source_fields:
        if sf.convention not in CONVENTIONS:
            raise ProfileError(source, f"source field {sf.id}", f"convention '{sf.convention}' is not in the catalogue")
        sources[sf.id] = DraftSource(sf.label, sf.convention, list(sf.aliases),
                                     {k: str(v) for k, v in sf.options.items()}, sf.id, sf.required)
    fields: list[DraftField] = []
    for of in profile.output_fields:
        if of.role not in DRAFT_ROLES:
            raise ProfileError(source, f"output field {of.name}",
                               f"role '{of.role}' cannot be edited in the window; edit the file")
        fields.append(DraftField(of.name, of.role, [sources[s] for s in of.sources], True, of.description,
                                 list(of.allow_identifiers)))
    return ProfileDraft(profile.name, profile.version, list(profile.parties), profile.review_date,
                        _agreement_description(profile.path),
                        profile.recipient.mode, list(profile.recipient.certificates), profile.checks.on_invalid,
                        profile.checks.scan_identifiers, profile.key.id, profile.key.fingerprint,
                        dict(profile.metadata), fields)


def _agreement_description(path: Path | None) -> str:
    """``[agreement] description``, which :class:`Profile` does not hold, from the file itself."""
    import tomllib

    if path is None:
        return ""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ""
    agreement = doc.get("agreement", {})
    value = agreement.get("description", "") if isinstance(agreement, dict) else ""
    return value if isinstance(value, str) else ""


# --- checking -----------------------------------------------------------------------------


def validate_draft(draft: ProfileDraft, *, source: str = DRAFT_SOURCE) -> None:
    """Raise :class:`ProfileError` naming the first thing that would make a broken profile."""
    _check_text(draft.name, source, "agreement name", required=True)
    _check_text(draft.version, source, "agreement version", required=True)
    _check_text(draft.description, source, "agreement description", required=False)
    for i, party in enumerate(draft.parties, 1):
        _check_text(party, source, f"party {i}", required=True)
    if draft.on_invalid not in ON_INVALID:
        raise ProfileError(source, "on invalid values",
                           f"must be one of {', '.join(ON_INVALID)} (found '{draft.on_invalid}')")
    if draft.key_fingerprint and not re.fullmatch(r"[0-9A-F]{4}(?:-[0-9A-F]{4}){3}",
                                                  normalise_fingerprint(draft.key_fingerprint)):
        raise ProfileError(source, "key fingerprint", "must look like 7F3A-91C2-5B0E-11D4 (as 'pseudodesk-cli keys' prints it)")
    _check_recipient(draft, source)
    included = draft.included()
    if not included:
        raise ProfileError(source, "output fields",
                           "no field is included: tick at least one column that the agreement lets leave")
    names: dict[str, int] = {}
    for position, f in enumerate(included, 1):
        where = f"output field {position}" + (f" ({f.name})" if f.name.strip() else "")
        if not f.name.strip() or any(ord(c) < 32 or ord(c) == 127 for c in f.name):
            raise ProfileError(source, where, "needs an output name (the column header in the export), "
                               "without line breaks or control characters")
        first = names.setdefault(f.name.casefold(), position)
        if first != position:
            raise ProfileError(source, where, f"the output name '{f.name}' is also used by output field {first}; "
                               "each column of the export needs its own name (ignoring case)")
        if f.role not in DRAFT_ROLES:
            raise ProfileError(source, where, f"role must be pseudonym or keep (found '{f.role}')")
        if not f.sources:
            raise ProfileError(source, where, "is fed by no source field")
        if f.role == "keep" and len(f.sources) != 1:
            raise ProfileError(source, where, "a kept field takes exactly one source field "
                               "(only a pseudonym can combine several)")
        for s in f.sources:
            _check_source(s, source, where)
        ids = [s.field_id for s in f.sources]
        if len(set(ids)) != len(ids):
            raise ProfileError(source, where, "names the same source field twice")
        bad = [k for k in f.allow_identifiers if k not in IDENTIFIER_KINDS]
        if bad:
            raise ProfileError(source, where, f"'{bad[0]}' is not an identifier kind "
                               f"(kinds: {', '.join(IDENTIFIER_KINDS)})")
        _check_text(f.description, source, f"{where} description", required=False)
    declared: dict[str, tuple[DraftSource, str]] = {}
    for position, f in enumerate(included, 1):
        for s in f.sources:
            earlier = declared.setdefault(s.field_id, (s, f.name))
            if _source_key(earlier[0]) != _source_key(s):
                raise ProfileError(source, f"output field {position} ({f.name})",
                                   f"its source '{s.label}' and the source '{earlier[0].label}' of '{earlier[1]}' "
                                   f"would both get the id '{s.field_id}' but differ; give one of them another label")


def _source_key(s: DraftSource) -> tuple[object, ...]:
    return (s.field_id, s.label, s.convention, tuple(s.aliases), tuple(sorted(s.options.items())), s.required)


def _check_text(value: str, source: str, where: str, *, required: bool) -> None:
    if required and not value.strip():
        raise ProfileError(source, where, "is empty: fill it in")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ProfileError(source, where, "must be one line, without control characters")


def _check_source(s: DraftSource, source: str, where: str) -> None:
    label = s.label or s.id
    _check_text(s.label, source, f"{where} source label", required=True)
    if s.id and not _FIELD_ID.match(s.id):
        raise ProfileError(source, where, f"source field id '{s.id}' must be letters, digits and underscores, "
                           "starting with a letter")
    if s.convention not in CONVENTIONS:
        known = ", ".join(sorted(CONVENTIONS))
        raise ProfileError(source, where, f"source '{label}': unknown convention '{s.convention}' (known: {known})")
    conv: Convention = CONVENTIONS[s.convention]
    if not all(isinstance(v, str) for v in s.options.values()):
        raise ProfileError(source, where, f"source '{label}': convention options must be text")
    problem = conv.validate_options(s.options)
    if problem:
        raise ProfileError(source, where, f"source '{label}': {problem}")
    for alias in s.aliases:
        _check_text(alias, source, f"{where} alias", required=True)


def _check_recipient(draft: ProfileDraft, source: str) -> None:
    if draft.recipient_mode == "passphrase":
        return
    if draft.recipient_mode != "certificate":
        raise ProfileError(source, "recipient", f"must be certificate or passphrase (found '{draft.recipient_mode}')")
    if not draft.certificates:
        raise ProfileError(source, "recipient certificate",
                           "choose the recipient's certificate file (PEM or DER), or use a passphrase")

    for path in draft.certificates:
        if not Path(path).is_file():
            raise ProfileError(source, "recipient certificate", f"the file {path} does not exist")
        try:
            load_certificates([Path(path)])
        except ExportError as exc:
            raise ProfileError(source, "recipient certificate", str(exc)) from None


def draft_warnings(draft: ProfileDraft) -> list[str]:
    """Things that make a valid profile but deserve a second look, in words."""

    warnings: list[str] = []
    for f in draft.included():
        conv = CONVENTIONS.get(f.source.convention)
        if f.role == "keep" and conv is not None and conv.identifier and f.source.convention != "postcode":
            warnings.append(f"'{f.name}' sends {convention_label(conv.name).lower()} values as they are: "
                            "only if the agreement allows it (choose Pseudonym otherwise).")
    if draft.recipient_mode == "certificate":

        for path in draft.certificates:
            try:
                (cert,) = load_certificates([Path(path)])
            except (ExportError, OSError):
                continue
            if certificate_fingerprint(cert) == demo_certificate_fingerprint():
                warnings.append(f"{Path(path).name} is the DEMO certificate: real exports to it are refused.")
    return warnings


# --- writing ------------------------------------------------------------------------------


def profile_toml(draft: ProfileDraft, destination: Path | str | None = None) -> str:
    """The draft as profile TOML, checked by reading it back; raises :class:`ProfileError`.

    With ``destination`` (where the file will be saved), certificate paths are written
    relative to its folder, which is how :func:`~pseudodesk.core.agreement.profile.load_profile`
    resolves them; without it, as given.
    """
    target = Path(destination) if destination is not None else None
    source = target.name if target is not None else DRAFT_SOURCE
    validate_draft(draft, source=source)
    folder = target.parent if target is not None else None
    included = draft.included()

    agreement: dict[str, Any] = {"name": draft.name, "version": draft.version}
    if draft.description:
        agreement["description"] = draft.description
    if draft.parties:
        agreement["parties"] = list(draft.parties)
    if draft.review_date is not None:
        agreement["review_date"] = draft.review_date
    recipient: dict[str, Any] = {"mode": draft.recipient_mode}
    if draft.recipient_mode == "certificate":
        recipient["certificates"] = [_certificate_text(Path(c), folder) for c in draft.certificates]
    key: dict[str, Any] = {}
    if draft.key_id:
        key["id"] = draft.key_id
    if draft.key_fingerprint:
        key["fingerprint"] = normalise_fingerprint(draft.key_fingerprint)

    parts = [_header(draft), _table("", {"format": PROFILE_FORMAT})]
    parts.append(_table("[agreement]", agreement))
    if key:
        parts.append("# The project key: a run with a key of any other fingerprint is refused.\n"
                     + _table("[key]", key))
    parts.append(_RECIPIENT_COMMENT[draft.recipient_mode] + _table("[recipient]", recipient))
    parts.append(f"# {ON_INVALID_EXPLANATIONS[draft.on_invalid]}\n"
                 + _table("[checks]", {"on_invalid": draft.on_invalid, "scan_identifiers": draft.scan_identifiers}))
    parts.append("# The items the agreement needs from the spreadsheet. Aliases are column headers\n"
                 "# that mean the same item; they help match another spreadsheet's columns.")
    seen: set[str] = set()
    for f in included:
        for s in f.sources:
            if s.field_id not in seen:
                seen.add(s.field_id)
                parts.append(_table("[[source_fields]]", _source_item(s)))
    parts.append("# The columns of the exported CSV, in this order. Everything else is stripped.")
    for f in included:
        ids = [s.field_id for s in f.sources]
        item: dict[str, Any] = {"name": f.name, "role": f.role, "from": ids if f.role == "pseudonym" else ids[0],
                                "description": f.description or describe_field(f)}
        if f.allow_identifiers:
            item["allow_identifiers"] = list(f.allow_identifiers)
        parts.append(_table("[[output_fields]]", item))
    if draft.metadata:
        parts.append("# The dataset description the agreement asks for.\n" + _dumps({"metadata": draft.metadata},
                                                                                     source=source))
    text = "\n\n".join(p.strip("\n") for p in parts) + "\n"
    parse_profile(text.encode("utf-8"), source=source, base_dir=folder)  # raises ProfileError if it would not load
    return text


def write_profile(draft: ProfileDraft, path: Path | str, *, overwrite: bool = False) -> Profile:
    """Write the draft to ``path`` atomically (whole or not at all) and return it as loaded.

    Raises :class:`ProfileError` for a draft that would not make a sound profile (nothing
    is written), :class:`~pseudodesk.core.errors.OutputExists` when ``path`` exists and
    ``overwrite`` is false, :class:`~pseudodesk.core.errors.ExportError` when it cannot be written.
    """

    path = Path(path)
    data = profile_toml(draft, path).encode("utf-8")
    with atomic_output(path, overwrite=overwrite) as out:
        out.write(data)
    return load_profile(path)


_RECIPIENT_COMMENT = {
    "passphrase": "# A 7-Zip AES-256 archive; pseudodesk makes a new passphrase for each export and shows\n"
                  "# it once. Send the passphrase separately from the file.\n",
    "certificate": "# AES-256 to the recipient's certificate (CMS); paths are relative to this file.\n",
}


def _header(draft: ProfileDraft) -> str:
    name = " ".join(draft.name.split())
    return (f"# Agreement profile: {name}.\n"
            "# Made in the pseudodesk window (\"Create profile\"); it can be read and changed as text.\n"
            "# Field-by-field guide: docs/profile.md.")


def _source_item(s: DraftSource) -> dict[str, Any]:
    item: dict[str, Any] = {"id": s.field_id, "label": s.label, "convention": s.convention}
    if not s.required:
        item["required"] = False
    if s.aliases:
        item["aliases"] = list(s.aliases)
    if s.options:
        item["options"] = dict(s.options)
    return item


def _table(header: str, items: dict[str, Any]) -> str:
    """A table of plain keys, one per line, with short lists and option tables written inline."""
    lines = [header] if header else []
    for key, value in items.items():
        lines.append(f"{key} = {_value(value)}")
    return "\n".join(lines)


def _value(value: Any) -> str:
    if isinstance(value, dict):
        for key in value:
            if not _OPTION_NAME.match(key):
                raise ProfileError(DRAFT_SOURCE, "options", f"'{key}' is not an option name")
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        items = [_value(v) for v in value]
        inline = "[" + ", ".join(items) + "]"
        if len(inline) <= 80:
            return inline
        return "[\n" + "".join(f"    {item},\n" for item in items) + "]"
    return _dumps({"v": value})[len("v = "):].rstrip("\n")


def _dumps(doc: dict[str, Any], *, source: str = DRAFT_SOURCE) -> str:
    import tomli_w

    try:
        return tomli_w.dumps(doc)
    except TypeError as exc:
        raise ProfileError(source, next(iter(doc)), f"holds something TOML cannot write ({exc})") from None


def _certificate_text(path: Path, folder: Path | None) -> str:
    if folder is None:
        return str(path)
    absolute = Path(os.path.abspath(path))
    try:
        relative = os.path.relpath(absolute, os.path.abspath(folder))
    except ValueError:  # another drive (Windows): only an absolute path can reach it
        return str(absolute)
    return PurePath(relative).as_posix()
