"""The Keys window itself: the key list, the selected key, and the operations behind its buttons
(see :mod:`pseudodesk.gui.keys` for what each does)."""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pseudodesk.core.errors import Cancelled, PseudodeskError
from pseudodesk.core.files import atomic_output
from pseudodesk.core.keys.info import KeyInfo
from pseudodesk.core.keys.overview import export_instructions, read_key_file
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.gui import widgets
from pseudodesk.gui.errors import show_error
from pseudodesk.gui.jobs import Cancel, JobBridge, Progress
from pseudodesk.gui.keys.buttons import KeyButtons
from pseudodesk.gui.keys.dialogs import DeleteKeyDialog, NewKeyDialog, RotateKeyDialog
from pseudodesk.gui.keys.keyfile_dialogs import ExportKeyDialog, ImportKeyDialog
from pseudodesk.gui.keys.model import KeyDetails, KeyTableModel, key_table, no_auto_default, selectable, wrapped
from pseudodesk.gui.widgets import OpenPath, SavePath


class KeysWindow(KeyButtons, QDialog):
    """The keys held on this computer and what the custodian and partners do with them."""

    keys_changed = Signal()  # a key was created, imported, rotated or deleted
    selected_key_changed = Signal(str)  # the selected key's id ("" when none)
    key_exported = Signal(str, str)  # key id, path of the written .pdkey file

    def __init__(
        self, store: KeyStore, bridge: JobBridge, parent: QWidget | None = None, *, custodian: bool = True
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.bridge = bridge
        self.custodian = custodian  # key custodian's actions shown (New, Export, Rotate, Delete)
        self.ask_open_path: OpenPath = widgets.ask_open_path  # a test may put its own in their place
        self.ask_save_path: SavePath = widgets.ask_save_path
        self.new_key_dialog: NewKeyDialog | None = None
        self.import_dialog: ImportKeyDialog | None = None
        self.export_dialog: ExportKeyDialog | None = None
        self.rotate_dialog: RotateKeyDialog | None = None
        self.delete_dialog: DeleteKeyDialog | None = None
        self.export_done_box: QMessageBox | None = None
        self._working_text = ""

        self.setWindowTitle("Keys")
        self.setAccessibleName("Keys")
        layout = QVBoxLayout(self)
        self.intro_label = wrapped(
            "Project keys turn identifiers into pseudonyms. They are held on this computer only, in the OS "
            "keyring (or a passphrase-protected local key store), never in a plain file. A partner's key arrives "
            "inside the agreement package (File > Install agreement…); the custodian packs it (Tools > Pack "
            "agreement, in custodian mode).",
            "About keys",
        )
        layout.addWidget(self.intro_label)

        table_caption = QLabel("&Keys on this computer:")
        layout.addWidget(table_caption)
        self.model = KeyTableModel(self)
        self.table = key_table(self.model, self.fontMetrics())
        table_caption.setBuddy(self.table)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.empty_label = wrapped(
            "No keys on this computer yet. A partner installs the agreement package their IG lead sent "
            "(File > Install agreement…), which brings its key; a key custodian creates one with New key.",
            "No keys yet",
        )
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.table, stretch=1)
        layout.addWidget(self.empty_label, stretch=1)  # in the table's place while there are no keys

        self.details = KeyDetails()
        self.details.copy_button.clicked.connect(self.copy_fingerprint)
        layout.addWidget(self.details)

        self.status_label = selectable(wrapped("", "Status"))
        layout.addWidget(self.status_label)

        buttons = QHBoxLayout()
        self.new_button = QPushButton("&New key…")
        self.import_button = QPushButton("&Import…")
        self.export_button = QPushButton("&Export…")
        self.rotate_button = QPushButton("&Rotate…")
        self.delete_button = QPushButton("&Delete…")
        self.close_button = QPushButton("C&lose")
        accessible = {
            self.new_button: ("New key", "Create a new project key or add an OpenPseudonymiser salt"),
            self.import_button: ("Import key file", "Import a .pdkey key file from the key custodian"),
            self.export_button: ("Export key file", "Write the selected key to a .pdkey file for a partner"),
            self.rotate_button: ("Rotate key", "Replace the selected key with a new one; the old one is retired"),
            self.delete_button: ("Delete key", "Delete the selected key from this computer"),
            self.close_button: ("Close", "Close the keys window"),
        }
        for button, (name, tip) in accessible.items():
            button.setAccessibleName(name)
            button.setToolTip(tip)
        no_auto_default(*accessible, self.details.copy_button)
        for button in (self.new_button, self.import_button, self.export_button, self.rotate_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

        self.new_button.clicked.connect(self.new_key_clicked)
        self.import_button.clicked.connect(self.import_clicked)
        self.export_button.clicked.connect(self.export_clicked)
        self.rotate_button.clicked.connect(self.rotate_clicked)
        self.delete_button.clicked.connect(self.delete_clicked)
        self.close_button.clicked.connect(self.close)
        self.bridge.busy_changed.connect(self._busy_changed)

        order: list[QWidget] = [
            self.table,
            self.details.fingerprint_label,
            self.details.copy_button,
            self.new_button,
            self.import_button,
            self.export_button,
            self.rotate_button,
            self.delete_button,
            self.close_button,
        ]
        for first, second in zip(order, order[1:]):
            QWidget.setTabOrder(first, second)

        metrics = self.fontMetrics()
        self.resize(metrics.averageCharWidth() * 150, metrics.height() * 34)
        self.set_custodian(custodian)
        self.refresh()

    # --- what is shown -----------------------------------------------------------------

    def refresh(self, select: str | None = None) -> None:
        """Re-read the key list; keep (or move to ``select``) the selection."""
        keep = select if select is not None else self.selected_key_id()
        try:
            keys = self.store.keys()
        except PseudodeskError as error:
            keys = []
            self.status_label.setText(str(error))
            show_error(self, error, doing="reading the key list")
        self.model.set_keys(keys)
        self.table.setVisible(bool(keys))
        self.details.setVisible(bool(keys))
        self.empty_label.setVisible(not keys)
        row = self.model.row_of(keep) if keep else -1
        if row < 0 and keys:
            row = 0
        if row >= 0:
            self.table.selectRow(row)
        else:
            self._selection_changed()
        self._update_buttons()

    def keys(self) -> list[KeyInfo]:
        """The keys as listed (metadata only)."""
        return self.model.keys()

    def selected_key(self) -> KeyInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.key_at(rows[0].row()) if rows else None

    def selected_key_id(self) -> str:
        info = self.selected_key()
        return info.id if info else ""

    def select_key(self, key_id: str) -> bool:
        row = self.model.row_of(key_id)
        if row >= 0:
            self.table.selectRow(row)
        return row >= 0

    def copy_fingerprint(self) -> None:
        info = self.selected_key()
        if info is not None:
            QApplication.clipboard().setText(info.fingerprint)
            self.status_label.setText(f"Copied the fingerprint of {info.id} ({info.fingerprint}).")

    def _selection_changed(
        self,
        selected: QItemSelection | None = None,
        deselected: QItemSelection | None = None,
    ) -> None:
        info = self.selected_key()
        self.details.show_key(info)
        self._update_buttons()
        self.selected_key_changed.emit(info.id if info else "")

    def set_custodian(self, custodian: bool) -> None:
        """Custodian mode shows creating, exporting, rotating and deleting keys; partner staff see
        importing only, so those actions are never beside the partner's buttons."""
        self.custodian = custodian
        for button in (self.new_button, self.export_button, self.rotate_button, self.delete_button):
            button.setVisible(custodian)
        self._update_buttons()

    def _update_buttons(self) -> None:
        info = self.selected_key()
        idle = not self.bridge.busy
        project_key = info is not None and info.kind == "project-key"
        self.new_button.setEnabled(idle)
        self.import_button.setEnabled(idle)
        self.export_button.setEnabled(idle and project_key)
        self.rotate_button.setEnabled(idle and project_key and info is not None and info.status == "active")
        self.delete_button.setEnabled(idle and info is not None)
        self.details.copy_button.setEnabled(info is not None)

    def _busy_changed(self, busy: bool) -> None:
        self._update_buttons()
        if busy:
            self._working_text = f"Working: {self.bridge.description}…"
            self.status_label.setText(self._working_text)
        elif self.status_label.text() == self._working_text:
            self.status_label.setText("")  # the job's own outcome (if it is ours) follows

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt API)
        """Re-read the list each time the window is shown: the CLI may have changed it meanwhile."""
        if not self.bridge.busy:
            self.refresh()
        super().showEvent(event)

    # --- running operations --------------------------------------------------------------
    #
    # What runs on the worker holds the key store and plain values, never this window: the
    # bridge's worker may drop the last reference to what it was given, and a widget must
    # only ever be destroyed on the GUI thread. The callbacks reach the window through a
    # weak reference for the same reason (and do nothing if it has gone).

    def _run(
        self, description: str, doing: str, work: Callable[[Cancel], Any], on_done: Callable[[KeysWindow, Any], None]
    ) -> bool:
        """Run ``work(cancel)`` through the job bridge, then ``on_done(window, result)`` on the GUI
        thread; failures are shown with ``doing``. False (and a message) if another job is running."""
        if self.bridge.busy:
            box = QMessageBox(
                QMessageBox.Icon.Information,
                "Busy",
                f"pseudodesk is still busy ({self.bridge.description}). Try again when it has finished.",
                QMessageBox.StandardButton.Ok,
                self,
            )
            box.setObjectName("busy_dialog")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            return False
        window_ref = weakref.ref(self)

        def job(progress: Progress, cancel: Cancel) -> Any:
            progress(0.0, description)
            result = work(cancel)
            progress(1.0, description)
            return result

        def done(result: Any) -> None:
            window = window_ref()
            if window is not None:
                on_done(window, result)

        def failed(error: BaseException) -> None:
            window = window_ref()
            if window is None:
                show_error(None, error, doing=doing)
                return
            window.refresh()
            window.status_label.setText(f"Could not finish {doing}.")
            show_error(window, error, doing=doing)

        def cancelled() -> None:
            window = window_ref()
            if window is not None:
                window.refresh()
                window.status_label.setText("Cancelled: nothing was changed.")

        self.bridge.start(description, job, on_done=done, on_error=failed, on_cancelled=cancelled)
        return True

    def create_key(self, name: str, agreement: str = "", expires: dt.date | None = None) -> bool:
        """Create a new project key (in the background); False if another job is running."""
        store = self.store

        def done(window: KeysWindow, info: KeyInfo) -> None:
            window.refresh(select=info.id)
            window.status_label.setText(
                f"Created {info.id} ({info.name}), fingerprint {info.fingerprint}. Put its "
                "id and fingerprint in the agreement profile's [key] table."
            )
            window.keys_changed.emit()

        return self._run(
            "Creating a key",
            "creating the key",
            lambda cancel: store.create(name, agreement=agreement, expires=expires),
            done,
        )

    def add_salt(self, name: str, salt: str, agreement: str = "", expires: dt.date | None = None) -> bool:
        """Store an OpenPseudonymiser salt (for the compatible mode only)."""
        store = self.store
        secret = salt.encode("utf-8")

        def done(window: KeysWindow, info: KeyInfo) -> None:
            window.refresh(select=info.id)
            window.status_label.setText(f"Added the OpenPseudonymiser salt {info.id} ({info.name}).")
            window.keys_changed.emit()

        return self._run(
            "Storing a salt",
            "storing the salt",
            lambda cancel: store.create(name, agreement=agreement, expires=expires, kind="op-salt", secret=secret),
            done,
        )

    def import_key(
        self,
        path: Path,
        fingerprint: str,
        *,
        passphrase: str | None = None,
        certificate: Path | None = None,
        private_key: Path | None = None,
        private_key_password: str | None = None,
    ) -> bool:
        """Import a .pdkey file; ``fingerprint`` is the one the custodian read out."""
        store, path = self.store, Path(path)

        def work(cancel: Cancel) -> KeyInfo:
            return store.import_file(
                read_key_file(path),
                confirm_fingerprint=fingerprint,
                passphrase=passphrase,
                certificate=certificate,
                private_key=private_key,
                private_key_password=private_key_password,
                source=path.name,
            )

        def done(window: KeysWindow, info: KeyInfo) -> None:
            window.refresh(select=info.id)
            window.status_label.setText(
                f"Imported {info.id} ({info.name}). Its fingerprint {info.fingerprint} matches the one you were given."
            )
            window.keys_changed.emit()

        return self._run(f"Opening {path.name}", f"importing {path.name}", work, done)

    def export_key(
        self,
        key_id: str,
        path: Path,
        *,
        passphrase: str | None = None,
        certificates: Sequence[Path] | None = None,
        overwrite: bool = False,
    ) -> bool:
        """Write ``key_id`` to a .pdkey file at ``path`` (atomically), sealed with ``passphrase``
        or wrapped to ``certificates`` (exactly one of them)."""
        if (passphrase is None) == (not certificates):
            raise ValueError("export_key needs either a passphrase or certificates")
        store, path = self.store, Path(path)
        certs = [Path(c) for c in certificates or []]

        def work(cancel: Cancel) -> str:
            if passphrase is not None:
                data = store.export_with_passphrase(key_id, passphrase)
            else:
                data = store.export_to_certificates(key_id, certs)
            if cancel():
                raise Cancelled()
            with atomic_output(path, overwrite=overwrite) as f:
                f.write(data)
            return store.info(key_id).fingerprint

        def done(window: KeysWindow, fingerprint: str) -> None:
            window.refresh()
            window.status_label.setText(f"Wrote {path.name}.")
            window._show_export_done(path, fingerprint, passphrase, len(certs))
            window.key_exported.emit(key_id, str(path))

        return self._run(f"Writing {path.name}", f"exporting {key_id}", work, done)

    def rotate_key(self, key_id: str, expires: dt.date | None = None) -> bool:
        """Replace ``key_id`` by a new key for the same agreement; the old one is retired."""
        store = self.store

        def done(window: KeysWindow, new: KeyInfo) -> None:
            window.refresh(select=new.id)
            window.status_label.setText(
                f"{key_id} is retired: it still serves re-identification, not new "
                f"exports. The new key is {new.id}, fingerprint {new.fingerprint}: put it in the "
                "agreement profile and pack the agreement again for each partner (Tools > Pack agreement)."
            )
            window.keys_changed.emit()

        return self._run(
            "Rotating a key", f"rotating {key_id}", lambda cancel: store.rotate(key_id, expires=expires), done
        )

    def delete_key(self, key_id: str) -> bool:
        """Delete ``key_id`` from this computer (no question asked: the button asks first)."""
        store = self.store

        def done(window: KeysWindow, info: KeyInfo) -> None:
            window.refresh()
            window.status_label.setText(f"Deleted {info.id} ({info.name}) from this computer.")
            window.keys_changed.emit()

        return self._run("Deleting a key", f"deleting {key_id}", lambda cancel: store.delete(key_id), done)

    def _show_export_done(self, path: Path, fingerprint: str, passphrase: str | None, recipients: int) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Key file written",
            export_instructions(path, fingerprint, passphrase, recipients),
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setObjectName("export_done_dialog")
        box.setAccessibleName("Key file written")
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(lambda: setattr(self, "export_done_box", None))
        self.export_done_box = box
        box.open()
