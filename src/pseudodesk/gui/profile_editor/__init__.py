"""Create an agreement profile in the window, for an ad-hoc pilot extract.

A thin shell over :mod:`pseudodesk.core.agreement.authoring`: the dialog opens on a draft
proposed from the spreadsheet's columns (:func:`~pseudodesk.core.agreement.authoring.draft_from_columns`),
one table row per column, and lets a person tick what may leave, name each output
column, choose how it leaves (pseudonym or kept as checked), its convention and output
form; then the agreement's name, version, parties and review date, the recipient
(certificate or passphrase) and what happens to invalid values. **Save profile...**
checks the draft through the core, asks where to save, writes the TOML file
atomically and closes; :attr:`ProfileEditorDialog.saved_path` says where it went.

Rows are the export's columns in order (Move up / Move down). Unticked rows are
stripped: they are not in the profile at all. Every control has an accessible name
saying which spreadsheet column it belongs to.

The dialog is :mod:`~pseudodesk.gui.profile_editor.dialog`; the table's rows and their
controls are :mod:`~pseudodesk.gui.profile_editor.fields`.
"""

from pseudodesk.gui.profile_editor.dialog import ProfileEditorDialog, open_profile_editor

__all__ = ["ProfileEditorDialog", "open_profile_editor"]
