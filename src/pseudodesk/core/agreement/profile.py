"""Agreement profile v1: what an information-sharing agreement lets leave, read from TOML.

Documented field by field in docs/profile.md. Every problem raises
:class:`~pseudodesk.core.errors.ProfileError` naming the TOML key (``fields[2].from``)
and what is wrong with it. The profile's SHA-256 (over the file's bytes) identifies
the exact version used in every run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from pathlib import Path
from typing import Any

from pseudodesk.core.agreement.model import (
    CODING_OPTION,
    IDENTIFIER_KINDS,
    ON_INVALID,
    PROFILE_FORMAT,
    ROLES,
    Checks,
    KeyRef,
    OutputField,
    Profile,
    Recipient,
    SourceField,
)
from pseudodesk.core.agreement.profile_reader import Reader
from pseudodesk.core.agreement.profile_rules import aggregate_output, disclosure_rules
from pseudodesk.core.conventions import (
    CONVENTIONS,
    Convention,
    PackConvention,
    PackError,
    load_pack,
)
from pseudodesk.core.conventions.generalise import DOB_LEVELS, ETHNICITY_LEVELS, POSTCODE_LEVELS
from pseudodesk.core.errors import ProfileError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FINGERPRINT = re.compile(r"^[0-9A-F]{4}(?:-[0-9A-F]{4}){3}$")


def load_profile(path: Path | str) -> Profile:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProfileError(path.name, "", f"the file does not exist (looked for {path})") from None
    except OSError as exc:
        raise ProfileError(path.name, "", f"cannot be read ({exc.strerror})") from None
    return parse_profile(data, source=path.name, base_dir=path.parent, path=path)


def parse_profile(
    data: bytes, *, source: str = "<profile>", base_dir: Path | None = None, path: Path | None = None
) -> Profile:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProfileError(source, "", "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(source, "", f"is not valid TOML ({exc})") from None
    r = Reader(source)
    fmt = r.text(doc, "format")
    if fmt != PROFILE_FORMAT:
        raise ProfileError(source, "format", f'must be "{PROFILE_FORMAT}" (found "{fmt}")')
    r.only(
        doc,
        "",
        {
            "format",
            "agreement",
            "key",
            "recipient",
            "source_fields",
            "output_fields",
            "metadata",
            "checks",
            "packs",
            "disclosure",
            "aggregate",
        },
    )
    packs = doc.get("packs", [])
    if not isinstance(packs, list) or not all(isinstance(p, str) for p in packs):
        raise ProfileError(source, "packs", "must be a list of convention pack names or .toml paths")
    pack_conventions: dict[str, PackConvention] = {}
    for i, reference in enumerate(packs):
        try:
            pack_conventions.update(load_pack(reference, base_dir))
        except PackError as exc:
            raise ProfileError(source, f"packs[{i}]", str(exc)) from None
    checks_doc = doc.get("checks", {})
    if not isinstance(checks_doc, dict):
        raise ProfileError(source, "checks", "must be a table")
    r.only(checks_doc, "checks", {"on_invalid", "scan_identifiers", "max_invalid_share"})
    on_invalid = checks_doc.get("on_invalid", "blank")
    if on_invalid not in ON_INVALID:
        raise ProfileError(
            source, "checks.on_invalid", f'must be one of {", ".join(ON_INVALID)} (found "{on_invalid}")'
        )
    scan = checks_doc.get("scan_identifiers", True)
    if not isinstance(scan, bool):
        raise ProfileError(source, "checks.scan_identifiers", "must be true or false")

    agreement = r.table(doc, "agreement")
    r.only(agreement, "agreement", {"name", "version", "parties", "review_date", "description"})
    review = agreement.get("review_date")
    if review is not None and not (isinstance(review, dt.date) and not isinstance(review, dt.datetime)):
        raise ProfileError(source, "agreement.review_date", "must be a date written as YYYY-MM-DD without quotes")

    key_doc = doc.get("key", {})
    if not isinstance(key_doc, dict):
        raise ProfileError(source, "key", "must be a table")
    r.only(key_doc, "key", {"id", "fingerprint", "salt_id"})
    fingerprint = str(key_doc.get("fingerprint", "")).upper()
    if fingerprint and not _FINGERPRINT.match(fingerprint):
        raise ProfileError(
            source, "key.fingerprint", "must look like 7F3A-91C2-5B0E-11D4 (as printed by 'pseudodesk-cli keys')"
        )

    recipient_doc = r.table(doc, "recipient")
    r.only(recipient_doc, "recipient", {"mode", "certificates"})
    mode = r.text(recipient_doc, "mode", where="recipient.mode")
    certs: tuple[Path, ...] = ()
    if mode == "certificate":
        raw_certs = recipient_doc.get("certificates")
        if not isinstance(raw_certs, list) or not raw_certs or not all(isinstance(c, str) and c for c in raw_certs):
            raise ProfileError(source, "recipient.certificates", "must list one or more certificate files (PEM or DER)")
        certs = tuple((base_dir / c) if base_dir and not Path(c).is_absolute() else Path(c) for c in raw_certs)
    elif mode == "passphrase":
        if "certificates" in recipient_doc:
            raise ProfileError(source, "recipient.certificates", 'is only allowed when mode = "certificate"')
    else:
        raise ProfileError(source, "recipient.mode", f'must be "certificate" or "passphrase" (found "{mode}")')

    sources = _source_fields(r, doc, pack_conventions)
    outputs = _output_fields(r, doc, {s.id: s.base_convention.name for s in sources})
    unused = [s.id for s in sources if not any(s.id in o.sources for o in outputs)]
    if unused:
        raise ProfileError(source, "source_fields", f"declared but used by no output field: {', '.join(unused)}")

    disclosure = disclosure_rules(r, doc, outputs)
    aggregate = aggregate_output(r, doc, outputs)
    metadata = doc.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ProfileError(source, "metadata", "must be a table")

    parties = agreement.get("parties", [])
    if not isinstance(parties, list) or not all(isinstance(p, str) for p in parties):
        raise ProfileError(source, "agreement.parties", "must be a list of organisation names")
    return Profile(
        name=r.text(agreement, "name", where="agreement.name"),
        version=r.text(agreement, "version", where="agreement.version"),
        parties=tuple(parties),
        review_date=review,
        key=KeyRef(str(key_doc.get("id", "")), fingerprint, str(key_doc.get("salt_id", ""))),
        recipient=Recipient(mode, certs),
        source_fields=sources,
        output_fields=outputs,
        metadata=dict(metadata),
        checks=Checks(on_invalid, scan, _invalid_share(source, checks_doc)),
        disclosure=disclosure,
        aggregate=aggregate,
        packs=tuple(packs),
        sha256=hashlib.sha256(data).hexdigest(),
        path=path,
    )


def _source_fields(r: Reader, doc: dict[str, Any], packs: dict[str, PackConvention]) -> tuple[SourceField, ...]:
    out: list[SourceField] = []
    keys = {"id", "label", "convention", "required", "aliases", "options", "codings"}
    for where, item in r.entries(doc, "source_fields", keys):
        fid = r.text(item, "id", where=f"{where}.id")
        if not _NAME.match(fid):
            raise ProfileError(
                r.source, f"{where}.id", "must be letters, digits and underscores, starting with a letter"
            )
        if any(f.id == fid for f in out):
            raise ProfileError(r.source, f"{where}.id", f"'{fid}' is declared twice")
        convention = r.text(item, "convention", where=f"{where}.convention")
        if convention in packs:
            base, options = packs[convention].base, dict(packs[convention].options)
        elif convention in CONVENTIONS:
            base, options = CONVENTIONS[convention], {}
        else:
            known = ", ".join(sorted([*CONVENTIONS, *packs]))
            raise ProfileError(r.source, f"{where}.convention", f"unknown convention '{convention}' (known: {known})")
        own = item.get("options", {})
        if not isinstance(own, dict):
            raise ProfileError(
                r.source, f"{where}.options", 'must be a table, e.g. options = { output = "YYYY-MM-DD" }'
            )
        problem = base.validate_options(own)
        if problem:
            raise ProfileError(r.source, f"{where}.options", problem)
        options.update(own)
        required = item.get("required", True)
        if not isinstance(required, bool):
            raise ProfileError(r.source, f"{where}.required", "must be true or false")
        aliases = item.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise ProfileError(r.source, f"{where}.aliases", "must be a list of column names")
        codings = _codings(r, f"{where}.codings", item, base, options)
        out.append(
            SourceField(fid, str(item.get("label", fid)), convention, required, tuple(aliases), base, options, codings)
        )
    return tuple(out)


def _output_fields(r: Reader, doc: dict[str, Any], conventions: dict[str, str]) -> tuple[OutputField, ...]:
    """``conventions``: source field id -> its base convention's name."""
    source_ids = set(conventions)
    out: list[OutputField] = []
    for where, item in r.entries(
        doc,
        "output_fields",
        {
            "name",
            "role",
            "from",
            "description",
            "allow_identifiers",
            "labels",
            "nhs_source",
            "generalise",
            "categories",
        },
    ):
        name = r.text(item, "name", where=f"{where}.name")
        if not name.strip() or any(ord(c) < 32 for c in name):
            raise ProfileError(r.source, f"{where}.name", "must be a non-empty column name without control characters")
        if any(o.name.casefold() == name.casefold() for o in out):
            raise ProfileError(r.source, f"{where}.name", f"'{name}' is used twice")
        role = r.text(item, "role", where=f"{where}.role")
        if role not in ROLES:
            raise ProfileError(r.source, f"{where}.role", f'must be one of {", ".join(ROLES)} (found "{role}")')
        raw_from = item.get("from")
        if isinstance(raw_from, str):
            sources = (raw_from,)
        elif isinstance(raw_from, list) and raw_from and all(isinstance(s, str) for s in raw_from):
            sources = tuple(raw_from)
        else:
            raise ProfileError(r.source, f"{where}.from", "must name a source field id, or a list of them")
        for s in sources:
            if s not in source_ids:
                raise ProfileError(r.source, f"{where}.from", f"'{s}' is not a declared source field id")
        if len(set(sources)) != len(sources):
            raise ProfileError(r.source, f"{where}.from", "names the same source field twice")
        if role in ("keep", "valid_nhs") and len(sources) != 1:
            raise ProfileError(r.source, f"{where}.from", f"a '{role}' field takes exactly one source field")
        labels = item.get("labels", {})
        if not isinstance(labels, dict) or any(k not in sources or not isinstance(v, str) for k, v in labels.items()):
            raise ProfileError(
                r.source,
                f"{where}.labels",
                "must map this field's source field ids to the column labels OpenPseudonymiser used",
            )
        nhs_source = item.get("nhs_source", "")
        if nhs_source and nhs_source not in sources:
            raise ProfileError(r.source, f"{where}.nhs_source", "must be one of this field's source field ids")
        if (labels or nhs_source) and role != "openpseudonymiser":
            raise ProfileError(r.source, f"{where}.labels", "labels and nhs_source belong to openpseudonymiser fields")
        allow = item.get("allow_identifiers", [])
        if allow is True:
            allow = list(IDENTIFIER_KINDS)
        if not isinstance(allow, list) or any(a not in IDENTIFIER_KINDS for a in allow):
            raise ProfileError(
                r.source, f"{where}.allow_identifiers", f"must be true or a list of: {', '.join(IDENTIFIER_KINDS)}"
            )
        generalise, categories = _coarsening(r, where, item, role, sources, conventions)
        out.append(
            OutputField(
                name,
                role,
                sources,
                str(item.get("description", "")),
                tuple(allow),
                dict(labels),
                str(nhs_source),
                generalise,
                categories,
            )
        )
    return tuple(out)


GENERALISE_LEVELS = {
    "dob": DOB_LEVELS,
    "date": DOB_LEVELS,
    "postcode": POSTCODE_LEVELS,
    "ethnicity": ETHNICITY_LEVELS,
}


def _coarsening(
    r: Reader, where: str, item: dict[str, Any], role: str, sources: tuple[str, ...], conventions: dict[str, str]
) -> tuple[str, dict[str, str]]:
    generalise = item.get("generalise", "")
    categories = item.get("categories", {})
    if not generalise and not categories:
        return "", {}
    if role != "keep":
        raise ProfileError(r.source, f"{where}.generalise", "only kept fields can be generalised")
    base = conventions[sources[0]]
    if generalise:
        levels = GENERALISE_LEVELS.get(base)
        if not isinstance(generalise, str) or not levels or generalise not in levels:
            allowed = (
                f"must be one of {', '.join(levels)}"
                if levels
                else "is not available for this convention (use categories)"
            )
            raise ProfileError(r.source, f"{where}.generalise", allowed)
    if categories:
        if generalise:
            raise ProfileError(r.source, f"{where}.categories", "use either generalise or categories, not both")
        if not isinstance(categories, dict) or not all(isinstance(v, str) for v in categories.values()):
            raise ProfileError(
                r.source,
                f"{where}.categories",
                'must map each value to its group, e.g. categories = { "1" = "White", "2" = "White" }',
            )
    return str(generalise), {str(k): v for k, v in categories.items()}


def _invalid_share(source: str, checks: dict[str, Any]) -> float:
    share = checks.get("max_invalid_share", Checks.max_invalid_share)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
        raise ProfileError(
            source, "checks.max_invalid_share", "must be a share between 0 and 1 (0.05 allows one value in 20)"
        )
    return float(share)


def _codings(r: Reader, where: str, item: dict[str, Any], base: Convention, options: dict[str, Any]) -> tuple[str, ...]:
    """The input codings the field accepts: choices of the convention's coding option."""
    codings = item.get("codings", [])
    if not isinstance(codings, list) or not all(isinstance(c, str) for c in codings):
        raise ProfileError(r.source, where, 'must be a list of codings, e.g. codings = ["none", "nhs_stated"]')
    if not codings:
        return ()
    spec = next((o for o in base.options if o.name == CODING_OPTION), None)
    if spec is None:
        raise ProfileError(r.source, where, f"the {base.name} convention has no input codings to choose from")
    unknown = [c for c in codings if c not in spec.choices]
    if unknown:
        raise ProfileError(
            r.source, where, f"unknown coding(s) {', '.join(unknown)} (known: {', '.join(spec.choices)})"
        )
    if CODING_OPTION in options and options[CODING_OPTION] not in codings:
        raise ProfileError(r.source, where, f"the field's own '{CODING_OPTION}' option must be one of its codings")
    return tuple(dict.fromkeys(codings))
