"""Shared fixtures: an in-memory keyring, a private data directory, external tools."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pseudodesk.core.resources import resource_path

DATA = Path(__file__).resolve().parent / "data"


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


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    import keyring
    from keyring.backend import KeyringBackend

    backend_cls = type("TestMemoryKeyring", (MemoryKeyring, KeyringBackend), {})
    backend = backend_cls()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the real user's pseudodesk data directory."""
    path = tmp_path_factory.mktemp("pseudodesk-data")
    monkeypatch.setenv("PSEUDODESK_DATA_DIR", str(path))
    return path


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


@pytest.fixture
def demo_paths() -> dict[str, Path]:
    return {
        "profile": resource_path("profiles", "lincolnshire-lcp-scorecard.toml"),
        "spreadsheet": resource_path("demo", "demo-people.xlsx"),
        "mapping": resource_path("demo", "demo-people.mapping.toml"),
        "certificate": resource_path("demo", "demo-recipient.crt"),
        "private_key": resource_path("demo", "DEMO-ONLY-recipient-private-key.pem"),
    }


def _test_signer():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from pseudodesk.core.package.signing import Signer

    return Signer(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))


TEST_SIGNER = _test_signer()


def run(*args, **kwargs):
    """pseudodesk.core.run.export.run, signing manifests with a fixed test installation key."""
    from pseudodesk.core.run import export

    kwargs.setdefault("signer", TEST_SIGNER)
    return export.run(*args, **kwargs)
