"""Take the screenshots in docs/screenshots from a real window: the demo flow, step by step.

Run it with ``python3 installer/bootstrap.py screenshots`` (under Xvfb when there is no
screen). Keys and the audit log go to a throwaway data folder with an in-memory keyring,
so taking screenshots never touches the real user's keys. The export goes to a
temporary folder and is deleted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "docs" / "screenshots"

PASSPHRASE_PROFILE = """
format = "pseudodesk-profile/1"
[agreement]
name = "Youth service pilot"
version = "1"
review_date = 2027-09-30
[recipient]
mode = "passphrase"
[[source_fields]]
id = "nhs_number"
label = "NHS number"
convention = "nhs_number"
aliases = ["NHS No"]
[[source_fields]]
id = "dob"
label = "Date of birth"
convention = "dob"
aliases = ["Date of Birth"]
[[output_fields]]
name = "PERSON_ID"
role = "pseudonym"
from = "nhs_number"
[[output_fields]]
name = "DOB"
role = "keep"
from = "dob"
"""


def _private_keyring(data: Path) -> None:
    """Keys for the pictures live in memory (the tests' keyring), never in the user's keyring."""
    os.environ["PSEUDODESK_DATA_DIR"] = str(data)
    sys.path.insert(0, str(ROOT))
    import keyring
    from keyring.backend import KeyringBackend

    from tests.helpers import MemoryKeyring

    keyring.set_keyring(type("ScreenshotKeyring", (MemoryKeyring, KeyringBackend), {})())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=SCREENSHOTS)
    parser.add_argument("--only-scaled", action="store_true", help="only the 150%% check (run with QT_SCALE_FACTOR)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pseudodesk-shots-"))
    _private_keyring(work / "data")

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QWidget

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(work / "settings"))
    from pseudodesk.core.keys.store import KeyStore
    from pseudodesk.gui.app import application
    from pseudodesk.gui.window import MainWindow

    app = application()
    window = MainWindow(demo=True)
    window.resize(1240, 800)
    window.show()

    def settle(widget: QWidget | None = None, seconds: float = 0.4) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end or window.bridge.busy:
            app.processEvents()
            time.sleep(0.01)

    def shot(widget: QWidget, name: str) -> None:
        settle()
        path = args.out / name
        widget.grab().save(str(path))
        print(f"wrote {path}")

    window.open_demo()
    settle()
    if args.only_scaled:  # every step on a 1024x768 screen at 150%: the window fits, the steps scroll
        window._fit_to_screen()
        for index, name in enumerate(("load", "map", "check", "export")):
            window.go_to(index)
            settle()
            shot(window, f"scaled-150-{name}.png")
        window.close()
        return 0
    shot(window, "step-1-load.png")
    window.go_to(1)
    shot(window, "step-2-map.png")
    window.go_to(2)
    shot(window, "step-3-check.png")
    window.check_step.tabs.setCurrentIndex(3)
    shot(window, "step-3-risk.png")
    window.check_step.tabs.setCurrentIndex(0)
    window.go_to(3)
    window.export_step.folder_edit.setText(str(work / "exports"))
    shot(window, "step-4-export.png")
    window.export_step.export_button.click()
    settle()
    shot(window, "step-4-exported.png")

    from pseudodesk.core.agreement.profile import load_profile

    pilot = work / "youth-service-pilot.toml"
    pilot.write_text(PASSPHRASE_PROFILE, encoding="utf-8")
    window.session.set_profile(load_profile(pilot))
    window.go_to(2)  # Export follows the checks of this file
    settle()
    window.go_to(3)
    window.export_step.export_button.click()
    settle()
    shot(window, "step-4-passphrase.png")

    # A partner's extract: a title above the header, and NHS numbers under a "Ref" heading.
    extract = work / "referrals-november.csv"
    numbers = ["943 476 5919", "450 557 7104", "999 552 2950", "999 249 9559"]
    extract.write_text(
        "Referrals to Early Help, November 2026\n\nClient,Ref,Date of Birth,Sex\n"
        + "".join(f"Client {i},{numbers[i % 4]},{1 + i % 28:02d}/0{1 + i % 9}/2009,{'FM'[i % 2]}\n" for i in range(40)),
        encoding="utf-8",
    )
    window.load_step.open_file(extract)
    settle()
    window.go_to(0)
    shot(window, "step-1-header-found.png")
    window.go_to(1)
    shot(window, "step-2-needs-confirming.png")

    store = KeyStore()
    store.create("LCP Scorecard 2026", agreement="Lincolnshire LCP Scorecard")
    store.create("Youth service pilot", agreement="Youth service pilot")
    if not window.custodian_action.isChecked():
        window.custodian_action.trigger()  # the custodian's view: every key action
    window.show_keys()
    keys = window._keys_window
    assert keys is not None
    keys.resize(1000, 600)
    shot(keys, "keys-window.png")
    keys.close()
    window.show_audit()
    audit = window._audit_window
    assert audit is not None
    audit.resize(1180, 720)
    shot(audit, "audit-window.png")
    audit.close()

    from pseudodesk.gui.profile_editor import ProfileEditorDialog

    table = window.session.table
    assert table is not None
    editor = ProfileEditorDialog(table.header, window.session.sample, window)
    editor.resize(1240, 760)
    editor.show()
    shot(editor, "profile-editor.png")
    editor.close()

    from pseudodesk.gui.about import AboutDialog

    about = AboutDialog(window)
    about.show()
    shot(about, "about.png")
    about.close()
    window.close()
    QApplication.processEvents()
    _first_day(work, args.out)
    return 0


def _audit_report(path: Path) -> None:
    """The IG report of this throwaway installation, drawn as it prints (Qt's document renderer)."""
    from PySide6.QtGui import QColor, QImage, QPainter, QTextDocument

    from pseudodesk.core.audit.listing import AuditFilter, audit_listing, listing_to_html
    from pseudodesk.core.audit.log import LOG_NAME, installation_public_key, verify_log
    from pseudodesk.core.keys.store import KeyStore

    log = KeyStore().directory / LOG_NAME
    published = installation_public_key(log.parent)
    assert published is not None
    html = listing_to_html(audit_listing(log, AuditFilter()), verify_log(log, *published), AuditFilter())
    document = QTextDocument()
    document.setHtml(html)
    document.setTextWidth(900)
    height = min(int(document.size().height()) + 20, 2400)
    image = QImage(920, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.translate(10, 10)
    document.drawContents(painter)
    painter.end()
    image.save(str(path))
    print(f"wrote {path}")


def _first_day(work: Path, out: Path) -> None:
    """A partner's first day: the install dialog, the Map step with the installed agreement, the
    approved Export step; and the custodian's pack dialog."""
    import datetime as dt

    from pseudodesk.core.keys.agreements import pack_agreement
    from pseudodesk.core.keys.installation import installation_signer
    from pseudodesk.core.keys.store import KeyStore
    from pseudodesk.gui.agreements import InstallAgreementDialog, PackAgreementDialog
    from pseudodesk.gui.window import MainWindow
    from tests.core.test_agreements import PROFILE
    from tests.helpers import certificate, keyring_backend, new_keyring

    certificate(work / "certs", "county")
    (work / "profiles").mkdir()
    profile = work / "profiles" / "families-first.toml"
    package = work / "families-first-school-a.pdagreement"
    with keyring_backend(new_keyring()):
        custodian = KeyStore(work / "custodian")
        key = custodian.create("Families First 2026", agreement="Families First", expires=dt.date(2027, 9, 30))
        profile.write_text(
            PROFILE.format(
                version="3", review="2027-09-30", key_id=key.id, fingerprint=key.fingerprint, salt="", extra=""
            ),
            encoding="utf-8",
        )
        data, _ = pack_agreement(custodian, profile, passphrase="wren-copper-valley-ninety")
        fingerprint = installation_signer(custodian).fingerprint
    package.write_bytes(data)

    def shot(widget: object, name: str) -> None:
        settle()
        widget.grab().save(str(out / name))  # type: ignore[attr-defined]
        print(f"wrote {out / name}")

    window = MainWindow()
    window.resize(1240, 800)
    window.show()

    def settle() -> None:  # this window's jobs, not the demo window's
        import time

        from PySide6.QtWidgets import QApplication

        end = time.monotonic() + 0.4
        while time.monotonic() < end or window.bridge.busy:
            QApplication.processEvents()
            time.sleep(0.01)

    if window.custodian_action.isChecked():
        window.custodian_action.trigger()  # the partner's view
    window.go_to(1)
    shot(window, "first-day-1-no-agreement.png")
    window.installer.open(package)
    settle()
    dialog = window.installer.dialog
    assert isinstance(dialog, InstallAgreementDialog)
    dialog.fingerprint_edit.setText(fingerprint.lower().replace("-", " "))
    dialog.passphrase_edit.setText("wren-copper-valley-ninety")
    shot(dialog, "install-agreement.png")
    dialog.fingerprint_edit.setText("0000 1111 2222 3333 4444")
    shot(dialog, "install-agreement-wrong-fingerprint.png")
    dialog.fingerprint_edit.setText(fingerprint)
    dialog.accept()
    settle()
    if window.installer.done_box is not None:
        window.installer.done_box.close()
    extract = work / "families-referrals.csv"
    extract.write_text(
        "NHS No,Sex,Name\n" + "".join(f"{n},{'FM'[i % 2]},Client {i}\n" for i, n in enumerate(["9434765919"] * 12)),
        encoding="utf-8",
    )
    window.load_step.open_file(extract)
    settle()
    window.go_to(1)
    shot(window, "first-day-2-map-approved.png")
    window.go_to(2)  # Export follows the checks of this file
    settle()
    window.go_to(3)
    window.export_step.folder_edit.setText(str(work / "exports"))
    shot(window, "first-day-3-export-approved.png")
    window.export_step.export_button.click()
    settle()
    # A profile made on the PC, exported once with the confirmation: the report flags it.
    pilot = work / "profiles" / "families-pilot.toml"
    pilot.write_text(profile.read_text(encoding="utf-8").replace('version = "3"', 'version = "3-local"'), "utf-8")
    window.map_step.open_profile(pilot)
    window.go_to(2)
    settle()
    window.go_to(3)
    window.export_step.approval_check.setChecked(True)
    shot(window, "export-unapproved.png")
    window.export_step.export_button.click()
    settle()
    _audit_report(out / "audit-report.png")
    window.custodian_action.trigger()
    pack = PackAgreementDialog(window)
    pack.profile_edit.setText(str(profile))
    pack.show()
    shot(pack, "pack-agreement.png")
    pack.close()
    window.custodian_action.trigger()
    window.close()


if __name__ == "__main__":
    sys.exit(main())
