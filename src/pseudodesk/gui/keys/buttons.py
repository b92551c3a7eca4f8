"""What the Keys window's buttons do: gather values with a dialog, then call the window's
operation (create, import, export, rotate, delete), and forget the dialog and its secrets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog

from pseudodesk.core.errors import PseudodeskError
from pseudodesk.core.keys.overview import key_file_name, keyfile_metadata, read_key_file
from pseudodesk.gui.errors import show_error
from pseudodesk.gui.keys.dialogs import DeleteKeyDialog, NewKeyDialog, RotateKeyDialog
from pseudodesk.gui.keys.keyfile_dialogs import KEY_FILE_FILTER, ExportKeyDialog, ImportKeyDialog

if TYPE_CHECKING:
    from pseudodesk.gui.keys.window import KeysWindow

    _Base = KeysWindow
else:
    _Base = object


class KeyButtons(_Base):
    """The buttons' handlers, mixed into :class:`~pseudodesk.gui.keys.window.KeysWindow`."""

    def new_key_clicked(self) -> None:
        dialog = NewKeyDialog(self, open_path=lambda parent, caption, f: self.ask_open_path(parent, caption, f))
        self.new_key_dialog = dialog

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                salt = dialog.salt()
                if salt is not None:
                    self.add_salt(dialog.name(), salt, dialog.agreement(), dialog.expires())
                else:
                    self.create_key(dialog.name(), dialog.agreement(), dialog.expires())
            self._discard(dialog, "new_key_dialog")

        dialog.finished.connect(finished)
        dialog.open()

    def import_clicked(self) -> None:
        path = self.ask_open_path(self, "Import a key file", KEY_FILE_FILTER)
        if path is None:
            return
        try:
            metadata = keyfile_metadata(read_key_file(path), path.name)
        except PseudodeskError as error:
            show_error(self, error, doing=f"opening {path.name}")
            return
        dialog = ImportKeyDialog(
            path, metadata, self, open_path=lambda parent, caption, f: self.ask_open_path(parent, caption, f)
        )
        self.import_dialog = dialog

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                self.import_key(path, dialog.fingerprint(), **dialog.opening())
            self._discard(dialog, "import_dialog")

        dialog.finished.connect(finished)
        dialog.open()

    def export_clicked(self) -> None:
        info = self.selected_key()
        if info is None:
            return
        dialog = ExportKeyDialog(
            info, self, open_path=lambda parent, caption, f: self.ask_open_path(parent, caption, f)
        )
        self.export_dialog = dialog

        def finished(result: int) -> None:
            passphrase, certificates = dialog.passphrase(), dialog.certificates()
            self._discard(dialog, "export_dialog")
            if result != QDialog.DialogCode.Accepted:
                return
            suggested = Path.home() / key_file_name(info)
            path = self.ask_save_path(self, "Save the key file", suggested, KEY_FILE_FILTER)
            if path is None:
                self.status_label.setText("Not exported: no file was chosen.")
                return
            if not path.suffix:
                path = path.with_suffix(".pdkey")
            # The save dialog has already asked before replacing an existing file.
            self.export_key(info.id, path, passphrase=passphrase, certificates=certificates or None, overwrite=True)

        dialog.finished.connect(finished)
        dialog.open()

    def rotate_clicked(self) -> None:
        info = self.selected_key()
        if info is None:
            return
        dialog = RotateKeyDialog(info, self)
        self.rotate_dialog = dialog

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                self.rotate_key(info.id)
            self._discard(dialog, "rotate_dialog")

        dialog.finished.connect(finished)
        dialog.open()

    def delete_clicked(self) -> None:
        info = self.selected_key()
        if info is None:
            return
        dialog = DeleteKeyDialog(info, self)
        self.delete_dialog = dialog

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted and dialog.confirm_edit.text().strip() == info.id:
                self.delete_key(info.id)
            else:
                self.status_label.setText(f"Not deleted: {info.id} is still on this computer.")
            self._discard(dialog, "delete_dialog")

        dialog.finished.connect(finished)
        dialog.open()

    def _discard(self, dialog: QDialog, attribute: str) -> None:
        clear = getattr(dialog, "clear_secrets", None)
        if clear is not None:
            clear()
        if getattr(self, attribute) is dialog:
            setattr(self, attribute, None)
        dialog.deleteLater()
