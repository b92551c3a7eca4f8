"""CMS EnvelopedData (AES-256-CBC, RSA key transport): streamed in and out so memory does not grow with the CSV."""

from __future__ import annotations

import contextlib
import io
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.x509 import Certificate
from pseudodesk.core.errors import ExportError, PackageError
from pseudodesk.core.package.crypto.der import (
    DER_NULL,
    OID_AES256_CBC,
    OID_DATA,
    OID_ENVELOPED_DATA,
    OID_RSA_ENCRYPTION,
    UnusualEnvelope,
    der,
    der_content,
    der_elements,
    der_head,
    der_integer,
    read_head,
)
from pseudodesk.core.progress import raise_if_cancelled


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


CMS_SPOOL_BYTES = 32 * 1024 * 1024  # ciphertext kept in memory up to this size, then written in place


COPY_BLOCK = 1024 * 1024


def write_cms(
    target: IO[bytes],
    data: bytes | Iterable[bytes],
    certificates: Sequence[Certificate],
    *,
    cancel: Callable[[], bool] | None = None,
    spool_bytes: int | None = None,
    copy_block: int | None = None,
) -> None:
    """Write CMS EnvelopedData (DER) of ``data`` to ``target``, encrypting chunk by chunk.

    The same envelope :func:`encrypt_cms` makes (a test compares the two field by field):
    version 0, one KeyTransRecipientInfo per certificate (issuer and serial, rsaEncryption,
    the AES key under RSA PKCS #1 v1.5, as ``cryptography``'s builder does), then
    EncryptedContentInfo with id-data, AES-256-CBC and its IV, and the ciphertext as a
    primitive [0]. ``cryptography``'s builder takes the plaintext as one bytes object and
    returns the envelope as another (gigabytes held for a large export); this one holds a chunk.

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
    :class:`Cancelled`). ``spool_bytes`` and ``copy_block`` default to :data:`CMS_SPOOL_BYTES`
    and :data:`COPY_BLOCK` (tests set them small to take the in-place path with little data).
    """
    spool = CMS_SPOOL_BYTES if spool_bytes is None else spool_bytes
    moved_in = COPY_BLOCK if copy_block is None else copy_block
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
        recipients.append(
            der(
                0x30,
                der_integer(0)
                + _issuer_and_serial(cert)
                + der(0x30, OID_RSA_ENCRYPTION + DER_NULL)
                + der(0x04, public.encrypt(key, asymmetric.PKCS1v15())),
            )
        )
    recipient_set = der(0x31, b"".join(sorted(recipients)))  # DER: a SET OF in order of the encodings
    encryptor = Cipher(algorithms.AES256(key), modes.CBC(iv)).encryptor()
    padder = padding.PKCS7(128).padder()
    if isinstance(data, (bytes, bytearray, memoryview)):  # in blocks, so that it passes the spool as chunks do
        whole = memoryview(data)
        chunks: Iterable[bytes | memoryview] = (whole[i : i + moved_in] for i in range(0, len(whole), moved_in))
    else:
        chunks = data
    held = bytearray()  # the ciphertext until it passes CMS_SPOOL_BYTES
    start = room = size = 0  # where the envelope starts in target, the header's room, the ciphertext's size
    for chunk in chunks:
        raise_if_cancelled(cancel)
        block = encryptor.update(padder.update(chunk))
        size += len(block)
        if room:
            target.write(block)
            continue
        held += block
        if len(held) > spool:
            if not target.seekable():
                raise ValueError("write_cms needs a seekable target for an envelope this large")
            start, room = target.tell(), len(_envelope_header(recipient_set, iv, len(held)))
            target.write(bytes(room))
            target.write(held)
            held = bytearray()
    block = encryptor.update(padder.finalize()) + encryptor.finalize()
    size += len(block)
    raise_if_cancelled(cancel)
    if not room:
        target.write(_envelope_header(recipient_set, iv, size) + held + block)
        return
    target.write(block)
    head = _envelope_header(recipient_set, iv, size)
    if len(head) > room:  # past 4 GiB (or a spool size set small by a test)
        _move_forward(target, start + room, size, len(head) - room, moved_in)
    end = start + len(head) + size
    target.seek(start)
    target.write(head)
    target.seek(end)


def _move_forward(f: IO[bytes], position: int, size: int, by: int, step_size: int = COPY_BLOCK) -> None:
    """Move ``size`` bytes at ``position`` in ``f`` ``by`` bytes towards its end, last block first."""
    end = position + size
    while end > position:
        step = min(step_size, end - position)
        end -= step
        f.seek(end)
        block = f.read(step)
        f.seek(end + by)
        f.write(block)


def _envelope_header(recipient_set: bytes, iv: bytes, size: int) -> bytes:
    """Everything of an envelope before its ciphertext of ``size`` bytes (all lengths DER)."""
    algorithm = der(0x30, OID_AES256_CBC + der(0x04, iv))
    content_head = der_head(0x80, size)  # [0] IMPLICIT OCTET STRING, primitive
    content_info_body = len(OID_DATA) + len(algorithm) + len(content_head) + size
    content_info_head = der_head(0x30, content_info_body)
    enveloped_body = len(der_integer(0)) + len(recipient_set) + len(content_info_head) + content_info_body
    enveloped_head = der_head(0x30, enveloped_body)
    explicit_body = len(enveloped_head) + enveloped_body
    explicit_head = der_head(0xA0, explicit_body)
    outer_body = len(OID_ENVELOPED_DATA) + len(explicit_head) + explicit_body
    return (
        der_head(0x30, outer_body)
        + OID_ENVELOPED_DATA
        + explicit_head
        + enveloped_head
        + der_integer(0)
        + recipient_set
        + content_info_head
        + OID_DATA
        + algorithm
        + content_head
    )


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
    position, length = der_content(tbs, 0)
    end = position + length
    while position < end and len(fields) < 4:
        start = position
        position = sum(der_content(tbs, position))  # content start + length = the next field
        fields.append(tbs[start:position])
    if fields and fields[0][:1] == b"\xa0":
        fields = fields[1:]
    if len(fields) < 3 or fields[0][:1] != b"\x02" or fields[2][:1] != b"\x30":
        raise ExportError("A recipient certificate's issuer and serial number cannot be read.")
    return der(0x30, fields[2] + fields[0])


READ_BLOCK = 1024 * 1024


def read_cms(
    source: Path | IO[bytes],
    certificate: Certificate,
    private_key: Any,
    *,
    name: str = "The package",
    read_block: int | None = None,
) -> Iterator[bytes]:
    """The plaintext inside CMS EnvelopedData, a block at a time: memory does not grow with it.

    Streams the envelope :func:`write_cms` writes, which ``cryptography``'s builder and
    ``openssl cms -encrypt -outform DER`` make too, and only that: its header must be byte
    for byte what :func:`_envelope_header` makes of its recipients, IV and size (DER, version
    0, AES-256-CBC, the ciphertext as a primitive [0] ending the file). Anything else
    (indefinite-length BER, non-minimal lengths, another algorithm or version, attributes
    after the content) goes to ``cryptography``'s parser whole, in memory: the
    same answers. Before a byte is given, ``cryptography`` itself decrypts a copy of the header
    with only the last ciphertext block (CBC needs only the block before it, as the IV): its
    verdict on the recipients, the key and the final padding is the one the whole file would
    get, and the last block it gives must be the one the key found here gives. The recipient
    is the one whose issuer and serial are the certificate's, byte for byte. Raises
    :class:`PackageError` when this key cannot open the envelope or it is damaged (damage in a
    middle block cannot be seen by CBC at all: the manifest's hashes find it). Blocks are
    ``read_block`` bytes (by default :data:`READ_BLOCK`) and one cipher block more at most.
    """
    size_of_block = READ_BLOCK if read_block is None else read_block
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.asymmetric import padding as asymmetric
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    refused = PackageError(
        f"{name} cannot be opened with this certificate's private key (encrypted to someone else, or damaged)."
    )

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
                raise UnusualEnvelope()
        except UnusualEnvelope:
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
        elsewhere = PackageError(
            f"{name} is not encrypted to this certificate (its issuer and serial number "
            "are not among the recipients), or is damaged."
        )
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
            block = f.read(min(size_of_block, remaining))
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
    IV, ciphertext size), with ``f`` left at the ciphertext; :class:`UnusualEnvelope` for
    anything this reader does not stream."""
    end = f.seek(0, io.SEEK_END)
    f.seek(0)

    def nest(tag: int) -> None:  # a constructed element that runs to the end of the file
        if read_head(f, tag) != end - f.tell():
            raise UnusualEnvelope()

    def element(tag: int, limit: int = 1 << 20) -> bytes:  # the content of a small element
        length = read_head(f, tag)
        content = f.read(length) if length <= limit else b""
        if len(content) != length or not length:
            raise UnusualEnvelope()
        return content

    nest(0x30)  # ContentInfo
    if element(0x06) != OID_ENVELOPED_DATA[2:]:
        raise UnusualEnvelope()
    nest(0xA0)
    nest(0x30)  # EnvelopedData
    element(0x02)  # version
    recipient_set = element(0x31)  # no originatorInfo before it
    recipients = []
    for tag, info in der_elements(recipient_set):
        fields = der_elements(info)
        if tag != 0x30 or len(fields) != 4 or fields[1][0] != 0x30:
            raise UnusualEnvelope()  # another kind of recipient, or one named by key identifier
        recipients.append((der(0x30, fields[1][1]), fields[3][1]))
    nest(0x30)  # EncryptedContentInfo
    if element(0x06) != OID_DATA[2:]:
        raise UnusualEnvelope()
    algorithm = der_elements(element(0x30))
    if len(algorithm) != 2 or algorithm[1][0] != 0x04 or len(algorithm[1][1]) != 16:
        raise UnusualEnvelope()
    size = read_head(f, 0x80)  # [0] IMPLICIT OCTET STRING, primitive, up to the end
    if size != end - f.tell():
        raise UnusualEnvelope()
    return der(0x31, recipient_set), recipients, algorithm[1][1], size
