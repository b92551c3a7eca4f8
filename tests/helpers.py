"""Plain helpers and constants that more than one test module uses.

Test modules import shared code from here, never from another test module or from a
conftest.py; pytest fixtures stay in the conftest.py files (which may import from here).
Nothing here imports Qt: tests/core and tests/cli also run in an environment without it.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pseudodesk.core.agreement.mapping import suggest_mapping
from pseudodesk.core.agreement.profile import parse_profile
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.core.transform.pseudonym import ProjectKey

DATA = Path(__file__).resolve().parent / "data"

KEY_A = ProjectKey("a", bytes(range(32)))


# --- keyrings ---------------------------------------------------------------------------


class MemoryKeyring:
    """A keyring backend that keeps secrets in a dict (tests only; never keyrings.alt)."""

    priority = 1

    def __init__(self) -> None:
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


def new_keyring():
    """A fresh, empty MemoryKeyring that the keyring package accepts as a backend."""
    from keyring.backend import KeyringBackend

    return type("TestMemoryKeyring", (MemoryKeyring, KeyringBackend), {})()


@contextlib.contextmanager
def keyring_backend(backend):
    """Make ``backend`` the process's keyring for the duration (two independent keyrings in one test)."""
    import keyring

    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield
    finally:
        keyring.set_keyring(previous)


# --- external programs --------------------------------------------------------------------


def require_tool(*names: str) -> str:
    """Path of the first available program; skip locally, fail under CI (which must have it)."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    message = f"needs one of {', '.join(names)} on PATH"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must install it: see .ci/run)")
    pytest.skip(message)


def decrypt_cms(path: Path, private_key: Path) -> bytes:
    openssl = require_tool("openssl")
    return subprocess.run(
        [openssl, "cms", "-decrypt", "-binary", "-inform", "DER", "-in", str(path), "-inkey", str(private_key)],
        check=True,
        capture_output=True,
    ).stdout


def extract_7z(path: Path, passphrase: str, out: Path) -> bytes:
    seven = require_tool("7z", "7zz", "7za")
    subprocess.run([seven, "x", f"-p{passphrase}", f"-o{out}", str(path)], check=True, capture_output=True)
    (member,) = list(out.iterdir())
    return member.read_bytes()


def parse_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def encrypt_xlsx(source: Path, target: Path, password: str) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    with source.open("rb") as plain, target.open("wb") as out:
        OOXMLFile(plain).encrypt(password, out)


# --- runs -----------------------------------------------------------------------------------


def _test_signer():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from pseudodesk.core.package.signing import Signer

    return Signer(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))


TEST_SIGNER = _test_signer()


def run(*args, **kwargs):
    """pseudodesk.core.run.export.run, signing manifests with a fixed test installation key; the
    keyword arguments that are ExportOptions fields become the options (an unapproved profile is
    confirmed unless the test says otherwise)."""
    import dataclasses

    from pseudodesk.core.run import export

    kwargs.setdefault("unapproved_accepted", True)  # test profiles are loose files; approval tests say False
    names = {f.name for f in dataclasses.fields(export.ExportOptions)}
    options = export.ExportOptions(**{k: kwargs.pop(k) for k in list(kwargs) if k in names})
    kwargs.setdefault("signer", TEST_SIGNER)
    return export.run(*args, options, **kwargs)


# --- the re-identification risk fixture (tests/core/test_disclosure.py and its users) --------

PROFILE = """
format = "pseudodesk-profile/1"
[agreement]
name = "Risk fixture"
version = "1"
[recipient]
mode = "passphrase"
[checks]
on_invalid = "{policy}"
[disclosure]
k = 3
reference_date = 2026-09-01
{extra}
[[source_fields]]
id = "nhs"
convention = "nhs_number"
aliases = ["NHS No"]
[[source_fields]]
id = "dob"
convention = "dob"
aliases = ["DOB"]
[[source_fields]]
id = "sex"
convention = "gender"
aliases = ["Sex"]
[[source_fields]]
id = "postcode"
convention = "postcode"
aliases = ["Postcode"]
[[output_fields]]
name = "PERSON_ID"
role = "pseudonym"
from = "nhs"
[[output_fields]]
name = "DOB"
role = "keep"
from = "dob"
[[output_fields]]
name = "SEX"
role = "keep"
from = "sex"
[[output_fields]]
name = "POSTCODE"
role = "keep"
from = "postcode"
"""

# Classes on (DOB, SEX, POSTCODE) as written: A x4, B x3, C x2, D x1, E x1 (11 records).
# A and D share the district LN1; C and E share LN2: by district, A+D = 5 and C+E = 3.
ROWS = (
    [("01/02/2010", "F", "LN1 1AA")] * 4  # A
    + [("05/06/2012", "M", "PE1 1AA")] * 3  # B
    + [("07/08/2014", "F", "LN2 2BB")] * 2  # C
    + [("01/02/2010", "F", "LN1 9ZZ")]  # D: same DOB and sex as A, another sector
    + [("07/08/2014", "F", "LN2 3DD")]  # E: same DOB and sex as C, another sector
)


def fixture(tmp_path, rows=ROWS, policy="blank", extra=""):
    """people.csv of ``rows`` in ``tmp_path`` with PROFILE: (profile, table, mapping)."""
    path = tmp_path / "people.csv"
    nhs = ["9434765919", "4505577104", "9434765870", "4010232137"]
    path.write_text(
        "NHS No,DOB,Sex,Postcode\n" + "".join(f"{nhs[i % 4]},{d},{s},{p}\n" for i, (d, s, p) in enumerate(rows)),
        encoding="utf-8",
    )
    profile = parse_profile(PROFILE.format(policy=policy, extra=extra).encode())
    table = read_table(path)
    return profile, table, suggest_mapping(profile, table.header)


# --- the window's passphrase pilot (tests/gui) -----------------------------------------------

# A template: format(policy=...) with an on_invalid policy ("blank", "exclude" or "block").
PASSPHRASE_PROFILE = """
format = "pseudodesk-profile/1"
[agreement]
name = "Pilot extract"
version = "1"
review_date = 2099-12-31
[recipient]
mode = "passphrase"
[checks]
on_invalid = "{policy}"
[[source_fields]]
id = "nhs_number"
convention = "nhs_number"
aliases = ["NHS No"]
[[source_fields]]
id = "gender"
convention = "gender"
aliases = ["Sex"]
[[output_fields]]
name = "PERSON_ID"
role = "pseudonym"
from = "nhs_number"
[[output_fields]]
name = "SEX"
role = "keep"
from = "gender"
"""


# --- certificates ---------------------------------------------------------------------------


def certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A fresh self-signed RSA certificate named ``name`` and its key, as PEM files in ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path
