"""The Help menu's windows: the two guides (shown from their Markdown files) and the About box,
which also says what this computer's machine policy enforces.

The guides are the same files as ``docs/user-guide.md`` and ``docs/ig-guide.md`` in the
repository (with their screenshots), so what the Help menu shows is what the README
links to. An installed wheel carries them as ``pseudodesk/docs`` (pyproject force-include).
"""

from __future__ import annotations

import functools
import html
import platform
from importlib import metadata, resources
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QImage, QPixmap, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from pseudodesk import __version__
from pseudodesk.core.audit.log import installation_public_key
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.policy import machine_policy

# (distribution, what it does here, licence): shown when the package metadata has no licence field.
COMPONENTS = (
    ("PySide6-Essentials", "Qt for Python: the window", "LGPL-3.0-only"),
    ("cryptography", "AES-256 CMS, HMAC, Ed25519, scrypt", "Apache-2.0 OR BSD-3-Clause"),
    ("python-calamine", "reading XLSX, XLS, XLSB and ODS", "MIT"),
    ("fastexcel", "reading large XLSX sheets straight to columns", "MIT"),
    ("msoffcrypto-tool", "opening password-protected workbooks", "MIT"),
    ("py7zr", "AES-256 7z archives", "LGPL-2.1-or-later"),
    ("keyring", "the Windows Credential Manager and other OS keyrings", "MIT"),
    ("platformdirs", "per-user folders", "MIT"),
    ("tomli_w", "writing profiles and mappings", "MIT"),
    ("filelock", "locking the audit log", "Unlicense"),
)


@functools.cache
def docs_dir() -> Path:
    packaged = Path(str(resources.files("pseudodesk"))) / "docs"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "docs"


def guide_path(name: str) -> Path:
    return docs_dir() / name


class GuideWindow(QWidget):
    """A guide shown as formatted text with its screenshots; links to other docs work."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        path = guide_path(name)
        self.setWindowTitle(name.removesuffix(".md").replace("-", " ").capitalize().replace("Ig ", "IG "))
        self.resize(900, 760)
        layout = QVBoxLayout(self)
        self.browser = QTextBrowser()
        self.browser.setAccessibleName("Guide")
        self.browser.setOpenExternalLinks(True)
        self.browser.setSearchPaths([str(path.parent)])
        if path.is_file():
            self.browser.setSource(QUrl.fromLocalFile(str(path)))
            fit_images(self.browser.document(), 840)
        else:
            self.browser.setPlainText(f"The guide {name} is missing from this installation ({path}).")
        layout.addWidget(self.browser)


def fit_images(document: QTextDocument, max_width: int) -> int:
    """Shrink screenshots wider than ``max_width`` (keeping their shape); returns how many."""
    shrunk = 0
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            fmt = fragment.charFormat()
            if fmt.isImageFormat():
                image_format = fmt.toImageFormat()
                image = document.resource(QTextDocument.ResourceType.ImageResource.value, QUrl(image_format.name()))
                width = image.width() if isinstance(image, (QImage, QPixmap)) else 0
                if width > max_width:
                    image_format.setWidth(max_width)
                    image_format.setHeight(image.height() * max_width / width)
                    cursor = QTextCursor(document)
                    cursor.setPosition(fragment.position())
                    cursor.setPosition(fragment.position() + fragment.length(), QTextCursor.MoveMode.KeepAnchor)
                    cursor.setCharFormat(image_format)
                    shrunk += 1
            it += 1
        block = block.next()
    return shrunk


def component_rows() -> list[tuple[str, str, str, str]]:
    rows = [
        ("Python", "the language", _python_version(), "PSF-2.0"),
        ("Qt", "the window toolkit", qVersion(), "LGPL-3.0-only"),
    ]
    for dist, purpose, fallback in COMPONENTS:
        try:
            version = metadata.version(dist)
            meta = metadata.metadata(dist)
            licence = meta.get("License-Expression") or fallback
        except metadata.PackageNotFoundError:
            version, licence = "not installed", fallback
        rows.append((dist, purpose, version, licence))
    return rows


def _python_version() -> str:
    return platform.python_version()


def installation_text() -> str:
    """This installation's fingerprint, which signs its manifests and audit log: the recipient adds
    it once as a known signer (``pseudodesk-cli signers add``)."""
    try:
        published = installation_public_key(KeyStore().directory)
    except Exception:  # noqa: BLE001 (a damaged file is reported by audit verify; About still opens)
        published = None
    if published is None:
        return (
            "<p>This installation's fingerprint: not made yet (it is made with the first audit entry: "
            "installing an agreement, or the first export).</p>"
        )
    return (
        f"<p>This installation's fingerprint: <b><tt>{published[1]}</tt></b><br>It signs every export's "
        "manifest. Send it once to each recipient, by a route other than the exports, so they can check "
        "that exports come from this computer.</p>"
    )


def policy_text() -> str:
    """What this computer's machine policy (set by IT) enforces, as ``pseudodesk-cli policy`` says it."""
    lines = machine_policy().lines()
    rest = "".join(f"<br>&nbsp;&nbsp;{html.escape(line.strip())}" for line in lines[1:])
    return f"<p><b>{html.escape(lines[0])}</b>{rest}</p>"


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("about_dialog")
        self.setWindowTitle("About")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = QVBoxLayout(self)
        title = QLabel(
            f"<h2>pseudodesk {__version__}</h2>"
            "<p>Pseudonymise a spreadsheet of people under an information-sharing agreement, "
            "and export it encrypted with a signed manifest and an audit entry.</p>"
            f"<p>Built with Qt {qVersion()} (PySide6 {pyside_version}). pseudodesk makes no "
            "network connection. Bundled components and their licences:</p>"
        )
        title.setWordWrap(True)
        title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(title)
        self.installation_label = QLabel(installation_text())
        self.installation_label.setObjectName("installation_fingerprint")
        self.installation_label.setAccessibleName("This installation's fingerprint")
        self.installation_label.setWordWrap(True)
        self.installation_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        layout.addWidget(self.installation_label)
        self.policy_label = QLabel(policy_text())
        self.policy_label.setObjectName("machine_policy")
        self.policy_label.setAccessibleName("This computer's machine policy")
        self.policy_label.setWordWrap(True)
        self.policy_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        layout.addWidget(self.policy_label)
        rows = component_rows()
        self.components = QTableWidget(len(rows), 4)
        self.components.setAccessibleName("Bundled components and licences")
        self.components.setHorizontalHeaderLabels(["Component", "Used for", "Version", "Licence"])
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.components.setItem(r, c, QTableWidgetItem(text))
        self.components.verticalHeader().setVisible(False)
        self.components.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.components.resizeColumnsToContents()
        self.components.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.components)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        width = sum(self.components.columnWidth(c) for c in range(4)) + 60
        self.resize(max(width, 640), 520)
