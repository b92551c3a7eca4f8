"""Start-up self-test: the cryptography pseudodesk relies on, proved on this machine in well under a second.

Run at every start of the window (a failure blocks exports) and by ``pseudodesk-cli selftest``.
Known answers, not round trips alone, where a standard gives them:

- HMAC-SHA256: RFC 4231 test case 2, and pseudodesk's own pseudonym known answer (computed
  with ``openssl dgst -sha256 -mac HMAC``; docs/pseudonyms.md).
- OpenPseudonymiser: the published digest for NHS number 9434765919 and DOB 29.11.1973 under
  the salt "mackerel" (../shared/reference/openpseudonymiser-compat.md).
- CMS AES-256: encrypt to a freshly made certificate and decrypt with its key, in memory.
- 7z AES-256: write an archive in memory and read it back with its passphrase.
- The OS keyring: whether one is there (without one, keys go to the passphrase-protected local
  store; this is reported, not failed).

Nothing is written to disk and no network is used.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SelfCheck:
    name: str
    ok: bool
    detail: str
    seconds: float
    essential: bool = True  # a failed essential check blocks exports


@dataclass
class SelfTestResult:
    checks: list[SelfCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks if c.essential)

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.checks)

    def failures(self) -> list[SelfCheck]:
        return [c for c in self.checks if c.essential and not c.ok]


def _hmac_rfc4231() -> str:
    key = b"Jefe"
    data = b"what do ya want for nothing?"
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    got = hmac.new(key, data, hashlib.sha256).hexdigest()
    if got != expected:
        raise AssertionError("RFC 4231 test case 2 gave a different HMAC")
    from pseudodesk.core.pseudonym import ProjectKey, Pseudonymiser, pseudonym

    known = "67C1932687588B9CF156532654908FECACA4464BFAD7D9DD31F97B2650B611BC"
    project_key = ProjectKey("kat", bytes(range(32)))
    ours = pseudonym(project_key, "PERSON_ID", ["9434765919"])
    if ours != known:
        raise AssertionError("the pseudonym known answer differs")
    if Pseudonymiser(project_key, "PERSON_ID").many([["9434765919"]] * 2) != [known, known]:  # the export's batch path
        raise AssertionError("the batch pseudonym path differs from the known answer")
    return "RFC 4231 case 2 and the pseudonym known answer match (single and batch paths)"


def _openpseudonymiser() -> str:
    from pseudodesk.core import openpseudonymiser as op

    got = op.digest({"NHSNumber": "9434765919", "DOB": "29.11.1973"}, "mackerel")
    if got != "ED72F814B7905F3D3958749FA90FE657C101EC657402783DB68CBE3513E76087":
        raise AssertionError("the OpenPseudonymiser known answer differs")
    return "published digest for 9434765919 / 29.11.1973 matches"


def _cms_round_trip() -> str:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs7
    from cryptography.x509.oid import NameOID

    from pseudodesk.core.export import encrypt_cms

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pseudodesk self-test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(minutes=5)).sign(key, hashes.SHA256()))
    plain = "PERSON_ID,DOB\r\nABC,01/02/2010\r\n".encode()
    envelope = encrypt_cms(plain, [cert])
    if plain in envelope:
        raise AssertionError("the CMS envelope contains the plaintext")
    if pkcs7.pkcs7_decrypt_der(envelope, cert, key, []) != plain:
        raise AssertionError("CMS decryption did not give back the plaintext")
    return "AES-256 envelope to a fresh certificate opened with its key"


def _sevenzip_round_trip() -> str:
    from pseudodesk.core.export import write_7z
    from pseudodesk.core.manifest import extract_7z_member

    plain = "PERSON_ID,DOB\r\nABC,01/02/2010\r\n".encode() * 50
    buffer = io.BytesIO()
    write_7z(buffer, plain, "selftest.csv", "SELF-TEST-PASS-PHRA-SE12-3456")
    if plain[:40] in buffer.getvalue():
        raise AssertionError("the 7z archive contains the plaintext")
    buffer.seek(0)
    if extract_7z_member(buffer, "SELF-TEST-PASS-PHRA-SE12-3456", "self-test archive") != plain:
        raise AssertionError("7z extraction did not give back the plaintext")
    return "AES-256 archive written and read back in memory"


def _keyring() -> str:
    from pseudodesk.core.keystore import keyring_available

    if not keyring_available():
        raise LookupError("no OS keyring: keys will be kept in the passphrase-protected local key store")
    import keyring

    return f"available ({type(keyring.get_keyring()).__name__})"


CHECKS: tuple[tuple[str, Callable[[], str], bool], ...] = (
    ("HMAC-SHA256", _hmac_rfc4231, True),
    ("OpenPseudonymiser digest", _openpseudonymiser, True),
    ("CMS AES-256", _cms_round_trip, True),
    ("7z AES-256", _sevenzip_round_trip, True),
    ("OS keyring", _keyring, False),
)


def run_selftest() -> SelfTestResult:
    result = SelfTestResult()
    for name, check, essential in CHECKS:
        started = time.perf_counter()
        try:
            detail, ok = check(), True
        except Exception as error:  # noqa: BLE001 (every failure is reported, none is fatal here)
            detail, ok = f"{type(error).__name__}: {error}", False
        result.checks.append(SelfCheck(name, ok, detail, time.perf_counter() - started, essential))
    return result
