"""What is wrong with a draft before it becomes a profile: errors that stop it being saved, and
warnings an IG lead should read.
"""

from __future__ import annotations

import re
from pathlib import Path

from pseudodesk.core.agreement.authoring import (
    _FIELD_ID,
    DRAFT_ROLES,
    DRAFT_SOURCE,
    DraftSource,
    ProfileDraft,
    convention_label,
)
from pseudodesk.core.agreement.model import IDENTIFIER_KINDS, ON_INVALID
from pseudodesk.core.certificates import certificate_fingerprint, load_certificates
from pseudodesk.core.conventions import CONVENTIONS, Convention
from pseudodesk.core.errors import ExportError, ProfileError
from pseudodesk.core.fingerprint import normalise_fingerprint
from pseudodesk.core.resources import demo_certificate_fingerprint


def validate_draft(draft: ProfileDraft, *, source: str = DRAFT_SOURCE) -> None:
    """Raise :class:`ProfileError` naming the first thing that would make a broken profile."""
    _check_text(draft.name, source, "agreement name", required=True)
    _check_text(draft.version, source, "agreement version", required=True)
    _check_text(draft.description, source, "agreement description", required=False)
    for i, party in enumerate(draft.parties, 1):
        _check_text(party, source, f"party {i}", required=True)
    if draft.on_invalid not in ON_INVALID:
        raise ProfileError(
            source, "on invalid values", f"must be one of {', '.join(ON_INVALID)} (found '{draft.on_invalid}')"
        )
    if draft.key_fingerprint and not re.fullmatch(
        r"[0-9A-F]{4}(?:-[0-9A-F]{4}){3}", normalise_fingerprint(draft.key_fingerprint)
    ):
        raise ProfileError(
            source, "key fingerprint", "must look like 7F3A-91C2-5B0E-11D4 (as 'pseudodesk-cli keys' prints it)"
        )
    _check_recipient(draft, source)
    included = draft.included()
    if not included:
        raise ProfileError(
            source, "output fields", "no field is included: tick at least one column that the agreement lets leave"
        )
    names: dict[str, int] = {}
    for position, f in enumerate(included, 1):
        where = f"output field {position}" + (f" ({f.name})" if f.name.strip() else "")
        if not f.name.strip() or any(ord(c) < 32 or ord(c) == 127 for c in f.name):
            raise ProfileError(
                source,
                where,
                "needs an output name (the column header in the export), without line breaks or control characters",
            )
        first = names.setdefault(f.name.casefold(), position)
        if first != position:
            raise ProfileError(
                source,
                where,
                f"the output name '{f.name}' is also used by output field {first}; "
                "each column of the export needs its own name (ignoring case)",
            )
        if f.role not in DRAFT_ROLES:
            raise ProfileError(source, where, f"role must be pseudonym or keep (found '{f.role}')")
        if not f.sources:
            raise ProfileError(source, where, "is fed by no source field")
        if f.role == "keep" and len(f.sources) != 1:
            raise ProfileError(
                source, where, "a kept field takes exactly one source field (only a pseudonym can combine several)"
            )
        for s in f.sources:
            _check_source(s, source, where)
        ids = [s.field_id for s in f.sources]
        if len(set(ids)) != len(ids):
            raise ProfileError(source, where, "names the same source field twice")
        bad = [k for k in f.allow_identifiers if k not in IDENTIFIER_KINDS]
        if bad:
            raise ProfileError(
                source, where, f"'{bad[0]}' is not an identifier kind (kinds: {', '.join(IDENTIFIER_KINDS)})"
            )
        _check_text(f.description, source, f"{where} description", required=False)
    declared: dict[str, tuple[DraftSource, str]] = {}
    for position, f in enumerate(included, 1):
        for s in f.sources:
            earlier = declared.setdefault(s.field_id, (s, f.name))
            if _source_key(earlier[0]) != _source_key(s):
                raise ProfileError(
                    source,
                    f"output field {position} ({f.name})",
                    f"its source '{s.label}' and the source '{earlier[0].label}' of '{earlier[1]}' "
                    f"would both get the id '{s.field_id}' but differ; give one of them another label",
                )


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
        raise ProfileError(
            source, where, f"source field id '{s.id}' must be letters, digits and underscores, starting with a letter"
        )
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
        raise ProfileError(
            source, "recipient certificate", "choose the recipient's certificate file (PEM or DER), or use a passphrase"
        )

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
            warnings.append(
                f"'{f.name}' sends {convention_label(conv.name).lower()} values as they are: "
                "only if the agreement allows it (choose Pseudonym otherwise)."
            )
    if draft.recipient_mode == "certificate":
        for path in draft.certificates:
            try:
                (cert,) = load_certificates([Path(path)])
            except (ExportError, OSError):
                continue
            if certificate_fingerprint(cert) == demo_certificate_fingerprint():
                warnings.append(f"{Path(path).name} is the DEMO certificate: real exports to it are refused.")
    return warnings
