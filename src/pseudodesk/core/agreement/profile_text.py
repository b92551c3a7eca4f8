"""A draft written as a profile file: commented TOML an IG lead can read, checked by parsing it
back before it is saved.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath
from typing import Any

from pseudodesk.core.agreement.authoring import (
    _OPTION_NAME,
    DRAFT_SOURCE,
    ON_INVALID_EXPLANATIONS,
    DraftSource,
    ProfileDraft,
    describe_field,
)
from pseudodesk.core.agreement.model import PROFILE_FORMAT, Profile
from pseudodesk.core.agreement.profile import load_profile, parse_profile
from pseudodesk.core.agreement.validate import validate_draft
from pseudodesk.core.errors import ProfileError
from pseudodesk.core.files import atomic_output
from pseudodesk.core.fingerprint import normalise_fingerprint


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
        parts.append(
            "# The project key: a run with a key of any other fingerprint is refused.\n" + _table("[key]", key)
        )
    parts.append(_RECIPIENT_COMMENT[draft.recipient_mode] + _table("[recipient]", recipient))
    parts.append(
        f"# {ON_INVALID_EXPLANATIONS[draft.on_invalid]}\n"
        + _table("[checks]", {"on_invalid": draft.on_invalid, "scan_identifiers": draft.scan_identifiers})
    )
    parts.append(
        "# The items the agreement needs from the spreadsheet. Aliases are column headers\n"
        "# that mean the same item; they help match another spreadsheet's columns."
    )
    seen: set[str] = set()
    for f in included:
        for s in f.sources:
            if s.field_id not in seen:
                seen.add(s.field_id)
                parts.append(_table("[[source_fields]]", _source_item(s)))
    parts.append("# The columns of the exported CSV, in this order. Everything else is stripped.")
    for f in included:
        ids = [s.field_id for s in f.sources]
        item: dict[str, Any] = {
            "name": f.name,
            "role": f.role,
            "from": ids if f.role == "pseudonym" else ids[0],
            "description": f.description or describe_field(f),
        }
        if f.allow_identifiers:
            item["allow_identifiers"] = list(f.allow_identifiers)
        parts.append(_table("[[output_fields]]", item))
    if draft.metadata:
        parts.append(
            "# The dataset description the agreement asks for.\n" + _dumps({"metadata": draft.metadata}, source=source)
        )
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
    return (
        f"# Agreement profile: {name}.\n"
        '# Made in the pseudodesk window ("Create profile"); it can be read and changed as text.\n'
        "# Field-by-field guide: docs/profile.md."
    )


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
    return _dumps({"v": value})[len("v = ") :].rstrip("\n")


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
