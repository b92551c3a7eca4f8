"""Shared fixtures: an in-memory keyring, a private data directory, the demo files.

Plain helpers and constants live in tests/helpers.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pseudodesk.core.resources import resource_path
from tests.helpers import MemoryKeyring, new_keyring


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    import keyring

    backend = new_keyring()
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


@pytest.fixture(autouse=True)
def machine_policy_file(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where this test's machine policy lives (no file: no restriction); never the real machine's."""
    path = tmp_path_factory.mktemp("machine-config") / "policy.toml"
    monkeypatch.setattr("pseudodesk.core.policy.policy_path", lambda: path)
    return path


@pytest.fixture
def demo_paths() -> dict[str, Path]:
    return {
        "profile": resource_path("profiles", "lincolnshire-lcp-scorecard.toml"),
        "spreadsheet": resource_path("demo", "demo-people.xlsx"),
        "mapping": resource_path("demo", "demo-people.mapping.toml"),
        "certificate": resource_path("demo", "demo-recipient.crt"),
        "private_key": resource_path("demo", "DEMO-ONLY-recipient-private-key.pem"),
    }
