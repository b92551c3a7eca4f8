"""Start-up self-test: the cryptography pseudodesk relies on, proved on this machine in well under a second.

Run at every start of the window (a failure blocks exports) and by ``pseudodesk-cli selftest``.
Known answers, not round trips alone, where a standard gives them:

- HMAC-SHA256: RFC 4231 test case 2, and pseudodesk's own pseudonym known answer (computed
  with ``openssl dgst -sha256 -mac HMAC``; docs/pseudonyms.md).
- OpenPseudonymiser: the published digest for NHS number 9434765919 and DOB 29.11.1973 under
  the salt "mackerel" (../shared/reference/openpseudonymiser-compat.md).
- CMS AES-256: the exports' streamed encoder to a freshly made certificate, decrypted with its key by
  cryptography's strict DER parser, in memory.
- 7z AES-256: write an archive in memory and read it back with its passphrase.
- The workbook readers: a small XLSX made in memory (text with a leading zero, a whole
  number, a date) read by fastexcel's column path and by python-calamine, each against the
  text Excel shows (a frozen build missing either reader fails here, not on a partner's file).
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

from pseudodesk.core.conventions.text import uk_phone_digits
from pseudodesk.core.keys.backends import keyring_available
from pseudodesk.core.package.crypto.cms import write_cms
from pseudodesk.core.package.crypto.sevenzip import write_7z
from pseudodesk.core.package.inspection import extract_7z_member
from pseudodesk.core.read import xlsx_arrow as xlsx_columns
from pseudodesk.core.read.cells import cell_text
from pseudodesk.core.transform import openpseudonymiser as op
from pseudodesk.core.transform.pseudonym import ProjectKey, Pseudonymiser, pseudonym


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

    known = "67C1932687588B9CF156532654908FECACA4464BFAD7D9DD31F97B2650B611BC"
    project_key = ProjectKey("kat", bytes(range(32)))
    ours = pseudonym(project_key, "PERSON_ID", ["9434765919"])
    if ours != known:
        raise AssertionError("the pseudonym known answer differs")
    if Pseudonymiser(project_key, "PERSON_ID").many([["9434765919"]] * 2) != [known, known]:  # the export's batch path
        raise AssertionError("the batch pseudonym path differs from the known answer")
    return "RFC 4231 case 2 and the pseudonym known answer match (single and batch paths)"


def _openpseudonymiser() -> str:

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

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pseudodesk self-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(minutes=5))
        .sign(key, hashes.SHA256())
    )
    plain = b"PERSON_ID,DOB\r\nABC,01/02/2010\r\n" * 3
    buffer = io.BytesIO()
    write_cms(buffer, [plain[:20], plain[20:]], [cert])  # the exports' streamed encoder, in two chunks
    envelope = buffer.getvalue()
    if plain in envelope:
        raise AssertionError("the CMS envelope contains the plaintext")
    if pkcs7.pkcs7_decrypt_der(envelope, cert, key, []) != plain:
        raise AssertionError("CMS decryption did not give back the plaintext")
    return "AES-256 envelope to a fresh certificate opened with its key"


def _sevenzip_round_trip() -> str:

    plain = b"PERSON_ID,DOB\r\nABC,01/02/2010\r\n" * 50
    buffer = io.BytesIO()
    write_7z(buffer, plain, "selftest.csv", "SELF-TEST-PASS-PHRA-SE12-3456")
    if plain[:40] in buffer.getvalue():
        raise AssertionError("the 7z archive contains the plaintext")
    buffer.seek(0)
    if extract_7z_member(buffer, "SELF-TEST-PASS-PHRA-SE12-3456", "self-test archive") != plain:
        raise AssertionError("7z extraction did not give back the plaintext")
    return "AES-256 archive written and read back in memory"


_SHEET_XML = (
    '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><sheetData>'
    '<row r="1"><c r="A1" t="inlineStr"><is><t>NHS No</t></is></c><c r="B1" t="inlineStr"><is><t>Code</t></is></c>'
    '<c r="C1" t="inlineStr"><is><t>DOB</t></is></c></row>'
    '<row r="2"><c r="A2"><v>9434765919</v></c><c r="B2" t="inlineStr"><is><t>01234</t></is></c>'
    '<c r="C2" s="1"><v>27362</v></c></row>'
    '<row r="3"><c r="A3"><v>4505577104</v></c><c r="B3" t="inlineStr"><is><t>00007</t></is></c>'
    '<c r="C3" s="1"><v>36585.5</v></c></row></sheetData></worksheet>'
)
_WORKBOOK_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
    '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main'
    '+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType='
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}"><Relationship Id="rId1" Type='
    '"{off}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
    '<sheet name="Extract" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}">'
    '<Relationship Id="rId1" Type='
    '"{off}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{off}/styles" '
    'Target="styles.xml"/></Relationships>',
    "xl/styles.xml": '<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{main}"><fonts count="1"><font/></fonts>'
    '<fills count="1"><fill/></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf/>'
    '</cellStyleXfs><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="22" applyNumberFormat="1"/></cellXfs>'
    "</styleSheet>",
    "xl/worksheets/sheet1.xml": _SHEET_XML,
}
_WORKBOOK_TEXT = [(2, ["9434765919", "01234", "1974-11-29"]), (3, ["4505577104", "00007", "2000-02-29 12:00:00"])]


def _workbook_readers() -> str:
    import zipfile

    names = {
        "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "rel": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "off": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "pkg": "http://schemas.openxmlformats.org/package/2006/relationships",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for part, xml in _WORKBOOK_PARTS.items():
            package.writestr(part, xml.format(**names))
    data = buffer.getvalue()
    columns = xlsx_columns.read_columns(data, "Extract", 1)
    if columns is None:
        raise AssertionError("the column reader (fastexcel) refused a sheet it should read")
    if columns.header != ["NHS No", "Code", "DOB"] or list(columns.rows()) != _WORKBOOK_TEXT:
        raise AssertionError("the column reader (fastexcel) gave different text")
    # python-calamine: the reader for XLS, ODS and sheets that mix kinds of cell
    import python_calamine

    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    cells = workbook.get_sheet_by_name("Extract").to_python(skip_empty_area=False)
    if [[cell_text(v) for v in row] for row in cells[1:]] != [row for _, row in _WORKBOOK_TEXT]:
        raise AssertionError("python-calamine gave different text")
    return "a workbook made in memory read by fastexcel and python-calamine as Excel shows it"


def _keyring() -> str:

    if not keyring_available():
        raise LookupError("no OS keyring: keys will be kept in the passphrase-protected local key store")
    import keyring

    return f"available ({type(keyring.get_keyring()).__name__})"


def _numbering_plan() -> str:
    if uk_phone_digits("+44 (0)1522 552222") != "01522552222" or uk_phone_digits("01522 55222"):
        raise AssertionError("the UK numbering plan (libphonenumber metadata) gave a different verdict")
    return "Ofcom's plan read: 01522 + six digits is a number, + five is not"


CHECKS: tuple[tuple[str, Callable[[], str], bool], ...] = (
    ("HMAC-SHA256", _hmac_rfc4231, True),
    ("OpenPseudonymiser digest", _openpseudonymiser, True),
    ("CMS AES-256", _cms_round_trip, True),
    ("7z AES-256", _sevenzip_round_trip, True),
    ("Workbook readers", _workbook_readers, True),
    ("UK phone numbering plan", _numbering_plan, True),
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
