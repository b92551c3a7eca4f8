"""The audit window: the log as a filterable table, its verification, package inspection, the report."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import re
import shutil
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDateEdit,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTableView,
    QTableWidget,
    QWidget,
)

from pseudodesk.core.audit.log import AuditError, installation_public_key, read_entries, verify_log
from pseudodesk.core.keys.installation import record
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.gui.audit import AuditWindow
from pseudodesk.gui.jobs import JobBridge

PAGE = re.compile(rb"/Type\s*/Page(?!s)")
ALL_CHECKS = ["manifest signature", "encrypted file", "plaintext", "columns", "rows", "identifier scan"]


@pytest.fixture
def bridge(qtbot):
    bridge = JobBridge()
    yield bridge
    qtbot.waitUntil(lambda: not bridge.busy, timeout=30_000)
    bridge.shutdown()


@pytest.fixture
def store(memory_keyring, private_data_dir) -> KeyStore:
    return KeyStore()


@pytest.fixture
def log_path(private_data_dir) -> Path:
    return private_data_dir / "audit.jsonl"


def idle(qtbot, window: AuditWindow) -> None:
    qtbot.waitUntil(lambda: not window.busy and not window.bridge.busy, timeout=30_000)


def open_window(qtbot, store: KeyStore, bridge: JobBridge) -> AuditWindow:
    window = AuditWindow(store, bridge)
    qtbot.addWidget(window)
    idle(qtbot, window)
    return window


def shown(window: AuditWindow, column: int) -> list[str]:
    proxy = window.proxy
    return [proxy.index(row, column).data() for row in range(proxy.rowCount())]


def seven_entries(store: KeyStore, monkeypatch) -> None:
    """Seven entries: key.created, 3 reidentify (agreement Pilot), 2 test.other, and a reidentify by
    another operator under agreement Other."""
    store.create("Pilot key", agreement="Pilot")
    for n, source in enumerate(["smith.xlsx", "jones.xlsx", "brown.xlsx"]):
        record(
            store,
            "reidentify",
            {"source_file": source, "pseudonyms_asked": 10, "pseudonyms_matched": n, "agreement": "Pilot"},
        )
    for n in range(2):
        record(store, "test.other", {"n": n})
    with monkeypatch.context() as patch:
        patch.setattr("pseudodesk.core.audit.log.os_user", lambda: "jsmith")
        record(
            store,
            "reidentify",
            {"source_file": "green.xlsx", "pseudonyms_asked": 5, "pseudonyms_matched": 5, "agreement": "Other"},
        )


def choose(combo: QComboBox, value: str | None) -> None:
    index = combo.findData(value) if value is not None else 0
    assert index >= 0, f"{value!r} is not offered"
    combo.setCurrentIndex(index)


# --- listing and filtering -------------------------------------------------------------------


def test_lists_every_entry_with_its_columns(qtbot, store, bridge, monkeypatch, log_path):
    seven_entries(store, monkeypatch)
    window = open_window(qtbot, store, bridge)
    assert window.model.rowCount() == 7 and window.proxy.rowCount() == 7
    assert window.count_label.text() == "7 entries"
    assert shown(window, 0) == [str(n) for n in range(1, 8)]
    assert shown(window, 3) == [
        "key.created",
        "reidentify",
        "reidentify",
        "reidentify",
        "test.other",
        "test.other",
        "reidentify",
    ]
    assert shown(window, 2)[-1] == "jsmith"
    assert shown(window, 4)[:4] == ["Pilot"] * 4 and shown(window, 4)[-1] == "Other"
    assert shown(window, 5)[1] == "0 of 10 pseudonyms matched in smith.xlsx"
    first = next(e for _, e, _ in read_entries(log_path))
    assert shown(window, 1)[0] == dt.datetime.fromisoformat(first["time"]).strftime("%d/%m/%Y %H:%M:%S")


def test_filter_by_event_text_operator_and_agreement(qtbot, store, bridge, monkeypatch):
    seven_entries(store, monkeypatch)
    window = open_window(qtbot, store, bridge)
    assert [window.event_combo.itemText(i) for i in range(window.event_combo.count())] == [
        "All events",
        "key.created",
        "reidentify",
        "test.other",
    ]
    choose(window.event_combo, "reidentify")
    assert window.proxy.rowCount() == 4
    assert set(shown(window, 3)) == {"reidentify"}
    assert window.count_label.text() == "Showing 4 of 7 entries"
    choose(window.operator_combo, "jsmith")
    assert shown(window, 0) == ["7"]
    assert window.selection.operator == "jsmith" and window.selection.event == "reidentify"
    choose(window.operator_combo, None)
    choose(window.agreement_combo, "Pilot")
    assert shown(window, 0) == ["2", "3", "4"]
    window.search_edit.setText("JONES")  # case-insensitive, in the summary
    assert shown(window, 0) == ["3"]
    window.clear_filters()
    assert window.proxy.rowCount() == 7 and window.search_edit.text() == ""
    window.search_edit.setText("nothing like this")
    assert window.proxy.rowCount() == 0


def test_date_filters_are_the_report_filter(qtbot, store, bridge, monkeypatch):
    seven_entries(store, monkeypatch)
    window = open_window(qtbot, store, bridge)
    today = dt.datetime.now(dt.UTC).date()
    window.from_check.setChecked(True)
    assert window.from_date.isEnabled() and window.from_date.date() == QDate(today.year, today.month, today.day)
    assert window.proxy.rowCount() == 7 and window.selection.since == today
    tomorrow = today + dt.timedelta(days=1)
    window.from_date.setDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
    assert window.proxy.rowCount() == 0 and window.selected_entries() == []
    window.from_check.setChecked(False)
    window.to_check.setChecked(True)
    yesterday = today - dt.timedelta(days=1)
    window.to_date.setDate(QDate(yesterday.year, yesterday.month, yesterday.day))
    assert window.proxy.rowCount() == 0 and window.selection.until == yesterday
    window.to_date.setDate(QDate(today.year, today.month, today.day))
    assert window.proxy.rowCount() == 7
    choose(window.event_combo, "test.other")
    html = window.report_html()
    assert f"Selection: to {today:%d/%m/%Y}, event &#x27;test.other&#x27;." in html
    assert html.count("<td>test.other</td>") == 2 and "reidentify" not in html


def test_selecting_an_entry_shows_it_in_full(qtbot, store, bridge, monkeypatch):
    seven_entries(store, monkeypatch)
    window = open_window(qtbot, store, bridge)
    window.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert shown(window, 0)[0] == "7"  # sorted as numbers
    window.table.selectRow(0)
    shown_entry = json.loads(window.details_view.toPlainText())
    assert shown_entry["seq"] == 7 and shown_entry["details"]["source_file"] == "green.xlsx"


# --- verification ----------------------------------------------------------------------------


def test_banner_green_on_an_intact_log_and_red_naming_an_edited_line(
    qtbot, store, bridge, monkeypatch, log_path, private_data_dir
):
    seven_entries(store, monkeypatch)
    window = open_window(qtbot, store, bridge)
    _, fingerprint = installation_public_key(private_data_dir)
    assert window.banner.text().startswith(f"\u2713 Log verified: 7 entries, signed by {fingerprint}")
    assert window.banner.property("state") == "ok" and window.verification.ok
    assert window.model.index(2, 0).data(Qt.ItemDataRole.BackgroundRole) is None

    lines = log_path.read_bytes().splitlines(keepends=True)
    assert b'"pseudonyms_matched":1' in lines[2]
    lines[2] = lines[2].replace(b'"pseudonyms_matched":1', b'"pseudonyms_matched":7')  # one byte
    log_path.write_bytes(b"".join(lines))
    with qtbot.waitSignal(window.verification_changed, timeout=30_000) as blocker:
        window.refresh_button.click()
    idle(qtbot, window)
    assert blocker.args[0] is not None and not blocker.args[0].ok
    text = window.banner.text()
    assert text.startswith("\u2717 The log does not verify (2 problems")
    assert "line 3: edited: entry 3 was changed after it was signed" in text
    assert "line 4: edited: the entry before entry 4 is not the one it was chained to" in text
    assert window.banner.property("state") == "bad"
    assert window.model.rowCount() == 7  # the edited entry is still listed, and highlighted
    assert window.model.index(2, 0).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert "line 3: edited" in window.model.index(2, 5).data(Qt.ItemDataRole.ToolTipRole)
    assert window.model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is None


def test_verify_records_the_verification_like_the_cli(qtbot, store, bridge, monkeypatch, log_path, private_data_dir):
    seven_entries(store, monkeypatch)
    window = open_window(qtbot, store, bridge)
    assert len(list(read_entries(log_path))) == 7  # opening and refreshing record nothing
    window.verify_button.click()
    idle(qtbot, window)
    entries = [e for _, e, _ in read_entries(log_path)]
    assert entries[-1]["event"] == "audit.verified" and entries[-1]["details"] == {
        "entries": 7,
        "ok": True,
        "problems": [],
    }
    assert window.model.rowCount() == 8 and shown(window, 3)[-1] == "audit.verified"
    assert shown(window, 5)[-1] == "log verified"
    assert verify_log(log_path, *installation_public_key(private_data_dir)).ok  # still intact

    log_path.write_bytes(log_path.read_bytes().replace(b'"n":1', b'"n":2'))
    window.verify()
    idle(qtbot, window)
    last = [e for _, e, _ in read_entries(log_path)][-1]
    assert last["event"] == "audit.verified" and last["details"]["ok"] is False
    assert last["details"]["problems"][0] == "line 6: edited: entry 6 was changed after it was signed"
    assert shown(window, 5)[-1].startswith("log BROKEN: line 6: edited")


def test_verify_against_a_pinned_key(qtbot, store, bridge, monkeypatch, tmp_path, private_data_dir):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from pseudodesk.core.package.signing import Signer

    seven_entries(store, monkeypatch)
    window = open_window(qtbot, store, bridge)
    pinned = tmp_path / "kept-installation-key.json"
    shutil.copy(private_data_dir / "installation-key.json", pinned)
    window.verify(pinned)
    idle(qtbot, window)
    assert window.banner.property("state") == "ok"
    other = Signer(Ed25519PrivateKey.generate())
    stranger = tmp_path / "stranger.json"
    stranger.write_text(json.dumps({"public": base64.b64encode(other.public_raw).decode()}))
    window.verify(stranger)
    idle(qtbot, window)
    assert window.banner.property("state") == "bad"
    assert "line 1: foreign-signer: entry 1 is signed by another key" in window.banner.text()
    assert window.verification.signer == other.fingerprint


def test_no_log_yet(qtbot, store, bridge, log_path, tmp_path):
    window = open_window(qtbot, store, bridge)
    assert not log_path.exists()
    assert window.banner.text().startswith("There is no audit log on this computer yet")
    assert window.banner.property("state") == "none"
    assert window.model.rowCount() == 0 and window.verification is None
    assert not window.pdf_button.isEnabled() and not window.csv_button.isEnabled()
    with pytest.raises(AuditError, match="needs the log's verification status"):
        window.save_pdf(tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()


def test_unreadable_lines_are_left_out_of_the_table_and_named(qtbot, store, bridge, monkeypatch, log_path):
    seven_entries(store, monkeypatch)
    with log_path.open("ab") as f:
        f.write(b'{"seq":8}\n')  # parses, but is no entry
    window = open_window(qtbot, store, bridge)
    assert window.model.rowCount() == 7
    assert window.loaded.unreadable == 1
    assert "line 8: damaged: this line is not a complete audit entry" in window.banner.text()


def test_a_job_asked_for_while_the_bridge_is_busy_waits_for_it(qtbot, store, bridge, monkeypatch):
    seven_entries(store, monkeypatch)
    window = open_window(qtbot, store, bridge)
    release = threading.Event()
    bridge.start("exporting", lambda progress, cancel: release.wait(10))
    assert not window.refresh_button.isEnabled() and not window.verify_button.isEnabled()
    record(store, "test.other", {"n": 9})
    window.refresh()
    assert window.busy and window.statusBar().currentMessage() == "Waiting for \u201cexporting\u201d to finish\u2026"
    assert window.model.rowCount() == 7
    release.set()
    idle(qtbot, window)
    assert window.model.rowCount() == 8 and window.refresh_button.isEnabled()


# --- packages --------------------------------------------------------------------------------


@pytest.fixture
def package(tmp_path, store) -> Path:
    from pseudodesk.core.run.demo import run_demo

    return run_demo(tmp_path / "demo").output


def test_inspect_a_real_package_passes_every_check(qtbot, store, bridge, package, demo_paths):
    window = open_window(qtbot, store, bridge)
    assert shown(window, 3) == ["export.demo"]  # the demo's export is in the log, as a demo
    with qtbot.waitSignal(window.inspection_changed, timeout=30_000) as blocker:
        window.inspect(package, certificate=demo_paths["certificate"], private_key=demo_paths["private_key"])
    idle(qtbot, window)
    inspection = blocker.args[0]
    assert inspection is window.last_inspection and inspection.ok and inspection.decrypted
    assert [c.name for c in inspection.checks] == ALL_CHECKS
    dialog = window.inspect_dialog
    view: QTableWidget = dialog.checks_view
    assert view.rowCount() == 6
    assert [view.item(r, 0).text() for r in range(6)] == ["\u2713 passed"] * 6
    assert [view.item(r, 1).text() for r in range(6)] == ALL_CHECKS
    assert view.item(5, 2).text() == "no direct identifiers found"
    assert dialog.status_label.text() == "pseudodesk-demo.csv.p7m: \u2713 Package verified: every check passed."
    label = dialog.manifest_label.text()
    assert label.startswith("Lincolnshire LCP Scorecard (DEMO: synthetic data): 600 rows")

    window.inspect(package.with_name("pseudodesk-demo.manifest.json"))  # its manifest, nothing to decrypt with
    idle(qtbot, window)
    assert [c.name for c in window.last_inspection.checks] == ["manifest signature", "encrypted file"]
    assert window.last_inspection.ok and dialog.certificate_edit.text() == ""


def test_inspect_a_tampered_package_shows_the_failing_check(qtbot, store, bridge, package, demo_paths):
    data = bytearray(package.read_bytes())
    data[len(data) // 2] ^= 0x01
    package.write_bytes(bytes(data))
    window = open_window(qtbot, store, bridge)
    window.inspect(package)
    idle(qtbot, window)
    inspection = window.last_inspection
    assert not inspection.ok
    assert {c.name: c.ok for c in inspection.checks} == {"manifest signature": True, "encrypted file": False}
    view = window.inspect_dialog.checks_view
    assert view.item(1, 0).text() == "\u2717 FAILED" and view.item(1, 1).text() == "encrypted file"
    assert view.item(1, 2).text().startswith("SHA-256 differs from the manifest")
    assert "Package NOT verified: 1 check(s) failed" in window.inspect_dialog.status_label.text()

    window.inspect(package, pinned_fingerprint="0000-0000-0000-0000-0000")  # someone else's key pinned
    idle(qtbot, window)
    signature = window.last_inspection.checks[0]
    assert signature.name == "manifest signature" and not signature.ok and "not by the pinned" in signature.detail


def test_inspect_from_the_dialog_fields(qtbot, store, bridge, package, demo_paths):
    window = open_window(qtbot, store, bridge)
    dialog = window.inspect_dialog
    dialog.package_edit.setText(str(package))
    dialog.certificate_edit.setText(str(demo_paths["certificate"]))
    dialog.private_key_edit.setText(str(demo_paths["private_key"]))
    dialog.inspect_button.click()
    idle(qtbot, window)
    assert [c.name for c in window.last_inspection.checks] == ALL_CHECKS and window.last_inspection.ok


def test_a_file_that_is_not_a_package_shows_an_error(qtbot, store, bridge, tmp_path):
    window = open_window(qtbot, store, bridge)
    (tmp_path / "notes.txt").write_text("hello")
    window.inspect(tmp_path / "notes.txt")
    idle(qtbot, window)
    boxes = [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.objectName() == "error_dialog" and w.isVisible()
    ]
    assert boxes and "notes.txt is not a pseudodesk export" in boxes[0].text()
    assert window.inspect_dialog.status_label.text() == "notes.txt could not be inspected."
    for box in boxes:
        box.close()


# --- the report ------------------------------------------------------------------------------


def test_save_pdf_writes_the_report(qtbot, store, bridge, monkeypatch, package, tmp_path):
    from pseudodesk.core.run.demo import run_demo

    run_demo(tmp_path / "demo", overwrite=True)  # demo exports are one line each in the report...
    from pseudodesk.core.audit.log import read_entries
    from pseudodesk.core.keys.installation import AuditTrail, record

    demo = [e for _, e, _ in read_entries(AuditTrail(store).path) if e and e["event"] == "export.demo"]
    for entry in demo:  # ...so two real exports, each a section of its own
        record(store, "export", {**entry["details"], "agreement": "Lincolnshire LCP Scorecard"})
    seven_entries(store, monkeypatch)
    window = open_window(qtbot, store, bridge)
    full = window.save_pdf(tmp_path / "report.pdf").read_bytes()
    assert full.startswith(b"%PDF") and len(full) > 10_000
    assert len(PAGE.findall(full)) >= 2
    choose(window.event_combo, "key.created")
    short = window.save_pdf(tmp_path / "short.pdf").read_bytes()
    assert short.startswith(b"%PDF") and len(PAGE.findall(short)) == 1  # the filter reaches the report


def test_export_csv_lists_the_entries_shown(qtbot, store, bridge, monkeypatch, tmp_path):
    seven_entries(store, monkeypatch)
    window = open_window(qtbot, store, bridge)
    rows = list(csv.reader(io.StringIO(window.export_csv(tmp_path / "all.csv").read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["seq", "time (UTC)", "event", "operator", "machine", "agreement", "summary"]
    assert [r[0] for r in rows[1:]] == [str(n) for n in range(1, 8)]
    assert rows[2][2] == "reidentify" and rows[2][6] == "0 of 10 pseudonyms matched in smith.xlsx"
    choose(window.event_combo, "reidentify")
    window.search_edit.setText("green")
    rows = list(csv.reader(io.StringIO(window.export_csv(tmp_path / "some.csv").read_text(encoding="utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["7"] and rows[1][3] == "jsmith" and rows[1][5] == "Other"
    with pytest.raises(AuditError, match="Cannot write the listing"):
        window.export_csv(tmp_path / "no-such-folder" / "x.csv")


# --- accessibility ---------------------------------------------------------------------------


def test_every_control_is_named_and_reachable_in_order(qtbot, store, bridge, monkeypatch):
    seven_entries(store, monkeypatch)
    window = open_window(qtbot, store, bridge)
    controls = (QAbstractButton, QLineEdit, QComboBox, QDateEdit, QTableView, QTableWidget, QPlainTextEdit)
    parts_of_controls = (QComboBox, QDateEdit, QAbstractItemView, QLineEdit)  # their inner buttons and edits

    def part_of_a_control(widget: QWidget, root: QWidget) -> bool:
        parent = widget.parentWidget()
        while parent is not None and parent is not root:
            if isinstance(parent, parts_of_controls):
                return True
            parent = parent.parentWidget()
        return False

    for root in (window, window.inspect_dialog):
        for widget in root.findChildren(QWidget):
            if isinstance(widget, controls) and widget.window() is root and not part_of_a_control(widget, root):
                assert widget.accessibleName(), f"{type(widget).__name__} {widget.objectName()!r} has no name"
        texts = [
            w.text()
            for kind in (QAbstractButton, QLabel)
            for w in root.findChildren(kind)
            if w.window() is root and "&" in w.text()
        ]
        keys = [text[text.index("&") + 1].lower() for text in texts]
        assert len(keys) == len(set(keys)), texts  # no mnemonic used twice in one window
        for label in root.findChildren(QLabel):
            if "&" in label.text() and label.window() is root:
                assert label.buddy() is not None, label.text()
    intended = [
        window.refresh_button,
        window.verify_button,
        window.pinned_verify_button,
        window.inspect_button,
        window.search_edit,
        window.event_combo,
        window.agreement_combo,
        window.operator_combo,
        window.from_check,
        window.from_date,
        window.to_check,
        window.to_date,
        window.clear_filters_button,
        window.table,
        window.details_view,
        window.csv_button,
        window.pdf_button,
        window.print_button,
    ]
    chain, widget = [], window.refresh_button
    for _ in range(200):
        if widget in intended and widget not in chain:
            chain.append(widget)
        widget = widget.nextInFocusChain()
    assert chain == intended


def test_print_goes_through_the_print_dialog(qtbot, store, bridge, monkeypatch, tmp_path):
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter

    seven_entries(store, monkeypatch)
    window = open_window(qtbot, store, bridge)
    target = tmp_path / "printed.pdf"

    def accept(dialog: QPrintDialog) -> int:  # the user picks a printer (here: print to a PDF file) and OK
        dialog.printer().setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        dialog.printer().setOutputFileName(str(target))
        return QPrintDialog.DialogCode.Accepted.value

    monkeypatch.setattr(QPrintDialog, "exec", accept)
    window.print_button.click()
    assert target.read_bytes().startswith(b"%PDF") and len(PAGE.findall(target.read_bytes())) >= 1
