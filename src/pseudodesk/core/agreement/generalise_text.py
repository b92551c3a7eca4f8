"""A profile with a chosen generalisation written in: the risk report's lattice search offers
a few (check/lattice.py); the IG lead picks one and gets the profile file back with
``generalise = "..."`` on those output fields, every other line as it was (comments included).

The result is checked by reading it back: it must be a valid profile whose fields carry exactly
the chosen levels. It is a new profile (a new SHA-256): unapproved until the custodian packs it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pseudodesk.core.agreement.model import Profile
from pseudodesk.core.agreement.profile import parse_profile
from pseudodesk.core.errors import ProfileError
from pseudodesk.core.files import atomic_output

_OUTPUT_HEADER = re.compile(r"^\s*\[\[\s*output_fields\s*\]\]\s*(#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[")
_GENERALISE = re.compile(r"^\s*generalise\s*=")
_CATEGORIES = re.compile(r"^\s*categories\s*=")


def with_generalisation(text: str, levels: dict[str, str], *, source: str, base_dir: Path | None = None) -> str:
    """``text`` (a profile's TOML) with each named output field sent at its level."""
    try:
        outputs = tomllib.loads(text).get("output_fields", [])
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(source, "", f"is not valid TOML ({exc})") from None
    names = [str(o.get("name", "")) for o in outputs if isinstance(o, dict)]
    lines = text.splitlines(keepends=True)
    headers = [i for i, line in enumerate(lines) if _OUTPUT_HEADER.match(line)]
    if len(headers) != len(names):
        raise ProfileError(
            source,
            "output_fields",
            "is not written as [[output_fields]] tables, which this cannot change; edit the file",
        )
    # From the last field up, so the line numbers of the earlier ones stay put.
    for index in sorted((names.index(n) for n in levels if n in names), reverse=True):
        name = names[index]
        start = headers[index] + 1
        end = next((i for i in range(start, len(lines)) if _ANY_HEADER.match(lines[i])), len(lines))
        line = f'generalise = "{levels[name]}"\n'
        body = range(start, end)
        if any(_CATEGORIES.match(lines[i]) for i in body):
            raise ProfileError(source, f"output field {name}", "groups its values with categories; edit the file")
        existing = next((i for i in body if _GENERALISE.match(lines[i])), None)
        if existing is not None:
            lines[existing] = line
        else:
            if not lines[start - 1].endswith("\n"):
                lines[start - 1] += "\n"
            lines.insert(start, line)
    missing = [n for n in levels if n not in names]
    if missing:
        raise ProfileError(source, "output_fields", f"has no output field {missing[0]}")
    result = "".join(lines)
    profile = parse_profile(result.encode("utf-8"), source=source, base_dir=base_dir)
    _check(profile, levels, source)
    return result


def _check(profile: Profile, levels: dict[str, str], source: str) -> None:
    sent = {o.name: o.generalise for o in profile.output_fields}
    for name, level in levels.items():
        if sent.get(name) != level:
            raise ProfileError(source, f"output field {name}", f"could not be set to {level}; edit the file")


def write_generalised_copy(
    profile: Profile, levels: dict[str, str], destination: Path | str, *, overwrite: bool = False
) -> Profile:
    """A copy of ``profile``'s file at ``destination`` with ``levels`` written in; the copy must
    find the same recipient certificates as the original (they are named relative to the file)."""
    if profile.path is None:
        raise ProfileError(profile.name, "", "was not read from a file, so there is no file to copy")
    target = Path(destination)
    try:
        text = profile.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(profile.path.name, "", f"cannot be read ({exc})") from None
    out = with_generalisation(text, levels, source=target.name, base_dir=target.parent)
    copy = parse_profile(out.encode("utf-8"), source=target.name, base_dir=target.parent, path=target)
    if copy.recipient.certificates != profile.recipient.certificates:
        raise ProfileError(
            target.name,
            "recipient.certificates",
            "would name other certificate files from that folder; save the copy beside the original profile",
        )
    with atomic_output(target, overwrite=overwrite) as f:
        f.write(out.encode("utf-8"))
    return copy
