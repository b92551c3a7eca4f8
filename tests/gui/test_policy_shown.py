"""The window under a machine policy: About says what is enforced; the policy's output folder is offered."""

from __future__ import annotations

from pseudodesk.gui.about import AboutDialog
from pseudodesk.gui.export_step import default_output_folder


def test_about_says_what_the_machine_policy_enforces(qtbot, machine_policy_file):
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    assert "No machine policy" in dialog.policy_label.text()
    machine_policy_file.write_text("allow_key_import = false\n", encoding="utf-8")
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    text = dialog.policy_label.text()
    assert f"Machine policy {machine_policy_file}:" in text
    assert "allow_key_import = false (set by IT): importing a key or salt file on its own" in text
    assert "NOT allowed" in text and "allow_demo = true (default)" in text


def test_the_policys_output_folder_is_the_default(machine_policy_file, tmp_path):
    assert default_output_folder().name == "pseudodesk exports"
    machine_policy_file.write_text(f'default_output_folder = "{(tmp_path / "it").as_posix()}"\n', encoding="utf-8")
    assert default_output_folder() == tmp_path / "it"
