"""The crash matrix: a real `pseudodesk-cli run` stopped dead (os._exit, as kill -9) at every step
boundary of the export, and killed at several moments of a long run. After each, and after the
next start: no plaintext anywhere, no hidden partial file, every export on disk has its manifest
and a completed audit entry (or was undone and recorded), and the audit log verifies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pseudodesk.core.audit.log import LOG_NAME, installation_public_key, read_entries, unfinished_exports, verify_log
from pseudodesk.core.keys.store import KeyStore
from tests.core.test_reliability import folder_keyring
from tests.helpers import PASSPHRASE_PROFILE, keyring_backend

ROOT = Path(__file__).resolve().parents[2]
NHS = ["9434765919", "4505577104", "9995522950", "9992499559"]
STEPS = ["started", "encrypted", "manifest placed", "output placed", "recorded"]
CHILD = """
import os, sys
sys.path[:0] = [{root!r}, {src!r}]
import keyring
from tests.core.test_reliability import folder_keyring
keyring.set_keyring(folder_keyring({ring!r}))
import pseudodesk.core.run.export as export
def stop(name):
    if name == {step!r}:
        os._exit(137)  # as kill -9: no clean-up of any kind
export.step_hook = stop
from pseudodesk.cli.main import main
sys.exit(main({argv!r}))
"""


@pytest.fixture
def world(tmp_path):
    data, ring = tmp_path / "data", tmp_path / "ring"
    with keyring_backend(folder_keyring(str(ring))):
        key = KeyStore(data).create("Pilot key")
    profile = tmp_path / "pilot.toml"
    profile.write_text(PASSPHRASE_PROFILE.format(policy="blank"), encoding="utf-8")
    return {"data": data, "ring": ring, "key": key.id, "profile": profile, "out": tmp_path / "out"}


def source(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "people.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write("Name,NHS No,Sex\n")
        for i in range(rows):
            f.write(f"Person {i},{NHS[i % 4]},{'FM'[i % 2]}\n")
    return path


def cli(world, argv: list[str], step: str = "") -> subprocess.Popen:
    code = CHILD.format(root=str(ROOT), src=str(ROOT / "src"), ring=str(world["ring"]), step=step, argv=argv)
    env = {**os.environ, "PSEUDODESK_DATA_DIR": str(world["data"])}
    return subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(ROOT)
    )


def run_args(world, input_path: Path, name: str) -> list[str]:
    return [
        "run", "--accept-unapproved-profile", "--profile", str(world["profile"]), "--input", str(input_path),
        "--out", str(world["out"]), "--key", world["key"], "--name", name,
    ]  # fmt: skip


def assert_sound(world) -> list[dict]:
    """The invariants after a crash and the next start; returns the completed export entries."""
    data, out = world["data"], world["out"]
    for folder in (data, out, out.parent):
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix not in (".csv",):
                blob = path.read_bytes()
                assert not any(n.encode() in blob for n in NHS), f"plaintext in {path}"
                assert b"Person 1" not in blob, f"plaintext in {path}"
    assert not list(out.glob(".*.partial")) if out.exists() else True, "a hidden partial file was left"
    published = installation_public_key(data)
    assert published is not None
    verification = verify_log(data / LOG_NAME, *published)
    assert verification.ok, [str(p) for p in verification.problems]
    assert unfinished_exports(data / LOG_NAME) == []
    entries = [e for _, e, _ in read_entries(data / LOG_NAME) if e]
    done = {e["details"]["export_id"]: e for e in entries if e["event"] == "export"}
    for encrypted in out.glob("*.7z") if out.exists() else []:
        manifest = encrypted.with_name(encrypted.name[: -len(".7z")] + ".manifest.json")
        assert manifest.exists(), f"{encrypted.name} has no manifest"
        export_id = json.loads(manifest.read_text())["manifest"]["export_id"]
        assert export_id in done, f"{encrypted.name} has no completed audit entry"
        assert done[export_id]["details"]["output"] == encrypted.name
    return list(done.values())


@pytest.mark.parametrize("step", STEPS)
def test_a_run_stopped_dead_at_each_step(world, tmp_path, step):
    people = source(tmp_path, 3_000)
    child = cli(world, run_args(world, people, "pilot"), step=step)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 137, err.decode()
    # the next start (any command) undoes what the stopped export left, and records it
    after = cli(world, ["audit", "verify"])
    out, err = after.communicate(timeout=120)
    assert after.returncode == 0, (out + err).decode()
    done = assert_sound(world)
    entries = [e for _, e, _ in read_entries(world["data"] / LOG_NAME) if e]
    if step == "recorded":  # stopped after the export was recorded: it stands
        assert len(done) == 1 and (world["out"] / "pilot.7z").exists()
        assert b"was stopped part-way" not in err
    else:
        assert done == [] and not (world["out"] / "pilot.7z").exists()
        (interrupted,) = [e for e in entries if e["event"] == "export.interrupted"]
        assert interrupted["details"]["output"] == "pilot.7z"
        assert b"was stopped part-way" in err
        if step in ("manifest placed", "output placed"):
            assert "pilot.manifest.json" in interrupted["details"]["removed"]
    # and the partner can simply export again
    again = cli(world, run_args(world, people, "pilot-again"))
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err.decode()
    assert len(assert_sound(world)) == len(done) + 1


@pytest.mark.parametrize("after_seconds", [0.8, 1.6, 3.0])
def test_a_long_run_killed_at_any_moment(world, tmp_path, after_seconds):
    people = source(tmp_path, 400_000)
    child = cli(world, run_args(world, people, "big"))
    time.sleep(after_seconds)
    child.kill()
    child.communicate(timeout=120)
    after = cli(world, ["audit", "verify"])
    out, err = after.communicate(timeout=120)
    assert after.returncode == 0, (out + err).decode()
    assert_sound(world)
