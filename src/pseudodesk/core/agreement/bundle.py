"""A profile with the files it names, as one unit that can travel: the recipient certificates
and the convention packs it reads by path.

:func:`bundle_profile` reads a profile and those files, and rewrites the profile's references
to the copies it embeds (``certificates/NAME``, ``packs/NAME``), so that where the bundle is
written (:func:`write_bundle`) the profile finds them beside it, whatever the paths were on
the computer it came from. Only the two arrays change: the rewritten text is parsed back and
must equal the original document with those arrays replaced, comments and layout kept.
:func:`bundle_references` checks, without touching the disk, that a profile's references are
exactly the files embedded with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pseudodesk.core.agreement.profile import load_profile
from pseudodesk.core.errors import ProfileError

CERTIFICATE = "certificate"
PACK = "pack"
FOLDERS = {CERTIFICATE: "certificates", PACK: "packs"}
PROFILE_NAME = "profile.toml"

_EMBEDDED = re.compile(r"^(certificates|packs)/[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$")
_NOT_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class BundledFile:
    """A file the profile names, as it will lie beside the profile (``path`` is POSIX, relative)."""

    path: str
    kind: str  # CERTIFICATE or PACK
    data: bytes = field(repr=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class ProfileBundle:
    profile: bytes = field(repr=False)  # the profile's TOML, its references pointing at ``files``
    files: tuple[BundledFile, ...] = ()

    @property
    def sha256(self) -> str:
        """The profile's SHA-256: what every manifest and audit entry made with it records."""
        return hashlib.sha256(self.profile).hexdigest()


def is_embedded_path(text: str) -> bool:
    """Whether ``text`` is a path a bundle may hold: ``certificates/NAME`` or ``packs/NAME``, no '..'."""
    return bool(_EMBEDDED.match(text)) and ".." not in text


def bundle_profile(path: Path) -> ProfileBundle:
    """The profile at ``path`` (checked in full) with copies of the certificates and pack files it names."""
    profile = load_profile(path)
    source = path.name
    data = path.read_bytes()
    doc = tomllib.loads(data.decode("utf-8"))
    text = data.decode("utf-8")
    files: list[BundledFile] = []
    used: set[str] = set()

    def embed(kind: str, original: str, resolved: Path) -> str:
        try:
            content = resolved.read_bytes()
        except OSError as exc:
            raise ProfileError(source, "", f"cannot read {original} ({exc.strerror})") from None
        name = PurePosixPath(resolved.name).name
        if not _SAFE_NAME.match(name):
            name = _NOT_SAFE.sub("-", name).strip(".-_") or kind
        stem, dot, suffix = name.rpartition(".")
        if not dot:
            stem, suffix = name, ""
        candidate, n = name, 1
        while f"{FOLDERS[kind]}/{candidate}".lower() in used:
            n += 1
            candidate = f"{stem}-{n}" + (f".{suffix}" if suffix else "")
        embedded = f"{FOLDERS[kind]}/{candidate}"
        used.add(embedded.lower())
        files.append(BundledFile(embedded, kind, content))
        return embedded

    recipient = doc.get("recipient", {})
    if recipient.get("mode") == "certificate":
        raw = list(recipient.get("certificates", []))
        names = [embed(CERTIFICATE, str(r), p) for r, p in zip(raw, profile.recipient.certificates)]
        if names != raw:
            text = _replace_array(text, r"(?:recipient\s*\.\s*)?certificates", names, doc, "recipient.certificates")
            doc = tomllib.loads(text)
    packs = list(doc.get("packs", []))
    if any(str(p).endswith(".toml") for p in packs):
        base = path.parent
        names = [
            embed(PACK, p, (Path(p) if Path(p).is_absolute() else base / p)) if p.endswith(".toml") else p
            for p in packs
        ]
        if names != packs:
            text = _replace_array(text, r"packs", names, doc, "packs")
    return ProfileBundle(text.encode("utf-8"), tuple(files))


def _replace_array(text: str, key: str, values: list[str], doc: dict[str, Any], where: str) -> str:
    """``text`` with the array assigned to ``key`` replaced by ``values``; nothing else may change."""
    expected = _with(doc, where, values)
    for match in re.finditer(rf"(?<![\w.\-\"']){key}\s*=\s*\[", text):
        found = _array_strings(text, match.end() - 1)
        if found is None or len(found) != len(values):
            continue
        candidate = text
        for (start, end), value in reversed(list(zip(found, values))):  # each string in place: comments stay
            candidate = candidate[:start] + json.dumps(value) + candidate[end:]
        try:
            if tomllib.loads(candidate) == expected:
                return candidate
        except tomllib.TOMLDecodeError:
            continue
    raise ProfileError(
        "",
        where,
        "cannot be rewritten to point at the embedded copies; write it as a plain array "
        '(certificates = ["lcc.crt"]) in its table',
    )


def _with(doc: dict[str, Any], where: str, values: list[str]) -> dict[str, Any]:
    out = dict(doc)
    if where == "packs":
        out["packs"] = values
    else:
        out["recipient"] = {**doc["recipient"], "certificates": values}
    return out


def _array_strings(text: str, start: int) -> list[tuple[int, int]] | None:
    """The spans of the strings in the array opened at ``start`` (comments skipped), or None
    if it does not close."""
    depth, i, spans = 0, start, []
    while i < len(text):
        ch = text[i]
        if ch == "#":
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
            continue
        if ch in "\"'":
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            j = i + len(quote)
            while j < len(text) and not text.startswith(quote, j):
                j += 2 if (ch == '"' and text[j] == "\\") else 1
            spans.append((i, j + len(quote)))
            i = j + len(quote)
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return spans
        i += 1
    return None


def bundle_references(profile: bytes, files: tuple[BundledFile, ...]) -> str:
    """What is wrong with the profile's references to ``files`` ("" when each names one of
    them and every file is named): checked before anything is written."""
    try:
        doc = tomllib.loads(profile.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return "the profile is not UTF-8 TOML"
    recipient = doc.get("recipient", {})
    certificates = recipient.get("certificates", []) if isinstance(recipient, dict) else []
    packs = [p for p in doc.get("packs", []) if isinstance(p, str) and p.endswith(".toml")]
    named = {(CERTIFICATE, c) for c in certificates if isinstance(c, str)} | {(PACK, p) for p in packs}
    held = {(f.kind, f.path) for f in files}
    if len(held) != len(files):
        return "a file is embedded twice"
    if any(not is_embedded_path(f.path) or not f.path.startswith(FOLDERS.get(f.kind, "?") + "/") for f in files):
        return "an embedded file has a path outside its folder"
    if named != held:
        return "the profile's certificates and packs are not the files embedded with it"
    return ""


def write_bundle(bundle: ProfileBundle, folder: Path) -> Path:
    """Write the profile (as ``profile.toml``) and its files into ``folder``, read-only; its path."""
    for item in bundle.files:
        if not is_embedded_path(item.path):
            raise ProfileError(PROFILE_NAME, "", f"refuses to write the embedded file {item.path!r}")
    written = [(folder / PROFILE_NAME, bundle.profile), *((folder / f.path, f.data) for f in bundle.files)]
    for target, content in written:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        os.chmod(target, stat.S_IREAD | stat.S_IRGRP | stat.S_IROTH)
    return folder / PROFILE_NAME
