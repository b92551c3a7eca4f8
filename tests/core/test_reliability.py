"""Reliability under faults: concurrent first use, two data folders, a torn audit line, an export
interrupted at any step, full folders and damaged files."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest

from pseudodesk.core.audit.log import LOG_NAME, installation_public_key, read_entries, verify_log
from pseudodesk.core.keys.installation import installation_signer, record
from pseudodesk.core.keys.store import KeyStore
from tests.helpers import keyring_backend, new_keyring


class FolderKeyring:
    """A keyring shared by processes: one file per entry, written atomically (tests only)."""

    priority = 1

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def _path(self, service: str, username: str) -> Path:
        return self.folder / f"{service}--{username}"

    def get_password(self, service: str, username: str) -> str | None:
        path = self._path(service, username)
        return path.read_text(encoding="utf-8") if path.exists() else None

    def set_password(self, service: str, username: str, password: str) -> None:
        time.sleep(0.2)  # a real keyring takes a moment: the window in which a second process looks
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{os.getpid()}.tmp"
        tmp.write_text(password, encoding="utf-8")
        os.replace(tmp, self._path(service, username))

    def delete_password(self, service: str, username: str) -> None:
        self._path(service, username).unlink(missing_ok=True)


def folder_keyring(folder: str):
    from keyring.backend import KeyringBackend

    return type("TestFolderKeyring", (FolderKeyring, KeyringBackend), {})(folder)


def _first_use(data: str, ring: str, barrier, appends: int) -> None:
    """One process of a fresh installation's first minute: wait for the others, then audit."""
    import keyring

    keyring.set_keyring(folder_keyring(ring))
    store = KeyStore(Path(data))
    barrier.wait()
    for n in range(appends):
        record(store, "test.first-use", {"pid": os.getpid(), "n": n})


def verified(folder: Path):
    published = installation_public_key(folder)
    assert published is not None
    return verify_log(folder / LOG_NAME, *published)


def test_processes_starting_together_make_one_installation_key(tmp_path):
    data, ring = tmp_path / "data", tmp_path / "ring"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    workers = [context.Process(target=_first_use, args=(str(data), str(ring), barrier, 3)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    result = verified(data)
    assert result.ok, [str(p) for p in result.problems]
    assert result.entries == 12
    entries = [e for _, e, _ in read_entries(data / LOG_NAME)]
    assert {e["signer"] for e in entries} == {result.signer}
    with keyring_backend(folder_keyring(str(ring))):
        assert installation_signer(KeyStore(data)).fingerprint == result.signer  # still able to sign


def test_two_data_folders_of_one_user_keep_their_own_signing_keys(tmp_path):
    with keyring_backend(new_keyring()):
        first, second = KeyStore(tmp_path / "first"), KeyStore(tmp_path / "second")
        record(first, "test.a", {})
        record(second, "test.b", {})  # same keyring, another data folder
        record(first, "test.a", {})  # the first still signs with its own key
        assert installation_signer(first).fingerprint != installation_signer(second).fingerprint
    assert verified(tmp_path / "first").ok and verified(tmp_path / "second").ok


def test_a_damaged_installation_key_file_is_a_clear_error(tmp_path):
    from pseudodesk.core.audit.log import AuditError

    with keyring_backend(new_keyring()):
        store = KeyStore(tmp_path)
        record(store, "test.a", {})
        (tmp_path / "installation-key.json").write_text('{"format": "pseudodesk-installation-key/1", "pub', "utf-8")
        with pytest.raises(AuditError, match="damaged or unreadable"):
            record(store, "test.b", {})
    assert json.loads((tmp_path / LOG_NAME).read_text().splitlines()[0])["event"] == "test.a"
