"""The minimal window: it opens and says which profile and which file are loaded."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt

from pseudodesk.core.readers import read_table
from pseudodesk.gui.app import MainWindow, SourceTableModel, main


def test_window_shows_profile_and_file(qtbot, demo_paths):
    window = MainWindow()
    qtbot.addWidget(window)
    window.load_profile(demo_paths["profile"])
    window.load_spreadsheet(demo_paths["spreadsheet"])
    assert window.agreement_label.text().startswith("Lincolnshire LCP Scorecard")
    assert window.profile_label.text().endswith("lincolnshire-lcp-scorecard.toml")
    assert window.key_label.text().startswith("not bound to a key yet")
    assert window.file_label.text() == "demo-people.xlsx, sheet 'People': 600 rows, 15 columns (header on row 1)"
    assert "PERSON_ID (pseudonym of 'NHS No')" in window.outputs_label.text()
    assert window.stripped_label.text().startswith("Client Ref, Forename, Surname")


def test_model_fetches_lazily_and_shows_text_as_read(qtbot, demo_paths):
    table = read_table(demo_paths["spreadsheet"])
    model = SourceTableModel(table)
    assert model.rowCount() == 0 and model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert model.rowCount() == SourceTableModel.CHUNK  # a chunk, not the whole file
    first = table.preview(1)[0]
    assert [model.data(model.index(0, c)) for c in range(model.columnCount())] == first
    assert model.headerData(0, Qt.Orientation.Vertical) == "2"  # the spreadsheet's row number
    assert model.headerData(10, Qt.Orientation.Horizontal) == "NHS No"
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    assert model.rowCount() == 600


def test_bad_file_shows_a_message_not_a_crash(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: shown.append(text))
    window = MainWindow()
    qtbot.addWidget(window)
    (tmp_path / "junk.xlsx").write_bytes(b"junk")
    window._guarded(lambda: window.load_spreadsheet(tmp_path / "junk.xlsx"))
    assert shown and shown[0].startswith("junk.xlsx: this is not a valid .xlsx workbook")
    assert window.file_label.text() == "No spreadsheet loaded"


def test_smoke_mode_opens_and_exits(qtbot, tmp_path):
    shot = tmp_path / "shot.png"
    assert main(["--demo", "--smoke", "--screenshot", str(shot)]) == 0
    assert shot.stat().st_size > 10_000
