"""A file briefly held by another process (antivirus, OneDrive, the search indexer) is retried, not failed."""

from __future__ import annotations

import errno
import os

import pytest

from pseudodesk.core import files
from pseudodesk.core.files import atomic_json, atomic_output


@pytest.fixture
def held(monkeypatch):
    """os.replace and os.rename refuse ``times`` times with a sharing violation, then work; waits recorded."""
    state = {"times": 0, "calls": 0, "waits": []}
    real_replace, real_rename = os.replace, os.rename

    def flaky(real):
        def call(src, dst, *args, **kwargs):
            state["calls"] += 1
            if state["calls"] <= state["times"]:
                raise PermissionError(errno.EACCES, "The process cannot access the file", str(dst))
            return real(src, dst, *args, **kwargs)

        return call

    monkeypatch.setattr(files.os, "replace", flaky(real_replace))
    monkeypatch.setattr(files.os, "rename", flaky(real_rename))
    monkeypatch.setattr(files.time, "sleep", state["waits"].append)
    return state


def test_a_briefly_held_file_is_replaced_after_waiting(tmp_path, held):
    target = tmp_path / "keys.json"
    target.write_text("{}")
    held["times"] = 3
    atomic_json(target, {"keys": [1]})
    assert target.read_text(encoding="utf-8") == '{\n  "keys": [\n    1\n  ]\n}'
    assert held["waits"] == [0.05, 0.1, 0.2]  # doubling each time
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]


def test_an_export_over_a_held_file_is_put_in_place_after_waiting(tmp_path, held):
    target = tmp_path / "export.7z"
    target.write_bytes(b"old")
    held["times"] = 2
    with atomic_output(target, overwrite=True) as f:
        f.write(b"new")
    assert target.read_bytes() == b"new" and held["waits"] == [0.05, 0.1]


def test_a_file_held_for_good_fails_after_the_retries_and_leaves_no_temporary_file(tmp_path, held):
    target = tmp_path / "keys.json"
    target.write_text("{}")
    held["times"] = 100
    with pytest.raises(PermissionError):
        atomic_json(target, {"keys": []})
    assert held["calls"] == files.REPLACE_ATTEMPTS == 6
    assert held["waits"] == [0.05, 0.1, 0.2, 0.4, 0.8]  # 1.55 s in all
    assert target.read_text() == "{}" and [p.name for p in tmp_path.iterdir()] == ["keys.json"]


def test_other_failures_are_not_retried(tmp_path, monkeypatch):
    waits = []
    monkeypatch.setattr(files.time, "sleep", waits.append)

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "replace", full)
    with pytest.raises(OSError, match="No space"):
        atomic_json(tmp_path / "keys.json", {})
    assert waits == []
