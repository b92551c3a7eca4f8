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
- :func:`~pseudodesk.core.agreement.validate.validate_draft` refuses a draft that would not
  make a sound profile, with a :class:`~pseudodesk.core.errors.ProfileError` naming the field
  at fault;
- :func:`~pseudodesk.core.agreement.profile_text.profile_toml` writes the draft as profile
  TOML (docs/profile.md), checked by reading it back with
  :func:`~pseudodesk.core.agreement.profile.parse_profile` before it is returned;
  :func:`~pseudodesk.core.agreement.profile_text.write_profile` writes it atomically beside
  nothing half-made.

Writing is deterministic: the same draft gives the same bytes (so the same profile
SHA-256, which runs and audit entries record), whatever the day or the version.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pseudodesk.core.agreement.model import DisclosureRules, Profile
from pseudodesk.core.agreement.suggest import VALUE_THRESHOLD, squash, value_convention
from pseudodesk.core.conventions import CONVENTIONS, Status
from pseudodesk.core.conventions.base import OptionSpec
from pseudodesk.core.errors import ProfileError

__all__ = [
    "CONVENTION_LABELS",
    "DRAFT_ROLES",
    "ON_INVALID_EXPLANATIONS",
    "DraftField",
    "DraftSource",
    "ProfileDraft",
    "convention_choices",
    "convention_label",
    "describe_field",
    "draft_from_columns",
    "draft_from_profile",
    "field_id_from_label",
    "option_choice_label",
    "output_option",
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

    label: str  # what a partner reads ("NHS number")
    convention: str  # a catalogue convention name
    aliases: list[str] = field(default_factory=list)  # column headers that mean it ("NHS No")
    options: dict[str, str] = field(default_factory=dict)  # the convention's options
    id: str = ""  # the source field id; derived from the label when empty
    required: bool = True

    @property
    def field_id(self) -> str:
        return self.id or field_id_from_label(self.label)


@dataclass
class DraftField:
    """A column of the export (a profile's ``[[output_fields]]`` entry) and what feeds it."""

    name: str  # the column header in the export
    role: str  # "pseudonym" or "keep"
    sources: list[DraftSource]  # exactly one for "keep"; one or more for "pseudonym" (order matters)
    include: bool = True  # False: proposed but left out (stripped); not written
    description: str = ""  # written as given, or describe_field() when empty
    allow_identifiers: list[str] = field(default_factory=list)  # kept free text: identifier kinds allowed
    column: str = ""  # the spreadsheet column it was proposed from (not written)
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


def draft_from_columns(
    header: Sequence[str], sample_rows: Sequence[Sequence[str]], *, today: dt.date | None = None
) -> ProfileDraft:
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
    by_header = next(
        (
            name
            for name, conv in CONVENTIONS.items()
            if name not in _NOT_OFFERED and any(squash(h) == key for h in conv.headers)
        ),
        None,
    )
    by_values = value_convention(values)
    if by_values and by_values[0] == "dob" and by_header != "dob" and not any(word in key for word in ("birth", "dob")):
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
        raise ProfileError(
            source, "disclosure", "has [disclosure] rules, which the window cannot edit yet; edit the file"
        )
    if profile.aggregate is not None:
        raise ProfileError(
            source, "aggregate", "sends counts ([aggregate]), which the window cannot edit yet; edit the file"
        )
    coarse = [of.name for of in profile.output_fields if of.generalise or of.categories]
    if coarse:
        raise ProfileError(
            source, f"output field {coarse[0]}", "is generalised, which the window cannot edit yet; edit the file"
        )
    sources: dict[str, DraftSource] = {}
    for sf in profile.source_fields:
        if sf.convention not in CONVENTIONS:
            raise ProfileError(source, f"source field {sf.id}", f"convention '{sf.convention}' is not in the catalogue")
        sources[sf.id] = DraftSource(
            sf.label, sf.convention, list(sf.aliases), {k: str(v) for k, v in sf.options.items()}, sf.id, sf.required
        )
    fields: list[DraftField] = []
    for of in profile.output_fields:
        if of.role not in DRAFT_ROLES:
            raise ProfileError(
                source, f"output field {of.name}", f"role '{of.role}' cannot be edited in the window; edit the file"
            )
        fields.append(
            DraftField(
                of.name, of.role, [sources[s] for s in of.sources], True, of.description, list(of.allow_identifiers)
            )
        )
    return ProfileDraft(
        profile.name,
        profile.version,
        list(profile.parties),
        profile.review_date,
        _agreement_description(profile.path),
        profile.recipient.mode,
        list(profile.recipient.certificates),
        profile.checks.on_invalid,
        profile.checks.scan_identifiers,
        profile.key.id,
        profile.key.fingerprint,
        dict(profile.metadata),
        fields,
    )


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
