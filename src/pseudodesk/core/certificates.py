"""Recipient certificates: read, checked for use, fingerprinted (below every stage: profiles
name them, packages encrypt to them, key files are wrapped to them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.x509 import Certificate
from pseudodesk.core.errors import ExportError


def load_certificates(paths: Sequence[Path]) -> list[Certificate]:
    """Read PEM or DER X.509 certificates with RSA keys; refuse expired or unusable ones."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    certs: list[Certificate] = []
    now = dt.datetime.now(dt.UTC)
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ExportError(f"Recipient certificate {Path(path).name}: cannot be read ({exc.strerror}).") from None
        try:
            cert = parse_certificate(data)
        except ValueError:
            raise ExportError(f"Recipient certificate {Path(path).name}: not a PEM or DER X.509 certificate.") from None
        if not isinstance(cert.public_key(), rsa.RSAPublicKey):
            raise ExportError(f"Recipient certificate {Path(path).name}: only RSA certificates are supported.")
        if cert.not_valid_after_utc < now:
            raise ExportError(
                f"Recipient certificate {Path(path).name} expired on {cert.not_valid_after_utc:%d/%m/%Y}; "
                "ask the recipient for their current certificate."
            )
        if cert.not_valid_before_utc > now:
            raise ExportError(
                f"Recipient certificate {Path(path).name} is not valid until {cert.not_valid_before_utc:%d/%m/%Y}."
            )
        certs.append(cert)
    if not certs:
        raise ExportError("No recipient certificate was given.")
    return certs


def parse_certificate(data: bytes) -> Certificate:
    """A PEM or DER X.509 certificate; ValueError when it is neither."""
    from cryptography import x509

    return x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)


def read_recipient_identity(
    certificate: Path, private_key: Path, password: str | None = None
) -> tuple[Certificate, Any]:
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


def certificate_subject(cert: Certificate) -> str:
    """Who a certificate names, as an IG lead reads it: its organisation and common name
    ("Lincolnshire County Council / Data Platform"), or the whole subject when it has neither."""
    from cryptography.x509.oid import NameOID

    parts = [
        str(attribute.value)
        for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME)
        for attribute in cert.subject.get_attributes_for_oid(oid)
    ]
    return " / ".join(parts) if parts else cert.subject.rfc4514_string()
