"""CSV bytes and their encryption: never a plaintext byte of the output on disk.

- :class:`CsvEncoder` turns row batches into RFC 4180 CSV bytes (UTF-8, CRLF, minimal
  quoting) and neutralises spreadsheet formulas (docs/csv-output.md).
- :func:`write_cms` streams the CSV into CMS EnvelopedData (AES-256-CBC content key,
  RSA key transport to one or more recipient certificates, binary mode, DER), which
  ``openssl cms -decrypt -binary -inform DER`` opens; memory does not grow with the CSV.
  :func:`encrypt_cms` is ``cryptography``'s one-call builder, for small payloads (key
  backups) and as the reference the streamed encoding is tested against.
- :func:`write_7z` writes a 7-Zip archive with AES-256 and encrypted headers (file
  names hidden too), which 7-Zip opens with the generated passphrase.
- :func:`read_cms` and :func:`read_7z` give a package's plaintext back a block at a time,
  for ``pseudodesk-cli inspect`` and ``decrypt`` (core/package/manifest.py).
- :func:`atomic_output` makes the final file appear whole or not at all.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import secrets
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

from pseudodesk.core.errors import Cancelled, ExportError, OutputExists, PackageError
from pseudodesk.core.threads import pushed

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PASSPHRASE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols: no 0/O, 1/I, no L-ambiguity
PASSPHRASE_GROUPS = 6
PASSPHRASE_GROUP_LEN = 4  # 6 x 4 symbols x 5 bits = 120 bits of entropy


def neutralise(value: str) -> str:
    """Prefix a cell that a spreadsheet would run as a formula with an apostrophe."""
    if value and value[0] in FORMULA_TRIGGERS:
        return "'" + value
    return value


class CsvEncoder:
    """Encodes rows to CSV bytes batch by batch; the header comes first."""

    def __init__(self, header: Sequence[str]) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        self._writer.writerow([neutralise(h) for h in header])

    def encode(self, rows: Sequence[Sequence[str]], plain: Sequence[Sequence[bool]] | None = None) -> bytes:
        """CSV bytes for the rows (and the header, on the first call).

        ``plain[i][j]`` true means the cell was validated by a convention as a plain
        number or date and is written as it is.
        """
        for i, row in enumerate(rows):
            flags = plain[i] if plain is not None else None
            self._writer.writerow(
                [v if flags is not None and flags[j] else neutralise(v) for j, v in enumerate(row)]
            )
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode("utf-8")


# --- recipient certificates (CMS) ----------------------------------------------------


def load_certificates(paths: Sequence[Path]) -> list[Certificate]:
    """Read PEM or DER X.509 certificates with RSA keys; refuse expired or unusable ones."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

    certs: list[Certificate] = []
    now = dt.datetime.now(dt.timezone.utc)
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ExportError(f"Recipient certificate {Path(path).name}: cannot be read ({exc.strerror}).") from None
        try:
            cert = (x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data
                    else x509.load_der_x509_certificate(data))
        except ValueError:
            raise ExportError(f"Recipient certificate {Path(path).name}: not a PEM or DER X.509 certificate.") from None
        if not isinstance(cert.public_key(), rsa.RSAPublicKey):
            raise ExportError(f"Recipient certificate {Path(path).name}: only RSA certificates are supported.")
        if cert.not_valid_after_utc < now:
            raise ExportError(
                f"Recipient certificate {Path(path).name} expired on {cert.not_valid_after_utc:%d/%m/%Y}; "
                "ask the recipient for their current certificate.")
        if cert.not_valid_before_utc > now:
            raise ExportError(f"Recipient certificate {Path(path).name} is not valid until "
                              f"{cert.not_valid_before_utc:%d/%m/%Y}.")
        certs.append(cert)
    if not certs:
        raise ExportError("No recipient certificate was given.")
    return certs


def read_recipient_identity(certificate: Path, private_key: Path,
                            password: str | None = None) -> tuple[Certificate, Any]:
    """A recipient's certificate (PEM or DER) and its PEM private key; ValueError/OSError when unreadable."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    data = certificate.read_bytes()
    cert = x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
    key = serialization.load_pem_private_key(private_key.read_bytes(), password.encode() if password else None)
    return cert, key


def certificate_fingerprint(cert: Certificate) -> str:
    from cryptography.hazmat.primitives import hashes

    return cert.fingerprint(hashes.SHA256()).hex().upper()


def encrypt_cms(data: bytes, certificates: Sequence[Certificate]) -> bytes:
    """CMS EnvelopedData, AES-256 content encryption, binary (no CRLF rewriting), DER, in one call."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.ciphers import algorithms
    from cryptography.hazmat.primitives.serialization import pkcs7

    builder = pkcs7.PKCS7EnvelopeBuilder().set_data(data)
    builder = builder.set_content_encryption_algorithm(algorithms.AES256)
    for cert in certificates:
        builder = builder.add_recipient(cert)
    return builder.encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])


# DER of the four object identifiers an envelope names (RFC 5652, RFC 3565, RFC 8017).
_OID_ENVELOPED_DATA = bytes.fromhex("06092a864886f70d010703")  # 1.2.840.113549.1.7.3
_OID_DATA = bytes.fromhex("06092a864886f70d010701")  # 1.2.840.113549.1.7.1
_OID_RSA_ENCRYPTION = bytes.fromhex("06092a864886f70d010101")  # 1.2.840.113549.1.1.1
_OID_AES256_CBC = bytes.fromhex("060960864801650304012a")  # 2.16.840.1.101.3.4.1.42
_DER_NULL = b"\x05\x00"
CMS_SPOOL_BYTES = 32 * 1024 * 1024  # ciphertext kept in memory up to this size, then written in place
_COPY_BLOCK = 1024 * 1024


def write_cms(target: IO[bytes], data: bytes | Iterable[bytes], certificates: Sequence[Certificate], *,
              cancel: Callable[[], bool] | None = None) -> None:
    """Write CMS EnvelopedData (DER) of ``data`` to ``target``, encrypting chunk by chunk.

    The same envelope :func:`encrypt_cms` makes (a test compares the two field by field):
    version 0, one KeyTransRecipientInfo per certificate (issuer and serial, rsaEncryption,
    the AES key under RSA PKCS #1 v1.5, as ``cryptography``'s builder does), then
    EncryptedContentInfo with id-data, AES-256-CBC and its IV, and the ciphertext as a
    primitive [0]. ``cryptography``'s builder takes the plaintext as one bytes object and
    returns the envelope as another (3.8 GB held at ten million rows); this one holds a chunk.

    DER puts every length before its content, and the ciphertext's length is known only
    after the last chunk. Up to :data:`CMS_SPOOL_BYTES` of ciphertext is kept in memory and
    written after its header. Past that, the header's size no longer depends on the exact
    length (each of its five lengths takes a 0x84 and four bytes from 16 MiB up to 4 GiB), so
    room for it is left at the start of ``target`` (which must then be seekable, as the
    export's temporary file is), the ciphertext goes straight after it, and the header is
    written into that room at the end: the output's disk space once, no copy. An envelope
    past 4 GiB needs a byte or two more per length; its ciphertext is then moved along in
    place (:func:`_move_forward`). Indefinite-length BER, which OpenSSL writes when it
    streams, would need no room, but ``cryptography``'s strict DER parser refuses it.
    ``cancel`` is polled before each chunk and before the header is written (raising
    :class:`Cancelled`).
    """
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.asymmetric import padding as asymmetric
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    if not certificates:
        raise ExportError("No recipient certificate was given.")
    key, iv = secrets.token_bytes(32), secrets.token_bytes(16)
    recipients = []
    for cert in certificates:
        public = cert.public_key()
        if not isinstance(public, rsa.RSAPublicKey):
            raise ExportError("Only RSA recipient certificates are supported.")
        recipients.append(_der(0x30, _der_integer(0) + _issuer_and_serial(cert)
                               + _der(0x30, _OID_RSA_ENCRYPTION + _DER_NULL)
                               + _der(0x04, public.encrypt(key, asymmetric.PKCS1v15()))))
    recipient_set = _der(0x31, b"".join(sorted(recipients)))  # DER: a SET OF in order of the encodings
    encryptor = Cipher(algorithms.AES256(key), modes.CBC(iv)).encryptor()
    padder = padding.PKCS7(128).padder()
    if isinstance(data, (bytes, bytearray, memoryview)):  # in blocks, so that it passes the spool as chunks do
        whole = memoryview(data)
        chunks: Iterable[bytes | memoryview] = (whole[i:i + _COPY_BLOCK] for i in range(0, len(whole), _COPY_BLOCK))
    else:
        chunks = data
    held = bytearray()  # the ciphertext until it passes CMS_SPOOL_BYTES
    start = room = size = 0  # where the envelope starts in target, the header's room, the ciphertext's size
    for chunk in chunks:
        _poll(cancel)
        block = encryptor.update(padder.update(chunk))
        size += len(block)
        if room:
            target.write(block)
            continue
        held += block
        if len(held) > CMS_SPOOL_BYTES:
            if not target.seekable():
                raise ValueError("write_cms needs a seekable target for an envelope this large")
            start, room = target.tell(), len(_envelope_header(recipient_set, iv, len(held)))
            target.write(bytes(room))
            target.write(held)
            held = bytearray()
    block = encryptor.update(padder.finalize()) + encryptor.finalize()
    size += len(block)
    _poll(cancel)
    if not room:
        target.write(_envelope_header(recipient_set, iv, size) + held + block)
        return
    target.write(block)
    head = _envelope_header(recipient_set, iv, size)
    if len(head) > room:  # past 4 GiB (or a spool size set small by a test)
        _move_forward(target, start + room, size, len(head) - room)
    end = start + len(head) + size
    target.seek(start)
    target.write(head)
    target.seek(end)


def _move_forward(f: IO[bytes], position: int, size: int, by: int) -> None:
    """Move ``size`` bytes at ``position`` in ``f`` ``by`` bytes towards its end, last block first."""
    end = position + size
    while end > position:
        step = min(_COPY_BLOCK, end - position)
        end -= step
        f.seek(end)
        block = f.read(step)
        f.seek(end + by)
        f.write(block)


def _envelope_header(recipient_set: bytes, iv: bytes, size: int) -> bytes:
    """Everything of an envelope before its ciphertext of ``size`` bytes (all lengths DER)."""
    algorithm = _der(0x30, _OID_AES256_CBC + _der(0x04, iv))
    content_head = _der_head(0x80, size)  # [0] IMPLICIT OCTET STRING, primitive
    content_info_body = len(_OID_DATA) + len(algorithm) + len(content_head) + size
    content_info_head = _der_head(0x30, content_info_body)
    enveloped_body = len(_der_integer(0)) + len(recipient_set) + len(content_info_head) + content_info_body
    enveloped_head = _der_head(0x30, enveloped_body)
    explicit_body = len(enveloped_head) + enveloped_body
    explicit_head = _der_head(0xA0, explicit_body)
    outer_body = len(_OID_ENVELOPED_DATA) + len(explicit_head) + explicit_body
    return (_der_head(0x30, outer_body) + _OID_ENVELOPED_DATA + explicit_head + enveloped_head
            + _der_integer(0) + recipient_set + content_info_head + _OID_DATA + algorithm + content_head)


def _issuer_and_serial(cert: Certificate) -> bytes:
    """IssuerAndSerialNumber with the issuer and serial exactly as the certificate encodes them.

    Copied from the certificate's own TBSCertificate, as ``cryptography``'s builder does, not
    re-encoded from ``cert.issuer``: a recipient is found by comparing these bytes
    (``cryptography``'s decryption compares them exactly), and older CAs' names (a T61String in
    Latin-1, say) may not even decode. TBSCertificate is SEQUENCE { [0] version OPTIONAL,
    serialNumber, signature, issuer, ... }.
    """
    tbs = cert.tbs_certificate_bytes
    fields: list[bytes] = []
    position, length = _der_content(tbs, 0)
    end = position + length
    while position < end and len(fields) < 4:
        start = position
        position = sum(_der_content(tbs, position))  # content start + length = the next field
        fields.append(tbs[start:position])
    if fields and fields[0][:1] == b"\xa0":
        fields = fields[1:]
    if len(fields) < 3 or fields[0][:1] != b"\x02" or fields[2][:1] != b"\x30":
        raise ExportError("A recipient certificate's issuer and serial number cannot be read.")
    return _der(0x30, fields[2] + fields[0])


def _der_content(data: bytes, position: int) -> tuple[int, int]:
    """(where the content of the DER element at ``position`` starts, its length)."""
    try:
        first = data[position + 1]
        if first < 0x80:
            return position + 2, first
        size = first & 0x7F
        return position + 2 + size, int.from_bytes(data[position + 2:position + 2 + size], "big")
    except IndexError:
        raise ExportError("A recipient certificate's issuer and serial number cannot be read.") from None


def _poll(cancel: Callable[[], bool] | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled()


def _der_head(tag: int, length: int) -> bytes:
    """A DER tag and definite length (short form below 128, else the minimal long form)."""
    if length < 0x80:
        return bytes((tag, length))
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size


def _der(tag: int, content: bytes) -> bytes:
    return _der_head(tag, len(content)) + content


def _der_integer(value: int) -> bytes:
    """A DER INTEGER, minimal two's complement (the envelope's versions; serials are copied, see above)."""
    return _der(0x02, value.to_bytes((~value if value < 0 else value).bit_length() // 8 + 1, "big", signed=True))


# --- passphrase (7-Zip) ----------------------------------------------------------------


def generate_passphrase() -> str:
    """Six groups of four symbols from a 32-symbol alphabet: 120 bits, easy to read aloud."""
    groups = ["".join(secrets.choice(PASSPHRASE_ALPHABET) for _ in range(PASSPHRASE_GROUP_LEN))
              for _ in range(PASSPHRASE_GROUPS)]
    return "-".join(groups)


def write_7z(target: IO[bytes], data: bytes | Iterable[bytes], member_name: str, passphrase: str, *,
             cancel: Callable[[], bool] | None = None,
             progress: Callable[[float], None] | None = None) -> None:
    """A .7z archive holding one file, Deflate (level 1) + AES-256, headers encrypted.

    Deflate, not py7zr's default LZMA2: an export is mostly 64-hex-digit pseudonyms, which
    compress to about half whatever the method, and LZMA2 spends its time for little more.
    Measured on 90 MB of CSV (docs/performance.md): LZMA2 preset 1 5.2 s -> 21 MB, Deflate
    2.6 s -> 21 MB (earlier, on a 17.9 MB export, LZMA2's default preset took 24.5 s for
    7.8 MB). Deflate is one of 7-Zip's standard methods: 7-Zip, p7zip and libarchive open it.
    Level 1, not zlib's default 6 (py7zr has no setting for it; :func:`_use_fast_deflate`):
    on a million-row export, 1.1 s instead of 3.5 s for a member 6% larger; the level is not
    recorded in the archive and every Deflate reader reads it.

    ``data`` is the member's bytes, or chunks of them made while py7zr reads (the run's CSV,
    batch by batch, so memory does not grow with the file). py7zr reads in blocks;
    ``cancel`` is polled before each block (raising :class:`Cancelled`), so stopping a large
    export takes effect at once. ``progress`` (bytes only) receives the share read so far.
    """
    import py7zr

    _use_fast_deflate()
    source: io.BytesIO = (_WatchedBytes(data, cancel, progress) if isinstance(data, bytes)
                          else _StreamedBytes(iter(data), cancel))
    filters = [{"id": py7zr.FILTER_DEFLATE}, {"id": py7zr.FILTER_CRYPTO_AES256_SHA256}]
    with py7zr.SevenZipFile(target, "w", password=passphrase, header_encryption=True, filters=filters) as archive:
        archive.writef(source, member_name)


DEFLATE_LEVEL = 1


def _use_fast_deflate() -> None:
    """Make py7zr's Deflate compressor zlib level :data:`DEFLATE_LEVEL`.

    py7zr builds its compressors from the table ``py7zr.compressor.algorithm_class_map`` and
    its Deflate class takes no level; this puts a subclass with the level in that table entry
    (the decompressor is unchanged: the level is not part of the stream's format). Only this
    module writes 7z archives, so the process-wide change is ours alone; a test checks with
    7-Zip that the packed member is Deflate at level 1 (tests/core/test_export.py).
    """
    import zlib

    import py7zr
    from py7zr import compressor

    class FastDeflate(compressor.DeflateCompressor):
        def __init__(self) -> None:
            self._compressor = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)

    current = compressor.algorithm_class_map[py7zr.FILTER_DEFLATE]
    if current[0].__name__ != "FastDeflate":
        compressor.algorithm_class_map[py7zr.FILTER_DEFLATE] = (FastDeflate, current[1])


class _WatchedBytes(io.BytesIO):
    """The plaintext as py7zr reads it, block by block, with cancel and progress between blocks."""

    def __init__(self, data: bytes, cancel: Callable[[], bool] | None,
                 progress: Callable[[float], None] | None) -> None:
        super().__init__(data)
        self._size = max(len(data), 1)
        self._cancel = cancel
        self._progress = progress

    def read(self, size: int | None = -1) -> bytes:
        if self._cancel is not None and self._cancel():
            raise Cancelled()
        chunk = super().read(size)
        if self._progress is not None:
            self._progress(min(self.tell() / self._size, 1.0))
        return chunk


class _StreamedBytes(io.BytesIO):
    """Chunks handed to py7zr as it reads; only the chunk being read is in memory.

    A BytesIO so py7zr accepts it as a member; py7zr asks its buffer's size only to tell an
    empty member from a non-empty one, and records the real size from what it read.
    """

    def __init__(self, chunks: Iterator[bytes], cancel: Callable[[], bool] | None) -> None:
        super().__init__()
        self._chunks = chunks
        self._cancel = cancel
        self._pending = bytearray()

    def getbuffer(self) -> memoryview:
        return memoryview(b"\0")  # "not empty": the member's length is known only at the end

    def read(self, size: int | None = -1) -> bytes:
        if self._cancel is not None and self._cancel():
            raise Cancelled()
        while size is None or size < 0 or len(self._pending) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._pending += chunk
        cut = len(self._pending) if size is None or size < 0 else min(size, len(self._pending))
        out = bytes(self._pending[:cut])
        del self._pending[:cut]
        return out


# --- reading packages back (inspect, decrypt) ------------------------------------------------

READ_BLOCK = 1024 * 1024


class _UnusualEnvelope(Exception):
    """An envelope whose shape read_cms does not stream; cryptography's parser reads it whole."""


def read_cms(source: Path | IO[bytes], certificate: Certificate, private_key: Any, *,
             name: str = "The package") -> Iterator[bytes]:
    """The plaintext inside CMS EnvelopedData, a block at a time: memory does not grow with it.

    Streams the envelope :func:`write_cms` writes, which ``cryptography``'s builder and
    ``openssl cms -encrypt -outform DER`` make too, and only that: its header must be byte
    for byte what :func:`_envelope_header` makes of its recipients, IV and size (DER, version
    0, AES-256-CBC, the ciphertext as a primitive [0] ending the file). Anything else
    (indefinite-length BER, non-minimal lengths, another algorithm or version, attributes
    after the content) goes to ``cryptography``'s parser whole, as before: the same answers,
    in memory. Before a byte is given, ``cryptography`` itself decrypts a copy of the header
    with only the last ciphertext block (CBC needs only the block before it, as the IV): its
    verdict on the recipients, the key and the final padding is the one the whole file would
    get, and the last block it gives must be the one the key found here gives. The recipient
    is the one whose issuer and serial are the certificate's, byte for byte. Raises
    :class:`PackageError` when this key cannot open the envelope or it is damaged (damage in a
    middle block cannot be seen by CBC at all: the manifest's hashes find it).
    """
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.asymmetric import padding as asymmetric
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    refused = PackageError(f"{name} cannot be opened with this certificate's private key "
                           "(encrypted to someone else, or damaged).")

    def whole(envelope: bytes, refusal: PackageError = refused) -> bytes:
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives.serialization import pkcs7

        try:
            return pkcs7.pkcs7_decrypt_der(envelope, certificate, private_key, [])
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise refusal from None

    def aes(key: bytes, iv: bytes) -> tuple[Any, Any]:
        return Cipher(algorithms.AES256(key), modes.CBC(iv)).decryptor(), padding.PKCS7(128).unpadder()

    with _opened(source) as f:
        try:
            recipient_set, recipients, iv, size = _cms_layout(f)
            start = f.tell()
            f.seek(0)
            if size < 16 or size % 16 or f.read(start) != _envelope_header(recipient_set, iv, size):
                raise _UnusualEnvelope()
        except _UnusualEnvelope:
            f.seek(0)
            yield whole(f.read())
            return
        try:
            wanted = _issuer_and_serial(certificate)
        except ExportError:
            raise PackageError("The certificate's issuer and serial number cannot be read.") from None
        sealed = [key for rid, key in recipients if rid == wanted]
        f.seek(start + size - 32 if size >= 32 else start)
        before = f.read(16) if size >= 32 else iv
        last = f.read(16)
        elsewhere = PackageError(f"{name} is not encrypted to this certificate (its issuer and serial number "
                                 "are not among the recipients), or is damaged.")
        expected_tail = whole(_envelope_header(recipient_set, before, 16) + last, refused if sealed else elsewhere)
        if not sealed or not isinstance(private_key, rsa.RSAPrivateKey):
            f.seek(0)  # cryptography found a recipient its own way: let it read the whole
            yield whole(f.read())
            return
        try:
            content_key = private_key.decrypt(sealed[0], asymmetric.PKCS1v15())
            decryptor, unpadder = aes(content_key, before)
            tail = unpadder.update(decryptor.update(last) + decryptor.finalize()) + unpadder.finalize()
        except ValueError:
            raise refused from None
        if tail != expected_tail:
            raise refused
        decryptor, unpadder = aes(content_key, iv)
        f.seek(start)
        remaining = size
        while remaining:
            block = f.read(min(READ_BLOCK, remaining))
            if not block:
                raise refused
            remaining -= len(block)
            plain = unpadder.update(decryptor.update(block))
            if plain:
                yield plain
        try:
            plain = unpadder.update(decryptor.finalize()) + unpadder.finalize()
        except ValueError:  # the file changed under us since the last block was checked
            raise refused from None
        if plain:
            yield plain


@contextlib.contextmanager
def _opened(source: Path | IO[bytes]) -> Iterator[IO[bytes]]:
    if isinstance(source, Path):
        with source.open("rb") as f:
            yield f
    else:
        yield source


def _cms_layout(f: IO[bytes]) -> tuple[bytes, list[tuple[bytes, bytes]], bytes, int]:
    """(the recipients' SET, [(a recipient's IssuerAndSerialNumber, its encrypted content key)],
    IV, ciphertext size), with ``f`` left at the ciphertext; :class:`_UnusualEnvelope` for
    anything this reader does not stream."""
    end = f.seek(0, io.SEEK_END)
    f.seek(0)

    def nest(tag: int) -> None:  # a constructed element that runs to the end of the file
        if _read_head(f, tag) != end - f.tell():
            raise _UnusualEnvelope()

    def element(tag: int, limit: int = 1 << 20) -> bytes:  # the content of a small element
        length = _read_head(f, tag)
        content = f.read(length) if length <= limit else b""
        if len(content) != length or not length:
            raise _UnusualEnvelope()
        return content

    nest(0x30)  # ContentInfo
    if element(0x06) != _OID_ENVELOPED_DATA[2:]:
        raise _UnusualEnvelope()
    nest(0xA0)
    nest(0x30)  # EnvelopedData
    element(0x02)  # version
    recipient_set = element(0x31)  # no originatorInfo before it
    recipients = []
    for tag, info in _der_elements(recipient_set):
        fields = _der_elements(info)
        if tag != 0x30 or len(fields) != 4 or fields[1][0] != 0x30:
            raise _UnusualEnvelope()  # another kind of recipient, or one named by key identifier
        recipients.append((_der(0x30, fields[1][1]), fields[3][1]))
    nest(0x30)  # EncryptedContentInfo
    if element(0x06) != _OID_DATA[2:]:
        raise _UnusualEnvelope()
    algorithm = _der_elements(element(0x30))
    if len(algorithm) != 2 or algorithm[1][0] != 0x04 or len(algorithm[1][1]) != 16:
        raise _UnusualEnvelope()
    size = _read_head(f, 0x80)  # [0] IMPLICIT OCTET STRING, primitive, up to the end
    if size != end - f.tell():
        raise _UnusualEnvelope()
    return _der(0x31, recipient_set), recipients, algorithm[1][1], size


def _read_head(f: IO[bytes], tag: int) -> int:
    """The length of the element at ``f``'s position, which must have ``tag`` and a DER length."""
    head = f.read(2)
    if len(head) != 2 or head[0] != tag or head[1] == 0x80 or head[1] > 0x88:
        raise _UnusualEnvelope()
    if head[1] < 0x80:
        return head[1]
    size = f.read(head[1] & 0x7F)
    if len(size) != head[1] & 0x7F or size[0] == 0 or int.from_bytes(size, "big") < 0x80:
        raise _UnusualEnvelope()  # short, or not the minimal form DER requires
    return int.from_bytes(size, "big")


def _der_elements(data: bytes) -> list[tuple[int, bytes]]:
    """The (tag, content) of each element in ``data``, one after another (one-byte tags, DER lengths)."""
    elements = []
    position = 0
    while position < len(data):
        if position + 2 > len(data) or data[position] & 0x1F == 0x1F or data[position + 1] == 0x80:
            raise _UnusualEnvelope()
        start, length = _der_content(data, position)
        if start + length > len(data) or _der_head(data[position], length) != data[position:start]:
            raise _UnusualEnvelope()
        elements.append((data[position], data[start:start + length]))
        position = start + length
    return elements


def read_7z(source: Path | IO[bytes], passphrase: str, *, name: str = "The package") -> Iterator[bytes]:
    """The one file inside a .7z, decrypted and inflated a block at a time.

    py7zr extracts into a file-like object it writes to; here that object hands each block
    over to this iterator from py7zr's worker thread (:func:`threads.pushed`), so memory does
    not grow with the file. Raises :class:`PackageError` for a wrong passphrase, a damaged
    archive (a CRC mismatch shows only after the last block) or an archive that does not hold
    exactly one file.
    """
    import py7zr
    from py7zr.io import Py7zIO, WriterFactory

    def extract(emit: Callable[[bytes], None]) -> None:
        class Member(Py7zIO):
            written = 0

            def write(self, s: bytes | bytearray) -> int:
                emit(bytes(s))
                self.written += len(s)
                return len(s)

            def read(self, size: int | None = None) -> bytes:
                return b""

            def seek(self, offset: int, whence: int = 0) -> int:
                return 0

            def flush(self) -> None:
                pass

            def size(self) -> int:
                return self.written

        class Members(WriterFactory):
            def create(self, filename: str) -> Py7zIO:
                return Member()

        try:
            with py7zr.SevenZipFile(source, "r", password=passphrase) as archive:
                names = archive.getnames()
                if len(names) != 1:
                    raise PackageError(f"{name} should hold exactly one CSV, it holds {len(names)} files.")
                archive.extractall(factory=Members())
        except PackageError:
            raise
        except Exception:  # py7zr raises assorted errors for a wrong passphrase or a damaged archive
            raise PackageError(f"{name} cannot be opened with this passphrase (wrong passphrase, or damaged).") from None

    return pushed(extract, depth=2, name="pseudodesk-7z-read")
