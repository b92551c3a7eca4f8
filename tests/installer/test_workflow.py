"""The Windows workflow: valid against GitHub's workflow schema (and actionlint where installed), and its
release job signs every file it ships or fails (docs/deployment.md, "Signing")."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "windows.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return YAML(typ="safe").load(WORKFLOW.read_text(encoding="utf-8"))


def step_index(steps: list[dict], text: str) -> int:
    """The first step whose name, uses or run holds ``text``."""
    for index, step in enumerate(steps):
        if text in " ".join(str(step.get(k, "")) for k in ("name", "uses", "run")):
            return index
    raise AssertionError(f"no step mentions {text!r}")


def test_the_workflow_matches_githubs_schema():
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_workflow_with_a_misspelt_key_fails_the_schema_check(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace("runs-on:", "run-on:", 1), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1


@pytest.mark.skipif(shutil.which("actionlint") is None, reason="actionlint is not installed (no PyPI wheel)")
def test_actionlint_finds_nothing():
    done = subprocess.run(["actionlint", str(WORKFLOW)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_builds_and_releases_never_run_together(workflow):
    jobs = workflow["jobs"]
    assert jobs["build"]["if"] == "${{ !startsWith(github.ref, 'refs/tags/v') && !inputs.release }}"
    assert jobs["release"]["if"] == "${{ startsWith(github.ref, 'refs/tags/v') || inputs.release }}"
    build = "\n".join(str(step) for step in jobs["build"]["steps"])
    assert "SIGNING" not in build and "sign.ps1" not in build
    assert "UNSIGNED" in jobs["build"]["steps"][-1]["with"]["name"]


def test_the_release_signs_every_file_it_ships_or_fails(workflow):
    job = workflow["jobs"]["release"]
    steps = job["steps"]
    assert job["permissions"]["id-token"] == "write" and job["environment"] == "release"
    first = steps[0]["run"]
    for name in ("SIGNING_ENDPOINT", "SIGNING_ACCOUNT", "SIGNING_PROFILE", "SIGNING_SUBJECT", "AZURE_CLIENT_ID"):
        assert name in first and name in job["env"]
    assert "exit 1" in first
    order = [
        step_index(steps, "pe_files.py dist\\pseudodesk --to-sign build\\to-sign.txt"),
        step_index(steps, "sign.ps1 -List build\\to-sign.txt"),
        step_index(steps, "/DSign"),
        step_index(steps, "msi_check.py"),
        step_index(steps, "sign.ps1 dist\\pseudodesk-"),
        step_index(steps, "Get-AuthenticodeSignature"),
        step_index(steps, "Compress-Archive"),
        step_index(steps, "actions/upload-artifact"),
    ]
    assert order == sorted(order), order  # sign the folder, pack it, sign the packages, verify, then publish
    inno = steps[step_index(steps, "/DSign")]["run"]
    assert '"/Spdsign=$sign"' in inno and "installer\\sign.ps1" in inno
    verify = steps[step_index(steps, "Get-AuthenticodeSignature")]["run"]
    for shipped in ("build\\to-sign.txt", "dist\\*.msi", "$setup", "unins000.exe", "SIGNING_SUBJECT", "exit 1"):
        assert shipped in verify


def test_the_steps_use_only_what_versioning_prints(workflow):
    printed = subprocess.run(
        [sys.executable, str(ROOT / "installer" / "versioning.py")], capture_output=True, text=True, check=True
    ).stdout
    names = {line.split("=", 1)[0] for line in printed.splitlines()}
    used = set(re.findall(r"steps\.version\.outputs\.(\w+)", WORKFLOW.read_text(encoding="utf-8")))
    assert used and used <= names


def test_the_per_user_setup_signs_its_uninstaller_when_asked():
    script = (ROOT / "installer" / "pseudodesk.iss").read_text(encoding="utf-8")
    block = script.split("#ifdef Sign", 1)[1].split("#endif", 1)[0]
    assert "SignTool=pdsign" in block and "SignedUninstaller=yes" in block
    signer = (ROOT / "installer" / "sign.ps1").read_text(encoding="utf-8")
    assert "/dlib $env:SIGNING_DLIB /dmdf $metadata" in signer and "throw" in signer
