"""Every window asks for files through the one open and save dialog of pseudodesk.gui.widgets.

Replacing ``widgets.ask_open_path`` / ``widgets.ask_save_path`` must reach every caller: each
test asserts the replacement was asked, so a caller that stops looking them up there fails here
instead of silently opening a real dialog.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QWidget

from pseudodesk.core.keys.store import KeyStore
from pseudodesk.gui import widgets
from pseudodesk.gui.audit import AuditWindow
from pseudodesk.gui.jobs import JobBridge
from pseudodesk.gui.keys import KeysWindow
from pseudodesk.gui.profile_editor import ProfileEditorDialog
from pseudodesk.gui.window import MainWindow

TIMEOUT = 30_000


class Asked:
    """Stands in for a file dialog: records what it was asked and answers ``answer``."""

    def __init__(self, answer: Path | None = None) -> None:
        self.answer = answer
        self.calls: list[tuple[object, ...]] = []

    def __call__(self, *args: object) -> Path | None:
        self.calls.append(args)
        return self.answer

    def captions(self) -> list[object]:
        return [call[1] for call in self.calls]


@pytest.fixture
def asked_open(monkeypatch) -> Asked:
    asked = Asked()
    monkeypatch.setattr(widgets, "ask_open_path", asked)
    return asked


@pytest.fixture
def asked_save(monkeypatch) -> Asked:
    asked = Asked()
    monkeypatch.setattr(widgets, "ask_save_path", asked)
    return asked


@pytest.fixture
def bridge(qtbot) -> Iterator[JobBridge]:
    bridge = JobBridge()
    yield bridge
    qtbot.waitUntil(lambda: not bridge.busy, timeout=TIMEOUT)
    bridge.shutdown()


@pytest.fixture
def store(memory_keyring, private_data_dir) -> KeyStore:
    return KeyStore()


# --- the dialogs themselves ------------------------------------------------------------------


def test_ask_open_path_passes_caption_start_and_filter(qtbot, monkeypatch, tmp_path):
    calls = []
    answers = iter([(str(tmp_path / "people.csv"), "CSV (*.csv)"), ("", "")])
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: calls.append(args) or next(answers))
    parent = QWidget()
    qtbot.addWidget(parent)
    assert widgets.ask_open_path(parent, "Open spreadsheet", "CSV (*.csv)") == tmp_path / "people.csv"
    assert widgets.ask_open_path(parent, "Open mapping", "Mappings (*.toml)", tmp_path) is None  # cancelled
    assert calls == [
        (parent, "Open spreadsheet", "", "CSV (*.csv)"),
        (parent, "Open mapping", str(tmp_path), "Mappings (*.toml)"),
    ]


def test_ask_save_path_suggests_a_name(qtbot, monkeypatch, tmp_path):
    calls = []
    answers = iter([(str(tmp_path / "b.toml"), "Mappings (*.toml)"), ("", "")])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: calls.append(args) or next(answers))
    parent = QWidget()
    qtbot.addWidget(parent)
    assert (
        widgets.ask_save_path(parent, "Save mapping", tmp_path / "a.toml", "Mappings (*.toml)") == tmp_path / "b.toml"
    )
    assert widgets.ask_save_path(parent, "Save mapping", "", "Mappings (*.toml)") is None  # cancelled
    assert calls == [
        (parent, "Save mapping", str(tmp_path / "a.toml"), "Mappings (*.toml)"),
        (parent, "Save mapping", "", "Mappings (*.toml)"),
    ]


# --- every caller asks through them ----------------------------------------------------------


def test_the_main_window_steps_ask_through_the_shared_dialogs(qtbot, asked_open, asked_save):
    window = MainWindow()
    qtbot.addWidget(window)
    try:
        window.load_step.choose_file()
        window.map_step.choose_profile()
        window.map_step.choose_mapping()
        window.map_step.choose_mapping_destination()
        window.check_step.choose_csv_destination()
        window.check_step.choose_html_destination()
    finally:
        window.bridge.shutdown()
    assert asked_open.captions() == ["Open spreadsheet", "Open agreement profile", "Load mapping"]
    assert asked_save.captions() == ["Save mapping", "Save problems as CSV", "Save check report"]


def test_the_audit_window_asks_through_the_shared_dialogs(qtbot, store, bridge, asked_open, asked_save, tmp_path):
    store.create("Pilot key")  # a log to verify, so the report buttons are enabled
    window = AuditWindow(store, bridge)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: not window.busy and not bridge.busy and window.csv_button.isEnabled(), timeout=TIMEOUT)
    window.pinned_verify_button.click()
    window.inspect_button.click()
    window.inspect_dialog.package_button.click()
    window.inspect_dialog.certificate_button.click()
    window.inspect_dialog.private_key_button.click()
    assert asked_open.captions() == [
        "Choose the pinned installation key",
        "Choose a package to inspect",
        "Choose a package to inspect",
        "Choose your certificate",
        "Choose the certificate's private key",
    ]
    asked_save.answer = tmp_path / "listing"  # typed without the extension
    window.csv_button.click()
    assert asked_save.captions() == ["Export the listed entries as CSV"]
    assert (tmp_path / "listing.csv").read_text(encoding="utf-8-sig").startswith("seq,")


def test_the_keys_window_asks_through_the_shared_dialogs(qtbot, store, bridge, asked_open):
    window = KeysWindow(store, bridge)
    qtbot.addWidget(window)
    window.import_button.click()
    assert asked_open.captions() == ["Import a key file"]
    assert window.import_dialog is None  # nothing chosen, nothing asked


def test_the_profile_editor_asks_through_the_shared_dialogs(qtbot, asked_open):
    dialog = ProfileEditorDialog(("NHS No", "Sex"), [["943 476 5919", "F"]])
    qtbot.addWidget(dialog)
    dialog.certificate_radio.click()
    dialog.browse_button.click()
    assert asked_open.captions() == ["Choose the recipient's certificate"]
    assert dialog.certificate_edit.text() == ""  # nothing chosen
