"""The Keys window: a thin shell over the core key store (:class:`pseudodesk.core.keys.store.KeyStore`).

It lists the project keys (and OpenPseudonymiser salts) held on this computer, shows
the selected key's fingerprint large enough to read out over the phone, and offers the
key custodian's and partners' operations, as the CLI's ``pseudodesk-cli keys`` does:

- **New key...**: a new 256-bit project key (name, optional agreement and expiry), or an
  OpenPseudonymiser salt typed in or read from an ``.EncryptedSalt`` file;
- **Import...**: a ``.pdkey`` file, which is only accepted with the fingerprint the
  custodian read out, and the file's passphrase or the partner's certificate and key;
- **Export...**: a ``.pdkey`` file sealed with a generated passphrase (to be sent by
  another route than the file) or wrapped to recipient certificates, written atomically;
- **Rotate...**: a new key for the same agreement; the old one is retired and kept for
  re-identification only;
- **Delete...**: after typing the key id, as the CLI asks: pseudonyms made with the key
  can then never be re-created or re-identified on this computer.

Every operation is a public method taking plain values (``create_key``, ``add_salt``,
``import_key``, ``export_key``, ``rotate_key``, ``delete_key``); the buttons gather
those values with small dialogs opened with ``open()`` (never a blocking ``exec()``) and
call them. The work runs through the application's one :class:`~pseudodesk.gui.jobs.JobBridge`
(scrypt makes sealing and opening key files take up to a second); failures go to
:func:`~pseudodesk.gui.errors.show_error`. File pickers are the injectable attributes
``ask_open_path`` and ``ask_save_path`` (by default the shared dialogs of :mod:`pseudodesk.gui.widgets`).

Secrets (keys, salts, passphrases) only ever pass through memory: they are never put
in QSettings, logged, or written anywhere but into the sealed key file.

The window is :mod:`~pseudodesk.gui.keys.window`; its dialogs are in
:mod:`~pseudodesk.gui.keys.dialogs` (new, rotate, delete) and
:mod:`~pseudodesk.gui.keys.keyfile_dialogs` (import, export); the key list's model, the
selected key's details and shared widget helpers in :mod:`~pseudodesk.gui.keys.model`.
What it says about keys, without Qt, is :mod:`pseudodesk.core.keys.overview`.
"""

from pseudodesk.gui.keys.window import KeysWindow

__all__ = ["KeysWindow"]
