"""The machine policy's switches and folders, read the way IT writes them (core/policy.py)."""

from __future__ import annotations

import pytest

from pseudodesk.core.policy import PolicyForbids, machine_policy
from pseudodesk.core.run.demo import run_demo


def test_folders_are_full_paths_with_variables_and_home_expanded(machine_policy_file, monkeypatch, tmp_path):
    monkeypatch.setenv("PD_SHARE", str(tmp_path / "share"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "home"))  # what ~ means on Windows
    machine_policy_file.write_text(
        'agreements_folder = "%PD_SHARE%/agreements"\ndefault_output_folder = "~/exports$"\nallow_demo = false\n',
        encoding="utf-8",
    )
    policy = machine_policy()
    assert policy.problem == ""
    assert policy.folder("agreements_folder") == tmp_path / "share" / "agreements"
    assert policy.folder("default_output_folder") == tmp_path / "home" / "exports$"  # a hidden share's $ stays
    assert not policy.allows("allow_demo") and policy.allows("allow_key_import")
    assert policy.written == {"agreements_folder", "default_output_folder", "allow_demo"}


@pytest.mark.parametrize(
    "text, problem",
    [
        ('default_output_folder = "exports"\n', "default_output_folder must be a full path"),
        ('agreements_folder = "%PD_NOT_SET%/agreements"\n', "environment variable this computer does not have"),
        ("agreements_folder = 3\n", "agreements_folder must be a folder written as text"),
        ('allow_demo = "off"\n', "allow_demo must be true or false"),
        ("demo = false\n", "settings this version does not know: demo"),
    ],
)
def test_a_folder_or_switch_that_cannot_be_used_fails_closed(machine_policy_file, monkeypatch, text, problem):
    monkeypatch.delenv("PD_NOT_SET", raising=False)
    machine_policy_file.write_text(text, encoding="utf-8")
    policy = machine_policy()
    assert problem in policy.problem
    assert policy.folder("agreements_folder") is None and policy.folder("default_output_folder") is None
    assert not policy.allows("allow_demo") and not policy.allows("allow_unapproved_exports")


def test_what_is_in_force_is_said_setting_by_setting(machine_policy_file, tmp_path):
    assert machine_policy().lines() == [
        f"No machine policy ({machine_policy_file} does not exist): nothing is restricted."
    ]
    machine_policy_file.write_text(
        f'allow_key_import = false\nagreements_folder = "{(tmp_path / "ag").as_posix()}"\n', encoding="utf-8"
    )
    assert machine_policy().lines() == [
        f"Machine policy {machine_policy_file}:",
        "  allow_unapproved_exports = true (default): exports under a profile that was not installed from an "
        "agreement package: allowed",
        "  allow_key_import = false (set by IT): importing a key or salt file on its own, outside an agreement "
        "package: NOT allowed",
        "  allow_demo = true (default): the demo: the bundled synthetic spreadsheet exported with a DEMO key: allowed",
        f"  agreements_folder = {tmp_path / 'ag'}: where IT puts the agreement packages (.pdagreement) this PC's "
        "users install",
        "  default_output_folder = (not set): the output folder offered for exports until a person chooses another",
    ]
    machine_policy_file.write_text("allow_demo = maybe\n", encoding="utf-8")
    assert (
        machine_policy().lines()[0].startswith(f"Machine policy {machine_policy_file} cannot be used: it is not valid")
    )


def test_the_demo_switched_off_writes_nothing(machine_policy_file, tmp_path, memory_keyring):
    machine_policy_file.write_text("allow_demo = false\n", encoding="utf-8")
    with pytest.raises(PolicyForbids, match=r"does not allow the demo \(allow_demo = false\)"):
        run_demo(tmp_path / "demo")
    assert not (tmp_path / "demo").exists() or not any((tmp_path / "demo").iterdir())
    machine_policy_file.write_text("allow_demo = true\n", encoding="utf-8")
    assert run_demo(tmp_path / "demo").rows_written > 0
