"""Start the pseudodesk window: ``pseudodesk [--demo] [--profile P] [--input F] [FILE]``.

``FILE`` is what the installer's file association passes: an agreement package
(``.pdagreement``) opens the install dialog; a spreadsheet is loaded.

``--demo`` opens the bundled demo spreadsheet with the example profile and an ephemeral
DEMO key, so a newcomer sees the whole flow in a minute (the README's first command).
``--smoke`` opens, draws once and exits: the installer's and CI's check that Qt starts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from pseudodesk.core.policy import machine_policy
from pseudodesk.core.resources import resource_path
from pseudodesk.core.run.selftest import run_selftest
from pseudodesk.gui.errors import show_error
from pseudodesk.gui.window import MainWindow

# Where the keyboard is, seen at a glance (the styles' own focus marks are a thin line): a 2 px
# frame on the focused text field, drop-down list, list or table. Buttons and number boxes keep
# their native look (a style sheet border would redraw their arrows); their focus mark is the style's.
FOCUS_RING = """
QLineEdit:focus, QComboBox:focus, QAbstractItemView:focus, QTextBrowser:focus {
    border: 2px solid #1565c0; border-radius: 2px;
}
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pseudodesk", description="pseudodesk desktop app")
    parser.add_argument(
        "--demo", action="store_true", help="open the bundled demo spreadsheet and example profile with a DEMO key"
    )
    parser.add_argument("--profile", type=Path, help="agreement profile to open")
    parser.add_argument("--input", type=Path, help="spreadsheet to open")
    parser.add_argument("file", nargs="?", type=Path, help="an agreement package to install, or a spreadsheet")
    parser.add_argument("--screenshot", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="open, draw once and exit (installer self-check)")
    return parser


def application() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName("pseudodesk")
    app.setOrganizationName("pseudodesk")
    app.setApplicationDisplayName("pseudodesk")
    app.setWindowIcon(QIcon(str(resource_path("icons", "pseudodesk.png"))))
    app.setStyleSheet(FOCUS_RING)
    return app


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    app = application()
    demo_refused = args.demo and not machine_policy().allows("allow_demo")  # IT switched the demo off
    window = MainWindow(demo=args.demo and not demo_refused, selftest=run_selftest())  # a failure blocks exports
    window.show()
    try:
        if demo_refused:
            machine_policy().require("allow_demo", "the demo", "The window opens without it.")
        if args.demo:
            window.open_demo()
        if args.profile:
            window.map_step.open_profile(args.profile)  # approved only if it is an installed agreement's
        if args.input:
            window.open(None, args.input)
        if args.file:
            window.open_file(args.file)
    except Exception as error:  # noqa: BLE001 (shown as a message; unexpected ones are logged)
        show_error(window, error, doing="opening the files given on the command line")
    if args.screenshot or args.smoke:

        def finish() -> None:
            if window.bridge.busy:
                QTimer.singleShot(100, finish)
                return
            if args.screenshot:
                window.grab().save(str(args.screenshot))
            window.close()
            app.quit()

        QTimer.singleShot(500, finish)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
