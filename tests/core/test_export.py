"""CSV output rules and encryption that standard tools open: openssl cms and 7-Zip."""

from __future__ import annotations

import csv
import io
import subprocess

import pytest

from pseudodesk.core.certificates import load_certificates, read_recipient_identity
from pseudodesk.core.errors import ExportError, OutputExists
from pseudodesk.core.files import atomic_output
from pseudodesk.core.package.crypto import cms, sevenzip
from pseudodesk.core.package.crypto.cms import encrypt_cms, write_cms
from pseudodesk.core.package.crypto.sevenzip import generate_passphrase, write_7z
from pseudodesk.core.package.csv_output import CsvEncoder, neutralise
from tests.helpers import decrypt_cms, require_tool

PAYLOAD = (
    b'PERSON_ID,NOTE\r\nAB12,"line one\nline two"\r\nCD34,"comma, ""quote"""\r\n'
    + "Zoë\r\n".encode()
    + bytes(range(32, 127))
)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+44 7700", "'+44 7700"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("", ""),
        ("SW1A 2AA", "SW1A 2AA"),
    ],
)
def test_formula_neutralising(value, written):
    assert neutralise(value) == written


def test_csv_is_rfc4180_and_plain_values_are_left_alone():
    enc = CsvEncoder(["ID", "NOTE", "N"])
    data = enc.encode(
        [["1", 'say "hi", then\nleave', "-3"], ["2", "=cmd", "-3"]], [[True, False, True], [True, False, False]]
    )
    assert data.decode() == 'ID,NOTE,N\r\n1,"say ""hi"", then\nleave",-3\r\n2,\'=cmd,\'-3\r\n'
    assert list(csv.reader(io.StringIO(data.decode(), newline=""))) == [
        ["ID", "NOTE", "N"],
        ["1", 'say "hi", then\nleave', "-3"],
        ["2", "'=cmd", "'-3"],
    ]


def test_header_only_once_across_batches():
    enc = CsvEncoder(["A"])
    assert enc.encode([["1"]]) + enc.encode([["2"]]) == b"A\r\n1\r\n2\r\n"


def test_cms_output_opens_with_openssl(tmp_path, demo_paths):
    openssl = require_tool("openssl")
    certs = load_certificates([demo_paths["certificate"]])
    (tmp_path / "out.p7m").write_bytes(encrypt_cms(PAYLOAD, certs))
    subprocess.run(
        [
            openssl,
            "cms",
            "-decrypt",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "out.p7m"),
            "-inkey",
            str(demo_paths["private_key"]),
            "-out",
            str(tmp_path / "plain.csv"),
        ],
        check=True,
        capture_output=True,
    )
    assert (tmp_path / "plain.csv").read_bytes() == PAYLOAD  # byte for byte: no CRLF rewriting


def test_cms_uses_aes256(tmp_path, demo_paths):
    openssl = require_tool("openssl")
    der = encrypt_cms(b"x", load_certificates([demo_paths["certificate"]]))
    (tmp_path / "x.p7m").write_bytes(der)
    dump = subprocess.run(
        [openssl, "cms", "-cmsout", "-print", "-inform", "DER", "-in", str(tmp_path / "x.p7m")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "aes-256-cbc" in dump


@pytest.fixture
def second_recipient(tmp_path):
    """A second recipient: certificate, its private key, and the certificate's PEM file."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "second")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "second.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key, path


def test_cms_to_two_recipients(demo_paths, second_recipient):
    from cryptography.hazmat.primitives.serialization import pkcs7

    cert, key, path = second_recipient
    der = encrypt_cms(PAYLOAD, load_certificates([demo_paths["certificate"], path]))
    assert pkcs7.pkcs7_decrypt_der(der, cert, key, []) == PAYLOAD


# --- the streamed envelope (write_cms) ---------------------------------------------------------


def _asn1_shape(openssl: str, der: bytes, tmp_path) -> list[str]:
    """openssl asn1parse of an envelope with the random parts (key, IV, ciphertext bytes) blanked."""
    import re

    path = tmp_path / "shape.der"
    path.write_bytes(der)
    dump = subprocess.run(
        [openssl, "asn1parse", "-inform", "DER", "-i", "-in", str(path)], check=True, capture_output=True, text=True
    ).stdout
    return [re.sub(r"\[HEX DUMP\]:[0-9A-F]*", "", line) for line in dump.splitlines()]


def _streamed(data: bytes, certs, pieces: int = 3, **options) -> bytes:
    step = max(len(data) // pieces, 1)
    out = io.BytesIO()
    write_cms(out, (data[i : i + step] for i in range(0, len(data), step)), certs, **options)
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 127, 128, 65_535, 70_001])
def test_streamed_cms_is_the_builders_envelope(tmp_path, demo_paths, second_recipient, size):
    """Field for field what cryptography's one-call builder makes (same tags, OIDs, lengths)."""
    openssl = require_tool("openssl")
    certs = load_certificates([demo_paths["certificate"], second_recipient[2]])
    data = (PAYLOAD * (size // len(PAYLOAD) + 1))[:size]
    ours = _streamed(data, certs)
    assert _asn1_shape(openssl, ours, tmp_path) == _asn1_shape(openssl, encrypt_cms(data, certs), tmp_path)
    assert len(ours) == len(encrypt_cms(data, certs))


@pytest.mark.parametrize("spool", [4096, 70_000])
def test_streamed_cms_opens_with_openssl_and_cryptography(tmp_path, monkeypatch, demo_paths, second_recipient, spool):
    """Across chunk boundaries and past the in-memory spool, the ciphertext then written straight
    into the file after room for the header: the room fits (70,000: every length still three
    bytes) or the ciphertext is moved along in blocks (4,096: the lengths grew), the envelope
    exactly as long as the builder's either way."""
    from cryptography.hazmat.primitives.serialization import pkcs7

    cert, key, path = second_recipient
    certs = load_certificates([demo_paths["certificate"], path])
    data = bytes(range(256)) * 400 + PAYLOAD  # 102,400+ bytes
    step = len(data) // 7
    out = tmp_path / "out.p7m"
    with out.open("w+b") as f:
        f.write(b"before")  # the envelope need not start at the file's beginning
        write_cms(f, (data[i : i + step] for i in range(0, len(data), step)), certs, spool_bytes=spool, copy_block=1000)
        f.write(b"after")  # and the file is left positioned at its end
    written = out.read_bytes()
    assert written[:6] == b"before" and written[-5:] == b"after"
    der = written[6:-5]
    out.write_bytes(der)
    assert len(der) == len(encrypt_cms(data, certs))
    assert data[:64] not in der
    assert pkcs7.pkcs7_decrypt_der(der, cert, key, []) == data  # strict DER parser
    plain = decrypt_cms(out, demo_paths["private_key"])
    assert plain == data


def test_moving_bytes_forward_in_place_keeps_them_in_order(tmp_path, monkeypatch):
    """The move an envelope past 4 GiB needs, for overlaps shorter and longer than a block."""
    from pseudodesk.core.package.crypto import cms

    data = bytes(range(256)) * 3
    for by in (1, 5, 7, 30):
        path = tmp_path / f"move{by}"
        path.write_bytes(b"head" + data)
        with path.open("r+b") as f:
            cms._move_forward(f, 4, len(data), by, 7)
        assert path.read_bytes()[4 + by :] == data


def test_streamed_cms_copies_the_issuer_as_the_certificate_encodes_it(tmp_path, second_recipient):
    """An older CA's name in a T61String of Latin-1 bytes (which cryptography cannot decode), a
    large serial: both copied byte for byte, so the recipient is still found by openssl and by
    cryptography's exact comparison."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7
    from cryptography.x509.name import _ASN1Type

    openssl = require_tool("openssl")
    _, key, _ = second_recipient
    name = x509.Name([x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "Stadt K\u00f6ln", _type=_ASN1Type.T61String)])
    now = dt.datetime.now(dt.UTC)
    made = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(2**150 + 7)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    der = made.public_bytes(serialization.Encoding.DER)
    latin1 = der.replace("K\u00f6".encode(), b"K\xf6!")  # same length; the signature no longer matters here
    assert latin1 != der
    path = tmp_path / "legacy.der"
    path.write_bytes(latin1)
    (cert,) = load_certificates([path])
    with pytest.raises(ValueError):
        cert.issuer.public_bytes()  # what re-encoding the issuer would have needed
    envelope = _streamed(PAYLOAD, [cert])
    assert b"Stadt K\xf6!" in envelope
    assert pkcs7.pkcs7_decrypt_der(envelope, cert, key, []) == PAYLOAD
    (tmp_path / "out.p7m").write_bytes(envelope)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    plain = subprocess.run(
        [
            openssl,
            "cms",
            "-decrypt",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "out.p7m"),
            "-recip",
            str(path),
            "-inkey",
            str(tmp_path / "key.pem"),
        ],
        check=True,
        capture_output=True,
    ).stdout
    assert plain == PAYLOAD


def test_streamed_cms_takes_bytes_like_data(demo_paths):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    certs = load_certificates([demo_paths["certificate"]])
    key = serialization.load_pem_private_key(demo_paths["private_key"].read_bytes(), None)
    for data in (bytearray(PAYLOAD), memoryview(PAYLOAD)):
        out = io.BytesIO()
        write_cms(out, data, certs)
        assert pkcs7.pkcs7_decrypt_der(out.getvalue(), certs[0], key, []) == PAYLOAD


def test_streamed_cms_memory_does_not_grow_with_the_data(demo_paths, monkeypatch):
    """48 MiB through the encoder with a 1 MiB spool (the header's lengths grow past 16 MiB, so the
    ciphertext is moved along too): Python's peak stays a few chunks, not the data."""
    import tracemalloc

    certs = load_certificates([demo_paths["certificate"]])

    class Sink(io.RawIOBase):
        """A seekable file that keeps only its length (and reads back zeros)."""

        size = position = 0

        def seekable(self) -> bool:
            return True

        def tell(self) -> int:
            return self.position

        def seek(self, position, whence=0) -> int:
            self.position = position
            return position

        def write(self, block) -> int:
            self.position += len(block)
            self.size = max(self.size, self.position)
            return len(block)

        def read(self, size=-1) -> bytes:
            size = min(size, self.size - self.position)
            self.position += size
            return bytes(size)

    sink = Sink()
    tracemalloc.start()
    try:
        write_cms(sink, (bytes([n]) * (1 << 20) for n in range(48)), certs, spool_bytes=1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sink.size > 48 << 20 and sink.position == sink.size
    assert peak < 8 << 20, f"peak {peak:,} bytes"


def test_streamed_cms_stops_when_cancelled(demo_paths):
    from pseudodesk.core.errors import Cancelled

    certs = load_certificates([demo_paths["certificate"]])
    made = []

    def chunks():
        for n in range(10):
            made.append(n)
            yield b"x" * 1000

    with pytest.raises(Cancelled):
        write_cms(io.BytesIO(), chunks(), certs, cancel=lambda: len(made) >= 3)
    assert len(made) == 3


def test_streamed_cms_refuses_non_rsa_and_no_recipient(tmp_path):
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "ec")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(ExportError, match="Only RSA"):
        write_cms(io.BytesIO(), b"x", [cert])
    with pytest.raises(ExportError, match="No recipient"):
        write_cms(io.BytesIO(), b"x", [])


@pytest.mark.parametrize(
    ("value", "der"),
    [
        (0, "020100"),
        (1, "020101"),
        (127, "02017f"),
        (128, "02020080"),
        (255, "020200ff"),
        (256, "02020100"),
        (-1, "0201ff"),
        (-128, "020180"),
        (-129, "0202ff7f"),
        (2**159, "021500" + "80" + "00" * 19),
    ],
)
def test_der_integer_known_answers(value, der):
    from pseudodesk.core.package.crypto.der import der_integer as _der_integer

    assert _der_integer(value).hex() == der


@pytest.mark.parametrize(
    ("length", "der"),
    [
        (0, "0400"),
        (127, "047f"),
        (128, "048180"),
        (255, "0481ff"),
        (256, "04820100"),
        (70_000, "0483011170"),
        (2**32, "04850100000000"),
    ],
)
def test_der_length_known_answers(length, der):
    from pseudodesk.core.package.crypto.der import der_head as _der_head

    assert _der_head(0x04, length).hex() == der


def test_expired_and_junk_certificates_are_refused(tmp_path):
    junk = tmp_path / "junk.crt"
    junk.write_bytes(b"hello")
    with pytest.raises(ExportError, match="junk.crt: not a PEM or DER X.509 certificate"):
        load_certificates([junk])
    with pytest.raises(ExportError, match="missing.crt: cannot be read"):
        load_certificates([tmp_path / "missing.crt"])


def test_passphrase_has_at_least_100_bits():
    import math

    phrase = generate_passphrase()
    symbols = phrase.replace("-", "")
    bits = len(symbols) * math.log2(len(sevenzip.PASSPHRASE_ALPHABET))
    assert bits >= 100 and len(set(sevenzip.PASSPHRASE_ALPHABET)) == 32
    assert all(c in sevenzip.PASSPHRASE_ALPHABET for c in symbols)
    assert generate_passphrase() != phrase


def test_7z_opens_with_7zip_and_hides_names(tmp_path):
    seven = require_tool("7z", "7zz", "7za")
    phrase = generate_passphrase()
    archive = tmp_path / "out.7z"
    with archive.open("wb") as f:
        write_7z(f, PAYLOAD, "export.csv", phrase)
    out = tmp_path / "x"
    subprocess.run([seven, "x", f"-p{phrase}", f"-o{out}", str(archive)], check=True, capture_output=True)
    assert (out / "export.csv").read_bytes() == PAYLOAD
    # header encryption: without the passphrase not even the file list can be read
    listing = subprocess.run([seven, "l", "-pwrong", str(archive)], capture_output=True, text=True)
    assert listing.returncode != 0 and "export.csv" not in listing.stdout
    info = subprocess.run([seven, "l", "-slt", f"-p{phrase}", str(archive)], capture_output=True, text=True).stdout
    assert "7zAES" in info


def test_7z_wrong_passphrase_fails(tmp_path):
    seven = require_tool("7z", "7zz", "7za")
    archive = tmp_path / "out.7z"
    with archive.open("wb") as f:
        write_7z(f, PAYLOAD, "export.csv", "RIGHT-PASS-PHRA-SE12-3456-7890")
    result = subprocess.run([seven, "x", "-pWRONG", f"-o{tmp_path / 'x'}", str(archive)], capture_output=True)
    assert result.returncode != 0
    assert not (tmp_path / "x" / "export.csv").exists() or (tmp_path / "x" / "export.csv").read_bytes() != PAYLOAD


def test_7z_passphrase_in_py7zr_right_opens_wrong_does_not(tmp_path):
    import py7zr

    archive = tmp_path / "out.7z"
    with archive.open("wb") as f:
        write_7z(f, PAYLOAD, "export.csv", "RIGHT")
    with py7zr.SevenZipFile(archive, "r", password="RIGHT") as z:
        z.extractall(path=tmp_path / "right")
    assert (tmp_path / "right" / "export.csv").read_bytes() == PAYLOAD
    with pytest.raises(Exception) as info:  # header encryption: the archive cannot even be listed
        with py7zr.SevenZipFile(archive, "r", password="WRONG") as z:
            z.extractall(path=tmp_path / "wrong")
    assert not isinstance(info.value, AttributeError)
    assert not (tmp_path / "wrong" / "export.csv").exists()


def test_atomic_output_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.p7m"
    with pytest.raises(RuntimeError):
        with atomic_output(target) as f:
            f.write(b"partial")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_refuses_to_overwrite(tmp_path):
    target = tmp_path / "out.p7m"
    target.write_bytes(b"old")
    with pytest.raises(OutputExists, match="out.p7m already exists"):
        with atomic_output(target) as f:
            f.write(b"new")
    assert target.read_bytes() == b"old"
    with atomic_output(target, overwrite=True) as f:
        f.write(b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.p7m"]


def test_7z_compression_stops_between_blocks_when_cancelled(tmp_path):
    """A large export is cancelled during compression, not after it (py7zr reads in blocks)."""
    from pseudodesk.core.errors import Cancelled

    data = b"".join(f"{i:064x},F\r\n".encode() for i in range(200_000))  # ~13 MB, many blocks
    reads: list[float] = []
    target = tmp_path / "x.7z"
    with pytest.raises(Cancelled), atomic_output(target) as f:
        write_7z(
            f,
            data,
            "export.csv",
            "RIGHT-PASS-PHRA-SE12-3456-7890",
            cancel=lambda: len(reads) >= 2,
            progress=reads.append,
        )
    assert len(reads) == 2 and reads[-1] < 0.5  # stopped early, after two blocks
    assert list(tmp_path.iterdir()) == []


def test_7z_progress_reaches_the_end(tmp_path):
    shares: list[float] = []
    buffer = io.BytesIO()
    write_7z(buffer, PAYLOAD, "export.csv", "RIGHT-PASS-PHRA-SE12-3456-7890", progress=shares.append)
    assert shares and shares[-1] == 1.0 and shares == sorted(shares)


def test_7z_member_is_deflate_level_1(tmp_path):
    """Deflate at zlib level 1 (cms.DEFLATE_LEVEL): the packed size is level 1's, not level 6's."""
    import zlib

    from pseudodesk.core.package.crypto.sevenzip import DEFLATE_LEVEL

    seven = require_tool("7z", "7zz", "7za")
    data = b"".join(
        f"{i * 7919 % 100_003:064x},{i % 28 + 1:02d}/03/19{i % 90 + 10},F\r\n".encode() for i in range(40_000)
    )
    archive = tmp_path / "out.7z"
    with archive.open("wb") as f:
        write_7z(f, data, "export.csv", "RIGHT")
    info = subprocess.run(
        [seven, "l", "-slt", "-pRIGHT", str(archive)], capture_output=True, text=True, check=True
    ).stdout
    assert "Method = Deflate 7zAES" in info
    packed = int(info.split("Packed Size = ")[1].split()[0])

    def deflated(level: int) -> int:
        z = zlib.compressobj(level, zlib.DEFLATED, -15)
        size = len(z.compress(data) + z.flush())
        return size + (-size) % 16  # AES-CBC pads to whole blocks

    assert deflated(1) != deflated(6)
    assert packed == deflated(DEFLATE_LEVEL) == deflated(1)


# --- reading packages back a block at a time (read_cms, read_7z) ------------------------------


def _cms_file(tmp_path, data: bytes, certs, name="p.p7m"):
    path = tmp_path / name
    with path.open("w+b") as f:
        write_cms(f, data, certs)
    return path


def _no_whole_file_parse(monkeypatch):
    """Let cryptography's one-call decryption open only read_cms's probe (the header and one
    ciphertext block), to prove the streamed path was taken."""
    from cryptography.hazmat.primitives.serialization import pkcs7

    from pseudodesk.core.package.crypto import cms

    real = pkcs7.pkcs7_decrypt_der

    def probe_only(envelope, *args):
        if cms._cms_layout(io.BytesIO(envelope))[3] != 16:
            raise AssertionError("the envelope was parsed whole")
        return real(envelope, *args)

    monkeypatch.setattr(pkcs7, "pkcs7_decrypt_der", probe_only)


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 5_000, 70_001])
def test_read_cms_streams_the_plaintext_back(tmp_path, monkeypatch, demo_paths, second_recipient, size):
    """Either recipient, in blocks smaller than the content (1,000 bytes here), the builder's
    envelope as well as ours."""
    from pseudodesk.core.package.crypto import cms

    cert, key, path = second_recipient
    certs = load_certificates([demo_paths["certificate"], path])
    data = (PAYLOAD * (size // len(PAYLOAD) + 1))[:size]
    ours = _cms_file(tmp_path, data, certs)
    builders = tmp_path / "builder.p7m"
    builders.write_bytes(encrypt_cms(data, certs))
    _no_whole_file_parse(monkeypatch)
    demo_cert, demo_key = read_recipient_identity(demo_paths["certificate"], demo_paths["private_key"])
    for package in (ours, builders):
        blocks = list(cms.read_cms(package, cert, key, read_block=1000))
        assert b"".join(blocks) == data
        assert all(len(b) <= 1000 + 32 for b in blocks) and (size < 2000 or len(blocks) > 2)
        with package.open("rb") as f:  # a file object as well as a path
            assert b"".join(cms.read_cms(f, demo_cert, demo_key, read_block=1000)) == data


def test_read_cms_opens_what_openssl_makes(tmp_path, monkeypatch, demo_paths):
    """openssl cms -encrypt's DER streams; its -stream form (indefinite-length BER) goes to
    cryptography's parser, which refuses BER: an error, as before."""
    from pseudodesk.core.errors import PackageError
    from pseudodesk.core.package.crypto import cms

    openssl = require_tool("openssl")
    data = bytes(range(256)) * 300
    (tmp_path / "plain").write_bytes(data)
    for form in ("der", "ber"):
        subprocess.run(
            [
                openssl,
                "cms",
                "-encrypt",
                "-binary",
                "-aes256",
                "-outform",
                "DER",
                *(["-stream"] if form == "ber" else []),
                "-in",
                str(tmp_path / "plain"),
                "-out",
                str(tmp_path / form),
                str(demo_paths["certificate"]),
            ],
            check=True,
        )
    cert, key = read_recipient_identity(demo_paths["certificate"], demo_paths["private_key"])
    with monkeypatch.context() as patched:
        _no_whole_file_parse(patched)
        assert b"".join(cms.read_cms(tmp_path / "der", cert, key)) == data
    with pytest.raises(PackageError, match="cannot be opened"):
        b"".join(cms.read_cms(tmp_path / "ber", cert, key))


def test_read_cms_gives_other_envelopes_to_cryptography_whole(tmp_path, monkeypatch, demo_paths):
    """AES-128 is not what pseudodesk writes, but it is valid CMS: the same answer as before."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.ciphers import algorithms
    from cryptography.hazmat.primitives.serialization import pkcs7

    from pseudodesk.core.package.crypto import cms

    cert, key = read_recipient_identity(demo_paths["certificate"], demo_paths["private_key"])
    envelope = (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(PAYLOAD)
        .set_content_encryption_algorithm(algorithms.AES128)
        .add_recipient(cert)
        .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
    real, given = pkcs7.pkcs7_decrypt_der, []
    monkeypatch.setattr(pkcs7, "pkcs7_decrypt_der", lambda data, *args: given.append(data) or real(data, *args))
    assert b"".join(cms.read_cms(io.BytesIO(envelope), cert, key)) == PAYLOAD
    assert given == [envelope]  # once, whole


def test_read_cms_refuses_the_wrong_recipient_key_and_damage(tmp_path, demo_paths, second_recipient):
    from pseudodesk.core.errors import PackageError
    from pseudodesk.core.package.crypto import cms

    cert, key, path = second_recipient
    demo_cert, demo_key = read_recipient_identity(demo_paths["certificate"], demo_paths["private_key"])
    data = PAYLOAD * 100
    package = _cms_file(tmp_path, data, [demo_cert])
    with pytest.raises(PackageError, match="not encrypted to this certificate"):
        b"".join(cms.read_cms(package, cert, key))
    with pytest.raises(PackageError, match="cannot be opened"):
        b"".join(cms.read_cms(package, demo_cert, key))  # the right certificate, another key
    whole = package.read_bytes()
    damaged = tmp_path / "damaged.p7m"
    damaged.write_bytes(whole[:-1] + bytes([whole[-1] ^ 1]))  # the last block's padding no longer holds
    blocks = cms.read_cms(damaged, demo_cert, demo_key)
    with pytest.raises(PackageError, match="cannot be opened"):
        next(blocks)  # found before a block is given: the last block is checked first
    for cut in (len(whole) - 16, 40, 3):
        damaged.write_bytes(whole[:cut])
        with pytest.raises(PackageError, match="cannot be opened"):
            b"".join(cms.read_cms(damaged, demo_cert, demo_key))


def test_reading_a_large_package_back_keeps_memory_flat(tmp_path, demo_paths):
    """48 MiB of CSV through CMS and 7z and back: Python's peak while reading stays a few blocks.

    (py7zr inflates a block of the archive at a time, so a 7z block is about 1 MiB times the
    compression ratio, and py7zr copies it a few times: 15 MiB here, bounded, though not by us.)"""
    import hashlib
    import tracemalloc

    # 76 KB of export-like text (pseudonyms: hex that Deflate halves; its window does not reach
    # the repeat), so 7z's blocks are what an export's would be
    line = b"".join(b"%08d,%s\r\n" % (n, hashlib.sha256(b"%d" % n).hexdigest().encode()) for n in range(1000))
    chunks = 48 * (1 << 20) // len(line)
    certs = load_certificates([demo_paths["certificate"]])
    cert, key = read_recipient_identity(demo_paths["certificate"], demo_paths["private_key"])
    p7m = tmp_path / "big.p7m"
    with p7m.open("w+b") as f:
        write_cms(f, (line for _ in range(chunks)), certs)
    seven = tmp_path / "big.7z"
    with seven.open("wb") as f:
        write_7z(f, (line for _ in range(chunks)), "big.csv", "PASS-WORD")
    for read, bound in ((lambda: cms.read_cms(p7m, cert, key), 8), (lambda: sevenzip.read_7z(seven, "PASS-WORD"), 20)):
        size = 0
        tracemalloc.start()
        try:
            for block in read():
                size += len(block)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert size == chunks * len(line)
        assert peak < bound << 20, f"{read} peak {peak:,} bytes"


def test_read_7z_streams_from_a_worker_and_refuses_wrong_passphrases_and_extra_files(tmp_path):
    import threading

    import py7zr

    from pseudodesk.core.errors import PackageError

    data = bytes(range(256)) * 40_000  # 10 MB: several blocks
    archive = tmp_path / "one.7z"
    with archive.open("wb") as f:
        write_7z(f, data, "one.csv", "RIGHT-PASS")
    assert b"".join(sevenzip.read_7z(archive, "RIGHT-PASS")) == data
    with archive.open("rb") as f:
        assert b"".join(sevenzip.read_7z(f, "RIGHT-PASS")) == data
    with pytest.raises(PackageError, match="wrong passphrase"):
        b"".join(sevenzip.read_7z(archive, "WRONG-PASS"))
    blocks = sevenzip.read_7z(archive, "RIGHT-PASS")
    assert next(blocks)
    blocks.close()  # the consumer stops early: py7zr's extraction is stopped and waited for
    assert not any(t.name == "pseudodesk-7z-read" for t in threading.enumerate())
    (tmp_path / "a.csv").write_bytes(b"a")
    (tmp_path / "b.csv").write_bytes(b"b")
    two = tmp_path / "two.7z"
    with py7zr.SevenZipFile(two, "w", password="RIGHT-PASS") as made:
        made.write(tmp_path / "a.csv", "a.csv")
        made.write(tmp_path / "b.csv", "b.csv")
    with pytest.raises(PackageError, match="exactly one CSV, it holds 2"):
        b"".join(sevenzip.read_7z(two, "RIGHT-PASS"))
    damaged = tmp_path / "damaged.7z"
    whole = archive.read_bytes()
    damaged.write_bytes(whole[: len(whole) // 2] + bytes([whole[len(whole) // 2] ^ 1]) + whole[len(whole) // 2 + 1 :])
    with pytest.raises(PackageError):
        b"".join(sevenzip.read_7z(damaged, "RIGHT-PASS"))


def _mutated_envelopes(good: bytes) -> dict[str, bytes]:
    """Single changes to an envelope to the demo recipient (offsets of its fixed header)."""
    assert good[553] == 0x06 and good[23] == 0x02 and good[34] == 0x02 and good[134] == 0x30 and good[147] == 0x05

    def setb(position: int, value: int) -> bytes:
        changed = bytearray(good)
        changed[position] = value
        return bytes(changed)

    cases = {
        "EnvelopedData version 7": setb(25, 7),
        "recipient version tag": setb(34, 0x04),
        "recipient version 5": setb(36, 5),
        "key algorithm tag": setb(134, 0x31),
        "NULL parameters tag": setb(147, 0x04),
        "content algorithm OID tag": setb(553, 0x04),
        "two-byte tag": setb(134, 0x1F),
    }
    longer = bytearray(good)
    longer[23:26] = b"\x02\x81\x01\x00"  # a version INTEGER with a long-form length: BER, not DER
    for position in (2, 17, 21):  # and the three enclosing lengths one longer
        longer[position : position + 2] = (int.from_bytes(longer[position : position + 2], "big") + 1).to_bytes(
            2, "big"
        )
    cases["non-minimal length"] = bytes(longer)
    return cases


def test_read_cms_gives_exactly_cryptographys_verdict_on_malformed_envelopes(demo_paths):
    """Found by review: a reader that did not check every tag and length decrypted envelopes
    cryptography refuses. Now anything not byte for byte the expected header goes to
    cryptography whole, and the probe puts the recipients through cryptography too."""
    from cryptography.hazmat.primitives.serialization import pkcs7

    from pseudodesk.core.errors import PackageError
    from pseudodesk.core.package.crypto import cms

    cert, key = read_recipient_identity(demo_paths["certificate"], demo_paths["private_key"])
    plain = b"PERSON_ID,DOB\r\n" + b"abc,2001-01-01\r\n" * 5
    out = io.BytesIO()
    write_cms(out, plain, [cert])
    for name, envelope in _mutated_envelopes(out.getvalue()).items():
        try:
            theirs = pkcs7.pkcs7_decrypt_der(envelope, cert, key, [])
        except ValueError:
            theirs = None
        if theirs is None:
            with pytest.raises(PackageError):
                b"".join(cms.read_cms(io.BytesIO(envelope), cert, key))
        else:
            assert b"".join(cms.read_cms(io.BytesIO(envelope), cert, key)) == theirs == plain, name
