"""Plain resource files (demo data, example profiles), found the same way everywhere.

In an installed wheel or a PyInstaller build the ``resources/`` folder sits inside the
package (``pseudodesk/resources``, see pyproject.toml and installer/); in a source
checkout it is the top-level ``resources/`` folder. Both are plain files, so the core,
the GUI and PyInstaller read them without Qt's resource system.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import resources as importlib_resources
from pathlib import Path

DEMO_CERTIFICATE = ("demo", "demo-recipient.crt")
DEMO_PRIVATE_KEY = ("demo", "DEMO-ONLY-recipient-private-key.pem")
DEMO_SPREADSHEET = ("demo", "demo-people.xlsx")
DEMO_MAPPING = ("demo", "demo-people.mapping.toml")
EXAMPLE_PROFILE = ("profiles", "lincolnshire-lcp-scorecard.toml")


@functools.cache
def resources_dir() -> Path:
    packaged = Path(str(importlib_resources.files("pseudodesk"))) / "resources"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / "resources"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError("pseudodesk's resources folder is missing from this installation")


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


@functools.cache
def demo_certificate_fingerprint() -> str:
    """SHA-256 fingerprint (upper-case hex) of the bundled demo recipient certificate's DER."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        cert = x509.load_pem_x509_certificate(resource_path(*DEMO_CERTIFICATE).read_bytes())
    except FileNotFoundError:
        return ""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
