"""Entry point of the frozen window (PyInstaller runs this file as __main__)."""

import sys

from pseudodesk.gui.app import main

sys.exit(main())
