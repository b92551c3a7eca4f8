"""Inspecting a package as its recipient or an IG lead would: the manifest's signature, the
encrypted file's hash, and (with the key) the CSV itself, read back a block at a time.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pseudodesk.core.certificates import read_recipient_identity
from pseudodesk.core.check.scan import find_identifiers
from pseudodesk.core.errors import Cancelled, PackageError
from pseudodesk.core.files import file_sha256
from pseudodesk.core.package.crypto.cms import read_cms
from pseudodesk.core.package.crypto.sevenzip import read_7z
from pseudodesk.core.package.csv_output import neutralise
from pseudodesk.core.read.csv_text import csv_reader, text_lines

if TYPE_CHECKING:
    pass
from pseudodesk.core.package.manifest import (
    ENCRYPTED_SUFFIXES,
    MANIFEST_FORMAT,
    manifest_path_for,
    verify_manifest_signature,
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Inspection:
    encrypted: Path
    manifest_file: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    signer: str = ""
    checks: list[Check] = field(default_factory=list)
    decrypted: bool = False  # the content was decrypted to its end and checked (never kept)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok


def inspect_package(
    path: Path,
    *,
    pinned_fingerprint: str | None = None,
    known_signers: Mapping[str, str] | None = None,
    certificate: Path | None = None,
    private_key: Path | None = None,
    passphrase: str | None = None,
    sink: IO[bytes] | None = None,
    progress: Callable[[float, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Inspection:
    """Verify an exported package; decrypt it to check the content when a means is given.

    The decrypted CSV is never held whole: it is hashed, parsed and scanned a block at a time
    as it is decrypted (:func:`package_chunks`), so a package of any size is checked in
    bounded memory. ``sink`` (``decrypt``'s temporary output file) receives every decrypted
    byte as well, but only if the manifest's signature and the encrypted file's hash have
    passed (a package that is not the sender's is never written anywhere); whoever passes one
    must discard it unless the inspection is ``ok`` and ``decrypted``. ``progress`` hears the
    share of the manifest's rows checked so far;
    ``cancel`` is polled for each block (raising :class:`Cancelled`).
    """
    encrypted, manifest_file = _package_paths(path)
    result = Inspection(encrypted, manifest_file)
    try:
        doc = json.loads(manifest_file.read_text(encoding="utf-8"))
        result.manifest = doc["manifest"]
        if result.manifest.get("format") != MANIFEST_FORMAT:
            raise ValueError("not a pseudodesk manifest")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        result.add("manifest", False, f"{manifest_file.name} is missing or is not a pseudodesk manifest")
        return result
    ok, result.signer, detail = verify_manifest_signature(doc, pinned_fingerprint, known_signers)
    result.add("manifest signature", ok, detail)
    output = result.manifest.get("output", {})
    if not encrypted.exists():
        result.add("encrypted file", False, f"{encrypted.name} is missing")
        return result
    digest, size = file_sha256(encrypted)
    result.add(
        "encrypted file",
        digest == output.get("encrypted_sha256") and size == output.get("encrypted_size"),
        "SHA-256 matches the manifest"
        if digest == output.get("encrypted_sha256")
        else "SHA-256 differs from the manifest: the file was changed, or the manifest belongs to another export",
    )
    if certificate is None and passphrase is None:
        return result
    chunks = package_chunks(encrypted, certificate=certificate, private_key=private_key, passphrase=passphrase)
    try:
        checks = _check_content(
            chunks,
            output,
            sink if result.ok else None,
            progress or (lambda fraction, message: None),
            cancel or (lambda: False),
        )
    except PackageError as exc:  # possibly only at the end (a 7z's CRC): nothing seen counts
        result.add("decryption", False, str(exc))
        return result
    finally:
        chunks.close()  # now, not when an exception's frames go: the file, and py7zr's thread
    result.checks.extend(checks)
    result.decrypted = True
    return result


# Distinct values remembered per column by the content check's identifier scan; past this the
# memory is cleared and filled again (the scan stays exact, only slower).
SCAN_MEMO_LIMIT = 1_000_000


def _check_content(
    chunks: Iterator[bytes],
    output: dict[str, Any],
    sink: IO[bytes] | None,
    progress: Callable[[float, str], None],
    cancel: Callable[[], bool],
) -> list[Check]:
    """Hash, columns, rows and the identifier scan of the decrypted CSV, as it is decrypted.

    The CSV is decoded and parsed a block at a time (readers.text_lines) and each column's
    values are scanned once per distinct value, so a million-row export is checked in
    seconds without its rows, or its bytes, in memory. Content that is not UTF-8 CSV is
    still read to its end, for the hash (and ``sink``) and for decryption's own verdict.
    """

    digest = hashlib.sha256()
    stated = output.get("rows")
    expected = stated if isinstance(stated, int) and stated > 0 else 1

    def passed_on() -> Iterator[bytes]:
        for chunk in chunks:
            if cancel():
                raise Cancelled()
            progress(min(rows / expected, 1.0), f"Checked {rows:,} rows")
            digest.update(chunk)
            if sink is not None:
                sink.write(chunk)
            yield chunk

    plaintext = passed_on()
    # What the agreement lets each column carry: a kept postcode field holds postcodes by design.
    described = {f["name"]: f for f in output.get("fields", [])}
    findings: list[str] = []  # the first five, for the report
    found = rows = 0
    header: list[str] = []
    parsed = True
    with io.TextIOWrapper(io.BufferedReader(_ChunkReader(plaintext), 1 << 20), encoding="utf-8", newline="") as text:
        reader = csv_reader(text_lines(text))
        try:
            header = next(reader, [])
            skips: list[frozenset[str] | None] = []
            for name in header:
                spec = described.get(name, {})
                if spec.get("role") in ("pseudonym", "openpseudonymiser", "valid_nhs"):
                    skips.append(None)  # derived values, not source text
                else:
                    skips.append(frozenset([spec.get("convention", ""), *spec.get("allow_identifiers", [])]))
            seen: list[dict[str, tuple[str, ...]]] = [{} for _ in header]  # clean values share ()
            for number, row in enumerate(reader, start=2):
                rows += 1
                for j, value in enumerate(row[: len(header)]):
                    skip = skips[j]
                    if skip is None:
                        continue
                    kinds = seen[j].get(value)
                    if kinds is None:
                        if len(seen[j]) >= SCAN_MEMO_LIMIT:
                            seen[j].clear()
                        kinds = seen[j][value] = tuple(kind for kind, _ in find_identifiers(value, skip))
                    for kind in kinds:
                        found += 1
                        if len(findings) < 5:
                            findings.append(f"row {number}, column '{header[j]}': {kind.replace('_', ' ')}")
        except (UnicodeDecodeError, csv.Error):
            parsed = False
        for _ in plaintext:  # the rest, if the parse stopped early
            pass
    checks = [
        Check(
            "plaintext",
            digest.hexdigest() == output.get("csv_sha256"),
            "SHA-256 of the decrypted CSV matches the manifest",
        )
    ]
    if not parsed:
        return checks + [Check("columns", False, "the decrypted content is not UTF-8 CSV")]
    shown = "; ".join(findings) + (f" and {found - 5} more" if found > 5 else "")
    # A column name a spreadsheet would run as a formula is written with an apostrophe, as cells are.
    expected_columns = [neutralise(str(c)) for c in output.get("columns", [])]
    return checks + [
        Check(
            "columns",
            header == expected_columns,
            f"columns {header} {'match' if header == expected_columns else 'differ from'} the manifest",
        ),
        Check("rows", rows == output.get("rows"), f"{rows:,} data rows; the manifest says {output.get('rows')}"),
        Check("identifier scan", not found, "no direct identifiers found" if not found else shown),
    ]


class _ChunkReader(io.RawIOBase):
    """A readable binary stream over an iterator of byte chunks (for io.BufferedReader)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _package_paths(path: Path) -> tuple[Path, Path]:
    if path.name.endswith(".manifest.json"):
        stem = path.name[: -len(".manifest.json")]
        for suffix in ENCRYPTED_SUFFIXES:
            candidate = path.with_name(stem + suffix)
            if candidate.exists():
                return candidate, path
        return path.with_name(stem + ENCRYPTED_SUFFIXES[0]), path
    return path, manifest_path_for(path)


def decrypt_bytes(
    encrypted: Path,
    *,
    certificate: Path | None = None,
    private_key: Path | None = None,
    passphrase: str | None = None,
    private_key_password: str | None = None,
) -> bytes:
    """The CSV inside an export, in memory (for small packages; see :func:`package_chunks`)."""
    return b"".join(
        package_chunks(
            encrypted,
            certificate=certificate,
            private_key=private_key,
            passphrase=passphrase,
            private_key_password=private_key_password,
        )
    )


def package_chunks(
    encrypted: Path,
    *,
    certificate: Path | None = None,
    private_key: Path | None = None,
    passphrase: str | None = None,
    private_key_password: str | None = None,
) -> Generator[bytes, None, None]:
    """The CSV inside an export, decrypted a block at a time (memory does not grow with it).

    Raises :class:`PackageError` when the package cannot be opened, for a 7z possibly only
    after the last block (its CRC): nothing yielded can be trusted until the iteration finishes.
    """

    if encrypted.name.endswith(".csv.p7m"):
        if certificate is None or private_key is None:
            raise PackageError(
                f"{encrypted.name} is encrypted to a certificate: give the certificate and its private key."
            )
        try:
            cert, key = read_recipient_identity(certificate, private_key, private_key_password)
        except (OSError, ValueError, TypeError) as exc:
            raise PackageError(f"The certificate or private key cannot be read ({type(exc).__name__}).") from None
        yield from read_cms(encrypted, cert, key, name=encrypted.name)
    elif encrypted.name.endswith(".7z"):
        if passphrase is None:
            raise PackageError(f"{encrypted.name} needs its passphrase.")
        yield from read_7z(encrypted, passphrase, name=encrypted.name)
    else:
        raise PackageError(f"{encrypted.name} is not a pseudodesk export (.csv.p7m or .7z).")


def extract_7z_member(source: Path | IO[bytes], passphrase: str, name: str) -> bytes:
    """The single file of a small .7z, in memory: nothing decrypted touches the disk."""

    return b"".join(read_7z(source, passphrase, name=name))


def describe_manifest(manifest: dict[str, Any]) -> str:
    """What a manifest says, in one paragraph (as ``pseudodesk-cli inspect`` prints it)."""
    if not manifest:
        return ""
    try:
        output = manifest.get("output", {})
        operator = manifest.get("operator", {})
        key = manifest.get("key", {}).get("fingerprint", "?")
        agreement = manifest.get("agreement", {})
        approval = "DEMO: synthetic data" if agreement.get("demo") else approval_text(agreement.get("approval"))
        return (
            f"{agreement.get('name', '?')} ({approval}): "
            f"{int(output.get('rows', 0)):,} rows, columns "
            f"{', '.join(map(str, output.get('columns', [])))}; key {key}; "
            f"made by {operator.get('user', '?')} on {operator.get('machine', '?')} at "
            f"{manifest.get('created', {}).get('local', '?')}"
        )
    except (AttributeError, TypeError, ValueError):
        return "The manifest is not in the expected shape."


def approval_text(approval: Any) -> str:
    """What an ``approval`` (a manifest's ``agreement.approval``, an export entry's ``approval``)
    says, for the recipient and the IG lead."""
    if not isinstance(approval, dict):
        return "approval not recorded"
    if approval.get("approved"):
        return (
            f"approved: installed from agreement package version {approval.get('package_version')}, "
            f"custodian {approval.get('custodian_fingerprint')}"
        )
    confirmed = "; the sender confirmed the export" if approval.get("unapproved_accepted") else ""
    return (
        "NOT APPROVED: the profile was not installed from an agreement package (made or opened on "
        f"the partner's computer){confirmed}"
    )
